/**
 * The universality lens (Feder, Urbanke, Fogel 2025, arXiv 2506.07661) on its exact conjugate analog: a Bayesian
 * mixture over binary variable-order Markov models (orders 0…K, Dirichlet(½, ½) per context, i.e. one
 * Krichevsky–Trofimov estimator per order, mixed by a prior over orders). Its regret against the true source
 * is controlled by the prior weight w_ε of the true model's KL neighbourhood, not by the size of the class:
 * the index-of-resolvability bound R_n ≤ inf_ε [nε + log₂(1/w_ε)] (bits; the paper's exact constants are
 * unverified, specs-01-22.md §4).
 *
 * Every model reads the sequence as preceded by zeros (a known all-zero past), the true source included, so the
 * first symbols have a full context in every order. Logs are base 2 throughout. Host float64; draws from
 * jax-js PRNG keys.
 */
import { random } from "@jax-js/jax";
import { splitKey, type Key } from "../core/prng.ts";

/** A binary Markov source of order k: p1[c] = P(next = 1 | the last k symbols read as the binary number c, newest lowest). */
export type MarkovSource = { order: number; p1: Float64Array };

const contextMask = (k: number) => (1 << k) - 1;

/** A source with the given order and P(1 | context) (length 2^order). */
export function markovSource(order: number, p1: ArrayLike<number>): MarkovSource {
  if (!(Number.isInteger(order) && order >= 0 && order <= 20)) throw new RangeError(`Markov source: expected an order in [0, 20], got ${order}`);
  if (p1.length !== 1 << order) throw new RangeError(`Markov source: expected ${1 << order} probabilities for order ${order}, got ${p1.length}`);
  for (let i = 0; i < p1.length; i++) if (!(p1[i] > 0 && p1[i] < 1)) throw new RangeError(`Markov source: P(1 | context ${i}) = ${p1[i]} is not in (0, 1)`);
  return { order, p1: Float64Array.from(p1) };
}

/** n symbols of the source from an all-zero past. Consumes `key`. */
export async function sampleMarkov(s: MarkovSource, n: number, key: Key): Promise<Uint8Array> {
  const u = (await random.uniform(key, [n]).data()) as Float32Array;
  const x = new Uint8Array(n);
  const mask = contextMask(s.order);
  let ctx = 0;
  for (let t = 0; t < n; t++) {
    x[t] = u[t] < s.p1[ctx] ? 1 : 0;
    ctx = ((ctx << 1) | x[t]) & mask;
  }
  return x;
}

/** Cumulative log₂ P(x₁…x_t) under the source, t = 1…n. */
export function sourceLog2Prob(s: MarkovSource, x: Uint8Array): Float64Array {
  const out = new Float64Array(x.length);
  const mask = contextMask(s.order);
  let ctx = 0;
  let acc = 0;
  for (let t = 0; t < x.length; t++) {
    acc += Math.log2(x[t] ? s.p1[ctx] : 1 - s.p1[ctx]);
    out[t] = acc;
    ctx = ((ctx << 1) | x[t]) & mask;
  }
  return out;
}

/** Cumulative log₂ of the order-k KT estimator's probability: P(1 | ctx) = (n₁(ctx) + ½)/(n(ctx) + 1), sequentially. */
export function ktLog2Prob(x: Uint8Array, order: number): Float64Array {
  const counts = new Float64Array(2 << order); // [n₀, n₁] per context
  const out = new Float64Array(x.length);
  const mask = contextMask(order);
  let ctx = 0;
  let acc = 0;
  for (let t = 0; t < x.length; t++) {
    const n0 = counts[2 * ctx];
    const n1 = counts[2 * ctx + 1];
    acc += Math.log2(((x[t] ? n1 : n0) + 0.5) / (n0 + n1 + 1));
    out[t] = acc;
    counts[2 * ctx + x[t]]++;
    ctx = ((ctx << 1) | x[t]) & mask;
  }
  return out;
}

/** log₂ Σ 2^aᵢ without overflow. */
function log2SumExp2(a: number[]): number {
  const m = Math.max(...a);
  if (m === -Infinity) return -Infinity;
  return m + Math.log2(a.reduce((s, v) => s + 2 ** (v - m), 0));
}

/**
 * Cumulative log₂ of the Bayesian mixture over orders 0…K with prior weights `prior` (length K + 1, summing to
 * 1): log₂ Q(x₁…x_t) = log₂ Σ_k w_k KT_k(x₁…x_t). The mixture over conjugate classes is exact.
 */
