/**
 * The measure catalogue's one entry point: every generalization measure genlab implements, computed for one
 * trained dense ReLU network on its training data, with ids, families, equation numbers (Jiang et al. 2020,
 * as the robust-generalization-measures reimplementation numbers them), standard errors where the estimate is
 * stochastic, and what each cost (forward passes, gradients, Hessian-vector products, wall time).
 *
 *   count       params (eq. 20)
 *   norm        measures/norms.ts (eqs. 22–44), the spectral-margin bound (Bartlett et al. 2017)
 *   flatness    PAC-Bayes σ' and magnitude-aware σ' (eqs. 48–61), worst-case sharpness (eqs. 50–60's
 *               sharpness counterparts), Fisher–Rao norm — measures/flatness.ts
 *   curvature   Hessian top-k eigenvalues (Lanczos), trace (Hutchinson and Hutch++), GGN trace — on
 *               Hessian-vector products (measures/spectral.ts, curvature.ts), never a materialised Hessian
 *   spectra     WeightWatcher-style layer spectra: mean α, α-weighted, stable rank, MP spikes —
 *               measures/weightSpectra.ts; a layer past the size limit is reported as not measured, with why
 *   data        train accuracy, train cross-entropy, 10th-percentile margin
 *   optimization steps to reach the training criterion (from the training run, when given)
 *
 * The network is a host description (`HostDense`: weights [in, out] row-major, biases) so that genlab runs,
 * safetensors and ONNX files all arrive here the same way; it is rebuilt unpadded on the device. Stochastic
 * measures use the first `subset` training rows (default 2,000).
 */
import { DType, numpy as np, type Array } from "@jax-js/jax";
import { splitKey, type Key } from "../core/prng.ts";
import { treeDispose, treeRef, type Tree } from "../core/tree.ts";
import { takeRows, type Dataset } from "../data/dataset.ts";
import { applyMlp, mlpSpec, type MlpParams, type MlpSpec } from "../nn/dense.ts";
import { applySeq, seqDeviceParams, seqParamLayers, seqShapes, type SeqNetwork, type SeqParams } from "../nn/sequential.ts";
import { softmaxCrossEntropy } from "../nn/losses.ts";
import type { Representation } from "./cka.ts";
import { ggnOperator } from "./curvature.ts";
import { deviceBatches, disposeBatches, fisherRaoNorm, type Classifier, pacBayesMeasures, pacBayesSigma, worstCaseSharpness } from "./flatness.ts";
import { matrixOf, normMeasures, pathNormSquared, spectralMarginBound, marginQuantile, type Matrix } from "./norms.ts";
import { hessianLinearOperator, hutchinsonTrace, hutchPlusPlus, topEigenvalues } from "./spectral.ts";
import { layerSpectrum, pooledLayerSpectrum, type LayerSpectrum } from "./weightSpectra.ts";

/** A dense ReLU network on the host: layer i maps dims[i] → dims[i+1] with W_i [dims[i], dims[i+1]] row-major. */
export type HostDense = { dims: number[]; weights: Float32Array[]; biases: (Float32Array | null)[] };

export const MEASURE_FAMILIES = ["count", "norm", "flatness", "curvature", "spectra", "data", "optimization"] as const;
export type MeasureFamily = (typeof MEASURE_FAMILIES)[number];

export type Cost = { forward: number; gradients: number; hvp: number; ms: number };
export type CatalogueValue = {
  id: string;
  family: MeasureFamily;
  /** Jiang et al. 2020 equation number, when the measure is one of theirs. */
  eq: number | null;
  value: number;
  /** Monte-Carlo standard error, for stochastic estimates. */
  se: number | null;
  doc: string;
  /** What computing the measure's family cost (shared by the measures computed together). */
  cost: Cost;
};
export type NotMeasured = { id: string; family: MeasureFamily; why: string };
export type CatalogueResult = { values: CatalogueValue[]; notMeasured: NotMeasured[]; examples: number; subset: number };

