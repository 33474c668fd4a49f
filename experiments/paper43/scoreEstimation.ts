/**
 * Neural network-based score estimation in diffusion models (Han, Razaviyayn, Xu 2024): denoising score matching
 * (DSM) on a fixed set of noisy labels is regression with label noise; a wide two-layer network trained by full-batch
 * GD follows kernel regression with its NTK, and training too long fits the noise, so the error of the estimated
 * score against the true one is U-shaped in training time and needs early stopping (src/theory/scoreMatching.ts).
 *
 * Data: 2-D mixture of 4 Gaussians on the corners of [−1, 1]² (std 0.2), n clean samples, 8 (t, ε) draws each
 * (t ~ U[0.05, 2], VP process), labels −ε; the network estimates σ_t ∇ log p_t (DSM weighted by σ_t²). The true
 * score is the mixture's closed form; the score error is E‖g − σ_t ∇ log p_t‖² on 2,048 fresh (x_t, t) (4,096 at the
 * full size); the held-out DSM loss, on a held-out set of 256 samples × 8 draws, estimates it up to the constant C.
 * Claim (spec §21 and issue 24's table): for n = 64 the score error is U-shaped in training time — its value at the
 * last step is ≥ 1.2× its minimum (at t*) while the DSM training loss keeps falling; the held-out DSM minimum (the
 * early-stopping time) lies within a factor 2 of t*; at width 4,096 the network's error curve stays within 10%
 * (relative) of its linearised model's up to t*; the early-stopped error decreases with n (64 > 256 > 1,024).
 * Criteria: CHECKS below, declared once. The spec's thresholds are its author's design estimates [UNVERIFIED]; the
 * paper's full text (its weighting, time law and early-stopping rule for unbounded inputs) could not be read here:
 * a search of the stored public material found only the abstract, so the standard choices above stand and the
 * stopping rule is the held-out DSM minimum. The spec places "late" at 10·t*; the declared criterion is the
 * issue's "late ≥ 1.2× the minimum" at the run's last step (the 10·t* ratio is reported as measured, not judged).
 * Negative control (hparams): the label noise removed — every run regresses on the clean conditional means
 * σ_t ∇ log p_t(x_t) at the same inputs; nothing is left to overfit, so the error must stop rising late.
 * Quick size calibrated on seeds 100–102 (see `calibration`): width 512, 10,000 steps, the trend on n ≤ 256.
 * Cost on one core: smoke ~2 s, quick 76 s with the control (measured alone), full 25 min wall (3 seeds, --jobs 2).
 * Verdict of record: FAIL — seed 1's error minimum comes late (6,623 steps) and its rise by 20,000 steps is 1.12×;
 * there the network has left its linearisation (gap 0.21) before t*. Seeds 0 and 2 pass every check.
 * Run: genlab run score-estimation --quick
 */
import { defineExperiment, firstSeed, integer, number, oneOf, type CheckDecl, type CheckInput, type Point } from "../../src/declare/kit.ts";
import { roleKeys } from "../../src/core/prng.ts";
import { SQUARE_GMM, dsmData, geometricCheckpoints, initScoreNet, linearizedScoreNet, meanSquaredRows, scoreNetInput, trainScoreNet } from "../../src/theory/scoreMatching.ts";

export type ScorePointResults = {
  role: string;
  n: number;
  width: number;
  labels: string;
  checkpoints: number[];
  /** DSM loss on the training labels, the true-score error on fresh points, the held-out DSM loss (network). */
  train: number[];
  error: number[];
  held: number[];
  /** The linearised model's curves (the "ntk" point only). */
  linTrain: number[] | null;
  linError: number[] | null;
  /** The irreducible DSM constant C = E‖ε + σ_t ∇ log p_t‖², Monte Carlo on the fresh points. */
  dsmConstant: number;
  tStar: number;
  tEarlyStop: number;
  errorAtEarlyStop: number;
  /** error(last step)/min error; error(10·t*)/error(t*) when 10·t* was reached (reported, not judged). */
  lateRatio: number;
  tenfoldRatio: number | null;
  trainFallRatio: number;
  linDeviation: number | null;
};
type P = Point<Record<string, number | string>, ScorePointResults>;

