/**
 * To grok or not to grok: a coarse (train fraction α × corruption ξ) phase diagram (Doshi et al. 2024,
 * Fig. 3), each cell one run of grok-corrupted's set-up classified by the paper's App. C phase classifier.
 *
 * Claim: with weight decay, more training data moves the network from memorization (or confusion) to
 * generalisation, and more corruption moves it away from coexistence (towards inversion or memorization).
 * Criterion (a design estimate fixed before the first run; the paper's diagram is 17 × 19 cells at full
 * size and this coarse grid is not calibrated): (a) the most-data, least-noise cell generalises
 * (test ≥ 0.90); (b) the least-data, most-noise cell does not (test < 0.90); (c) at least 2 distinct phases
 * on the grid; (d) at every ξ, test accuracy is non-decreasing in α within 0.05.
 * Negative control: a linear network (φ = identity), which cannot represent modular addition: no cell may
 * generalise, so (a) fails. (Weight decay 0 is no control here: measured, its most-data cell generalises.)
 * Cost on one core: smoke ~6 s, quick ~110 s (9 cells + 9 control cells), full ~90 min (16 cells + 16 control
 * cells at ~2.8 min each, estimated from grok-corrupted's full size; not run yet).
 * Run: genlab run grok-phase-diagram --quick
 */
import { defineExperiment, type Point, type Verdict } from "../../src/declare/experiment.ts";
import { GROK_PHASES, phaseIndex } from "../../src/measures/phases.ts";
import { corruptedModular, runCorrupted, type CorruptedResults } from "./corruptedModular.ts";
import type { Values } from "../../src/declare/schema.ts";

type P = Point<Values, CorruptedResults>;

const axes = (ps: P[]) => ({
  alphas: [...new Set(ps.map((p) => p.results.train_fraction))].sort((a, b) => a - b),
  xis: [...new Set(ps.map((p) => p.results.corruption))].sort((a, b) => a - b),
});

function cell(ps: P[], a: number, x: number): CorruptedResults | undefined {
  const hits = ps.filter((p) => p.results.train_fraction === a && p.results.corruption === x);
  if (!hits.length) return undefined;
  // several seeds: the mean accuracies; the phase of the mean
  return hits.length === 1 ? hits[0].results : { ...hits[0].results, mean: { ...hits[0].results.mean, test: hits.reduce((s, h) => s + h.results.mean.test, 0) / hits.length } };
}

function judge(ps: P[]): Verdict {
  const { alphas, xis } = axes(ps);
  const hi = cell(ps, alphas[alphas.length - 1], xis[0]);
  const lo = cell(ps, alphas[0], xis[xis.length - 1]);
  const phases = new Set(ps.map((p) => p.results.phase));
  let worstDrop = 0;
  for (const x of xis)
    for (let i = 1; i < alphas.length; i++) {
      const a = cell(ps, alphas[i - 1], x), b = cell(ps, alphas[i], x);
      if (a && b) worstDrop = Math.max(worstDrop, a.mean.test - b.mean.test);
    }
  const ok = !!hi && !!lo && hi.mean.test >= 0.9 && lo.mean.test < 0.9 && phases.size >= 2 && worstDrop <= 0.05;
  return {
    verdict: ok ? "PASS" : "FAIL",
    criterion: `(a) cell α = ${alphas[alphas.length - 1]}, ξ = ${xis[0]} has test ≥ 0.90; (b) cell α = ${alphas[0]}, ξ = ${xis[xis.length - 1]} has test < 0.90; (c) ≥ 2 distinct phases; (d) test non-decreasing in α at every ξ within 0.05 (design estimate, uncalibrated)`,
    measured: { test_most_data_least_noise: hi?.mean.test ?? null, test_least_data_most_noise: lo?.mean.test ?? null, distinct_phases: phases.size, worst_test_drop_in_alpha: worstDrop },
  };
}

export const phaseDiagram = defineExperiment({
  id: "grok-phase-diagram",
  paper: 27,
  title: "Corrupted modular addition: a coarse (train fraction × corruption) phase diagram",
  claim: (h) => `With weight decay ${h.weightDecay} (p = ${h.p}, width ${h.hidden}, ${h.steps} steps), the App. C phase of (a + b) mod p moves from memorization towards coexistence as the train fraction grows and away from coexistence as the corruption ξ grows.`,
  coverage: {
    level: "partial",
    covered: ["a coarse α × ξ grid classified by the App. C phase classifier, shown as a heatmap"],
    notCovered: ["the paper's 17 × 19 grid at full size", "the diagrams for other weight decays, dropout and BatchNorm"],
  },
  deviations: [
    "a 3 × 3 grid at p = 59, N = 128, 1,000 steps at quick size, 4 × 4 at full size (p = 97, N = 500, 2,000 steps), one seed",
    "no pruning curves (grok-corrupted measures them)",
    "the criterion is a design estimate, not calibrated",
  ],
  criterionSource: "design estimate from the paper's Fig. 3 (qualitative ordering), fixed before the first run",
  negativeControl: { what: "a linear network (φ = identity) cannot represent modular addition, so no cell may generalise and (a) must fail (weight decay 0 is no control: measured, its most-data, least-noise cell generalises)", hparams: { activation: "identity" } },
  dataSource: "generated",
  playFields: ["p", "hidden", "weightDecay", "steps"],
  hparams: corruptedModular.hparams,
  sizes: {
    smoke: { p: 23, hidden: 32, steps: 40, logEvery: 20, prune: false },
    quick: { p: 59, hidden: 128, steps: 1000, logEvery: 200, perDecade: 4, prune: false },
  },
  cost: { smoke: "~6 s", quick: "~110 s", full: "~90 min (estimate)" },
  sweep: (size) =>
    size === "full"
      ? [{ trainFraction: [0.3, 0.45, 0.6, 0.75], corruption: [0.1, 0.25, 0.4, 0.55], prune: [false], seeds: [0] }]
      : [{ trainFraction: [0.3, 0.5, 0.7], corruption: [0.1, 0.35, 0.6], seeds: [0] }],
  run: (ctx) => runCorrupted(ctx as never),
  verdict: (points: P[]) => judge(points),
  figures(ps: P[]) {
    const { alphas, xis } = axes(ps);
    const grid = (f: (r: CorruptedResults) => number) => xis.map((x) => alphas.map((a) => { const c = cell(ps, a, x); return c ? f(c) : NaN; }));
    const v = judge(ps);
    const heat = (title: string, colorLabel: string, f: (r: CorruptedResults) => number) => ({ kind: "heatmap" as const, title, xLabel: "train fraction α", yLabel: "corruption ξ", x: alphas, y: xis, values: grid(f), colorLabel, width: 360 });
    return [
      {
        name: "phase-diagram",
        title: "Phase diagram of corrupted modular addition (App. C classifier)",
        subtitle: `p = ${ps[0].results.p}, N = ${ps[0].results.hidden}, wd ${ps[0].results.weight_decay}; phase index: ${GROK_PHASES.map((g, i) => `${i} ${g.replace("_", " ")}`).join(", ")} → ${v.verdict}`,
        panels: [
          heat("phase", "phase index", (r) => phaseIndex(r.phase)),
          heat("test accuracy", "test accuracy", (r) => r.mean.test),
          heat("accuracy on corrupted pairs", "corrupted accuracy", (r) => r.mean.corrupted),
        ],
      },
    ];
  },
});
