/**
 * Hessian measures by Hessian-vector products, never by materialising the Hessian.
 *
 * `hessianOperator` returns v ↦ H v computed reverse-over-forward, H v = ∇_θ ⟨∇L(θ), v⟩ =
 * grad(θ ↦ jvp(L, θ, v)), jitted once per operator and reused for every product. Measured on the W1
 * MLP (4,704 × 194→256→97, jax-js 0.1.25, one thread) per product: grad(jvp) 179 ms (2.5 gradient
 * costs), linearize(grad) once then apply 885 ms, jit(jvp(grad)) 1,270 ms, jit(vjp(grad)) 4,700 ms: the
 * forward-over-reverse forms make jax-js emit transposed, broadcast matmul operands that leave its SIMD
 * path, so genlab uses reverse-over-forward. `topHessianEigenvalue` runs power iteration on it
 * (it converges to the eigenvalue of largest |λ|, which for a trained network's loss is the top,
 * positive one: the sharpness of Cohen et al. 2021 / Keskar et al. 2017).
 *
 * `mask` (same tree as the parameters, 1 on real entries, 0 on storage padding) restricts the operator
 * to the real coordinates: padded hidden units of an activation with φ'(0) ≠ 0 (tanh, GELU, identity)
 * add Hessian directions that the unpadded network does not have (see mlpPaddingMask in nn/dense.ts).
 */
import { grad, jit, jvp, numpy as np, random, type Array } from "@jax-js/jax";
import { splitKey, type Key } from "../core/prng.ts";
import { treeDispose, treeLeaves, treeMap, treeRef, treeScale, treeVdot, type Tree } from "../core/tree.ts";

/** Stable id of the top-eigenvalue measure (STYLE.md). */
export const HESSIAN_TOP_EIG_ID = "hessian_top_eig";

export type HessianOperator<P extends Tree> = {
  /** H v; consumes v. */
  apply(v: P): P;
  dispose(): void;
};

const maskTree = <P extends Tree>(v: P, mask: P | undefined): P => (mask ? treeMap((a: Array, m: Array) => a.mul(m), v, treeRef(mask)) : v);

type Hvp = ((p: Tree, v: Tree) => Tree) & { dispose(): void };

/**
 * The Hessian of `loss` at `params` as a linear operator: v ↦ H v, jit(θ, v ↦ grad(θ ↦ jvp(L, θ, v)))
 * compiled once for the operator's lifetime. `loss` must be jit-safe (no data reads). dispose() releases
 * params and the compiled function (which holds the arrays `loss` closes over). Consumes params (not mask).
 */
export function hessianOperator<P extends Tree>(loss: (p: P) => Array, params: P, mask?: P): HessianOperator<P> {
  const hvp = jit(((p: P, v: P) => grad((pp: P) => (jvp(loss as never, [pp] as never, [v] as never) as unknown as [Array, Array])[1])(p as never)) as never) as unknown as Hvp;
  return {
    apply: (v) => maskTree(hvp(treeRef(params), maskTree(v, mask)) as P, mask),
    dispose: () => {
      hvp.dispose();
      treeDispose(params);
    },
  };
}

export type EigenResult = {
  /** Rayleigh quotient vᵀHv of the last iterate (unit v). */
  eigenvalue: number;
  /** Rayleigh quotient after each iteration (for convergence plots / checks). */
  history: number[];
  iterations: number;
};

/**
 * Top Hessian eigenvalue (largest |λ|) by power iteration from a random start drawn from `key`.
 * Stops after `iters` products or when successive estimates agree to `tol` (relative). Consumes params
 * and key (not mask).
 */
export async function topHessianEigenvalue<P extends Tree>(
  loss: (p: P) => Array,
  params: P,
  opts: { key: Key; iters?: number; tol?: number; mask?: P },
): Promise<EigenResult> {
  const iters = opts.iters ?? 20;
  const tol = opts.tol ?? 0;
  const leaves = treeLeaves(params);
  const keys = splitKey(opts.key, leaves.length);
  let i = 0;
  let v = maskTree(
    treeMap((x: Array) => {
      const shape = x.shape;
      x.dispose(); // only the shape is needed
      return random.normal(keys[i++], shape);
    }, treeRef(params)),
    opts.mask,
  );
  v = treeScale(v, np.reciprocal(np.sqrt(treeVdot(treeRef(v), treeRef(v)))));
  const H = hessianOperator(loss, params, opts.mask);
  const history: number[] = [];
  try {
    for (let it = 0; it < iters; it++) {
      const w = H.apply(treeRef(v));
      const lambda = (await treeVdot(treeRef(v), treeRef(w)).data())[0];
      treeDispose(v);
      history.push(lambda);
      const norm = np.sqrt(treeVdot(treeRef(w), treeRef(w)));
      v = treeScale(w, np.reciprocal(norm));
      const n = history.length;
      if (tol > 0 && n > 1 && Math.abs(history[n - 1] - history[n - 2]) <= tol * Math.abs(history[n - 1])) break;
    }
  } finally {
    treeDispose(v);
    H.dispose();
  }
  return { eigenvalue: history[history.length - 1], history, iterations: history.length };
}
