/**
 * Gradient descent on a linear model in closed form: the training curve of a network's linearisation
 * (the lazy / NTK limit). For features J (rows = examples) the linearised, centred model u = J δ, δ₀ = 0,
 * trained by GD with step η on mean((u − y)²), moves in function space as
 *
 *   u_{t+1} = u_t − c·K (u_t − y),  c = 2η/P,  K = J Jᵀ,
 *
 * so with K = Q Λ Qᵀ and z = Qᵀ y: train residual y − u_t = Q (1 − cλ)ᵗ z and test predictions
 * v_t = K_× Q diag((1 − (1 − cλ)ᵗ) / λ) z (t·c where λ = 0), K_× = J_test Jᵀ. t → ∞ gives the min-norm
 * kernel interpolant K_× K⁻¹ y. Exact at any step, at O(P³) once instead of O(P·#params) a step.
 * Host float64.
 */
import { maxOf } from "../core/order.ts";

/** Eigen-decomposition of a symmetric n×n matrix (row-major) by cyclic Jacobi: values and column eigenvectors. */
export function symmetricEigen(A: Float64Array, n: number, tol = 1e-12): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(A);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0, diag = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) (i === j ? (diag += a[i * n + j] ** 2) : (off += a[i * n + j] ** 2));
    if (off <= tol * tol * Math.max(diag, 1e-300)) break;
    for (let p = 0; p < n - 1; p++)
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const tau = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(tau || 1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
        const cs = 1 / Math.sqrt(1 + t * t), sn = t * cs;
        for (let m = 0; m < n; m++) {
          const amp = a[m * n + p], amq = a[m * n + q];
          a[m * n + p] = cs * amp - sn * amq;
          a[m * n + q] = sn * amp + cs * amq;
        }
        for (let m = 0; m < n; m++) {
          const apm = a[p * n + m], aqm = a[q * n + m];
          a[p * n + m] = cs * apm - sn * aqm;
          a[q * n + m] = sn * apm + cs * aqm;
        }
        for (let m = 0; m < n; m++) {
          const vmp = v[m * n + p], vmq = v[m * n + q];
          v[m * n + p] = cs * vmp - sn * vmq;
          v[m * n + q] = sn * vmp + cs * vmq;
        }
      }
  }
  return { values: Float64Array.from({ length: n }, (_, i) => a[i * n + i]), vectors: v };
}

export type KernelGdCurve = { steps: number[]; train: number[]; test: number[]; limitTest: number };

/**
 * MSE curves of the linearised model at the given steps. kTrain [P×P], kCross [M×P] (test × train),
 * both row-major; lr is the GD step η on mean((u − y)²). `limitTest` is the t → ∞ (min-norm
 * interpolant) test MSE, over the non-null eigen-directions (λ > relTol·λ_max).
 */
export function kernelGdCurve(o: { kTrain: Float64Array; kCross: Float64Array; yTrain: ArrayLike<number>; yTest: ArrayLike<number>; lr: number; steps: number[]; relTol?: number }): KernelGdCurve {
  const P = o.yTrain.length, M = o.yTest.length;
  const { values: lam, vectors: Q } = symmetricEigen(o.kTrain, P);
  const c = (2 * o.lr) / P;
  const z = new Float64Array(P);
  for (let k = 0; k < P; k++) {
    let s = 0;
    for (let i = 0; i < P; i++) s += Q[i * P + k] * o.yTrain[i];
    z[k] = s;
  }
  const B = new Float64Array(M * P); // K_× Q
  for (let i = 0; i < M; i++)
    for (let k = 0; k < P; k++) {
      let s = 0;
      for (let j = 0; j < P; j++) s += o.kCross[i * P + j] * Q[j * P + k];
      B[i * P + k] = s;
    }
  const lmax = maxOf(lam);
  const tol = (o.relTol ?? 1e-10) * lmax;
  const testAt = (coef: (k: number) => number) => {
    let se = 0;
    for (let i = 0; i < M; i++) {
      let v = 0;
      for (let k = 0; k < P; k++) v += B[i * P + k] * coef(k) * z[k];
      se += (v - o.yTest[i]) ** 2;
    }
    return se / M;
  };
  const train: number[] = [], test: number[] = [];
  for (const t of o.steps) {
    let tr = 0;
    for (let k = 0; k < P; k++) tr += (1 - c * lam[k]) ** (2 * t) * z[k] * z[k];
    train.push(tr / P);
    test.push(testAt((k) => (Math.abs(lam[k]) > tol ? (1 - (1 - c * lam[k]) ** t) / lam[k] : t * c)));
  }
  return { steps: o.steps, train, test, limitTest: testAt((k) => (Math.abs(lam[k]) > tol ? 1 / lam[k] : 0)) };
}
