/**
 * More is Better (Simon, Karkada, Ghosh, Belkin 2023): random-feature ridge regression on a power-law
 * task, theory (the eigenframework, src/theory/eigenframework.ts) against simulation
 * (src/theory/rfSimulation.ts), swept over features k and samples n.
 *
 * Claim: with the ridge tuned, test risk falls monotonically in k and in n (infinite width is optimal);
 * near-optimal ridges fit the training data far better than the test data (overfitting is obligatory);
 * the theory predicts the simulated risk; at ridge 0 the risk spikes at k = n.
 * Criteria: CHECKS below, declared once (specs-01-22.md §16 (i)–(iv): (i), (iii), (iv) calibrated in numpy,
 * (ii) the spec's design estimate). Check (ii) judges each cell's relative error less two standard errors of
 * its trial mean, so Monte-Carlo noise cannot fail it. Near the interpolation peak (n/2 < k < 2n: k = n in
 * the grid) the simulated risk is heavy-tailed and those points run `trialsPeak` = 40 trials: a float64
 * numpy check (M = 3,000, n = 256, 40 trials) measured a per-trial relative sd of 25% at k = n and ridge
 * 10⁻³ (445% at ridge 0, excluded), against ≤ 11% at k = 128 and 512 and ≤ 17% at 192 and 384; at k = n
 * with 40 trials the theory was within 0.3–1.9% of the simulation.
 * Negative control (inRun): the ridge-0 arm that every point solves: the same checks with the model's ridge
 * fixed at 0 instead of tuned (the one ingredient, ridge tuning, removed). The interpolation peak at k = n
 * must break monotonicity in k (worst_rise_in_k); a simulation without the peak would pass.
 * Cost on one core: smoke ~3 s, quick 43 s measured 2026-12-07 (16 points, 3 trials each, 40 at k = n = 256), full ~11 min.
 * Run: genlab run more-is-better --quick
 */
import { keyFromSeed, splitKey } from "../../src/core/prng.ts";
import { powerLawTask, rfRisk } from "../../src/theory/eigenframework.ts";
import { simulateRf } from "../../src/theory/rfSimulation.ts";
import { defineExperiment, integer, number, type CheckDecl, type CheckInput, type Point } from "../../src/declare/kit.ts";

/**
 * Per point: for each ridge, theory and simulated (trial mean) test MSE, simulated train MSE, the sample sd
 * of the simulated test MSE over the trials, and the number of trials.
 */
export type RfPointResults = { n: number; k: number | null; noise: number; trials: number; ridges: number[]; theory: number[]; sim_test: number[]; sim_train: number[]; sim_test_sd: number[] };

const RIDGES = (count: number) => [0, ...Array.from({ length: count - 1 }, (_, i) => 10 ** (-3 + (5 * i) / (count - 2)))];

const argmin = (xs: number[]) => xs.reduce((b, x, i) => (x < xs[b] || !Number.isFinite(xs[b]) ? i : b), 0);
const kOf = (p: Point<Record<string, number>, RfPointResults>) => (p.results.k === null ? Infinity : p.results.k);

type P = Point<Record<string, number>, RfPointResults>;

/** Points with n/2 < k < 2n (finite k) sit near the ridge-0 interpolation peak: they run `trialsPeak` trials. */
const nearPeak = (n: number, k: number) => Number.isFinite(k) && k > n / 2 && k < 2 * n;

/**
 * The ridge index the model uses: the tuned one (lowest simulated test MSE) in the reproduction, ridge 0
 * (no tuning) in the negative control.
 */
const chosen = (r: RfPointResults, arm: CheckInput<P>["arm"]) => {
  if (arm === "control") {
    if (r.ridges[0] !== 0) throw new Error("the ridge-0 arm was not run (the first ridge is not 0)");
    return 0;
  }
  return argmin(r.sim_test);
};

