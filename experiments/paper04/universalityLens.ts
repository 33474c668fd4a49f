/**
 * The universality lens (Feder, Urbanke, Fogel 2025), exact conjugate analog (src/theory/universalMixture.ts): a
 * Bayesian mixture over binary variable-order Markov models of orders 0…10 (1,024 free parameters at order 10,
 * against n = 2,000 symbols), each order a Krichevsky–Trofimov estimator, mixed by a prior over orders.
 *
 * Claim: a simple truth inside the huge class is learned almost as well as by the oracle that knows its order
 * (regret ≤ oracle + log₂ 11 + 2 bits for an order-1 source); a complex truth (order 8) costs ≥ 10× the regret;
 * the regret stays below the index-of-resolvability bound inf_ε [nε + log₂(1/w_ε)] computed from the prior
 * weight of the truth's KL neighbourhoods.
 * Criteria: CHECKS below, declared once (specs-01-22.md §4 PASS (i)–(iii), which follow from KT theory; the
 * regret is averaged over the trials for (i) and (ii), and (iii) holds trial by trial). The paper's own bound
 * constants are unverified (no experiment or code of the paper was found); this is the classical bound.
 * Negative control (hparams): the weight removed from the simple truth — the prior puts 10⁻⁶ on orders 0 and 1
 * together and the rest uniformly on orders 2–10 (the same class, the same data) — judged by the same checks:
 * the mixture must then pay for the missing weight (i).
 * Cost on one core: smoke ~2 s, quick ~10 s with the control (20 trials, 10⁵ prior samples), full the same.
 * Run: genlab run universality-lens --quick
 */
import { random } from "@jax-js/jax";
import { defineExperiment, firstSeed, integer, oneOf, type CheckDecl, type Point } from "../../src/declare/kit.ts";
import { keyFromSeed, splitKey } from "../../src/core/prng.ts";
import { ktLog2Prob, markovSource, mixtureLog2Prob, resolvabilityBound, sampleMarkov, sourceLog2Prob, type MarkovSource } from "../../src/theory/universalMixture.ts";

export type LensPointResults = {
  source: string;
  order: number;
  n: number;
  /** t of the regret curves (log grid) */
  t: number[];
  mixture_curve: number[];
  oracle_curve: number[];
  /** per trial, at n */
  mixture: number[];
  oracle: number[];
  /** the resolvability bound at n (null for random complex sources, whose bound would need one per trial) */
  bound: number | null;
  bound_epsilon: number | null;
};
type P = Point<Record<string, number | string>, LensPointResults>;

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const bySource = (points: P[], source: string) => {
  const p = points.find((q) => q.results.source === source);
  if (!p) throw new Error(`the ${source} source was not run`);
  return p.results;
};

const CHECKS: CheckDecl<P>[] = [
  {
    id: "mixture_overhead",
    role: "claim",
    what: "(i) order-1 source: mixture regret − oracle-KT regret at n, mean over the trials (bits)",
    cmp: "<=",
    threshold: Math.log2(11) + 2,
    source: "specs-01-22.md §4 PASS (i): log₂ 11 + 2 bits",
    value: ({ points }) => {
      const r = bySource(points, "order1");
      return mean(r.mixture.map((m, i) => m - r.oracle[i]));
    },
  },
  {
    id: "complexity_ratio",
    role: "claim",
    what: "(ii) mixture regret at n, order-8 source over order-1 source (means over the trials)",
    cmp: ">=",
    threshold: 10,
    source: "specs-01-22.md §4 PASS (ii)",
    value: ({ points }) => mean(bySource(points, "order8").mixture) / mean(bySource(points, "order1").mixture),
  },
  {
    id: "bound_coverage",
    role: "claim",
    what: "(iii) order-1 source: fraction of trials whose mixture regret at n is ≤ the resolvability bound",
    cmp: ">=",
    threshold: 1,
    source: "specs-01-22.md §4 PASS (iii): 100% of 20 seeds",
    value: ({ points }) => {
      const r = bySource(points, "order1");
      if (r.bound === null) throw new Error("the bound was not computed for the order-1 source");
      return r.mixture.filter((m) => m <= r.bound!).length / r.mixture.length;
    },
  },
];

