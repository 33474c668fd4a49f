/**
 * Generalization bounds for one hypothesis h chosen from a countable class with a prior probability P(h)
 * (paper 26: Akinwande, Jiang, Sam, Kolter 2024, "Understanding prompt engineering may not require rethinking
 * generalization" — a prompt is a discrete hypothesis and a language model its prior). With n i.i.d. examples,
 * empirical 0-1 risk r̂ and confidence 1 − δ, each holds simultaneously for all h with probability ≥ 1 − δ:
 *
 *   Occam (uniform prior over V^L)  R ≤ r̂ + √((L ln V + ln(1/δ)) / (2n))           (Hoeffding + union bound)
 *   Occam with a prior              R ≤ r̂ + √((ln(1/P(h)) + ln(1/δ)) / (2n))
 *   McAllester (1999, Thm 1)        R ≤ r̂ + √((KL + ln(1/δ) + ln n + 2) / (2n − 1)), KL = ln(1/P(h)) for a
 *                                   point-mass posterior
 *   kl-inverse (Langford & Seeger 2001; Maurer 2004)   kl(r̂ ‖ R) ≤ (KL + ln(2√n/δ)) / n, solved for the
 *                                   largest R by bisection (the tightest of the three)
 *
 * All in nats. Host numbers only.
 */

/** Binary KL divergence kl(q ‖ p) in nats. */
export function binaryKl(q: number, p: number): number {
  const t = (a: number, b: number) => (a === 0 ? 0 : a * Math.log(a / b));
  if (p <= 0) return q > 0 ? Infinity : 0;
  if (p >= 1) return q < 1 ? Infinity : 0;
  return t(q, p) + t(1 - q, 1 - p);
}

/** The largest p ≥ q with kl(q ‖ p) ≤ c (bisection to 1e-12). */
export function klInverseUpper(q: number, c: number): number {
  if (c <= 0) return q;
  let lo = q;
  let hi = 1;
  if (binaryKl(q, 1 - 1e-15) <= c) return 1;
  for (let i = 0; i < 200 && hi - lo > 1e-12; i++) {
    const mid = (lo + hi) / 2;
    if (binaryKl(q, mid) > c) hi = mid;
    else lo = mid;
  }
  return lo;
}

export type DiscreteBounds = { occamUniform: number | null; occamPrior: number; mcallester: number; klInverse: number; kl: number };

/**
 * The bounds for empirical risk r̂ on n examples, prior −ln P(h) = `negLogPrior` (nats), confidence 1 − δ, and
 * (for the uniform-prior Occam bound) the hypothesis space V^L.
 */
export function discreteBounds(x: { empiricalRisk: number; n: number; negLogPrior: number; delta?: number; vocab?: number; length?: number }): DiscreteBounds {
  const delta = x.delta ?? 0.05;
  const { n, empiricalRisk: r } = x;
  const kl = x.negLogPrior;
  const cap = (v: number) => Math.min(1, v);
  return {
    occamUniform: x.vocab && x.length !== undefined ? cap(r + Math.sqrt((x.length * Math.log(x.vocab) + Math.log(1 / delta)) / (2 * n))) : null,
    occamPrior: cap(r + Math.sqrt((kl + Math.log(1 / delta)) / (2 * n))),
    mcallester: cap(r + Math.sqrt((kl + Math.log(1 / delta) + Math.log(n) + 2) / (2 * n - 1))),
    klInverse: klInverseUpper(r, (kl + Math.log((2 * Math.sqrt(n)) / delta)) / n),
    kl,
  };
}

/** A bigram language model over V tokens: log p(t | prev), with row V the start-of-sequence context. */
export type Bigram = { vocab: number; logProb: Float64Array };

/** Maximum-likelihood bigram counts of a token corpus with add-α smoothing (α > 0 keeps every sequence possible). */
export function fitBigram(corpus: ArrayLike<number>, vocab: number, alpha = 0.1, sentenceLength = 0): Bigram {
  const counts = new Float64Array((vocab + 1) * vocab).fill(alpha);
  for (let i = 0; i < corpus.length; i++) {
    const t = corpus[i];
    if (!(t >= 0 && t < vocab)) throw new RangeError(`fitBigram: token ${t} at ${i} outside [0, ${vocab})`);
    const start = i === 0 || (sentenceLength > 0 && i % sentenceLength === 0);
    counts[(start ? vocab : corpus[i - 1]) * vocab + t] += 1;
  }
  const logProb = new Float64Array(counts.length);
  for (let r = 0; r <= vocab; r++) {
    let s = 0;
    for (let t = 0; t < vocab; t++) s += counts[r * vocab + t];
    for (let t = 0; t < vocab; t++) logProb[r * vocab + t] = Math.log(counts[r * vocab + t] / s);
  }
  return { vocab, logProb };
}

