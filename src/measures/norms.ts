/**
 * Norm-, margin- and distance-based generalization measures of Jiang, Neyshabur, Mobahi, Krishnan, Bengio
 * (2020, "Fantastic Generalization Measures and Where to Find Them", ICLR), with the ids, equation numbers and
 * conventions of the robust-generalization-measures reimplementation (Dziugaite et al. 2020,
 * `data/generation/measures.py`, read to check, not copied):
 *
 *   - weights are the layers' weight matrices only (biases excluded); a conv kernel [out, in, kh, kw] is
 *     reshaped to [out, in·kh·kw]; d is the number of layers;
 *   - the margin γ is the 10th percentile (the ⌊m/10⌋-th smallest) of the training margins
 *     z_y − max_{k≠y} z_k, in absolute value;
 *   - spectral norms here are exact (the largest singular value of the 2-D weight matrix, by power iteration
 *     on WᵀW to 1e-10), not the FFT spectral norm of a convolution operator;
 *   - every measure is finally adjusted for the training-set size m as the reference does: 0.5·(v − ln m)
 *     for log measures, √(v/m) otherwise (`adjustForSize`).
 *
 * Host float64 on weights copied out of the network (layers are small); `margins` is computed by the caller
 * from the network's logits (scores/perExample.ts `outputQuantities`).
 */

/** A weight matrix [rows × cols], row-major (a dense layer's W stored [in, out] is passed as is: norms do not care). */
export type Matrix = { data: Float64Array; rows: number; cols: number };

export const matrixOf = (data: ArrayLike<number>, rows: number, cols: number): Matrix => {
  if (data.length !== rows * cols) throw new RangeError(`matrix: ${data.length} values for ${rows}×${cols}`);
  return { data: Float64Array.from(data), rows, cols };
};

export function frobeniusSquared(w: Matrix): number {
  return w.data.reduce((s, v) => s + v * v, 0);
}

/** σ_max(W)² by power iteration on WᵀW (deterministic start, relative tolerance 1e-12, at most 2,000 steps). */
export function spectralSquared(w: Matrix): number {
  const { rows, cols, data } = w;
  let v = Float64Array.from({ length: cols }, (_, j) => 1 + ((j * 7919) % 13) / 13);
  let lambda = 0;
  for (let it = 0; it < 2000; it++) {
    const u = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let c = 0; c < cols; c++) s += data[r * cols + c] * v[c];
      u[r] = s;
    }
    const next = new Float64Array(cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) next[c] += data[r * cols + c] * u[r];
    const norm = Math.sqrt(next.reduce((s, x) => s + x * x, 0));
    const vn = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    const est = norm / vn;
    if (norm === 0) return 0;
    v = next.map((x) => x / norm);
    if (Math.abs(est - lambda) <= 1e-12 * est) return est;
    lambda = est;
  }
  return lambda;
}

/** The ⌊m/10⌋-th smallest training margin (1-based, as torch.kthvalue), in absolute value. */
export function marginQuantile(margins: ArrayLike<number>): number {
  const s = Float64Array.from(margins).sort();
  const k = Math.max(1, Math.floor(s.length / 10));
  return Math.abs(s[k - 1]);
}

/**
 * The path norm of a ReLU MLP (Neyshabur, Tomioka, Srebro 2015; Jiang eq. 44): Σ over input–output paths of
 * the product of squared weights (and squared biases on the paths that start at them) = the sum of the
 * outputs of the network with every parameter squared, on an all-ones input (the reference's computation).
 * Layers: W_l [in, out] row-major and optional biases.
 */
export function pathNormSquared(layers: { w: Matrix; b?: Float64Array }[]): number {
  let h = new Float64Array(layers[0].w.rows).fill(1);
  layers.forEach((l, i) => {
    const { rows, cols, data } = l.w;
    const out = new Float64Array(cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c] += h[r] * data[r * cols + c] ** 2;
    if (l.b) for (let c = 0; c < cols; c++) out[c] += l.b[c] ** 2;
    h = i < layers.length - 1 ? out.map((x) => Math.max(0, x)) : out;
  });
  return h.reduce((s, v) => s + v, 0);
}

export type NormInputs = {
  /** Weight matrices of the trained network (biases excluded) and, in the same order, of its initialisation. */
  weights: Matrix[];
  init: Matrix[];
  /** Full layers (weights and biases) for the path norm of an MLP; or the path norm itself (`pathNorm`, e.g. a conv net's); omit both for none. */
  layers?: { w: Matrix; b?: Float64Array }[];
  pathNorm?: number;
  pathNormDoc?: string;
  /** Training margins z_y − max_{k≠y} z_k. */
  margins: ArrayLike<number>;
  /** Parameter count (weights and biases). */
  numParams: number;
};

/** A measure's id, Jiang et al.'s equation number and the raw value (before the size adjustment). */
export type MeasureValue = { id: string; eq: number | null; value: number; doc: string };

/**
 * The norm/margin/distance catalogue. Ids follow the reference's `ComplexityType` names, lower-cased.
 */
