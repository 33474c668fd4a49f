/**
 * More is Better (Simon, Karkada, Ghosh, Belkin 2023): random-feature ridge regression on a power-law
 * task, theory (the eigenframework, src/theory/eigenframework.ts) against simulation
 * (src/theory/rfSimulation.ts), swept over features k and samples n.
 *
 * Claim: with the ridge tuned, test risk falls monotonically in k and in n (infinite width is optimal);
 * near-optimal ridges fit the training data far better than the test data (overfitting is obligatory);
 * the theory predicts the simulated risk; at ridge 0 the risk spikes at k = n.
 * Pass criterion (spec §16, calibrated in numpy): (i) best-ridge simulated test MSE non-increasing in k
 * (n fixed) and in n (k = ∞) within 2%; (ii) theory within 10% of simulation (trial mean) on the grid,
 * excluding |k − n| < 0.1 n at ridge 0; (iii) k = ∞, σ² = 0.05, n ≥ 128: train/test MSE at the optimum
 * ≤ 0.1; (iv) ridge-0 test MSE at k = n ≥ 10 × the optimum there.
 * Negative control: criterion (i) evaluated at ridge 0 instead of the tuned ridge must fail (the
 * interpolation peak at k = n breaks monotonicity).
 * Cost on one core: smoke ~3 s, quick ~40 s, full ~10 min. Run: genlab run more-is-better --quick
 */
import { keyFromSeed, splitKey } from "../../src/core/prng.ts";
import { powerLawTask, rfRisk } from "../../src/theory/eigenframework.ts";
import { simulateRf } from "../../src/theory/rfSimulation.ts";
import { defineExperiment, type Point, type Verdict } from "../../src/runner/experiment.ts";
import { integer, number } from "../../src/runner/schema.ts";

/** Per point: for each ridge, theory and simulated (trial mean) test MSE, and simulated train MSE. */
export type RfPointResults = { n: number; k: number | null; noise: number; ridges: number[]; theory: number[]; sim_test: number[]; sim_train: number[]; sim_test_sd: number[] };

const RIDGES = (count: number) => [0, ...Array.from({ length: count - 1 }, (_, i) => 10 ** (-3 + (5 * i) / (count - 2)))];

const argmin = (xs: number[]) => xs.reduce((b, x, i) => (x < xs[b] || !Number.isFinite(xs[b]) ? i : b), 0);
const kOf = (p: Point<Record<string, number>, RfPointResults>) => (p.results.k === null ? Infinity : p.results.k);

type P = Point<Record<string, number>, RfPointResults>;

