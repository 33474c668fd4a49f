/**
 * Per-example data scores.
 *
 * GraNd (Paul et al. 2021): ‖∇_θ ℓ(x_i, y_i)‖₂ per example, computed with ghost norms (Goodfellow 2015;
 * Li et al. 2022): for a dense layer z = m·(a W) + b the per-example gradient is m·a_iᵀ δ_i (an outer
 * product) and δ_i, so ‖∇_W ℓ_i‖² = m²‖a_i‖²‖δ_i‖² and ‖∇_b ℓ_i‖² = ‖δ_i‖², where δ_i = ∂ℓ_i/∂z_i. One
 * backward pass of Σ_i ℓ_i with respect to zero "taps" added to every pre-activation gives all δ_i at once
 * (examples are independent), so the cost is about one training step, with no per-example gradient ever
 * materialised (vmap(grad) costs ~46 steps, DEPS.md).
 *
 * EL2N (Paul et al. 2021): ‖softmax(f(x_i)) − onehot(y_i)‖₂, in batches.
 */
import { DType, jit, nn, numpy as np, valueAndGrad, type Array } from "@jax-js/jax";
import { treeDispose, treeLeaves, treeRef, type Tree } from "../core/tree.ts";
import { applyMlp, layerMultiplier, type MlpParams, type MlpSpec } from "../nn/dense.ts";
import { maskLogits, softmaxCrossEntropy } from "../nn/losses.ts";
import { perExampleGradients } from "../train/perExample.ts";

/** Stable ids of the scores in this module (STYLE.md): used as metric names in runs and reports. */
export const GRAND_ID = "grand";
export const EL2N_ID = "el2n";

/** −log softmax(logits)[label] per example, [N]. Consumes both. */
export function perExampleCrossEntropy(logits: Array, labels: Array, validClasses?: number): Array {
  const c = logits.shape[logits.ndim - 1];
  const logp = nn.logSoftmax(maskLogits(logits, validClasses), -1);
  return logp.mul(nn.oneHot(labels, c).astype(logp.dtype)).sum(-1).neg();
}

/** Σ_c (f(x)_c − onehot(y)_c)² per example (the sum-of-squares loss), [N]. Consumes both. */
export function perExampleSquaredError(pred: Array, labels: Array): Array {
  const c = pred.shape[pred.ndim - 1];
  return np.square(pred.sub(nn.oneHot(labels, c).astype(pred.dtype))).sum(-1);
}

export type PerExampleLoss = "cross_entropy" | "squared_error";

function perExampleLoss(name: PerExampleLoss, logits: Array, labels: Array): Array {
  return name === "cross_entropy" ? perExampleCrossEntropy(logits, labels) : perExampleSquaredError(logits, labels);
}

/**
 * Ghost-norm forward/backward of an MLP: the per-example loss summed over the batch is differentiated with
 * respect to zero taps on every pre-activation (one backward pass; the weight gradients are never formed,
 * params and x are constants of it). Returns the logits, each layer's input activations and δ_l = ∂ℓ_i/∂z_l.
 * Consumes params, x and y.
 */
function mlpGhostPass(spec: MlpSpec, params: MlpParams, x: Array, y: Array, loss: PerExampleLoss): { logits: Array; acts: Array[]; deltas: Array[] } {
  const n = x.shape[0];
  const taps = params.layers.map((l) => np.zeros([n, l.w.shape[1]], { dtype: l.w.dtype }));
  const f = (t: Array[]): [Array, [Array[], Array]] => {
    const acts: Array[] = [];
    const out = applyMlp(spec, treeRef(params), x.ref, t, acts);
    return [perExampleLoss(loss, out.ref, y.ref).sum(), [acts, out]];
  };
  const vg = valueAndGrad(f as never, { hasAux: true }) as unknown as (t: Array[]) => unknown;
  const [[value, [acts, logits]], deltas] = vg(taps) as unknown as [[Array, [Array[], Array]], Array[]];
  value.dispose();
  treeDispose([params, x, y]);
  return { logits, acts, deltas };
}

/** √(Σ_l m_l²‖a_l‖²‖δ_l‖² + [bias] ‖δ_l‖²) per example: the ghost norm of the whole parameter gradient. Consumes acts and deltas. */
function ghostNorm(spec: MlpSpec, hasBias: boolean[], acts: Array[], deltas: Array[]): Array {
  let sq: Array | null = null;
  for (let i = 0; i < deltas.length; i++) {
    const m = layerMultiplier(spec, i);
    const d2 = np.square(deltas[i]).sum(-1);
    let term = np.square(acts[i]).sum(-1).mul(m * m).mul(d2.ref);
    if (hasBias[i]) term = term.add(d2);
    else d2.dispose();
    sq = sq === null ? term : sq.add(term);
  }
  return np.sqrt(sq!);
}

