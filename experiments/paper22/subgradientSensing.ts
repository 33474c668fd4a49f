/**
 * Global convergence of the sub-gradient method for robust matrix recovery (Ma & Fattahi 2022): ℓ₁-loss matrix
 * sensing with an over-estimated rank r′, solved by the sub-gradient method from a small initialisation with
 * geometric step sizes (src/theory/matrixSensing.ts), swept over the initial scale α, r′ and the outlier
 * fraction p.
 *
 * Claim: with r′ = 20 ≫ r = 3, a small initialisation recovers X* far better than a large one (err(α = 1e-6)
 * ≤ 0.1 × err(α = 1e-1)), to ≤ 1e-3 with 20% outliers of scale 10 and ≤ 5e-3 with 45%, and the final error is
 * non-decreasing in α.
 * Criteria: CHECKS below, declared once (specs-01-22.md §22 PASS (i)–(iv), calibrated in numpy; the gate is a
 * design estimate: without outliers the method recovers X*).
 * Unverified (specs-01-22.md §22): the paper's exact step rule and how B is drawn. The search (2026-12-07)
 * reached neither the paper's algorithm section nor any official code; this is the spec's calibrated
 * geometric schedule η_t = 0.5·0.99ᵗ with B ~ N(0, 1), and the calibration below reproduces the spec's numpy
 * numbers to within 10–30% (e.g. 2.3e-5 at α = 1e-8 against the spec's 2.4e-5, 4.2e-3 at α = 1e-1 against 5.3e-3).
 * Negative control (hparams): the ℓ₁ loss replaced by the squared loss (the one ingredient that makes the
 * method robust to outliers), same small initialisation and schedule, with η₀ = 0.2: the squared loss's
 * curvature near X* is about 8‖X*‖, so η₀ = 0.5 diverges (the spec's note) and η₀ = 0.1 exhausts the geometric
 * schedule before U grows from α = 1e-6 (error 0.18 without outliers, seed 100). At η₀ = 0.2 it recovers X*
 * without outliers (1.8e-5, seed 100), so the gate is reached and the control is judged on the outliers.
 * Cost on one core: smoke ~3 s, quick ~80 s (11 points and their control, 3 seeds; 25–28 s a seed measured), full
 * ~2.5 min (15 points and their control, 3 seeds).
 * Run: genlab run subgradient-sensing --quick
 */
import { defineExperiment, firstSeed, integer, number, oneOf, type CheckDecl, type CheckInput, type Point } from "../../src/declare/kit.ts";
import { keyFromSeed, splitKey } from "../../src/core/prng.ts";
import { robustMatrixSensing, smallInit, subgradientMethod } from "../../src/theory/matrixSensing.ts";

export type SensingPointResults = { alpha: number; rank: number; outliers: number; loss: string; final: number; diverged: boolean; every: number; errors: number[] };
type P = Point<Record<string, number | string>, SensingPointResults>;

const finalAt = (points: P[], alpha: number, rank: number, outliers: number) => {
  const p = points.find((q) => q.results.alpha === alpha && q.results.rank === rank && q.results.outliers === outliers);
  if (!p) throw new Error(`the point α = ${alpha}, r′ = ${rank}, p = ${outliers} was not run`);
  return p.results.final;
};

/** The over-parameterised search rank of a run: the largest r′ in its points (20 at quick and full sizes). */
const big = (points: P[]) => {
  if (!points.length) throw new Error("no point was run");
  return Math.max(...points.map((p) => p.results.rank));
};

/** The criteria, once (specs-01-22.md §22 PASS (i)–(iv); the gate a design estimate). */
const CHECKS: CheckDecl<P>[] = [
  {
    id: "clean_recovery",
    role: "gate",
    what: "relative error ‖UUᵀ − X*‖_F/‖X*‖_F without outliers (α = 1e-6, r′ = 20): the method and its measurements can recover X* at all",
    cmp: "<=",
    threshold: 1e-3,
    source: "design estimate (spec calibration: 3.6e-5)",
    reach: "more measurements m or iterations",
    value: ({ points }) => finalAt(points, 1e-6, big(points), 0),
  },
  {
    id: "small_init_gain",
    role: "claim",
    what: "(i) err(α = 1e-6) / err(α = 1e-1), r′ = 20, p = 0.2",
    cmp: "<=",
    threshold: 0.1,
    source: "specs-01-22.md §22 PASS (i), calibrated (0.02)",
    value: ({ points }) => finalAt(points, 1e-6, big(points), 0.2) / finalAt(points, 1e-1, big(points), 0.2),
  },
  {
    id: "err_outliers_20",
    role: "claim",
    what: "(ii) relative error, α = 1e-6, r′ = 20, 20% outliers",
    cmp: "<=",
    threshold: 1e-3,
    source: "specs-01-22.md §22 PASS (ii), calibrated (1e-4; 2.5e-4 on the worst seed)",
    value: ({ points }) => finalAt(points, 1e-6, big(points), 0.2),
  },
  {
    id: "err_outliers_45",
    role: "claim",
    what: "(iii) relative error, α = 1e-6, r′ = 20, 45% outliers",
    cmp: "<=",
    threshold: 5e-3,
    source: "specs-01-22.md §22 PASS (iii), calibrated (1.2e-3)",
    value: ({ points }) => finalAt(points, 1e-6, big(points), 0.45),
  },
  {
    id: "worst_drop_in_alpha",
    role: "claim",
    what: "(iv) final error against α (r′ = 20, p = 0.2): the largest relative drop from one α to the next larger one (0: non-decreasing)",
    cmp: "<=",
    threshold: 0,
    source: "specs-01-22.md §22 PASS (iv), calibrated (monotone)",
    value: ({ points }) => {
      const ps = points.filter((p) => p.results.rank === big(points) && p.results.outliers === 0.2).sort((a, b) => a.results.alpha - b.results.alpha);
      if (ps.length < 2) throw new Error(`the α sweep at r′ = 20, p = 0.2 was not run (${ps.length} point)`);
      let worst = -Infinity;
      for (let i = 1; i < ps.length; i++) worst = Math.max(worst, (ps[i - 1].results.final - ps[i].results.final) / ps[i - 1].results.final);
      return Math.max(0, worst);
    },
  },
];

