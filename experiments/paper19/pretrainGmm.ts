/**
 * On the provable advantage of unsupervised pretraining (Ge, Tang, Fan, Jin 2023), Gaussian-mixture instance
 * (src/theory/gaussianMixture.ts): pretrain by EM (the mixture's MLE) on m unlabeled samples, then logistic
 * regression on the posterior responsibilities from n labels, against logistic regression on the raw inputs.
 *
 * Claim: with m = 10⁴ unlabeled samples and n = 20 labels of a 2-component mixture in d = 50 (means ±u, ‖u‖ = 1,
 * unit noise; the label is the component), EM + logistic beats logistic on raw x by ≥ 5 accuracy points, and
 * reaches the Bayes accuracy Φ(‖u‖) within 2 points — the pretrained downstream class has one weight and a bias,
 * so n = 20 labels suffice, where the raw class needs d + 1 = 51 parameters.
 * Criteria: CHECKS below, declared once. gmm_advantage is the spec's design estimate (specs-01-22.md §19, the
 * optional GMM analog: "≥ 5 accuracy points"); near_bayes and the em_recovered gate are this file's, set before the
 * calibration runs on seeds 100–102.
 * Regime gate: EM recovered the mixture at m = 10⁴ (mean error ≤ 0.25·‖μ₁ − μ₀‖): otherwise the claim about a
 * pretrained representation is not being tested (INCONCLUSIVE).
 * Negative control (hparams): the informative condition removed — the label is 1[vᵀx > 0] along a unit v
 * orthogonal to the means — same data, same pretraining and downstream: the responsibilities then carry no
 * label information, and the advantage must vanish.
 * Baselines: both logistic regressions take their L2 penalty from a 25-point grid by accuracy on the same 5,000
 * test points that report it (an oracle: generous to the raw baseline, as the factor model's ridge, and
 * optimistic for near_bayes, which reads the pretrained arm's best of 25 — by about the spread of 25 correlated
 * accuracies on 5,000 points, well under the 2-point threshold).
 * What the control shows: that the advantage depends on the informative condition. With a label that is a linear
 * function of x, the raw baseline learns it and the Bayes accuracy is 1, so the control cannot pass either claim;
 * it does not test the pipeline's correctness (the tests of src/theory/gaussianMixture.ts do).
 * Cost on one core: smoke ~8 s, quick 60–80 s measured (10 trials, with the control), full ~6 min (50 trials).
 * Run: genlab run pretrain-gmm --quick
 */
import { defineExperiment, firstSeed, integer, number, oneOf, type CheckDecl, type Point } from "../../src/declare/kit.ts";
import { keyFromSeed, splitKey } from "../../src/core/prng.ts";
import { normalCdf } from "../../src/core/special.ts";
import { drawGmm, gmmEm, linearAccuracy, logisticFit, responsibilities, sampleGmm } from "../../src/theory/gaussianMixture.ts";

export type PretrainGmmPointResults = {
  m: number;
  ns: number[];
  trials: number;
  /** mean test accuracy over the trials, per n */
  pretrain: number[];
  pretrain_sd: number[];
  raw: number[];
  raw_sd: number[];
  /** the Bayes accuracy: Φ(radius) with the component as label; 1 for the orthogonal labels (a function of x) */
  bayes: number;
  /** mean over trials of max_k ‖μ̂_k − μ_k‖ / ‖μ₁ − μ₀‖ (components matched) */
  mean_error: number;
  em_converged: number;
};
type P = Point<Record<string, number | string>, PretrainGmmPointResults>;

const NS = [10, 20, 50, 100];
const PENALTIES = Array.from({ length: 25 }, (_, i) => 10 ** (2 - (6 * i) / 24)); // 10² down to 10⁻⁴
const TEST = 5000;

const atM = (points: P[], m: number) => {
  const p = points.find((q) => q.results.m === m);
  if (!p) throw new Error(`the m = ${m} point was not run (ran m = ${points.map((q) => q.results.m).join(", ")})`);
  return p.results;
};
const atN = (r: PretrainGmmPointResults, key: "pretrain" | "raw", n: number) => {
  const i = r.ns.indexOf(n);
  if (i < 0) throw new Error(`n = ${n} was not run (ran ${r.ns.join(", ")})`);
  return r[key][i];
};

const CHECKS: CheckDecl<P>[] = [
  { id: "em_recovered", role: "gate", what: "m = 10⁴: EM's mean error, max over components of ‖μ̂ − μ‖ / ‖μ₁ − μ₀‖ (mean over trials)", cmp: "<=", threshold: 0.25, source: "this experiment: pretraining must have recovered the mixture for the claim to be tested", value: ({ points }) => atM(points, 10000).mean_error },
  { id: "gmm_advantage", role: "claim", what: "m = 10⁴, n = 20: accuracy of EM + logistic minus logistic on raw x (both with oracle penalties)", cmp: ">=", threshold: 0.05, source: "specs-01-22.md §19, optional GMM analog (design estimate: ≥ 5 points)", value: ({ points }) => { const r = atM(points, 10000); return atN(r, "pretrain", 20) - atN(r, "raw", 20); } },
  {
    id: "near_bayes",
    role: "claim",
    what: "m = 10⁴, n = 20: the Bayes accuracy (Φ(‖u‖); 1 where the label is a function of x) minus the accuracy of EM + logistic",
    cmp: "<=",
    threshold: 0.02,
    source: "the paper's rate Õ(√(C_Φ/m) + √(C_Ψ/n)) with a one-weight downstream; threshold this file's",
    value: ({ points }) => {
      const r = atM(points, 10000);
      return r.bayes - atN(r, "pretrain", 20);
    },
  },
];

