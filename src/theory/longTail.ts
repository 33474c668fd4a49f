/**
 * Feldman's long-tail model (STOC 2020, "Does learning require memorization?"), the discrete case.
 *
 * N points x with frequencies pₓ, each with a fixed label drawn uniformly from k classes; a sample S of
 * n i.i.d. draws. A learner that does not fit the examples it saw exactly once ("singletons") pays, per
 * singleton it mislabels, about
 *
 *   τ₁ = Σₓ pₓ²(1−pₓ)^(n−1) / Σₓ pₓ(1−pₓ)^(n−1)  (= E[pₓ | x appears exactly once in S]),
 *
 * so err(no-singleton learner) − err(memorizer) ≈ τ₁ · E[errn_S(A, 1)], with errn the number of
 * singletons A mislabels. With a long (Zipf) tail τ₁ is of order 1/n and the cost is large; with a short
 * tail (few points, each frequent) there are hardly any singletons.
 */
import { splitKey, uniformFromKey, type Key } from "../core/prng.ts";
import { zipfFrequencies } from "../data/longTailMixture.ts";

export { zipfFrequencies };

/** τ₁ for known frequencies and sample size n (log-space powers: (1 − p)^(n−1) underflows gracefully). */
export function tau1(freqs: ArrayLike<number>, n: number): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < freqs.length; i++) {
    const p = freqs[i];
    if (p <= 0) continue;
    const w = p >= 1 ? (n === 1 ? 1 : 0) : Math.exp((n - 1) * Math.log1p(-p));
    num += p * p * w;
    den += p * w;
  }
  return den > 0 ? num / den : 0;
}

/** E[#singletons] = Σ n pₓ (1 − pₓ)^(n−1). */
export function expectedSingletons(freqs: ArrayLike<number>, n: number): number {
  let s = 0;
  for (let i = 0; i < freqs.length; i++) if (freqs[i] > 0 && freqs[i] < 1) s += n * freqs[i] * Math.exp((n - 1) * Math.log1p(-freqs[i]));
  return s;
}

export type LongTailTrial = {
  /** err(no-singleton learner) − err(memorizer), both as population errors Σ pₓ·1[wrong on x]. */
  gap: number;
  /** Singletons the no-singleton learner mislabels. */
  errn1: number;
  singletons: number;
  errMemorizer: number;
  errNoSingleton: number;
};

/**
 * One draw of the discrete model: labels, a sample of n, and both learners. The memorizer predicts the
 * label of every point it saw; on unseen points both learners guess uniformly (the same guesses, so the
 * gap is the singletons' share alone). The no-singleton learner also guesses on points seen once.
 * Consumes the key.
 */
export function longTailTrial(freqs: Float64Array, n: number, k: number, key: Key): LongTailTrial {
  const N = freqs.length;
  const [kLab, kSample, kGuess] = splitKey(key, 3);
  const uLab = uniformFromKey(kLab, N);
  const uSample = uniformFromKey(kSample, n);
  const uGuess = uniformFromKey(kGuess, N);
  const cdf = new Float64Array(N);
  let c = 0;
  for (let i = 0; i < N; i++) cdf[i] = c += freqs[i];
  const counts = new Int32Array(N);
  for (let j = 0; j < n; j++) {
    const u = uSample[j] * c;
    let lo = 0, hi = N - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    counts[lo]++;
  }
  let errMem = 0, errNo = 0, errn1 = 0, singletons = 0;
  for (let i = 0; i < N; i++) {
    const label = Math.min(k - 1, Math.floor(uLab[i] * k));
    const guess = Math.min(k - 1, Math.floor(uGuess[i] * k));
    const wrongGuess = guess !== label ? 1 : 0;
    if (counts[i] === 0) {
      errMem += freqs[i] * wrongGuess;
      errNo += freqs[i] * wrongGuess;
    } else if (counts[i] === 1) {
      singletons++;
      errNo += freqs[i] * wrongGuess;
      errn1 += wrongGuess;
    }
  }
  return { gap: errNo - errMem, errn1, singletons, errMemorizer: errMem, errNoSingleton: errNo };
}
