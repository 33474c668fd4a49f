/**
 * Why an example ranks at the top of a score, in words with its numbers: "rank 3 of 300 by aum (−1.204 < 0:
 * on average another class's logit beats the label's)". Used by `genlab scores` (the `reason` column and its
 * printed top table) and by the dashboard's scores page, so that the two say the same. Each score is
 * oriented so that the top of the ranking is the hardest or most suspicious (`SCORE_ORIENTATION`); the rules
 * are the thresholds `genlab issues` flags on (scores/issues.ts).
 */

/** true: high = hard/suspicious (rank descending); false: low = hard/suspicious. */
export const SCORE_ORIENTATION: Record<string, boolean> = {
  el2n: true,
  grand: true,
  forgetting: true,
  aum: false,
  margin: false,
  loss: true,
  cartography_confidence: false,
  cartography_variability: true,
  cartography_correctness: false,
  cl_self_confidence: false,
  memorization: true,
  memorization_proxy: true,
};

/** The issue thresholds that speak to a value (empty when none applies). */
function rule(score: string, v: number): string {
  if (score === "aum" && v < 0) return " < 0: on average another class's logit beats the label's";
  if (score === "margin" && v < 0) return " < 0: another class wins at the last epoch";
  if (score === "el2n" && v > Math.SQRT1_2) return " > 0.707: predicted away from its label";
  if (score === "forgetting" && v >= 2) return " ≥ 2 forgetting events";
  if (score === "cartography_variability" && v >= 0.2) return " ≥ 0.2: ambiguous on the data map";
  return "";
}

/** Ranks (1 = most suspicious) of every example by a score; NaN (not scored) ranks last. */
export function rankBy(values: ArrayLike<number>, descending: boolean): Int32Array {
  const n = values.length;
  const key = (i: number) => (Number.isNaN(values[i]) ? Infinity : descending ? -values[i] : values[i]);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => key(a) - key(b) || a - b);
  const rank = new Int32Array(n);
  order.forEach((i, r) => (rank[i] = r + 1));
  return rank;
}

/** "rank r of n by score (value…)". */
export function rankReason(score: string, value: number, rank: number, n: number): string {
  return `rank ${rank} of ${n} by ${score} (${Number.isFinite(value) ? Number(value.toFixed(4)) : value}${rule(score, value)})`;
}

/**
 * Per example, the reasons it is among the top `k` of any oriented score column (joined by "; "), or "".
 * Columns without an orientation (index, label, standard errors, counts) are not ranked.
 */
export function topReasons(columns: { name: string; values: ArrayLike<number> }[], n: number, k: number): string[] {
  const out: string[][] = Array.from({ length: n }, () => []);
  for (const c of columns) {
    const desc = SCORE_ORIENTATION[c.name];
    if (desc === undefined) continue;
    const rank = rankBy(c.values, desc);
    for (let i = 0; i < n; i++) if (rank[i] <= k && !Number.isNaN(c.values[i])) out[i].push(rankReason(c.name, Number(c.values[i]), rank[i], n));
  }
  return out.map((r) => r.join("; "));
}