export function mixtureLog2Prob(x: Uint8Array, prior: number[]): Float64Array {
  const total = prior.reduce((a, b) => a + b, 0);
  if (Math.abs(total - 1) > 1e-9 || prior.some((w) => !(w >= 0))) throw new RangeError(`mixture: expected prior weights ≥ 0 summing to 1, got sum ${total}`);
  const kts = prior.map((w, k) => (w > 0 ? ktLog2Prob(x, k) : null));
  const lw = prior.map((w) => Math.log2(w));
  return Float64Array.from({ length: x.length }, (_, t) => log2SumExp2(kts.map((kt, k) => (kt ? lw[k] + kt[t] : -Infinity))));
}

/** The stationary distribution of the source's chain over contexts of length K ≥ its order (power iteration from uniform). */
function stationaryContexts(s: MarkovSource, K: number): Float64Array {
  const size = 1 << K;
  const mask = size - 1;
  const own = contextMask(s.order);
  let pi = new Float64Array(size).fill(1 / size);
  for (let it = 0; it < 5000; it++) {
    const next = new Float64Array(size);
    for (let c = 0; c < size; c++) {
      const p = s.p1[c & own];
      next[((c << 1) | 1) & mask] += pi[c] * p;
      next[(c << 1) & mask] += pi[c] * (1 - p);
    }
    let diff = 0;
    for (let c = 0; c < size; c++) diff += Math.abs(next[c] - pi[c]);
    pi = next;
    if (diff < 1e-14) return pi;
  }
  throw new RangeError(`stationary distribution: no convergence in 5000 iterations (order ${s.order}, K = ${K})`);
}

const kl2 = (p: number, q: number) => p * Math.log2(p / q) + (1 - p) * Math.log2((1 - p) / (1 - q));

/**
 * The prior weight of the true source's KL neighbourhoods and the resolvability bound, by Monte Carlo over the
 * prior: `samples` models (order by `prior`, each P(1 | context) ~ Beta(½, ½), drawn as sin²(πU/2)); for each,
 * the KL rate D(P_θ₀ ‖ P_θ) in bits per symbol under θ₀'s stationary distribution over contexts of length K.
 * Returns inf over ε of nε + log₂(1/ŵ_ε) with ŵ_ε the fraction of samples within ε (the infimum over the
 * samples' own KL values, so ŵ ≥ 1/samples), the minimising ε and its weight. Consumes `key`.
 */
export async function resolvabilityBound(truth: MarkovSource, prior: number[], n: number, samples: number, key: Key): Promise<{ bound: number; epsilon: number; weight: number }> {
  const K = prior.length - 1;
  if (truth.order > K) throw new RangeError(`resolvability bound: the true order ${truth.order} exceeds the class's ${K}`);
  const pi = stationaryContexts(truth, K);
  const own = contextMask(truth.order);
  const keys = splitKey(key, K + 2);
  const uo = (await random.uniform(keys[0], [samples]).data()) as Float32Array;
  const cum = prior.map((_, k) => prior.slice(0, k + 1).reduce((a, b) => a + b, 0));
  const perOrder = new Array<number>(K + 1).fill(0);
  for (let s = 0; s < samples; s++) {
    const k = cum.findIndex((c) => uo[s] < c);
    perOrder[k < 0 ? K : k]++;
  }
  const kls: number[] = [];
  for (let k = 0; k <= K; k++) {
    const size = 1 << k;
    // θ₀'s stationary distribution over the last max(k, order) symbols (the newest are the lowest bits)
    const span = Math.max(k, truth.order);
    const marg = new Float64Array(1 << span);
    for (let c = 0; c < 1 << K; c++) marg[c & ((1 << span) - 1)] += pi[c];
    if (perOrder[k] === 0) {
      keys[k + 1].dispose();
      continue;
    }
    const u = (await random.uniform(keys[k + 1], [perOrder[k], size]).data()) as Float32Array;
    for (let s = 0; s < perOrder[k]; s++) {
      let d = 0;
      for (let c = 0; c < 1 << span; c++) {
        if (marg[c] === 0) continue;
        const q = Math.min(1 - 1e-12, Math.max(1e-12, Math.sin((Math.PI * u[s * size + (c & (size - 1))]) / 2) ** 2));
        d += marg[c] * kl2(truth.p1[c & own], q);
      }
      kls.push(d);
    }
  }
  const sorted = Float64Array.from(kls).sort();
  let best = { bound: Infinity, epsilon: NaN, weight: NaN };
  for (let i = 0; i < samples; i++) {
    const w = (i + 1) / samples;
    const b = n * sorted[i] + Math.log2(1 / w);
    if (b < best.bound) best = { bound: b, epsilon: sorted[i], weight: w };
  }
  return best;
}