const ntkPoint = (points: P[]) => {
  const p = points.find((q) => q.results.role === "ntk");
  if (!p) throw new Error("the n = 64 NTK-width point was not run");
  return p.results;
};
const trendErrors = (points: P[]) => {
  const t = points.filter((q) => q.results.role === "trend").sort((a, b) => a.results.n - b.results.n);
  if (t.length < 2) throw new Error(`the n-trend needs ≥ 2 sample sizes, ran ${t.length}`);
  return t.map((q) => q.results.errorAtEarlyStop);
};

const CHECKS: CheckDecl<P>[] = [
  {
    id: "noise_fit",
    role: "gate",
    what: "n = 64: final DSM training loss / the irreducible DSM constant C (< 1: the network fits the label noise)",
    cmp: "<",
    threshold: 1,
    source: "design estimate (the regime: below C only by fitting noise)",
    reach: "train longer (steps) or at a larger learning rate",
    value: ({ points }) => {
      const r = ntkPoint(points);
      return r.train[r.train.length - 1] / r.dsmConstant;
    },
  },
  {
    id: "gd_stable",
    role: "gate",
    what: "n = 64: largest rise of the DSM training loss over its running minimum, train(c)/min_{c' ≤ c} train(c') (GD stable)",
    cmp: "<=",
    threshold: 1.01,
    source: "design estimate (a late rise from an unstable step size would mimic overfitting)",
    reach: "lower the learning rate",
    value: ({ points }) => {
      const tr = ntkPoint(points).train;
      let lo = Infinity, worst = 0;
      for (const v of tr) {
        lo = Math.min(lo, v);
        worst = Math.max(worst, v / lo);
      }
      return worst;
    },
  },
  { id: "late_over_min", role: "claim", what: "n = 64: true-score error at the last step / its minimum (U-shape)", cmp: ">=", threshold: 1.2, source: "issue 24 table (late ≥ 1.2× the minimum); specs-23-45.md §21 PASS at 10·t* [UNVERIFIED]", value: ({ points }) => ntkPoint(points).lateRatio },
  { id: "train_falls", role: "claim", what: "n = 64: DSM training loss at the last step / at t*", cmp: "<", threshold: 1, source: "specs-23-45.md §21 PASS (training loss keeps decreasing)", value: ({ points }) => ntkPoint(points).trainFallRatio },
  {
    id: "early_stop",
    role: "claim",
    what: "n = 64: |log₂(held-out DSM argmin / t*)| (early stopping within a factor 2 of the error's minimum)",
    cmp: "<=",
    threshold: 1,
    source: "specs-23-45.md §21 PASS [UNVERIFIED]",
    value: ({ points }) => {
      const r = ntkPoint(points);
      return Math.abs(Math.log2(Math.max(r.tEarlyStop, 1) / Math.max(r.tStar, 1)));
    },
  },
  {
    id: "linearized",
    role: "claim",
    what: "n = 64, width 4,096: max over steps ≤ t* of |error_net − error_lin| / error_lin",
    cmp: "<=",
    threshold: 0.1,
    source: "specs-23-45.md §21 PASS [UNVERIFIED]",
    sizes: ["full"],
    value: ({ points }) => {
      const d = ntkPoint(points).linDeviation;
      if (d === null) throw new Error("the linearised model was not run");
      return d;
    },
  },
  {
    id: "n_trend",
    role: "claim",
    what: "min over consecutive n of error_ES(n) − error_ES(next n) (the early-stopped error decreases with n)",
    cmp: ">",
    threshold: 0,
    source: "specs-23-45.md §21 PASS (64 > 256 > 1,024)",
    value: ({ points }) => {
      const e = trendErrors(points);
      return Math.min(...e.slice(1).map((v, i) => e[i] - v));
    },
  },
];

