/**
 * Robust gradient aggregation (Chatterjee & Zielinski, "On the generalization mystery in deep learning",
 * 2022, §5: suppressing weak gradient directions reduces memorisation). Each is an Optax-style transform
 * whose input is the per-example gradients of a minibatch (every leaf [B, …]) and whose output is one
 * ordinary gradient, so it composes with the rest: chain(winsorize(2), scaleByLearningRate(0.1)).
 *
 *   winsorize(c):      per coordinate j, clip every gᵢⱼ to [c-th smallest, c-th largest] of the batch,
 *                      then average (c = 1 is the plain mean).
 *   medianOfMeans(k):  split the batch into k consecutive groups, average each, take the coordinate-wise
 *                      median of the k means (RM3 for k = 3).
 *
 * The order statistics are computed with max/where passes (c or k of them), not a sort: jax-js cannot
 * jit its sort routine, and c, k are small.
 */
import { numpy as np, type Array } from "@jax-js/jax";
import { kthLargest, kthSmallest, medianAxis0 } from "../core/order.ts";
import { treeDispose, treeMap, type Tree } from "../core/tree.ts";

export { kthLargest, kthSmallest, medianAxis0 };
import type { GradientTransformation, OptState } from "./transform.ts";

/** Clip each coordinate to its batch's [c-th smallest, c-th largest] and average over the batch. Consumes g. */
export function winsorizedMean(g: Array, c: number): Array {
  if (c === 1) return g.mean(0);
  const hi = kthLargest(g.ref, c);
  const lo = kthSmallest(g.ref, c);
  const sh = [1, ...g.shape.slice(1)];
  return np.minimum(np.maximum(g, lo.reshape(sh)), hi.reshape(sh)).mean(0);
}

/** Coordinate-wise median of the means of k consecutive groups of the batch (B divisible by k). Consumes g. */
export function medianOfMeansAxis0(g: Array, k: number): Array {
  const b = g.shape[0];
  if (!(Number.isInteger(k) && k >= 1 && b % k === 0)) {
    g.dispose();
    throw new RangeError(`medianOfMeans: the batch of ${b} must split into k = ${k} equal groups`);
  }
  const means = g.reshape([k, b / k, ...g.shape.slice(1)]).mean(1);
  return medianAxis0(means);
}

const aggregator = (f: (g: Array) => Array): GradientTransformation => ({
  perExample: true,
  init(params: Tree): OptState {
    treeDispose(params);
    return [];
  },
  update(u, s, p) {
    treeDispose(p);
    return [treeMap((g) => f(g), u), s];
  },
});

/** Winsorized gradient (per coordinate, clip to the c-th order statistics of the batch, then average). */
export function winsorize(c: number): GradientTransformation {
  if (!(Number.isInteger(c) && c >= 1)) throw new RangeError(`winsorize: c must be an integer ≥ 1, got ${c}`);
  return aggregator((g) => winsorizedMean(g, c));
}

/** Median of k group means, coordinate-wise (RM3: k = 3). */
export function medianOfMeans(k: number): GradientTransformation {
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`medianOfMeans: k must be an integer ≥ 1, got ${k}`);
  return aggregator((g) => medianOfMeansAxis0(g, k));
}

/** The plain mean of per-example gradients (the control: equals the gradient of the mean loss). */
export function meanAggregate(): GradientTransformation {
  return aggregator((g) => g.mean(0));
}
