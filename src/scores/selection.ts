/**
 * Subset selection by a score (Paul, Ganguli, Dziugaite 2021, "Deep Learning on a Data Diet", §3 and the
 * official code's `keep_max_scores` / offset subsets): keep-max keeps the highest-scoring examples;
 * the offset variant first drops the `offset` highest (at high pruning rates the very highest are
 * mislabeled or unlearnable, so the paper skips them). Ties are broken by index, so a selection is
 * deterministic. Returns sorted indices into the dataset.
 */
import { topK } from "./ranking.ts";

/** The `size` highest-scoring examples (keep-max). */
export function keepMax(score: ArrayLike<number>, size: number): Int32Array {
  checkSize(score.length, size, 0);
  return Int32Array.from(topK(score, size)).sort();
}

/** Drop the `offset` highest scores, then keep the next `size` (Paul et al.'s offset subset). */
export function offsetSubset(score: ArrayLike<number>, size: number, offset: number): Int32Array {
  checkSize(score.length, size, offset);
  return Int32Array.from(topK(score, offset + size).subarray(offset)).sort();
}

/** A fraction `keep` of the examples (rounded), after dropping `offset` of the highest. */
export function keepFraction(score: ArrayLike<number>, keep: number, offset = 0): Int32Array {
  if (!(keep > 0 && keep <= 1)) throw new RangeError(`keep must be in (0, 1], got ${keep}`);
  return offsetSubset(score, Math.min(score.length - offset, Math.round(keep * score.length)), offset);
}

function checkSize(n: number, size: number, offset: number): void {
  if (!Number.isInteger(size) || size < 0) throw new RangeError(`subset size must be an integer ≥ 0, got ${size}`);
  if (!Number.isInteger(offset) || offset < 0) throw new RangeError(`offset must be an integer ≥ 0, got ${offset}`);
  if (offset + size > n) throw new RangeError(`offset ${offset} + size ${size} exceeds the ${n} examples`);
}
