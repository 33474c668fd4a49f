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
