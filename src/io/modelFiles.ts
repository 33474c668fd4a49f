/**
 * A user's trained network from a file, as host arrays genlab's measure catalogue takes
 * (measures/catalogue.ts: `HostDense`, weights [in, out] row-major with biases; or a layer list with
 * convolutions, nn/sequential.ts's SeqNetwork, here `LayerList`):
 *
 *   .safetensors   PyTorch / Hugging Face weights (read with @jax-js/loaders). The 2-D tensors named `*.weight`
 *                  are the layers; they are chained by shape (numeric-aware name order), in PyTorch's
 *                  [out, in] layout or, when only that fits, [in, out]; `*.bias` beside each. A file has no
 *                  graph: the activation between layers is taken to be ReLU (said in the notes), and a
 *                  convolution weight is an error that asks for ONNX.
 *   .onnx          an exported graph (read with @jax-js/onnx). An MLP: Gemm, or MatMul + Add, with Relu
 *                  between, and Flatten / Reshape / Identity where they do not change the layers. A CNN: Conv
 *                  (group 1, dilation 1), Relu, MaxPool (window = stride, no padding), Flatten / Reshape, then
 *                  dense layers. Any other operator is named in the error. The reading is then checked: the
 *                  ONNX model run by @jax-js/onnx and genlab's host forward pass of what it read must give the
 *                  same logits on probe inputs (relative 1e-4).
 *   a run          genlab's own: `model_<name>_w<i>` / `_b<i>` arrays written by `denseToArrays`.
 *
 * Every problem is a GenlabError naming the file and the tensor, node or shape, raised before any output.
 */
import { numpy as np } from "@jax-js/jax";
import { safetensors } from "@jax-js/loaders";
import { ONNXModel } from "@jax-js/onnx";
import { userError } from "../core/errors.ts";

export type DenseNetwork = { dims: number[]; weights: Float32Array[]; biases: (Float32Array | null)[] };
/** A layer list with convolutions: the same description as nn/sequential.ts's SeqNetwork (io may not import nn). */
export type LayerListLayer =
  | { kind: "dense"; inDim: number; outDim: number; w: Float32Array; b: Float32Array | null }
  | { kind: "conv"; shape: [number, number, number, number]; strides: [number, number]; pads: [number, number, number, number]; w: Float32Array; b: Float32Array | null }
  | { kind: "relu" }
  | { kind: "maxpool"; kernel: [number, number] }
  | { kind: "flatten" };
export type LayerList = { input: number[]; layers: LayerListLayer[] };
export type LoadedModel = { net: DenseNetwork | LayerList; format: "safetensors" | "onnx" | "run"; describe: string; notes: string[] };

export const isLayerList = (net: DenseNetwork | LayerList): net is LayerList => "layers" in net;
/** Input features and output classes of either kind of network. */
export function networkIO(net: DenseNetwork | LayerList): { inputDim: number; classes: number; describe: string } {
  if (!isLayerList(net)) return { inputDim: net.dims[0], classes: net.dims[net.dims.length - 1], describe: net.dims.join("→") };
  const dense = net.layers.filter((l): l is Extract<LayerListLayer, { kind: "dense" }> => l.kind === "dense");
  const desc = net.layers.map((l) => (l.kind === "conv" ? `conv${l.shape[2]}×${l.shape[3]}(${l.shape[0]})` : l.kind === "dense" ? `dense(${l.outDim})` : l.kind === "maxpool" ? `maxpool${l.kernel.join("×")}` : l.kind)).join("→");
  return { inputDim: net.input.reduce((a, b) => a * b, 1), classes: dense.length ? dense[dense.length - 1].outDim : NaN, describe: `[${net.input.join("×")}]→${desc}` };
}

const naturalCompare = (a: string, b: string) => a.localeCompare(b, "en", { numeric: true });
const describeNet = (net: DenseNetwork) => `dense ReLU network ${net.dims.join("→")} (${net.weights.reduce((a, w, i) => a + w.length + (net.biases[i]?.length ?? 0), 0).toLocaleString("en")} parameters)`;

/** Forward pass on the host (ReLU between layers): logits [n, out]. For checks and small probes. */
export function hostForward(net: DenseNetwork, x: ArrayLike<number>, n: number): Float32Array {
  let h = Float64Array.from(x as ArrayLike<number>);
  for (let l = 0; l < net.weights.length; l++) {
    const [din, dout] = [net.dims[l], net.dims[l + 1]];
    const w = net.weights[l];
    const b = net.biases[l];
    const out = new Float64Array(n * dout);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < din; k++) {
        const v = h[i * din + k];
        if (v === 0) continue;
        for (let j = 0; j < dout; j++) out[i * dout + j] += v * w[k * dout + j];
      }
      if (b) for (let j = 0; j < dout; j++) out[i * dout + j] += b[j];
      if (l < net.weights.length - 1) for (let j = 0; j < dout; j++) out[i * dout + j] = Math.max(0, out[i * dout + j]);
    }
    h = out;
  }
  return Float32Array.from(h);
}

