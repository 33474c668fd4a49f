/**
 * Towards exact computation of inductive bias (Boopathy, Yue, Hwang, Iyer, Fiete 2024): the inductive bias needed
 * to reach test error ε is −ln P_{θ ~ hypothesis space}(e(θ) ≤ ε), in nats, estimated by fitting a scaled
 * non-central χ² to the test errors of sampled hypotheses. As in the official code (FieteLab/Exact-Inductive-Bias,
 * read in full by the spec's author, specs-01-22.md §6): `ncx2.fit(errors, floc=0)` — maximum likelihood over
 * (df, nc, scale) with the location fixed at 0 — then IB(ε) = −ncx2.logcdf(ε; df, nc, 0, scale), and where that
 * underflows the official tail approximation `inductive_bias_alt` (a Wilson–Hilferty-type normal approximation).
 * Here the MLE is Nelder–Mead on the logs of (df, nc, scale) from a moment-matched start.
 */
import { ncx2LogCdf, ncx2LogPdf } from "../core/special.ts";
import { nelderMead } from "../core/optimize.ts";

export type Ncx2Fit = { df: number; nc: number; scale: number; logLik: number; converged: boolean };

/** Maximum-likelihood scaled non-central χ² (location 0) for positive samples. */
export function fitNcx2(errors: ArrayLike<number>): Ncx2Fit {
  const x = Array.from(errors);
  if (x.length < 3) throw new RangeError(`fitNcx2: need at least 3 errors, got ${x.length}`);
  if (!x.every((v) => v > 0 && Number.isFinite(v))) throw new RangeError("fitNcx2: every error must be positive and finite");
  const mean = x.reduce((a, b) => a + b, 0) / x.length;
  const variance = x.reduce((a, v) => a + (v - mean) ** 2, 0) / (x.length - 1);
  // moment start with nc = df/2: mean = s(df + nc), var = 2s²(df + 2nc) → s = var/(2·mean)·(1.5/2)… solved for nc = df/2
  const s0 = (variance / (2 * mean)) * (1.5 / 2);
  const df0 = Math.max(mean / s0 / 1.5, 0.5);
  const negLogLik = (p: number[]) => {
    const [df, nc, s] = p.map(Math.exp);
    let ll = 0;
    for (const v of x) ll += ncx2LogPdf(v / s, df, nc) - Math.log(s);
    return -ll;
  };
  let best = nelderMead(negLogLik, [Math.log(df0), Math.log(df0 / 2), Math.log(s0)], { step: 0.5, ftol: 1e-9 });
  best = nelderMead(negLogLik, best.x, { step: 0.1, ftol: 1e-9 }); // a restart, against early collapse
  const [df, nc, scale] = best.x.map(Math.exp);
  return { df, nc, scale, logLik: -best.f, converged: best.converged };
}

/**
 * IB(ε) = −ln P(e ≤ ε) under the fit, nats. The log-CDF is summed in log space, so it stays finite far into the
 * tail where scipy's underflows; the official tail approximation is the fallback only if it does not (ε ≤ 0).
 */
export function inductiveBias(eps: number, fit: Pick<Ncx2Fit, "df" | "nc" | "scale">): { nats: number; method: "exact" | "tail" } {
  const lc = ncx2LogCdf(eps / fit.scale, fit.df, fit.nc);
  if (Number.isFinite(lc)) return { nats: -lc, method: "exact" };
  return { nats: inductiveBiasAlt(eps, fit), method: "tail" };
}

/**
 * The official `inductive_bias_alt` (utils.py, read): z²/2 from a normal approximation of (e/(df + nc))^h, the leading
 * term of −ln Φ(z). Measured against the exact IB at ncx2(50, 20): 0.69× at the 1e-3 quantile, 0.83× at 1e-20, 0.41×
 * at 1e-100 (inductiveBias.test.ts) — kept for comparison with the official numbers, not used by genlab's estimate.
 */
export function inductiveBiasAlt(eps: number, fit: Pick<Ncx2Fit, "df" | "nc" | "scale">): number {
  const { df, nc } = fit;
  const e = eps / fit.scale;
  const h = 1 - ((2 / 3) * (df + nc) * (df + 3 * nc)) / (df + 2 * nc) ** 2;
  const p = (df + 2 * nc) / (df + nc) ** 2;
  const m = (h - 1) * (1 - 3 * h);
  const z = ((e / (df + nc)) ** h - (1 + h * p * (h - 1 - 0.5 * (2 - h) * m * p))) / (h * Math.sqrt(2 * p) * (1 + 0.5 * m * p));
  return (z * z) / 2;
}

/** The q-quantile of the scaled ncx2 by bisection on the log-CDF. */
export function ncx2Quantile(q: number, df: number, nc: number, scale = 1): number {
  if (!(q > 0 && q < 1)) throw new RangeError(`ncx2Quantile: q must be in (0, 1), got ${q}`);
  const lq = Math.log(q);
  let lo = 0, hi = Math.max(1, df + nc);
  while (ncx2LogCdf(hi, df, nc) < lq) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-14 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (ncx2LogCdf(mid, df, nc) < lq) lo = mid;
    else hi = mid;
  }
  return ((lo + hi) / 2) * scale;
}

/** Draws of a scaled ncx2 with integer df from standard normals z (df per draw): s·((z₁ + √nc)² + z₂² + … + z_df²). */
export function ncx2FromNormals(z: ArrayLike<number>, df: number, nc: number, scale: number): Float64Array {
  if (!Number.isInteger(df) || df < 1 || z.length % df !== 0) throw new RangeError(`ncx2FromNormals: need an integer df ≥ 1 dividing ${z.length}, got ${df}`);
  const K = z.length / df;
  const out = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    let s = (z[k * df] + Math.sqrt(nc)) ** 2;
    for (let i = 1; i < df; i++) s += z[k * df + i] ** 2;
    out[k] = scale * s;
  }
  return out;
}
