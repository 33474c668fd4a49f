/**
 * A layer-list network described by host arrays: how a user's trained CNN (read from ONNX by io/modelFiles.ts)
 * reaches genlab's measures. Layers: dense (W [in, out], optional bias), 2-D convolution (OIHW kernel, strides,
 * explicit zero padding [top, left, bottom, right], optional bias), ReLU, max pooling (window = stride,
 * PyTorch's floor mode: trailing rows/columns that do not fill a window are dropped) and flatten (NCHW → [n,
 * C·H·W], PyTorch's order). Activations are NCHW.
 *
 * `seqShapes` checks a description and gives every layer's output shape; `seqDeviceParams` builds the device
 * parameters (one {w, b} per dense or conv layer); `applySeq` is the forward pass.
 */
import { lax, numpy as np, type Array } from "@jax-js/jax";

export type SeqLayer =
  | { kind: "dense"; inDim: number; outDim: number; w: Float32Array; b: Float32Array | null }
  | { kind: "conv"; shape: [number, number, number, number]; strides: [number, number]; pads: [number, number, number, number]; w: Float32Array; b: Float32Array | null }
  | { kind: "relu" }
  | { kind: "maxpool"; kernel: [number, number] }
  | { kind: "flatten" };
/** `input`: one example's shape, [C, H, W] for a conv net or [d] for a dense one. */
export type SeqNetwork = { input: number[]; layers: SeqLayer[] };
export type SeqParams = { layers: { w: Array; b?: Array }[] };

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** Each layer's output shape (per example). Throws a RangeError naming the first layer that does not fit. */
export function seqShapes(net: SeqNetwork): number[][] {
  const shapes: number[][] = [];
  let s = net.input.slice();
  if (!s.length || s.some((v) => !Number.isInteger(v) || v < 1)) throw new RangeError(`input shape [${s.join(", ")}] is not a shape`);
  net.layers.forEach((l, i) => {
    const where = `layer ${i} (${l.kind})`;
    if (l.kind === "dense") {
      if (s.length !== 1) throw new RangeError(`${where} takes a vector but gets shape [${s.join(", ")}] (flatten first)`);
      if (s[0] !== l.inDim) throw new RangeError(`${where} takes ${l.inDim} inputs but gets ${s[0]}`);
      if (l.w.length !== l.inDim * l.outDim) throw new RangeError(`${where}: weight has ${l.w.length} values, expected ${l.inDim}×${l.outDim}`);
      if (l.b && l.b.length !== l.outDim) throw new RangeError(`${where}: bias has ${l.b.length} values, expected ${l.outDim}`);
      s = [l.outDim];
    } else if (l.kind === "conv") {
      const [co, ci, kh, kw] = l.shape;
      if (s.length !== 3) throw new RangeError(`${where} takes [C, H, W] but gets shape [${s.join(", ")}]`);
      if (s[0] !== ci) throw new RangeError(`${where} takes ${ci} channels but gets ${s[0]}`);
      if (l.w.length !== co * ci * kh * kw) throw new RangeError(`${where}: kernel has ${l.w.length} values, expected ${co}×${ci}×${kh}×${kw}`);
      if (l.b && l.b.length !== co) throw new RangeError(`${where}: bias has ${l.b.length} values, expected ${co}`);
      const h = Math.floor((s[1] + l.pads[0] + l.pads[2] - kh) / l.strides[0]) + 1;
      const w = Math.floor((s[2] + l.pads[1] + l.pads[3] - kw) / l.strides[1]) + 1;
      if (h < 1 || w < 1) throw new RangeError(`${where}: a ${kh}×${kw} kernel does not fit the ${s[1]}×${s[2]} input`);
      s = [co, h, w];
    } else if (l.kind === "maxpool") {
      if (s.length !== 3) throw new RangeError(`${where} takes [C, H, W] but gets shape [${s.join(", ")}]`);
      const h = Math.floor(s[1] / l.kernel[0]);
      const w = Math.floor(s[2] / l.kernel[1]);
      if (h < 1 || w < 1) throw new RangeError(`${where}: a ${l.kernel.join("×")} window does not fit the ${s[1]}×${s[2]} input`);
      s = [s[0], h, w];
    } else if (l.kind === "flatten") s = [prod(s)];
    shapes.push(s);
  });
  const last = shapes[shapes.length - 1];
  if (!last || last.length !== 1) throw new RangeError(`the network must end in a vector of logits, it ends in shape [${(last ?? s).join(", ")}]`);
  return shapes;
}

/** The parameter layers (dense and conv), in order. */
export const seqParamLayers = (net: SeqNetwork) => net.layers.filter((l): l is Extract<SeqLayer, { w: Float32Array }> => l.kind === "dense" || l.kind === "conv");

/** Device parameters, one {w, b} per dense/conv layer (a missing bias is a zero bias). `map` transforms the host values first (e.g. squaring). */
export function seqDeviceParams(net: SeqNetwork, map?: (v: number) => number): SeqParams {
  const f = (a: Float32Array) => (map ? a.map(map) : Float32Array.from(a));
  return {
    layers: seqParamLayers(net).map((l) => {
      const shape = l.kind === "dense" ? [l.inDim, l.outDim] : l.shape;
      const nOut = l.kind === "dense" ? l.outDim : l.shape[0];
      return { w: np.array(f(l.w)).reshape(shape), b: np.array(f(l.b ?? new Float32Array(nOut))) };
    }),
  };
}

/**
 * Logits [n, classes] of x ([n, prod(input)] or [n, ...input]). Consumes params and x. `acts`, when given, receives
 * the input and every ReLU's output (the hidden representations, owned by the caller), in order.
 */
export function applySeq(net: SeqNetwork, params: SeqParams, x: Array, acts?: Array[]): Array {
  const n = x.shape[0];
  let h = x.reshape([n, ...net.input]);
  if (acts) acts.push(h.ref);
  let p = 0;
  for (const l of net.layers) {
    if (l.kind === "dense") {
      const { w, b } = params.layers[p++];
      h = np.matmul(h, w);
      if (b) h = h.add(b);
    } else if (l.kind === "conv") {
      const { w, b } = params.layers[p++];
      h = lax.convGeneralDilated(h, w, l.strides, [
        [l.pads[0], l.pads[2]],
        [l.pads[1], l.pads[3]],
      ]);
      if (b) h = h.add(b.reshape([1, l.shape[0], 1, 1]));
    } else if (l.kind === "relu") {
      h = np.maximum(h, 0);
      if (acts) acts.push(h.ref);
    } else if (l.kind === "maxpool") {
      const [, c, hh, ww] = h.shape;
      const [kh, kw] = l.kernel;
      const H = Math.floor(hh / kh);
      const W = Math.floor(ww / kw);
      if (H * kh !== hh || W * kw !== ww) h = h.slice([], [], [0, H * kh], [0, W * kw]);
      h = h.reshape([n, c, H, kh, W, kw]).max([3, 5]);
    } else h = h.reshape([n, -1]);
  }
  for (; p < params.layers.length; p++) {
    params.layers[p].w.dispose();
    params.layers[p].b?.dispose();
  }
  return h;
}
