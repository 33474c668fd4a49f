/**
 * Feature reliance by randomisation (Shah et al., "The Pitfalls of Simplicity Bias", NeurIPS 2020; the official
 * `lms_utils.get_randomized_loader`): for a group S of input coordinates, permute S's values across the test rows (one
 * permutation shared by S's coordinates, so their joint distribution and the other coordinates are kept) and measure
 * the classifier's AUC again. A classifier that relies on S only drops to ≈ 0.5; one that ignores S keeps its AUC
 * exactly. Groups are declared in the data's own basis; with a `rotation` W (inputs x = x₀W) the rows are rotated back,
 * permuted in x₀'s coordinates and rotated forward, as the official code does.
 * Any classifier: `randomizedAuc` takes a binary scorer (rows n × d, float32 → one real score per row, larger for
 * class 1: a logit difference, a probability); `featureReliance` takes a C-class model's logits (n × C) and reports
 * the AUC (C = 2: of l₁ − l₀; C > 2: macro one-vs-rest of the softmax, as scikit-learn's roc_auc_score(multi_class=
 * "ovr")) and the accuracy, each the mean and standard deviation over `repeats` independent permutations.
 * Host side: typed arrays only.
 */
import { permutationFromKey, splitKey, type Key } from "../core/prng.ts";
import { auroc } from "../core/order.ts";
import { rotateRows } from "../data/slabs.ts";

export type FeatureGroup = { name: string; columns: number[] };

export type RandomizedAuc = {
  auc: number;
  /** The scores of the unchanged rows (with `keepScores`). */
  scores?: Float32Array;
  /** Per group: the AUC after randomising it (and its scores, with `keepScores`). */
  groups: { name: string; columns: number[]; auc: number; scores?: Float32Array }[];
};

/** Rows x (n × d) with the columns of S permuted across rows by `perm` (row i takes row perm[i]'s values there). */
export function permuteColumns(x: Float32Array, n: number, d: number, columns: number[], perm: ArrayLike<number>): Float32Array<ArrayBuffer> {
  const out = Float32Array.from(x);
  for (let i = 0; i < n; i++) for (const c of columns) out[i * d + c] = x[perm[i] * d + c];
  return out;
}

/** Checks shared by both probes; throws a RangeError (after disposing the key) naming what is wrong. */
function checkInputs(o: { x: Float32Array; y: ArrayLike<number>; d: number; groups: FeatureGroup[]; key: Key; rotation?: Float64Array | null }, what: string): void {
  const n = o.y.length;
  const fail = (message: string): never => {
    o.key.dispose();
    throw new RangeError(`${what}: ${message}`);
  };
  if (!(Number.isInteger(o.d) && o.d >= 1)) fail(`d must be a positive integer, got ${o.d}`);
  if (o.x.length !== n * o.d) fail(`x has ${o.x.length} entries, expected ${n} rows × ${o.d}`);
  if (o.rotation && o.rotation.length !== o.d * o.d) fail(`the rotation has ${o.rotation.length} entries, expected ${o.d} × ${o.d}`);
  for (const g of o.groups) {
    if (!g.columns.length) fail(`group "${g.name}" has no columns`);
    for (const c of g.columns) if (!(Number.isInteger(c) && c >= 0 && c < o.d)) fail(`group "${g.name}" names column ${c}, outside [0, ${o.d})`);
  }
}

/**
 * The shared loop: `evaluate` on the rows as given, then, per group and repeat, on the rows with that group's
 * columns permuted across rows (in the unrotated basis when `rotation` is given). One key per (group, repeat), in
 * group-major order, split from `key` (consumed).
 */
async function randomizeGroups<T>(o: { x: Float32Array; n: number; d: number; groups: FeatureGroup[]; rotation?: Float64Array | null; key: Key; repeats: number }, evaluate: (x: Float32Array) => Promise<T>): Promise<{ base: T; groups: T[][] }> {
  const { x, n, d, groups, repeats } = o;
  let base: T;
  try {
    base = await evaluate(x);
  } catch (e) {
    o.key.dispose();
    throw e;
  }
  const total = groups.length * repeats;
  const keys = splitKey(o.key, Math.max(1, total));
  let used = total ? 0 : (keys[0].dispose(), 1);
  const unrotated = o.rotation ? rotateRows(x, n, d, o.rotation, true) : x;
  const out: T[][] = [];
  try {
    for (const g of groups) {
      const row: T[] = [];
      for (let r = 0; r < repeats; r++) {
        let xr = permuteColumns(unrotated, n, d, g.columns, permutationFromKey(keys[used++], n));
        if (o.rotation) xr = rotateRows(xr, n, d, o.rotation);
        row.push(await evaluate(xr));
      }
      out.push(row);
    }
  } finally {
    // an evaluation that throws leaves the later keys unused: free them
    for (; used < keys.length; used++) keys[used].dispose();
  }
  return { base, groups: out };
}

/**
 * The AUC of `score` on (x, y) and, for each group, after randomising that group's columns (one key per group, from
 * `key`, consumed). Labels are 0/1. Throws on a column outside [0, d), an empty group, or labels of one class.
 */
