/**
 * Outliers from features, as cleanlab's Datalab finds them (its `OutlierIssueManager` on features, read in
 * cleanlab/datalab/internal/issue_manager/outlier.py and cleanlab/internal/outlier.py, 2026-12-06): the mean
 * distance d̄_i of every example to its k = 10 nearest other examples (cosine distance above 3 dimensions,
 * Euclidean otherwise, as for near-duplicates); score exp(−t · d̄_i / median_j d̄_j) with t = 1 (in (0, 1], lower
 * = more severe); an example is an outlier when d̄_i > Q3 + (1/θ − 1) · IQR of the d̄ with θ = 0.37037
 * (Datalab's default: Q3 + 1.7 IQR, quartiles by linear interpolation, numpy's default). id "outlier".
 */
import { quantileSorted } from "../core/order.ts";
import type { NearestNeighbours } from "./nearDuplicates.ts";

export const OUTLIER_K = 10;
export const OUTLIER_THRESHOLD = 0.37037;

export type OutlierAudit = { flag: Uint8Array; score: Float64Array; meanDistance: Float64Array; median: number; issueThreshold: number; k: number };

/** Datalab's outlier flags and scores from the k nearest neighbours (all k of `nn` are averaged). */
export function outlierIssues(nn: NearestNeighbours, threshold = OUTLIER_THRESHOLD): OutlierAudit {
  if (!(threshold > 0 && threshold <= 1)) throw new RangeError(`outlierIssues: threshold ${threshold} is not in (0, 1]`);
  const k = nn.k;
  const n = nn.distance.length / k;
  const meanDistance = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = 0; t < k; t++) s += nn.distance[i * k + t];
    meanDistance[i] = s / k;
  }
  const sorted = Float64Array.from(meanDistance).sort();
  const median = quantileSorted(sorted, 0.5);
  const q1 = quantileSorted(sorted, 0.25);
  const q3 = quantileSorted(sorted, 0.75);
  const issueThreshold = q3 + (1 / threshold - 1) * (q3 - q1);
  const scale = Math.max(median, 1e-12);
  const score = Float64Array.from(meanDistance, (v) => Math.exp(-v / scale));
  const flag = Uint8Array.from(meanDistance, (v) => (v > issueThreshold ? 1 : 0));
  return { flag, score, meanDistance, median, issueThreshold, k };
}
