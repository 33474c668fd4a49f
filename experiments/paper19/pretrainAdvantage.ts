/**
 * On the provable advantage of unsupervised pretraining (Ge, Tang, Fan, Jin 2023), factor-model instance
 * (src/theory/pretraining.ts): pretrain by PCA (the latent model's MLE) on m unlabeled samples, then OLS on the r
 * pretrained features from n labels, against ridge regression on raw inputs with an oracle-tuned ridge.
 *
 * Claim: for m ≥ 10³ and every n ≥ 20 the pretrained excess risk is ≤ 0.35× the best ridge's (≤ 0.3× at m = 10³),
 * while the supervised-only excess risk falls ≥ 5× from n = 20 to n = 200; the pretrained excess risk follows
 * the OLS theory R*·r/(n − r − 1) once m is large.
 * Criteria: CHECKS below, declared once (specs-01-22.md §19 PASS (i)–(iii), calibrated in numpy; the gate and
 * theory_fit design estimates calibrated on seeds 100–102).
 * Negative control (hparams): the informative condition removed — the labels depend on r directions orthogonal
 * to the latent factors (y = θᵀQᵀx + ξ, QᵀB = 0), same data, same pretraining and downstream. Pretraining then
 * recovers a subspace that carries no label information, and the advantage must vanish.
 * Cost on one core: smoke ~2 s, quick ~40 s (20 trials, with the control), full ~2 min (50 trials).
 * Run: genlab run pretrain-advantage --quick
 */
import { defineExperiment, firstSeed, integer, number, oneOf, type CheckDecl, type CheckInput, type Point } from "../../src/declare/kit.ts";
import { keyFromSeed, splitKey } from "../../src/core/prng.ts";
import { bayesOf, drawFactorModel, excessRisk, olsExcessTheory, olsOnFeatures, pretrainPca, ridgePath, sampleFactorModel, subspaceError } from "../../src/theory/pretraining.ts";

export type PretrainPointResults = { m: number; ns: number[]; trials: number; pretrain: number[]; pretrain_sd: number[]; ridge: number[]; ridge_sd: number[]; theory: number[]; subspace: number };
type P = Point<Record<string, number | string>, PretrainPointResults>;

const NS = [10, 20, 50, 100, 200];
const RIDGES = Array.from({ length: 30 }, (_, i) => 10 ** (-3 + (7 * i) / 29));

const atM = (points: P[], m: number) => {
  const p = points.find((q) => q.results.m === m);
  if (!p) throw new Error(`the m = ${m} point was not run (ran m = ${points.map((q) => q.results.m).join(", ")})`);
  return p.results;
};
const ratios = (r: PretrainPointResults, nMin: number) => {
  const idx = r.ns.flatMap((n, i) => (n >= nMin ? [i] : []));
  if (!idx.length) throw new Error(`no n ≥ ${nMin} was run at m = ${r.m}`);
  return idx.map((i) => r.pretrain[i] / r.ridge[i]);
};
const ridgeAt = (r: PretrainPointResults, n: number) => {
  const i = r.ns.indexOf(n);
  if (i < 0) throw new Error(`n = ${n} was not run (ran ${r.ns.join(", ")})`);
  return r.ridge[i];
};

/** The criteria, once (specs-01-22.md §19 PASS (i)–(iii); the gate and theory_fit design estimates). */
const CHECKS: CheckDecl<P>[] = [
  {
    id: "subspace_recovered",
    role: "gate",
    what: "pretraining recovered the latent subspace at m = 10³: mean sin² of the principal angles between the PCA subspace and col(B)",
    cmp: "<=",
    threshold: 0.1,
    source: "design estimate (the claim needs the informative latent structure recovered; 0.012 measured at seeds 100–102)",
    reach: "more unlabeled samples m or a larger factor scale",
    value: ({ points }) => atM(points, 1000).subspace,
  },
  {
    id: "ratio_large_m",
    role: "claim",
    what: "(i) excess risk, pretrained / best ridge, worst over m ≥ 10³ and n ≥ 20",
    cmp: "<=",
    threshold: 0.35,
    source: "specs-01-22.md §19 PASS (i), calibrated (max 0.20)",
    value: ({ points }) => {
      const ps = points.filter((p) => p.results.m >= 1000);
      if (!ps.length) throw new Error("no point with m ≥ 10³ was run");
      return Math.max(...ps.flatMap((p) => ratios(p.results, 20)));
    },
  },
  {
    id: "ratio_m_1e3",
    role: "claim",
    what: "(ii) excess risk, pretrained / best ridge, worst over n ≥ 20 at m = 10³",
    cmp: "<=",
    threshold: 0.3,
    source: "specs-01-22.md §19 PASS (ii), calibrated (0.10–0.14)",
    value: ({ points }) => Math.max(...ratios(atM(points, 1000), 20)),
  },
  {
    id: "ridge_n20_over_n200",
    role: "claim",
    what: "(iii) supervised-only (best ridge) excess risk at n = 20 over that at n = 200",
    cmp: ">=",
    threshold: 5,
    source: "specs-01-22.md §19 PASS (iii), calibrated (≈ 7–10)",
    value: ({ points }) => ridgeAt(atM(points, 1000), 20) / ridgeAt(atM(points, 1000), 200),
  },
  {
    id: "theory_fit",
    role: "claim",
    what: "m = 10⁴, n ≥ 50: pretrained excess risk against the OLS theory R*·r/(n − r − 1), worst (|s̄ − θ| − 2·SE)/θ",
    cmp: "<=",
    threshold: 0.25,
    source: "design estimate (genlab), calibrated on seeds 100–102",
    value: ({ points }) => {
      const r = atM(points, 10000);
      let worst = 0;
      r.ns.forEach((n, i) => {
        if (n < 50) return;
        const se = r.pretrain_sd[i] / Math.sqrt(r.trials);
        worst = Math.max(worst, Math.max(0, Math.abs(r.pretrain[i] - r.theory[i]) - 2 * se) / r.theory[i]);
      });
      return worst;
    },
  },
];

