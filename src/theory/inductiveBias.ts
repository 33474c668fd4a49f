/**
 * Towards exact computation of inductive bias (Boopathy, Yue, Hwang, Iyer, Fiete 2024): the inductive bias needed
 * to reach test error ε is −ln P_{θ ~ hypothesis space}(e(θ) ≤ ε), in nats, estimated by fitting a scaled
 * non-central χ² to the test errors of sampled hypotheses. As in the official code (FieteLab/Exact-Inductive-Bias,
 * read in full by the spec's author, specs-01-22.md §6): `ncx2.fit(errors, floc=0)` — maximum likelihood over
 * (df, nc, scale) with the location fixed at 0 — then IB(ε) = −ncx2.logcdf(ε; df, nc, 0, scale), and where that
 * underflows the official tail approximation `inductive_bias_alt` (a Wilson–Hilferty-type normal approximation).
 * Here the MLE is Nelder–Mead in (ln mean, ln variance, logit nc/(df + nc)) from a moment-matched start, stopped when
 * the simplex's log-likelihoods agree within 1e-5 nats.
 */
import { ncx2LogCdf, ncx2LogPdf } from "../core/special.ts";
import { nelderMead } from "../core/optimize.ts";
import { choleskySolve, matmul64, symEig, transpose64 } from "../core/linalg.ts";
import { normalFromKey, splitKey, type Key } from "../core/prng.ts";

export type Ncx2Fit = { df: number; nc: number; scale: number; logLik: number; converged: boolean };

