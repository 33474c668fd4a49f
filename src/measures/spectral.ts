/**
 * Spectral quantities of a symmetric linear operator given only by products v ↦ A v (a Hessian, a
 * Gauss–Newton matrix, an empirical Fisher), never materialised — PyHessian's set (Yao et al. 2020) and the
 * modern trace estimators:
 *
 *   top-k eigenvalues       Lanczos with full reorthogonalisation (Ritz values, residual bounds β_m|s_mj|), or
 *                           power iteration with deflation (PyHessian's `eigenvalues`)
 *   trace                   Hutchinson (1989): E[zᵀAz], z Rademacher; Hutch++ (Meyer, Musco, Musco, Woodruff 2021);
 *                           XTrace (Epperly, Tropp, Webber 2024, SIMAX), the exchangeable estimator
 *   diagonal                Bekas, Kokiopoulou, Saad (2007): E[z ⊙ Az]
 *   spectral density        stochastic Lanczos quadrature (Ubaru, Chen, Saad 2017; Lin, Saad, Yang 2016): per
 *                           random start, m Lanczos steps; the tridiagonal's eigenvalues θ_j are the nodes and the
 *                           squared first components of its eigenvectors the weights
 *
 * Every stochastic estimate reports its standard error (over its independent samples) and the number of
 * operator products it spent. Vectors are flat device arrays [n]; `apply` consumes its argument.
 */
import { DType, numpy as np, random, type Array as JArray } from "@jax-js/jax";
import { maxOf, minOf } from "../core/order.ts";
import { splitKey, type Key } from "../core/prng.ts";
import { treeDispose, treeLeaves, treeMap, treeRef, type Tree } from "../core/tree.ts";
import { hessianOperator } from "./hessian.ts";
import { symEig } from "./symEig.ts";

export { symEig };

export type LinearOperator = {
  dim: number;
  dtype: DType;
  /** A v for a flat v [dim] (consumed). */
  apply(v: JArray): JArray;
  /** Products so far. */
  products(): number;
  dispose(): void;
};

/** A dense symmetric matrix [n, n] (consumed) as an operator: for tests and small problems. */
export function denseOperator(a: JArray): LinearOperator {
  let count = 0;
  return {
    dim: a.shape[0],
    dtype: a.dtype,
    apply: (v) => {
      count++;
      return np.matmul(a.ref, v.reshape([-1, 1])).reshape([-1]);
    },
    products: () => count,
    dispose: () => a.dispose(),
  };
}

/** A tree as one flat vector (leaves in order); consumes t. */
export function flattenTree(t: Tree): JArray {
  const ls = treeLeaves(t).map((a) => a.reshape([-1]));
  return ls.length === 1 ? ls[0] : np.concatenate(ls);
}

/** A flat vector (consumed) in the shapes of `template` (not consumed). */
export function unflattenTree<P extends Tree>(v: JArray, template: P): P {
  let off = 0;
  const out = treeMap((x: JArray) => {
    const shape = x.shape;
    const size = x.size;
    x.dispose();
    const piece = v.ref.slice([off, off + size]).reshape(shape);
    off += size;
    return piece;
  }, treeRef(template));
  v.dispose();
  return out;
}

/** The Hessian of `loss` at `params` (consumed; `mask` only read) as a flat linear operator. */
export function hessianLinearOperator<P extends Tree>(loss: (p: P) => JArray, params: P, mask?: P): LinearOperator {
  const template = treeMap((x: JArray) => x, treeRef(params));
  const leaves = treeLeaves(template);
  const dim = leaves.reduce((a, x) => a + x.size, 0);
  const dtype = leaves[0].dtype;
  const H = hessianOperator(loss, params, mask);
  let count = 0;
  return {
    dim,
    dtype,
    apply: (v) => {
      count++;
      return flattenTree(H.apply(unflattenTree(v, template)));
    },
    products: () => count,
    dispose: () => {
      H.dispose();
      treeDispose(template);
    },
  };
}

/** A Rademacher vector (±1 entries) in the operator's dtype. Consumes the key. */
function rademacher(n: number, dtype: DType, key: Key): JArray {
  return random.rademacher(key, { shape: [n] }).astype(dtype);
}

const dot = async (a: JArray, b: JArray) => (await np.dot(a, b).data())[0];

/**
 * m Lanczos steps from the unit vector q0 (consumed), with full reorthogonalisation (twice, against every basis
 * vector): the tridiagonal's α (diagonal) and β (off-diagonal) and, when `keepBasis`, the basis rows [m, n].
 * Stops early on an invariant subspace (β ≈ 0).
 */
