/**
 * Weight-matrix spectra, WeightWatcher's metrics (Martin & Mahoney 2021, "Implicit self-regularization in deep
 * neural networks", JMLR; Martin, Peng, Mahoney 2021, "Predicting trends in the quality of state-of-the-art
 * neural networks without access to training or testing data", Nature Communications):
 *
 *   ESD          eigenvalues of X = WᵀW / N for a layer W [N × M], N ≥ M (transposed otherwise; a conv kernel
 *                [out, in, kh, kw] is taken as the [out, in·kh·kw] matrix — WeightWatcher splits it by kernel
 *                position, which genlab does not)
 *   alpha        the power-law exponent of the ESD's tail, p(λ) ∝ λ^{−α} for λ ≥ λ_min, by maximum likelihood
 *                α = 1 + n / Σ ln(λ_i/λ_min) with λ_min chosen to minimise the Kolmogorov–Smirnov distance
 *                (Clauset, Shalizi, Newman 2009 — the `powerlaw` package WeightWatcher uses)     id "alpha"
 *   alpha_weighted   α · log₁₀ λ_max                                                         id "alpha_weighted"
 *   log_spectral_norm   log₁₀ λ_max;  log_norm   log₁₀ ‖W‖_F² / N … (here log₁₀ Σλ)
 *   stable_rank  ‖W‖_F² / ‖W‖₂² = Σλ / λ_max                                                  id "stable_rank"
 *   Marchenko–Pastur fit  σ² from the bulk (the mean eigenvalue below the MP edge, iterated), the edge
 *                λ₊ = σ²(1 + √(M/N))², the number of spikes above it, and the KS distance of the bulk to the
 *                MP law                                                                          ids "mp_*"
 *
 * Eigenvalues by Householder tridiagonalisation and implicit QL (float64, O(M³)); a layer wider than `limit`
 * (default 4,096 in its smaller dimension) is not measured and the result says so — never skipped silently.
 */

/** Eigenvalues (ascending) of a symmetric matrix [n × n] row-major: Householder reduction and implicit QL. */
export function symmetricEigenvalues(a: Float64Array, n: number): Float64Array {
  const A = Array.from({ length: n }, (_, i) => Float64Array.from(a.subarray(i * n, (i + 1) * n)));
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  // tred2 (eigenvalues only)
  for (let i = n - 1; i > 0; i--) {
    const l = i - 1;
    let h = 0;
    if (l > 0) {
      let scale = 0;
      for (let k = 0; k <= l; k++) scale += Math.abs(A[i][k]);
      if (scale === 0) e[i] = A[i][l];
      else {
        for (let k = 0; k <= l; k++) {
          A[i][k] /= scale;
          h += A[i][k] * A[i][k];
        }
        let f = A[i][l];
        const g = f >= 0 ? -Math.sqrt(h) : Math.sqrt(h);
        e[i] = scale * g;
        h -= f * g;
        A[i][l] = f - g;
        f = 0;
        for (let j = 0; j <= l; j++) {
          let gg = 0;
          for (let k = 0; k <= j; k++) gg += A[j][k] * A[i][k];
          for (let k = j + 1; k <= l; k++) gg += A[k][j] * A[i][k];
          e[j] = gg / h;
          f += e[j] * A[i][j];
        }
        const hh = f / (h + h);
        for (let j = 0; j <= l; j++) {
          const ff = A[i][j];
          const gg = (e[j] = e[j] - hh * ff);
          for (let k = 0; k <= j; k++) A[j][k] -= ff * e[k] + gg * A[i][k];
        }
      }
    } else e[i] = A[i][l];
    d[i] = h;
  }
  for (let i = 0; i < n; i++) d[i] = A[i][i];
  // tqli
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  for (let l = 0; l < n; l++) {
    let iter = 0;
    let m: number;
    do {
      for (m = l; m < n - 1; m++) {
        const dd = Math.abs(d[m]) + Math.abs(d[m + 1]);
        if (Math.abs(e[m]) <= Number.EPSILON * dd) break;
      }
      if (m !== l) {
        if (iter++ === 60) break;
        let g = (d[l + 1] - d[l]) / (2 * e[l]);
        let r = Math.hypot(g, 1);
        g = d[m] - d[l] + e[l] / (g + (g >= 0 ? Math.abs(r) : -Math.abs(r)));
        let s = 1;
        let c = 1;
        let p = 0;
        let i: number;
        for (i = m - 1; i >= l; i--) {
          let f = s * e[i];
          const b = c * e[i];
          e[i + 1] = r = Math.hypot(f, g);
          if (r === 0) {
            d[i + 1] -= p;
            e[m] = 0;
            break;
          }
          s = f / r;
          c = g / r;
          g = d[i + 1] - p;
          r = (d[i] - g) * s + 2 * c * b;
          d[i + 1] = g + (p = s * r);
          g = c * r - b;
          f = 0;
        }
        if (r === 0 && i >= l) continue;
        d[l] -= p;
        e[l] = g;
        e[m] = 0;
      }
    } while (m !== l);
  }
  return d.sort();
}

/** The ESD of W [rows × cols] (row-major): eigenvalues of WᵀW/N with N the larger dimension. */
export function esd(w: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const [N, M, t] = rows >= cols ? [rows, cols, false] : [cols, rows, true];
  const x = new Float64Array(M * M);
  for (let a = 0; a < M; a++) {
    for (let b = a; b < M; b++) {
      let s = 0;
      for (let k = 0; k < N; k++) s += (t ? w[a * cols + k] * w[b * cols + k] : w[k * cols + a] * w[k * cols + b]);
      x[a * M + b] = x[b * M + a] = s / N;
    }
  }
  return symmetricEigenvalues(x, M).map((v) => Math.max(0, v));
}