const PRIORS: Record<string, (K: number) => number[]> = {
  uniform: (K) => Array(K + 1).fill(1 / (K + 1)),
  // the control: 10⁻⁶ on orders 0 and 1 together, the rest uniform on orders 2…K
  complex: (K) => [5e-7, 5e-7, ...Array(K - 1).fill((1 - 1e-6) / (K - 1))],
};

export const universalityLens = defineExperiment({
  id: "universality-lens",
  paper: 4,
  title: "A Bayesian mixture over Markov orders 0–10: the regret follows the prior weight of the truth, not the class size",
  claim: (h) =>
    `A Bayesian mixture over binary Markov models of orders 0–${h.maxOrder} (KT per order, ${h.prior} prior) on n = ${h.n} symbols: regret ≤ the oracle's + log₂ ${h.maxOrder + 1} + 2 bits for an order-1 source, ≥ 10× larger for an order-8 source, and below the resolvability bound inf_ε [nε + log₂(1/w_ε)] on every trial.`,
  coverage: {
    level: "partial",
    covered: ["the online Bayesian mixture learner over a class much larger than the sample, computed exactly", "the weight w_ε by Monte Carlo over the prior and the index-of-resolvability bound", "simple against complex truths"],
    notCovered: ["(iv) SGLD ensembles against SGD on a supervised task (the spec uses sklearn's digits, absent from CI)", "the batch and supervised learners", "the paper's own bound constants (unverified)"],
  },
  deviations: [
    "every model reads the sequence as preceded by zeros, the true source included",
    "the spec's 20 seeds are 20 trials inside one run; the bound is computed once per source (it depends on the source and the prior only) from 10⁵ prior samples",
    "regret is the pointwise log-loss regret of each trial's sequence, log₂ P_θ₀(xⁿ)/Q(xⁿ)",
  ],
  criterionSource: "specs-01-22.md §4 PASS (i)–(iii)",
  checks: CHECKS,
  negativeControl: {
    what: "the prior weight removed from the simple truth: 10⁻⁶ on orders 0 and 1 together, the rest uniform on orders 2–10 (same class, same data), judged by the same checks; the mixture must pay for the missing weight",
    hparams: { prior: "complex" },
  },
  seeds: { smoke: 1, quick: 1, full: 1 },
  dataSource: "generated",
  playFields: ["n", "maxOrder", "trials"],
  hparams: {
    source: oneOf(["order1", "order8"], "order1", "order1: P(1|0) = 0.2, P(1|1) = 0.7; order8: P(1 | context) ~ U(0.05, 0.95), drawn per trial"),
    prior: oneOf(["uniform", "complex"], "uniform", "uniform over orders 0…maxOrder; complex: 10⁻⁶ on orders 0–1 (the control)"),
    n: integer(2000, "sequence length", { min: 10, max: 1_000_000 }),
    maxOrder: integer(10, "largest Markov order of the class", { min: 8, max: 14 }),
    trials: integer(20, "independent sequences per source", { min: 1, max: 10000 }),
    priorSamples: integer(100000, "prior samples for the weight w_ε", { min: 100, max: 10_000_000 }),
  },
  sizes: { smoke: { n: 300, trials: 3, priorSamples: 2000 }, quick: {} },
  cost: { smoke: "~2 s", quick: "~10 s", full: "~10 s" },
  calibration: {
    seeds: [100, 101, 102],
    outcome:
      "PASS on each seed: mixture − oracle 3.43, 3.44, 3.43 bits (log₂ 11 = 3.46: the order posterior concentrates on order 1), order 8 / order 1 ×21.5, ×21.1, ×20.5, the bound held on 20/20 trials; control FAIL on each (mixture_overhead; on seed 100 also bound_coverage, the Monte-Carlo weight of a 10⁻⁶ prior being invisible to 10⁵ samples)",
  },
  sweep: () => [{ source: ["order1", "order8"] }],

  async run(ctx): Promise<LensPointResults> {
    const h = ctx.hparams;
    const prior = PRIORS[h.prior](h.maxOrder);
    const t = Array.from(new Set(Array.from({ length: 41 }, (_, i) => Math.round(10 ** (1 + (Math.log10(h.n) - 1) * (i / 40)))))).filter((v) => v <= h.n);
    const mixtureCurve = t.map(() => 0);
    const oracleCurve = t.map(() => 0);
    const mixture: number[] = [];
    const oracle: number[] = [];
    let key = keyFromSeed(ctx.seed);
    let order1: MarkovSource | null = null;
    for (let trial = 0; trial < h.trials; trial++) {
      const [next, ks, kx] = splitKey(key, 3);
      key = next;
      let src: MarkovSource;
      if (h.source === "order1") {
        ks.dispose();
        src = order1 ??= markovSource(1, [0.2, 0.7]);
      } else src = markovSource(8, Array.from((await random.uniform(ks, [256]).data()) as Float32Array, (u) => 0.05 + 0.9 * u));
      const x = await sampleMarkov(src, h.n, kx);
      const truth = sourceLog2Prob(src, x);
      const mix = mixtureLog2Prob(x, prior);
      const orc = ktLog2Prob(x, src.order);
      t.forEach((tt, i) => {
        mixtureCurve[i] += (truth[tt - 1] - mix[tt - 1]) / h.trials;
        oracleCurve[i] += (truth[tt - 1] - orc[tt - 1]) / h.trials;
      });
      mixture.push(truth[h.n - 1] - mix[h.n - 1]);
      oracle.push(truth[h.n - 1] - orc[h.n - 1]);
      ctx.progress(trial + 1, h.trials + 1);
    }
    let bound: { bound: number; epsilon: number } | null = null;
    if (order1) bound = await resolvabilityBound(order1, prior, h.n, h.priorSamples, key);
    else key.dispose();
    ctx.progress(h.trials + 1, h.trials + 1);
    for (const [i, tt] of t.entries()) await ctx.record({ mixture_regret: mixtureCurve[i], oracle_regret: oracleCurve[i] }, { phase: "regret", axis: "n", x: tt });
    return { source: h.source, order: h.source === "order1" ? 1 : 8, n: h.n, t, mixture_curve: mixtureCurve, oracle_curve: oracleCurve, mixture, oracle, bound: bound?.bound ?? null, bound_epsilon: bound?.epsilon ?? null };
  },

  figures(all: P[], v) {
    const ps = firstSeed(all);
    const simple = ps.find((p) => p.results.source === "order1")?.results;
    const complex = ps.find((p) => p.results.source === "order8")?.results;
    const series = [
      ...(simple ? [{ name: "mixture, order-1 source", x: simple.t, y: simple.mixture_curve }, { name: "oracle KT, order-1 source", x: simple.t, y: simple.oracle_curve, dashed: true }] : []),
      ...(complex ? [{ name: "complex: mixture, order-8 source", x: complex.t, y: complex.mixture_curve }, { name: "complex oracle KT, order-8 source", x: complex.t, y: complex.oracle_curve, dashed: true }] : []),
    ];
    return [
      {
        name: "universality-lens",
        title: "Bayesian mixture over Markov orders 0–10: cumulative regret against n (mean over trials)",
        subtitle: `mixture − oracle ${(v.measured.mixture_overhead ?? NaN).toFixed(2)} bits (≤ log₂ 11 + 2), order 8 / order 1 ×${(v.measured.complexity_ratio ?? NaN).toFixed(1)}, bound ${simple?.bound?.toFixed(1) ?? "?"} bits held on ${((v.measured.bound_coverage ?? NaN) * 100).toFixed(0)}% of trials → ${v.verdict}`,
        panels: [
          { kind: "line" as const, title: "cumulative regret log₂ P_θ₀(xⁿ)/Q(xⁿ) (bits)", xLabel: "n (log)", yLabel: "regret (bits, log)", xLog: true, yLog: true, series, width: 520 },
          {
            kind: "bar" as const,
            title: "order-1 source: regret at n per trial against the resolvability bound",
            xLabel: "trial",
            yLabel: "bits",
            groups: simple ? simple.mixture.map((_, i) => String(i + 1)) : [],
            series: simple ? [{ name: "mixture regret", values: simple.mixture }, { name: "bound", values: simple.mixture.map(() => simple.bound ?? NaN) }] : [],
            width: 520,
          },
        ],
      },
    ];
  },
});
