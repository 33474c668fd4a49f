/**
 * The eigenframework of random-feature (RF) ridge regression and its kernel limit (Simon, Karkada, Ghosh,
 * Belkin 2023, "More is Better in Modern Machine Learning", §3; the official repository's theory.py).
 * A task is a kernel eigenspectrum λᵢ, target coefficients vᵢ in that eigenbasis, label noise σ² and a
 * ridge δ; n samples, k random features. Plain float64 numbers: closed forms, no arrays.
 */

export type Task = { eigenvalues: Float64Array; coefficients: Float64Array; noise: number };

export type RfRisk = {
  /** Predicted test MSE (including the noise σ²). */
  test: number;
  /** Predicted train MSE (kernel limit only; NaN for finite k, where the paper gives no closed form here). */
  train: number;
  kappa: number;
  gamma: number;
  /** The overfitting coefficient E₀. */
  e0: number;
};

/**
 * Power-law task of the paper's Gaussian experiment (scripts/rf-gaussian.py): λᵢ = i^(−α), vᵢ² ∝ i^(−β)
 * normalised so Σvᵢ² = 1, for i = 1…modes.
 */
export function powerLawTask(modes: number, alpha: number, beta: number, noise: number): Task {
  const eigenvalues = new Float64Array(modes);
  const coefficients = new Float64Array(modes);
  let s = 0;
  for (let i = 0; i < modes; i++) {
    eigenvalues[i] = (i + 1) ** -alpha;
    s += (i + 1) ** -beta;
  }
  for (let i = 0; i < modes; i++) coefficients[i] = Math.sqrt((i + 1) ** -beta / s);
  return { eigenvalues, coefficients, noise };
}

const learnabilitySum = (lam: Float64Array, g: number) => {
  let z = 0;
  for (let i = 0; i < lam.length; i++) z += lam[i] / (lam[i] + g);
  return z;
};

/**
 * Root of a decreasing function on a log scale, by bisection of [10^lo, 10^hi]: 64 halvings of a 30-decade
 * bracket leave 30/2^64 ≈ 2e-18 decades, below float64's resolution.
 */
function bisectLog(f: (x: number) => number, lo = -15, hi = 15): number {
  for (let it = 0; it < 64; it++) {
    const mid = (lo + hi) / 2;
    if (f(10 ** mid) > 0) lo = mid;
    else hi = mid;
  }
  return 10 ** ((lo + hi) / 2);
}

/**
 * Kernel ridge regression (k → ∞): κ solves Σ λᵢ/(λᵢ+κ) + δ/κ = n; with Lᵢ = λᵢ/(λᵢ+κ),
 * E₀ = n / (n − Σ Lᵢ²), test = E₀ (Σ (1−Lᵢ)² vᵢ² + σ²), train = (δ/(nκ))² test.
 */
export function krrRisk(task: Task, n: number, ridge: number): RfRisk {
  const lam = task.eigenvalues;
  if (ridge === 0 && n >= lam.length) throw new RangeError(`krrRisk: ridge 0 needs n < the number of modes (${lam.length}), got n = ${n}`);
  const kappa = bisectLog((kap) => learnabilitySum(lam, kap) + ridge / kap - n);
  let q = 0;
  let bias = 0;
  for (let i = 0; i < lam.length; i++) {
    const L = lam[i] / (lam[i] + kappa);
    q += L * L;
    bias += (1 - L) ** 2 * task.coefficients[i] ** 2;
  }
  const e0 = n / (n - q);
  const test = e0 * (bias + task.noise);
  return { test, train: (ridge / (n * kappa)) ** 2 * test, kappa, gamma: kappa, e0 };
}

/**
 * Random-feature ridge regression with k features. (κ, γ) solve
 *   Σ λᵢ/(λᵢ+γ) + δ/κ = n  and  Σ λᵢ/(λᵢ+γ) + kκ/γ = k
 * (nested bisection: γ for a given κ from the first, then log κ from the second). With Lᵢ = λᵢ/(λᵢ+γ),
 * z = ΣLᵢ, q = ΣLᵢ²: x = (q(k − 2z) + z²) / (n(k − q)), E₀ = 1/(1 − x),
 * bᵢ = (1 − Lᵢ) − κ Lᵢ/(λᵢ+γ) · k/(k − q), test = E₀ (Σ bᵢ vᵢ² + σ²).
 *
 * Ridge 0 is the limit δ → 0: for k > n, κ > 0 solves Σ Lᵢ(γ(κ)) = n; for k < n, κ → 0 with γ solving
 * Σ Lᵢ = k (then E₀ = n/(n − k), the classical least-squares variance factor); at k = n the risk diverges.
 */
export function rfRisk(task: Task, n: number, k: number, ridge: number): RfRisk {
  const lam = task.eigenvalues;
  if (!Number.isFinite(k)) return krrRisk(task, n, ridge);
  let kappa: number;
  let gamma: number;
  if (ridge === 0 && k === n) return { test: Infinity, train: NaN, kappa: 0, gamma: NaN, e0: Infinity };
  if (ridge === 0 && k < n) {
    kappa = 0;
    gamma = bisectLog((g) => learnabilitySum(lam, g) - k);
  } else if (ridge === 0) {
    gamma = bisectLog((g) => learnabilitySum(lam, g) - n);
    kappa = (gamma * (k - n)) / k;
  } else {
    // γ(κ) solves the n-equation; it exists for κ > δ/n and falls as κ grows, so the k-equation's
    // residual Σ Lᵢ + kκ/γ − k rises from −k (κ ↓ δ/n) to +∞: one root above δ/n, found by bisection.
    const gammaOf = (kap: number) => bisectLog((g) => learnabilitySum(lam, g) + ridge / kap - n);
    kappa = bisectLog(
      (kap) => {
        const g = gammaOf(kap);
        return -(learnabilitySum(lam, g) + (k * kap) / g - k);
      },
      Math.log10(ridge / n) + 1e-9,
      15,
    );
    gamma = gammaOf(kappa);
  }
  let z = 0;
  let q = 0;
  for (let i = 0; i < lam.length; i++) {
    const L = lam[i] / (lam[i] + gamma);
    z += L;
    q += L * L;
  }
  const x = (q * (k - 2 * z) + z * z) / (n * (k - q));
  const e0 = 1 / (1 - x);
  let bias = 0;
  for (let i = 0; i < lam.length; i++) {
    const L = lam[i] / (lam[i] + gamma);
    const b = 1 - L - ((kappa * L) / (lam[i] + gamma)) * (k / (k - q));
    bias += b * task.coefficients[i] ** 2;
  }
  return { test: e0 * (bias + task.noise), train: NaN, kappa, gamma, e0 };
}
