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
import { treeRef, treeDispose } from "../core/tree.ts";
import { applyMlp, layerMultiplier, type MlpParams, type MlpSpec } from "../nn/dense.ts";
import { maskLogits } from "../nn/losses.ts";

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
 * GraNd (id "grand"; Paul et al. 2021, "Deep Learning on a Data Diet", §2: χ_t(x, y) = E‖g_t(x, y)‖₂,
 * here for one network): ‖∇_θ ℓ_i‖₂ for every row of x, by ghost norms: returns [N]. Consumes params, x and y. Padded storage
 * entries contribute exactly 0 (their activations and errors are 0), so the norms are the unpadded
 * network's.
 */
export function mlpGradNorms(spec: MlpSpec, params: MlpParams, x: Array, y: Array, loss: PerExampleLoss = "cross_entropy"): Array {
  const n = x.shape[0];
  const taps = params.layers.map((l) => np.zeros([n, l.w.shape[1]], { dtype: l.w.dtype }));
  const hasBias = params.layers.map((l) => l.b !== undefined);
  const mult = params.layers.map((_, i) => layerMultiplier(spec, i));
  const f = (t: Array[]): [Array, Array[]] => {
    const acts: Array[] = [];
    const out = applyMlp(spec, treeRef(params), x.ref, t, acts);
    return [perExampleLoss(loss, out, y.ref).sum(), acts];
  };
  const vg = valueAndGrad(f as never, { hasAux: true }) as unknown as (t: Array[]) => unknown;
  const [[value, acts], deltas] = vg(taps) as unknown as [[Array, Array[]], Array[]];
  value.dispose();
  treeDispose([params, x, y]);
  let sq: Array | null = null;
  for (let i = 0; i < deltas.length; i++) {
    const d2 = np.square(deltas[i]).sum(-1);
    let term = np.square(acts[i]).sum(-1).mul(mult[i] * mult[i]).mul(d2.ref);
    if (hasBias[i]) term = term.add(d2);
    else d2.dispose();
    sq = sq === null ? term : sq.add(term);
  }
  return np.sqrt(sq!);
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