const ALPHAS = [1e-8, 1e-6, 1e-4, 1e-3, 1e-2, 1e-1];

export const subgradientSensing = defineExperiment({
  id: "subgradient-sensing",
  paper: 22,
  title: "Robust matrix recovery: the sub-gradient method from small initialisation, over-parameterised and with outliers",
  claim: (h) =>
    `ℓ₁-loss matrix sensing (d = ${h.d}, rank ${h.r}, m = ${h.m} symmetric Gaussian measurements) solved by the sub-gradient method with r′ = 20 from U₀ = αB: err(α = 1e-6) ≤ 0.1 × err(α = 1e-1) and ≤ 1e-3 with 20% outliers of scale ${h.outlierScale}, ≤ 5e-3 with 45%, and the final error is non-decreasing in α.`,
  coverage: {
    level: "partial",
    covered: ["the sub-gradient method on the ℓ₁ loss with small initialisation and geometric steps", "over-parameterisation r′ = 20 against exact r′ = 3", "the outlier fraction up to 45%"],
    notCovered: ["Gaussian (dense, non-outlier) noise as a criterion (the generator supports it)", "the Sign-RIP check", "the sample-complexity claim (independent of r′)", "the paper's own figures' settings (unverified)"],
  },
  deviations: [
    "the step rule is the spec's geometric η_t = η₀ρᵗ (the paper's exact rule is unverified)",
    "outliers add N(0, scale²) to a random subset of exactly round(p·m) measurements",
    "the quick size runs exact parameterisation r′ = 3 at α ∈ {1e-6, 1e-1} only; the full size runs the spec's whole grid (both on 3 seeds)",
  ],
  criterionSource: "specs-01-22.md §22 PASS (i)–(iv), calibrated in numpy; the gate a design estimate",
  checks: CHECKS,
  negativeControl: {
    what: "the ℓ₁ loss replaced by the squared loss (η₀ = 0.2, its stable step; same initialisation and schedule), judged by the same checks: it recovers X* without outliers (the gate) but must not with them",
    hparams: { loss: "l2", eta0: 0.2 },
  },
  seeds: { smoke: 1, quick: 3, full: 3 },
  dataSource: "generated",
  playFields: ["d", "r", "m", "iterations"],
  hparams: {
    alpha: number(1e-6, "initial scale α: U₀ = αB, B ~ N(0, 1)", { min: 0, max: 10, minExclusive: true }),
    rank: integer(20, "search rank r′ (r′ ≥ r: over-parameterised)", { min: 1, max: 1000 }),
    outliers: number(0.2, "outlier fraction p", { min: 0, max: 1, maxExclusive: true }),
    d: integer(20, "matrix size d", { min: 2, max: 200 }),
    r: integer(3, "true rank r", { min: 1, max: 200 }),
    m: integer(1200, "measurements m", { min: 1, max: 100000 }),
    outlierScale: number(10, "outlier standard deviation", { min: 0, max: 1e6 }),
    loss: oneOf(["l1", "l2"], "l1", "l1: the sub-gradient method (the paper); l2: gradient descent on the squared loss (the control)"),
    eta0: number(0.5, "initial step η₀", { min: 0, max: 100, minExclusive: true }),
    rho: number(0.99, "step decay ρ: η_t = η₀ρᵗ", { min: 0, max: 1, minExclusive: true }),
    iterations: integer(1000, "iterations T", { min: 1, max: 1_000_000 }),
  },
  validate: (h) => (h.r > h.d ? [{ key: "r", message: `expected r ≤ d = ${h.d}, got ${h.r}` }] : h.rank > h.d ? [{ key: "rank", message: `expected r′ ≤ d = ${h.d}, got ${h.rank}` }] : []),
  sizes: {
    smoke: { d: 8, r: 2, rank: 8, m: 200, iterations: 200 },
    quick: {},
  },
  cost: { smoke: "~3 s", quick: "~80 s measured, with the control", full: "~2.5 min" },
  calibration: {
    seeds: [100, 101, 102],
    outcome:
      "quick, each seed alone: PASS on all three; err(1e-6)/err(1e-1) 0.042, 0.043, 0.080; 20% outliers 1.8e-4, 2.5e-4, 3.9e-4; 45% outliers 1.8e-3, 1.6e-3, 2.9e-3; monotone in α on all three; without outliers 4.1–4.6e-5. Control (squared loss) FAIL on all three: it passes the gate and misses every claim",
  },
  sweep: (size) => {
    const exact = size === "full" ? ALPHAS : [1e-6, 1e-1];
    const big = size === "smoke" ? 8 : 20;
    return [
      { alpha: ALPHAS, rank: [big], outliers: [0.2] },
      { alpha: exact, rank: [size === "smoke" ? 2 : 3], outliers: [0.2] },
      { alpha: [1e-6], rank: [big], outliers: [0, 0.3, 0.45] },
    ];
  },

  async run(ctx): Promise<SensingPointResults> {
    const h = ctx.hparams;
    if (h.rank > h.d || h.r > h.d) throw new RangeError(`ranks must not exceed d = ${h.d}`);
    // The keys depend on the seed only: every point of a seed with the same p solves the same problem, and every
    // α with the same r′ starts from the same B, scaled by α (so the α sweep isolates the initial scale).
    const [kProblem, kInit] = splitKey(keyFromSeed(ctx.seed), 2);
    const problem = await robustMatrixSensing({ d: h.d, r: h.r, m: h.m, outlierFraction: h.outliers, outlierScale: h.outlierScale }, kProblem);
    const U0 = await smallInit(h.d, h.rank, h.alpha, kInit);
    const run = subgradientMethod(problem, U0, h.rank, { eta0: h.eta0, rho: h.rho, iterations: h.iterations, loss: h.loss, every: 10 });
    for (const [i, e] of run.errors.entries()) await ctx.record({ relative_error: e }, { phase: "iterations", axis: "iteration", x: Math.min(i * run.every, h.iterations) });
    ctx.progress(1, 1);
    return { alpha: h.alpha, rank: h.rank, outliers: h.outliers, loss: h.loss, final: run.final, diverged: run.diverged, every: run.every, errors: run.errors };
  },

  figures(all: P[], v) {
    const ps = firstSeed(all);
    const over = big(ps);
    const sweep = (rank: number) => ps.filter((p) => p.results.rank === rank && p.results.outliers === 0.2).sort((a, b) => a.results.alpha - b.results.alpha);
    const byP = ps.filter((p) => p.results.rank === over && p.results.alpha === 1e-6).sort((a, b) => a.results.outliers - b.results.outliers);
    const exact = Math.min(...ps.map((p) => p.results.rank));
    const iterations = {
      kind: "line" as const,
      title: `relative error against iteration, one curve per initial scale α (r′ = ${over}, p = 0.2)`,
      xLabel: "iteration",
      yLabel: "‖UUᵀ − X*‖_F / ‖X*‖_F (log)",
      yLog: true,
      series: sweep(over).map((p) => ({ name: p.results.alpha.toExponential(0) /* the name's first word picks the colour: one per α */, x: p.results.errors.map((_, i) => i * p.results.every), y: p.results.errors.map((e) => Math.max(e, 1e-12)) })),
      width: 480,
    };
    const alphaPanel = {
      kind: "line" as const,
      title: "final error against the initial scale α (p = 0.2)",
      xLabel: "α (log)",
      yLabel: "final relative error (log)",
      xLog: true,
      yLog: true,
      series: [
        { name: `rank-${over} (over-parameterised r′)`, x: sweep(over).map((p) => p.results.alpha), y: sweep(over).map((p) => p.results.final), dots: true },
        { name: `rank-${exact} (exact r′)`, x: sweep(exact).map((p) => p.results.alpha), y: sweep(exact).map((p) => p.results.final), dots: true, dashed: true },
      ],
      width: 380,
    };
    const outlierPanel = {
      kind: "line" as const,
      title: `final error against the outlier fraction (α = 1e-6, r′ = ${over})`,
      xLabel: "outlier fraction p",
      yLabel: "final relative error (log)",
      yLog: true,
      series: [{ name: "sub-gradient method (ℓ₁)", x: byP.map((p) => p.results.outliers), y: byP.map((p) => p.results.final), dots: true }],
      width: 340,
    };
    return [
      {
        name: "subgradient-sensing",
        title: "Robust matrix recovery by the sub-gradient method from small initialisation",
        subtitle: `d = ${all[0]?.hparams.d}, r = ${all[0]?.hparams.r}, m = ${all[0]?.hparams.m}, ${all[0]?.hparams.iterations} iterations — err(1e-6)/err(1e-1) = ${(v.measured.small_init_gain ?? NaN).toExponential(2)}, 20% outliers ${(v.measured.err_outliers_20 ?? NaN).toExponential(2)}, 45% ${(v.measured.err_outliers_45 ?? NaN).toExponential(2)} → ${v.verdict}`,
        panels: [iterations, alphaPanel, outlierPanel],
      },
    ];
  },
});