/**
 * GraNd (id "grand"; Paul et al. 2021, "Deep Learning on a Data Diet", §2: χ_t(x, y) = E‖g_t(x, y)‖₂,
 * here for one network): ‖∇_θ ℓ_i‖₂ for every row of x, by ghost norms: returns [N]. Consumes params, x and y. Padded storage
 * entries contribute exactly 0 (their activations and errors are 0), so the norms are the unpadded
 * network's.
 */
export function mlpGradNorms(spec: MlpSpec, params: MlpParams, x: Array, y: Array, loss: PerExampleLoss = "cross_entropy"): Array {
  const hasBias = params.layers.map((l) => l.b !== undefined);
  const { logits, acts, deltas } = mlpGhostPass(spec, params, x, y, loss);
  logits.dispose();
  return ghostNorm(spec, hasBias, acts, deltas);
}

/**
 * The quantities the per-example dynamics logger records (scores/dynamics.ts), each [N]:
 *   loss      ℓ_i = −log p_{y_i}(x_i) (softmax cross-entropy; the squared error when trained with it)
 *   margin    z_{y_i} − max_{k≠y_i} z_k on the logits (Pleiss et al. 2020's margin, averaged by AUM)
 *   correct   1 when argmax_k z_k = y_i, else 0
 *   p_true    softmax(z)_{y_i} (Swayamdipta et al. 2020's confidence, per epoch)
 *   el2n      ‖softmax(z) − e_{y_i}‖₂ (Paul et al. 2021)
 *   grad_norm ‖∇_θ ℓ_i‖₂ over all parameters (GraNd, Paul et al. 2021)
 */
export const PER_EXAMPLE_QUANTITIES = ["loss", "margin", "correct", "p_true", "el2n", "grad_norm"] as const;
export type PerExampleQuantity = (typeof PER_EXAMPLE_QUANTITIES)[number];
export type OutputQuantity = Exclude<PerExampleQuantity, "grad_norm">;

/**
 * Everything but the gradient norm, from logits [N, C] and integer labels [N] (both consumed); `loss`
 * selects the per-example loss reported (cross-entropy by default). One fused pass, jit-safe.
 */
export function outputQuantities(logits: Array, labels: Array, validClasses?: number, loss: PerExampleLoss = "cross_entropy"): Record<OutputQuantity, Array> {
  const c = logits.shape[logits.ndim - 1];
  const raw = loss === "squared_error" ? logits.ref : null;
  const z = maskLogits(logits, validClasses);
  const onehot = nn.oneHot(labels.ref, c).astype(z.dtype);
  const logp = nn.logSoftmax(z.ref, -1);
  const p = np.exp(logp.ref);
  const lossValue = raw === null ? logp.mul(onehot.ref).sum(-1).neg() : (logp.dispose(), np.square(raw.sub(onehot.ref)).sum(-1));
  const pTrue = p.ref.mul(onehot.ref).sum(-1);
  const el2n = np.sqrt(np.square(p.sub(onehot.ref)).sum(-1));
  const zTrue = z.ref.mul(onehot.ref).sum(-1);
  // 1e30 pushes the true class below every other logit (masked padding sits at −1e9); finite in float32.
  const zOther = z.ref.sub(onehot.mul(1e30)).max(-1);
  const correct = np.argmax(z, -1).equal(labels).astype(DType.Float32);
  return { loss: lossValue, margin: zTrue.sub(zOther), correct, p_true: pTrue, el2n };
}

/**
 * Every per-example quantity of an MLP in one forward and one ghost-norm backward pass (the weight
 * gradients are never formed): about 2/3 of a training step's FLOPs on the same rows. Consumes params, x, y.
 */
export function mlpPerExample(spec: MlpSpec, params: MlpParams, x: Array, y: Array, opts: { validClasses?: number; loss?: PerExampleLoss } = {}): Record<PerExampleQuantity, Array> {
  const hasBias = params.layers.map((l) => l.b !== undefined);
  const loss = opts.loss ?? "cross_entropy";
  const { logits, acts, deltas } = mlpGhostPass(spec, params, x, y.ref, loss);
  return { ...outputQuantities(logits, y, opts.validClasses, loss), grad_norm: ghostNorm(spec, hasBias, acts, deltas) };
}

/**
 * ‖∇_θ ℓ_i‖₂ for any model by vmap(grad) over the rows of x (a conv net, a transformer: layers ghost norms do
 * not cover). `loss(params, x, y)` is the mean loss of a batch. Memory: rows × #params floats, so callers
 * chunk (perExampleInBatches with `maxRowsForParams`). Consumes params, x and y.
 */
