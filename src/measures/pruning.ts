/**
 * Structured pruning of hidden units without retraining (Doshi et al. 2024 Sec. 2.1, Fig. 6): zero a
 * unit's incoming weights, bias and outgoing weights, then re-measure. Ranking the units by a score (the
 * Fourier IPR of measures/fourier.ts) and pruning from either end separates memorising from generalising
 * units.
 */
import { numpy as np } from "@jax-js/jax";
import type { MlpParams } from "../nn/dense.ts";

/**
 * Zero the hidden units of `layer` (its output columns, bias entries and the next layer's input rows)
 * where keep[k] = 0. keep has one entry per true unit; storage-padding units are left as they are (zero).
 * Consumes params.
 */
export function maskHiddenUnits(params: MlpParams, keep: ArrayLike<number>, layer = 0): MlpParams {
  const layers = params.layers;
  if (layer < 0 || layer >= layers.length - 1) {
    const n = layers.length;
    for (const l of layers) l.w.dispose(), l.b?.dispose();
    throw new RangeError(`maskHiddenUnits: layer ${layer} has no next layer in a ${n}-layer network`);
  }
  const width = layers[layer].w.shape[1];
  if (keep.length > width) {
    for (const l of layers) l.w.dispose(), l.b?.dispose();
    throw new RangeError(`maskHiddenUnits: ${keep.length} keep flags for a layer of ${width} units`);
  }
  const m = new Float32Array(new ArrayBuffer(width * 4));
  for (let k = 0; k < width; k++) m[k] = k < keep.length ? (keep[k] ? 1 : 0) : 1;
  const mask = np.array(m, { shape: [width], dtype: layers[layer].w.dtype });
  const out: MlpParams = {
    layers: layers.map((l, i) => {
      if (i === layer) return l.b ? { w: l.w.mul(mask.ref.reshape([1, width])), b: l.b.mul(mask.ref) } : { w: l.w.mul(mask.ref.reshape([1, width])) };
      if (i === layer + 1) return l.b ? { w: l.w.mul(mask.ref.reshape([width, 1])), b: l.b } : { w: l.w.mul(mask.ref.reshape([width, 1])) };
      return l;
    }),
  };
  mask.dispose();
  return out;
}

/**
 * The order in which units are pruned: ascending score ("low" first) or descending ("high" first); ties by
 * unit index, so the order is deterministic.
 */
export function pruningOrder(score: ArrayLike<number>, from: "low" | "high"): Int32Array {
  const idx = Array.from({ length: score.length }, (_, i) => i);
  const s = from === "low" ? 1 : -1;
  idx.sort((a, b) => s * (score[a] - score[b]) || a - b);
  return Int32Array.from(idx);
}

/** Keep flags with the first `count` units of `order` pruned. */
export function keepMask(order: ArrayLike<number>, units: number, count: number): Uint8Array {
  const keep = new Uint8Array(units).fill(1);
  for (let i = 0; i < Math.min(count, order.length); i++) keep[order[i]] = 0;
  return keep;
}
