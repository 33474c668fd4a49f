/**
 * Model-agnostic measure of generalization difficulty (Boopathy et al. 2023): the inductive bias complexity Ĩ
 * (src/theory/taskDifficulty.ts, the official formula) and its intrinsic-dimension estimator, on the official
 * benchmark constants and on synthetic manifolds of known dimension.
 *
 * Claim: the formula reproduces the official code's values for MNIST, SVHN, CIFAR-10 and ImageNet to 3
 * significant digits; the MLE intrinsic dimension recovers m ∈ {2, 4, 8} within ±20% from 2,000 points of an
 * m-dimensional manifold in ℝ⁶⁴; with fixed toy constants Ĩ grows with m.
 * Criteria: CHECKS below, declared once (specs-01-22.md §15 PASS (i)–(iii), calibrated in numpy; the reference
 * values are the spec's evaluation of the official formula with the constants hard-coded in
 * FieteLab/inductive-bias-complexity task_difficulty.py, read 2026-12-07: task_data's R and δ for each task).
 * Negative control (hparams): the manifold structure removed — the same number of points drawn from N(0, I) in
 * all 64 dimensions — judged by the same checks: an estimator that reads the data must then miss m.
 * Cost on one core: smoke ~1 s, quick ~20 s with the control, full the same (4 manifolds × 5 samples of 2,000 points).
 * Run: genlab run task-difficulty --quick
 */
import { defineExperiment, firstSeed, integer, number, oneOf, type CheckDecl, type Point } from "../../src/declare/kit.ts";
import { keyFromSeed, splitKey } from "../../src/core/prng.ts";
import { OFFICIAL_TASKS, classificationDifficulty, intrinsicDimMLE, manifoldSample } from "../../src/theory/taskDifficulty.ts";

/** The spec's evaluation of the official formula (specs-01-22.md §15 table, 4 significant digits). */
const REFERENCE_BITS = { mnist: 1.485e16, svhn: 1.213e31, cifar10: 3.438e32, imagenet: 3.583e41 } as const;
/** The spec's toy constants for check (iii): ε = 0.01, n = 1000, R = 1, δ = 0.2, 2 classes. */
const TOY = { error: 0.01, n: 1000, R: 1, classes: 2, delta: 0.2 };

export type DifficultyPointResults = { m: number; estimate: number; toyBits: number; official: Record<keyof typeof OFFICIAL_TASKS, number> };
type P = Point<Record<string, number | string>, DifficultyPointResults>;

const CHECKS: CheckDecl<P>[] = [
  {
    id: "official_values",
    role: "claim",
    what: "(i) Ĩ of MNIST, SVHN, CIFAR-10 and ImageNet from the official constants: worst relative deviation from the reference values",
    cmp: "<=",
    threshold: 1e-3,
    source: "specs-01-22.md §15 PASS (i) (3 significant digits)",
    value: ({ points }) => {
      if (!points.length) throw new Error("no point was run");
      const o = points[0].results.official;
      return Math.max(...(Object.keys(REFERENCE_BITS) as (keyof typeof REFERENCE_BITS)[]).map((k) => Math.abs(o[k] / REFERENCE_BITS[k] - 1)));
    },
  },
  {
    id: "mle_dimension",
    role: "claim",
    what: "(ii) MLE intrinsic dimension (k = 5, mean over the samples) against the true m ∈ {2, 4, 8}: worst |m̂/m − 1|",
    cmp: "<=",
    threshold: 0.2,
    source: "specs-01-22.md §15 PASS (ii), calibrated",
    value: ({ points }) => {
      const ps = points.filter((p) => [2, 4, 8].includes(p.results.m));
      if (ps.length < 3) throw new Error(`the m = 2, 4, 8 manifolds were not all run (ran m = ${points.map((p) => p.results.m).join(", ")})`);
      return Math.max(...ps.map((p) => Math.abs(p.results.estimate / p.results.m - 1)));
    },
  },
  {
    id: "toy_growth",
    role: "claim",
    what: "(iii) toy constants: the smallest increase of log₁₀ Ĩ from one m to the next",
    cmp: ">",
    threshold: 0,
    source: "specs-01-22.md §15 PASS (iii), calibrated (2.66e4, 3.70e6, 2.58e9 bits at m = 2, 4, 8)",
    value: ({ points }) => {
      const ps = [...points].sort((a, b) => a.results.m - b.results.m);
      if (ps.length < 2) throw new Error("fewer than two manifolds were run");
      return Math.min(...ps.slice(1).map((p, i) => Math.log10(p.results.toyBits) - Math.log10(ps[i].results.toyBits)));
    },
  },
];

