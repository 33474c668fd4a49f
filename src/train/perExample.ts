/**
 * Per-example gradients by vmap(grad): every leaf gets a leading [m, …] axis. `loss(params, x, y)` is the
 * mean loss of a batch; it is called on batches of one. Used by the training loop for per-example
 * optimizers (optim/robust.ts) and by gradient coherence (scores/coherence.ts). Consumes params, x and y.
 * Memory: m × #params floats.
 */
import { grad, vmap, type Array } from "@jax-js/jax";
import type { Tree } from "../core/tree.ts";

export function perExampleGradients<P extends Tree>(loss: (p: P, x: Array, y: Array) => Array, params: P, x: Array, y: Array): P {
  const one = (pp: P, xi: Array, yi: Array) => grad((q: P) => loss(q, xi.reshape([1, ...xi.shape]), yi.reshape([1, ...yi.shape])))(pp as never);
  return (vmap as unknown as (f: unknown, axes: unknown) => (...a: unknown[]) => P)(one, [null, 0, 0])(params, x, y);
}
