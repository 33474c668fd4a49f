/**
 * Benign overfitting and grokking in ReLU networks for XOR cluster data (Xu, Wang, Frei, Vardi, Hu,
 * ICLR 2024).
 *
 * Claim: a two-layer ReLU network with a fixed ±1/√m second layer, trained by full-batch GD on the
 * logistic loss over XOR clusters with flipped labels, first fits every training label (flipped ones too)
 * with near-random test accuracy, and later reaches near-optimal test accuracy while still fitting the
 * flipped labels: harmful overfitting turns into benign overfitting by grokking.
 * Set-up (spec §12): m = 64, ‖μ‖² = 1,200, 10% flipped labels, step size 0.5, init N(0, ω²) with
 * ω = 10⁻³/√d, 500 clean test points, 5 seeds; d = 8,000, n = 60 (the spec's "tighter gate"), 3,000 steps
 * at full size and 1,500 at quick size.
 * Criteria: CHECKS below, declared once (specs-01-22.md §12 PASS line, calibrated there on ‖μ‖² = 1,200,
 * seeds 0–4; thresholds fixed before these runs).
 * Negative control (run, hparams): no usable signal, ‖μ‖² = 100 instead of 1,200, every seed run again. The
 * network still fits every label (flipped ones too) and is near-random on test after step 1, but the
 * benign phase never comes: a numpy check of this set-up (seeds 10–12, not reported) kept test at
 * 0.51–0.54 after 1,000 steps (quick) and 0.53–0.55 after 3,000 steps at the full size (seeds 10–11), so
 * the gain and final-test checks must fail.
 * Sizes: the spec's calibrated set-up (n = 30, d = 4,000, 1,000 steps) failed with genlab's seeds (median
 * final test 0.78 at seed 0–4: 2 of 5 seeds stall, as 2 of the spec's 5 did; 0.69 on seeds 100–102), so
 * both sizes use the spec's proposed "tighter gate" n = 60, d = 8,000; quick stops at 1,500 steps, which
 * passes on each calibration seed 100–104 (see `calibration`). The checks are unchanged.
 * Seeds: 5 (2 at smoke size), from --seed on.
 * Cost on one core: smoke ~1 s, quick 51 s measured 2026-12-07 (OpenBLAS kernels chosen from the CPU; 146 s on its generic ones) with the other core idle (5 seeds + 5 control runs), full ~6 min (5 seeds + 5 control runs).
 * Run: genlab run xor-benign --quick
 */
import { numpy as np, type Array as JArray } from "@jax-js/jax";
import { roleKeys } from "../../src/core/prng.ts";
import { treeDispose, treeRef } from "../../src/core/tree.ts";
import { takeRows } from "../../src/data/dataset.ts";
import { xorClusterData } from "../../src/data/xorClusters.ts";
import { logisticLoss } from "../../src/nn/losses.ts";
import { applyFixedReadout, initFixedReadout, type FixedReadoutParams, type FixedReadoutSpec } from "../../src/nn/twoLayer.ts";
import { sgd } from "../../src/optim/aliases.ts";
import type { Monitor } from "../../src/train/monitors.ts";
import { defineExperiment, integer, number, type CheckDecl, type MetricRow, type Point, onlyResults } from "../../src/declare/kit.ts";

export type XorResults = {
  test_at_1: number;
  train_at_1: number;
  /** Fit of the flipped training labels (null when no label was flipped: ⌊flip·n⌋ = 0). */
  flipped_at_1: number | null;
  final_test: number;
  final_train: number;
  final_flipped: number | null;
  final_step: number;
  n_flipped: number;
  /** Histogram over [0, 1] (10 bins) of each neuron's max_k |wⱼ·μ_k| / (‖wⱼ‖‖μ_k‖) at the end. */
  align_hist: number[];
  train_seconds: number;
};

/** Accuracy of a single-logit classifier f against labels in {0, 1}: sign agreement. Consumes both. */
export function signAccuracy(f: JArray, y01: JArray): JArray {
  return f.greater(0).astype(y01.dtype).equal(y01).astype(y01.dtype).mean();
}

/**
 * Per-neuron alignment with a set of unit directions: max_k |wⱼ·u_k| / ‖wⱼ‖ for w [d, m], dirs [d, K]
 * (unit columns) → [m]. Consumes w.
 */
