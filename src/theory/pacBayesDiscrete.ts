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
