/**
 * What can be learnt with wide convolutional networks (Cagnetta, Favero, Wyart 2023, arXiv 2208.01003): the
 * neural tangent kernel of an infinitely wide deep CNN with non-overlapping patches (a tree), and teacher–student
 * learning curves of ridgeless kernel regression. Following the official code's recursion as given in
 * specs-23-45.md §18 (alesfav/convolutional_neural_kernels, `dcntk`): the input x ∈ ℝ^d is split into leaf
 * patches of size s₁, each on the unit sphere; with leaf cosines c_p = ⟨x_p, y_p⟩ and NTK = c, each further level
 * groups its children in blocks of s_l (the last level averages all remaining nodes):
 *   RFK ← mean_children κ₁(c),  NTK ← mean_children κ₀(c)·NTK + RFK,  c ← RFK,
 * with the arc-cosine kernels κ₀(t) = (π − arccos t)/π, κ₁(t) = (√(1 − t²) + (π − arccos t)t)/π. Filters
 * (s₁, …, s_L) give L levels above the leaves' cosines (the last one the average over all remaining nodes), so
 * NTK(x, x) = L + 1. Host float64.
 */
import { random } from "@jax-js/jax";
import { cholesky, choleskySolve } from "../core/linalg.ts";
import { splitKey, type Key } from "../core/prng.ts";
import { logLogSlope } from "./abcParametrization.ts";

export const kappa0 = (t: number) => (Math.PI - Math.acos(t)) / Math.PI;
export const kappa1 = (t: number) => (Math.sqrt(Math.max(0, 1 - t * t)) + (Math.PI - Math.acos(t)) * t) / Math.PI;

const clampCos = (t: number) => (t > 1 ? 1 : t < -1 ? -1 : t);

/**
 * The tree NTK between rows of X (N × d) and Y (M × d) for filters (s₁, …, s_L): leaf patches of size s₁ (the rows'
 * patches are assumed unit-norm), levels 2…L grouping blocks of s_l, then the average over the remaining nodes.
 */
export function treeNtk(X: Float64Array, N: number, Y: Float64Array, M: number, d: number, filters: number[]): Float64Array {
  const s1 = filters[0];
  if (d % s1 !== 0) throw new RangeError(`tree NTK: the leaf patch size ${s1} does not divide d = ${d}`);
  const leaves = d / s1;
  let width = leaves;
  for (const s of filters.slice(1)) {
    if (width % s !== 0) throw new RangeError(`tree NTK: a level of ${width} nodes cannot be grouped in blocks of ${s} (filters ${filters.join(", ")})`);
    width /= s;
  }
  const K = new Float64Array(N * M);
  const c = new Float64Array(leaves);
  const ntk = new Float64Array(leaves);
  for (let i = 0; i < N; i++)
    for (let j = 0; j < M; j++) {
      for (let p = 0; p < leaves; p++) {
        let dot = 0;
        for (let t = 0; t < s1; t++) dot += X[i * d + p * s1 + t] * Y[j * d + p * s1 + t];
        c[p] = clampCos(dot);
        ntk[p] = c[p];
      }
      let nodes = leaves;
      const groups = [...filters.slice(1), 0]; // 0: the last level, all remaining nodes
      for (const g of groups) {
        const block = g === 0 ? nodes : g;
        const out = nodes / block;
        for (let q = 0; q < out; q++) {
          let rfk = 0;
          let nt = 0;
          for (let b = 0; b < block; b++) {
            const ch = q * block + b;
            rfk += kappa1(c[ch]);
            nt += kappa0(c[ch]) * ntk[ch];
          }
          rfk /= block;
          c[q] = clampCos(rfk);
          ntk[q] = nt / block + rfk;
        }
        nodes = out;
      }
      K[i * M + j] = ntk[0];
    }
  return K;
}