/** Forward pass of a layer list on the host (float64): logits [n, out]. For the ONNX check. */
export function hostForwardLayers(net: LayerList, x: ArrayLike<number>, n: number): Float32Array {
  let shape = net.input.slice();
  let h = Float64Array.from(x as ArrayLike<number>);
  for (const l of net.layers) {
    const per = shape.reduce((a, b) => a * b, 1);
    if (l.kind === "dense") {
      const out = new Float64Array(n * l.outDim);
      for (let i = 0; i < n; i++)
        for (let k = 0; k < l.inDim; k++) {
          const v = h[i * per + k];
          if (v !== 0) for (let j = 0; j < l.outDim; j++) out[i * l.outDim + j] += v * l.w[k * l.outDim + j];
        }
      if (l.b) for (let i = 0; i < n; i++) for (let j = 0; j < l.outDim; j++) out[i * l.outDim + j] += l.b[j];
      h = out;
      shape = [l.outDim];
    } else if (l.kind === "conv") {
      const [co, ci, kh, kw] = l.shape;
      const [, H, W] = shape;
      const [pt, pl, pb, pr] = l.pads;
      const Ho = Math.floor((H + pt + pb - kh) / l.strides[0]) + 1;
      const Wo = Math.floor((W + pl + pr - kw) / l.strides[1]) + 1;
      const out = new Float64Array(n * co * Ho * Wo);
      for (let i = 0; i < n; i++)
        for (let o = 0; o < co; o++)
          for (let y = 0; y < Ho; y++)
            for (let z = 0; z < Wo; z++) {
              let acc = l.b ? l.b[o] : 0;
              for (let c = 0; c < ci; c++)
                for (let a = 0; a < kh; a++) {
                  const r = y * l.strides[0] + a - pt;
                  if (r < 0 || r >= H) continue;
                  for (let b = 0; b < kw; b++) {
                    const q = z * l.strides[1] + b - pl;
                    if (q >= 0 && q < W) acc += h[i * per + (c * H + r) * W + q] * l.w[((o * ci + c) * kh + a) * kw + b];
                  }
                }
              out[((i * co + o) * Ho + y) * Wo + z] = acc;
            }
      h = out;
      shape = [co, Ho, Wo];
    } else if (l.kind === "maxpool") {
      const [C, H, W] = shape;
      const [kh, kw] = l.kernel;
      const Ho = Math.floor(H / kh);
      const Wo = Math.floor(W / kw);
      const out = new Float64Array(n * C * Ho * Wo).fill(-Infinity);
      for (let i = 0; i < n; i++)
        for (let c = 0; c < C; c++)
          for (let y = 0; y < Ho * kh; y++)
            for (let z = 0; z < Wo * kw; z++) {
              const k = ((i * C + c) * Ho + Math.floor(y / kh)) * Wo + Math.floor(z / kw);
              out[k] = Math.max(out[k], h[i * per + (c * H + y) * W + z]);
            }
      h = out;
      shape = [C, Ho, Wo];
    } else if (l.kind === "relu") h = h.map((v) => Math.max(0, v));
    else shape = [per];
  }
  return Float32Array.from(h);
}

const transpose = (a: ArrayLike<number>, rows: number, cols: number): Float32Array => {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
  return t;
};

const toFloat32 = (data: ArrayLike<number> | BigInt64Array | BigUint64Array, file: string, name: string, dtype: string): Float32Array => {
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) throw userError("bad_model", [file, name], `tensor ${name} is ${dtype}: weights must be floating point`);
  if (!["F16", "F32", "F64"].includes(dtype)) throw userError("bad_model", [file, name], `tensor ${name} is ${dtype}: weights must be F16, F32 or F64`);
  const out = Float32Array.from(data as ArrayLike<number>);
  for (let i = 0; i < out.length; i++) if (!Number.isFinite(out[i])) throw userError("bad_model", [file, name], `tensor ${name} has a non-finite value at flat index ${i}`);
  return out;
};

/** Chain [out, in] (or [in, out]) weight matrices into layers by shape; null when no chain fits. */
function chain(weights: { name: string; shape: number[] }[], layout: "out-in" | "in-out", inputDim?: number): number[] | null {
  const io = (s: number[]) => (layout === "out-in" ? [s[1], s[0]] : [s[0], s[1]]);
  for (let l = 0; l + 1 < weights.length; l++) if (io(weights[l].shape)[1] !== io(weights[l + 1].shape)[0]) return null;
  if (inputDim !== undefined && io(weights[0].shape)[0] !== inputDim) return null;
  return [io(weights[0].shape)[0], ...weights.map((w) => io(w.shape)[1])];
}