export type CatalogueOptions = {
  families?: MeasureFamily[];
  /** Rows used by the flatness and curvature measures (default 2,000). */
  subset?: number;
  hessianTopK?: number;
  traceProbes?: number;
  /** Bisection depth of the σ' and α' searches and Monte-Carlo samples of σ' (defaults 15/12 and 10). */
  searchDepth?: number;
  sigmaSamples?: number;
  /** Largest min(rows, cols) a layer spectrum diagonalises (default 4,096). */
  spectrumLimit?: number;
  /** Steps the training took to reach its criterion (the optimization-based measure), when known. */
  stepsToCriterion?: number;
  onFamily?: (family: MeasureFamily, done: number, total: number) => void;
};

/** Check shapes; throws a RangeError naming the layer. */
export function checkHostDense(net: HostDense): void {
  if (net.dims.length < 2) throw new RangeError("a network needs at least one layer");
  if (net.weights.length !== net.dims.length - 1 || net.biases.length !== net.weights.length) throw new RangeError(`${net.dims.length - 1} layers expected from dims ${net.dims.join("→")}, got ${net.weights.length} weights and ${net.biases.length} biases`);
  net.weights.forEach((w, i) => {
    if (w.length !== net.dims[i] * net.dims[i + 1]) throw new RangeError(`layer ${i}: weight has ${w.length} values, expected ${net.dims[i]}×${net.dims[i + 1]}`);
    const b = net.biases[i];
    if (b && b.length !== net.dims[i + 1]) throw new RangeError(`layer ${i}: bias has ${b.length} values, expected ${net.dims[i + 1]}`);
  });
}

/** The unpadded device network (spec and params) of a host description. */
export function deviceNetwork(net: HostDense): { spec: MlpSpec; params: MlpParams } {
  checkHostDense(net);
  const spec = mlpSpec({ dims: net.dims, activation: "relu", bias: true, padTo: 1 });
  return {
    spec,
    params: { layers: net.weights.map((w, i) => ({ w: np.array(Float32Array.from(w)).reshape([net.dims[i], net.dims[i + 1]]), b: np.array(Float32Array.from(net.biases[i] ?? new Float32Array(net.dims[i + 1]))) })) },
  };
}

/** The host description of a device MLP's real (unpadded) entries; params only read. */
export async function hostNetwork(spec: MlpSpec, params: MlpParams): Promise<HostDense> {
  const dims = spec.dims;
  const weights: Float32Array[] = [];
  const biases: (Float32Array | null)[] = [];
  for (let i = 0; i < params.layers.length; i++) {
    const l = params.layers[i];
    const stored = (await l.w.ref.data()) as Float32Array;
    const cols = l.w.shape[1];
    const w = new Float32Array(dims[i] * dims[i + 1]);
    for (let r = 0; r < dims[i]; r++) for (let c = 0; c < dims[i + 1]; c++) w[r * dims[i + 1] + c] = stored[r * cols + c];
    weights.push(w);
    biases.push(l.b ? ((await l.b.ref.data()) as Float32Array).slice(0, dims[i + 1]) : null);
  }
  return { dims, weights, biases };
}

