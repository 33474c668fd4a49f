/**
 * Feldman's long-tailed mixture in a network's input space (spec §2 (b)): N subpopulations with Zipf(s)
 * frequencies, centres c_j ~ N(0, I_d), a random label per subpopulation (uniform over k classes); an example
 * of subpopulation j is c_j + σ·ξ, ξ ~ N(0, I_d). Subpopulations drawn once in a sample of n are the
 * "singletons" whose labels a learner can only get right by memorising them.
 */
import { random } from "@jax-js/jax";
import { splitKey, uniformFromKey, type Key } from "../core/prng.ts";
import type { Dataset } from "./dataset.ts";

/** Zipf frequencies pᵢ ∝ i^(−s), i = 1…N (s = 0: uniform). */
export function zipfFrequencies(N: number, s: number): Float64Array {
  if (!(Number.isInteger(N) && N >= 1)) throw new RangeError(`zipfFrequencies: N must be an integer ≥ 1, got ${N}`);
  if (!(s >= 0)) throw new RangeError(`zipfFrequencies: the exponent must be ≥ 0, got ${s}`);
  const p = Float64Array.from({ length: N }, (_, i) => (i + 1) ** -s);
  const z = p.reduce((a, b) => a + b, 0);
  return p.map((v) => v / z);
}

export type LongTailMixtureSpec = { N: number; zipf: number; d: number; sigma: number; classes: number };
export type LongTailMixture = { spec: LongTailMixtureSpec; freqs: Float64Array; centers: Float32Array; labels: Int32Array };

/** The subpopulations: frequencies, centres and labels. Consumes the key. */
export function longTailMixture(spec: LongTailMixtureSpec, key: Key): LongTailMixture {
  const [kc, kl] = splitKey(key, 2);
  const centers = Float32Array.from(random.normal(kc, [spec.N, spec.d]).dataSync() as ArrayLike<number>);
  const u = uniformFromKey(kl, spec.N);
  const labels = Int32Array.from(u, (v) => Math.min(spec.classes - 1, Math.floor(v * spec.classes)));
  return { spec, freqs: zipfFrequencies(spec.N, spec.zipf), centers, labels };
}

/** n i.i.d. examples: the dataset and each example's subpopulation. Consumes the key. */
export function sampleMixture(m: LongTailMixture, n: number, key: Key): { data: Dataset; subpop: Int32Array } {
  const { N, d, sigma, classes } = m.spec;
  const [ks, kn] = splitKey(key, 2);
  const u = uniformFromKey(ks, n);
  const cdf = new Float64Array(N);
  let c = 0;
  for (let i = 0; i < N; i++) cdf[i] = c += m.freqs[i];
  const subpop = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const t = u[i] * c;
    let lo = 0;
    let hi = N - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] > t) hi = mid;
      else lo = mid + 1;
    }
    subpop[i] = lo;
  }
  const x = Float32Array.from(random.normal(kn, [n, d]).mul(sigma).dataSync() as ArrayLike<number>);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const j = subpop[i];
    y[i] = m.labels[j];
    for (let t = 0; t < d; t++) x[i * d + t] += m.centers[j * d + t];
  }
  return { data: { x, xShape: [n, d], y, numClasses: classes }, subpop };
}

/** How many times each subpopulation appears in a sample. */
export function subpopCounts(subpop: ArrayLike<number>, N: number): Int32Array {
  const c = new Int32Array(N);
  for (let i = 0; i < subpop.length; i++) c[subpop[i]]++;
  return c;
}
