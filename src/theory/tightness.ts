/**
 * Paper 1 (Gastpar, Nachum, Shafer, Weinberger, ICLR 2024: "Fantastic Generalization Measures are Nowhere to
 * be Found"): no bound B(S, h) on the population loss of h = A(S) is uniformly tight over all (algorithm,
 * distribution) pairs once the class can interpolate. Two pieces:
 *
 *   `auditTightness`   the tightness auditor: bounds B(S, h) evaluated over a grid of settings (each draws
 *                      (S, h) and knows the population loss L_D(h)); per bound and setting, the distribution of
 *                      the gap Δ = B − L and its worst case over the grid.
 *   `twinSettings`     the twin-distribution construction of the spec (its concretisation of the argument; the
 *                      paper's exact construction is unverified): X = {0..N−1}, the class all of {0,1}^X,
 *                      A_{g₀}(S) interpolates S and answers g₀ elsewhere; D_ρ labels x by g₀(x) except on a
 *                      fixed random ρ-fraction of X where an independent f decides. ρ = 0 is D₁ (L = 0), ρ = 1
 *                      is D₂ (L ≈ ½(1 − |S|/N)); for every ρ, (S, h) has the same law: h is a uniformly random
 *                      function and S its restriction to n uniform points.
 *
 * Bounds on a table hypothesis (`TABLE_BOUNDS`): the training error alone; train error + √(VC/n) with
 * VC = N; the PAC-Bayes-kl bound with a uniform prior over {0,1}^X (KL = N ln 2); an MDL / Occam bound with a
 * two-part Bernoulli code of h; and a data-dependent heuristic (the roughness of h, the fraction of
 * neighbours x, x+1 on which h changes), standing in for the flatness-type measures. All host numbers.
 */
import { maxOf } from "../core/order.ts";
import { uniformFromKey, splitKey, type Key } from "../core/prng.ts";
import { klInverseUpper } from "./pacBayesDiscrete.ts";

export type TableSample = { x: Int32Array; y: Uint8Array };
export type TableDraw = { s: TableSample; h: Uint8Array; loss: number };
export type TableBound = { id: string; doc: string; fn: (s: TableSample, h: Uint8Array, domain: number) => number };

export const TABLE_BOUNDS: TableBound[] = [
  {
    id: "train_error",
    doc: "the empirical risk alone (the 'measure' that interpolation makes 0)",
    fn: (s, h) => s.x.reduce((a, x, i) => a + (h[x] !== s.y[i] ? 1 : 0), 0) / s.x.length,
  },
  {
    id: "vc",
    doc: "train error + √(VC/n), VC = N for the class of all functions on X",
    fn: (s, h, N) => Math.min(1, TABLE_BOUNDS[0].fn(s, h, N) + Math.sqrt(N / s.x.length)),
  },
  {
    id: "pac_bayes_uniform",
    doc: "PAC-Bayes-kl with a uniform prior on {0,1}^X and a point-mass posterior: kl(r̂‖R) ≤ (N ln 2 + ln(2√n/δ))/n, δ = 0.05",
    fn: (s, h, N) => klInverseUpper(TABLE_BOUNDS[0].fn(s, h, N), (N * Math.LN2 + Math.log((2 * Math.sqrt(s.x.length)) / 0.05)) / s.x.length),
  },
  {
    id: "mdl",
    doc: "Occam bound with a two-part code of h: ln(N+1) nats for its count of ones k, then ln C(N, k); kl-inverse form, δ = 0.05",
    fn: (s, h, N) => {
      const k = h.reduce((a, v) => a + v, 0);
      let lnChoose = 0;
      for (let i = 1; i <= k; i++) lnChoose += Math.log((N - k + i) / i);
      const nats = Math.log(N + 1) + lnChoose;
      return klInverseUpper(TABLE_BOUNDS[0].fn(s, h, N), (nats + Math.log((2 * Math.sqrt(s.x.length)) / 0.05)) / s.x.length);
    },
  },
  {
    id: "roughness",
    doc: "a data-free heuristic: the fraction of neighbours (x, x+1) on which h changes (a smoothness/flatness proxy)",
    fn: (_s, h, N) => {
      let c = 0;
      for (let x = 0; x + 1 < N; x++) if (h[x] !== h[x + 1]) c++;
      return c / (N - 1);
    },
  },
];

/** A random function X → {0,1} from uniforms. */
const bits = (u: Float32Array) => Uint8Array.from(u, (v) => (v < 0.5 ? 1 : 0));

