/**
 * Special functions for the theory calculators, float64: the log-gamma function (Lanczos approximation, g = 7,
 * 9 terms, with the reflection formula below 1/2; relative error ~1e-15 on the positive axis) and the binomial
 * coefficient of real arguments, C(n, k) = Γ(n + 1)/(Γ(k + 1)Γ(n − k + 1)) (scipy.special.binom for n ≥ k ≥ 0).
 */

const LANCZOS = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];

/** ln Γ(x) for x > 0 (and for negative non-integers, ln |Γ(x)|). Throws at the poles 0, −1, −2, … */
export function lnGamma(x: number): number {
  if (!Number.isFinite(x)) throw new RangeError(`lnGamma: expected a finite number, got ${x}`);
  if (x <= 0 && Number.isInteger(x)) throw new RangeError(`lnGamma: pole at ${x}`);
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** ln C(n, k) for real n ≥ k ≥ 0. */
export function lnBinomial(n: number, k: number): number {
  if (!(k >= 0 && n >= k)) throw new RangeError(`lnBinomial: expected n ≥ k ≥ 0, got n = ${n}, k = ${k}`);
  return lnGamma(n + 1) - lnGamma(k + 1) - lnGamma(n - k + 1);
}

/** C(n, k) for real n ≥ k ≥ 0 (exact for small integers up to rounding). */
export function binomial(n: number, k: number): number {
  return Math.exp(lnBinomial(n, k));
}

/** log(e^a + e^b) without overflow. */
export function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = Math.max(a, b);
  return m + Math.log1p(Math.exp(-Math.abs(a - b)));
}

/**
 * ln P(a, x), the log of the regularised lower incomplete gamma function, for a > 0, x ≥ 0 (Numerical Recipes'
 * scheme): the series x^a e^{−x}/Γ(a + 1) Σ x^k/((a + 1)…(a + k)) for x < a + 1 — accurate in the far left tail,
 * where P underflows but its log does not — and 1 − Q from Lentz's continued fraction for Q otherwise. Throws if
 * either does not converge in 10,000 terms.
 */
export function lnGammaP(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0) || !Number.isFinite(x)) throw new RangeError(`lnGammaP: expected a > 0 and finite x ≥ 0, got a = ${a}, x = ${x}`);
  if (x === 0) return -Infinity;
  const lnPre = a * Math.log(x) - x - lnGamma(a);
  if (x < a + 1) {
    let term = 1 / a, sum = term;
    for (let k = 1; k < 10000; k++) {
      term *= x / (a + k);
      sum += term;
      if (term < sum * 1e-17) return lnPre + Math.log(sum);
    }
    throw new RangeError(`lnGammaP: the series did not converge (a = ${a}, x = ${x})`);
  }
  return Math.log1p(-Math.exp(lnGammaQcf(a, x, lnPre)));
}

/** ln Q(a, x) = ln(1 − P(a, x)) for x ≥ a + 1 by the continued fraction (modified Lentz). */
function lnGammaQcf(a: number, x: number, lnPre: number): number {
  const tiny = 1e-300;
  let b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
  for (let i = 1; i < 10000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) return lnPre + Math.log(h);
  }
  throw new RangeError(`lnGammaP: the continued fraction did not converge (a = ${a}, x = ${x})`);
}

/**
 * Sum over the Poisson(λ = nc/2) mixture index j of exp(ln w_j + term(j)), in log space: from the Poisson mode
 * outwards in both directions until the terms fall 40 nats below the largest (a unimodal sum in j).
 */
function poissonMixtureLog(nc: number, term: (j: number) => number): number {
  const lam = nc / 2;
  const lnW = (j: number) => (lam === 0 ? (j === 0 ? 0 : -Infinity) : -lam + j * Math.log(lam) - lnGamma(j + 1));
  const mode = Math.floor(lam);
  let total = -Infinity, best = -Infinity;
  for (const dir of [1, -1]) {
    for (let j = dir === 1 ? mode : mode - 1; j >= 0 && j < mode + 100000; j += dir) {
      const v = lnW(j) + term(j);
      total = logAddExp(total, v);
      best = Math.max(best, v);
      if (v < best - 40 && Math.abs(j - mode) > Math.sqrt(lam) + 5) break;
      if (lam === 0) break;
    }
  }
  return total;
}

/**
 * ln of the non-central χ² density with df > 0 degrees of freedom and non-centrality nc ≥ 0 at x > 0: the Poisson(nc/2)
 * mixture of central χ²(df + 2j) densities, summed in log space outwards from the Poisson mode. Consecutive terms
 * differ by ln(λ/(j + 1)) + ln(x/2) − ln(df/2 + j), so only the first term needs ln Γ (fast enough for MLE loops).
 */