export async function lanczosTridiagonal(op: LinearOperator, q0: JArray, m: number, keepBasis = false): Promise<{ alpha: number[]; beta: number[]; basis: JArray | null }> {
  const n = op.dim;
  let Q = np.zeros([m, n], { dtype: op.dtype });
  let q = q0;
  const alpha: number[] = [];
  const beta: number[] = [];
  let rows = 0;
  try {
    for (let j = 0; j < m; j++) {
      const row = np.arange(m).equal(j).astype(op.dtype).reshape([m, 1]);
      Q = Q.add(row.mul(q.ref.reshape([1, n])));
      rows = j + 1;
      let w = op.apply(q);
      const c1 = np.matmul(Q.ref, w.ref.reshape([n, 1])).reshape([m]);
      w = w.sub(np.matmul(c1.ref.reshape([1, m]), Q.ref).reshape([n]));
      const c2 = np.matmul(Q.ref, w.ref.reshape([n, 1])).reshape([m]);
      w = w.sub(np.matmul(c2.ref.reshape([1, m]), Q.ref).reshape([n]));
      const [a1, a2] = [await c1.data(), await c2.data()];
      alpha.push(a1[j] + a2[j]);
      const b = Math.sqrt(Math.max(0, await dot(w.ref, w.ref)));
      if (j === m - 1 || !(b > 1e-10 * Math.max(1, Math.abs(alpha[j])))) {
        w.dispose();
        q = np.zeros([0]);
        break;
      }
      beta.push(b);
      q = w.mul(1 / b);
    }
  } finally {
    q.dispose();
  }
  if (!keepBasis) {
    Q.dispose();
    return { alpha, beta, basis: null };
  }
  return { alpha, beta, basis: rows === m ? Q : Q.slice([0, rows]) };
}

const tridiag = (alpha: number[], beta: number[]) => alpha.map((a, r) => alpha.map((_, c) => (r === c ? a : Math.abs(r - c) === 1 ? beta[Math.min(r, c)] : 0)));

export type TopEigen = { values: number[]; residuals: number[]; products: number; method: "lanczos" | "power" };

/**
 * The k largest eigenvalues (algebraic; for a trained network's Hessian the top, positive ones). "lanczos":
 * `steps` (default max(3k, k + 20), capped at n) Lanczos steps with full reorthogonalisation; residual bound
 * β_m·|s_mj| for each Ritz value. "power": power iteration with deflation against the eigenvectors found so far
 * (PyHessian), `iters` products per eigenvalue at most, stopping when the estimate changes by ≤ tol (relative);
 * it finds the k largest in |λ|. Consumes the key.
 */
export async function topEigenvalues(op: LinearOperator, k: number, opts: { key: Key; method?: "lanczos" | "power"; steps?: number; iters?: number; tol?: number }): Promise<TopEigen> {
  const method = opts.method ?? "lanczos";
  const start = op.products();
  if (method === "lanczos") {
    const m = Math.min(op.dim, opts.steps ?? Math.max(3 * k, k + 20));
    const q0 = rademacher(op.dim, op.dtype, opts.key).mul(1 / Math.sqrt(op.dim));
    const { alpha, beta } = await lanczosTridiagonal(op, q0, m);
    const { values, vectors } = symEig(tridiag(alpha, beta));
    const last = beta.length === alpha.length ? beta[beta.length - 1] : 0;
    const idx = values.map((_, i) => i).reverse().slice(0, k);
    return { values: idx.map((i) => values[i]), residuals: idx.map((i) => Math.abs(last * vectors[alpha.length - 1][i])), products: op.products() - start, method };
  }
  const iters = opts.iters ?? 100;
  const tol = opts.tol ?? 1e-4;
  const keys = splitKey(opts.key, k);
  const found: JArray[] = [];
  const values: number[] = [];
  const residuals: number[] = [];
  const orth = (v: JArray) => {
    for (const u of found) v = v.sub(u.ref.mul(np.dot(u.ref, v.ref)));
    return v;
  };
  const normalize = async (v: JArray) => v.mul(1 / Math.sqrt(await dot(v.ref, v.ref)));
  try {
    for (let e = 0; e < k; e++) {
      let v = await normalize(orth(rademacher(op.dim, op.dtype, keys[e])));
      let lambda = 0;
      let change = Infinity;
      for (let it = 0; it < iters; it++) {
        const w = orth(op.apply(v.ref));
        const next = await dot(v.ref, w.ref);
        change = Math.abs(next - lambda) / Math.max(Math.abs(next), 1e-30);
        lambda = next;
        v.dispose();
        v = await normalize(w);
        if (it > 0 && change <= tol) break;
      }
      found.push(v);
      values.push(lambda);
      residuals.push(change);
    }
  } finally {
    treeDispose(found);
  }
  return { values, residuals, products: op.products() - start, method };
}

