/**
 * On the generalization mystery in deep learning (Chatterjee & Zielinski 2022): gradient coherence.
 *
 * Claim: per-example gradients of real data are coherent (a step on one example helps many others), those
 * of random labels nearly orthogonal, so m-coherence ‖Σgᵢ‖²/Σ‖gᵢ‖² is far larger with real labels while
 * training; suppressing weak gradient directions (winsorized averaging of per-example gradients) reduces
 * the fitting of noisy labels while the real signal is still learned.
 * Set-up (spec §3 calibration): 10-class Gaussian clusters in 64 dimensions, MLP 64-256-10 (ReLU), SGD lr
 * 0.1, batch 100, m = 500 fixed training examples for the coherence. Arms: real labels, 100% random labels,
 * and 50% label noise trained by SGD, by winsorized SGD (c = 2) and by median-of-3-means.
 * Criteria: CHECKS below, declared once (spec §3: (i), (ii) calibrated on this set-up, (iii) a design estimate).
 * Negative control: no class structure (sep = 0): every arm run again on clusters whose means coincide, so
 * the "real" labels carry no information; (i) must fail there.
 * Cost on one core: smoke ~3 s, quick 77 s measured 2026-12-07 with the control (other core idle; 148–159 s on 2026-12-06, before jitted kernels kept their executables and the order statistics were materialized: the winsorized arm, now ~25 s a run, is most of it), full ~4 min.
 * Run: genlab run coherence --quick
 */
import type { Array as JArray } from "@jax-js/jax";
import { maxOf } from "../../src/core/order.ts";
import { roleKeys } from "../../src/core/prng.ts";
import { treeDispose } from "../../src/core/tree.ts";
import { takeRows } from "../../src/data/dataset.ts";
import { gaussianClusters } from "../../src/data/gaussianClusters.ts";
import { injectLabelNoise } from "../../src/data/noise.ts";
import { coherenceMonitor } from "../../src/scores/coherence.ts";
import { applyMlp, initMlp, mlpSpec, type MlpParams } from "../../src/nn/dense.ts";
import { accuracy, softmaxCrossEntropy } from "../../src/nn/losses.ts";
import { sgd } from "../../src/optim/aliases.ts";
import { medianOfMeans, winsorize } from "../../src/optim/robust.ts";
import { chain, scaleByLearningRate } from "../../src/optim/transform.ts";
import { defineExperiment, integer, number, oneOf, type CheckDecl, type MetricRow, type Point } from "../../src/declare/kit.ts";

export const ARMS = ["real", "random", "noisy_sgd", "noisy_winsorized", "noisy_mom"] as const;
type Arm = (typeof ARMS)[number];

export type CoherenceResults = {
  arm: Arm;
  peak_coherence: number;
  max_coherence_after_0: number;
  coherence_at_0: number;
  final_coherence: number;
  final_train_acc: number;
  /** Accuracy on the training rows whose label was changed, against the changed label (fit of noisy labels). */
  final_noisy_fit: number | null;
  final_test_acc: number;
  steps: number;
  train_seconds: number;
};
type P = Point<Record<string, string | number>, CoherenceResults>;

const armOf = (pts: P[], a: Arm): CoherenceResults => {
  const r = pts.find((p) => p.results.arm === a)?.results;
  if (!r) throw new Error(`the ${a} arm was not run`);
  return r;
};

