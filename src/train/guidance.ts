/**
 * Guidance (Subramaniam et al., "Training the Untrainable: Introducing Inductive Bias via Representational
 * Alignment", NeurIPS 2025; specs-23-45.md §16): a layer-wise representational-similarity loss that pulls a target
 * network's layers toward a frozen guide network's,
 *
 *   L(θ) = L_task(θ) + λ Σ_{(i, j) ∈ I} (1 − CKA(A_i^target(θ), A_j^guide)),
 *
 * with linear CKA on the minibatch (nn/cka.ts, the one implementation the measures use too; CKA depends on
 * the batch size n: keep it fixed). The guide is frozen: its activations are constants (precomputed or computed
 * without gradient), trained or at random initialisation. `guidanceLayerMap` spreads the guide's layers uniformly
 * over the target's as the official code does. The official code takes each layer's representation at the output of
 * its Linear / Conv2d module (before the activation), the logit layer excluded.
 */
import type { Array } from "@jax-js/jax";
import { linearCka } from "../nn/cka.ts";

/**
 * Σ_k (1 − CKA(target[k], guide[k])) over paired representations of the same batch (each [n, …]); a scalar array.
 * Consumes every array. Differentiable in the target's (the guide's should carry no gradient: they are inputs).
 */
export function guidancePenalty(target: Array[], guide: Array[]): Array {
  const bad = target.length !== guide.length || !target.length ? `${target.length} target and ${guide.length} guide representations; expected the same number, at least one` : target.findIndex((t, k) => t.shape[0] !== guide[k].shape[0] || t.shape[0] < 2) >= 0 ? "each pair needs the same number of examples ≥ 2" : null;
  if (bad) {
    for (const t of [...target, ...guide]) t.dispose();
    throw new RangeError(`guidance: ${bad}`);
  }
  let total: Array | null = null;
  for (let k = 0; k < target.length; k++) {
    const term = linearCka(target[k], guide[k]).neg().add(1);
    total = total ? total.add(term) : term;
  }
  return total!;
}

/**
 * The official layer map (`layer_supervision` in vsubramaniam851/untrainable-networks): guide layer i (0-based, of
 * G) supervises target layer round(i·(T − 1)/(G − 1)), both ends included, with Python's round (half to even). For
 * T = 8, G = 4: target layers 1, 3, 6, 8 (1-based). (The spec's second-hand note gives 2, 4, 6, 8.) Returns
 * [target, guide] pairs, 1-based.
 */
export function guidanceLayerMap(targetLayers: number, guideLayers: number): [number, number][] {
  if (!(Number.isInteger(targetLayers) && Number.isInteger(guideLayers) && guideLayers >= 1 && targetLayers >= guideLayers)) throw new RangeError(`guidance: need 1 ≤ guide layers ≤ target layers, got ${guideLayers} and ${targetLayers}`);
  if (guideLayers === 1) return [[targetLayers, 1]];
  const roundHalfEven = (v: number) => {
    const f = Math.floor(v);
    const r = v - f;
    return Math.abs(r - 0.5) < 1e-12 ? (f % 2 === 0 ? f : f + 1) : Math.round(v);
  };
  return globalThis.Array.from({ length: guideLayers }, (_, i): [number, number] => [roundHalfEven((i * (targetLayers - 1)) / (guideLayers - 1)) + 1, i + 1]);
}