export function vmapGradNorms<P extends Tree>(loss: (p: P, x: Array, y: Array) => Array, params: P, x: Array, y: Array): Array {
  const g = perExampleGradients(loss, params, x, y);
  let sq: Array | null = null;
  for (const leaf of treeLeaves(g)) {
    const axes = leaf.shape.slice(1).map((_, i) => i + 1);
    const s = axes.length ? np.square(leaf).sum(axes) : np.square(leaf);
    sq = sq === null ? s : sq.add(s);
  }
  if (sq === null) throw new RangeError("vmapGradNorms: the model has no parameters");
  return np.sqrt(sq);
}

/** Rows per chunk so that one chunk of per-example gradients holds at most `budget` floats (default 2²⁴ = 64 MiB of float32). */
export function maxRowsForParams(numParams: number, budget = 1 << 24): number {
  return Math.max(1, Math.floor(budget / Math.max(1, numParams)));
}

/**
 * Per-example quantities of any classifier `apply(params, x) → logits`: the output quantities in one
 * batched forward pass and the gradient norm by vmap(grad) of the per-example cross-entropy. Consumes
 * params, x and y.
 */
export function genericPerExample<P extends Tree>(apply: (p: P, x: Array) => Array, params: P, x: Array, y: Array, opts: { validClasses?: number } = {}): Record<PerExampleQuantity, Array> {
  const out = outputQuantities(apply(treeRef(params), x.ref), y.ref, opts.validClasses);
  const loss = (p: P, xb: Array, yb: Array) => softmaxCrossEntropy(apply(p, xb), yb, opts.validClasses);
  return { ...out, grad_norm: vmapGradNorms(loss, params, x, y) };
}

/** EL2N (id "el2n"; Paul et al. 2021, §2: E‖p(w_t, x) − y‖₂, here for one network): ‖softmax(logits) − onehot(labels)‖₂ per example, [N]. Consumes both. */
export function el2nFromLogits(logits: Array, labels: Array, validClasses?: number): Array {
  const c = logits.shape[logits.ndim - 1];
  const p = nn.softmax(maskLogits(logits, validClasses), -1);
  return np.sqrt(np.square(p.sub(nn.oneHot(labels, c).astype(DType.Float32))).sum(-1));
}

/**
 * Scores of a batched function over a host dataset: `score(xBatch, yBatch)` (consuming, returning [B]) is
 * jitted and applied to consecutive batches of `batch` rows; the result is a Float32Array of N scores.
 * The last, shorter batch compiles once more.
 */
export async function scoreInBatches(
  score: (x: Array, y: Array) => Array,
  data: { x: Float32Array<ArrayBuffer>; xShape: number[]; y: Int32Array<ArrayBuffer> },
  batch: number,
): Promise<Float32Array> {
  const n = data.y.length;
  const width = data.xShape.slice(1).reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const f = jit(score as never) as unknown as ((x: Array, y: Array) => Array) & { dispose(): void };
  try {
    for (let s = 0; s < n; s += batch) {
      const e = Math.min(n, s + batch);
      const xb = np.array(data.x.subarray(s * width, e * width), { shape: [e - s, ...data.xShape.slice(1)] });
      const yb = np.array(data.y.subarray(s, e), { dtype: DType.Int32 });
      out.set(await f(xb, yb).data(), s);
    }
  } finally {
    f.dispose();
  }
  return out;
}

/**
 * A jitted per-example function `f(params, xBatch, yBatch) → { name: [B] }` applied to consecutive batches
 * of a host dataset; returns one Float32Array of N values per name. `params` is only read (the caller keeps
 * it); the jitted function is compiled once per batch shape, so pass the same `jitted` across calls (e.g.
 * every epoch of a training run) to compile it once.
 */
export async function perExampleInBatches<P extends Tree>(
  jitted: (p: P, x: Array, y: Array) => Record<string, Array>,
  params: P,
  data: { x: Float32Array | Int32Array; xShape: number[]; y: Int32Array | Float32Array },
  batch: number,
): Promise<Record<string, Float32Array>> {
  const n = data.xShape[0];
  const width = data.xShape.slice(1).reduce((a, b) => a * b, 1);
  const out: Record<string, Float32Array> = {};
  for (let s = 0; s < n; s += batch) {
    const e = Math.min(n, s + batch);
    const xs = data.x.subarray(s * width, e * width);
    const xb = xs instanceof Int32Array ? np.array(xs as Int32Array<ArrayBuffer>, { shape: [e - s, ...data.xShape.slice(1)], dtype: DType.Int32 }) : np.array(xs as Float32Array<ArrayBuffer>, { shape: [e - s, ...data.xShape.slice(1)] });
    const yb = np.array(data.y.subarray(s, e) as Int32Array<ArrayBuffer>, { dtype: DType.Int32 });
    const r = jitted(treeRef(params), xb, yb);
    for (const [k, v] of Object.entries(r)) {
      const vals = (await v.data()) as Float32Array;
      (out[k] ??= new Float32Array(n)).set(vals, s);
    }
  }
  return out;
}