export function normMeasures(x: NormInputs): MeasureValue[] {
  const d = x.weights.length;
  const fro = x.weights.map(frobeniusSquared);
  const spec = x.weights.map(spectralSquared);
  const dist = x.weights.map((w, i) => matrixOf(w.data.map((v, j) => v - x.init[i].data[j]), w.rows, w.cols));
  const distFro = dist.map(frobeniusSquared);
  const distSpec = dist.map(spectralSquared);
  const sum = (a: number[]) => a.reduce((s, v) => s + v, 0);
  const l2 = Math.sqrt(sum(fro));
  const l2Dist = Math.sqrt(sum(distFro));
  const gamma = marginQuantile(x.margins);
  const logGamma2 = 2 * Math.log(gamma);
  const logProdSpec = sum(spec.map(Math.log));
  const logProdFro = sum(fro.map(Math.log));
  const froOverSpec = sum(fro.map((f, i) => f / spec[i]));
  const out: MeasureValue[] = [
    { id: "l2", eq: null, value: l2, doc: "‖w‖₂ of all weights" },
    { id: "l2_dist", eq: null, value: l2Dist, doc: "‖w − w₀‖₂" },
    { id: "params", eq: 20, value: x.numParams, doc: "number of parameters" },
    { id: "inverse_margin", eq: 22, value: 1 / (gamma * gamma), doc: "1/γ², γ the 10th-percentile training margin" },
    { id: "log_prod_of_spec", eq: 32, value: logProdSpec, doc: "Σ ln ‖W_i‖₂²" },
    { id: "log_prod_of_spec_over_margin", eq: 31, value: logProdSpec - logGamma2, doc: "Σ ln ‖W_i‖₂² − ln γ²" },
    { id: "log_spec_init_main", eq: 29, value: logProdSpec - logGamma2 + Math.log(sum(distFro.map((f, i) => f / spec[i]))), doc: "spectral bound with distance to init (Bartlett et al. 2017 / Neyshabur et al. 2018 main term)" },
    { id: "fro_over_spec", eq: 33, value: froOverSpec, doc: "Σ ‖W_i‖_F² / ‖W_i‖₂²" },
    { id: "log_spec_orig_main", eq: 30, value: logProdSpec - logGamma2 + Math.log(froOverSpec), doc: "spectral bound main term (origin)" },
    { id: "log_sum_of_spec_over_margin", eq: 34, value: Math.log(d) + (logProdSpec - logGamma2) / d, doc: "ln d + (1/d)(Σ ln ‖W_i‖₂² − ln γ²)" },
    { id: "log_sum_of_spec", eq: 35, value: Math.log(d) + logProdSpec / d, doc: "ln d + (1/d) Σ ln ‖W_i‖₂²" },
    { id: "log_prod_of_fro", eq: 37, value: logProdFro, doc: "Σ ln ‖W_i‖_F²" },
    { id: "log_prod_of_fro_over_margin", eq: 36, value: logProdFro - logGamma2, doc: "Σ ln ‖W_i‖_F² − ln γ²" },
    { id: "log_sum_of_fro_over_margin", eq: 38, value: Math.log(d) + (logProdFro - logGamma2) / d, doc: "ln d + (1/d)(Σ ln ‖W_i‖_F² − ln γ²)" },
    { id: "log_sum_of_fro", eq: 39, value: Math.log(d) + logProdFro / d, doc: "ln d + (1/d) Σ ln ‖W_i‖_F²" },
    { id: "fro_dist", eq: 40, value: sum(distFro), doc: "Σ ‖W_i − W_i⁰‖_F²" },
    { id: "dist_spec_init", eq: 41, value: sum(distSpec), doc: "Σ ‖W_i − W_i⁰‖₂²" },
    { id: "param_norm", eq: 42, value: sum(fro), doc: "Σ ‖W_i‖_F²" },
  ];
  if (x.layers || x.pathNorm !== undefined) {
    const pn = x.pathNorm ?? pathNormSquared(x.layers!);
    out.push({ id: "path_norm", eq: 44, value: pn, doc: x.pathNormDoc ?? "path norm: Σ_paths Π w² (ReLU MLP)" });
    out.push({ id: "path_norm_over_margin", eq: 43, value: pn / (gamma * gamma), doc: "path norm / γ²" });
  }
  return out;
}

/** The reference's size adjustment: 0.5·(v − ln m) for log measures, √(v/m) otherwise. */
export function adjustForSize(id: string, value: number, m: number): number {
  return id.startsWith("log_") ? 0.5 * (value - Math.log(m)) : Math.sqrt(value / m);
}

/**
 * The spectrally-normalised margin bound's complexity (Bartlett, Foster, Telgarsky 2017, Thm 1.1 with
 * reference matrices M_i = W_i⁰): R_W = (Π_i ‖W_i‖₂) · (Σ_i ‖W_i − W_i⁰‖_{2,1}^{2/3} / ‖W_i‖₂^{2/3})^{3/2}; the
 * bound's leading term is R_W·‖X‖_F / (γ·m) (up to log factors), returned as `bound_term`. ‖·‖_{2,1} is the
 * sum of the columns' ℓ₂ norms of the [out, in] matrix (so of the rows of genlab's [in, out] storage).
 */
export function spectralMarginBound(x: { weights: Matrix[]; init: Matrix[]; gamma: number; inputFrobenius: number; m: number }): { complexity: number; boundTerm: number } {
  let prodSpec = 1;
  let sum = 0;
  x.weights.forEach((w, i) => {
    const s = Math.sqrt(spectralSquared(w));
    prodSpec *= s;
    let n21 = 0;
    for (let r = 0; r < w.rows; r++) {
      let c2 = 0;
      for (let c = 0; c < w.cols; c++) c2 += (w.data[r * w.cols + c] - x.init[i].data[r * w.cols + c]) ** 2;
      n21 += Math.sqrt(c2);
    }
    sum += n21 ** (2 / 3) / s ** (2 / 3);
  });
  const complexity = prodSpec * sum ** 1.5;
  return { complexity, boundTerm: (complexity * x.inputFrobenius) / (x.gamma * x.m) };
}
