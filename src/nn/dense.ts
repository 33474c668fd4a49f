/**
 * Dense layers and MLPs as pure functions over parameter pytrees. Weights are stored [in, out] so the
 * forward pass is `x @ w` with no transpose in the hot path (DEPS.md: transposed operands are slow in
 * jax-js). Per-layer forward multipliers come from the parametrization (see parametrization.ts); they are
 * constants of the spec, never trained.
 *
 * Exact padding. jax-js's Wasm matmul leaves its SIMD path when a width is not a multiple of 4 (a
 * 4704×256 @ 256×97 product ran ~12× slower than @ 256×100). So every layer width is stored padded to a
 * multiple of `spec.padTo` (default 4 on the Wasm kernels, 1 on the native backend: core/jax.ts defaultPadTo) with zero rows/columns: the padded input columns are zero, padded
 * hidden units have zero weights and bias so their activation is φ(0) = 0 (true for every activation
 * genlab has, checked in nn.test.ts), and the output is sliced back to the true width. Every padded
 * parameter therefore gets an exactly zero gradient and stays zero under SGD, Adam and weight decay, so
 * losses, gradients, norms and Hessian spectra equal the unpadded network's up to float32 round-off
 * (tests compare both). Initial values are drawn at the true shapes, so a seed gives the same network.
 */
import { DType, nn, numpy as np, random, type Array } from "@jax-js/jax";
import { currentDevice, defaultPadTo } from "../core/jax.ts";
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
  /** Store widths padded to a multiple of this (exact, see above); 1 disables padding. */
  padTo: number;
  /**
   * Absolute init std of each layer, overriding the parametrization's (e.g. Doshi et al.'s
   * N(0, (16N)^(−2/3)) for every layer). The forward multipliers are unchanged.
   */
  initStd?: number[];
  /**
   * The input is k-hot rows given by the positions of their ones (int32 [N, k], each < dims[0]): the first
   * layer gathers rows of W instead of multiplying by a one-hot matrix (applyDenseHot). Without it an
   * int32 input is refused.
   */
  hotInput?: boolean;
};

export type MlpParams = { layers: DenseParams[] };

export function mlpSpec(partial: Partial<MlpSpec> & { dims: number[] }): MlpSpec {
  return { activation: "relu", bias: true, parametrization: "standard", initScale: 1, outputScale: 1, padTo: defaultPadTo(), ...partial };
}

export const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;

/** The stored (padded) widths of a spec. */
export function paddedDims(spec: MlpSpec): number[] {
  return spec.dims.map((d) => roundUp(d, Math.max(1, spec.padTo ?? 1)));
}

/** Zero-pad a 1-D or 2-D array to `shape` (trailing zeros). Consumes a. */
export function padTo(a: Array, shape: number[]): Array {
  if (a.shape.every((d, i) => d === shape[i])) return a;
  return np.pad(a, a.shape.map((d, i) => [0, shape[i] - d] as [number, number]));
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
  const pd = paddedDims(spec);
  const layers: DenseParams[] = [];
  for (let i = 0; i < n; i++) {
    const initStd = spec.initStd ? spec.initStd[i] : scalesOf(spec, i).initStd;
    if (!(initStd >= 0)) throw new RangeError(`initStd[${i}] must be a number ≥ 0, got ${initStd}`);
    const w = padTo(random.normal(keys[i], [spec.dims[i], spec.dims[i + 1]]).mul(initStd), [pd[i], pd[i + 1]]);
    layers.push(spec.bias ? { w, b: np.zeros([pd[i + 1]]) } : { w });
  }
  return { layers };
}

/**
 * PyTorch's default nn.Linear initialisation (kaiming_uniform with a = √5): weights and biases U(−1/√fan_in,
 * 1/√fan_in), for reproducing PyTorch code faithfully. Unpadded specs only (padTo 1). Consumes key.
 */
export function initTorchLinear(spec: MlpSpec, key: Key): MlpParams {
  if (spec.padTo !== 1) {
    key.dispose();
    throw new RangeError("initTorchLinear: an unpadded spec (padTo: 1) is expected");
  }
  const n = spec.dims.length - 1;
  const keys = splitKey(key, 2 * n);
  const layers = globalThis.Array.from({ length: n }, (_, i) => {
    const bound = 1 / Math.sqrt(spec.dims[i]);
    const u = (k: Key, shape: number[]) => random.uniform(k, shape).mul(2 * bound).sub(bound);
    return { w: u(keys[2 * i], [spec.dims[i], spec.dims[i + 1]]), b: u(keys[2 * i + 1], [spec.dims[i + 1]]) };
  });
  return { layers };
}

/**
 * Xavier (Glorot) uniform weights U(±√(6 / (fan_in + fan_out))) and zero biases, as torch.nn.init.xavier_uniform_
 * (the IRM / RFC code's MLPs). Unpadded specs only (padTo 1). Consumes key.
 */
export function initXavierUniform(spec: MlpSpec, key: Key): MlpParams {
  if (spec.padTo !== 1) {
    key.dispose();
    throw new RangeError("initXavierUniform: an unpadded spec (padTo: 1) is expected");
  }
  const n = spec.dims.length - 1;
  const keys = splitKey(key, n);
  const layers = globalThis.Array.from({ length: n }, (_, i) => {
    const bound = Math.sqrt(6 / (spec.dims[i] + spec.dims[i + 1]));
    return { w: random.uniform(keys[i], [spec.dims[i], spec.dims[i + 1]]).mul(2 * bound).sub(bound), b: np.zeros([spec.dims[i + 1]]) };
  });
  return { layers };
}

/** Dropout after every hidden activation: rate p, key consumed (Srivastava et al. 2014, inverted scaling). */
export type Dropout = { rate: number; key: Key };