/** Bytes per element of each dtype @jax-js/loaders reads (the safetensors format's sizes). */
const DTYPE_BYTES: Record<string, number> = { BOOL: 1, U8: 1, I8: 1, U16: 2, I16: 2, F16: 2, U32: 4, I32: 4, F32: 4, U64: 8, I64: 8, F64: 8 };

/**
 * The layout rule of the safetensors format, which @jax-js/loaders does not check: each tensor holds
 * prod(shape) × its dtype's size bytes, and the tensors' data_offsets, sorted by begin, tile the data region
 * exactly (the first at 0, each where the previous one ends, the last at the end of the file). Tensors that
 * overlap would read each other's bytes. A header that cannot be read is left to the loader's error.
 */
function checkSafetensorsLayout(bytes: Uint8Array, file: string): void {
  if (bytes.length < 8) return;
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) return;
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + Number(n))));
  } catch {
    return;
  }
  if (!header || typeof header !== "object") return;
  const dataBytes = bytes.length - 8 - Number(n);
  const spans: { name: string; begin: number; end: number }[] = [];
  for (const [name, t] of Object.entries(header as Record<string, { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null>)) {
    if (name === "__metadata__") continue;
    const off = t?.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && o >= 0) || off[1] < off[0])
      throw userError("bad_model", [file, name], `tensor ${name} has data_offsets ${JSON.stringify(off) ?? "missing"}: expected [begin, end], integers with 0 ≤ begin ≤ end`);
    const [begin, end] = off as number[];
    const shape = t?.shape;
    const width = DTYPE_BYTES[String(t?.dtype)];
    if (width && Array.isArray(shape) && shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      const need = shape.reduce((a: number, b: number) => a * b, 1) * width;
      if (end - begin !== need) throw userError("bad_model", [file, name], `tensor ${name} holds ${end - begin} bytes (data_offsets [${begin}, ${end}]); its shape [${shape.join(", ")}] of ${String(t?.dtype)} needs ${need}`);
    }
    spans.push({ name, begin, end });
  }
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end || naturalCompare(a.name, b.name));
  let pos = 0;
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i];
    if (s.begin < pos) throw userError("bad_model", [file, s.name], `tensor ${s.name} (bytes ${s.begin}–${s.end}) overlaps tensor ${spans[i - 1].name} (bytes ${spans[i - 1].begin}–${pos}): the tensors' data_offsets must tile the data region`);
    if (s.begin > pos) throw userError("bad_model", [file, s.name], `a gap of ${s.begin - pos} bytes before tensor ${s.name} (it begins at byte ${s.begin}, the previous tensor ends at ${pos}): the tensors' data_offsets must tile the data region`);
    if (s.end > dataBytes) throw userError("bad_model", [file, s.name], `tensor ${s.name} ends at byte ${s.end}, past the end of the data region (${dataBytes} bytes): a truncated file?`);
    pos = s.end;
  }
  const last = spans[spans.length - 1]?.name;
  if (pos < dataBytes) throw userError("bad_model", last ? [file, last] : [file], `the data region has ${dataBytes - pos} bytes after the last tensor${last ? ` (${last} ends at byte ${pos} of ${dataBytes})` : ""}: the tensors' data_offsets must tile the data region`);
}

