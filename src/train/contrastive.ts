/**
 * Contrastive objectives of "Wasserstein Dependency Measure for Representation Learning" (Ozair et al., NeurIPS 2019;
 * specs-23-45.md §15): InfoNCE (CPC) and its Lipschitz-constrained form, WPC.
 *
 *   InfoNCE   scores S[i, j] = f(x_i, y_j) for a batch of K positive pairs (x_i, y_i), the other y_j as negatives:
 *             L = −(1/K) Σ_i log softmax_j(S[i, ·])_i; the MI estimate log K − L can never exceed log K
 *   WPC       the same loss with the critic kept near 1-Lipschitz by a gradient penalty
 *             λ E (‖∇_{(x̂, ŷ)} f(x̂, ŷ)‖₂ − 1)² at points (x̂, ŷ) between pairs (two-sided, as WGAN-GP; the spec marks
 *             the penalty's form, λ and the interpolation UNVERIFIED)
 *
 * The penalty differentiates the critic in its inputs inside the loss: the outer gradient in the parameters is a
 * second-order one (jax-js's nested grad; a float64 check is in the tests).
 */
import { grad, nn, numpy as np, type Array } from "@jax-js/jax";

/** InfoNCE loss of a [K, K] score matrix whose diagonal holds the positive pairs. Consumes scores. */
export function infoNce(scores: Array): Array {
  const [k, k2] = scores.shape;
  if (k !== k2) {
    scores.dispose();
    throw new RangeError(`infoNce: a square score matrix is expected, got [${scores.shape}]`);
  }
  const logp = nn.logSoftmax(scores, -1);
  return logp.mul(np.eye(k).astype(logp.dtype)).sum(-1).mean().neg();
}

/**
 * The two-sided gradient penalty mean_i (‖∇ f(x̂_i, ŷ_i)‖₂ − 1)² of a pairwise critic (row i's score depends only on
 * row i of x̂ and ŷ) at the points x̂ [n, dx], ŷ [n, dy]. `critic` consumes its inputs and returns scores [n].
 * Consumes x̂ and ŷ.
 */
export function gradientPenalty(critic: (x: Array, y: Array) => Array, xHat: Array, yHat: Array): Array {
  const g = grad((xy: [Array, Array]) => critic(xy[0], xy[1]).sum())([xHat, yHat] as never) as unknown as [Array, Array];
  const sq = np.square(g[0]).sum(-1).add(np.square(g[1]).sum(-1));
  // √(· + ε): the norm's gradient is finite at 0
  return np.square(np.sqrt(sq.add(1e-12)).sub(1)).mean();
}

/** Points between pairs: x̂ = u x + (1 − u) x′ row by row, u [n] in [0, 1]. Consumes all three. */
export function interpolate(a: Array, b: Array, u: Array): Array {
  const w = u.reshape([-1, 1]);
  return a.mul(w.ref).add(b.mul(np.ones(w.shape).sub(w)));
}
