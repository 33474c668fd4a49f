/**
 * The two-layer convolutional network of USEFUL's theory (Nguyen et al. 2024, §3; after Jelassi & Li 2022):
 * J filters w_j applied to every patch x_p with a fixed second layer of ±1,
 *
 *   f(x) = Σ_j Σ_p σ(⟨w_j, x_p⟩) − Σ_j Σ_p σ(⟨u_j, x_p⟩),
 *
 * a single logit for y ∈ {±1} (train with the logistic loss). σ is ReLU or the cube. Weights N(0, initStd²).
 */
import { numpy as np, random, type Array } from "@jax-js/jax";
import { splitKey, type Key } from "../core/prng.ts";
import { applyActivation } from "./activations.ts";

export type PatchCnnSpec = { patches: number; d: number; filters: number; activation: "relu" | "cube"; initStd: number };
export type PatchCnnParams = { w: Array; u: Array };

export function initPatchCnn(spec: PatchCnnSpec, key: Key): PatchCnnParams {
  const [kw, ku] = splitKey(key, 2);
  return { w: random.normal(kw, [spec.d, spec.filters]).mul(spec.initStd), u: random.normal(ku, [spec.d, spec.filters]).mul(spec.initStd) };
}

/**
 * x [N, P·d] (patch-major) → logits [N, 1]. Consumes params and x. The filters act on all N·P patches in one
 * matmul with [w | u], and the ±1 second layer is a matmul too: the same function as the double sum, but
 * 9× faster a step in jax-js than summing a reshaped [N, P·J] activation (measured: 4.6 vs 40 ms).
 */
export function applyPatchCnn(spec: PatchCnnSpec, p: PatchCnnParams, x: Array): Array {
  const n = x.shape[0];
  const j = spec.filters;
  const patches = x.reshape([n * spec.patches, spec.d]);
  const act = (z: Array) => (spec.activation === "cube" ? z.ref.mul(z.ref).mul(z) : applyActivation("relu", z));
  const signs = np.concatenate([np.ones([j, 1], { dtype: p.w.dtype }), np.ones([j, 1], { dtype: p.w.dtype }).mul(-1)], 0);
  const perPatch = np.matmul(act(np.matmul(patches, np.concatenate([p.w, p.u], 1))), signs);
  return perPatch.reshape([n, spec.patches]).sum(1).reshape([n, 1]);
}
