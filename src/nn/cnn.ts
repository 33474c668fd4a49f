/**
 * A small conv net for 28×28 single-channel images (Fashion-MNIST): two [conv 3×3 SAME → act → 2×2 mean
 * pool] stages and a dense head. Layout NCHW with OIHW kernels (lax.conv's convention).
 */
import { lax, numpy as np, random, type Array } from "@jax-js/jax";
import { splitKey, type Key } from "../core/prng.ts";
import { activationGain, applyActivation, type Activation } from "./activations.ts";

export type CnnSpec = {
  inChannels: number;
  height: number;
  width: number;
  channels: [number, number];
  hidden: number;
  outDim: number;
  activation: Activation;
  initScale: number;
  outputScale: number;
};

export type CnnParams = {
  conv1: { w: Array; b: Array };
  conv2: { w: Array; b: Array };
  fc: { w: Array; b: Array };
  out: { w: Array; b: Array };
};

export function cnnSpec(partial: Partial<CnnSpec> = {}): CnnSpec {
  return { inChannels: 1, height: 28, width: 28, channels: [8, 16], hidden: 64, outDim: 10, activation: "relu", initScale: 1, outputScale: 1, ...partial };
}

export function initCnn(spec: CnnSpec, key: Key): CnnParams {
  if (spec.height % 4 !== 0 || spec.width % 4 !== 0) throw new RangeError("image height and width must be multiples of 4 (two 2×2 pools)");
  const [k1, k2, k3, k4] = splitKey(key, 4);
  const g = activationGain(spec.activation) * spec.initScale;
  const [c1, c2] = spec.channels;
  const flat = c2 * (spec.height / 4) * (spec.width / 4);
  return {
    conv1: { w: random.normal(k1, [c1, spec.inChannels, 3, 3]).mul(g / Math.sqrt(9 * spec.inChannels)), b: np.zeros([c1]) },
    conv2: { w: random.normal(k2, [c2, c1, 3, 3]).mul(g / Math.sqrt(9 * c1)), b: np.zeros([c2]) },
    fc: { w: random.normal(k3, [flat, spec.hidden]).mul(g / Math.sqrt(flat)), b: np.zeros([spec.hidden]) },
    out: { w: random.normal(k4, [spec.hidden, spec.outDim]).mul(spec.initScale / Math.sqrt(spec.hidden)), b: np.zeros([spec.outDim]) },
  };
}

function pool2(x: Array): Array {
  const [n, c, h, w] = x.shape;
  return x.reshape([n, c, h / 2, 2, w / 2, 2]).mean([3, 5]);
}

function convBlock(act: Activation, p: { w: Array; b: Array }, x: Array): Array {
  const y = lax.conv(x, p.w, [1, 1], "SAME");
  const c = y.shape[1];
  return pool2(applyActivation(act, y.add(p.b.reshape([1, c, 1, 1]))));
}

/** x: [N, C, H, W] (or [N, H·W] for one channel) → logits [N, outDim]. Consumes params and x. */
export function applyCnn(spec: CnnSpec, params: CnnParams, x: Array): Array {
  const n = x.shape[0];
  let h = x.ndim === 2 ? x.reshape([n, spec.inChannels, spec.height, spec.width]) : x;
  h = convBlock(spec.activation, params.conv1, h);
  h = convBlock(spec.activation, params.conv2, h);
  h = h.reshape([n, h.size / n]);
  h = applyActivation(spec.activation, np.matmul(h, params.fc.w).add(params.fc.b));
  const out = np.matmul(h, params.out.w).add(params.out.b);
  return spec.outputScale === 1 ? out : out.mul(spec.outputScale);
}