/** N inputs of d = leaves·s₁ coordinates, each leaf patch uniform on the unit sphere S^{s₁−1}. Consumes `key`. */
export async function sphericalPatches(N: number, d: number, s1: number, key: Key): Promise<Float64Array> {
  const X = Float64Array.from((await random.normal(key, [N, d]).data()) as Float32Array);
  for (let i = 0; i < N; i++)
    for (let p = 0; p < d / s1; p++) {
      let n2 = 0;
      for (let t = 0; t < s1; t++) n2 += X[i * d + p * s1 + t] ** 2;
      const r = Math.sqrt(n2);
      for (let t = 0; t < s1; t++) X[i * d + p * s1 + t] /= r;
    }
  return X;
}

/** A Gaussian random field on the N points with covariance K (+ jitter·I): L z with L the Cholesky factor. Consumes `key`. */
export async function sampleGaussianField(K: Float64Array, N: number, key: Key, jitter = 1e-10): Promise<Float64Array> {
  const L = cholesky(K, N, jitter);
  if (!L) throw new RangeError(`Gaussian field: the covariance (${N} × ${N}) is not positive definite even with jitter ${jitter}`);
  const z = Float64Array.from((await random.normal(key, [N]).data()) as Float32Array);
  const f = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    let s = 0;
    for (let j = 0; j <= i; j++) s += L[i * N + j] * z[j];
    f[i] = s;
  }
  return f;
}

/** The learning-curve exponent β of ε(P) ~ P^{−β}: the negated log-log least-squares slope. */
export function learningCurveExponent(P: number[], err: number[]): number {
  return -logLogSlope(P, err);
}

/** The training-set sizes P = 64, 128, … up to maxP. */
export function doublingSizes(maxP: number): number[] {
  const Ps: number[] = [];
  for (let P = 64; P <= maxP; P *= 2) Ps.push(P);
  return Ps;
}

/** β fitted on P ≥ 256 (from the second-largest P when the curve is shorter), and where the fit starts. */
export function tailExponent(Ps: number[], mse: number[]): { beta: number; fitFrom: number } {
  const fitFrom = Math.min(256, Ps[Ps.length - 2] ?? Ps[0]);
  const idx = Ps.flatMap((P, i) => (P >= fitFrom ? [i] : []));
  return { beta: learningCurveExponent(idx.map((i) => Ps[i]), idx.map((i) => mse[i])), fitFrom };
}

/**
 * One teacher–student learning curve: N = max(P) + test inputs (leaf patches of size s₁ on the sphere), a target
 * drawn as a Gaussian field with the teacher's tree NTK as covariance, and ridgeless (ridge) kernel regression
 * with the student's kernel on the first P inputs, tested on the last `test`. `studentScale` multiplies the
 * inputs the student sees (a global student treats x as one patch and needs unit norm). Consumes `key`.
 */
export async function teacherStudentCurve(o: { d: number; s1: number; teacher: number[]; student: number[]; studentScale?: number; Ps: number[]; test: number; ridge: number }, key: Key): Promise<number[]> {
  const maxP = Math.max(...o.Ps);
  const N = maxP + o.test;
  const [kx, kf] = splitKey(key, 2);
  const X = await sphericalPatches(N, o.d, o.s1, kx);
  const f = await sampleGaussianField(treeNtk(X, N, X, N, o.d, o.teacher), N, kf);
  const Xs = o.studentScale ? X.map((v) => v * o.studentScale!) : X;
  const train = Xs.subarray(0, maxP * o.d);
  const testX = Xs.subarray(maxP * o.d);
  const Ktrain = treeNtk(train, maxP, train, maxP, o.d, o.student);
  const Ktest = treeNtk(testX, o.test, train, maxP, o.d, o.student);
  const yTest = f.subarray(maxP);
  return o.Ps.map((P) => {
    const K = new Float64Array(P * P);
    for (let i = 0; i < P; i++) K.set(Ktrain.subarray(i * maxP, i * maxP + P), i * P);
    const alpha = choleskySolve(K, P, o.ridge, f.subarray(0, P), 1);
    if (!alpha) throw new RangeError(`kernel regression: the student's Gram matrix at P = ${P} is not positive definite with ridge ${o.ridge}`);
    let mse = 0;
    for (let t = 0; t < o.test; t++) {
      let pred = 0;
      for (let j = 0; j < P; j++) pred += Ktest[t * maxP + j] * alpha[j];
      mse += (pred - yTest[t]) ** 2;
    }
    return mse / o.test;
  });
}
