/**
 * Out-of-distribution objectives over training environments (specs-23-45.md §1, as the Rich Feature Construction
 * code `TjuJianyu/RFC` `coloredmnist/train.py` uses them): each takes the per-environment risks R_e (or the logits
 * and labels of one environment) and gives a scalar to add to the training loss.
 *
 *   Group-DRO   max_e R_e                                      (Sagawa et al. 2020; RFC's `dro_train`)
 *   vREx        Var_e(R_e), unbiased as torch.var              (Krueger et al. 2021)
 *   IRMv1       ‖∇_s R_e(s · f)|_{s=1}‖², per environment      (Arjovsky et al. 2019)
 *
 * IRMv1's gradient in the dummy scale s is taken in closed form: d/ds mean ℓ(s z, y) at s = 1 is mean(ℓ'(z, y) · z) —
 * mean((σ(z) − y) z) for the logistic loss, mean(Σ_c (p_c − 1[c = y]) z_c) for softmax cross-entropy — exact, and
 * differentiable again in the parameters without nested autodiff (tested against finite differences in s).
 */
import { nn, numpy as np, type Array } from "@jax-js/jax";

/** Per-environment risks [E] → the worst one. Consumes risks. */
export function groupDro(risks: Array): Array {
  return risks.max();
}

/** Per-environment risks [E] → their variance, unbiased (E − 1), as torch's default. Consumes risks. */
export function vrexPenalty(risks: Array): Array {
  const e = risks.shape[0];
  if (e < 2) {
    risks.dispose();
    throw new RangeError(`vrexPenalty: needs at least 2 environments, got ${e}`);
  }
  const mean = risks.ref.mean();
  return np.square(risks.sub(mean)).sum().div(e - 1);
}

/**
 * IRMv1's penalty of one environment: the squared derivative of its risk in a scalar multiplier of the logits at
 * 1. `loss` "logistic": logits [n] and 0/1 labels [n] (float or int); "softmax": logits [n, C] and int labels [n].
 * Consumes logits and labels.
 */
export function irmV1Penalty(logits: Array, labels: Array, loss: "logistic" | "softmax"): Array {
  let d: Array;
  if (loss === "logistic") {
    const y = labels.astype(logits.dtype);
    d = nn.sigmoid(logits.ref).sub(y).mul(logits).mean();
  } else {
    const c = logits.shape[logits.ndim - 1];
    const p = nn.softmax(logits.ref, -1);
    d = p.sub(nn.oneHot(labels, c).astype(logits.dtype)).mul(logits).sum(-1).mean();
  }
  return np.square(d);
}
