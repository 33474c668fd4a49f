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

/**
 * The lazy-vs-rich toy model of Kumar et al. (ICLR 2024, Fig. 1): f(x) = α · (1/N) Σᵢ φ(wᵢ·x) with
 * φ(h) = h + (ε/2)h², readouts fixed to 1, wᵢ ~ N(0, I_D). α is the output scale: large α is lazy
 * (the network stays near its linearisation), small α rich. Params { w: [D, N] }.
 */
export type MeanReadoutSpec = { d: number; n: number; alpha: number; eps: number };

export function initMeanReadout(spec: MeanReadoutSpec, key: Key): FixedReadoutParams {
  return { w: random.normal(key, [spec.d, spec.n]) };
}

/**
 * f(x) [rows] for x [rows, D]. Consumes params and x. The mean over neurons is a product with the constant
 * readout α/N·1 (the same numbers as α·mean(φ, 1)): jax-js's gradient of a row mean fused into the next
 * matmul ran ~13× slower (10 ms against 0.8 ms a step at D = 50, N = 200, P = 275 on the native backend).
 */
export function applyMeanReadout(spec: MeanReadoutSpec, params: FixedReadoutParams, x: Array): Array {
  const rows = x.shape[0];
  const h = np.matmul(x, params.w);
  const phi = h.ref.add(np.square(h).mul(spec.eps / 2));
  const a = np.full([spec.n, 1], spec.alpha / spec.n, { dtype: phi.dtype });
  return np.matmul(phi, a).reshape([rows]);
}

/**
 * The model's analytic Jacobian J[r, d·N + i] = ∂f(x_r)/∂w[d, i] = (α/N)·φ'(h_ri)·x_rd with φ'(h) = 1 + εh,
 * in the layout of measures/alignment.ts ntkFeatures ([rows, D·N], w row-major). Consumes params and x.
 */
export function meanReadoutJacobian(spec: MeanReadoutSpec, params: FixedReadoutParams, x: Array): Array {
  const rows = x.shape[0];
  const g = np.matmul(x.ref, params.w).mul(spec.eps).add(1).mul(spec.alpha / spec.n); // [rows, N]
  return x.reshape([rows, spec.d, 1]).mul(g.reshape([rows, 1, spec.n])).reshape([rows, spec.d * spec.n]);
}

/** The analytic NTK K = (G Gᵀ) ⊙ (X Xᵀ), G = (α/N)φ'(XW): [rows, rows]. Consumes params and x. */
export function meanReadoutNtk(spec: MeanReadoutSpec, params: FixedReadoutParams, x: Array): Array {
  const g = np.matmul(x.ref, params.w).mul(spec.eps).add(1).mul(spec.alpha / spec.n);
  return np.matmul(g.ref, g.transpose()).mul(np.matmul(x.ref, x.transpose()));
}