export function ncx2LogPdf(x: number, df: number, nc: number): number {
  if (!(df > 0) || !(nc >= 0)) throw new RangeError(`ncx2: expected df > 0 and nc ≥ 0, got df = ${df}, nc = ${nc}`);
  if (!(x > 0)) return -Infinity;
  const h = df / 2;
  const central = (k: number) => (k - 1) * Math.log(x) - x / 2 - k * Math.LN2 - lnGamma(k);
  if (nc === 0) return central(h);
  const lam = nc / 2, lnLam = Math.log(lam), lnHalfX = Math.log(x / 2);
  const mode = Math.floor(lam);
  const first = -lam + mode * lnLam - lnGamma(mode + 1) + central(h + mode);
  // Σ exp(v_j) as ref + ln(sum), sum rescaled whenever a larger term appears (no log per term)
  let ref = first, sum = 1;
  const add = (v: number) => {
    if (v > ref) {
      sum = sum * Math.exp(ref - v) + 1;
      ref = v;
    } else sum += Math.exp(v - ref);
  };
  let v = first;
  for (let j = mode; ; j++) {
    v += lnLam - Math.log(j + 1) + lnHalfX - Math.log(h + j); // term j + 1
    add(v);
    if ((v < ref - 40 && j + 1 - mode > Math.sqrt(lam) + 5) || j > mode + 100000) break;
  }
  v = first;
  for (let j = mode; j > 0; j--) {
    v -= lnLam - Math.log(j) + lnHalfX - Math.log(h + j - 1); // term j − 1
    add(v);
    if (v < ref - 40 && mode - (j - 1) > Math.sqrt(lam) + 5) break;
  }
  return ref + Math.log(sum);
}

/** ln of the non-central χ² CDF at x: ln Σ_j Poisson(j; nc/2) P(df/2 + j, x/2), finite far into the left tail. */
export function ncx2LogCdf(x: number, df: number, nc: number): number {
  if (!(df > 0) || !(nc >= 0)) throw new RangeError(`ncx2: expected df > 0 and nc ≥ 0, got df = ${df}, nc = ${nc}`);
  if (!(x > 0)) return -Infinity;
  if (x === Infinity) return 0;
  return Math.min(0, poissonMixtureLog(nc, (j) => lnGammaP(df / 2 + j, x / 2)));
}

/**
 * The standard normal CDF Φ(x) = ½(1 + sign(x)·P(½, x²/2)), from the regularized incomplete gamma function. Its
 * relative accuracy is that of P near Φ's centre; in the far lower tail (x < −5) use a log-space form instead.
 */
export function normalCdf(x: number): number {
  if (x === 0) return 0.5;
  const p = Math.exp(lnGammaP(0.5, (x * x) / 2));
  return x > 0 ? 0.5 + 0.5 * p : 0.5 - 0.5 * p;
}

/**
 * The regularised incomplete beta function I_x(a, b) (continued fraction by the modified Lentz method, with the
 * symmetry I_x(a, b) = 1 − I_{1−x}(b, a) where the fraction converges slowly; Numerical Recipes §6.4's approach).
 */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (!(a > 0 && b > 0)) throw new RangeError(`regularizedBeta: a and b must be > 0, got ${a}, ${b}`);
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  if (x > (a + 1) / (a + b + 2)) return 1 - regularizedBeta(1 - x, b, a);
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = Math.abs(d) < tiny ? tiny : d;
  d = 1 / d;
  let f = d;
  for (let m = 1; m <= 300; m++) {
    for (const num of [(m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m)), -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1))]) {
      d = 1 + num * d;
      d = Math.abs(d) < tiny ? tiny : d;
      c = 1 + num / c;
      c = Math.abs(c) < tiny ? tiny : c;
      d = 1 / d;
      f *= d * c;
    }
    if (Math.abs(d * c - 1) < 1e-15) break;
  }
  return (front * f) / a;
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`studentTCdf: df must be > 0, got ${df}`);
  const tail = 0.5 * regularizedBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/**
 * One-sided paired t-test of mean(d) > 0 for paired differences d (e.g. accuracy with − without a method, seed by
 * seed): t = mean / (sd / √n), p = P(T_{n−1} ≥ t). Needs n ≥ 2 and a nonzero sd (else p is 0 or 1 by the sign).
 */
export function pairedTTestGreater(d: readonly number[]): { t: number; p: number; n: number; mean: number; sd: number } {
  const n = d.length;
  if (n < 2) throw new RangeError(`pairedTTestGreater: needs at least 2 pairs, got ${n}`);
  const mean = d.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  if (sd === 0) return { t: mean > 0 ? Infinity : mean < 0 ? -Infinity : 0, p: mean > 0 ? 0 : mean < 0 ? 1 : 0.5, n, mean, sd };
  const t = mean / (sd / Math.sqrt(n));
  return { t, p: 1 - studentTCdf(t, n - 1), n, mean, sd };
}