/** The criteria, once (spec §3): (i), (ii) calibrated on synthetic clusters; (iii) a design estimate. */
const CHECKS: CheckDecl<P>[] = [
  {
    id: "peak_ratio",
    role: "claim",
    what: "peak m-coherence, real / random labels",
    cmp: ">=",
    threshold: 4,
    source: "specs-01-22.md §3 (i), calibrated (ratio ≈ 7)",
    value: ({ points }) => armOf(points, "real").peak_coherence / armOf(points, "random").peak_coherence,
  },
  {
    id: "max_coherence_random",
    role: "claim",
    what: "m-coherence with random labels, max over measured steps",
    cmp: "<=",
    threshold: 2,
    source: "specs-01-22.md §3 (ii), calibrated",
    value: ({ points }) => Math.max(armOf(points, "random").coherence_at_0, armOf(points, "random").max_coherence_after_0),
  },
  {
    id: "noisy_fit_drop",
    role: "claim",
    what: "50% noise: noisy-label fit, SGD − winsorized",
    cmp: ">=",
    threshold: 0.1,
    source: "specs-01-22.md §3 (iii), design estimate",
    value: ({ points }) => (armOf(points, "noisy_sgd").final_noisy_fit ?? NaN) - (armOf(points, "noisy_winsorized").final_noisy_fit ?? NaN),
  },
  {
    id: "test_acc_drop",
    role: "claim",
    what: "50% noise: clean test accuracy, SGD − winsorized",
    cmp: "<=",
    threshold: 0.01,
    source: "specs-01-22.md §3 (iii), design estimate",
    value: ({ points }) => armOf(points, "noisy_sgd").final_test_acc - armOf(points, "noisy_winsorized").final_test_acc,
  },
];

