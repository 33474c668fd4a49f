/**
 * Hessian measures by Hessian-vector products, never by materialising the Hessian.
 *
 * `hessianOperator` linearizes ∇L once at θ (one traced forward + backward) and returns the linear map
 * v ↦ H v; applying it again costs about one forward-over-backward pass. DEPS.md measured this ~10×
 * faster than a fresh `jit(jvp(grad))` per product. `topHessianEigenvalue` runs power iteration on it
 * (it converges to the eigenvalue of largest |λ|, which for a trained network's loss is the top,
 * positive one: the sharpness of Cohen et al. 2021 / Keskar et al. 2017).
 *
 * `mask` (same tree as the parameters, 1 on real entries, 0 on storage padding) restricts the operator
 * to the real coordinates: padded hidden units of an activation with φ'(0) ≠ 0 (tanh, GELU, identity)
 * add Hessian directions that the unpadded network does not have (see mlpPaddingMask in nn/dense.ts).
 */
import { grad, jit, linearize, numpy as np, random, type Array } from "@jax-js/jax";
import { splitKey, type Key } from "../core/prng.ts";
import { treeDispose, treeLeaves, treeMap, treeRef, treeScale, treeVdot, type Tree } from "../core/tree.ts";

export type HessianOperator<P extends Tree> = {
  /** H v; consumes v. */
  apply(v: P): P;
  dispose(): void;
};

const maskTree = <P extends Tree>(v: P, mask: P | undefined): P => (mask ? treeMap((a: Array, m: Array) => a.mul(m), v, treeRef(mask)) : v);

/** The Hessian of `loss` at `params` as a linear operator. Consumes params (not mask). */
export function hessianOperator<P extends Tree>(loss: (p: P) => Array, params: P, mask?: P): HessianOperator<P> {
  const [g, lin] = linearize(grad(loss as never) as never, [params] as never) as unknown as [Tree, ((v: P) => P) & { dispose(): void }];
  treeDispose(g);
  const applyLin = jit(((v: P) => maskTree(lin(maskTree(v, mask)), mask)) as never) as unknown as ((v: P) => P) & { dispose(): void };
  return {
    apply: (v) => applyLin(v),
    dispose: () => {
      applyLin.dispose();
      lin.dispose();
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
    treeMap((x: Array) => random.normal(keys[i++], x.shape), treeRef(params)),
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