const zeroCost = (): Cost => ({ forward: 0, gradients: 0, hvp: 0, ms: 0 });
const concat = (parts: ArrayLike<number>[]): Float64Array => {
  const out = new Float64Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

/**
 * What the catalogue needs of a network, whatever its kind: the device model and parameters, the flat
 * parameter vector, the matrices the norm measures use, the path norm and the layer spectra.
 */
type NetAdapter = {
  inputDim: number;
  classes: number;
  model: Classifier;
  /** Builds the device parameters (owned by the caller). The rest of the adapter stays on the host. */
  deviceParams(): Tree;
  flat(): Float64Array;
  /** Per parameter layer, the weight as a matrix: dense W [in, out]; a convolution's kernel reshaped to [c_out, c_in·k_h·k_w], as Jiang et al.'s code does. */
  matrices(): Matrix[];
  pathNorm(): Promise<number>;
  spectra(limit?: number): { name: string; s: LayerSpectrum }[];
};

function denseAdapter(net: HostDense): NetAdapter {
  checkHostDense(net);
  const spec = mlpSpec({ dims: net.dims, activation: "relu", bias: true, padTo: 1 });
  const mats = () => net.weights.map((w, i) => matrixOf(w, net.dims[i], net.dims[i + 1]));
  return {
    inputDim: net.dims[0],
    classes: net.dims[net.dims.length - 1],
    model: { apply: (p: Tree, x: Array) => applyMlp(spec, p as MlpParams, x) },
    deviceParams: () => deviceNetwork(net).params as unknown as Tree,
    flat: () => concat(net.weights.flatMap((w, i) => [w, net.biases[i] ?? new Float32Array(net.dims[i + 1])])),
    matrices: mats,
    pathNorm: async () => pathNormSquared(mats().map((w, i) => ({ w, b: net.biases[i] ? Float64Array.from(net.biases[i]!) : undefined }))),
    spectra: (limit) => net.weights.map((w, i) => ({ name: `layer ${i} (${net.dims[i]}×${net.dims[i + 1]})`, s: layerSpectrum(w, net.dims[i], net.dims[i + 1], { limit }) })),
  };
}

function seqAdapter(net: SeqNetwork): NetAdapter {
  const shapes = seqShapes(net);
  const layers = seqParamLayers(net);
  const out = shapes[shapes.length - 1][0];
  const inputDim = net.input.reduce((a, b) => a * b, 1);
  const model: Classifier = { apply: (p: Tree, x: Array) => applySeq(net, p as unknown as SeqParams, x) };
  return {
    inputDim,
    classes: out,
    model,
    deviceParams: () => seqDeviceParams(net) as unknown as Tree,
    flat: () => concat(layers.flatMap((l) => [l.w, l.b ?? new Float32Array(l.kind === "dense" ? l.outDim : l.shape[0])])),
    matrices: () => layers.map((l) => (l.kind === "dense" ? matrixOf(l.w, l.inDim, l.outDim) : matrixOf(l.w, l.shape[0], l.shape[1] * l.shape[2] * l.shape[3]))),
    // the reference's computation, which holds for any ReLU/max-pool net: the summed outputs of the network
    // with every parameter squared, on an all-ones input
    pathNorm: async () => {
      const sq = seqDeviceParams(net, (v) => v * v);
      const ones = np.ones([1, inputDim]);
      return ((await model.apply(sq as unknown as Tree, ones).sum().data()) as Float32Array)[0];
    },
    spectra: (limit) =>
      layers.map((l, i) => {
        if (l.kind === "dense") return { name: `layer ${i} (dense ${l.inDim}×${l.outDim})`, s: layerSpectrum(l.w, l.inDim, l.outDim, { limit }) };
        const [co, ci, kh, kw] = l.shape;
        // WeightWatcher's conv ESD: the k_h·k_w slices W[:, :, i, j] ([c_out, c_in]) pooled
        const slices = globalThis.Array.from({ length: kh * kw }, (_, s) => {
          const m = new Float32Array(co * ci);
          for (let o = 0; o < co; o++) for (let c = 0; c < ci; c++) m[o * ci + c] = l.w[((o * ci + c) * kh * kw) + s];
          return m;
        });
        return { name: `layer ${i} (conv ${co}×${ci}×${kh}×${kw})`, s: pooledLayerSpectrum(slices, co, ci, { limit }) };
      }),
  };
}

/** Logits of the whole dataset (host, [n, C]) in batches; params only read. */
async function logitsOf(a: NetAdapter, params: Tree, data: Dataset): Promise<Float32Array> {
  const b = deviceBatches(data);
  const out = new Float32Array(b.n * a.classes);
  let o = 0;
  for (const x of b.xs) {
    const z = (await a.model.apply(treeRef(params), x.ref).data()) as Float32Array;
    out.set(z, o);
    o += z.length;
  }
  disposeBatches(b);
  return out;
}

const isSeq = (net: HostDense | SeqNetwork): net is SeqNetwork => "layers" in net;

/**
 * A network's representations of host rows x (n × input size): the input, every hidden layer after its ReLU, and the
 * logits, each flattened to n × width (host float32), named for the layer they follow. For representational
 * similarity (measures/cka.ts). Builds and frees its own device parameters.
 */
export async function networkRepresentations(net: HostDense | SeqNetwork, x: Float32Array, n: number): Promise<Representation[]> {
  if (isSeq(net)) seqShapes(net);
  else checkHostDense(net);
  const params = isSeq(net) ? (seqDeviceParams(net) as unknown as Tree) : (deviceNetwork(net).params as unknown as Tree);
  const acts: Array[] = [];
  let names: string[];
  let logits: Array;
  try {
    // the forward pass consumes the parameters; on an error only the representations already taken are freed here
    if (isSeq(net)) {
      names = ["input"];
      let last = "";
      let p = 0;
      for (const l of net.layers) {
        if (l.kind === "dense" || l.kind === "conv") last = `${l.kind} ${++p}`;
        else if (l.kind === "relu") names.push(`${last} → relu`);
      }
      logits = applySeq(net, params as unknown as SeqParams, np.array(x as Float32Array<ArrayBuffer>, { shape: [n, net.input.reduce((a, b) => a * b, 1)] }), acts);
    } else {
      names = ["input", ...net.dims.slice(1, -1).map((w, i) => `dense ${i + 1} → relu (${w})`)];
      logits = applyMlp(mlpSpec({ dims: net.dims, activation: "relu", bias: true, padTo: 1 }), params as unknown as MlpParams, np.array(x as Float32Array<ArrayBuffer>, { shape: [n, net.dims[0]] }), undefined, acts);
    }
  } catch (e) {
    treeDispose(acts);
    throw e;
  }
  const out: Representation[] = [];
  for (const [i, a] of [...acts, logits].entries()) {
    const width = a.shape.slice(1).reduce((u, v) => u * v, 1);
    out.push({ name: i < names.length ? names[i] : "logits", data: (await a.reshape([n, width]).data()) as Float32Array, width });
  }
  return out;
}

/**
 * A network's logits on any host rows, for probes that evaluate a model many times (feature reliance): the device
 * parameters are built once; `dispose` frees them. Rows are n × the network's input size (flattened).
 */
export function networkLogits(net: HostDense | SeqNetwork): { inputDim: number; classes: number; logits(x: Float32Array, n: number): Promise<Float32Array>; dispose(): void } {
  const a = isSeq(net) ? seqAdapter(net) : denseAdapter(net);
  const params = a.deviceParams();
  return {
    inputDim: a.inputDim,
    classes: a.classes,
    logits: (x, n) => logitsOf(a, params, { x, xShape: [n, a.inputDim], y: new Int32Array(n), numClasses: a.classes }),
    dispose: () => treeDispose(params),
  };
}

/**
 * Every measure of the chosen families for `net` — a dense ReLU network, or a layer list with convolutions
 * (nn/sequential.ts) — trained on `train` (x [n, ...] flattened to the network's input size), with `init` its
 * initialisation (distance measures need it; without it they are reported as not measured). Consumes the key.
 */
export async function measureNetwork(net: HostDense | SeqNetwork, train: Dataset, key: Key, opts: CatalogueOptions & { init?: HostDense | SeqNetwork } = {}): Promise<CatalogueResult> {
  const initNet = opts.init ?? null;
  if (initNet && isSeq(initNet) !== isSeq(net)) throw new RangeError("the initialisation is not the same kind of network as the model");
  // host-side descriptions first (they check the shapes); device parameters only once every input is checked
  const net_ = isSeq(net) ? seqAdapter(net) : denseAdapter(net);
  const init = initNet ? (isSeq(initNet) ? seqAdapter(initNet) : denseAdapter(initNet)) : null;
  const w = net_.flat();
  const w0 = init ? init.flat() : null;
  if (w0 && w0.length !== w.length) throw new RangeError(`the initialisation has ${w0.length} parameters, the model ${w.length}`);
  const n = train.xShape[0];
  const d = train.xShape.slice(1).reduce((a, b) => a * b, 1);
  if (d !== net_.inputDim) throw new RangeError(`the data have ${d} features per example, the network's input takes ${net_.inputDim}`);
  const C = net_.classes;
  for (let i = 0; i < n; i++) if (!(train.y[i] >= 0 && train.y[i] < C)) throw new RangeError(`label ${train.y[i]} of example ${i} is outside 0..${C - 1} (the network has ${C} outputs)`);
  const families = opts.families ?? [...MEASURE_FAMILIES];
  const subsetN = Math.min(n, opts.subset ?? 2000);
  const subset = subsetN === n ? train : takeRows(train, Int32Array.from({ length: subsetN }, (_, i) => i));
  const data2d: Dataset = { ...train, xShape: [n, d] };
  const sub2d: Dataset = { ...subset, xShape: [subsetN, d] };
  const values: CatalogueValue[] = [];
  const notMeasured: NotMeasured[] = [];
  const params = net_.deviceParams();
  const model = net_.model;
  const keys = splitKey(key, 6);
  const push = (family: MeasureFamily, cost: Cost, items: { id: string; eq?: number | null; value: number; se?: number | null; doc: string }[]) => {
    for (const it of items) values.push({ id: it.id, family, eq: it.eq ?? null, value: it.value, se: it.se ?? null, doc: it.doc, cost });
  };
  const timed = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
    const t0 = performance.now();
    const r = await fn();
    return [r, performance.now() - t0];
  };
  let done = 0;
  try {
    // data: accuracy, loss, margins (one forward pass over all of train)
    const [logits, msData] = await timed(() => logitsOf(net_, params, data2d));
    const margins = new Float64Array(n);
    let correct = 0;
    let ce = 0;
    for (let i = 0; i < n; i++) {
      const y = train.y[i];
      let best = -Infinity;
      let mx = -Infinity;
      for (let c = 0; c < C; c++) {
        const z = logits[i * C + c];
        mx = Math.max(mx, z);
        if (c !== y) best = Math.max(best, z);
      }
      let s = 0;
      for (let c = 0; c < C; c++) s += Math.exp(logits[i * C + c] - mx);
      ce += mx + Math.log(s) - logits[i * C + y];
      margins[i] = logits[i * C + y] - best;
      if (margins[i] > 0) correct++;
    }
    const trainAcc = correct / n;
    if (families.includes("data")) {
      push("data", { ...zeroCost(), forward: 1, ms: msData }, [
        { id: "train_acc", value: trainAcc, doc: "training accuracy" },
        { id: "train_loss", value: ce / n, doc: "training cross-entropy" },
        { id: "margin_q10", value: marginQuantile(margins), doc: "10th-percentile training margin z_y − max_{k≠y} z_k (absolute value)" },
      ]);
      opts.onFamily?.("data", ++done, families.length);
    }
    if (families.includes("count")) {
      push("count", zeroCost(), [{ id: "params", eq: 20, value: w.length, doc: "number of parameters (weights and biases)" }]);
      opts.onFamily?.("count", ++done, families.length);
    }
    if (families.includes("optimization")) {
      if (opts.stepsToCriterion !== undefined) push("optimization", zeroCost(), [{ id: "steps_to_criterion", eq: null, value: opts.stepsToCriterion, doc: "optimizer steps the training took to reach its stopping criterion (Jiang et al. §C.5: steps to reach a loss)" }]);
      else notMeasured.push({ id: "steps_to_criterion", family: "optimization", why: "the training history is not known (a model file, not a genlab run)" });
      opts.onFamily?.("optimization", ++done, families.length);
    }
    if (families.includes("norm")) {
      const t0 = performance.now();
      const mats = net_.matrices();
      const initMats = init ? init.matrices() : null;
      const pn = await net_.pathNorm();
      const all = normMeasures({ weights: mats, init: initMats ?? mats, margins, numParams: w.length, pathNorm: pn, pathNormDoc: isSeq(net) ? "path norm: the summed outputs of the network with every parameter squared on an all-ones input (the reference's computation; Σ_paths Π w² for a ReLU MLP)" : undefined });
      const needsInit = new Set(["l2_dist", "log_spec_init_main", "fro_dist", "dist_spec_init"]);
      const kept = all.filter((m) => m.id !== "params" && (initMats || !needsInit.has(m.id)));
      if (!init) for (const id of needsInit) notMeasured.push({ id, family: "norm", why: "the initialisation is not known (pass --init or measure a genlab run)" });
      let xf = 0;
      for (let i = 0; i < n * d; i++) xf += train.x[i] * train.x[i];
      const smb = spectralMarginBound({ weights: mats, init: initMats ?? mats.map((m) => matrixOf(new Float64Array(m.data.length), m.rows, m.cols)), gamma: marginQuantile(margins), inputFrobenius: Math.sqrt(xf), m: n });
      const cost = { ...zeroCost(), ms: performance.now() - t0 };
      push("norm", cost, kept.map((m) => ({ id: m.id, eq: m.eq, value: m.value, doc: m.doc })));
      push("norm", cost, [{ id: "spectral_margin_bound", value: smb.boundTerm, doc: `Bartlett et al. 2017: R_W‖X‖_F/(γm), R_W = Π‖W_i‖₂ (Σ ‖W_i − M_i‖₂,₁^{2/3}/‖W_i‖₂^{2/3})^{3/2}, M_i = ${init ? "W_i⁰" : "0"}${isSeq(net) ? "; convolutions as their reshaped kernels [c_out, c_in·k_h·k_w] (Jiang et al.'s code), not the convolution operator" : ""}` }]);
      opts.onFamily?.("norm", ++done, families.length);
    }
    if (families.includes("spectra")) {
      const t0 = performance.now();
      const layers = net_.spectra(opts.spectrumLimit);
      for (const [i, l] of layers.entries()) if (!l.s.measured) notMeasured.push({ id: `layer${i}_spectrum`, family: "spectra", why: `${l.name}: ${l.s.why}` });
      const ok = layers.filter((l) => l.s.measured && Number.isFinite(l.s.alpha));
      const cost = { ...zeroCost(), ms: performance.now() - t0 };
      if (ok.length) {
        const mean = (f: (s: (typeof ok)[number]["s"]) => number) => ok.reduce((a, l) => a + f(l.s), 0) / ok.length;
        push("spectra", cost, [
          { id: "ww_alpha", value: mean((s) => s.alpha), doc: "mean power-law exponent α of the layers' ESD tails (WeightWatcher alpha)" },
          { id: "ww_alpha_weighted", value: mean((s) => s.alphaWeighted), doc: "mean α·log₁₀ λ_max (WeightWatcher alpha_weighted)" },
          { id: "ww_stable_rank", value: mean((s) => s.stableRank), doc: "mean stable rank ‖W‖_F²/‖W‖₂²" },
          { id: "ww_log_spectral_norm", value: mean((s) => s.logSpectralNorm), doc: "mean log₁₀ λ_max" },
          { id: "ww_mp_spikes", value: ok.reduce((a, l) => a + l.s.mpSpikes, 0), doc: "eigenvalues above the fitted Marchenko–Pastur edge, all layers" },
        ]);
      } else notMeasured.push({ id: "ww_alpha", family: "spectra", why: "no layer had a measurable spectrum tail" });
      opts.onFamily?.("spectra", ++done, families.length);
    }
    if (families.includes("flatness")) {
      const t0 = performance.now();
      const subAcc = (() => {
        let c = 0;
        for (let i = 0; i < subsetN; i++) if (margins[i] > 0) c++;
        return c / subsetN;
      })();
      const depth = opts.searchDepth;
      const sig = await pacBayesSigma(model, params as unknown as Tree, sub2d, { accuracy: subAcc, key: keys[0], depth: depth ?? 15, samples: opts.sigmaSamples });
      const mag = await pacBayesSigma(model, params as unknown as Tree, sub2d, { accuracy: subAcc, key: keys[1], magnitudeEps: 1e-3, depth: depth ?? 15, samples: opts.sigmaSamples });
      const pb = pacBayesMeasures({ w, w0: w0 ?? new Float64Array(w.length), m: n, sigma: sig.sigma, magSigma: mag.sigma, magEps: 1e-3 });
      // the sharpness search gets 8 more bisection steps than σ': trained networks' α' is often below 2⁻¹²
      const shp = await worstCaseSharpness(model, params as unknown as Tree, sub2d, { accuracy: subAcc, key: keys[2], depth: (depth ?? 12) + 8 });
      const shpMag = await worstCaseSharpness(model, params as unknown as Tree, sub2d, { accuracy: subAcc, key: keys[3], magnitudeEps: 1e-3, depth: (depth ?? 12) + 8 });
      const fr = await fisherRaoNorm(model, params as unknown as Tree, sub2d);
      const cost = { forward: sig.forwardPasses + mag.forwardPasses + shp.forwardPasses + shpMag.forwardPasses, gradients: shp.gradients + shpMag.gradients + 1, hvp: 0, ms: performance.now() - t0 };
      const needsInit = new Set(["pacbayes_init", "pacbayes_mag_init"]);
      push("flatness", cost, pb.filter((m) => w0 || !needsInit.has(m.id)).map((m) => ({ id: m.id, eq: m.eq, value: m.value, se: m.id.includes("mag") ? mag.se : sig.se, doc: `PAC-Bayes (Jiang eq. ${m.eq}) from σ' = ${(m.id.includes("mag") ? mag.sigma : sig.sigma).toPrecision(4)}; se: Monte-Carlo SE of the perturbed accuracy at σ'` })));
      if (!w0) for (const id of needsInit) notMeasured.push({ id, family: "flatness", why: "the initialisation is not known" });
      push("flatness", cost, [
        { id: "pacbayes_sigma", value: sig.sigma, se: sig.se, doc: "σ' itself: the largest N(0, σ²) weight noise costing ≤ 0.1 accuracy" },
        { id: "sharpness_flatness", value: 1 / shp.alpha ** 2, doc: `worst-case sharpness 1/α'², α' = ${shp.alpha.toPrecision(4)} (projected gradient ascent in the ℓ∞ box)` },
        { id: "sharpness_mag_flatness", value: 1 / shpMag.alpha ** 2, doc: `magnitude-aware worst-case sharpness 1/α'², α' = ${shpMag.alpha.toPrecision(4)}` },
        { id: "fisher_rao", value: fr, doc: "Fisher–Rao norm (1/m) Σ⟨θ, ∇ℓ_i⟩² (Liang et al. 2019)" },
      ]);
      opts.onFamily?.("flatness", ++done, families.length);
    } else keys[0].dispose(), keys[1].dispose(), keys[2].dispose(), keys[3].dispose();
    if (families.includes("curvature")) {
      const t0 = performance.now();
      const x = np.array((sub2d.x as Float32Array<ArrayBuffer>).subarray(0, subsetN * d)).reshape([subsetN, d]);
      const y = np.array(Int32Array.from((sub2d.y as ArrayLike<number>) as Int32Array).subarray(0, subsetN), { dtype: DType.Int32 });
      const loss = (p: Tree) => softmaxCrossEntropy(model.apply(p, x.ref), y.ref);
      const op = hessianLinearOperator(loss, treeRef(params));
      const k = opts.hessianTopK ?? 3;
      const probes = opts.traceProbes ?? 30;
      const [kTop, kTr, kPp, kGgn] = splitKey(keys[4], 4);
      const top = await topEigenvalues(op, k, { key: kTop, method: "lanczos" });
      const tr = await hutchinsonTrace(op, probes, kTr);
      const pp = await hutchPlusPlus(op, probes, kPp);
      op.dispose();
      const ggn = ggnOperator((p, xx) => model.apply(p, xx), treeRef(params), { x: x.ref, y: y.ref });
      const gtr = await hutchinsonTrace(ggn, probes, kGgn);
      ggn.dispose();
      x.dispose();
      y.dispose();
      const cost = { forward: 0, gradients: 0, hvp: top.products + tr.products + pp.products + gtr.products, ms: performance.now() - t0 };
      push("curvature", cost, [
        ...top.values.map((v, i) => ({ id: `hessian_eig${i + 1}`, value: v, se: top.residuals[i], doc: `Hessian eigenvalue ${i + 1} of the training loss (Lanczos, ${top.products} HVPs; se: the Ritz residual bound)` })),
        { id: "hessian_trace", value: tr.estimate, se: tr.se, doc: `Hessian trace, Hutchinson (${tr.products} Rademacher probes)` },
        { id: "hessian_trace_hutchpp", value: pp.estimate, se: pp.se, doc: `Hessian trace, Hutch++ (${pp.products} products)` },
        { id: "ggn_trace", value: gtr.estimate, se: gtr.se, doc: `Gauss–Newton trace, Hutchinson (${gtr.products} probes)` },
      ]);
      opts.onFamily?.("curvature", ++done, families.length);
    } else keys[4].dispose();
    keys[5].dispose();
  } finally {
    treeDispose(params);
  }
  return { values, notMeasured, examples: n, subset: subsetN };
}
