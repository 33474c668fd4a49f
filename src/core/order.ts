/**
 * Order statistics along axis 0 of a jax-js array, jit-safe: c passes of max/where instead of a sort
 * (jax-js 0.1.25 cannot jit its sort routine: "routine primitive sort input is not imm"). For small c:
 * robust gradient aggregation (optim/robust.ts) and top-k routing (nn/moe.ts). And the minimum and maximum
 * of host numbers, for arrays of any length.
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
  let cur = x; // entries not yet passed over; passed-over ones are set to −∞
  let result: Array | null = null;
  let remaining = np.full(x.shape.slice(1), c, { dtype: x.dtype });
  for (let i = 0; i < c; i++) {
    const m = cur.ref.max(0); // current maximum per coordinate
    const isMax = cur.ref.equal(m.ref.reshape([1, ...m.shape]));
    const count = isMax.ref.astype(x.dtype).sum(0);
    // the answer is m where remaining ≤ count and no answer was fixed before
    const hit = remaining.ref.lessEqual(count.ref).astype(x.dtype);
    result = result === null ? m.ref.mul(hit.ref) : result.add(m.ref.mul(hit.ref).mul(remaining.ref.greater(0).astype(x.dtype)));
    // fixed coordinates get remaining ≤ 0 so they never add again
    remaining = remaining.sub(count).sub(hit.mul(1e9));
    cur = np.where(isMax, neg, cur);
    m.dispose();
  }
  cur.dispose();
  remaining.dispose();
  return result!;
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