/** The k sweep: the finite-k points (all at one n) and the k = ∞ point at that n, by k. */
const kSweepOf = (points: P[]) => {
  const ns = [...new Set(points.filter((p) => p.results.k !== null && p.results.noise === 0).map((p) => p.results.n))];
  if (ns.length !== 1) throw new Error(`the k sweep was not run at one n (finite-k points at n = ${ns.join(", ") || "none"})`);
  const ps = points.filter((p) => p.results.n === ns[0] && p.results.noise === 0).sort((a, b) => kOf(a) - kOf(b));
  if (ps.length < 2) throw new Error(`the k sweep at n = ${ns[0]} was not run (${ps.length} point)`);
  return ps;
};
const nSweepOf = (points: P[]) => {
  const ps = points.filter((p) => p.results.k === null && p.results.noise === 0).sort((a, b) => a.results.n - b.results.n);
  if (ps.length < 2) throw new Error(`the n sweep at k = ∞ was not run (${ps.length} point)`);
  return ps;
};

/**
 * The largest relative rise of the chosen ridge's simulated test MSE between neighbours of a sweep (sorted by
 * `coord`), each point's value the mean over the seeds that ran it (points of several seeds are never
 * compared with each other as if they were neighbours).
 */
const worstRise = (ps: P[], arm: CheckInput<P>["arm"], coord: (p: P) => number) => {
  const by = new Map<number, number[]>();
  for (const p of ps) by.set(coord(p), [...(by.get(coord(p)) ?? []), p.results.sim_test[chosen(p.results, arm)]]);
  const ys = [...by.keys()].sort((a, b) => a - b).map((x) => by.get(x)!.reduce((a, b) => a + b, 0) / by.get(x)!.length);
  let worst = 0;
  for (let i = 1; i < ys.length; i++) worst = Math.max(worst, ys[i] / ys[i - 1] - 1);
  return worst;
};

/**
 * Check (ii): over every cell (point × ridge) except ridge 0 at |k − n| < 0.1n, the relative error of the
 * theory against the trial mean less two standard errors of that mean, max(0, |θ − s̄| − 2·sd/√T) / s̄: the
 * lower end of a one-sided bound, so a cell fails only when the theory is off by more than its Monte-Carlo
 * noise explains. The raw error is on the figure.
 */
const theoryErrorBound = (points: P[]) => {
  let worst = 0;
  let compared = 0;
  for (const p of points) {
    const r = p.results;
    const k = kOf(p);
    r.ridges.forEach((ridge, j) => {
      if (ridge === 0 && Number.isFinite(k) && Math.abs(k - r.n) < 0.1 * r.n) return;
      if (!Number.isFinite(r.theory[j]) || !Number.isFinite(r.sim_test[j])) return;
      const se = r.trials > 1 ? r.sim_test_sd[j] / Math.sqrt(r.trials) : 0;
      worst = Math.max(worst, Math.max(0, Math.abs(r.theory[j] - r.sim_test[j]) - 2 * se) / r.sim_test[j]);
      compared++;
    });
  }
  if (compared === 0) throw new Error("no cell has both a finite theory and a finite simulated risk");
  return worst;
};

const maxRelTheoryError = (points: P[]) =>
  Math.max(
    0,
    ...points.flatMap((p) =>
      p.results.ridges.flatMap((ridge, j) => {
        const r = p.results;
        const k = kOf(p);
        if (ridge === 0 && Number.isFinite(k) && Math.abs(k - r.n) < 0.1 * r.n) return [];
        return Number.isFinite(r.theory[j]) && Number.isFinite(r.sim_test[j]) ? [Math.abs(r.theory[j] - r.sim_test[j]) / r.sim_test[j]] : [];
      }),
    ),
  );