export type Estimate = { estimate: number; se: number; products: number; samples: number };

const meanSe = (xs: number[]) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.length > 1 ? xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1) : NaN;
  return { m, se: Math.sqrt(v / xs.length) };
};

/** Hutchinson's trace estimate from m Rademacher probes (m products). Consumes the key. */
export async function hutchinsonTrace(op: LinearOperator, m: number, key: Key): Promise<Estimate> {
  const start = op.products();
  const keys = splitKey(key, m);
  const samples: number[] = [];
  for (const k of keys) {
    const z = rademacher(op.dim, op.dtype, k);
    samples.push(await dot(z.ref, op.apply(z)));
  }
  const { m: est, se } = meanSe(samples);
  return { estimate: est, se, products: op.products() - start, samples: m };
}

/** Hutchinson's diagonal estimate E[z ⊙ Az] from m probes, with per-entry standard errors. Consumes the key. */
export async function hutchinsonDiagonal(op: LinearOperator, m: number, key: Key): Promise<{ diag: Float64Array; se: Float64Array; products: number }> {
  const start = op.products();
  const sum = new Float64Array(op.dim);
  const sq = new Float64Array(op.dim);
  for (const k of splitKey(key, m)) {
    const z = rademacher(op.dim, op.dtype, k);
    const d = (await z.ref.mul(op.apply(z)).data()) as Float32Array;
    for (let i = 0; i < op.dim; i++) {
      sum[i] += d[i];
      sq[i] += d[i] * d[i];
    }
  }
  const diag = sum.map((s) => s / m);
  const se = sq.map((q, i) => Math.sqrt(Math.max(0, q / m - diag[i] ** 2) / Math.max(1, m - 1)));
  return { diag, se, products: op.products() - start };
}

/** Columns of A·[v_1 … v_s] as a device matrix [n, s] (s products). Consumes the vectors. */
function applyColumns(op: LinearOperator, vs: JArray[]): JArray {
  return np.stack(vs.map((v) => op.apply(v)), 1);
}

/** An orthonormal basis of the columns of Y [n, s] (consumed): modified Gram–Schmidt (twice), on the host in float64. */
async function orthonormalColumns(y: JArray): Promise<{ q: Float64Array; n: number; s: number; r: number[][] }> {
  const [n, s] = y.shape;
  const data = Float64Array.from((await y.data()) as ArrayLike<number>);
  const q = new Float64Array(n * s);
  const r = Array.from({ length: s }, () => new Array<number>(s).fill(0));
  for (let j = 0; j < s; j++) {
    const v = new Float64Array(n);
    for (let i = 0; i < n; i++) v[i] = data[i * s + j];
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < j; p++) {
        let c = 0;
        for (let i = 0; i < n; i++) c += q[i * s + p] * v[i];
        r[p][j] += c;
        for (let i = 0; i < n; i++) v[i] -= c * q[i * s + p];
      }
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += v[i] * v[i];
    norm = Math.sqrt(norm);
    r[j][j] = norm;
    for (let i = 0; i < n; i++) q[i * s + j] = norm > 0 ? v[i] / norm : 0;
  }
  return { q, n, s, r };
}

/**
 * Hutch++ (Meyer et al. 2021, Alg. 1) with m products (m divisible by 3): S and G with m/3 Rademacher columns
 * each; Q = orth(A S); tr ≈ tr(QᵀAQ) + (3/m)·Σ_g gᵀ(I − QQᵀ)A(I − QQᵀ)g. The standard error is the
 * Hutchinson part's. Consumes the key.
 */