/** A dense network from safetensors bytes. `inputDim` (the data's features), when known, decides the layout. */
export function denseFromSafetensors(bytes: Uint8Array, file: string, inputDim?: number): LoadedModel {
  checkSafetensorsLayout(bytes, file);
  let parsed: ReturnType<typeof safetensors.parse>;
  try {
    parsed = safetensors.parse(bytes.slice().buffer as ArrayBuffer);
  } catch (e) {
    throw userError("bad_model", [file], `is not a readable safetensors file (${(e as Error).message})`);
  }
  const names = Object.keys(parsed.tensors).sort(naturalCompare);
  for (const n of names) {
    const t = parsed.tensors[n] as { shape?: unknown; data?: { length?: unknown }; dtype?: unknown } | undefined;
    const shape = t?.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw userError("bad_model", [file, n], `tensor ${n} has no valid shape (${JSON.stringify(shape)})`);
    const size = shape.reduce((a: number, b: number) => a * b, 1);
    if (!t?.data || t.data.length !== size) throw userError("bad_model", [file, n], `tensor ${n} holds ${String(t?.data?.length ?? 0)} values for shape [${shape.join(", ")}]`);
  }
  const weightNames = names.filter((n) => n === "weight" || n.endsWith(".weight") || n.endsWith("_weight"));
  if (!weightNames.length) throw userError("bad_model", [file], `has no tensor named *.weight (tensors: ${names.slice(0, 8).join(", ")}${names.length > 8 ? ", …" : ""})`);
  for (const n of weightNames) {
    const s = parsed.tensors[n].shape;
    if (s.length !== 2) throw userError("bad_model", [file, n], `tensor ${n} has shape [${s.join(", ")}]: genlab measures dense (Linear) layers from safetensors; a ${s.length === 4 ? "convolution" : `${s.length}-D tensor`} is not supported (export the model to ONNX to have its graph checked, or measure an MLP)`);
  }
  const ws = weightNames.map((n) => ({ name: n, shape: parsed.tensors[n].shape }));
  let layout: "out-in" | "in-out" = "out-in";
  let dims = chain(ws, "out-in", inputDim);
  if (!dims) {
    dims = chain(ws, "in-out", inputDim);
    layout = "in-out";
  }
  if (!dims) throw userError("bad_model", [file], `its weight matrices do not chain into a network${inputDim !== undefined ? ` taking ${inputDim} features` : ""}: ${ws.map((w) => `${w.name} [${w.shape.join(", ")}]`).join(", ")}`);
  const weights = ws.map((w, l) => {
    const t = parsed.tensors[w.name];
    const data = toFloat32(t.data, file, w.name, t.dtype);
    return layout === "out-in" ? transpose(data, dims![l + 1], dims![l]) : data;
  });
  const biases = ws.map((w, l) => {
    const bn = w.name.replace(/weight$/, "bias");
    const t = parsed.tensors[bn];
    if (!t) return null;
    if (t.shape.length !== 1 || t.shape[0] !== dims![l + 1]) throw userError("bad_model", [file, bn], `bias ${bn} has shape [${t.shape.join(", ")}], expected [${dims![l + 1]}]`);
    return toFloat32(t.data, file, bn, t.dtype);
  });
  const other = names.filter((n) => !weightNames.includes(n) && !weightNames.some((w) => w.replace(/weight$/, "bias") === n));
  const net = { dims, weights, biases };
  const notes = [`layout ${layout === "out-in" ? "[out, in] (PyTorch)" : "[in, out]"}; layers in name order: ${weightNames.join(", ")}`, "a safetensors file has no graph: ReLU between the layers is assumed (use ONNX to have the graph read)"];
  if (other.length) notes.push(`tensors not used: ${other.join(", ")}`);
  return { net, format: "safetensors", describe: describeNet(net), notes };
}

const ONNX_FLOAT = 1;
const ONNX_DOUBLE = 11;

function onnxTensor(t: { name: string; dims: bigint[]; dataType: number; rawData: Uint8Array; floatData: number[]; doubleData: number[] }, file: string): { shape: number[]; data: Float32Array } {
  const shape = t.dims.map(Number);
  const size = shape.reduce((a, b) => a * b, 1);
  let data: Float32Array;
  const width = t.dataType === ONNX_FLOAT ? 4 : 8;
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw userError("bad_model", [file, t.name], `initializer ${t.name} has shape [${shape.join(", ")}]`);
  if (t.rawData.length && t.rawData.length !== size * width) throw userError("bad_model", [file, t.name], `initializer ${t.name} holds ${t.rawData.length} bytes for shape [${shape.join(", ")}] (${size * width} expected)`);
  if (t.dataType === ONNX_FLOAT) data = t.rawData.length ? new Float32Array(t.rawData.slice().buffer, 0, size) : Float32Array.from(t.floatData);
  else if (t.dataType === ONNX_DOUBLE) data = Float32Array.from(t.rawData.length ? new Float64Array(t.rawData.slice().buffer, 0, size) : t.doubleData);
  else throw userError("bad_model", [file, t.name], `initializer ${t.name} has ONNX data type ${t.dataType}: weights must be float or double`);
  if (data.length !== size) throw userError("bad_model", [file, t.name], `initializer ${t.name} holds ${data.length} values for shape [${shape.join(", ")}]`);
  return { shape, data: Float32Array.from(data) };
}


const PROBES = 8;
type OnnxInput = { name: string; type?: unknown };
/** The per-example input shape an ONNX graph input declares (batch dimension dropped; null where a dimension is symbolic). */
function onnxInputShape(input: OnnxInput): (number | null)[] | null {
  const dims = (input.type as { value?: { value?: { shape?: { dim: { value: { case: string; value: unknown } }[] } } } } | undefined)?.value?.value?.shape?.dim;
  return dims ? dims.slice(1).map((d) => (d.value.case === "dimValue" ? Number(d.value.value) : null)) : null;
}

/**
 * genlab's reading of a graph against the graph run by @jax-js/onnx on PROBES deterministic inputs: the largest
 * |Δ logit|, or an error naming the file when they disagree (relative 1e-4).
 */
