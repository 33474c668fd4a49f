/**
 * Principal components of a data matrix by orthogonal (subspace) iteration on its covariance: the covariance
 * XᵀX/n of the centred rows in one jax-js matmul, then Q ← orth(C Q) in float64 on the host (modified
 * Gram–Schmidt) until the Rayleigh quotients settle. The leading k directions, ordered by variance.
 * For k ≪ d this is cheaper than a full eigendecomposition and exact to the stated tolerance.
 */
import { numpy as np, random } from "@jax-js/jax";
import { maxOf } from "../core/order.ts";
import type { Key } from "../core/prng.ts";

export type Pca = { mean: Float64Array; components: Float64Array[]; variances: number[]; iterations: number; dim: number };

/** Covariance (d×d, float64) of the rows of x [n, d] around their mean. */
export function covariance(x: ArrayLike<number>, n: number, d: number): { mean: Float64Array; cov: Float64Array } {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  const xc = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) xc[i * d + j] = x[i * d + j] - mean[j];
  const a = np.array(xc).reshape([n, d]);
  const c = np.matmul(a.ref.transpose(), a).mul(1 / n);
  return { mean, cov: Float64Array.from(c.dataSync() as ArrayLike<number>) };
}

function orthonormalize(q: Float64Array[]): void {
  for (let i = 0; i < q.length; i++) {
    for (let r = 0; r < 2; r++) {
      for (let j = 0; j < i; j++) {
        let s = 0;
        for (let t = 0; t < q[i].length; t++) s += q[i][t] * q[j][t];
        for (let t = 0; t < q[i].length; t++) q[i][t] -= s * q[j][t];
      }
    }
    let nn = 0;
    for (let t = 0; t < q[i].length; t++) nn += q[i][t] * q[i][t];
    const inv = 1 / Math.sqrt(nn || 1);
    for (let t = 0; t < q[i].length; t++) q[i][t] *= inv;
  }
}

function matvec(c: Float64Array, d: number, v: Float64Array): Float64Array {
  const out = new Float64Array(d);
  for (let r = 0; r < d; r++) {
    let s = 0;
    const o = r * d;
    for (let t = 0; t < d; t++) s += c[o + t] * v[t];
    out[r] = s;
  }
  return out;
}

/** The top-k principal directions of x [n, d] (consumes the key for the starting subspace). */
export function pca(x: ArrayLike<number>, n: number, d: number, k: number, key: Key, opts: { maxIter?: number; tol?: number } = {}): Pca {
  if (k < 1 || k > d) throw new RangeError(`pca: k must be in [1, ${d}], got ${k}`);
  const { mean, cov } = covariance(x, n, d);
  const start = Float64Array.from(random.normal(key, [k, d]).dataSync() as ArrayLike<number>);
  let q: Float64Array[] = Array.from({ length: k }, (_, i) => start.slice(i * d, (i + 1) * d));
  orthonormalize(q);
  let prev: number[] = new globalThis.Array(k).fill(0);
  const maxIter = opts.maxIter ?? 300;
  const tol = opts.tol ?? 1e-9;
  let it = 0;
  let variances = prev;
  for (; it < maxIter; it++) {
    const cq = q.map((v) => matvec(cov, d, v));
    variances = cq.map((w, i) => w.reduce((s, x, t) => s + x * q[i][t], 0));
    q = cq;
    orthonormalize(q);
    const change = maxOf(variances.map((v, i) => Math.abs(v - prev[i]) / Math.max(Math.abs(v), 1e-300)));
    prev = variances;
    if (it > 2 && change < tol) break;
  }
  // order by variance (orthogonal iteration converges to the ordered eigenvectors; sort for safety)
  const order = variances.map((_, i) => i).sort((a, b) => variances[b] - variances[a]);
  return { mean, components: order.map((i) => q[i]), variances: order.map((i) => variances[i]), iterations: it + 1, dim: d };
}

/** Project rows of x [n, d] on the components: [n, k] float32. */
export function pcaTransform(p: Pca, x: ArrayLike<number>, n: number): Float32Array<ArrayBuffer> {
  const d = p.dim;
  const k = p.components.length;
  const w = new Float32Array(d * k);
  for (let j = 0; j < k; j++) for (let t = 0; t < d; t++) w[t * k + j] = p.components[j][t];
  const xc = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) xc[i * d + t] = x[i * d + t] - p.mean[t];
  const out = np.matmul(np.array(xc).reshape([n, d]), np.array(w).reshape([d, k]));
  return Float32Array.from(out.dataSync() as ArrayLike<number>);
}
