/**
 * The empirical neural tangent kernel and kernel–target alignment (Kumar, Bordelon, Gershman, Pehlevan,
 * ICLR 2024, "Grokking as the transition from lazy to rich training dynamics"; Cristianini et al. 2001).
 *
 *   K(x, x') = ⟨∇_θ f(x; θ), ∇_θ f(x'; θ)⟩,   A(K, y) = y_cᵀ K_c y_c / (‖K_c‖_F ‖y_c‖²),
 *
 * with y_c = y − mean(y) and K_c = K − colmean(K) (the authors' notebook `kalignment`). A rises while a
 * network moves from the lazy (kernel) regime to the rich (feature-learning) one.
 *
 * `ntkFeatures` materialises J = ∇_θ f(x; θ) ([n, #params], vmap of grad), which is also the linearised
 * model: f(θ₀) + J(θ − θ₀) is a linear model on the features J, so the lazy-regime baseline of a network is
 * linear regression on its NTK features trained the same way (see experiments/paper25).
 */
import { grad, numpy as np, vmap, type Array } from "@jax-js/jax";
import { treeLeaves, type Tree } from "../core/tree.ts";
import type { Monitor } from "../train/monitors.ts";

/** A model with one scalar output per row: f(params, x [n, …]) → [n]. Consumes both. */
export type ScalarModel<P extends Tree> = (params: P, x: Array) => Array;

/** J = ∇_θ f(x; θ) for every row: [n, #params] (leaves flattened in tree order). Consumes params and x. */
export function ntkFeatures<P extends Tree>(f: ScalarModel<P>, params: P, x: Array): Array {
  const one = (p: P, xi: Array) => grad((q: P) => f(q, xi.reshape([1, ...xi.shape])).sum())(p as never);
  const g = (vmap as unknown as (fn: unknown, axes: unknown) => (...a: unknown[]) => Tree)(one, [null, 0])(params, x);
  const leaves = treeLeaves(g);
  const n = leaves[0].shape[0];
  const flat = leaves.map((l) => l.reshape([n, l.size / n]));
  return flat.length === 1 ? flat[0] : np.concatenate(flat, 1);
}

/** Empirical NTK K = J Jᵀ on the rows of x: [n, n]. Consumes params and x. */
export function empiricalNtk<P extends Tree>(f: ScalarModel<P>, params: P, x: Array): Array {
  const j = ntkFeatures(f, params, x);
  return np.matmul(j.ref, j.transpose());
}

/** A(K, y) = y_cᵀ K_c y_c / (‖K_c‖_F ‖y_c‖²) with K_c = K − colmean(K). Consumes K and y. */
export function kernelTargetAlignment(K: Array, y: Array): Array {
  const n = y.shape[0];
  const yc = y.ref.sub(y.mean());
  const kc = K.ref.sub(K.mean(0).reshape([1, n]));
  const quad = np.matmul(np.matmul(yc.ref.reshape([1, n]), kc.ref), yc.ref.reshape([n, 1])).reshape([]);
  const fro = np.sqrt(np.square(kc).sum());
  return quad.div(fro.mul(np.square(yc).sum()));
}

/** A kernel function of the parameters: (params, x [n, …]) → K [n, n]. Consumes both. */
export type KernelFn<P extends Tree> = (params: P, x: Array) => Array;

/**
 * A training monitor: the alignment of the NTK on a fixed probe (x, y) with its targets, as
 * `ntk_alignment`. Attach it to any ctx.train of a scalar-output model: give the model (the empirical NTK
 * by autodiff) or the model's analytic NTK as `kernel` (cheaper; nn/twoLayer.ts has one). The probe moves
 * to the device at each measure.
 */
export function ntkAlignmentMonitor<P extends Tree>(how: { model: ScalarModel<P> } | { kernel: KernelFn<P> }, probe: { x: Float32Array<ArrayBuffer>; xShape: number[]; y: Float32Array<ArrayBuffer> }, name = "ntk_alignment"): Monitor {
  const kernel: KernelFn<P> = "kernel" in how ? how.kernel : (p, x) => empiricalNtk(how.model, p, x);
  return {
    id: name,
    measure(params) {
      const x = np.array(probe.x, { shape: probe.xShape });
      const y = np.array(probe.y, { shape: [probe.y.length] });
      return { [name]: kernelTargetAlignment(kernel(params as P, x), y) };
    },
  };
}