const argmin = (xs: number[]) => xs.reduce((b, v, i) => (v < xs[b] ? i : b), 0);

export const scoreEstimation = defineExperiment({
  id: "score-estimation",
  paper: 43,
  title: "A GD-trained score network overfits noisy DSM labels: U-shaped score error and early stopping",
  claim: (h) => `Denoising score matching on a 2-D Gaussian mixture with a fixed set of noisy labels (8 per sample), full-batch GD on a two-layer ReLU network in NTK parametrization: for n = 64 the true-score error is U-shaped in training time (last step ≥ 1.2× the minimum) while the training loss falls; the held-out DSM minimum is within a factor 2 of the error's; at width ${h.width} the error follows the linearised model's within 10% up to t*; the early-stopped error decreases with n.`,
  coverage: {
    level: "partial",
    covered: ["DSM as regression with noisy labels, the closed-form mixture score", "GD dynamics of a wide network against its linearisation (empirical NTK, exact)", "overfitting and early stopping by the held-out DSM loss", "the trend of the early-stopped error in n"],
    notCovered: ["the paper's minimax rate itself (theory: only the trend in n is checked)", "the paper's exact stopping rule for unbounded inputs and its time weighting (full text not read)", "the Credit Default tabular generation experiment"],
  },
  deviations: ["the full size trains at lr 1 for 20,000 steps (the quick size's GD time, 10,000 steps of lr 2): at lr 2, GD turned unstable late at width 512 past 12,000 steps; two earlier full records were lost to corrupted weights after ~15,000 steps (caught by the gates; docs/jax-js-notes.md)","'late' is the last step of a declared run length, not 10·t* (the issue's wording; the 10·t* ratio is reported)", "the quick size: width 512 for the n = 64 point (the linearisation check applies at 4,096, full size only) and n ∈ {64, 128, 256} for the trend", "the n-trend at width 256 (the spec's small width)"],
  criterionSource: "specs-23-45.md §21 PASS (design estimates by the spec's author) and issue 24's table",
  checks: CHECKS,
  negativeControl: { what: "the label noise removed: every run regresses on the clean conditional means σ_t ∇ log p_t(x_t) at the same inputs, so nothing is left to overfit and the error must not rise late", hparams: { labels: "clean" } },
  seeds: { smoke: 1, quick: 1, full: 3 },
  dataSource: "generated",
  playFields: ["width", "steps", "lr"],
  hparams: {
    role: oneOf(["ntk", "trend"], "ntk", "ntk: the n = 64 run at `width` with its linearised model; trend: a sample size at `trendWidth`"),
    n: integer(64, "clean samples (8 noisy labels each)", { min: 4, max: 4096 }),
    width: integer(4096, "hidden width of the n = 64 run (even: antisymmetric pairs)", { min: 2, max: 16384 }),
    trendWidth: integer(256, "hidden width of the n-trend runs", { min: 2, max: 16384 }),
    labels: oneOf(["noisy", "clean"], "noisy", "noisy: the DSM labels −ε; clean: their conditional means (the control)"),
    steps: integer(20000, "full-batch GD steps of the n = 64 run", { min: 1, max: 1_000_000 }),
    trendSteps: integer(10000, "full-batch GD steps of the n-trend runs (the early-stopped error is the held-out minimum within them)", { min: 1, max: 1_000_000 }),
    lr: number(1, "GD step size on (1/N) Σ ‖g − y‖²", { min: 1e-6, max: 100 }),
    evalSamples: integer(1024, "fresh samples × 8 (t, ε) draws for the true-score error", { min: 4, max: 1_000_000 }),
    heldOut: integer(2048, "held-out samples × 8 draws for the early-stopping DSM loss", { min: 4, max: 1_000_000 }),
  },
  sizes: {
    smoke: { width: 64, trendWidth: 16, steps: 60, trendSteps: 60, evalSamples: 32, heldOut: 16 },
    quick: { width: 512, lr: 2, steps: 10000, trendSteps: 6000, evalSamples: 512 },
  },
  cost: { smoke: "~2 s", quick: "76 s measured alone, with the control", full: "25 min wall measured (--jobs 2, on a loaded machine)" },
  calibration: {
    seeds: [100, 101, 102],
    outcome:
      "quick: PASS on each seed (last/min error 1.29, 1.36, 2.12; early stop at t*, t*, 1.25·t*; trend margins 0.018, 0.017, 0.019); the control FAILs on each (late_over_min, train_falls: the clean-label error falls to the last step). Two earlier quick sizes were rejected: lr 3 at width 1,024 and lr 2 at 15,000 steps made GD unstable late (the training loss rose 8%; hence the gd_stable gate), and a held-out set of 256 × 8 located the flat minimum too noisily (early stop 3–4× t* on seeds 101, 102; 2,048 × 8 now)",
  },
  sweep: (size) => [{ role: ["ntk"], n: [size === "smoke" ? 16 : 64] }, { role: ["trend"], n: size === "smoke" ? [16, 32] : size === "quick" ? [64, 128, 256] : [64, 256, 1024] }],

  async run(ctx): Promise<ScorePointResults> {
    const h = ctx.hparams;
    const width = h.role === "ntk" ? h.width : h.trendWidth;
    const keys = roleKeys(ctx.seed, ["data", "held", "eval", "init"]);
    const opts = { perSample: 8, tMin: 0.05, tMax: 2 };
    const train = dsmData(SQUARE_GMM, { ...opts, n: h.n }, keys.data);
    const held = dsmData(SQUARE_GMM, { ...opts, n: h.heldOut }, keys.held);
    const fresh = dsmData(SQUARE_GMM, { ...opts, n: h.evalSamples }, keys.eval);
    const zt = scoreNetInput(train, opts.tMax), zh = scoreNetInput(held, opts.tMax), ze = scoreNetInput(fresh, opts.tMax);
    const init = initScoreNet(width, zt.D, 2, keys.init);
    const y = h.labels === "clean" ? train.clean : train.noisy;
    const steps = h.role === "ntk" ? h.steps : h.trendSteps;
    const checkpoints = geometricCheckpoints(steps);
    const lin = h.role === "ntk" ? await linearizedScoreNet({ init, z: zt.z, y, evals: [ze.z], lr: h.lr, checkpoints }) : null;
    const net = await trainScoreNet({ init, z: zt.z, y, evals: [ze.z, zh.z], lr: h.lr, checkpoints, progress: (s) => ctx.progress(s, steps) });
    const error = net.preds[0].map((f) => meanSquaredRows(f, fresh.clean, 2));
    const heldLoss = net.preds[1].map((f) => meanSquaredRows(f, held.noisy, 2));
    const linError = lin ? lin.preds[0].map((f) => meanSquaredRows(f, fresh.clean, 2)) : null;
    const iStar = argmin(error), iEs = argmin(heldLoss);
    const tStar = checkpoints[iStar];
    const i10 = checkpoints.findIndex((c) => c >= 10 * tStar);
    const linDeviation = linError ? Math.max(0, ...error.slice(0, iStar + 1).map((e, i) => Math.abs(e - linError[i]) / linError[i])) : null;
    for (const [i, c] of checkpoints.entries())
      await ctx.record({ train_dsm: net.trainLoss[i], score_error: error[i], held_dsm: heldLoss[i], ...(linError && lin ? { lin_score_error: linError[i], lin_train_dsm: lin.trainLoss[i] } : {}) }, { phase: "gd", axis: "step", x: c });
    ctx.progress(steps, steps);
    return {
      role: h.role,
      n: h.n,
      width,
      labels: h.labels,
      checkpoints,
      train: net.trainLoss,
      error,
      held: heldLoss,
      linTrain: lin ? lin.trainLoss : null,
      linError,
      dsmConstant: meanSquaredRows(fresh.noisy, fresh.clean, 2),
      tStar,
      tEarlyStop: checkpoints[iEs],
      errorAtEarlyStop: error[iEs],
      lateRatio: error[error.length - 1] / error[iStar],
      tenfoldRatio: i10 >= 0 && i10 > iStar ? error[i10] / error[iStar] : null,
      trainFallRatio: net.trainLoss[net.trainLoss.length - 1] / net.trainLoss[iStar],
      linDeviation,
    };
  },

  figures(all: P[], v) {
    const ps = firstSeed(all);
    const ntk = ps.find((p) => p.results.role === "ntk")?.results;
    const trend = all.filter((p) => p.results.role === "trend");
    const ns = [...new Set(trend.map((p) => p.results.n))].sort((a, b) => a - b);
    const esAt = (n: number) => trend.filter((p) => p.results.n === n).map((p) => p.results.errorAtEarlyStop);
    const meanOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const steps = (r: ScorePointResults) => r.checkpoints.map((c) => Math.max(c, 0.5));
    const curves = ntk
      ? [
          { name: `network (width ${ntk.width})`, x: steps(ntk), y: ntk.error },
          ...(ntk.linError ? [{ name: "linearised model (empirical NTK, exact GD)", x: steps(ntk), y: ntk.linError, dashed: true }] : []),
          { name: "DSM held-out loss − C", x: steps(ntk), y: ntk.held.map((l) => Math.max(l - ntk.dsmConstant, 1e-4)), dashed: true },
        ]
      : [];
    return [
      {
        name: "score-estimation",
        title: `DSM with noisy labels: true-score error against GD steps (${ntk?.labels ?? "?"} labels)`,
        subtitle: ntk ? `n = 64: t* = ${ntk.tStar}, early stop ${ntk.tEarlyStop}, last/min ${ntk.lateRatio.toFixed(2)} → ${v.verdict}` : v.verdict,
        columns: 2,
        panels: [
          { kind: "line" as const, title: "n = 64: weighted score error E‖g − σ_t∇log p_t‖²", xLabel: "GD step (log)", yLabel: "score error (log)", xLog: true, yLog: true, series: curves, rules: ntk ? [{ x: Math.max(ntk.tStar, 0.5), label: "t*" }] : [], width: 460 },
          {
            kind: "line" as const,
            title: "n = 64: DSM training loss and the irreducible constant C",
            xLabel: "GD step (log)",
            yLabel: "training loss",
            xLog: true,
            series: ntk
              ? [
                  { name: "network training loss", x: steps(ntk), y: ntk.train },
                  ...(ntk.linTrain ? [{ name: "linearised training loss", x: steps(ntk), y: ntk.linTrain, dashed: true }] : []),
                  { name: "C (irreducible)", x: [0.5, steps(ntk)[steps(ntk).length - 1]], y: [ntk.dsmConstant, ntk.dsmConstant], dashed: true },
                ]
              : [],
            width: 460,
          },
          {
            kind: "line" as const,
            title: "early-stopped score error against n (mean; band: range over seeds)",
            xLabel: "clean samples n (log)",
            yLabel: "score error at early stop (log)",
            xLog: true,
            yLog: true,
            series: [
              {
                name: `width ${trend[0]?.results.width ?? "?"}`,
                x: ns,
                y: ns.map((n) => meanOf(esAt(n))),
                lo: ns.map((n) => Math.min(...esAt(n))),
                hi: ns.map((n) => Math.max(...esAt(n))),
                dots: true,
              },
            ],
            width: 400,
          },
        ],
      },
    ];
  },
});
