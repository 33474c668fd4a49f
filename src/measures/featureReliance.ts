/**
 * Feature reliance by randomisation (Shah et al., "The Pitfalls of Simplicity Bias", NeurIPS 2020; the official
 * `lms_utils.get_randomized_loader`): for a group S of input coordinates, permute S's values across the test rows (one
 * permutation shared by S's coordinates, so their joint distribution and the other coordinates are kept) and measure
 * the classifier's AUC again. A classifier that relies on S only drops to ≈ 0.5; one that ignores S keeps its AUC
 * exactly. Groups are declared in the data's own basis; with a `rotation` W (inputs x = x₀W) the rows are rotated back,
 * permuted in x₀'s coordinates and rotated forward, as the official code does.
 * Any classifier: `score` maps rows (n × d, float32) to one real score per row, larger for class 1 (a logit
 * difference, a probability). Host side: typed arrays only.
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
  const { x, y, d } = o;
  const n = y.length;
  // every path consumes the key: an invalid call disposes it before it throws
  const fail = (message: string): never => {
    o.key.dispose();
    throw new RangeError(`randomized AUC: ${message}`);
  };
  if (x.length !== n * d) fail(`x has ${x.length} entries, expected ${n} rows × ${d}`);
  const pos = Array.from(y, (v) => (v === 1 ? 1 : 0));
  const ones = pos.reduce((a: number, b) => a + b, 0);
  if (ones === 0 || ones === n) fail("the labels are all of one class");
  for (const g of o.groups) {
    if (!g.columns.length) fail(`group "${g.name}" has no columns`);
    for (const c of g.columns) if (!(Number.isInteger(c) && c >= 0 && c < d)) fail(`group "${g.name}" names column ${c}, outside [0, ${d})`);
  }
  const keys = splitKey(o.key, Math.max(1, o.groups.length));
  if (!o.groups.length) keys[0].dispose();
  const keep = (s: ArrayLike<number>) => (o.keepScores ? { scores: Float32Array.from(s) } : {});
  const s0 = await o.score(x, n);
  const auc = auroc(s0, pos);
  const base = o.rotation ? rotateRows(x, n, d, o.rotation, true) : x;
  const groups: RandomizedAuc["groups"] = [];
  for (const [i, g] of o.groups.entries()) {
    const perm = permutationFromKey(keys[i], n);
    let xr = permuteColumns(base, n, d, g.columns, perm);
    if (o.rotation) xr = rotateRows(xr, n, d, o.rotation);
    const s = await o.score(xr, n);
    groups.push({ name: g.name, columns: g.columns, auc: auroc(s, pos), ...keep(s) });
  }
  return { auc, ...keep(s0), groups };
}
