/**
 * A user's trained dense network from a file, as host arrays genlab's measure catalogue takes
 * (measures/catalogue.ts `HostDense`: weights [in, out] row-major, biases):
 *
 *   .safetensors   PyTorch / Hugging Face weights (read with @jax-js/loaders). The 2-D tensors named `*.weight`
 *                  are the layers; they are chained by shape (numeric-aware name order), in PyTorch's
 *                  [out, in] layout or, when only that fits, [in, out]; `*.bias` beside each. A file has no
 *                  graph: the activation between layers is taken to be ReLU (said in the notes).
 *   .onnx          an exported graph (read with @jax-js/onnx): Gemm, or MatMul + Add, with Relu between, and
 *                  Flatten / Reshape / Identity where they do not change the layers. Any other operator is
 *                  named in the error. The mapping is then checked: the ONNX model run by @jax-js/onnx and
 *                  genlab's reading of it must give the same logits on probe inputs (relative 1e-4).
 *   a run          genlab's own: `model_<name>_w<i>` / `_b<i>` arrays written by `denseToArrays`.
 *
 * Every problem is a GenlabError naming the file and the tensor, node or shape, raised before any output.
 */
import { numpy as np } from "@jax-js/jax";
import { safetensors } from "@jax-js/loaders";
import { ONNXModel } from "@jax-js/onnx";
import { userError } from "../core/errors.ts";

export type DenseNetwork = { dims: number[]; weights: Float32Array[]; biases: (Float32Array | null)[] };
export type LoadedModel = { net: DenseNetwork; format: "safetensors" | "onnx" | "run"; describe: string; notes: string[] };

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

/** A dense network from safetensors bytes. `inputDim` (the data's features), when known, decides the layout. */
export function denseFromSafetensors(bytes: Uint8Array, file: string, inputDim?: number): LoadedModel {
  let parsed: ReturnType<typeof safetensors.parse>;
  try {
    parsed = safetensors.parse(bytes.slice().buffer as ArrayBuffer);
  } catch (e) {
    throw userError("bad_model", [file], `is not a readable safetensors file (${(e as Error).message})`);
  }
  const names = Object.keys(parsed.tensors).sort(naturalCompare);
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
  if (t.dataType === ONNX_FLOAT) data = t.rawData.length ? new Float32Array(t.rawData.slice().buffer, 0, size) : Float32Array.from(t.floatData);
  else if (t.dataType === ONNX_DOUBLE) data = Float32Array.from(t.rawData.length ? new Float64Array(t.rawData.slice().buffer, 0, size) : t.doubleData);
  else throw userError("bad_model", [file, t.name], `initializer ${t.name} has ONNX data type ${t.dataType}: weights must be float or double`);
  if (data.length !== size) throw userError("bad_model", [file, t.name], `initializer ${t.name} holds ${data.length} values for shape [${shape.join(", ")}]`);
  return { shape, data: Float32Array.from(data) };
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
            i++;
          }
        }
        if (bias && bias.length !== shape[1]) throw userError("bad_model", [file, node.name || String(i)], `${where}: bias of ${bias.length} values for ${shape[1]} outputs`);
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
    // the check: genlab's reading of the graph against the graph run by @jax-js/onnx
    const n = 8;
    const probe = Float32Array.from({ length: n * dims[0] }, (_, k) => Math.sin(0.37 * k + 0.11) * 1.5);
    const shape = (inputs[0].type?.value as { value?: { shape?: { dim: { value: { case: string; value: unknown } }[] } } } | undefined)?.value?.shape?.dim.map((d) => (d.value.case === "dimValue" ? Number(d.value.value) : -1)) ?? [n, dims[0]];
    const inShape = shape.map((d, k) => (k === 0 ? n : d < 0 ? dims[0] : d));
    const outs = model.run({ [inputs[0].name]: np.array(probe).reshape(inShape) });
    const names = Object.keys(outs);
    const logits = Float32Array.from(outs[names[0]].dataSync() as ArrayLike<number>);
    for (const k of names.slice(1)) outs[k].dispose();
    const mine = hostForward(net, probe, n);
    let err = 0;
    let scale = 0;
    for (let k = 0; k < mine.length; k++) {
      err = Math.max(err, Math.abs(mine[k] - logits[k]));
      scale = Math.max(scale, Math.abs(logits[k]));
    }
    if (logits.length !== mine.length || err > 1e-4 * Math.max(1, scale)) throw userError("bad_model", [file], `genlab's reading of the graph disagrees with running it (max |Δ logit| ${err.toPrecision(3)}): the graph is not a plain dense ReLU network`);
    return { net, format: "onnx", describe: describeNet(net), notes: [`graph checked: logits equal the ONNX run's on ${n} probe inputs (max |Δ| ${err.toPrecision(2)})`] };
  } finally {
    model.dispose();
  }
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