/**
 * One coupled draw of every ρ's setting: the same underlying randomness for every ρ, arranged so that (S, h)
 * is identical across the settings (call it once per setting with different keys for independent draws).
 * Construction: u = h (a uniform random function), x₁..x_n uniform on X, R = {x : r(x) < ρ} for uniform r;
 * the labelling function is ℓ_ρ = f on R and g₀ off R, with g₀ = u except on S ∩ R (fresh there) and f = u on
 * S ∩ R (fresh elsewhere) — two independent uniform functions — so that ℓ_ρ = u on S, h = A_{g₀}(S) = u and
 * S = {(x_i, u(x_i))}. Losses are exact: (1/N) Σ_x [h(x) ≠ ℓ_ρ(x)] ≈ ρ · ½(1 − |S|/N).
 */
export function twinDraw(domain: number, n: number, rhos: number[], key: Key): TableDraw[] {
  const [ku, kx, kr, kf, kg] = splitKey(key, 5);
  const u = bits(uniformFromKey(ku, domain));
  const ux = uniformFromKey(kx, n);
  const x = Int32Array.from(ux, (v) => Math.min(domain - 1, Math.floor(v * domain)));
  const inS = new Uint8Array(domain);
  for (const xi of x) inS[xi] = 1;
  const r = uniformFromKey(kr, domain);
  const fFresh = bits(uniformFromKey(kf, domain));
  const gFresh = bits(uniformFromKey(kg, domain));
  const y = Uint8Array.from(x, (xi) => u[xi]);
  return rhos.map((rho) => {
    let wrong = 0;
    for (let t = 0; t < domain; t++) {
      const inR = r[t] < rho;
      // g₀ = u except on S ∩ R (fresh there); f = u on S ∩ R (fresh elsewhere): independent uniform functions
      const g0 = inS[t] && inR ? gFresh[t] : u[t];
      const f = inS[t] && inR ? u[t] : fFresh[t];
      const label = inR ? f : g0;
      if (label !== u[t]) wrong++;
    }
    return { s: { x, y }, h: u, loss: wrong / domain };
  });
}

export type GapSummary = { id: string; setting: string; meanBound: number; meanLoss: number; meanAbsGap: number; meanGap: number; maxAbsGap: number; values: number[]; losses: number[] };

/**
 * The auditor: each bound on each setting's draws. `draws[s]` are setting s's draws. Returns one summary per
 * (bound, setting) and, per bound, the worst mean |Δ| over the settings.
 */
export function auditTightness(bounds: TableBound[], settings: string[], draws: TableDraw[][], domain: number): { rows: GapSummary[]; worst: Record<string, { setting: string; meanAbsGap: number }> } {
  const rows: GapSummary[] = [];
  const worst: Record<string, { setting: string; meanAbsGap: number }> = {};
  for (const b of bounds) {
    settings.forEach((name, si) => {
      const values = draws[si].map((d) => b.fn(d.s, d.h, domain));
      const losses = draws[si].map((d) => d.loss);
      const gaps = values.map((v, i) => v - losses[i]);
      const mean = (a: number[]) => a.reduce((p, q) => p + q, 0) / Math.max(1, a.length);
      const row = { id: b.id, setting: name, meanBound: mean(values), meanLoss: mean(losses), meanAbsGap: mean(gaps.map(Math.abs)), meanGap: mean(gaps), maxAbsGap: maxOf(gaps.map(Math.abs)), values, losses };
      rows.push(row);
      if (!worst[b.id] || row.meanAbsGap > worst[b.id].meanAbsGap) worst[b.id] = { setting: name, meanAbsGap: row.meanAbsGap };
    });
  }
  return { rows, worst };
}

/** Two-sample Kolmogorov–Smirnov statistic and its asymptotic p-value (Smirnov; exact enough for n, m ≥ 50). */
export function ksTwoSample(a: number[], b: number[]): { d: number; p: number } {
  const x = [...a].sort((p, q) => p - q);
  const y = [...b].sort((p, q) => p - q);
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i], y[j]);
    while (i < x.length && x[i] === v) i++;
    while (j < y.length && y[j] === v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  const ne = (x.length * y.length) / (x.length + y.length);
  const lambda = (Math.sqrt(ne) + 0.12 + 0.11 / Math.sqrt(ne)) * d;
  let p = 0;
  for (let k = 1; k <= 100; k++) p += 2 * (-1) ** (k - 1) * Math.exp(-2 * k * k * lambda * lambda);
  return { d, p: d === 0 ? 1 : Math.min(1, Math.max(0, p)) };
}
