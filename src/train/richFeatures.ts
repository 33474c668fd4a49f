/**
 * Rich Feature Construction, "Bonsai" (Zhang, Lopez-Paz, Bottou, ICML 2022; specs-23-45.md §1; the official code
 * `TjuJianyu/RFC` `coloredmnist/run_exp.py` and `train.py`, as the spec reads them): rounds of discovery, then a
 * synthesis that distils every round's solution into one representation.
 *
 *   round 0     ERM; partition_0[i] = 1[model 0 classifies example i correctly]
 *   round k ≥ 1 a fresh model trained with the robust objective max_g R_g(θ) over the groups g = the cells of every
 *               earlier partition (group-DRO); partition_k the same way
 *   synthesis   a fresh featurizer with one binary head per round, head k trained on the pseudo-label
 *               ŷ_k = y if partition_k[i] else 1 − y (round k's hard prediction), the mean of the heads' losses
 *
 * The OOD method then runs on the synthesised featurizer, fine-tuned or frozen. This file holds the pieces that are
 * not plain training: groups from partitions, per-group risks, the synthesis targets.
 */
import { nn, numpy as np, type Array } from "@jax-js/jax";

/** The cells of the given 0/1 partitions as group ids 0 … 2^K − 1 (bit k = partition k), one per row. */
export function groupsFromPartitions(partitions: readonly ArrayLike<number>[], n: number): Int32Array {
  if (partitions.length > 20) throw new RangeError(`groupsFromPartitions: at most 20 partitions, got ${partitions.length}`);
  partitions.forEach((p, k) => {
    if (p.length !== n) throw new RangeError(`groupsFromPartitions: partition ${k} has ${p.length} rows, expected ${n}`);
  });
  const g = new Int32Array(n);
  for (let i = 0; i < n; i++) for (let k = 0; k < partitions.length; k++) g[i] |= (partitions[k][i] ? 1 : 0) << k;
  return g;
}

/**
 * Mean loss of every group: per-example losses [n] and int group ids [n] in 0 … G − 1 → [G]; an empty group's risk
 * is 0 (it never wins a max of non-negative risks). Consumes both.
 */
export function groupRisks(losses: Array, groups: Array, numGroups: number): Array {
  const m = nn.oneHot(groups, numGroups).astype(losses.dtype);
  const sums = np.matmul(losses.reshape([1, -1]), m.ref).reshape([numGroups]);
  const counts = m.sum(0);
  return sums.div(np.maximum(counts, 1));
}

/** Synthesis targets [n, K] (row-major): ŷ_k = y where partition k is 1 (round k was right), 1 − y elsewhere. */
export function synthesisTargets(labels: ArrayLike<number>, partitions: readonly ArrayLike<number>[]): Float32Array {
  const n = labels.length;
  const K = partitions.length;
  const t = new Float32Array(n * K);
  for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) t[i * K + k] = partitions[k][i] ? labels[i] : 1 - labels[i];
  return t;
}
