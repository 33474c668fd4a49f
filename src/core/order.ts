/**
 * Order statistics along axis 0 of a jax-js array, jit-safe: c passes of max/where instead of a sort
 * (jax-js 0.1.25 cannot jit its sort routine: "routine primitive sort input is not imm"). For small c:
 * robust gradient aggregation (optim/robust.ts) and top-k routing (nn/moe.ts). And the minimum and maximum
 * of host numbers, for arrays of any length; average ranks and the AUROC (Mann–Whitney) of host numbers.
 */
import { numpy as np, type Array } from "@jax-js/jax";

/**
 * The c-th largest value along axis 0 of x [B, …] (ties counted with multiplicity: the c-th entry of
 * the descending sort). Consumes x.
 */
export function kthLargest(x: Array, c: number): Array {
  const b = x.shape[0];
  if (!(Number.isInteger(c) && c >= 1 && c <= b)) {
    x.dispose();
    throw new RangeError(`kthLargest: c must be an integer in [1, ${b}], got ${c}`);
  }
  const neg = -3.0e38;
  const fixed = 3.0e38; // `remaining` of a coordinate whose answer is known: remaining ≤ count never holds again
  const row = [1, ...x.shape.slice(1)];
  let cur = x; // entries not yet passed over; passed-over ones are set to −∞
  let result: Array | null = null;
  let remaining = np.full(x.shape.slice(1), c, { dtype: x.dtype });
  for (let i = 0; ; i++) {
    const m = cur.ref.max(0); // current maximum per coordinate
    if (i === c - 1) {
      // the last pass: every coordinate still open has its answer here (each earlier pass removed ≥ 1 entry,
      // so remaining ≤ 1 ≤ count), and no count is needed
      cur.dispose();
      if (result === null) remaining.dispose();
      result = result === null ? m : np.where(remaining.less(fixed), m, result);
      break;
    }
    const isMax = cur.ref.equal(m.ref.reshape(row));
    const count = isMax.ref.astype(x.dtype).sum(0);
    // the answer is m where remaining ≤ count (never again once fixed)
    const hit = remaining.ref.lessEqual(count.ref);
    result = np.where(hit.ref, m, result ?? 0);
    remaining = np.where(hit, fixed, remaining.sub(count));
    cur = np.where(isMax, neg, cur);
  }
  return c === 1 ? result : materialized(result);
}

/**
 * x, computed into a buffer of its own inside a jitted function (a max over a new axis of length 1: exact).
 * jax-js fuses an array's lazy elementwise ops into every kernel that reads it, so a [P] expression read by a
 * [B, P] kernel is recomputed B times: the where-chain of an order statistic made the winsorized mean's clip
 * ~6× slower than the clip itself. Consumes x.
 */
export function materialized(x: Array): Array {
  return x.reshape([1, ...x.shape]).max(0);
}

/** The c-th smallest along axis 0. Consumes x. */
export const kthSmallest = (x: Array, c: number): Array => kthLargest(x.neg(), c).neg();

/** Coordinate-wise median along axis 0 (mean of the two middle values for an even count). Consumes x. */
export function medianAxis0(x: Array): Array {
  const b = x.shape[0];
  if (b % 2 === 1) return kthLargest(x, (b + 1) / 2);
  return kthLargest(x.ref, b / 2).add(kthLargest(x, b / 2 + 1)).mul(0.5);
}


/**
 * Math.min(...xs) without the spread: a spread passes every element as an argument, and past ~10⁵ of them V8
 * throws "Maximum call stack size exceeded" (issue 21: the scores page at 300k examples). Same answers:
 * NaN if any element is NaN, +∞ for none.
 */
export function minOf(xs: ArrayLike<number>): number {
  let m = Infinity;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    if (x < m) m = x;
    else if (Number.isNaN(x)) return NaN;
  }
  return m;
}

/** Math.max(...xs) without the spread (see minOf): NaN if any element is NaN, −∞ for none. */
export function maxOf(xs: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    if (x > m) m = x;
    else if (Number.isNaN(x)) return NaN;
  }
  return m;
}

/** The q-quantile of sorted values with linear interpolation (numpy.percentile's default, "linear"). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const m = sorted.length;
  if (!m) return NaN;
  const h = (m - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(m - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** Ranks (1-based) with ties given their average rank. */
export function ranks(x: ArrayLike<number>): Float64Array {
  const idx = globalThis.Array.from({ length: x.length }, (_, i) => i).sort((a, b) => x[a] - x[b]);
  const r = new Float64Array(x.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && x[idx[j + 1]] === x[idx[i]]) j++;
    for (let t = i; t <= j; t++) r[idx[t]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

/** Area under the ROC curve of `score` for detecting `positive` (Mann–Whitney U / (n₊ n₋), ties count ½). */
export function auroc(score: ArrayLike<number>, positive: ArrayLike<number>): number {
  const r = ranks(score);
  let np = 0;
  let sum = 0;
  for (let i = 0; i < score.length; i++)
    if (positive[i]) {
      np++;
      sum += r[i];
    }
  const nn = score.length - np;
  if (np === 0 || nn === 0) return NaN;
  return (sum - (np * (np + 1)) / 2) / (np * nn);
}