/** The four criteria on a set of points; `curve` picks the ridge index whose test MSE is judged in (i). */
function judge(points: P[], curve: "best" | "ridge0"): Verdict {
  const at = (r: RfPointResults) => (curve === "best" ? argmin(r.sim_test) : 0);
  const base = points[0].hparams;
  const kSweep = points.filter((p) => p.results.n === base.n && p.results.noise === 0).sort((a, b) => kOf(a) - kOf(b));
  const nSweep = points.filter((p) => p.results.k === null && p.results.noise === 0).sort((a, b) => a.results.n - b.results.n);
  const worstRise = (ps: P[]) => {
    let worst = 0;
    for (let i = 1; i < ps.length; i++) {
      const a = ps[i - 1].results.sim_test[at(ps[i - 1].results)];
      const b = ps[i].results.sim_test[at(ps[i].results)];
      worst = Math.max(worst, b / a - 1);
    }
    return worst;
  };
  const riseK = worstRise(kSweep);
  const riseN = worstRise(nSweep);
  let maxRel = 0;
  let compared = 0;
  for (const p of points) {
    const r = p.results;
    const k = kOf(p);
    r.ridges.forEach((ridge, j) => {
      if (ridge === 0 && Number.isFinite(k) && Math.abs(k - r.n) < 0.1 * r.n) return;
      if (!Number.isFinite(r.theory[j]) || !Number.isFinite(r.sim_test[j])) return;
      maxRel = Math.max(maxRel, Math.abs(r.theory[j] - r.sim_test[j]) / r.sim_test[j]);
      compared++;
    });
  }
  const noisy = points.filter((p) => p.results.k === null && p.results.noise > 0 && p.results.n >= 128);
  const fitting = noisy.length ? Math.max(...noisy.map((p) => p.results.sim_train[argmin(p.results.sim_test)] / p.results.sim_test[argmin(p.results.sim_test)])) : null;
  const spikeAt = kSweep.find((p) => p.results.k === p.results.n);
  const spike = spikeAt ? spikeAt.results.sim_test[0] / Math.min(...spikeAt.results.sim_test.filter(Number.isFinite)) : null;
  const monotone = riseK <= 0.02 && riseN <= 0.02;
  if (curve === "ridge0")
    return { verdict: monotone ? "PASS" : "FAIL", criterion: "(i) only, at ridge 0: test MSE non-increasing in k and in n within 2%", measured: { worst_rise_in_k: riseK, worst_rise_in_n: riseN } };
  const ok = monotone && maxRel <= 0.1 && fitting !== null && fitting <= 0.1 && spike !== null && spike >= 10;
  return {
    verdict: ok ? "PASS" : "FAIL",
    criterion: "(i) tuned-ridge test MSE non-increasing in k and in n within 2%; (ii) theory within 10% of simulation on the grid (excluding |k − n| < 0.1n at ridge 0); (iii) k = ∞, σ² = 0.05, n ≥ 128: train/test at the optimum ≤ 0.1; (iv) ridge-0 MSE at k = n ≥ 10 × optimum",
    measured: { worst_rise_in_k: riseK, worst_rise_in_n: riseN, max_rel_theory_error: maxRel, compared_cells: compared, max_fitting_ratio_k_inf: fitting, spike_ratio_k_eq_n: spike },
  };
}

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
    "3 trials per point at quick size (the paper: 15)",
  ],
  criterionSource: "specs-01-22.md §16 (i), (iii), (iv) calibrated in numpy; (ii) the spec's design estimate",
  negativeControl: {
    what: "criterion (i) at ridge 0 instead of the tuned ridge: the interpolation peak at k = n must break monotonicity",
    verdict: (points: P[]) => judge(points, "ridge0"),
  },
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
  },
  sizes: {
    smoke: { modes: 200, n: 32, ridges: 6, trials: 1 },
    quick: { modes: 3000, trials: 3 },
  },
  cost: { smoke: "~3 s", quick: "~40 s", full: "~10 min" },
  sweep: (size, h) => {
    const ks = size === "smoke" ? [8, 16, 32, 64] : [16, 32, 64, 128, 256, 512, 1024, 2048];
    const ns = size === "smoke" ? [16, 64] : [64, 128, 512];
    const nsNoisy = size === "smoke" ? [16, 32] : [64, 128, 256, 512];
    const seeds = [0];
    return [
      { n: [h.n], features: [...ks, 0], noise: [0], seeds },
      { n: ns, features: [0], noise: [0], seeds },
      { n: nsNoisy, features: [0], noise: [0.05], seeds },
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
    let key = keyFromSeed(ctx.seed);
    for (let t = 0; t < h.trials; t++) {
      const [next, kt] = splitKey(key, 2);
      key = next;
      const sim = await simulateRf(task, h.n, k, ridges, kt);
      tests.push(sim.test);
      trains.push(sim.train);
      ctx.progress(t + 1, h.trials);
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

  verdict: (points: P[]) => judge(points, "best"),

  figures(ps: P[]) {
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
    const v = judge(ps, "best");
    return [
      {
        name: "more-is-better",
        title: "More is better: random-feature ridge regression, theory (lines) and simulation (dots)",
        subtitle: `λᵢ = i^−${base.alpha}, vᵢ² ∝ i^−${base.beta}, ${base.modes} modes, ${base.trials} trials a point — max theory error ${((v.measured.max_rel_theory_error ?? 0) * 100).toFixed(1)}%, ridge-0 spike ×${(v.measured.spike_ratio_k_eq_n ?? NaN).toFixed(0)} → ${v.verdict}`,
        panels: [kPanel, nPanel, fitPanel],
      },
    ];
  },
});