export const pretrainAdvantage = defineExperiment({
  id: "pretrain-advantage",
  paper: 19,
  title: "Unsupervised pretraining (PCA on a factor model) then OLS against supervised ridge: excess risk over m and n",
  claim: (h) =>
    `On a factor model (d = ${h.d}, r = ${h.r}, loadings ${h.scale}·N(0, 1), label noise ${h.noise}), PCA pretraining on m ≥ 10³ unlabeled samples then OLS on n ≥ 20 labels has ≤ 0.35× the excess risk of the best ridge on raw inputs (≤ 0.3× at m = 10³); ridge's excess risk falls ≥ 5× from n = 20 to 200; at m = 10⁴ the pretrained excess follows R*·r/(n − r − 1) within 25%.`,
  coverage: {
    level: "partial",
    covered: ["the factor-model instance: MLE (PCA) pretraining, OLS downstream, excess risk against the Bayes predictor", "the supervised baseline with an oracle ridge", "excess risk against n for m ∈ {10², 10³, 10⁴}"],
    notCovered: ["the Gaussian-mixture and contrastive-learning instances (the spec's optional GMM analog)", "the bound's constants (the paper gives rates only)"],
  },
  deviations: [
    "the spec's 5 seeds are trials inside one run (20 at quick size, 50 at full), each a fresh draw of B, θ and the data",
    "the n sweep uses nested labeled sets (the first n of 200 draws) and every m the same labeled data (common random numbers)",
    "excess risks are exact expectations over a test point, not test-sample estimates",
  ],
  criterionSource: "specs-01-22.md §19 PASS (i)–(iii), calibrated in numpy; the gate and theory_fit design estimates calibrated on seeds 100–102",
  checks: CHECKS,
  negativeControl: {
    what: "the informative condition removed: the labels depend on r directions orthogonal to the latent factors (same data, pretraining and downstream), judged by the same checks; the pretrained features then carry no label information and the advantage must vanish",
    hparams: { labels: "orthogonal" },
  },
  seeds: { smoke: 1, quick: 1, full: 1 },
  dataSource: "generated",
  playFields: ["d", "r", "scale", "noise", "trials"],
  hparams: {
    m: integer(1000, "unlabeled samples for pretraining", { min: 2, max: 1_000_000 }),
    d: integer(200, "input dimension d", { min: 2, max: 2000 }),
    r: integer(5, "latent dimension r", { min: 1, max: 200 }),
    scale: number(0.3, "loadings B ~ scale·N(0, 1)", { min: 0, max: 100, minExclusive: true }),
    noise: number(0.1, "label noise standard deviation σ", { min: 0, max: 100 }),
    labels: oneOf(["latent", "orthogonal"], "latent", "latent: y = θᵀz + ξ (the paper's informative model); orthogonal: y depends on directions orthogonal to the factors (the control)"),
    trials: integer(50, "independent draws of (B, θ, data) per point", { min: 2, max: 10000 }),
  },
  validate: (h) => [...(2 * h.r > h.d ? [{ key: "r" as const, message: `expected 2r ≤ d = ${h.d}, got r = ${h.r}` }] : []), ...(h.r > 18 ? [{ key: "r" as const, message: `expected r ≤ 18 (OLS on r features needs n > r + 1 at n = 20), got r = ${h.r}` }] : [])],
  sizes: {
    smoke: { d: 40, trials: 2 },
    quick: { trials: 20 },
  },
  cost: { smoke: "~2 s", quick: "~40 s measured, with the control", full: "~2 min" },
  calibration: {
    seeds: [100, 101, 102],
    outcome:
      "quick (20 trials): PASS on each seed; subspace sin² 0.012; worst ratio (m ≥ 10³, n ≥ 20) 0.135, 0.176, 0.148 (the spec's numpy: ≤ 0.20); ridge n = 20 / n = 200 9.0, 11.5, 9.8; theory within 2 SE at m = 10⁴, n ≥ 50 on all three. Control FAIL on all three (ratios > 1, theory_fit)",
  },
  sweep: () => [{ m: [100, 1000, 10000] }],

  async run(ctx): Promise<PretrainPointResults> {
    const h = ctx.hparams;
    const ns = NS.filter((n) => n > h.r + 1);
    const pre: number[][] = [];
    const rid: number[][] = [];
    const th: number[][] = [];
    let sub = 0;
    // Every m of a seed draws the same models and labeled data (only the unlabeled sample size differs).
    let key = keyFromSeed(ctx.seed);
    for (let t = 0; t < h.trials; t++) {
      const [next, kf, ku, kl] = splitKey(key, 4);
      key = next;
      const f = await drawFactorModel({ d: h.d, r: h.r, scale: h.scale, noise: h.noise, labels: h.labels }, kf);
      const bayes = bayesOf(f);
      const V = await pretrainPca(f, h.m, ku);
      sub += subspaceError(f, V) / h.trials;
      const { x, y } = await sampleFactorModel(f, Math.max(...ns), kl);
      pre.push(ns.map((n) => {
        const beta = olsOnFeatures(V, x, y, n, h.d, h.r);
        if (!beta) throw new RangeError(`OLS on the pretrained features is rank-deficient at n = ${n}`);
        return excessRisk(bayes.sigma, bayes.beta, beta);
      }));
      rid.push(ns.map((n) => Math.min(...ridgePath(x, y, n, h.d, RIDGES).map((b) => excessRisk(bayes.sigma, bayes.beta, b)))));
      th.push(ns.map((n) => olsExcessTheory(bayes.risk, h.r, n)));
      ctx.progress(t + 1, h.trials);
    }
    key.dispose();
    const mean = (rows: number[][], j: number) => rows.reduce((a, r) => a + r[j], 0) / rows.length;
    const sd = (rows: number[][], j: number) => Math.sqrt(rows.reduce((a, r) => a + (r[j] - mean(rows, j)) ** 2, 0) / (rows.length - 1));
    const results: PretrainPointResults = {
      m: h.m,
      ns,
      trials: h.trials,
      pretrain: ns.map((_, j) => mean(pre, j)),
      pretrain_sd: ns.map((_, j) => sd(pre, j)),
      ridge: ns.map((_, j) => mean(rid, j)),
      ridge_sd: ns.map((_, j) => sd(rid, j)),
      theory: ns.map((_, j) => mean(th, j)),
      subspace: sub,
    };
    for (const [j, n] of ns.entries()) await ctx.record({ pretrain_excess: results.pretrain[j], ridge_excess: results.ridge[j], theory_excess: results.theory[j] }, { phase: "labels", axis: "n", x: n });
    await ctx.record({ subspace_sin2: sub }, { phase: "pretraining", axis: "m", x: h.m });
    return results;
  },

  figures(all: P[], v) {
    const ps = firstSeed(all).sort((a, b) => a.results.m - b.results.m);
    const band = (r: PretrainPointResults, key: "pretrain" | "ridge") => {
      const se = r[`${key}_sd`].map((s) => s / Math.sqrt(r.trials));
      return { lo: r[key].map((y, i) => Math.max(1e-6, y - 2 * se[i])), hi: r[key].map((y, i) => y + 2 * se[i]) };
    };
    const curves = {
      kind: "line" as const,
      title: "excess risk against labeled samples n (±2 SE bands)",
      xLabel: "labeled samples n (log)",
      yLabel: "excess risk (log)",
      xLog: true,
      yLog: true,
      series: [
        ...ps.map((p) => ({ name: `${p.results.m} unlabeled: PCA + OLS`, x: p.results.ns, y: p.results.pretrain, ...band(p.results, "pretrain"), dots: true })),
        { name: "supervised ridge (oracle λ) on raw inputs", x: ps[0]?.results.ns ?? [], y: ps[0]?.results.ridge ?? [], ...(ps[0] ? band(ps[0].results, "ridge") : {}) },
        { name: "theory R*·r/(n − r − 1), m = ∞", x: ps[0]?.results.ns ?? [], y: ps.at(-1)?.results.theory ?? [], dashed: true },
      ],
      width: 560,
    };
    const ratio = {
      kind: "line" as const,
      title: "pretrained / best-ridge excess risk (criterion: ≤ 0.35 for m ≥ 10³, n ≥ 20)",
      xLabel: "labeled samples n (log)",
      yLabel: "ratio",
      xLog: true,
      series: ps.map((p) => ({ name: `${p.results.m} unlabeled`, x: p.results.ns, y: p.results.pretrain.map((e, i) => e / p.results.ridge[i]), dots: true })),
      width: 420,
    };
    return [
      {
        name: "pretrain-advantage",
        title: "Unsupervised pretraining (PCA) then OLS against supervised ridge on a factor model",
        subtitle: `d = ${all[0]?.hparams.d}, r = ${all[0]?.hparams.r}, ${ps[0]?.results.trials} trials — worst ratio ${(v.measured.ratio_large_m ?? NaN).toFixed(3)} (m ≥ 10³, n ≥ 20), ridge ×${(v.measured.ridge_n20_over_n200 ?? NaN).toFixed(1)} from n = 20 to 200, theory within ${((v.measured.theory_fit ?? NaN) * 100).toFixed(1)}% beyond 2 SE → ${v.verdict}`,
        panels: [curves, ratio],
      },
    ];
  },
});