export const pretrainGmm = defineExperiment({
  id: "pretrain-gmm",
  paper: 19,
  title: "Unsupervised pretraining (EM on a Gaussian mixture) then logistic regression against logistic on raw inputs",
  claim: (h) => `On a 2-component Gaussian mixture in d = ${h.d} (means ±u, ‖u‖ = ${h.radius}, unit noise; label = component), EM on m = 10⁴ unlabeled samples then logistic regression on the responsibilities from n = 20 labels beats logistic regression on raw x by ≥ 5 accuracy points and is within 2 points of the Bayes accuracy Φ(${h.radius}).`,
  coverage: {
    level: "partial",
    covered: ["the Gaussian-mixture instance: EM pretraining, logistic downstream on responsibilities, against logistic on raw inputs, over m and n", "the Bayes accuracy as the m, n → ∞ limit"],
    notCovered: ["the contrastive-learning instance", "the bound's constants (the paper gives rates only)", "mixtures with more components or unequal covariances (the library's EM takes K components)"],
  },
  deviations: ["the spec gives no separation: the means are ±u with ‖u‖ = 1 (Bayes accuracy Φ(1) = 0.841)", "EM fits one shared isotropic variance (the model's own family), from 2 k-means++ starts", "the spec's seeds are trials inside one run (10 at quick size, 50 at full), each a fresh mixture and data", "the n sweep uses nested labeled sets; every m the same labeled and test data (common random numbers)"],
  criterionSource: "specs-01-22.md §19 (optional GMM analog, design estimate) for gmm_advantage; near_bayes and the gate this experiment's, calibrated on seeds 100–102",
  checks: CHECKS,
  negativeControl: { what: "the informative condition removed: the label is 1[vᵀx > 0] along a unit v orthogonal to the means (same data, pretraining and downstream), judged by the same checks: the responsibilities carry no label information and the advantage must vanish", hparams: { labels: "orthogonal" } },
  seeds: { smoke: 1, quick: 1, full: 1 },
  dataSource: "generated",
  playFields: ["d", "radius", "trials"],
  hparams: {
    m: integer(10000, "unlabeled samples for pretraining", { min: 2, max: 1_000_000 }),
    d: integer(50, "input dimension d", { min: 2, max: 2000 }),
    radius: number(1, "‖u‖: the means are ±u", { min: 0, max: 100, minExclusive: true }),
    labels: oneOf(["component", "orthogonal"], "component", "component: y is the mixture component (informative); orthogonal: y = 1[vᵀx > 0] with v ⟂ the means (the control)"),
    trials: integer(50, "independent draws of (mixture, data) per point", { min: 2, max: 10000 }),
  },
  sizes: { smoke: { trials: 2, d: 20 }, quick: { trials: 10 } },
  cost: { smoke: "~8 s", quick: "~60–80 s measured, with the control", full: "~6 min" },
  calibration: {
    seeds: [100, 101, 102],
    outcome: "quick (10 trials): PASS on each seed; EM's mean error at m = 10⁴ 0.064, 0.061, 0.068 (gate ≤ 0.25); advantage at n = 20 16.7, 16.8, 15.0 points (≥ 5); gap to the Bayes accuracy 0.73, 1.49, 0.25 points (≤ 2); control FAIL on each (gmm_advantage, near_bayes); 59–80 s alone",
  },
  sweep: (size) => [{ m: size === "smoke" ? [1000, 10000] : [100, 1000, 10000] }],

  async run(ctx): Promise<PretrainGmmPointResults> {
    const h = ctx.hparams;
    const pre: number[][] = [];
    const raw: number[][] = [];
    let meanErr = 0;
    let conv = 0;
    const nMax = Math.max(...NS);
    // Every m of a seed draws the same mixtures, labeled and test data (only the unlabeled sample differs).
    let key = keyFromSeed(ctx.seed);
    for (let t = 0; t < h.trials; t++) {
      const [next, kg, kl, kt, ku, ke] = splitKey(key, 6);
      key = next;
      const g = await drawGmm({ d: h.d, K: 2, radius: h.radius, labels: h.labels }, kg);
      const lab = await sampleGmm(g, nMax, kl);
      const test = await sampleGmm(g, TEST, kt);
      const unl = await sampleGmm(g, h.m, ku);
      const fit = await gmmEm(unl.x, h.m, h.d, 2, ke);
      if (fit.converged) conv += 1 / h.trials;
      // Match the estimated components to the true ones (label switching) for the error.
      const dist = (j: number, k: number) => Math.hypot(...Array.from({ length: h.d }, (_, i) => fit.means[j * h.d + i] - g.means[k * h.d + i]));
      const sep = 2 * h.radius;
      meanErr += Math.min(Math.max(dist(0, 0), dist(1, 1)), Math.max(dist(0, 1), dist(1, 0))) / sep / h.trials;
      // The downstream feature: the responsibility of component 1 (the two sum to 1).
      const r1 = (x: Float64Array, n: number) => responsibilities(fit, x, n, h.d).filter((_, i) => i % 2 === 1);
      const fLab = r1(lab.x, nMax);
      const fTest = r1(test.x, TEST);
      // The best test accuracy over the penalty path, from the largest penalty down, each fit warm-started from the last.
      const best = (F: Float64Array, Ft: Float64Array, p: number, n: number) => {
        let prev: ReturnType<typeof logisticFit> | undefined;
        let acc = 0;
        for (const l of PENALTIES) {
          prev = logisticFit(F, lab.y, n, p, l, { init: prev });
          acc = Math.max(acc, linearAccuracy(prev, Ft, test.y, TEST, p));
        }
        return acc;
      };
      pre.push(NS.map((n) => best(fLab, fTest, 1, n)));
      raw.push(NS.map((n) => best(lab.x, test.x, h.d, n)));
      ctx.progress(t + 1, h.trials);
    }
    key.dispose();
    const mean = (rows: number[][], j: number) => rows.reduce((a, r) => a + r[j], 0) / rows.length;
    const sd = (rows: number[][], j: number) => Math.sqrt(rows.reduce((a, r) => a + (r[j] - mean(rows, j)) ** 2, 0) / (rows.length - 1));
    const results: PretrainGmmPointResults = {
      m: h.m,
      ns: NS,
      trials: h.trials,
      pretrain: NS.map((_, j) => mean(pre, j)),
      pretrain_sd: NS.map((_, j) => sd(pre, j)),
      raw: NS.map((_, j) => mean(raw, j)),
      raw_sd: NS.map((_, j) => sd(raw, j)),
      bayes: h.labels === "component" ? normalCdf(h.radius) : 1,
      mean_error: meanErr,
      em_converged: conv,
    };
    for (const [j, n] of NS.entries()) await ctx.record({ pretrain_acc: results.pretrain[j], raw_acc: results.raw[j] }, { phase: "labels", axis: "n", x: n });
    await ctx.record({ em_mean_error: meanErr, em_converged: conv }, { phase: "pretraining", axis: "m", x: h.m });
    return results;
  },

  figures(all: P[], v) {
    const ps = firstSeed(all).sort((a, b) => a.results.m - b.results.m);
    const band = (r: PretrainGmmPointResults, key: "pretrain" | "raw") => {
      const se = r[`${key}_sd`].map((s) => s / Math.sqrt(r.trials));
      return { lo: r[key].map((y, i) => y - 2 * se[i]), hi: r[key].map((y, i) => y + 2 * se[i]) };
    };
    const ns = ps[0]?.results.ns ?? [];
    const bayes = ps[0]?.results.bayes ?? NaN;
    const curves = {
      kind: "line" as const,
      title: "test accuracy against labeled samples n (±2 SE bands)",
      xLabel: "labeled samples n (log)",
      yLabel: "test accuracy",
      xLog: true,
      series: [
        ...ps.map((p) => ({ name: `${p.results.m} unlabeled: EM + logistic`, x: p.results.ns, y: p.results.pretrain, ...band(p.results, "pretrain"), dots: true })),
        ...(ps[0] ? [{ name: "supervised logistic (oracle λ) on raw inputs", x: ns, y: ps[0].results.raw, ...band(ps[0].results, "raw") }] : []),
        { name: `theory: Bayes accuracy = ${bayes.toFixed(3)}`, x: ns, y: ns.map(() => bayes), dashed: true },
      ],
      width: 560,
    };
    const err = {
      kind: "line" as const,
      title: "EM's mean error ‖μ̂ − μ‖ / ‖μ₁ − μ₀‖ against unlabeled samples m (gate: ≤ 0.25 at 10⁴)",
      xLabel: "unlabeled samples m (log)",
      yLabel: "relative mean error (log)",
      xLog: true,
      yLog: true,
      series: [{ name: "EM", x: ps.map((p) => p.results.m), y: ps.map((p) => p.results.mean_error), dots: true }],
      width: 400,
    };
    return [
      {
        name: "pretrain-gmm",
        title: "Unsupervised pretraining (EM on a Gaussian mixture) then logistic regression, against logistic on raw inputs",
        subtitle: `d = ${all[0]?.hparams.d}, ${ps[0]?.results.trials} trials — advantage at m = 10⁴, n = 20: ${((v.measured.gmm_advantage ?? NaN) * 100).toFixed(1)} points (≥ 5), gap to Bayes ${((v.measured.near_bayes ?? NaN) * 100).toFixed(1)} points (≤ 2) → ${v.verdict}`,
        panels: [curves, err],
      },
    ];
  },
});