/** Continuous power-law MLE with λ_min chosen by the minimal KS distance (Clauset et al. 2009). */
export function powerLawFit(values: ArrayLike<number>, opts: { minTail?: number } = {}): { alpha: number; xmin: number; ks: number; tail: number } {
  const x = Float64Array.from(values).filter((v) => v > 0).sort();
  const n = x.length;
  const minTail = opts.minTail ?? Math.max(5, Math.floor(0.05 * n));
  let best = { alpha: NaN, xmin: NaN, ks: Infinity, tail: 0 };
  for (let i = 0; i + minTail <= n; i++) {
    const xmin = x[i];
    if (i > 0 && xmin === x[i - 1]) continue;
    const tail = n - i;
    let sl = 0;
    for (let j = i; j < n; j++) sl += Math.log(x[j] / xmin);
    if (sl <= 0) continue;
    const alpha = 1 + tail / sl;
    let ks = 0;
    for (let j = i; j < n; j++) {
      const model = 1 - (x[j] / xmin) ** (1 - alpha);
      ks = Math.max(ks, Math.abs((j - i + 1) / tail - model), Math.abs((j - i) / tail - model));
    }
    if (ks < best.ks) best = { alpha, xmin, ks, tail };
  }
  return best;
}

/** The Marchenko–Pastur CDF with ratio q = M/N ≤ 1 and scale σ², by numerical integration of its density. */
function mpCdf(lambda: number, q: number, sigma2: number): number {
  const lo = sigma2 * (1 - Math.sqrt(q)) ** 2;
  const hi = sigma2 * (1 + Math.sqrt(q)) ** 2;
  if (lambda <= lo) return 0;
  if (lambda >= hi) return 1;
  const steps = 400;
  let s = 0;
  for (let k = 0; k < steps; k++) {
    const t = lo + ((Math.min(lambda, hi) - lo) * (k + 0.5)) / steps;
    s += Math.sqrt(Math.max(0, (hi - t) * (t - lo))) / (2 * Math.PI * sigma2 * q * t);
  }
  return Math.min(1, (s * (Math.min(lambda, hi) - lo)) / steps);
}

export type LayerSpectrum = {
  rows: number;
  cols: number;
  measured: boolean;
  /** Why a layer was not measured (too large), when it was not. */
  why?: string;
  alpha: number;
  alphaWeighted: number;
  xmin: number;
  ksPowerLaw: number;
  logSpectralNorm: number;
  logNorm: number;
  stableRank: number;
  mpSigma2: number;
  mpEdge: number;
  mpSpikes: number;
  mpKs: number;
  eigenvalues: Float64Array | null;
};

export function layerSpectrum(w: ArrayLike<number>, rows: number, cols: number, opts: { limit?: number } = {}): LayerSpectrum {
  return pooledLayerSpectrum([w], rows, cols, opts);
}

/**
 * One ESD pooled from several matrices of the same shape: WeightWatcher's default for a convolution
 * [c_out, c_in, k_h, k_w], whose k_h·k_w slices W[:, :, i, j] each contribute their eigenvalues to one layer
 * ESD (its `pool=True`); the MP fit uses the slices' aspect ratio.
 */
export function pooledLayerSpectrum(ws: ArrayLike<number>[], rows: number, cols: number, opts: { limit?: number } = {}): LayerSpectrum {
  const limit = opts.limit ?? 4096;
  const M = Math.min(rows, cols);
  const empty = { alpha: NaN, alphaWeighted: NaN, xmin: NaN, ksPowerLaw: NaN, logSpectralNorm: NaN, logNorm: NaN, stableRank: NaN, mpSigma2: NaN, mpEdge: NaN, mpSpikes: NaN, mpKs: NaN, eigenvalues: null };
  if (M > limit) return { rows, cols, measured: false, why: `its ESD is ${M}×${M}, more than the ${limit} genlab diagonalises (raise the limit to measure it; O(M³) time)`, ...empty };
  const ev = ws.length === 1 ? esd(ws[0], rows, cols) : Float64Array.from(ws.flatMap((w) => Array.from(esd(w, rows, cols)))).sort();
  const total = ev.reduce((a, v) => a + v, 0);
  const max = ev[ev.length - 1];
  const pl = powerLawFit(ev);
  const q = M / Math.max(rows, cols);
  // MP fit: σ² = mean of the bulk below the edge, iterated to a fixed point
  let sigma2 = total / ev.length;
  for (let it = 0; it < 50; it++) {
    const edge = sigma2 * (1 + Math.sqrt(q)) ** 2;
    const bulk = Array.from(ev).filter((v) => v <= edge);
    const next = bulk.length ? bulk.reduce((a, v) => a + v, 0) / bulk.length : sigma2;
    if (Math.abs(next - sigma2) < 1e-12 * sigma2) break;
    sigma2 = next;
  }
  const edge = sigma2 * (1 + Math.sqrt(q)) ** 2;
  const bulk = Array.from(ev).filter((v) => v <= edge);
  let mpKs = 0;
  bulk.forEach((v, i) => (mpKs = Math.max(mpKs, Math.abs((i + 1) / bulk.length - mpCdf(v, q, sigma2)), Math.abs(i / bulk.length - mpCdf(v, q, sigma2)))));
  return { rows, cols, measured: true, alpha: pl.alpha, alphaWeighted: pl.alpha * Math.log10(max), xmin: pl.xmin, ksPowerLaw: pl.ks, logSpectralNorm: Math.log10(max), logNorm: Math.log10(total), stableRank: total / max, mpSigma2: sigma2, mpEdge: edge, mpSpikes: ev.length - bulk.length, mpKs, eigenvalues: ev };
}