export const coherence = defineExperiment({
  id: "coherence",
  paper: 3,
  title: "Gradient coherence: real vs random labels, and winsorized descent against label noise",
  claim: (h) =>
    `On ${h.classes}-class Gaussian clusters (d = ${h.d}, n = ${h.n}), the m-coherence of ${h.m} training examples peaks ≥ 4× higher with real labels than with random labels (which stay ≤ 2), and with 50% label noise winsorized SGD (c = ${h.c}) fits ≥ 10 points fewer noisy labels than SGD after ${h.epochs} epochs at ≤ 1 point lower clean test accuracy.`,
  coverage: {
    level: "partial",
    covered: ["m-coherence ‖Σgᵢ‖²/Σ‖gᵢ‖² as a training monitor (ghost norms)", "real vs random labels", "winsorized and median-of-means gradient descent as optimizers against label noise"],
    notCovered: ["ImageNet / ResNet-50 and the per-layer and per-class coherence curves", "Fashion-MNIST or digits (the spec's data): synthetic clusters here, so the experiment also runs in a browser"],
  },
  deviations: [
    "synthetic 10-class Gaussian clusters (the spec's calibration data) for every arm, including (iii), which the spec states for Fashion-MNIST 5k",
    "the random-label arm uses 100% uniform labels drawn from the same key as the noise of the noisy arms",
    "coherence is measured on the first m = 500 training examples with their (possibly noisy) training labels",
  ],
  criterionSource: "specs-01-22.md §3: (i), (ii) calibrated on synthetic clusters (ratio ≈ 7); (iii) design estimate",
  checks: CHECKS,
  negativeControl: {
    what: "no class structure: every arm run again on clusters with sep = 0 (class means all at the origin), so the 'real' labels carry no information about the inputs; real-label coherence must then fall to the random-label level and (i) must fail",
    hparams: { sep: 0 },
  },
  dataSource: "generated",
  playFields: ["n", "d", "sep", "lr", "epochs", "c"],
  hparams: {
    arm: oneOf(ARMS, "real", "which arm: real labels, 100% random labels, or 50% noise trained by SGD / winsorized SGD / median of means"),
    n: integer(2000, "training examples", { min: 10, max: 1_000_000 }),
    nTest: integer(2000, "clean test examples", { min: 1, max: 1_000_000 }),
    d: integer(64, "input dimension", { min: 1, max: 100_000 }),
    classes: integer(10, "classes", { min: 2, max: 1000 }),
    sep: number(1, "class-mean scale: μ_c ~ N(0, sep²·I)", { min: 0, max: 100 }),
    noise: number(1, "within-class noise σ", { min: 0, max: 100, minExclusive: true }),
    hidden: integer(256, "hidden width (MLP d-hidden-classes)", { min: 1, max: 10_000 }),
    init: oneOf(["torch", "standard"], "torch", "init: torch = PyTorch's nn.Linear default (std 1/√(3·fan-in)); standard = genlab's (He for ReLU)"),
    lr: number(0.1, "SGD learning rate", { min: 0, max: 100, minExclusive: true }),
    batch: integer(100, "minibatch size", { min: 2, max: 100_000 }),
    epochs: integer(100, "training epochs", { min: 1, max: 100_000 }),
    labelNoise: number(0.5, "fraction of training labels replaced (noisy arms; 'different' labels)", { min: 0, max: 1 }),
    c: integer(2, "winsorization order: clip to the c-th smallest / largest of the batch", { min: 1, max: 1000 }),
    k: integer(4, "median-of-means groups (must divide the batch)", { min: 1, max: 1000 }),
    m: integer(500, "examples in the coherence probe", { min: 2, max: 100_000 }),
    logEvery: integer(0, "log every k steps (0: only log-spaced steps and the last)", { min: 0, max: 1e7 }),
    perDecade: integer(10, "log-spaced logged steps per decade", { min: 0, max: 1000 }),
  },
  validate: (h) => [
    ...(h.m > h.n ? [{ key: "m" as const, message: `the coherence probe (m = ${h.m}) must not exceed n = ${h.n}` }] : []),
    ...(h.batch % h.k !== 0 ? [{ key: "k" as const, message: `median-of-means needs k (${h.k}) to divide the batch (${h.batch})` }] : []),
    ...(h.c > h.batch / 2 ? [{ key: "c" as const, message: `c = ${h.c} must be ≤ half the batch (${h.batch})` }] : []),
  ],
  sizes: {
    smoke: { n: 200, nTest: 200, hidden: 32, epochs: 3, m: 50, batch: 20 },
    quick: { epochs: 30 },
  },
  cost: { smoke: "~3 s", quick: "~77 s measured, with the control", full: "~4 min" },
  calibration: { seeds: [100, 101, 102], outcome: "FAIL on seeds 100–102, as at the full size (docs/results): (i) and (ii) hold, (iii) does not — winsorized SGD fits only 2.9 points fewer noisy labels than SGD (design estimate ≥ 10); a faithful miss, kept as FAIL" },
  sweep: () => [{ arm: [...ARMS] }],

  async run(ctx): Promise<CoherenceResults> {
    const h = ctx.hparams;
    const arm = h.arm as Arm;
    const k = roleKeys(ctx.seed, ["data", "labels", "init", "shuffle"]);
    const data = gaussianClusters({ n: h.n, nTest: h.nTest, d: h.d, classes: h.classes, sep: h.sep, noise: h.noise }, k.data);
    let train = data.train;
    let changed: Int32Array = new Int32Array(0);
    if (arm === "random") {
      const noisy = injectLabelNoise(data.train.y as Int32Array, h.classes, 1, k.labels, "uniform");
      train = { ...data.train, y: noisy.labels };
    } else if (arm !== "real") {
      const noisy = injectLabelNoise(data.train.y as Int32Array, h.classes, h.labelNoise, k.labels, "different");
      train = { ...data.train, y: noisy.labels };
      changed = noisy.corrupted;
    } else k.labels.dispose();
    const spec = mlpSpec({ dims: [h.d, h.hidden, h.classes], activation: "relu", ...(h.init === "torch" ? { initStd: [1 / Math.sqrt(3 * h.d), 1 / Math.sqrt(3 * h.hidden)] } : {}) });
    const probe = takeRows(train, Int32Array.from({ length: h.m }, (_, i) => i));
    const optimizer =
      arm === "noisy_winsorized" ? chain(winsorize(h.c), scaleByLearningRate(h.lr)) : arm === "noisy_mom" ? chain(medianOfMeans(h.k), scaleByLearningRate(h.lr)) : sgd(h.lr);
    const evalSets = { train, test: data.test, ...(changed.length ? { noisy: takeRows(train, changed) } : {}) };
    const out = await ctx.train<MlpParams>({
      params: initMlp(spec, k.init),
      loss: (p, x, y) => softmaxCrossEntropy(applyMlp(spec, p, x), y),
      evaluate: (p, x, y: JArray) => ({ acc: accuracy(applyMlp(spec, p, x), y) }),
      monitors: [coherenceMonitor(spec, probe)],
      optimizer,
      train,
      evalSets,
      epochs: h.epochs,
      batchSize: h.batch,
      key: k.shuffle,
      progressKeys: ["train_acc", "test_acc", "coherence"],
    });
    treeDispose([out.params, out.optState]);
    const hist = out.history;
    const coh = hist.map((r) => r.coherence);
    const last = hist[hist.length - 1];
    return {
      arm,
      peak_coherence: maxOf(coh),
      max_coherence_after_0: maxOf(coh.slice(1)),
      coherence_at_0: coh[0],
      final_coherence: coh[coh.length - 1],
      final_train_acc: last.train_acc,
      final_noisy_fit: typeof last.noisy_acc === "number" ? last.noisy_acc : null,
      final_test_acc: last.test_acc,
      steps: last.step,
      train_seconds: out.seconds,
    };
  },

  figures(ps: P[], v) {
    const rows = (p: P) => p.metrics.filter((m: MetricRow) => m.axis === "step");
    const arm = (a: Arm) => ps.find((p) => p.results.arm === a);
    const cohSeries = (["real", "random", "noisy_sgd"] as Arm[]).flatMap((a) => {
      const p = arm(a);
      return p ? [{ name: a.replace("_", " "), x: rows(p).map((r) => Math.max(1, r.x)), y: rows(p).map((r) => r.values.coherence) }] : [];
    });
    const lossCoh = (["real", "random"] as Arm[]).flatMap((a) => {
      const p = arm(a);
      return p ? [{ name: a, x: rows(p).map((r) => 1 - r.values.train_acc), y: rows(p).map((r) => r.values.coherence) }] : [];
    });
    const fit = (["noisy_sgd", "noisy_winsorized", "noisy_mom"] as Arm[]).flatMap((a) => {
      const p = arm(a);
      if (!p) return [];
      const rs = rows(p).filter((r) => r.x >= 1);
      return [
        { name: `${a.replace("noisy_", "")} noisy-label fit`, x: rs.map((r) => r.x), y: rs.map((r) => r.values.noisy_acc ?? NaN) },
        { name: `${a.replace("noisy_", "")} clean test`, x: rs.map((r) => r.x), y: rs.map((r) => r.values.test_acc), dashed: true },
      ];
    });
    return [
      {
        name: "coherence",
        title: "m-coherence: real labels are coherent, random labels are not",
        subtitle: `peak real ${armOf(ps, "real").peak_coherence.toFixed(1)} vs random ${armOf(ps, "random").peak_coherence.toFixed(2)} (ratio ${v.measured.peak_ratio?.toFixed(1)}) → ${v.verdict}`,
        panels: [
          { kind: "line" as const, title: "m-coherence over training", xLabel: "step (log scale; step 0 shown at 1)", yLabel: "‖Σgᵢ‖² / Σ‖gᵢ‖²", xLog: true, yLog: true, series: cohSeries, width: 460 },
          { kind: "line" as const, title: "m-coherence against training error", xLabel: "train error (1 − accuracy)", yLabel: "m-coherence", yLog: true, series: lossCoh, width: 400 },
        ],
      },
      {
        name: "coherence-robust",
        title: "50% label noise: winsorized and median-of-means descent fit fewer noisy labels",
        subtitle: `noisy-label fit SGD ${armOf(ps, "noisy_sgd").final_noisy_fit?.toFixed(3)} vs winsorized ${armOf(ps, "noisy_winsorized").final_noisy_fit?.toFixed(3)}; clean test ${armOf(ps, "noisy_sgd").final_test_acc.toFixed(3)} vs ${armOf(ps, "noisy_winsorized").final_test_acc.toFixed(3)}`,
        panels: [{ kind: "line" as const, title: "fit of the noisy labels and clean test accuracy", xLabel: "step (log scale)", yLabel: "accuracy", xLog: true, yDomain: [0, 1] as [number, number], series: fit, width: 620 }],
      },
    ];
  },
});