function checkAgainstRun(model: ONNXModel, input: OnnxInput, features: number, perExample: number[], forward: (x: Float32Array, n: number) => Float32Array, file: string, what: string): number {
  const n = PROBES;
  const probe = Float32Array.from({ length: n * features }, (_, k) => Math.sin(0.37 * k + 0.11) * 1.5);
  const declared = onnxInputShape(input);
  const inShape = declared && declared.length === perExample.length ? [n, ...declared.map((d, k) => d ?? perExample[k])] : declared ? [n, ...declared.map((d) => d ?? features)] : [n, ...perExample];
  let outs: Record<string, { dataSync(): unknown; dispose(): void }>;
  try {
    outs = model.run({ [input.name]: np.array(probe).reshape(inShape) }) as never;
  } catch (e) {
    throw userError("bad_model", [file], `running the graph on [${inShape.join(", ")}] inputs failed (${(e as Error).message}): genlab cannot check its reading of it`);
  }
  const names = Object.keys(outs);
  const logits = Float32Array.from(outs[names[0]].dataSync() as ArrayLike<number>);
  for (const k of names.slice(1)) outs[k].dispose();
  const mine = forward(probe, n);
  let err = 0;
  let scale = 0;
  for (let k = 0; k < mine.length; k++) {
    err = Math.max(err, Math.abs(mine[k] - logits[k]));
    scale = Math.max(scale, Math.abs(logits[k]));
  }
  if (logits.length !== mine.length || !(err <= 1e-4 * Math.max(1, scale))) throw userError("bad_model", [file], `genlab's reading of the graph disagrees with running it (${logits.length !== mine.length ? `${logits.length} vs ${mine.length} outputs` : `max |Δ logit| ${err.toPrecision(3)}`}): the graph is not ${what}`);
  return err;
}


type OnnxGraph = NonNullable<ONNXModel["model"]["graph"]>;
type OnnxNode = OnnxGraph["node"][number];
type Inits = Map<string, OnnxGraph["initializer"][number]>;
const attrOf = (node: OnnxNode, name: string) => node.attribute.find((a) => a.name === name);
const intsOf = (node: OnnxNode, name: string): number[] | null => {
  const a = attrOf(node, name);
  return a ? a.ints.map(Number) : null;
};

/** A Gemm, or a MatMul with the Add of its bias, at nodes[i]: W [in, out], the bias, and how many nodes it used. */
function readDenseNode(nodes: OnnxNode[], i: number, inits: Inits, file: string): { data: Float32Array; shape: [number, number]; bias: Float32Array | null; consumed: number } {
  const node = nodes[i];
  const where = `node ${node.name || i} (${node.opType})`;
  const attr = attrOf;
  let consumed = 1;
  const wt = inits.get(node.input[1]);
  if (!wt) throw userError("bad_model", [file, node.name || String(i)], `${where}: its weight ${node.input[1]} is not an initializer (a constant)`);
  let { shape, data } = onnxTensor(wt as never, file);
  if (shape.length !== 2) throw userError("bad_model", [file, wt.name], `${where}: weight of shape [${shape.join(", ")}] is not a matrix`);
  let bias: Float32Array | null = null;
  if (node.opType === "Gemm") {
    for (const a of ["alpha", "beta"]) if (attr(node, a) && attr(node, a)!.f !== 1) throw userError("bad_model", [file, node.name || String(i)], `${where}: ${a} = ${attr(node, a)!.f} is not supported (1 only)`);
    if (attr(node, "transA") && Number(attr(node, "transA")!.i) !== 0) throw userError("bad_model", [file, node.name || String(i)], `${where}: transA = 1 is not supported`);
    if (attr(node, "transB") && Number(attr(node, "transB")!.i) === 1) {
      data = transpose(data, shape[0], shape[1]);
      shape = [shape[1], shape[0]];
    }
    if (node.input[2]) {
      const bt = inits.get(node.input[2]);
      if (!bt) throw userError("bad_model", [file, node.name || String(i)], `${where}: its bias ${node.input[2]} is not an initializer`);
      bias = onnxTensor(bt as never, file).data;
    }
  } else {
    const next = nodes[i + 1];
    if (next && next.opType === "Add") {
      const other = next.input.find((n) => n !== node.output[0]);
      const bt = other ? inits.get(other) : undefined;
      if (!bt) throw userError("bad_model", [file, next.name || String(i + 1)], `node ${next.name || i + 1} (Add) after a MatMul must add a bias initializer`);
      bias = onnxTensor(bt as never, file).data;
      consumed = 2;
    }
  }
  if (bias && bias.length !== shape[1]) throw userError("bad_model", [file, node.name || String(i)], `${where}: bias of ${bias.length} values for ${shape[1]} outputs`);
  return { data, shape: [shape[0], shape[1]], bias, consumed };
}

