/**
 * How well does a generalization measure rank models by their generalization gap? The three protocols of
 * Jiang, Neyshabur, Mobahi, Krishnan, Bengio (2020, "Fantastic Generalization Measures and Where to Find Them",
 * §3–4), over a zoo of models θ with hyperparameters, measure values μ(θ) and gaps g(θ):
 *
 *   Kendall's τ (eq. 2)       (1/#pairs) Σ_{pairs} sign(μ(θ) − μ(θ′))·sign(g(θ) − g(θ′)) (ties count 0)
 *   granulated Kendall Ψ (3)  ψ_k = mean, over the settings of the other hyperparameters, of τ among the models
 *                             that differ only in hyperparameter k; Ψ = mean_k ψ_k
 *   conditional MI (4–5)      over pairs of models, V_μ = sign(Δμ), V_g = sign(Δg), U_S the pair's values of the
 *                             hyperparameters in S: K(μ) = min_{|S| ≤ 2} I(V_μ; V_g | U_S) / H(V_g | U_S) (the PGDL
 *                             competition's scorer is this quantity); 0 when the measure tells nothing beyond the
 *                             hyperparameters, 1 when it determines the gap's order
 *
 * Each with a bootstrap confidence interval (models resampled with replacement; percentile interval).
 */
import { uniformFromKey, type Key } from "../core/prng.ts";

export type ZooModel = { hparams: Record<string, string | number | boolean>; measure: number; gap: number };

const sign = (x: number) => (x > 0 ? 1 : x < 0 ? -1 : 0);

export function kendallTau(models: ZooModel[]): number {
  let s = 0;
  let pairs = 0;
  for (let i = 0; i < models.length; i++) {
    for (let j = i + 1; j < models.length; j++) {
      s += sign(models[i].measure - models[j].measure) * sign(models[i].gap - models[j].gap);
      pairs++;
    }
  }
  return pairs ? s / pairs : NaN;
}

/** Each hyperparameter's values as small integer codes (values compared as their JSON). */
function hparamCodes(models: ZooModel[], names: string[]): { c: Int32Array; V: number }[] {
  return names.map((name) => {
    const idx = new Map<string, number>();
    const c = Int32Array.from(models, (m) => {
      const v = JSON.stringify(m.hparams[name]);
      if (!idx.has(v)) idx.set(v, idx.size);
      return idx.get(v)!;
    });
    return { c, V: Math.max(1, idx.size) };
  });
}

export function granulatedKendall(models: ZooModel[]): { psi: number; perHparam: Record<string, number> } {
  const names = [...new Set(models.flatMap((m) => Object.keys(m.hparams)))].sort();
  const codes = hparamCodes(models, names);
  const perHparam: Record<string, number> = {};
  names.forEach((k, ki) => {
    // groups: models equal in every other hyperparameter (keyed by those codes, in order of first appearance)
    const groupOf = groupKeys(codes, ki);
    const groups = new Map<number | string, number[]>();
    models.forEach((_, i) => {
      const key = groupOf(i);
      const g = groups.get(key);
      if (g) g.push(i);
      else groups.set(key, [i]);
    });
    const ck = codes[ki].c;
    const taus = [...groups.values()].filter((g) => g.some((i) => ck[i] !== ck[g[0]])).map((g) => kendallTau(g.map((i) => models[i]))).filter(Number.isFinite);
    if (taus.length) perHparam[k] = taus.reduce((a, b) => a + b, 0) / taus.length;
  });
  const vals = Object.values(perHparam);
  return { psi: vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : NaN, perHparam };
}

/** A model's key for "equal in every hyperparameter but `skip`": its other codes in mixed radix (a string if that overflows). */
function groupKeys(codes: { c: Int32Array; V: number }[], skip: number): (i: number) => number | string {
  const radix = codes.reduce((r, h, hi) => (hi === skip ? r : r * h.V), 1);
  if (radix > 2 ** 50) return (i) => codes.map((h, hi) => (hi === skip ? "" : h.c[i])).join(",");
  return (i) => codes.reduce((u, h, hi) => (hi === skip ? u : u * h.V + h.c[i]), 0);
}

/** Entropy (nats) of a distribution given by counts. */
const entropy = (counts: number[]) => {
  const n = counts.reduce((a, b) => a + b, 0);
  return n ? -counts.reduce((a, c) => (c ? a + (c / n) * Math.log(c / n) : a), 0) : 0;
};

