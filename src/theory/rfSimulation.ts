/**
 * Simulation of Gaussian random-feature ridge regression, the experiment the eigenframework predicts
 * (Simon et al. 2023, scripts/rf-gaussian.py): inputs x ~ N(0, I_M) in the kernel's eigenbasis, targets
 * y = v·x + ε with ε ~ N(0, σ²), features z(x) = √(M/k) · P diag(√λ) x with P ~ N(0, 1/M) (k rows), so that
 * the feature kernel's mean is K(x, x') = Σ λᵢ xᵢ x'ᵢ. k = ∞ is kernel ridge regression with that K.
 *
 * The predictor is linear in x, f(x) = w·x, so the test risk is exact, with no test sample:
 * E(f(x) − y)² = ‖w − v‖² + σ². The big product Z = X Gᵀ runs in jax-js (float32); Gram matrices and the
 * ridge solves are float64 on the host (Cholesky, core/linalg.ts), which keeps the ridge-0 interpolation peak at k = n
 * resolvable.
 */
import { numpy as np, random } from "@jax-js/jax";
import { splitKey, type Key } from "../core/prng.ts";
import type { Task } from "./eigenframework.ts";
import { choleskySolve, gram64 as gram, transpose64 as transpose } from "../core/linalg.ts";

export type RfSimulation = { ridges: number[]; test: number[]; train: number[] };

/**
 * One trial at n samples and k features (Infinity: the kernel limit) for each ridge. Consumes `key`.
 * Returns test MSE (exact expectation, including σ²) and train MSE per ridge; a ridge whose system is not
 * positive definite in float64 gives NaN (never silently a number).
 */
export async function simulateRf(task: Task, n: number, k: number, ridges: number[], key: Key): Promise<RfSimulation> {
  const M = task.eigenvalues.length;
  const [kx, kp, ke] = splitKey(key, 3);
  const X32 = (await random.normal(kx, [n, M]).data()) as Float32Array;
  const eps = (await random.normal(ke, [n]).data()) as Float32Array;
  const v = task.coefficients;
  const sigma = Math.sqrt(task.noise);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = 0; t < M; t++) s += X32[i * M + t] * v[t];
    y[i] = s + sigma * eps[i];
  }
  const sqrtLam = task.eigenvalues.map(Math.sqrt);
  // Features: rows z_i (kernel limit: z = √λ ⊙ x, whose Gram is the kernel), and the map w = Gᵀ a.
  let Z: Float64Array;
  let width: number;
  let Gt: Float64Array | null = null; // M × k, so that w = Gt a
  if (Number.isFinite(k)) {
    const gt = random.normal(kp, [M, k]).mul(np.array(Float32Array.from(sqrtLam, (s) => (s * Math.sqrt(M / k)) / Math.sqrt(M)), { shape: [M, 1] }));
    Gt = Float64Array.from((await gt.ref.data()) as Float32Array);
    const z = np.matmul(np.array(X32 as Float32Array<ArrayBuffer>, { shape: [n, M] }), gt);
    Z = Float64Array.from((await z.data()) as Float32Array);
    width = k;
  } else {
    kp.dispose();
    Z = new Float64Array(n * M);
    for (let i = 0; i < n; i++) for (let t = 0; t < M; t++) Z[i * M + t] = X32[i * M + t] * sqrtLam[t];
    width = M;
  }
  const dual = width >= n; // solve in the smaller space
  const Zt = dual ? null : transpose(Z, n, width);
  const G = dual ? gram(Z, n, width) : gram(Zt!, width, n);
  const rhs = dual ? y : (() => {
    const b = new Float64Array(width);
    for (let j = 0; j < width; j++) for (let i = 0; i < n; i++) b[j] += Z[i * width + j] * y[i];
    return b;
  })();
  const test: number[] = [];
  const train: number[] = [];
  for (const ridge of ridges) {
    const sol = choleskySolve(G, dual ? n : width, ridge, rhs, 1);
    if (!sol) {
      test.push(NaN);
      train.push(NaN);
      continue;
    }
    // readout a (length width): dual a = Zᵀ α, primal a = sol
    let a: Float64Array;
    if (dual) {
      a = new Float64Array(width);
      for (let i = 0; i < n; i++) for (let j = 0; j < width; j++) a[j] += Z[i * width + j] * sol[i];
    } else a = sol;
    let tr = 0;
    for (let i = 0; i < n; i++) {
      let f = 0;
      for (let j = 0; j < width; j++) f += Z[i * width + j] * a[j];
      tr += (f - y[i]) ** 2;
    }
    let risk = 0;
    for (let t = 0; t < M; t++) {
      let w: number;
      if (Gt) {
        w = 0;
        for (let j = 0; j < width; j++) w += Gt[t * width + j] * a[j];
      } else w = sqrtLam[t] * a[t];
      risk += (w - v[t]) ** 2;
    }
    test.push(risk + task.noise);
    train.push(tr / n);
  }
  return { ridges, test, train };
}