/** Maximum-likelihood scaled non-central χ² (location 0) for positive samples. */
export function fitNcx2(errors: ArrayLike<number>): Ncx2Fit {
  const x = Array.from(errors);
  if (x.length < 3) throw new RangeError(`fitNcx2: need at least 3 errors, got ${x.length}`);
  if (!x.every((v) => v > 0 && Number.isFinite(v))) throw new RangeError("fitNcx2: every error must be positive and finite");
  const mean = x.reduce((a, b) => a + b, 0) / x.length;
  const m2 = x.reduce((a, v) => a + (v - mean) ** 2, 0) / x.length;
  const m3 = x.reduce((a, v) => a + (v - mean) ** 3, 0) / x.length;
  // Coordinates: the fitted mean μ = s(df + nc), variance v = 2s²(df + 2nc) and ρ = nc/(df + nc) ∈ (0, 1), as
  // (ln μ, ln v, logit ρ). For near-Gaussian samples the likelihood barely sees the skew, and in (df, nc, s) that
  // flat direction is a curved ridge Nelder–Mead crawls along (168 s for 2,000 errors); here it is one axis.
  const toNative = (p: number[]) => {
    const mu = Math.exp(p[0]), v = Math.exp(p[1]), rho = 1 / (1 + Math.exp(-p[2]));
    const a = (2 * mu * mu * (1 + rho)) / v; // df + nc
    return { df: (1 - rho) * a, nc: rho * a, scale: mu / a };
  };
  // start ρ from the third moment: m3/(8s³) = df + 3nc with s from the method of moments, else ½
  let rho0 = 0.5;
  const disc = 64 * m2 * m2 - 32 * mean * m3;
  if (disc >= 0)
    for (const sign of [1, -1]) {
      const sc = (8 * m2 + sign * Math.sqrt(disc)) / (16 * mean);
      const lam = m2 / (2 * sc * sc) - mean / sc, k = mean / sc - lam;
      if (sc > 0 && k > 0 && lam > 0) {
        rho0 = Math.min(Math.max(lam / (k + lam), 1e-6), 1 - 1e-6);
        break;
      }
    }
  const negLogLik = (p: number[]) => {
    const { df, nc, scale: sc } = toNative(p);
    if (!(df > 0) || !(nc >= 0) || !(sc > 0)) return Infinity;
    let ll = 0;
    for (const v of x) ll += ncx2LogPdf(v / sc, df, nc) - Math.log(sc);
    return -ll;
  };
  let best = nelderMead(negLogLik, [Math.log(mean), Math.log(Math.max(m2, 1e-300)), Math.log(rho0 / (1 - rho0))], { step: 0.1, ftol: 1e-12, atol: 1e-5 });
  best = nelderMead(negLogLik, best.x, { step: 0.02, ftol: 1e-12, atol: 1e-5 }); // a restart, against early collapse
  const { df, nc, scale } = toNative(best.x);
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

/** The median Euclidean distance between distinct rows of X (n × d): the RBF bandwidth of the spec's kernel space. */
export function medianPairwiseDistance(X: ArrayLike<number>, n: number, d: number): number {
  const ds: number[] = [];
  for (let i = 0; i < n; i++)
    for (let j = 0; j < i; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += (X[i * d + k] - X[j * d + k]) ** 2;
      ds.push(Math.sqrt(s));
    }
  if (!ds.length) throw new RangeError("medianPairwiseDistance: need at least 2 rows");
  ds.sort((a, b) => a - b);
  return ds[Math.floor(ds.length / 2)];
}

/** k(a, b) = exp(−‖a − b‖²/(2σ²)) between the rows of A (na × d) and B (nb × d). */
export function rbfKernel(A: ArrayLike<number>, na: number, B: ArrayLike<number>, nb: number, d: number, sigma: number): Float64Array {
  const K = new Float64Array(na * nb);
  for (let i = 0; i < na; i++)
    for (let j = 0; j < nb; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += (A[i * d + k] - B[j * d + k]) ** 2;
      K[i * nb + j] = Math.exp(-s / (2 * sigma * sigma));
    }
  return K;
}

/**
 * The kernel hypothesis space's test errors (spec §6): functions drawn from the RBF-GP posterior given the training
 * set (noise-free, a ridge for conditioning), one independent GP per output, scored by the per-element MSE against
 * one-hot test targets. Drawn exactly: with the posterior covariance Σ = U Λ Uᵀ on the test points and the mean's
 * residual r_c = μ_c − y_c per output c, ‖r_c + Σ^{1/2} z‖² = Σ_i (u_iᵀ r_c + √λ_i z_i)², so each sample costs
 * O(n_test · outputs); the normals are drawn from `key` (consumed) in chunks of 100 samples. Host float64.
 */
export function gpPosteriorErrors(o: { xTrain: ArrayLike<number>; yTrain: ArrayLike<number>; nTrain: number; xTest: ArrayLike<number>; yTest: ArrayLike<number>; nTest: number; d: number; classes: number; sigma: number; ridge: number; samples: number }, key: Key): { errors: Float64Array; meanError: number } {
  const { nTrain: n, nTest: m, d, classes: C } = o;
  const Ktt = rbfKernel(o.xTrain, n, o.xTrain, n, d, o.sigma);
  const Kxt = rbfKernel(o.xTest, m, o.xTrain, n, d, o.sigma); // m × n
  const Kxx = rbfKernel(o.xTest, m, o.xTest, m, d, o.sigma);
  const Y = new Float64Array(n * C), Yt = new Float64Array(m * C);
  for (let i = 0; i < n; i++) Y[i * C + o.yTrain[i]] = 1;
  for (let i = 0; i < m; i++) Yt[i * C + o.yTest[i]] = 1;
  const alpha = choleskySolve(Ktt, n, o.ridge, Y, C); // n × C
  const W = choleskySolve(Ktt, n, o.ridge, transpose64(Kxt, m, n), m); // K⁻¹ K_tx: n × m
  if (!alpha || !W) throw new RangeError(`gpPosteriorErrors: the training kernel is not positive definite at ridge ${o.ridge}`);
  const mu = matmul64(Kxt, alpha, m, n, C);
  const cov = matmul64(Kxt, W, m, n, m);
  for (let i = 0; i < m * m; i++) cov[i] = Kxx[i] - cov[i];
  const { values, vectors: U } = symEig(cov, m);
  const sd = Float64Array.from(values, (l) => Math.sqrt(Math.max(l, 0)));
  const proj = new Float64Array(m * C); // u_iᵀ r_c
  let meanSq = 0;
  for (let c = 0; c < C; c++)
    for (let k = 0; k < m; k++) meanSq += (mu[k * C + c] - Yt[k * C + c]) ** 2;
  for (let i = 0; i < m; i++)
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let k = 0; k < m; k++) s += U[k * m + i] * (mu[k * C + c] - Yt[k * C + c]);
      proj[i * C + c] = s;
    }
  const S = o.samples, chunk = 100;
  const errors = new Float64Array(S);
  const keys = splitKey(key, Math.ceil(S / chunk));
  for (const [b, kb] of keys.entries()) {
    const count = Math.min(chunk, S - b * chunk);
    const z = normalFromKey(kb, count * m * C);
    for (let s = 0; s < count; s++) {
      let e = 0;
      const off = s * m * C;
      for (let i = 0; i < m; i++) for (let c = 0; c < C; c++) e += (proj[i * C + c] + sd[i] * z[off + i * C + c]) ** 2;
      errors[b * chunk + s] = e / (m * C);
    }
  }
  return { errors, meanError: meanSq / (m * C) };
}
