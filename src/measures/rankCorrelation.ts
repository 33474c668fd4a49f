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
    // groups: models equal in every other hyperparameter (the key: their codes, joined)
    const groups = new Map<string, ZooModel[]>();
    models.forEach((m, i) => {
      const key = codes.map((h, hi) => (hi === ki ? "" : h.c[i])).join(",");
      const g = groups.get(key);
      if (g) g.push(m);
      else groups.set(key, [m]);
    });
    const taus = [...groups.values()].filter((g) => new Set(g.map((m) => JSON.stringify(m.hparams[k]))).size > 1).map(kendallTau).filter(Number.isFinite);
    if (taus.length) perHparam[k] = taus.reduce((a, b) => a + b, 0) / taus.length;
  });
  const vals = Object.values(perHparam);
  return { psi: vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : NaN, perHparam };
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
  const cell: number[] = [];
  for (let i = 0; i < models.length; i++) {
    for (let j = 0; j < models.length; j++) {
      if (i === j) continue;
      const vm = sign(models[i].measure - models[j].measure);
      const vg = sign(models[i].gap - models[j].gap);
      if (vm === 0 || vg === 0) continue;
      pi.push(i);
      pj.push(j);
      cell.push((vm > 0 ? 2 : 0) + (vg > 0 ? 1 : 0));
    }
  }
  const total = pi.length;
  let best = { k: Infinity, argmin: [] as string[] };
  if (!total) return best;
  for (const S of sets) {
    // cells: U_S value (the pair's codes in S, as one number) → counts of (V_μ, V_g) ∈ {±1}²
    const cells = new Map<number, number[]>();
    for (let p = 0; p < total; p++) {
      let u = 0;
      for (const a of S) {
        const { c, V } = codes[a];
        u = (u * V + c[pi[p]]) * V + c[pj[p]];
      }
      let counts = cells.get(u);
      if (!counts) cells.set(u, (counts = [0, 0, 0, 0]));
      counts[cell[p]]++;
    }
    let mi = 0;
    let hg = 0;
    for (const c of cells.values()) {
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