export async function hutchPlusPlus(op: LinearOperator, m: number, key: Key): Promise<Estimate> {
  const start = op.products();
  const s = Math.max(1, Math.floor(m / 3));
  const [ks, kg] = splitKey(key, 2);
  const n = op.dim;
  const sk = splitKey(ks, s);
  const { q } = await orthonormalColumns(applyColumns(op, sk.map((k) => rademacher(n, op.dtype, k))));
  const Q = np.array(Float32Array.from(q) as Float32Array<ArrayBuffer>, { shape: [n, s] }).astype(op.dtype);
  let lowRank = 0;
  for (let j = 0; j < s; j++) {
    const col = Q.ref.slice([], [j, j + 1]).reshape([n]);
    lowRank += await dot(col.ref, op.apply(col));
  }
  const project = (v: JArray) => v.ref.sub(np.matmul(Q.ref, np.matmul(v.reshape([1, n]), Q.ref).reshape([s, 1])).reshape([n]));
  const samples: number[] = [];
  for (const k of splitKey(kg, s)) {
    const g = project(rademacher(n, op.dtype, k));
    samples.push(await dot(g.ref, project(op.apply(g))));
  }
  Q.dispose();
  const { m: rest, se } = meanSe(samples);
  return { estimate: lowRank + rest, se, products: op.products() - start, samples: s };
}

/**
 * XTrace (Epperly, Tropp & Webber 2024) with m products (m even): Ω with m/2 Rademacher columns, Y = AΩ,
 * Q = orth(Y), Z = AQ. For each i, the leave-one-out basis Q_i spans the columns of Y other than i, and
 *   t_i = tr(Q_iᵀ A Q_i) + ω_iᵀ(I − Q_iQ_iᵀ) A (I − Q_iQ_iᵀ)ω_i
 * is computed exactly from the small matrices R (Y = QR), H = QᵀZ, W = QᵀΩ and T = ZᵀΩ (A symmetric), so no
 * further products; the estimate is the mean of the t_i and its standard error their sample sd / √(m/2).
 * Consumes the key.
 */
export async function xtrace(op: LinearOperator, m: number, key: Key): Promise<Estimate> {
  const start = op.products();
  const s = Math.max(2, Math.floor(m / 2));
  const n = op.dim;
  const omegas = splitKey(key, s).map((k) => rademacher(n, op.dtype, k));
  const omegaHost = await Promise.all(omegas.map(async (w) => Float64Array.from((await w.ref.data()) as ArrayLike<number>)));
  const y = applyColumns(op, omegas);
  const yHost = Float64Array.from((await y.ref.data()) as ArrayLike<number>);
  const { q, r } = await orthonormalColumns(y);
  const Q = np.array(Float32Array.from(q) as Float32Array<ArrayBuffer>, { shape: [n, s] }).astype(op.dtype);
  const zCols = Array.from({ length: s }, (_, j) => op.apply(Q.ref.slice([], [j, j + 1]).reshape([n])));
  Q.dispose();
  const zHost = await Promise.all(zCols.map(async (z) => Float64Array.from((await z.data()) as ArrayLike<number>)));
  const col = (mat: Float64Array, j: number) => Float64Array.from({ length: n }, (_, i) => mat[i * s + j]);
  const qCols = Array.from({ length: s }, (_, j) => col(q, j));
  const yCols = Array.from({ length: s }, (_, j) => col(yHost, j));
  const vdot = (a: Float64Array, b: Float64Array) => a.reduce((acc, v, i) => acc + v * b[i], 0);
  const H = qCols.map((qa) => zHost.map((zb) => vdot(qa, zb))); // H[a][b] = q_aᵀ z_b
  const W = qCols.map((qa) => omegaHost.map((w) => vdot(qa, w))); // W[a][i] = q_aᵀ ω_i
  const T = zHost.map((za) => omegaHost.map((w) => vdot(za, w))); // T[a][i] = z_aᵀ ω_i = (Qᵀ A ω_i)_a
  const samples: number[] = [];
  for (let i = 0; i < s; i++) {
    // C_i: an orthonormal basis (coordinates in Q) of R's columns other than i
    const basis: number[][] = [];
    for (let j = 0; j < s; j++) {
      if (j === i) continue;
      let v = r.map((row) => row[j]);
      for (let pass = 0; pass < 2; pass++) for (const b of basis) {
        const c = b.reduce((acc, x, t) => acc + x * v[t], 0);
        v = v.map((x, t) => x - c * b[t]);
      }
      const nv = Math.sqrt(v.reduce((acc, x) => acc + x * x, 0));
      if (nv > 1e-12) basis.push(v.map((x) => x / nv));
    }
    let trLow = 0;
    for (const b of basis) for (let a = 0; a < s; a++) for (let c = 0; c < s; c++) trLow += b[a] * H[a][c] * b[c];
    // c = C_i C_iᵀ w_i (coordinates of the projection of ω_i), r = ω_i − Q c
    const wi = W.map((row) => row[i]);
    const cVec = new Array<number>(s).fill(0);
    for (const b of basis) {
      const coef = b.reduce((acc, x, t) => acc + x * wi[t], 0);
      for (let t = 0; t < s; t++) cVec[t] += coef * b[t];
    }
    const omegaAOmega = vdot(omegaHost[i], yCols[i]);
    let cTz = 0;
    for (let a = 0; a < s; a++) cTz += cVec[a] * T[a][i];
    let cHc = 0;
    for (let a = 0; a < s; a++) for (let c = 0; c < s; c++) cHc += cVec[a] * H[a][c] * cVec[c];
    samples.push(trLow + omegaAOmega - 2 * cTz + cHc);
  }
  const { m: est, se } = meanSe(samples);
  return { estimate: est, se, products: op.products() - start, samples: s };
}

