/**
 * The provable advantage of unsupervised pretraining (Ge, Tang, Fan, Jin 2023, arXiv 2303.01566), on its
 * factor-model instance: x = Bz + ε with z ~ N(0, I_r), ε ~ N(0, I_d), and labels y = θᵀz + ξ, ξ ~ N(0, σ²).
 * Pretraining is the MLE of the latent model from m unlabeled x, which with isotropic noise is the top-r PCA
 * subspace V; the downstream is OLS on the r features Vᵀx from n labeled pairs. The supervised baseline is
 * ridge regression on raw x with the best ridge on a grid chosen by the exact excess risk (an oracle, so a
 * generous baseline).
 *
 * Excess risks are exact, with no test sample: for a linear predictor β, E(βᵀx − E[y|x])² = (β − β*)ᵀΣ(β − β*)
 * with Σ = BBᵀ + I and β* = Σ⁻¹Bθ (the Bayes predictor E[y|x] = θᵀBᵀ(BBᵀ + I)⁻¹x). The Bayes risk is
 * R* = σ² + θᵀ(I + BᵀB)⁻¹θ.
 *
 * Theory for the pretrained predictor when V spans col(B) (m → ∞): Vᵀx is then a sufficient statistic for z
 * (Bᵀx = BᵀVVᵀx), so y given the r features has residual variance R*, and OLS with r Gaussian features and n
 * samples has expected excess risk R*·r/(n − r − 1) (n > r + 1; the classical random-design result).
 *
 * `labels: "orthogonal"` makes y depend on r directions orthogonal to col(B) instead (y = θᵀQᵀx + ξ, QᵀB = 0):
 * the latent model is then uninformative about the label, for the negative control.
 */
import { numpy as np, random } from "@jax-js/jax";
import { choleskySolve, gram64, matmul64, qr, symEig, transpose64 } from "../core/linalg.ts";
import { splitKey, type Key } from "../core/prng.ts";

export type FactorModel = { d: number; r: number; B: Float64Array; theta: Float64Array; noise: number; labels: "latent" | "orthogonal"; Q: Float64Array | null };

/** B ~ scale·N(0, 1) (d × r), θ ~ N(0, I_r); for orthogonal labels also Q (d × r, orthonormal, QᵀB = 0). Consumes `key`. */
export async function drawFactorModel(o: { d: number; r: number; scale: number; noise: number; labels: "latent" | "orthogonal" }, key: Key): Promise<FactorModel> {
  const { d, r } = o;
  if (!(Number.isInteger(d) && Number.isInteger(r) && r >= 1 && 2 * r <= d)) throw new RangeError(`factor model: expected integers with 1 ≤ r and 2r ≤ d, got d = ${d}, r = ${r}`);
  const [kb, kt, kq] = splitKey(key, 3);
  const B = Float64Array.from((await random.normal(kb, [d, r]).data()) as Float32Array, (v) => o.scale * v);
  const theta = Float64Array.from((await random.normal(kt, [r]).data()) as Float32Array);
  let Q: Float64Array | null = null;
  const G = Float64Array.from((await random.normal(kq, [d, r]).data()) as Float32Array);
  if (o.labels === "orthogonal") {
    // Orthonormalise [B G] and keep the last r columns: orthonormal and orthogonal to col(B).
    const M = new Float64Array(d * 2 * r);
    for (let i = 0; i < d; i++)
      for (let j = 0; j < r; j++) {
        M[i * 2 * r + j] = B[i * r + j];
        M[i * 2 * r + r + j] = G[i * r + j];
      }
    const { q } = qr(M, d, 2 * r);
    Q = new Float64Array(d * r);
    for (let i = 0; i < d; i++) for (let j = 0; j < r; j++) Q[i * r + j] = q[i * 2 * r + r + j];
  }
  return { d, r, B, theta, noise: o.noise, labels: o.labels, Q };
}

/** n samples (x row-major n × d, y) of the model. Consumes `key`. */
export async function sampleFactorModel(f: FactorModel, n: number, key: Key): Promise<{ x: Float64Array; y: Float64Array }> {
  const { d, r, B, theta } = f;
  const [kz, ke, kn] = splitKey(key, 3);
  const z = Float64Array.from((await random.normal(kz, [n, r]).data()) as Float32Array);
  const e = Float64Array.from((await random.normal(ke, [n, d]).data()) as Float32Array);
  const xi = (await random.normal(kn, [n]).data()) as Float32Array;
  const x = matmul64(z, transpose64(B, d, r), n, r, d);
  for (let i = 0; i < n * d; i++) x[i] += e[i];
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    if (f.Q) for (let j = 0; j < r; j++) for (let t = 0; t < d; t++) s += theta[j] * f.Q[t * r + j] * x[i * d + t];
    else for (let j = 0; j < r; j++) s += theta[j] * z[i * r + j];
    y[i] = s + f.noise * xi[i];
  }
  return { x, y };
}

