/**
 * Dense layers and MLPs as pure functions over parameter pytrees. Weights are stored [in, out] so the
 * forward pass is `x @ w` with no transpose in the hot path (DEPS.md: transposed operands are slow in
 * jax-js). Per-layer forward multipliers come from the parametrization (see parametrization.ts); they are
 * constants of the spec, never trained.
 */
import { numpy as np, random, type Array } from "@jax-js/jax";
import { splitKey, type Key } from "../core/prng.ts";
import { activationGain, applyActivation, type Activation } from "./activations.ts";
import { layerRole, layerScales, type Parametrization } from "./parametrization.ts";

export type DenseParams = { w: Array; b?: Array };

export type MlpSpec = {
  /** Layer widths including input and output: [in, hidden…, out]. */
  dims: number[];
  activation: Activation;
  bias: boolean;
  parametrization: Parametrization;
  /** Multiplies every layer's init std (small-init studies: < 1). */
  initScale: number;
  /** α: the model output is multiplied by α (lazy vs rich training, Chizat et al. 2019). */
  outputScale: number;
};

export type MlpParams = { layers: DenseParams[] };

export function mlpSpec(partial: Partial<MlpSpec> & { dims: number[] }): MlpSpec {
  return { activation: "relu", bias: true, parametrization: "standard", initScale: 1, outputScale: 1, ...partial };
}

function scalesOf(spec: MlpSpec, i: number) {
  const count = spec.dims.length - 1;
  const role = layerRole(i, count);
  // The output layer has no activation after it; its gain is 1 (LeCun), hidden/input layers use the
  // gain of the activation that follows them.
  const gain = (role === "output" ? 1 : activationGain(spec.activation)) * spec.initScale;
  return layerScales(spec.parametrization, role, spec.dims[i], spec.dims[i + 1], gain);
}

export function initMlp(spec: MlpSpec, key: Key): MlpParams {
  const n = spec.dims.length - 1;
  if (n < 1) throw new RangeError("an MLP needs at least two dims (in, out)");
  const keys = splitKey(key, n);
  const layers: DenseParams[] = [];
  for (let i = 0; i < n; i++) {
    const { initStd } = scalesOf(spec, i);
    const w = random.normal(keys[i], [spec.dims[i], spec.dims[i + 1]]).mul(initStd);
    layers.push(spec.bias ? { w, b: np.zeros([spec.dims[i + 1]]) } : { w });
  }
  return { layers };
}

/** y = x @ (m·w) + b, with the multiplier applied to the (smaller) output. Consumes p and x. */
export function applyDense(p: DenseParams, x: Array, multiplier = 1): Array {
  let y = np.matmul(x, p.w);
  if (multiplier !== 1) y = y.mul(multiplier);
  if (p.b) y = y.add(p.b);
  return y;
}

/** Forward pass; consumes params and x. */
export function applyMlp(spec: MlpSpec, params: MlpParams, x: Array): Array {
  const n = params.layers.length;
  let h = x;
  for (let i = 0; i < n; i++) {
    h = applyDense(params.layers[i], h, scalesOf(spec, i).multiplier);
    if (i < n - 1) h = applyActivation(spec.activation, h);
  }
  return spec.outputScale === 1 ? h : h.mul(spec.outputScale);
}
