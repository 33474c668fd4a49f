/**
 * Rank statistics for data scores: Spearman correlation between two scorings, AUROC of a score against a
 * binary mask (noisy-label detection), precision of the top-k, and Toneva et al.'s (2019) forgetting
 * events from per-epoch correctness. Plain numbers, float64.
 */

import { auroc, ranks } from "../core/order.ts";

export { auroc, ranks };

/** Spearman's rank correlation (Pearson on average ranks). */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`spearman: lengths ${a.length} and ${b.length} differ`);
  const ra = ranks(a);
  const rb = ranks(b);
  const n = a.length;
  const ma = ra.reduce((s, v) => s + v, 0) / n;
  const mb = rb.reduce((s, v) => s + v, 0) / n;
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < n; i++) {
    num += (ra[i] - ma) * (rb[i] - mb);
    da += (ra[i] - ma) ** 2;
    db += (rb[i] - mb) ** 2;
  }
  return num / Math.sqrt(da * db);
}

/** Indices of the `k` highest scores (ties broken by index, so the result is deterministic). */
export function topK(score: ArrayLike<number>, k: number): Int32Array {
  const idx = Array.from({ length: score.length }, (_, i) => i).sort((a, b) => score[b] - score[a] || a - b);
  return Int32Array.from(idx.slice(0, k));
}

/** Fraction of the top-k scores that are positives. */
export function precisionAtK(score: ArrayLike<number>, positive: ArrayLike<number>, k: number): number {
  const top = topK(score, k);
  let hit = 0;
  for (const i of top) if (positive[i]) hit++;
  return hit / k;
}

/**
 * Forgetting score (id "forgetting"; Toneva et al. 2019, "An Empirical Study of Example Forgetting"): the
 * number of transitions from correct to incorrect over the recorded epochs; an example never learned
 * gets the maximum (epochs), ranking it with the most forgotten ones, as in the paper.
 */
export function forgettingScores(correctByEpoch: Uint8Array[]): Float64Array {
  const n = correctByEpoch[0]?.length ?? 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let events = 0;
    let learned = false;
    for (let e = 0; e < correctByEpoch.length; e++) {
      if (correctByEpoch[e][i]) learned = true;
      if (e > 0 && correctByEpoch[e - 1][i] && !correctByEpoch[e][i]) events++;
    }
    out[i] = learned ? events : correctByEpoch.length;
  }
  return out;
}

/** Lift at k: precision of the top-k scores over the base rate of positives (1 = no better than random). */
export function liftAtK(score: ArrayLike<number>, positive: ArrayLike<number>, k: number): number {
  let pos = 0;
  for (let i = 0; i < positive.length; i++) if (positive[i]) pos++;
  return pos === 0 ? NaN : precisionAtK(score, positive, k) / (pos / positive.length);
}

/** Precision, recall and F1 of binary flags against the true positives (NaN where undefined). */
export function flagMetrics(flags: ArrayLike<number>, positive: ArrayLike<number>): { flagged: number; precision: number; recall: number; f1: number } {
  let tp = 0;
  let fl = 0;
  let pos = 0;
  for (let i = 0; i < flags.length; i++) {
    if (flags[i]) fl++;
    if (positive[i]) pos++;
    if (flags[i] && positive[i]) tp++;
  }
  const precision = fl === 0 ? NaN : tp / fl;
  const recall = pos === 0 ? NaN : tp / pos;
  return { flagged: fl, precision, recall, f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : NaN };
}
