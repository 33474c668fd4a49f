/**
 * Two-layer networks with a fixed second layer, the model of much of the benign-overfitting and
 * lazy-vs-rich theory: f(x) = Σⱼ aⱼ φ(wⱼ·x), only W trained.
 *
 * `fixedReadout`: aⱼ = ±1/√m, the first half +, the second half − (Xu et al. 2024; Frei et al. 2022).
 * Params are { w: [d, m] } so the forward pass is x @ w with no transpose.
 */
import { numpy as np, random, type Array } from "@jax-js/jax";
import type { Key } from "../core/prng.ts";
import { applyActivation, type Activation } from "./activations.ts";

export type FixedReadoutSpec = { d: number; m: number; activation: Activation; /** init std of every entry of W */ initStd: number };
export type FixedReadoutParams = { w: Array };

export function initFixedReadout(spec: FixedReadoutSpec, key: Key): FixedReadoutParams {
  if (spec.m < 2 || spec.m % 2 !== 0) {
    key.dispose();
    throw new RangeError(`a fixed ±1/√m readout needs an even width m ≥ 2, got ${spec.m}`);
  }
  return { w: random.normal(key, [spec.d, spec.m]).mul(spec.initStd) };
}

/** The fixed readout a (host): +1/√m for the first m/2 units, −1/√m for the rest. */
export function readoutSigns(m: number): Float32Array<ArrayBuffer> {
  return Float32Array.from({ length: m }, (_, j) => (j < m / 2 ? 1 : -1) / Math.sqrt(m));
}

/** f(x) [n] for x [n, d]. Consumes params and x. */
export function applyFixedReadout(spec: FixedReadoutSpec, params: FixedReadoutParams, x: Array): Array {
  const n = x.shape[0];
  const h = applyActivation(spec.activation, np.matmul(x, params.w));
  const signs = readoutSigns(spec.m);
  const a = np.array(h.dtype === np.float32 ? signs : globalThis.Array.from(signs), { shape: [spec.m, 1], dtype: h.dtype });
  return np.matmul(h, a).reshape([n]);
}