/** Inverted dropout: each entry kept with probability 1 − p and scaled by 1/(1 − p) (identity in expectation). Consumes x and key. */
export function dropout(x: Array, rate: number, key: Key): Array {
  if (!(rate >= 0 && rate < 1)) throw new RangeError(`dropout rate must be in [0, 1), got ${rate}`);
  if (rate === 0) {
    key.dispose();
    return x;
  }
  const keep = random.uniform(key, x.shape).greaterEqual(rate).astype(x.dtype);
  return x.mul(keep).mul(1 / (1 - rate));
}

/** y = x @ (m·w) + b, with the multiplier applied to the (smaller) output. Consumes p and x. */
export function applyDense(p: DenseParams, x: Array, multiplier = 1): Array {
  let y = np.matmul(x, p.w);
  if (multiplier !== 1) y = y.mul(multiplier);
  if (p.b) y = y.add(p.b);
  return y;
}

/**
 * A dense layer on k-hot rows given by the positions of their ones (int32 [N, k], e.g. the modular tasks'
 * [onehot(a) | onehot(b)] as [a, w + b]): the sum of k rows of W, gathered (np.take; its gradient adds
 * rows, patched into jax-js). For k = 2 the forward has the bits of the one-hot matmul (two nonzero
 * terms, one add; zeros add exactly); for k > 2 the order of the adds may differ. W's gradient sums the
 * same terms in example order instead of the matmul's blocking, so it may differ from the matmul's in the
 * last bits (grokking-modular's quick metrics were bit-identical, tested). Costs N·k·out instead of
 * N·in·out. Consumes ids.
 */
export function applyDenseHot(p: DenseParams, ids: Array, multiplier = 1): Array {
  const [n, k] = ids.shape;
  const [width, out] = p.w.shape;
  // On a GPU, jax-js's Scatter adds with atomics, in no fixed order: there the one-hot matmul keeps runs deterministic.
  const cpu = ["cpu", "wasm"].includes(currentDevice());
  let y = cpu ? np.take(p.w, ids.reshape([n * k]), 0).reshape([n, k, out]).sum(1) : np.matmul(nn.oneHot(ids, width).astype(p.w.dtype).sum(1), p.w);
  if (multiplier !== 1) y = y.mul(multiplier);
  if (p.b) y = y.add(p.b);
  return y;
}

/** x [N, in] → [N, stored in-width]: zero columns appended when the first weight is padded. Consumes x. */
export function padInput(params: MlpParams, x: Array): Array {
  const want = params.layers[0].w.shape[0];
  const have = x.shape[x.ndim - 1];
  if (have === want) return x;
  if (have > want) throw new RangeError(`input width ${have} exceeds the first layer's ${want}`);
  return np.pad(x, [[0, 0], [0, want - have]]);
}

/** Stored output width → true width (drop the padded logits). Consumes y. */
export function unpadOutput(spec: MlpSpec, y: Array): Array {
  const out = spec.dims[spec.dims.length - 1];
  return y.shape[1] === out ? y : y.slice([], [0, out]);
}

/**
 * Forward pass; consumes params and x. x may have the true or the stored input width; the output has the
 * true output width. `taps`, when given (one [N, stored width] array per layer, consumed), are added to
 * each layer's pre-activation: the gradient with respect to them is the per-example backpropagated error
 * δ_l used by ghost norms (measures/perExample.ts). `acts`, when given, receives each layer's input.
 */
export function applyMlp(spec: MlpSpec, params: MlpParams, x: Array, taps?: Array[], acts?: Array[], drop?: Dropout): Array {
  const n = params.layers.length;
  const hot = !!spec.hotInput;
  if (hot !== (x.dtype === DType.Int32)) throw new TypeError(hot ? `applyMlp: a hotInput MLP takes int32 positions of ones, got ${x.dtype}` : "applyMlp: an int32 input needs hotInput: true in the MLP's spec (the positions of the ones of k-hot rows)");
  if (hot && acts) throw new TypeError("applyMlp: the layer inputs of a k-hot (int32) input are not materialised; give dense features");
  let h = hot ? x : padInput(params, x);
  const keys = drop && n > 1 ? splitKey(drop.key, n - 1) : drop ? (drop.key.dispose(), []) : [];
  for (let i = 0; i < n; i++) {
    if (acts) acts.push(h.ref);
    h = i === 0 && hot ? applyDenseHot(params.layers[0], h, scalesOf(spec, 0).multiplier) : applyDense(params.layers[i], h, scalesOf(spec, i).multiplier);
    if (taps) h = h.add(taps[i]);
    if (i < n - 1) h = applyActivation(spec.activation, h);
    if (drop && i < n - 1) h = dropout(h, drop.rate, keys[i]);
  }
  const y = unpadOutput(spec, h);
  return spec.outputScale === 1 ? y : y.mul(spec.outputScale);
}

/** The forward multiplier of layer i (for per-example gradient norms). */
export function layerMultiplier(spec: MlpSpec, i: number): number {
  return scalesOf(spec, i).multiplier;
}

/**
 * 1 on the real entries of an MLP's parameters, 0 on storage padding (same tree shape as `params`, which is
 * only read). Measures that explore parameter space (Hessian directions, random perturbations) multiply by
 * it so they see exactly the unpadded network.
 */
export function mlpPaddingMask(spec: MlpSpec, params: MlpParams): MlpParams {
  return {
    layers: params.layers.map((l, i) => {
      const [pi, po] = l.w.shape;
      const w = padTo(np.ones([spec.dims[i], spec.dims[i + 1]], { dtype: l.w.dtype }), [pi, po]);
      return l.b ? { w, b: padTo(np.ones([spec.dims[i + 1]], { dtype: l.b.dtype }), [po]) } : { w };
    }),
  };
}
