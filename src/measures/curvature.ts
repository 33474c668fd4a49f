/**
 * Curvature operators beside the Hessian (measures/spectral.ts takes any of them), for a classifier trained
 * with softmax cross-entropy, as curvlinops and BackPACK define them:
 *
 *   generalised Gauss–Newton  G = (1/n) Σ_i J_iᵀ H_i J_i, J_i = ∂f(x_i)/∂θ the logits' Jacobian and
 *                             H_i = diag(p_i) − p_i p_iᵀ the cross-entropy's Hessian in the logits (Schraudolph
 *                             2002; Martens 2020). G v = one jvp, a C×C product per example, one vjp.
 *   empirical Fisher          F = (1/n) Σ_i g_i g_iᵀ, g_i = ∇_θ ℓ_i. F v = one jvp of the per-example losses, one
 *                             vjp (no per-example gradient is formed).
 *   exact GGN diagonal        diag(G) = (1/n) Σ_i Σ_c (J_iᵀ s_ic)², H_i = S_i S_iᵀ with S_i = diag(√p_i) − p_i √p_iᵀ:
 *                             C per-example vector–Jacobian products (vmap, in row chunks).
 *
 * Operators are flat (they act on the concatenated parameter vector) and count their products.
 */
import { DType, grad, jit, jvp, nn, numpy as np, vjp, vmap, type Array } from "@jax-js/jax";
import { treeDispose, treeLeaves, treeMap, treeRef, type Tree } from "../core/tree.ts";
import type { Dataset } from "../data/dataset.ts";
import { flattenTree, unflattenTree, type LinearOperator } from "./spectral.ts";

export type Logits = (params: Tree, x: Array) => Array;

function device(data: Dataset): { x: Array; y: Array } {
  const x = np.array(data.x as Float32Array<ArrayBuffer>, { shape: data.xShape });
  const y = np.array(data.y as Int32Array<ArrayBuffer>, { dtype: DType.Int32 });
  return { x, y };
}

function operatorOf(params: Tree, product: (p: Tree, v: Tree) => Tree, dispose: () => void): LinearOperator {
  const template = treeMap((a: Array) => a, treeRef(params));
  const leaves = treeLeaves(template);
  const dim = leaves.reduce((s, a) => s + a.size, 0);
  let count = 0;
  return {
    dim,
    dtype: leaves[0].dtype,
    apply: (v) => {
      count++;
      return flattenTree(product(treeRef(params), unflattenTree(v, template)));
    },
    products: () => count,
    dispose: () => {
      treeDispose([params, template]);
      dispose();
    },
  };
}

/** The GGN of the mean cross-entropy over `data` at `params` (consumed by dispose) as a flat operator. `x` may be given already on the device. */
export function ggnOperator(f: Logits, params: Tree, data: Dataset | { x: Array; y: Array }): LinearOperator {
  const { x, y } = "xShape" in data ? device(data) : data;
  const n = x.shape[0];
  const product = jit((p: Tree, v: Tree, xb: Array, yb: Array) => {
    yb.dispose();
    const [z, jz] = jvp((q: Tree) => f(q, xb.ref), [treeRef(p)] as never, [v] as never) as unknown as [Array, Array];
    const prob = nn.softmax(z, -1);
    // H Jv per example: p ⊙ Jv − p (pᵀ Jv)
    const hv = prob.ref.mul(jz.ref).sub(prob.ref.mul(prob.mul(jz).sum(-1, { keepdims: true })));
    const [out, pull] = vjp((q: Tree) => f(q, xb), [p] as never) as unknown as [Array, ((ct: Array) => Tree[]) & { dispose(): void }];
    out.dispose();
    const g = pull(hv.mul(1 / n))[0];
    pull.dispose();
    return g;
  }) as unknown as ((p: Tree, v: Tree, x: Array, y: Array) => Tree) & { dispose(): void };
  return operatorOf(params, (p, v) => product(p, v, x.ref, y.ref), () => {
    product.dispose();
    treeDispose([x, y]);
  });
}

/** The empirical Fisher (1/n) Σ g_i g_iᵀ of the cross-entropy over `data` at `params` as a flat operator. */
export function empiricalFisherOperator(f: Logits, params: Tree, data: Dataset | { x: Array; y: Array }): LinearOperator {
  const { x, y } = "xShape" in data ? device(data) : data;
  const n = x.shape[0];
  const losses = (q: Tree, xb: Array, yb: Array) => {
    const z = f(q, xb);
    const c = z.shape[z.ndim - 1];
    return nn.logSoftmax(z, -1).mul(nn.oneHot(yb, c).astype(z.dtype)).sum(-1).neg();
  };
  const product = jit((p: Tree, v: Tree, xb: Array, yb: Array) => {
    const [l, jl] = jvp((q: Tree) => losses(q, xb.ref, yb.ref), [treeRef(p)] as never, [v] as never) as unknown as [Array, Array];
    l.dispose();
    const [out, pull] = vjp((q: Tree) => losses(q, xb, yb), [p] as never) as unknown as [Array, ((ct: Array) => Tree[]) & { dispose(): void }];
    out.dispose();
    const g = pull(jl.mul(1 / n))[0];
    pull.dispose();
    return g;
  }) as unknown as ((p: Tree, v: Tree, x: Array, y: Array) => Tree) & { dispose(): void };
  return operatorOf(params, (p, v) => product(p, v, x.ref, y.ref), () => {
    product.dispose();
    treeDispose([x, y]);
  });
}