export type SpectralDensity = {
  /** Per run: Ritz values and their weights (summing to 1). */
  nodes: number[][];
  weights: number[][];
  /** The smoothed density on a grid (Gaussian kernel of width sigma), integrating to ≈ 1. */
  grid: number[];
  density: number[];
  products: number;
  /** n · (mean over runs of Σ_j w_j θ_j): the SLQ estimate of tr(A). */
  trace: number;
  traceSe: number;
};

/**
 * Stochastic Lanczos quadrature (Ubaru, Chen & Saad 2017; PyHessian's `density`): `runs` random Rademacher
 * starts, `steps` Lanczos steps each (full reorthogonalisation); nodes θ_j and weights τ_j² of each run's
 * tridiagonal; the density is their Gaussian-smoothed average. Consumes the key.
 */
export async function slqDensity(op: LinearOperator, opts: { key: Key; runs?: number; steps?: number; gridPoints?: number; sigma?: number }): Promise<SpectralDensity> {
  const runs = opts.runs ?? 5;
  const steps = Math.min(op.dim, opts.steps ?? 80);
  const start = op.products();
  const nodes: number[][] = [];
  const weights: number[][] = [];
  for (const k of splitKey(opts.key, runs)) {
    const q0 = rademacher(op.dim, op.dtype, k).mul(1 / Math.sqrt(op.dim));
    const { alpha, beta } = await lanczosTridiagonal(op, q0, steps);
    const { values, vectors } = symEig(tridiag(alpha, beta));
    nodes.push(values);
    weights.push(vectors[0].map((v) => v * v));
  }
  const all = nodes.flat();
  const lo = minOf(all);
  const hi = maxOf(all);
  const pad = 0.05 * Math.max(hi - lo, 1e-12);
  const gp = opts.gridPoints ?? 400;
  const sigma = opts.sigma ?? Math.max((hi - lo) / 100, 1e-12);
  const grid = Array.from({ length: gp }, (_, i) => lo - pad + ((hi - lo + 2 * pad) * i) / (gp - 1));
  const density = grid.map((t) => {
    let d = 0;
    nodes.forEach((ns, r) => ns.forEach((th, j) => (d += (weights[r][j] * Math.exp(-((t - th) ** 2) / (2 * sigma * sigma))) / (sigma * Math.sqrt(2 * Math.PI)))));
    return d / runs;
  });
  const perRun = nodes.map((ns, r) => op.dim * ns.reduce((a, th, j) => a + weights[r][j] * th, 0));
  const { m: trace, se: traceSe } = meanSe(perRun);
  return { nodes, weights, grid, density, products: op.products() - start, trace, traceSe };
}

/** The 1-Wasserstein distance between a weighted discrete measure and the empirical measure of `values`. */
export function wasserstein1(nodes: number[], weights: number[], values: ArrayLike<number>): number {
  const a = nodes.map((x, i) => [x, weights[i]] as [number, number]).sort((p, q) => p[0] - q[0]);
  const wa = a.reduce((s, p) => s + p[1], 0);
  const b = Array.from(values).sort((p, q) => p - q);
  const pts = [...a.map((p) => p[0]), ...b].sort((p, q) => p - q);
  let ia = 0;
  let ib = 0;
  let fa = 0;
  let fb = 0;
  let dist = 0;
  for (let t = 0; t < pts.length - 1; t++) {
    while (ia < a.length && a[ia][0] <= pts[t]) fa += a[ia++][1] / wa;
    while (ib < b.length && b[ib] <= pts[t]) fb += 1 / b.length, ib++;
    dist += Math.abs(fa - fb) * (pts[t + 1] - pts[t]);
  }
  return dist;
}