/**
 * A dense network from ONNX bytes: the graph's nodes in order must be [Flatten|Reshape|Identity]*, then layers
 * (Gemm, or MatMul followed by Add of a bias initializer) separated by Relu. Checked against the ONNX model
 * run by @jax-js/onnx on `probes` random inputs.
 */
export function denseFromOnnx(bytes: Uint8Array, file: string): LoadedModel {
  let model: ONNXModel;
  try {
    model = new ONNXModel(bytes.slice() as Uint8Array<ArrayBuffer>);
  } catch (e) {
    throw userError("bad_model", [file], `is not a readable ONNX model (${(e as Error).message})`);
  }
  try {
    const g = model.model.graph!;
    const inits = new Map(g.initializer.map((t) => [t.name, t]));
    const inputs = g.input.filter((i) => !inits.has(i.name));
    if (inputs.length !== 1) throw userError("bad_model", [file], `has ${inputs.length} graph inputs (${inputs.map((i) => i.name).join(", ")}); genlab measures a network with one input`);
    if (g.node.some((n) => n.opType === "Conv" || n.opType === "MaxPool")) return layersFromOnnx(model, g.node, inits, inputs[0], file);
    const weights: Float32Array[] = [];
    const biases: (Float32Array | null)[] = [];
    const dims: number[] = [];
    let expect: "layer" | "relu-or-end" = "layer";
    const attr = (node: (typeof g.node)[number], name: string) => node.attribute.find((a) => a.name === name);
    const nodes = g.node;
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i];
      const where = `node ${node.name || i} (${node.opType})`;
      if (["Flatten", "Reshape", "Identity"].includes(node.opType)) {
        if (weights.length && node.opType !== "Identity") throw userError("bad_model", [file, node.name || String(i)], `${where} comes after the first layer: only a leading Flatten/Reshape is supported`);
        continue;
      }
      if (node.opType === "Relu") {
        if (expect !== "relu-or-end") throw userError("bad_model", [file, node.name || String(i)], `${where}: a Relu must follow a layer`);
        expect = "layer";
        continue;
      }
      if (node.opType === "Gemm" || node.opType === "MatMul") {
        if (expect !== "layer") throw userError("bad_model", [file, node.name || String(i)], `${where}: two layers without a Relu between them (genlab measures ReLU networks)`);
        const { data, shape, bias, consumed } = readDenseNode(nodes, i, inits, file);
        i += consumed - 1;
        if (dims.length && dims[dims.length - 1] !== shape[0]) throw userError("bad_model", [file, node.name || String(i)], `${where}: takes ${shape[0]} inputs but the previous layer gives ${dims[dims.length - 1]}`);
        if (!dims.length) dims.push(shape[0]);
        dims.push(shape[1]);
        weights.push(data);
        biases.push(bias);
        expect = "relu-or-end";
        continue;
      }
      throw userError("bad_model", [file, node.name || String(i)], `${where}: unsupported operator ${node.opType}; genlab measures dense ReLU networks (Gemm or MatMul + Add, Relu, a leading Flatten/Reshape)`);
    }
    if (!weights.length) throw userError("bad_model", [file], "has no Gemm or MatMul layer");
    if (expect !== "relu-or-end") throw userError("bad_model", [file], "ends with a Relu: genlab needs the logits (the last layer's output)");
    const net = { dims, weights, biases };
    const err = checkAgainstRun(model, inputs[0], dims[0], [dims[0]], (probe, n) => hostForward(net, probe, n), file, "a plain dense ReLU network");
    return { net, format: "onnx", describe: describeNet(net), notes: [`graph checked: logits equal the ONNX run's on ${PROBES} probe inputs (max |Δ| ${err.toPrecision(2)})`] };
  } finally {
    model.dispose();
  }
}

/**
 * A convolutional network from an ONNX graph: a chain of Conv (group 1, dilation 1, explicit or VALID
 * padding), Relu, MaxPool (window = stride, no padding, floor mode), Flatten (axis 1) or a Reshape to
 * [batch, features], Gemm / MatMul + Add, Identity. The input's [C, H, W] comes from the graph's declared input.
 * Checked, like a dense graph, against the graph run by @jax-js/onnx.
 */