export const taskDifficulty = defineExperiment({
  id: "task-difficulty",
  paper: 15,
  title: "Inductive bias complexity: the official formula's values and the intrinsic-dimension estimator on manifolds of known dimension",
  claim: (h) =>
    `The inductive-bias-complexity formula reproduces the official values (MNIST 1.485e16, SVHN 1.213e31, CIFAR-10 3.438e32, ImageNet 3.583e41 bits) to 3 significant digits; the MLE intrinsic dimension (k = ${h.k}) of ${h.n} points on an m-dimensional ${h.manifold} in ℝ^${h.ambient} is within ±20% of m for m ∈ {2, 4, 8}; with toy constants Ĩ grows with m.`,
  coverage: {
    level: "partial",
    covered: ["the inductive-bias-complexity formula against the official code's constants", "the MLE intrinsic-dimension estimator on synthetic manifolds", "Ĩ against the intrinsic dimension"],
    notCovered: ["(iv) Ĩ(digits) < Ĩ(Fashion-MNIST): sklearn's digits need python3-sklearn, absent from CI", "the δ estimators on real data (sample minimum and extreme-value theory)", "the RL, MuJoCo and Omniglot variants"],
  },
  deviations: ["the manifolds are flat m-tori (angles uniform, (cos, sin) per angle) in a random 2m-dimensional subspace of ℝ⁶⁴; the spec allows spheres or tori", "the MLE uses every one of the n points as a query (the official code samples 10,000 of a larger set)", "the estimate is the mean over 5 independent samples of 2,000 points (the spec: one sample)"],
  criterionSource: "specs-01-22.md §15 PASS (i)–(iii), calibrated in numpy",
  checks: CHECKS,
  negativeControl: {
    what: "the manifold structure removed: the same number of points drawn from N(0, I) in all ambient dimensions, judged by the same checks; the estimate must then miss m",
    hparams: { manifold: "gaussian" },
  },
  seeds: { smoke: 1, quick: 1, full: 1 },
  dataSource: "generated",
  playFields: ["n", "k", "ambient"],
  hparams: {
    m: integer(4, "intrinsic dimension of the manifold", { min: 1, max: 32 }),
    n: integer(2000, "points sampled on the manifold", { min: 10, max: 100000 }),
    ambient: integer(64, "ambient dimension", { min: 2, max: 4096 }),
    k: integer(5, "neighbours of the MLE (the official default)", { min: 2, max: 100 }),
    trials: integer(5, "independent manifold samples whose MLE estimates are averaged (the estimate's sd across samples is ~1.5% of m at m = 8)", { min: 1, max: 100 }),
    manifold: oneOf(["torus", "gaussian"], "torus", "torus: an m-dimensional flat torus; gaussian: N(0, I) in all ambient dimensions (the control)"),
  },
  validate: (h) => (2 * h.m > h.ambient ? [{ key: "m" as const, message: `expected 2m ≤ ambient = ${h.ambient}, got m = ${h.m}` }] : []),
  sizes: { smoke: { n: 300, trials: 1 }, quick: {} },
  cost: { smoke: "~1 s", quick: "~20 s", full: "~20 s" },
  calibration: {
    seeds: [100, 101, 102],
    outcome:
      "PASS on each seed: official values within 0.013% (the spec's 4 digits), MLE worst |m̂/m − 1| 0.183, 0.161, 0.173 (always at m = 8: the estimator as coded overestimates there by ~17%; one sample gave 0.168, 0.189, 0.157, so the 5-sample mean was adopted to cut the ~1.5% sampling noise, the ±20% window unchanged), toy Ĩ growing ≥ 10²·¹ per step; control FAIL (m̂ ≈ 36 for every m)",
  },
  sweep: () => [{ m: [2, 4, 8, 16] }],

  async run(ctx): Promise<DifficultyPointResults> {
    const h = ctx.hparams;
    let key = keyFromSeed(ctx.seed);
    let estimate = 0;
    for (let t = 0; t < h.trials; t++) {
      const [next, ks, kq] = splitKey(key, 3);
      key = next;
      const X = await manifoldSample(h.manifold, h.m, h.n, h.ambient, ks);
      estimate += intrinsicDimMLE(X, h.n, h.ambient, h.k, h.n, kq) / h.trials;
      ctx.progress(t + 1, h.trials);
    }
    key.dispose();
    const toyBits = classificationDifficulty({ ...TOY, m: h.m }).bits;
    const official = Object.fromEntries(Object.entries(OFFICIAL_TASKS).map(([k, t]) => [k, classificationDifficulty(t).bits])) as DifficultyPointResults["official"];
    await ctx.record({ mle_dimension: estimate, toy_bits: toyBits }, { phase: "manifold", axis: "m", x: h.m });
    return { m: h.m, estimate, toyBits, official };
  },

  figures(all: P[], v) {
    const ps = firstSeed(all).sort((a, b) => a.results.m - b.results.m);
    const ms = ps.map((p) => p.results.m);
    const official = ps[0]?.results.official;
    return [
      {
        name: "task-difficulty",
        title: "Inductive bias complexity: the official formula and the intrinsic-dimension estimator",
        subtitle: `official values within ${((v.measured.official_values ?? NaN) * 100).toFixed(3)}%, MLE dimension within ${((v.measured.mle_dimension ?? NaN) * 100).toFixed(1)}% for m ≤ 8 → ${v.verdict}`,
        panels: [
          {
            kind: "line" as const,
            title: "MLE intrinsic dimension against the true m (k = 5)",
            xLabel: "true intrinsic dimension m",
            yLabel: "estimate m̂",
            series: [
              { name: "truth m̂ = m", x: ms, y: ms, dashed: true },
              { name: "estimate", x: ms, y: ps.map((p) => p.results.estimate), dots: true },
            ],
            width: 360,
          },
          {
            kind: "line" as const,
            title: "Ĩ against m, toy constants (ε = 0.01, n = 1000, R = 1, δ = 0.2, 2 classes)",
            xLabel: "intrinsic dimension m",
            yLabel: "Ĩ (bits, log)",
            yLog: true,
            series: [{ name: "formula", x: ms, y: ps.map((p) => p.results.toyBits), dots: true }],
            width: 380,
          },
          {
            kind: "bar" as const,
            title: "Ĩ of four benchmarks from the official constants (log₁₀ bits)",
            xLabel: "task",
            yLabel: "log₁₀ Ĩ (bits)",
            groups: ["MNIST", "SVHN", "CIFAR-10", "ImageNet"],
            series: official
              ? [
                  { name: "genlab", values: [official.mnist, official.svhn, official.cifar10, official.imagenet].map(Math.log10) },
                  { name: "reference (spec)", values: [REFERENCE_BITS.mnist, REFERENCE_BITS.svhn, REFERENCE_BITS.cifar10, REFERENCE_BITS.imagenet].map(Math.log10) },
                ]
              : [],
            width: 380,
          },
        ],
      },
    ];
  },
});