/** The criteria, once (specs-01-22.md §16 PASS (i)–(iv)). */
const CHECKS: CheckDecl<P>[] = [
  {
    id: "worst_rise_in_k",
    role: "claim",
    what: "(i) simulated test MSE at the model's ridge, worst relative rise from one k to the next (n fixed)",
    cmp: "<=",
    threshold: 0.02,
    source: "specs-01-22.md §16 (i), calibrated (monotone in k)",
    over: "all",
    value: ({ points, arm }) => worstRise(kSweepOf(points), arm, kOf),
  },
  {
    id: "worst_rise_in_n",
    role: "claim",
    what: "(i) simulated test MSE at the model's ridge, worst relative rise from one n to the next (k = ∞)",
    cmp: "<=",
    threshold: 0.02,
    source: "specs-01-22.md §16 (i), calibrated",
    over: "all",
    value: ({ points, arm }) => worstRise(nSweepOf(points), arm, (p) => p.results.n),
  },
  {
    id: "theory_error_bound",
    role: "claim",
    what: "(ii) theory vs simulation, max over the grid of (|θ − s̄| − 2·SE) / s̄ (ridge 0 at |k − n| < 0.1n excluded)",
    cmp: "<=",
    threshold: 0.1,
    source: "specs-01-22.md §16 (ii), design estimate",
    over: "all",
    value: ({ points }) => theoryErrorBound(points),
  },
  {
    id: "fitting_ratio_k_inf",
    role: "claim",
    what: "(iii) k = ∞, σ² = 0.05, n ≥ 128: train / test MSE at the model's ridge, max over n",
    cmp: "<=",
    threshold: 0.1,
    source: "specs-01-22.md §16 (iii), calibrated (0.013–0.065)",
    sizes: ["quick", "full"],
    over: "all",
    value: ({ points, arm }) => {
      const noisy = points.filter((p) => p.results.k === null && p.results.noise > 0 && p.results.n >= 128);
      if (!noisy.length) throw new Error("the k = ∞, σ² > 0, n ≥ 128 points were not run");
      return Math.max(...noisy.map((p) => p.results.sim_train[chosen(p.results, arm)] / p.results.sim_test[chosen(p.results, arm)]));
    },
  },
  {
    id: "spike_ratio_k_eq_n",
    role: "claim",
    what: "(iv) ridge-0 test MSE at k = n over the tuned optimum there",
    cmp: ">=",
    threshold: 10,
    source: "specs-01-22.md §16 (iv), calibrated (284)",
    over: "all",
    // The spike is a property of the task and the ridge-0 curve, the same in both arms (the control removes
    // the tuning from the model, not from this measurement).
    value: ({ points }) => {
      const at = kSweepOf(points).find((p) => p.results.k === p.results.n);
      if (!at) throw new Error("the k = n point of the k sweep was not run");
      return at.results.sim_test[0] / Math.min(...at.results.sim_test.filter(Number.isFinite));
    },
  },
];