/** Σ = BBᵀ + I, the Bayes predictor β* and the Bayes risk R*. */
export function bayesOf(f: FactorModel): { sigma: Float64Array; beta: Float64Array; risk: number } {
  const { d, r, B, theta } = f;
  const sigma = gram64(B, d, r);
  for (let i = 0; i < d; i++) sigma[i * d + i] += 1;
  if (f.Q) return { sigma, beta: matmul64(f.Q, theta, d, r, 1), risk: f.noise ** 2 };
  const Btheta = matmul64(B, theta, d, r, 1);
  const beta = choleskySolve(sigma, d, 0, Btheta, 1)!;
  // θᵀ(I + BᵀB)⁻¹θ
  const btb = gram64(transpose64(B, d, r), r, d);
  const inner = choleskySolve(btb, r, 1, theta, 1)!;
  return { sigma, beta, risk: f.noise ** 2 + theta.reduce((s, t, j) => s + t * inner[j], 0) };
}

/** (β − β*)ᵀΣ(β − β*). */
export function excessRisk(sigma: Float64Array, bayesBeta: Float64Array, beta: Float64Array): number {
  const d = beta.length;
  const diff = beta.map((b, i) => b - bayesBeta[i]);
  let s = 0;
  for (let i = 0; i < d; i++) {
    let row = 0;
    for (let j = 0; j < d; j++) row += sigma[i * d + j] * diff[j];
    s += diff[i] * row;
  }
  return s;
}

/**
 * Pretraining: the top-r eigenvectors (d × r) of the uncentred second-moment matrix (1/m) Σ xxᵀ of m unlabeled
 * samples (the model is centred), the product in jax-js. Consumes `key`.
 */
export async function pretrainPca(f: FactorModel, m: number, key: Key): Promise<Float64Array> {
  const { d, r } = f;
  const { x } = await sampleFactorModel(f, m, key);
  const X = np.array(Float32Array.from(x), { shape: [m, d] });
  const C = Float64Array.from((await np.matmul(X.ref.transpose(), X).data()) as Float32Array, (v) => v / m);
  const { vectors } = symEig(C, d);
  const V = new Float64Array(d * r);
  for (let i = 0; i < d; i++) for (let j = 0; j < r; j++) V[i * r + j] = vectors[i * d + (d - 1 - j)];
  return V;
}

/** sin² of the principal angles between span(V) and col(B), averaged: ‖(I − P_B)V‖²_F / r for orthonormal V. */
export function subspaceError(f: FactorModel, V: Float64Array): number {
  const { d, r, B } = f;
  const { q } = qr(B, d, r);
  const qtv = matmul64(transpose64(q, d, r), V, r, d, r);
  let inside = 0;
  for (const v of qtv) inside += v * v;
  return (r - inside) / r;
}

/** OLS of y on the features xV (n × r), as a predictor on raw x: β = V ŵ. Null when the features are rank-deficient. */
export function olsOnFeatures(V: Float64Array, x: Float64Array, y: Float64Array, n: number, d: number, r: number): Float64Array | null {
  const F = matmul64(x.subarray(0, n * d), V, n, d, r);
  const Ft = transpose64(F, n, r);
  const w = choleskySolve(gram64(Ft, r, n), r, 0, matmul64(Ft, y.subarray(0, n), r, n, 1), 1);
  return w ? matmul64(V, w, d, r, 1) : null;
}

/** Ridge on raw x (dual form, n × n), one predictor per ridge λ > 0. */
export function ridgePath(x: Float64Array, y: Float64Array, n: number, d: number, ridges: number[]): Float64Array[] {
  const X = x.subarray(0, n * d);
  const K = gram64(X, n, d);
  const Xt = transpose64(X, n, d);
  return ridges.map((lambda) => {
    const a = choleskySolve(K, n, lambda, y.subarray(0, n), 1);
    if (!a) throw new RangeError(`ridge: XXᵀ + ${lambda}I is not positive definite`);
    return matmul64(Xt, a, d, n, 1);
  });
}

/** The expected excess risk of OLS on r Gaussian features that are sufficient for y: R*·r/(n − r − 1), n > r + 1. */
export function olsExcessTheory(bayesRisk: number, r: number, n: number): number {
  if (!(n > r + 1)) throw new RangeError(`OLS excess risk: expected n > r + 1, got n = ${n}, r = ${r}`);
  return (bayesRisk * r) / (n - r - 1);
}