function layersFromOnnx(model: ONNXModel, nodes: OnnxNode[], inits: Inits, input: OnnxInput, file: string): LoadedModel {
  const declared = onnxInputShape(input);
  if (!declared || declared.length !== 3 || declared.some((d) => d === null)) throw userError("bad_model", [file, input.name], `input ${input.name} is declared as [batch, ${(declared ?? []).map((d) => d ?? "?").join(", ")}]: a convolutional network needs a fixed [batch, C, H, W] input`);
  const inputShape = declared as number[];
  const supported = new Set(["Identity", "Relu", "Conv", "MaxPool", "Flatten", "Reshape", "Gemm", "MatMul", "Add"]);
  const unsupported = [...new Set(nodes.map((n) => n.opType).filter((op) => !supported.has(op)))];
  if (unsupported.length) {
    const first = nodes.find((n) => !supported.has(n.opType))!;
    throw userError("bad_model", [file, first.name || first.opType], `unsupported operator${unsupported.length > 1 ? "s" : ""} ${unsupported.join(", ")} (first: node ${first.name || first.opType}); genlab measures ReLU networks of Conv, MaxPool, Flatten/Reshape, Gemm or MatMul + Add, Relu`);
  }
  const layers: LayerListLayer[] = [];
  let shape = inputShape.slice();
  const fail = (node: OnnxNode, i: number, msg: string): never => {
    throw userError("bad_model", [file, node.name || String(i)], `node ${node.name || i} (${node.opType}): ${msg}`);
  };
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i];
    const op = node.opType;
    if (op === "Identity") continue;
    if (op === "Relu") {
      layers.push({ kind: "relu" });
      continue;
    }
    if (op === "Conv") {
      if (shape.length !== 3) fail(node, i, `a convolution after the features were flattened (shape [${shape.join(", ")}])`);
      const wt = inits.get(node.input[1]);
      if (!wt) fail(node, i, `its kernel ${node.input[1]} is not an initializer (a constant)`);
      const { shape: ks, data } = onnxTensor(wt as never, file);
      if (ks.length !== 4) fail(node, i, `kernel of shape [${ks.join(", ")}]: genlab measures 2-D convolutions (a [c_out, c_in, k_h, k_w] kernel)`);
      const group = Number(attrOf(node, "group")?.i ?? 1);
      if (group !== 1) fail(node, i, `group = ${group} (grouped or depthwise convolution) is not supported`);
      const dil = intsOf(node, "dilations");
      if (dil && dil.some((d) => d !== 1)) fail(node, i, `dilations [${dil.join(", ")}] are not supported (1 only)`);
      const autoPad = new TextDecoder().decode((attrOf(node, "auto_pad")?.s as Uint8Array | undefined) ?? new Uint8Array());
      if (autoPad && autoPad !== "NOTSET" && autoPad !== "VALID") fail(node, i, `auto_pad ${autoPad} is not supported (export with explicit pads)`);
      const pads = intsOf(node, "pads") ?? [0, 0, 0, 0];
      const strides = intsOf(node, "strides") ?? [1, 1];
      if (ks[1] !== shape[0]) fail(node, i, `takes ${ks[1]} channels but gets ${shape[0]}`);
      let bias: Float32Array | null = null;
      if (node.input[2]) {
        const bt = inits.get(node.input[2]);
        if (!bt) fail(node, i, `its bias ${node.input[2]} is not an initializer`);
        bias = onnxTensor(bt as never, file).data;
        if (bias.length !== ks[0]) fail(node, i, `bias of ${bias.length} values for ${ks[0]} output channels`);
      }
      const ho = Math.floor((shape[1] + pads[0] + pads[2] - ks[2]) / strides[0]) + 1;
      const wo = Math.floor((shape[2] + pads[1] + pads[3] - ks[3]) / strides[1]) + 1;
      if (ho < 1 || wo < 1) fail(node, i, `a ${ks[2]}×${ks[3]} kernel does not fit the ${shape[1]}×${shape[2]} input`);
      layers.push({ kind: "conv", shape: [ks[0], ks[1], ks[2], ks[3]], strides: [strides[0], strides[1]], pads: [pads[0], pads[1], pads[2], pads[3]], w: data, b: bias });
      shape = [ks[0], ho, wo];
      continue;
    }
    if (op === "MaxPool") {
      if (shape.length !== 3) fail(node, i, "max pooling after the features were flattened");
      const k = intsOf(node, "kernel_shape") ?? [];
      const st = intsOf(node, "strides") ?? k.map(() => 1);
      const pads = intsOf(node, "pads") ?? [0, 0, 0, 0];
      const dil = intsOf(node, "dilations");
      if (k.length !== 2) fail(node, i, `kernel_shape [${k.join(", ")}]: 2-D pooling expected`);
      if (st[0] !== k[0] || st[1] !== k[1]) fail(node, i, `strides [${st.join(", ")}] differ from the window [${k.join(", ")}] (overlapping pooling is not supported)`);
      if (pads.some((p) => p !== 0)) fail(node, i, `pads [${pads.join(", ")}] are not supported (0 only)`);
      if (dil && dil.some((d) => d !== 1)) fail(node, i, `dilations [${dil.join(", ")}] are not supported`);
      if (Number(attrOf(node, "ceil_mode")?.i ?? 0) !== 0) fail(node, i, "ceil_mode = 1 is not supported");
      if (node.output.length > 1 && node.output[1]) fail(node, i, "its Indices output is used");
      layers.push({ kind: "maxpool", kernel: [k[0], k[1]] });
      shape = [shape[0], Math.floor(shape[1] / k[0]), Math.floor(shape[2] / k[1])];
      continue;
    }
    if (op === "Flatten" || op === "Reshape") {
      if (op === "Flatten" && Number(attrOf(node, "axis")?.i ?? 1) !== 1) fail(node, i, "only axis = 1 is supported");
      if (shape.length === 1) continue; // already a vector
      layers.push({ kind: "flatten" });
      shape = [shape.reduce((a, b) => a * b, 1)];
      continue;
    }
    if (op === "Gemm" || op === "MatMul") {
      if (shape.length !== 1) fail(node, i, `a dense layer on [${shape.join(", ")}] activations: flatten them first`);
      const { data, shape: ws, bias, consumed } = readDenseNode(nodes, i, inits, file);
      if (ws[0] !== shape[0]) fail(node, i, `takes ${ws[0]} inputs but the previous layer gives ${shape[0]}`);
      layers.push({ kind: "dense", inDim: ws[0], outDim: ws[1], w: data, b: bias });
      shape = [ws[1]];
      i += consumed - 1;
      continue;
    }
    fail(node, i, `unsupported operator ${op}; genlab measures ReLU networks of Conv, MaxPool, Flatten/Reshape, Gemm or MatMul + Add, Relu`);
  }
  if (shape.length !== 1 || layers[layers.length - 1]?.kind !== "dense") throw userError("bad_model", [file], "must end with a dense layer's logits (a Gemm or MatMul)");
  const net: LayerList = { input: inputShape, layers };
  const features = inputShape.reduce((a, b) => a * b, 1);
  const err = checkAgainstRun(model, input, features, inputShape, (probe, n) => hostForwardLayers(net, probe, n), file, "a network of the supported layers");
  const params = layers.reduce((a, l) => a + (l.kind === "dense" || l.kind === "conv" ? l.w.length + (l.b?.length ?? 0) : 0), 0);
  return { net, format: "onnx", describe: `convolutional ReLU network ${networkIO(net).describe} (${params.toLocaleString("en")} parameters)`, notes: [`graph checked: logits equal the ONNX run's on ${PROBES} probe inputs (max |Δ| ${err.toPrecision(2)})`] };
}

