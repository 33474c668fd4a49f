/**
 * Guidance (Subramaniam et al., "Training the Untrainable: Introducing Inductive Bias via Representational
 * Alignment", NeurIPS 2025; specs-23-45.md §16): a layer-wise representational-similarity loss that pulls a target
 * network's layers toward a frozen guide network's,
 *
 *   L(θ) = L_task(θ) + λ Σ_{(i, j) ∈ I} (1 − CKA(A_i^target(θ), A_j^guide)),
 *
 * with linear CKA on the minibatch (measures/cka.ts, the one implementation the measures use too; CKA depends on
 * the batch size n: keep it fixed). The guide is frozen: its activations are constants (precomputed or computed
 * without gradient), trained or at random initialisation. `guidanceLayerMap` spreads the guide's layers uniformly
 * over the target's, the paper's default mapping.
 */
import type { Array } from "@jax-js/jax";
import { linearCka } from "../measures/cka.ts";

/**
 * Σ_k (1 − CKA(target[k], guide[k])) over paired representations of the same batch (each [n, …]); a scalar array.
 * Consumes every array. Differentiable in the target's (the guide's should carry no gradient: they are inputs).
 */
export function guidancePenalty(target: Array[], guide: Array[]): Array {
  if (target.length !== guide.length || !target.length) {
    const [a, b] = [target.length, guide.length];
    for (const t of [...target, ...guide]) t.dispose();
    throw new RangeError(`guidance: ${a} target and ${b} guide representations; expected the same number, at least one`);
  }
  let total: Array | null = null;
  for (let k = 0; k < target.length; k++) {
    const term = linearCka(target[k], guide[k]).neg().add(1);
    total = total ? total.add(term) : term;
  }
  return total!;
}

/**
 * The paper's layer map: guide layers 1…G spread uniformly over target layers 1…T (G ≤ T), each guide layer paired
 * with target layer round(j·T/G): for T = 8, G = 4 → 2, 4, 6, 8. Returns [target, guide] pairs, 1-based.
 */
export function guidanceLayerMap(targetLayers: number, guideLayers: number): [number, number][] {
  if (!(Number.isInteger(targetLayers) && Number.isInteger(guideLayers) && guideLayers >= 1 && targetLayers >= guideLayers)) throw new RangeError(`guidance: need 1 ≤ guide layers ≤ target layers, got ${guideLayers} and ${targetLayers}`);
  return globalThis.Array.from({ length: guideLayers }, (_, j): [number, number] => [Math.round(((j + 1) * targetLayers) / guideLayers), j + 1]);
}