/**
 * The exact diagonal of the GGN: for every class c, per-example vector–Jacobian products with the columns of
 * S_i (vmap over rows, `chunk` rows at a time), squared and summed. Host Float64Array in flat parameter order.
 * Params only read.
 */
export async function ggnDiagonal(f: Logits, params: Tree, data: Dataset, chunk = 64): Promise<Float64Array> {
  const n = data.xShape[0];
  const d = data.xShape.slice(1).reduce((a, b) => a * b, 1);
  const dim = treeLeaves(params).reduce((s, a) => s + a.size, 0);
  const out = new Float64Array(dim);
  const perExample = jit((p: Tree, xb: Array) => {
    // for one example: z [C], S = diag(√p) − p √pᵀ, rows of Sᵀ J = (J_iᵀ s_ic)_c stacked: [C, dim]
    const one = (xi: Array) => {
      const x1 = xi.reshape([1, ...xi.shape]);
      const [z, pull] = vjp((q: Tree) => f(q, x1.ref).reshape([-1]), [treeRef(p)] as never) as unknown as [Array, ((ct: Array) => Tree[]) & { dispose(): void }];
      x1.dispose();
      const c = z.shape[0];
      const prob = nn.softmax(z, -1);
      const sq = np.sqrt(prob.ref);
      const s = np.diag(sq.ref).sub(prob.reshape([c, 1]).mul(sq.reshape([1, c])));
      let acc: Array | null = null;
      for (let k = 0; k < c; k++) {
        const col = s.ref.slice([], [k, k + 1]).reshape([c]);
        const g = flattenTree(pull(col)[0]);
        acc = acc ? acc.add(np.square(g)) : np.square(g);
      }
      s.dispose();
      pull.dispose();
      return acc!;
    };
    const r = (vmap as unknown as (fn: unknown, axes: unknown) => (x: Array) => Array)(one, [0])(xb).sum(0);
    treeDispose(p);
    return r;
  }) as unknown as ((p: Tree, x: Array) => Array) & { dispose(): void };
  try {
    for (let s = 0; s < n; s += chunk) {
      const e = Math.min(n, s + chunk);
      const xb = np.array((data.x as Float32Array<ArrayBuffer>).subarray(s * d, e * d), { shape: [e - s, ...data.xShape.slice(1)] });
      const part = (await perExample(treeRef(params), xb).data()) as Float32Array;
      for (let i = 0; i < dim; i++) out[i] += part[i] / n;
    }
  } finally {
    perExample.dispose();
  }
  return out;
}

/**
 * EWC's diagonal importance as the official rehearsal-free continual-learning code estimates it (Smith et al. 2023,
 * `learners/kd.py` accumulate_block_memory; Kirkpatrick et al. 2017): over minibatches of `batch` rows in order, the
 * squared gradient of the minibatch's mean loss at the true labels, times the batch's size, averaged over the batches
 * (the last, smaller one included) —
 * an approximation of the empirical Fisher diag((1/n) Σ g_i g_iᵀ) (exact for batch 1). Returns a host Float64Array
 * per leaf of `params` (tree order); params are only read. The loss consumes its arguments.
 */
export async function minibatchFisherDiagonal<P extends Tree>(loss: (params: P, x: Array, y: Array) => Array, params: P, data: Dataset, batch: number): Promise<Float64Array[]> {
  const n = data.xShape[0];
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`minibatchFisherDiagonal: batch must be an integer ≥ 1, got ${batch}`);
  const d = data.xShape.slice(1).reduce((a, b) => a * b, 1);
  const sizes = treeLeaves(params).map((a) => a.size);
  const out = sizes.map((s) => new Float64Array(s));
  const g = jit((p: P, xb: Array, yb: Array) => grad((q: P) => loss(q, xb, yb))(p as never)) as unknown as ((p: P, x: Array, y: Array) => Tree) & { dispose(): void };
  const batches = Math.ceil(n / batch);
  try {
    for (let b = 0; b < batches; b++) {
      const s = b * batch;
      const e = Math.min(n, s + batch);
      const xb = np.array((data.x as Float32Array<ArrayBuffer>).subarray(s * d, e * d), { shape: [e - s, ...data.xShape.slice(1)] });
      const yb = np.array((data.y as Int32Array<ArrayBuffer>).subarray(s, e), { dtype: DType.Int32 });
      const leaves = treeLeaves(g(treeRef(params), xb, yb));
      // read every leaf (each read consumes it) before accumulating, so that a failed read leaks nothing
      const values = await Promise.all(leaves.map(async (l) => (await l.data()) as Float32Array));
      values.forEach((v, i) => {
        for (let j = 0; j < v.length; j++) out[i][j] += v[j] * v[j] * (e - s);
      });
    }
  } finally {
    g.dispose();
  }
  for (const o of out) for (let j = 0; j < o.length; j++) o[j] /= batches;
  return out;
}