/** −ln P(tokens) under the bigram (nats); the empty sequence has probability 1. */
export function bigramNegLogProb(lm: Bigram, tokens: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < tokens.length; i++) s -= lm.logProb[(i === 0 ? lm.vocab : tokens[i - 1]) * lm.vocab + tokens[i]];
  return s;
}

export type SearchStep = { tokens: number[]; errors: number; risk: number; negLogPrior: number; bounds: DiscreteBounds };

/**
 * Greedy prior-regularised search over token sequences (paper 26's "simple greedy search"): starting from the
 * empty sequence, extend by the token minimising  errors(θ ⊕ t) + λ · (−ln P(θ ⊕ t))  (training errors counted
 * in examples, the prior in nats: λ examples per nat; λ = 0 is accuracy only with the prior as tie-breaker),
 * up to `maxLength`. Every prefix is a hypothesis of the countable class whose prior is `negLogPrior` (which
 * must include the prior over lengths, e.g. ln(maxLength + 1), for the bounds to be valid over the choice of
 * prefix). Returns the path (lengths 0..maxLength) with each prefix's bounds, the prefix with the smallest
 * kl-inverse bound (model selection by bound) and the one with the fewest training errors.
 * `errors(prefix, candidates)` returns the training-error count of prefix ⊕ t for each candidate t (the
 * prefix alone when candidates is empty).
 */
export async function greedyDiscreteSearch(o: {
  vocab: number;
  maxLength: number;
  n: number;
  errors: (prefix: number[], candidates: number[]) => Promise<ArrayLike<number>>;
  negLogPrior: (tokens: number[]) => number;
  lambda?: number;
  delta?: number;
  onStep?: (step: SearchStep) => void;
}): Promise<{ path: SearchStep[]; byBound: SearchStep; byTrainError: SearchStep }> {
  const lambda = o.lambda ?? 1;
  const candidates = Array.from({ length: o.vocab }, (_, i) => i);
  const stepOf = (tokens: number[], errors: number): SearchStep => {
    const nlp = o.negLogPrior(tokens);
    const risk = errors / o.n;
    return { tokens, errors, risk, negLogPrior: nlp, bounds: discreteBounds({ empiricalRisk: risk, n: o.n, negLogPrior: nlp, delta: o.delta, vocab: o.vocab, length: tokens.length }) };
  };
  const e0 = (await o.errors([], []))[0];
  const path = [stepOf([], e0)];
  o.onStep?.(path[0]);
  let prefix: number[] = [];
  for (let len = 1; len <= o.maxLength; len++) {
    const errs = await o.errors(prefix, candidates);
    let best = -1;
    let bestObj = Infinity;
    let bestNlp = Infinity;
    for (const t of candidates) {
      const nlp = o.negLogPrior([...prefix, t]);
      const obj = errs[t] + lambda * nlp;
      if (obj < bestObj || (obj === bestObj && nlp < bestNlp)) [best, bestObj, bestNlp] = [t, obj, nlp];
    }
    prefix = [...prefix, best];
    path.push(stepOf(prefix, errs[best]));
    o.onStep?.(path[path.length - 1]);
  }
  const byBound = path.reduce((a, b) => (b.bounds.klInverse < a.bounds.klInverse ? b : a));
  const byTrainError = path.reduce((a, b) => (b.errors < a.errors ? b : a));
  return { path, byBound, byTrainError };
}

/**
 * The PAC-Bayes-kl bound for a Gaussian posterior Q = N(w, σ²I) and prior P = N(w₀, σ²I) (Langford & Seeger;
 * Dziugaite & Roy 2017's form): KL(Q‖P) = ‖w − w₀‖²/(2σ²), and kl(r̂_Q ‖ R_Q) ≤ (KL + ln G + ln(2√n/δ))/n where
 * σ was chosen from a grid of G values fixed in advance (a union bound over the grid: the σ' bisection of
 * depth d on [0, 2] lands on one of 2^d dyadic points, G = 2^d). r̂_Q is the posterior's empirical risk
 * (a Monte-Carlo estimate: its sampling error is not added here; report its SE beside the bound).
 */
export function gaussianPacBayesBound(x: { empiricalRiskQ: number; n: number; distSq: number; sigma: number; gridSize: number; delta?: number }): { bound: number; kl: number } {
  const delta = x.delta ?? 0.05;
  const kl = x.distSq / (2 * x.sigma * x.sigma);
  return { kl, bound: klInverseUpper(Math.min(1, Math.max(0, x.empiricalRiskQ)), (kl + Math.log(x.gridSize) + Math.log((2 * Math.sqrt(x.n)) / delta)) / x.n) };
}