export const moreIsBetter = defineExperiment({
  id: "more-is-better",
  paper: 16,
  title: "Random-feature ridge regression: theory vs simulation over features k and samples n",
  claim: (h) =>
    `On a power-law task (λᵢ = i^−${h.alpha}, vᵢ² ∝ i^−${h.beta}, ${h.modes} modes), tuned-ridge test risk of Gaussian random-feature regression falls monotonically in k (n = ${h.n}) and in n (k = ∞), the eigenframework predicts the simulated risk within 10%, optimal ridges overfit (train/test ≤ 0.1 at σ² = 0.05), and ridge 0 spikes ≥ 10× at k = n.`,
  coverage: {
    level: "partial",
    covered: ["the random-feature and kernel-limit theory against simulation on the paper's synthetic power-law task", "monotonicity in k and n at the tuned ridge", "obligatory overfitting in the kernel limit", "the ridge-0 double-descent spike"],
    notCovered: ["the CNTK / NNGP kernels of real image data (CIFAR-10, MNIST, SVHN) and their measured power-law exponents", "the optimal fitting ratio against σ² as a curve"],
  },
  deviations: [
    `M = 3,000 modes at quick size instead of the paper's 10,000 (full size uses 10,000)`,
    "k = ∞ is simulated as kernel ridge regression with the exact kernel, not as a very wide feature map",
    "the test risk is the exact expectation ‖w − v‖² + σ² of the linear predictor instead of a test sample",
    "3 trials per point at quick size and 5 at full (the paper: 15), and 40 at the points with n/2 < k < 2n (k = n in the grid), where the small-ridge risks are heavy-tailed",
    "check (ii) subtracts two standard errors of the trial mean from each cell's error before comparing it with the spec's 10% (the spec compares the raw error of a 3-trial mean)",
  ],
  criterionSource: "specs-01-22.md §16 (i), (iii), (iv) calibrated in numpy; (ii) the spec's design estimate, judged with two standard errors",
  checks: CHECKS,
  negativeControl: {
    what: "ridge tuning removed: the ridge-0 arm every point solves, judged by the same checks with the model's ridge fixed at 0 instead of the best one; the interpolation peak at k = n must break monotonicity in k (worst_rise_in_k), while a simulation without the peak would pass",
    inRun: true,
  },
  seeds: { smoke: 1, quick: 1, full: 1 },
  dataSource: "generated",
  playFields: ["modes", "alpha", "beta", "n", "trials"],
  hparams: {
    modes: integer(10000, "eigenmodes M of the task", { min: 8, max: 100000 }),
    alpha: number(1.2, "eigenvalue exponent: λᵢ = i^(−α)", { min: 0, max: 10, minExclusive: true }),
    beta: number(1.4, "target exponent: vᵢ² ∝ i^(−β)", { min: 0, max: 10, minExclusive: true }),
    n: integer(256, "training samples", { min: 2, max: 100000 }),
    features: integer(0, "random features k (0: k = ∞, kernel ridge regression)", { min: 0, max: 100000 }),
    noise: number(0, "label noise variance σ²", { min: 0, max: 100 }),
    ridges: integer(16, "ridges per point: 0 and a log grid from 1e-3 to 1e2", { min: 2, max: 100 }),
    trials: integer(5, "independent data and feature draws per point", { min: 1, max: 100 }),
    trialsPeak: integer(40, "trials at the points with n/2 < k < 2n (the interpolation peak, where the simulated risk is heavy-tailed)", { min: 1, max: 1000 }),
  },
  sizes: {
    smoke: { modes: 200, n: 32, ridges: 6, trials: 1, trialsPeak: 1 },
    quick: { modes: 3000, trials: 3 },
  },
  cost: { smoke: "~3 s", quick: "~43 s measured, with the control", full: "~11 min" },
  calibration: { seeds: [100, 101, 102], outcome: "PASS on each of seeds 100–102 and over the three (3 trials a point, 40 at k = n: theory within 2·SE to 0.9–3.8%); an earlier FAIL of the monotonicity checks over several seeds was a bug (points of different seeds compared as neighbours), fixed" },
  sweep: (size, h) => {
    const ks = size === "smoke" ? [8, 16, 32, 64] : [16, 32, 64, 128, 256, 512, 1024, 2048];
    const ns = size === "smoke" ? [16, 64] : [64, 128, 512];
    const nsNoisy = size === "smoke" ? [16, 32] : [64, 128, 256, 512];
    return [
      { n: [h.n], features: [...ks, 0], noise: [0] },
      { n: ns, features: [0], noise: [0] },
      { n: nsNoisy, features: [0], noise: [0.05] },
    ];
  },

  async run(ctx): Promise<RfPointResults> {
    const h = ctx.hparams;
    const task = powerLawTask(h.modes, h.alpha, h.beta, h.noise);
    const ridges = RIDGES(h.ridges);
    const k = h.features === 0 ? Infinity : h.features;
    const theory = ridges.map((r) => rfRisk(task, h.n, k, r).test);
    const tests: number[][] = [];
    const trains: number[][] = [];
    const trials = nearPeak(h.n, k) ? Math.max(h.trials, h.trialsPeak) : h.trials;
    let key = keyFromSeed(ctx.seed);
    for (let t = 0; t < trials; t++) {
      const [next, kt] = splitKey(key, 2);
      key = next;
      const sim = await simulateRf(task, h.n, k, ridges, kt);
      tests.push(sim.test);
      trains.push(sim.train);
      ctx.progress(t + 1, trials);
    }
    key.dispose();
    const mean = (rows: number[][], j: number) => rows.reduce((a, r) => a + r[j], 0) / rows.length;
    const sd = (rows: number[][], j: number) => {
      const m = mean(rows, j);
      return rows.length > 1 ? Math.sqrt(rows.reduce((a, r) => a + (r[j] - m) ** 2, 0) / (rows.length - 1)) : 0;
    };
    const results: RfPointResults = {
      n: h.n,
      k: h.features === 0 ? null : h.features,
      noise: h.noise,
      trials,
      ridges,
      theory,
      sim_test: ridges.map((_, j) => mean(tests, j)),
      sim_train: ridges.map((_, j) => mean(trains, j)),
      sim_test_sd: ridges.map((_, j) => sd(tests, j)),
    };
    for (const [j, ridge] of ridges.entries()) await ctx.record({ theory_test: theory[j], simulation_test: results.sim_test[j], simulation_train: results.sim_train[j] }, { phase: "ridge", axis: "ridge", x: ridge });
    const best = argmin(results.sim_test);
    await ctx.record({ best_ridge: ridges[best], simulation_best_test: results.sim_test[best], theory_best_test: Math.min(...theory) }, { phase: "best", axis: h.features === 0 ? "n" : "k", x: h.features === 0 ? h.n : h.features });
    return results;
  },

  figures(ps: P[], v) {
    const base = ps[0].hparams;
    const kSweep = ps.filter((p) => p.results.n === base.n && p.results.noise === 0 && p.results.k !== null).sort((a, b) => kOf(a) - kOf(b));
    const nSweep = ps.filter((p) => p.results.k === null && p.results.noise === 0).sort((a, b) => a.results.n - b.results.n);
    const noisy = ps.filter((p) => p.results.k === null && p.results.noise > 0).sort((a, b) => a.results.n - b.results.n);
    const ks = kSweep.map((p) => p.results.k!);
    const bestSim = (p: P) => p.results.sim_test[argmin(p.results.sim_test)];
    const bestTheory = (p: P) => Math.min(...p.results.theory);
    const kPanel = {
      kind: "line" as const,
      title: `test MSE vs features k (n = ${base.n})`,
      xLabel: "features k (log)",
      yLabel: "test MSE (log)",
      xLog: true,
      yLog: true,
      series: [
        { name: "theory, tuned ridge", x: ks, y: kSweep.map(bestTheory) },
        { name: "simulation, tuned ridge", x: ks, y: kSweep.map(bestSim), dots: true },
        { name: "theory, ridge 0", x: ks, y: kSweep.map((p) => p.results.theory[0]), dashed: true },
        { name: "control, ridge 0", x: ks, y: kSweep.map((p) => p.results.sim_test[0]), dots: true },
      ],
      rules: [{ x: base.n, label: "k = n" }],
      width: 720,
    };
    const nPanel = {
      kind: "line" as const,
      title: "test MSE vs samples n (k = ∞)",
      xLabel: "samples n (log)",
      yLabel: "test MSE (log)",
      xLog: true,
      yLog: true,
      series: [
        { name: "theory, tuned ridge", x: nSweep.map((p) => p.results.n), y: nSweep.map(bestTheory) },
        { name: "simulation, tuned ridge", x: nSweep.map((p) => p.results.n), y: nSweep.map(bestSim), dots: true },
      ],
      width: 420,
    };
    const fitPanel = {
      kind: "line" as const,
      title: "fitting ratio at the optimum (k = ∞, σ² = 0.05)",
      xLabel: "samples n (log)",
      yLabel: "train MSE / test MSE (criterion: ≤ 0.1)",
      xLog: true,
      yDomain: [0, 0.12] as [number, number],
      series: [{ name: "simulation", x: noisy.map((p) => p.results.n), y: noisy.map((p) => p.results.sim_train[argmin(p.results.sim_test)] / bestSim(p)), dots: true }],
      width: 380,
    };
    return [
      {
        name: "more-is-better",
        title: "More is better: random-feature ridge regression, theory (lines) and simulation (dots)",
        subtitle: `λᵢ = i^−${base.alpha}, vᵢ² ∝ i^−${base.beta}, ${base.modes} modes, ${base.trials} trials a point (${base.trialsPeak} at n/2 < k < 2n) — max theory error ${(maxRelTheoryError(ps) * 100).toFixed(1)}% (${((v.measured.theory_error_bound ?? NaN) * 100).toFixed(1)}% beyond 2 SE), ridge-0 spike ×${(v.measured.spike_ratio_k_eq_n ?? NaN).toFixed(0)} → ${v.verdict}`,
        panels: [kPanel, nPanel, fitPanel],
      },
    ];
  },
});