/** The arrays a run saves for a dense network: `model_<name>_w<i>` [in, out] and `model_<name>_b<i>`. */
export function denseToArrays(name: string, net: DenseNetwork): { name: string; data: Float32Array; shape: number[] }[] {
  const out: { name: string; data: Float32Array; shape: number[] }[] = [];
  net.weights.forEach((w, i) => {
    out.push({ name: `model_${name}_w${i}`, data: w, shape: [net.dims[i], net.dims[i + 1]] });
    const b = net.biases[i];
    if (b) out.push({ name: `model_${name}_b${i}`, data: b, shape: [net.dims[i + 1]] });
  });
  return out;
}

/** The models a run's arrays hold (names), and one of them rebuilt from `getArray` (name → {data, shape} or null). */
export function runModelNames(arrayNames: string[]): string[] {
  return [...new Set(arrayNames.map((n) => /^model_(.+)_w0$/.exec(n)?.[1]).filter((x): x is string => !!x))].sort();
}

export function denseFromArrays(name: string, getArray: (name: string) => { data: ArrayLike<number>; shape: number[] } | null): DenseNetwork {
  const weights: Float32Array[] = [];
  const biases: (Float32Array | null)[] = [];
  const dims: number[] = [];
  for (let i = 0; ; i++) {
    const w = getArray(`model_${name}_w${i}`);
    if (!w) break;
    if (!dims.length) dims.push(w.shape[0]);
    dims.push(w.shape[1]);
    weights.push(Float32Array.from(w.data));
    const b = getArray(`model_${name}_b${i}`);
    biases.push(b ? Float32Array.from(b.data) : null);
  }
  return { dims, weights, biases };
}

/** Encode tensors as a safetensors file (F32, little-endian), e.g. to export a genlab model for PyTorch. */
export function encodeSafetensors(tensors: Record<string, { shape: number[]; data: Float32Array }>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const [k, t] of Object.entries(tensors)) {
    header[k] = { dtype: "F32", shape: t.shape, data_offsets: [offset, offset + 4 * t.data.length] };
    offset += 4 * t.data.length;
  }
  let json = JSON.stringify(header);
  while ((8 + new TextEncoder().encode(json).length) % 8) json += " ";
  const hb = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hb.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let o = 8 + hb.length;
  for (const t of Object.values(tensors)) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), o);
    o += t.data.byteLength;
  }
  return out;
}
