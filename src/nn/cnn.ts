/**
 * A small conv net for 28×28 single-channel images (Fashion-MNIST): two [conv 3×3 SAME → act → 2×2 mean
 * pool] stages and a dense head. Layout NCHW with OIHW kernels (lax.conv's convention).
 */
import { numpy as np, random, type Array } from "@jax-js/jax";
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

/** 2×2 mean pool over the last two axes of a 4-d array. */
function pool2(x: Array): Array {
  const [a, b, h, w] = x.shape;
  return x.reshape([a, b, h / 2, 2, w / 2, 2]).mean([3, 5]);
}

/**
 * The nine windows [:, :, dy … dy + H − 1, dx … dx + W − 1] of the zero-padded channel-major input
 * [C, N, H, W] (views), in (dy, dx) order, each passed through `view`. Consumes x.
 */
function shiftedWindows(x: Array, view: (win: Array) => Array = (win) => win): Array[] {
  const [, , h, wd] = x.shape;
  const xp = np.pad(x, [
    [0, 0],
    [0, 0],
    [1, 1],
    [1, 1],
  ]);
  const out: Array[] = [];
  for (let dy = 0; dy < 3; dy++) for (let dx = 0; dx < 3; dx++) out.push(view(xp.ref.slice([], [], [dy, dy + h], [dx, dx + wd])));
  xp.dispose();
  return out;
}

/**
 * A 3×3 convolution, stride 1, SAME padding, on channel-major activations: x [C, N, H, W], w [O, C, 3, 3]
 * (OIHW) → [O, N, H, W] — as one matmul over the image patches (im2col): W [O, C·9] · P [C·9, N·H·W], P
 * stacked from nine shifted slices of the zero-padded input. Channel-major keeps every operand of the
 * matmul and of its two backward products (dW = dY·Pᵀ, dP = Wᵀ·dY) contiguous, so all three run on the
 * matmul kernels (native GEMM or Wasm), where jax-js's convolution is a generic reduction ~50× slower than
 * PyTorch (E4 of `npm run bench`). Consumes x and w.
 */
function conv3x3Cnhw(x: Array, w: Array): Array {
  const [c, n, h, wd] = x.shape;
  const o = w.shape[0];
  if (w.shape[1] !== c || w.shape[2] !== 3 || w.shape[3] !== 3) throw new RangeError(`conv3x3: expected a [O, ${c}, 3, 3] kernel, got [${w.shape.join(", ")}]`);
  // [C, 9, N, H, W] → [C·9, N·H·W]: rows in the (c, dy, dx) order of the flattened OIHW kernel
  const patches = np.stack(shiftedWindows(x), 1).reshape([c * 9, n * h * wd]);
  return np.matmul(w.reshape([o, c * 9]), patches).reshape([o, n, h, wd]);
}

/** lax.conv(x, w, [1, 1], "SAME") for NCHW x and OIHW w, by conv3x3Cnhw (equal up to the order of the C·9 products; tested in float64). Consumes x and w. */
export function conv3x3Same(x: Array, w: Array): Array {
  return conv3x3Cnhw(x.transpose([1, 0, 2, 3]), w).transpose([1, 0, 2, 3]);
}

/** conv → activation → 2×2 mean pool on channel-major [C, N, H, W]. */
function convBlock(act: Activation, p: { w: Array; b: Array }, x: Array): Array {
  const y = conv3x3Cnhw(x, p.w);
  const c = y.shape[0];
  return pool2(applyActivation(act, y.add(p.b.reshape([c, 1, 1, 1]))));
}

/**
 * The same block with the convolution's output columns in 2×2-phase order, [O, N, 2, 2, H/2, W/2] (pixel
 * (2i + py, 2j + px) at [·, ·, py, px, i, j]), so that the mean pool is a sum over two outer axes and its
 * gradient a broadcast along them: the backward kernel that jax-js fuses from the next layer's patch
 * gradient, the pool's upsampling and the activation's mask then reads whole rows (the genlab patch's SIMD
 * rows) instead of one index per pixel (2.3× less kernel time for E4 of `npm run bench`). The patches of
 * each phase are stride-2 slices of the padded input, so the block's input gradient would be the slow
 * kind: used for the first block, whose input is the data. The same function as convBlock: each output
 * is the same dot product over (c, dy, dx) and the same mean of four, tested in float64. Consumes x.
 */
function convBlockPhased(act: Activation, p: { w: Array; b: Array }, x: Array): Array {
  const [c, n, h, wd] = x.shape;
  const o = p.w.shape[0];
  // each window split by parity (a view): [C, N, 2, 2, H/2, W/2]
  const byParity = (win: Array) => win.reshape([c, n, h / 2, 2, wd / 2, 2]).transpose([0, 1, 3, 5, 2, 4]);
  const patches = np.stack(shiftedWindows(x, byParity), 1).reshape([c * 9, n * h * wd]);
  const y = np.matmul(p.w.reshape([o, c * 9]), patches).reshape([o, n, 2, 2, h / 2, wd / 2]);
  // the mean of the four phases as ((a + b) + c + d) · ¼ (mean's order and scale): elementwise, fused with the activation
  const a = applyActivation(act, y.add(p.b.reshape([o, 1, 1, 1, 1, 1])));
  const phase = (py: number, px: number) => a.ref.slice([], [], py, px);
  const sum = phase(0, 0).add(phase(0, 1)).add(phase(1, 0)).add(phase(1, 1));
  a.dispose();
  return sum.mul(0.25);
}

/** x: [N, C, H, W] (or [N, H·W] for one channel) → logits [N, outDim]. Consumes params and x. */
export function applyCnn(spec: CnnSpec, params: CnnParams, x: Array): Array {
  const n = x.shape[0];
  const nchw = x.ndim === 2 ? x.reshape([n, spec.inChannels, spec.height, spec.width]) : x;
  // channel-major inside the conv stages (see conv3x3Cnhw), back to NCHW's (c, h, w) flattening for the head
  let h = convBlockPhased(spec.activation, params.conv1, nchw.transpose([1, 0, 2, 3]));
  h = convBlock(spec.activation, params.conv2, h);
  h = h.transpose([1, 0, 2, 3]).reshape([n, h.size / n]);
  h = applyActivation(spec.activation, np.matmul(h, params.fc.w).add(params.fc.b));
  const out = np.matmul(h, params.out.w).add(params.out.b);
  return spec.outputScale === 1 ? out : out.mul(spec.outputScale);
}