export function conditionalMutualInformation(models: ZooModel[], opts: { maxSet?: number } = {}): { k: number; argmin: string[] } {
  const names = [...new Set(models.flatMap((m) => Object.keys(m.hparams)))].sort();
  const sets: number[][] = [[]];
  for (let a = 0; a < names.length; a++) sets.push([a]);
  if ((opts.maxSet ?? 2) >= 2) for (let i = 0; i < names.length; i++) for (let j = i + 1; j < names.length; j++) sets.push([i, j]);
  const codes = hparamCodes(models, names);
  // the ordered pairs with a strict order in both the measure and the gap, and their (V_μ, V_g) cell
  const pi: number[] = [];
  const pj: number[] = [];
  const pairCell: number[] = [];
  for (let i = 0; i < models.length; i++) {
    for (let j = 0; j < models.length; j++) {
      if (i === j) continue;
      const vm = sign(models[i].measure - models[j].measure);
      const vg = sign(models[i].gap - models[j].gap);
      if (vm === 0 || vg === 0) continue;
      pi.push(i);
      pj.push(j);
      pairCell.push((vm > 0 ? 2 : 0) + (vg > 0 ? 1 : 0));
    }
  }
  const cell = Uint8Array.from(pairCell);
  const total = pi.length;
  let best = { k: Infinity, argmin: [] as string[] };
  if (!total) return best;
  // each hyperparameter's pair code (c_i·V + c_j): a set's U_S value is these codes in mixed radix V²
  const pairCode = codes.map(({ c, V }) => {
    const out = new Int32Array(total); // a loop: Int32Array.from with a map function is ~30× slower here
    for (let p = 0; p < total; p++) out[p] = c[pi[p]] * V + c[pj[p]];
    return out;
  });
  const small = new Int32Array(total);
  const large = new Float64Array(total);
  for (const S of sets) {
    const nCells = S.reduce((n, a) => n * codes[a].V ** 2, 1);
    const u = nCells <= 1 << 16 ? small : large; // int32 cell values index typed arrays fastest
    u.fill(0);
    for (const a of S) {
      const V2 = codes[a].V ** 2;
      const pc = pairCode[a];
      for (let p = 0; p < total; p++) u[p] = u[p] * V2 + pc[p];
    }
    // cells: U_S value → counts of (V_μ, V_g) ∈ {±1}², visited in order of first appearance (as a Map would be)
    const cells = cellCounts(u, cell, nCells);
    let mi = 0;
    let hg = 0;
    for (const c of cells) {
      const w = c.reduce((a, b) => a + b, 0) / total;
      const hG = entropy([c[0] + c[2], c[1] + c[3]]);
      const hM = entropy([c[0] + c[1], c[2] + c[3]]);
      const hJoint = entropy(c);
      mi += w * (hM + hG - hJoint);
      hg += w * hG;
    }
    const k = hg > 1e-12 ? mi / hg : 0;
    if (k < best.k) best = { k, argmin: S.map((a) => names[a]) };
  }
  return best;
}

/** The 4 counts of each cell value in `u` (values < nCells), in order of the cells' first appearance. */
function cellCounts(u: Int32Array | Float64Array, cell: Uint8Array, nCells: number): number[][] {
  const out: number[][] = [];
  if (u instanceof Int32Array) {
    const counts = new Int32Array(nCells * 4);
    const order: number[] = [];
    for (let p = 0; p < u.length; p++) {
      const v = u[p] * 4;
      if (counts[v] + counts[v + 1] + counts[v + 2] + counts[v + 3] === 0) order.push(v);
      counts[v + cell[p]]++;
    }
    for (const v of order) out.push([counts[v], counts[v + 1], counts[v + 2], counts[v + 3]]);
    return out;
  }
  const slot = new Map<number, number[]>();
  for (let p = 0; p < u.length; p++) {
    let counts = slot.get(u[p]);
    if (!counts) slot.set(u[p], (counts = [0, 0, 0, 0])), out.push(counts);
    counts[cell[p]]++;
  }
  return out;
}

export type WithCi = { value: number; lo: number; hi: number };

/** A statistic of the zoo with a percentile bootstrap interval (B resamples of the models; level 0.95). Consumes the key. */
export function bootstrap(models: ZooModel[], stat: (ms: ZooModel[]) => number, key: Key, opts: { resamples?: number; level?: number } = {}): WithCi {
  const B = opts.resamples ?? 200;
  const level = opts.level ?? 0.95;
  const n = models.length;
  const u = uniformFromKey(key, B * n);
  const vals: number[] = [];
  for (let b = 0; b < B; b++) {
    const sample = Array.from({ length: n }, (_, i) => models[Math.min(n - 1, Math.floor(u[b * n + i] * n))]);
    const v = stat(sample);
    if (Number.isFinite(v)) vals.push(v);
  }
  vals.sort((a, b) => a - b);
  const q = (p: number) => (vals.length ? vals[Math.min(vals.length - 1, Math.max(0, Math.floor(p * (vals.length - 1))))] : NaN);
  return { value: stat(models), lo: q((1 - level) / 2), hi: q(1 - (1 - level) / 2) };
}
