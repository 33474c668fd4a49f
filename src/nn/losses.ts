/**
 * Losses and metrics. Each consumes its array arguments. `validClasses` supports exact class padding:
 * outputs wider than the number of classes (widths padded to SIMD-friendly multiples) are masked so
 * the result equals the unpadded computation.
 */
import { DType, nn, numpy as np, type Array } from "@jax-js/jax";

function classMask(width: number, valid: number, dtype: Array["dtype"]): Array {
  return np.arange(width).less(valid).astype(dtype);
}

/** Mask extra logits to −1e9 so they carry no probability mass. Consumes logits. */
export function maskLogits(logits: Array, validClasses?: number): Array {
  const c = logits.shape[logits.ndim - 1];
  if (validClasses === undefined || validClasses === c) return logits;
  const dtype = logits.dtype;
  return logits.add(classMask(c, validClasses, dtype).sub(1).mul(1e9));
}

/** Mean over examples of −log softmax(logits)[label]. logits [N, C], labels int32 [N]. */
export function softmaxCrossEntropy(logits: Array, labels: Array, validClasses?: number): Array {
  const c = logits.shape[logits.ndim - 1];
  const logp = nn.logSoftmax(maskLogits(logits, validClasses), -1);
  const onehot = nn.oneHot(labels, c).astype(logp.dtype);
  return logp.mul(onehot).sum(-1).mean().neg();
}

/**
 * Mean squared error averaged over all N·C entries (PyTorch's nn.MSELoss convention, used by Doshi et al.
 * 2024 against one-hot targets). With validClasses only the first C' columns count (mean over N·C').
 */
export function meanSquaredError(pred: Array, target: Array, validClasses?: number): Array {
  const c = pred.shape[pred.ndim - 1];
  const d = pred.sub(target);
  if (validClasses === undefined || validClasses === c) return np.square(d).mean();
  const n = d.size / c;
  return np.square(d.mul(classMask(c, validClasses, d.dtype))).sum().div(n * validClasses);
}

/** MSE against one-hot targets of integer labels. */
export function oneHotMse(pred: Array, labels: Array, validClasses?: number): Array {
  const c = pred.shape[pred.ndim - 1];
  const target = nn.oneHot(labels, c).astype(pred.dtype);
  return meanSquaredError(pred, target, validClasses);
}

/**
 * softplus(z) = log(1 + e^z) computed as max(z, 0) + log(1 + e^(−|z|)), finite for any z (jax-js's
 * nn.softplus is log(exp(z) + 1), which overflows to ∞ in float32 beyond z ≈ 88). Consumes z.
 */
export function stableSoftplus(z: Array): Array {
  return nn.relu(z.ref).add(np.log(np.exp(np.abs(z).neg()).add(1)));
}

/** Logistic loss mean log(1 + exp(−y·z)) for y ∈ {0, 1} given as floats: softplus(z) − y·z (stable). */
export function logisticLoss(logits: Array, labels01: Array): Array {
  return stableSoftplus(logits.ref).sub(logits.mul(labels01)).mean();
}

/** Fraction of rows whose argmax equals the label. Consumes both. */
export function accuracy(logits: Array, labels: Array, validClasses?: number): Array {
  return np.argmax(maskLogits(logits, validClasses), -1).equal(labels).astype(DType.Float32).mean();
}

/** Per-example correctness (1/0), [N]. Consumes both. */
export function correct(logits: Array, labels: Array, validClasses?: number): Array {
  return np.argmax(maskLogits(logits, validClasses), -1).equal(labels).astype(DType.Float32);
}

export type LossName = "cross_entropy" | "mse" | "logistic";
export const LOSSES: readonly LossName[] = ["cross_entropy", "mse", "logistic"];

/** Classification loss by name for integer labels (logistic: labels in {0, 1}, one logit). */
export function classificationLoss(name: LossName, logits: Array, labels: Array, validClasses?: number): Array {
  switch (name) {
    case "cross_entropy":
      return softmaxCrossEntropy(logits, labels, validClasses);
    case "mse":
      return oneHotMse(logits, labels, validClasses);
    case "logistic": {
      const z = logits.reshape([logits.shape[0]]);
      return logisticLoss(z, labels.astype(z.dtype));
    }
  }
}