export function neuronAlignment(w: JArray, dirs: Float32Array<ArrayBuffer>, k: number): JArray {
  const d = w.shape[0];
  const u = np.array(dirs, { shape: [d, k], dtype: w.dtype });
  const proj = np.abs(np.matmul(u.transpose(), w.ref)); // [K, m]
  const norm = np.sqrt(np.square(w).sum(0));
  return proj.max(0).div(np.maximum(norm, 1e-30));
}

/** Monitor: mean neuron alignment with the cluster means and the fraction of neurons aligned > 0.5. */
export function alignmentMonitor(dirs: Float32Array<ArrayBuffer>, k: number): Monitor {
  return {
    id: "neuron_alignment",
    measure(params) {
      const a = neuronAlignment((params as FixedReadoutParams).w, dirs, k);
      return { align_mean: a.ref.mean(), align_frac_hi: a.greater(0.5).astype(np.float32).mean() };
    },
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

type P = Point<Record<string, number>, XorResults>;

const flippedFit = (r: XorResults): number => {
  if (r.final_flipped === null) throw new Error(`no training label was flipped (n_flipped = ${r.n_flipped}): the flipped-label fit was not measured`);
  return r.final_flipped;
};
const one = (points: P[]): XorResults => onlyResults(points);

/** The criteria, once (specs-01-22.md §12 PASS, calibrated on ‖μ‖² = 1,200 over seeds 0–4). */
const CHECKS: CheckDecl<P>[] = [
  {
    id: "test_at_1",
    role: "claim",
    what: "clean test accuracy after GD step 1 (harmful overfitting: near random)",
    cmp: "<=",
    threshold: 0.55,
    source: "specs-01-22.md §12 PASS, calibrated (0.47–0.50)",
    value: ({ points }) => one(points).test_at_1,
  },
  {
    id: "train_at_T",
    role: "claim",
    what: "train accuracy at the last step",
    cmp: ">=",
    threshold: 1,
    source: "specs-01-22.md §12 PASS, calibrated (5/5 seeds)",
    value: ({ points }) => one(points).final_train,
  },
  {
    id: "flipped_fit_at_T",
    role: "claim",
    what: "fit of the flipped training labels at the last step",
    cmp: ">=",
    threshold: 1,
    source: "specs-01-22.md §12 PASS, calibrated (5/5 seeds)",
    value: ({ points }) => flippedFit(one(points)),
  },
  {
    id: "median_test_gain",
    role: "claim",
    what: "median over seeds of test(T) − test(1)",
    cmp: ">=",
    threshold: 0.3,
    source: "specs-01-22.md §12 PASS, calibrated (median 0.44, range 0.13–0.52)",
    over: "all",
    value: ({ points }) => median(points.map((p) => p.results.final_test - p.results.test_at_1)),
  },
  {
    id: "median_final_test",
    role: "claim",
    what: "median over seeds of the clean test accuracy at the last step",
    cmp: ">=",
    threshold: 0.85,
    source: "specs-01-22.md §12 PASS, calibrated (median 0.92)",
    over: "all",
    value: ({ points }) => median(points.map((p) => p.results.final_test)),
  },
];

export const xorBenign = defineExperiment({
  id: "xor-benign",
  paper: 12,
  title: "XOR clusters with flipped labels: harmful overfitting at step 1, benign overfitting by grokking later",
  claim: (h) =>
    `A width-${h.width} two-layer ReLU network with a fixed ±1/√m readout, trained by GD (step ${h.lr}) on ${h.n} XOR-cluster points in d = ${h.d} (‖μ‖² = ${h.muNormSq}, ${Math.round(h.flip * 100)}% flipped labels), is near-random on test after step 1 and reaches ≥ 85% median test accuracy by step ${h.steps} while fitting every flipped label.`,
  coverage: {
    level: "partial",
    covered: ["the XOR-cluster generator with flipped labels", "two-layer ReLU with a fixed second layer trained by GD", "the flipped-label fit tracker", "harmful overfitting after the first steps, benign overfitting later at ‖μ‖² = 1,200 (5 seeds, medians)", "neuron alignment with the cluster means (feature learning)"],
    notCovered: [
      "the spec's second regime, ‖μ‖² = 600 (train(1) = 1 with test(1) ≤ 0.55 in ≥ 3/5 seeds, then test non-decreasing; slow grokking): not run",
      "the spec's step-size observation (α = 2 saturates the loss after step 1 and freezes test at 0.50): not run",
      "the theorem's scaling conditions on d, n, ‖μ‖ and the step size",
    ],
  },
  deviations: [
    "both sizes use the spec's proposed tighter gate n = 60, d = 8,000 (uncalibrated there; its calibrated n = 30, d = 4,000 failed with genlab's seeds); T = 3,000 at full size, 1,500 at quick size (calibrated on seeds 100–104)",
    "exactly ⌊0.1·n⌋ labels are flipped (the paper flips each independently with probability η), so every seed has flipped points to track",
    "the cluster means are μ₁ = ‖μ‖e₁, μ₂ = ‖μ‖e₂ (equivalent under the isotropic noise)",
    "the theorem's scaling conditions are not checked; the configuration is the spec's empirical calibration",
    "alignment is logged as its mean and the fraction > 0.5 at every log step, and as a histogram at the end only",
  ],
  criterionSource: "specs-01-22.md §12 PASS, calibrated in numpy over seeds 0–4 (‖μ‖² = 1,200)",
  checks: CHECKS,
  negativeControl: {
    what: "no usable signal: ‖μ‖² = 100 instead of 1,200 at quick and full size (every seed run again), far below the signal the benign phase needs; the network still fits every label and is near random after step 1, but test accuracy never rises (numpy check at d = 4,000 and 8,000: 0.51–0.55 at the last step), so median_test_gain and median_final_test must fail",
    hparams: { muNormSq: 100 },
  },
  seeds: { smoke: 2, quick: 5, full: 5 },
  dataSource: "generated",
  playFields: ["d", "n", "width", "muNormSq", "flip", "lr", "steps"],
  hparams: {
    d: integer(8000, "input dimension", { min: 2, max: 100000 }),
    n: integer(60, "training points", { min: 2, max: 100000 }),
    nTest: integer(500, "clean test points", { min: 1, max: 100000 }),
    width: integer(64, "hidden width m (even)", { min: 2, max: 10000, check: (v) => (v % 2 === 0 ? null : "expected an even width") }),
    muNormSq: number(1200, "‖μ‖², the cluster-mean norm squared", { min: 0, max: 1e8, minExclusive: true }),
    flip: number(0.1, "fraction of training labels flipped", { min: 0, max: 1, maxExclusive: true }),
    lr: number(0.5, "GD step size α", { min: 0, max: 1000, minExclusive: true }),
    initScale: number(1e-3, "init std ω·√d", { min: 0, max: 100, minExclusive: true }),
    steps: integer(3000, "full-batch GD steps", { min: 1, max: 10_000_000 }),
    logEvery: integer(50, "log every k steps (plus log-spaced steps)", { min: 0, max: 1e7 }),
    perDecade: integer(12, "log-spaced logged steps per decade", { min: 0, max: 1000 }),
  },
  sizes: {
    smoke: { d: 400, n: 20, nTest: 100, width: 16, muNormSq: 200, steps: 30, logEvery: 10 },
    quick: { steps: 1500 },
  },
  cost: { smoke: "~1 s", quick: "~51 s measured, with the control", full: "~6 min" },
  calibration: {
    seeds: [100, 101, 102, 103, 104],
    outcome:
      "the earlier quick size (d = 4,000, n = 30, 1,000 steps) FAILed on seeds 100–102 (test accuracy after step 1 up to 0.70 > 0.55; median gain 0.22); the full data (d = 8,000, n = 60) with 1,500 steps PASSes on each of seeds 100–104: test after step 1 0.33–0.52, median gain 0.39, median final test 0.91, every flipped label fitted (14 s a seed)",
  },

  async run(ctx): Promise<XorResults> {
    const h = ctx.hparams;
    const k = roleKeys(ctx.seed, ["data", "init", "shuffle"]);
    const data = xorClusterData({ n: h.n, nTest: h.nTest, d: h.d, muNormSq: h.muNormSq, flip: h.flip }, k.data);
    const spec: FixedReadoutSpec = { d: h.d, m: h.width, activation: "relu", initStd: h.initScale / Math.sqrt(h.d) };
    const dirs = new Float32Array(new ArrayBuffer(h.d * 2 * 4));
    dirs[0 * 2 + 0] = 1; // e₁ in column 0
    dirs[1 * 2 + 1] = 1; // e₂ in column 1
    const evalSets = { train: data.train, test: data.test, ...(data.flipped.length ? { flipped: takeRows(data.train, data.flipped) } : {}) };
    const out = await ctx.train<FixedReadoutParams>({
      params: initFixedReadout(spec, k.init),
      loss: (p, x, y) => logisticLoss(applyFixedReadout(spec, p, x), y),
      evaluate: (p, x, y: JArray) => {
        const f = applyFixedReadout(spec, p, x);
        return { loss: logisticLoss(f.ref, y.ref), acc: signAccuracy(f, y) };
      },
      monitors: [alignmentMonitor(dirs, 2)],
      optimizer: sgd(h.lr),
      train: data.train,
      evalSets,
      steps: h.steps,
      batchSize: null,
      key: k.shuffle,
      progressKeys: ["train_acc", "test_acc", "flipped_acc"],
    });
    const align = Float32Array.from(await neuronAlignment(treeRef(out.params).w, dirs, 2).data());
    ctx.saveArray("neuron_alignment", align);
    treeDispose([out.params, out.optState]);
    const hist = out.history;
    const at1 = hist.find((r) => r.step === 1);
    if (!at1) throw new Error("GD step 1 was not logged (perDecade = 0 and logEvery ≠ 1?): test(t = 1) is part of the claim");
    const last = hist[hist.length - 1];
    const alignHist = new Array<number>(10).fill(0);
    for (const v of align) alignHist[Math.min(9, Math.floor(v * 10))]++;
    return {
      test_at_1: at1.test_acc,
      train_at_1: at1.train_acc,
      flipped_at_1: typeof at1.flipped_acc === "number" ? at1.flipped_acc : null,
      final_test: last.test_acc,
      final_train: last.train_acc,
      final_flipped: typeof last.flipped_acc === "number" ? last.flipped_acc : null,
      final_step: last.step,
      n_flipped: data.flipped.length,
      align_hist: alignHist,
      train_seconds: out.seconds,
    };
  },

  figures(points: P[], v) {
    const rows = (p: P) => p.metrics.filter((m: MetricRow) => m.axis === "step" && m.x >= 1);
    const panels = points.slice(0, 5).map((p) => {
      const rs = rows(p);
      return {
        kind: "line" as const,
        title: `seed ${p.seed}`,
        xLabel: "GD step (log scale)",
        yLabel: `accuracy — seed ${p.seed}`,
        xLog: true,
        yDomain: [0, 1] as [number, number],
        series: [
          { name: "train", x: rs.map((r) => r.x), y: rs.map((r) => r.values.train_acc) },
          { name: "flipped (fit)", x: rs.map((r) => r.x), y: rs.map((r) => r.values.flipped_acc ?? NaN) },
          { name: "test (clean)", x: rs.map((r) => r.x), y: rs.map((r) => r.values.test_acc) },
        ],
        width: 300,
      };
    });
    const align = {
      kind: "line" as const,
      title: "neuron alignment",
      xLabel: "GD step (log scale)",
      yLabel: "mean max_k |wⱼ·μ̂_k| / ‖wⱼ‖",
      xLog: true,
      series: points.slice(0, 5).map((p) => ({ name: `seed${p.seed}`, x: rows(p).map((r) => r.x), y: rows(p).map((r) => r.values.align_mean) })),
      width: 340,
    };
    const hist = {
      kind: "bar" as const,
      title: "final alignment histogram",
      xLabel: "alignment bin",
      yLabel: "neurons",
      groups: Array.from({ length: 10 }, (_, i) => `${(i / 10).toFixed(1)}`),
      series: points.slice(0, 5).map((p) => ({ name: `seed${p.seed}`, values: p.results.align_hist })),
      width: 420,
    };
    return [
      { name: "xor-benign", title: "XOR clusters: fit everything at once, generalise later (benign overfitting by grokking)", subtitle: `median test ${median(points.map((p) => p.results.test_at_1)).toFixed(2)} at step 1 → ${median(points.map((p) => p.results.final_test)).toFixed(2)} at step ${points[0].results.final_step}; every flipped label fitted in ${points.filter((p) => p.results.final_train === 1 && p.results.final_flipped === 1).length}/${points.length} seeds → ${v.verdict}`, panels },
      { name: "xor-alignment", title: "Feature learning: neurons align with the cluster means", panels: [align, hist] },
    ];
  },
});