export async function randomizedAuc(o: {
  score: (x: Float32Array, n: number) => Promise<ArrayLike<number>> | ArrayLike<number>;
  x: Float32Array;
  y: ArrayLike<number>;
  d: number;
  groups: FeatureGroup[];
  rotation?: Float64Array | null;
  key: Key;
  /** Also return every score (for histograms); default false. */
  keepScores?: boolean;
}): Promise<RandomizedAuc> {
  const n = o.y.length;
  checkInputs(o, "randomized AUC");
  const pos = Array.from(o.y, (v) => (v === 1 ? 1 : 0));
  const ones = pos.reduce((a: number, b) => a + b, 0);
  if (ones === 0 || ones === n) {
    o.key.dispose();
    throw new RangeError("randomized AUC: the labels are all of one class");
  }
  const r = await randomizeGroups({ ...o, n, repeats: 1 }, async (x) => {
    const s = await o.score(x, n);
    return { auc: auroc(s, pos), ...(o.keepScores ? { scores: Float32Array.from(s) } : {}) };
  });
  return { ...r.base, groups: o.groups.map((g, i) => ({ name: g.name, columns: g.columns, ...r.groups[i][0] })) };
}

export type RelianceRow = {
  name: string;
  columns: number[];
  /** Mean over the repeats, and the sample standard deviation (null with one repeat). */
  auc: number;
  aucSd: number | null;
  accuracy: number;
  accuracySd: number | null;
};
/** `aucClasses`: the classes the macro AUC averages (those present in the labels; all C for C = 2). */
export type FeatureReliance = { classes: number; aucClasses: number; repeats: number; auc: number; accuracy: number; groups: RelianceRow[] };

/**
 * AUC of a C-class model's logits (n × C): C = 2, of l₁ − l₀; C > 2, the macro one-vs-rest AUC of the softmax over
 * the classes present in y (scikit-learn's roc_auc_score(multi_class="ovr") refuses labels that miss a class; here
 * they are averaged over, and featureReliance reports how many).
 */
export function logitAuc(logits: ArrayLike<number>, y: ArrayLike<number>, C: number): number {
  const n = y.length;
  if (C === 2) return auroc(Float64Array.from({ length: n }, (_, i) => logits[2 * i + 1] - logits[2 * i]), Array.from(y, (v) => (v === 1 ? 1 : 0)));
  const p = new Float64Array(n * C);
  for (let i = 0; i < n; i++) {
    let mx = -Infinity;
    for (let c = 0; c < C; c++) mx = Math.max(mx, logits[i * C + c]);
    let s = 0;
    for (let c = 0; c < C; c++) s += p[i * C + c] = Math.exp(logits[i * C + c] - mx);
    for (let c = 0; c < C; c++) p[i * C + c] /= s;
  }
  let sum = 0, k = 0;
  for (let c = 0; c < C; c++) {
    const a = auroc(Float64Array.from({ length: n }, (_, i) => p[i * C + c]), Array.from(y, (v) => (v === c ? 1 : 0)));
    if (Number.isFinite(a)) (sum += a), k++;
  }
  return k ? sum / k : NaN;
}

/** Accuracy of the argmax of logits (n × C) against labels. */
export function logitAccuracy(logits: ArrayLike<number>, y: ArrayLike<number>, C: number): number {
  let ok = 0;
  for (let i = 0; i < y.length; i++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (logits[i * C + c] > logits[i * C + best]) best = c;
    ok += best === y[i] ? 1 : 0;
  }
  return ok / y.length;
}

const meanSd = (xs: number[]): [number, number | null] => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return [m, xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) : null];
};

/**
 * Feature reliance of any C-class model (C ≥ 2) from its logits: the AUC and accuracy on (x, y), and for each group
 * after randomising its columns, `repeats` times with independent permutations (mean ± sd). Labels are integers in
 * [0, C) with at least two classes present; `logits` maps rows (n × d) to n × C values. Consumes the key.
 */
export async function featureReliance(o: {
  logits: (x: Float32Array, n: number) => Promise<ArrayLike<number>> | ArrayLike<number>;
  classes: number;
  x: Float32Array;
  y: ArrayLike<number>;
  d: number;
  groups: FeatureGroup[];
  rotation?: Float64Array | null;
  repeats?: number;
  key: Key;
}): Promise<FeatureReliance> {
  const n = o.y.length, C = o.classes, repeats = o.repeats ?? 1;
  checkInputs(o, "feature reliance");
  const fail = (message: string): never => {
    o.key.dispose();
    throw new RangeError(`feature reliance: ${message}`);
  };
  if (!(Number.isInteger(C) && C >= 2)) fail(`classes must be an integer ≥ 2, got ${C}`);
  if (!(Number.isInteger(repeats) && repeats >= 1)) fail(`repeats must be an integer ≥ 1, got ${repeats}`);
  const present = new Set<number>();
  for (let i = 0; i < n; i++) {
    if (!(Number.isInteger(o.y[i]) && o.y[i] >= 0 && o.y[i] < C)) fail(`label ${o.y[i]} of row ${i} is outside 0..${C - 1}`);
    present.add(o.y[i]);
  }
  if (present.size < 2) fail("the labels are all of one class");
  const r = await randomizeGroups({ ...o, n, repeats }, async (x) => {
    const z = await o.logits(x, n);
    if (z.length !== n * C) throw new RangeError(`feature reliance: the model returned ${z.length} values for ${n} rows, expected ${n} × ${C}`);
    return { auc: logitAuc(z, o.y, C), accuracy: logitAccuracy(z, o.y, C) };
  });
  const groups = o.groups.map((g, i) => {
    const [auc, aucSd] = meanSd(r.groups[i].map((v) => v.auc));
    const [accuracy, accuracySd] = meanSd(r.groups[i].map((v) => v.accuracy));
    return { name: g.name, columns: g.columns, auc, aucSd, accuracy, accuracySd };
  });
  return { classes: C, aucClasses: C === 2 ? 2 : present.size, repeats, auc: r.base.auc, accuracy: r.base.accuracy, groups };
}
