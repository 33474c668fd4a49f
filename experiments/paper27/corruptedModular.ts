/**
 * To grok or not to grok, the corrupted case (Doshi, Das, He, Gromov, ICLR 2024): modular addition with a
 * fraction ξ of training labels replaced by random ones, over the weight-decay ladder wd ∈ {0, 5, 15}.
 *
 * Claim: the network can memorise the corrupted labels and generalise at once (coexistence); weight decay
 * makes it ignore them (partial, then full inversion: accuracy on the corrupted pairs falls while test
 * accuracy holds); memorising neurons are the low-IPR ones, so pruning them first removes the memorised
 * labels and keeps test accuracy, while pruning the periodic (high-IPR) ones first destroys generalisation.
 *
 * Set-up as in the official d-doshi/Grokking: f(m, n) = W (U e_m + V e_n)², no biases, every matrix
 * N(0, std 0.5/(2N)^(1/3)), MSE against one-hot targets (mean over n·p entries), full-batch AdamW
 * (lr 0.01, β = (0.9, 0.98), decoupled weight decay on all matrices), α = 0.5, ξ = 0.35.
 * Full size p = 97, N = 500, 2,000 steps (the paper's App. A); quick is the calibrated CI size p = 59,
 * N = 256, 1,500 steps, where the phase ladder sits one step lower (calibration-a.md §1a).
 *
 * Criteria: CHECKS below, declared once (fixed before these runs): the ladder from calibration-a.md §1d
 * (CI-size criteria at the smoke and quick sizes, the full-size ones at the full size; accuracies are the mean
 * of the last 5 logged checkpoints) and the pruning criteria of specs-23-45.md §5 (read off the paper's
 * Fig. 6, calibrated only at full size by the spec's numpy CHK, so judged only at the full size).
 * Negative control: weight decay not applied (applyDecay = false): every point of the ladder again with the
 * decay switched off in the optimizer, so the wd 5 and wd 15 points train exactly as wd 0 does — the same
 * computation, so they share the wd 0 point's run (`computes`; checked bit for bit in test/contract.test.ts);
 * judged by the same checks (calibration-a.md §1c: it must fail the wd 5, wd 15 and ordering checks).
 * Seeds: 1 at each size (quick had 2 until 2026-12-06: 460 s, 4× the 2-minute budget).
 * Cost on one core (measured 2026-12-07, `genlab run grok-corrupted --quick`): smoke ~3 s, quick 34 s (90–108 s on OpenBLAS's generic kernels)
 * user CPU (3 trainings of 1,500 steps at ~25 ms; the control reuses the wd 0 run); full ~10 min (3 wd).
 * Calibration (seeds 100, 101, 102, one seed each): PASS on each. The reported seed 0 FAILs ci.wd15_test
 * (0.889 < 0.9; every other check holds): the wd 15 arm oscillates at the CI ladder's edge (test 0.84–0.93
 * over steps 1100–1500; calibration-a §1a saw ±3–5 points), which the calibration seeds happened to clear.
 * That FAIL is a measured property of the CI-size analog, not of the paper: no configuration within the
 * budget reaches a stable inversion (the full-size ladder costs ~5× more per step), and the full size, which
 * PASSes, is the verdict of record.
 * Run: genlab run grok-corrupted --quick
 */
import type { Array as JArray } from "@jax-js/jax";
import { roleKeys } from "../../src/core/prng.ts";
import { treeDispose, treeRef } from "../../src/core/tree.ts";
import { padWidth, takeRows, type Dataset } from "../../src/data/dataset.ts";
import { isPrime, modularDataset, modularSplitSizes } from "../../src/data/modular.ts";
import { fourierIprMonitor, modularNeuronIpr } from "../../src/measures/fourier.ts";
import { doshiPhase, type GrokPhase } from "../../src/measures/phases.ts";
import { keepMask, maskHiddenUnits, pruningOrder } from "../../src/measures/pruning.ts";
import { ACTIVATIONS } from "../../src/nn/activations.ts";
import { applyMlp, initMlp, mlpSpec, type MlpParams, type MlpSpec } from "../../src/nn/dense.ts";
import { accuracy, classificationLoss } from "../../src/nn/losses.ts";
import { adamw } from "../../src/optim/aliases.ts";
import { toDevice } from "../../src/train/loop.ts";
import { bool, defineExperiment, integer, number, oneOf, type CheckDecl, type FigureSpec, type Infer, type MetricRow, type Point, type RunContext, type Size, type Verdict } from "../../src/declare/kit.ts";

export const PRUNE_FRACTIONS = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];
const SETS = ["train", "test", "corrupted", "clean"] as const;
type SetName = (typeof SETS)[number];

export type CorruptedResults = {
  p: number;
  hidden: number;
  weight_decay: number;
  corruption: number;
  train_fraction: number;
  /** Accuracies: the mean over the last `window` logged checkpoints, and at the last step. */
  window: number;
  mean: Record<SetName, number>;
  final: Record<SetName, number>;
  ipr_mean: number;
  ipr_frac_lo: number;
  ipr_frac_hi: number;
  phase: GrokPhase;
  /** Histogram of per-neuron IPR over [0, 1] in 20 bins. */
  ipr_hist: number[];
  /** Accuracy on each set after pruning each fraction of PRUNE_FRACTIONS, lowest-IPR first / highest first. */
  prune_low: Record<SetName, number[]>;
  prune_high: Record<SetName, number[]>;
  n_train: number;
  n_corrupted: number;
  n_changed: number;
  train_seconds: number;
};

/** The hparams of grok-corrupted (grok-phase-diagram runs the same set-up). */
export const CORRUPTED_HPARAMS = {
  p: integer(97, "the prime modulus", { min: 3, max: 257, check: (v) => (isPrime(v) ? null : "expected a prime") }),
  trainFraction: number(0.5, "α: fraction of all p² pairs used for training", { min: 0, max: 1, minExclusive: true, maxExclusive: true }),
  corruption: number(0.35, "ξ: fraction of training labels replaced by uniform random labels (may equal the truth)", { min: 0, max: 1, maxExclusive: true }),
  hidden: integer(500, "hidden width N", { min: 1, max: 4096 }),
  activation: oneOf(ACTIVATIONS, "square", "hidden activation (square: φ(x) = x², Eq. 1)"),
  lr: number(0.01, "AdamW learning rate", { min: 0, max: 10, minExclusive: true }),
  weightDecay: number(5, "decoupled weight decay (the sweep sets 0, 5, 15)", { min: 0, max: 1000 }),
  applyDecay: bool(true, "apply the weight decay (false: the 'decay not applied' bug)"),
  steps: integer(2000, "full-batch AdamW steps", { min: 1, max: 10_000_000 }),
  prune: bool(true, "measure the IPR-ranked pruning curves after training"),
  window: integer(5, "accuracies are averaged over this many last logged checkpoints", { min: 1, max: 1000 }),
  logEvery: integer(100, "log every k steps (plus log-spaced steps)", { min: 0, max: 1e7 }),
  perDecade: integer(8, "log-spaced logged steps per decade", { min: 0, max: 1000 }),
};
type H = Infer<typeof CORRUPTED_HPARAMS>;
type P = Point<H, CorruptedResults>;

/** Doshi et al.'s init: every matrix N(0, std 0.5/(2N)^(1/3)) (utils/models.py). */
export const doshiInitStd = (hidden: number): number => 0.5 / Math.cbrt(2 * hidden);

/** Train one point and measure it: accuracies, IPR, phase, pruning curves. Shared by both experiments. */
export async function runCorrupted(ctx: RunContext<H>): Promise<CorruptedResults> {
  const h = ctx.hparams;
  const k = roleKeys(ctx.seed, ["data", "init", "shuffle"]);
  const data = modularDataset({ p: h.p, op: "add", trainFraction: h.trainFraction, corruption: h.corruption, encoding: "onehot" }, k.data);
  const std = doshiInitStd(h.hidden);
  const spec: MlpSpec = mlpSpec({ dims: [data.train.xShape[1], h.hidden, h.p], activation: h.activation, bias: false, initStd: [std, std] });
  const isCorrupted = new Set(data.corrupted);
  const sets: Record<SetName, Dataset> = {
    train: data.train,
    test: data.test,
    corrupted: takeRows(data.train, data.corrupted),
    clean: takeRows(data.train, Int32Array.from({ length: data.train.y.length }, (_, i) => i).filter((i) => !isCorrupted.has(i))),
  };
  const layout = { p: h.p, vOffset: padWidth(h.p), hidden: h.hidden };
  const out = await ctx.train<MlpParams>({
    params: initMlp(spec, k.init),
    loss: (params, x, y) => classificationLoss("mse", applyMlp(spec, params, x), y, h.p),
    evaluate: (params, x, y: JArray) => ({ acc: accuracy(applyMlp(spec, params, x), y, h.p) }),
    monitors: [fourierIprMonitor(layout)],
    optimizer: adamw(h.lr, { b1: 0.9, b2: 0.98, eps: 1e-8, weightDecay: h.applyDecay ? h.weightDecay : 0 }),
    train: data.train,
    evalSets: sets,
    steps: h.steps,
    batchSize: null,
    key: k.shuffle,
    progressKeys: ["train_acc", "test_acc", "corrupted_acc", "ipr_mean"],
  });
  const hist = out.history;
  const last = hist.slice(-h.window);
  const avg = (key: string) => last.reduce((a, r) => a + r[key], 0) / last.length;
  const mean = Object.fromEntries(SETS.map((s) => [s, avg(`${s}_acc`)])) as Record<SetName, number>;
  const final = Object.fromEntries(SETS.map((s) => [s, hist[hist.length - 1][`${s}_acc`]])) as Record<SetName, number>;

  const ipr = Float32Array.from(await modularNeuronIpr(treeRef(out.params), layout).data());
  ctx.saveArray("neuron_ipr", ipr);
  const iprHist = new Array<number>(20).fill(0);
  for (const v of ipr) iprHist[Math.min(19, Math.floor(v * 20))]++;

  // Pruning without retraining, from either end of the IPR ranking.
  const empty = () => ({ train: [], test: [], corrupted: [], clean: [] }) as Record<SetName, number[]>;
  const result = !h.prune ? { low: empty(), high: empty() } : await ctx.phase("pruning", async () => {
    const dev = Object.fromEntries(SETS.map((s) => [s, toDevice(sets[s])])) as Record<SetName, { x: JArray; y: JArray }>;
    const curves: Record<"low" | "high", Record<SetName, number[]>> = { low: { train: [], test: [], corrupted: [], clean: [] }, high: { train: [], test: [], corrupted: [], clean: [] } };
    for (const from of ["low", "high"] as const) {
      const order = pruningOrder(ipr, from);
      for (const f of PRUNE_FRACTIONS) {
        const pruned = maskHiddenUnits(treeRef(out.params), keepMask(order, h.hidden, Math.round(f * h.hidden)));
        for (const s of SETS) {
          const acc = (await accuracy(applyMlp(spec, treeRef(pruned), dev[s].x.ref), dev[s].y.ref, h.p).data())[0];
          curves[from][s].push(acc);
        }
        treeDispose(pruned);
        await ctx.record(Object.fromEntries(SETS.map((s) => [`${s}_acc`, curves[from][s][curves[from][s].length - 1]])), { phase: `prune_${from}`, axis: "fraction_pruned", x: f });
      }
    }
    for (const d of Object.values(dev)) treeDispose([d.x, d.y]);
    return { low: curves.low, high: curves.high };
  });
  treeDispose([out.params, out.optState]);
  const changed = Array.from(data.corrupted).filter((i) => data.train.y[i] !== data.trueTrainLabels[i]).length;
  return {
    p: h.p,
    hidden: h.hidden,
    weight_decay: h.applyDecay ? h.weightDecay : 0,
    corruption: h.corruption,
    train_fraction: h.trainFraction,
    window: last.length,
    mean,
    final,
    ipr_mean: ipr.reduce((a, b) => a + b, 0) / ipr.length,
    ipr_frac_lo: ipr.filter((v) => v < 0.1).length / ipr.length,
    ipr_frac_hi: ipr.filter((v) => v > 0.5).length / ipr.length,
    phase: doshiPhase(mean.train, mean.test, h.corruption),
    ipr_hist: iprHist,
    prune_low: result.low,
    prune_high: result.high,
    n_train: data.train.y.length,
    n_corrupted: data.corrupted.length,
    n_changed: changed,
    train_seconds: out.seconds,
  };
}

/** The run of the weight-decay arm `wd` among one seed's points (the control's points keep their nominal wd). */
function arm(points: P[], wd: number): CorruptedResults {
  const hits = points.filter((p) => p.hparams.weightDecay === wd);
  if (hits.length !== 1) throw new Error(hits.length ? `the wd = ${wd} arm was run ${hits.length} times for one seed` : `the wd = ${wd} arm was not run`);
  return hits[0].results;
}

/** a(0) − a(5) and a(5) − a(15): both > 0 ⇔ strictly decreasing in wd; the smaller is the check's value. */
const minStep = (points: P[], f: (r: CorruptedResults) => number, sign: 1 | -1): number => {
  const [a, b, c] = [0, 5, 15].map((wd) => sign * f(arm(points, wd)));
  return Math.min(a - b, b - c);
};

const CI: readonly Size[] = ["smoke", "quick"];
const FULL: readonly Size[] = ["full"];
const LADDER = "calibration-a.md §1d";
const PRUNING = "specs-23-45.md §5 (read off the paper's Fig. 6; calibrated only at full size, by the spec's numpy CHK)";

/** A ladder check on one arm's accuracy (mean of the last `window` checkpoints) or its mean IPR. */
const acc = (id: string, sizes: readonly Size[], wd: number, set: SetName | "ipr_mean", cmp: CheckDecl<P>["cmp"], threshold: number | readonly [number, number], phase: string): CheckDecl<P> => ({
  id,
  role: "claim",
  what: `wd ${wd} (${phase}): ${set === "ipr_mean" ? "mean neuron IPR" : `${set === "clean" ? "uncorrupted" : set} accuracy, mean of the last checkpoints`}`,
  cmp,
  threshold,
  source: `${LADDER} (${sizes.includes("full") ? "full size" : "CI size"})`,
  sizes,
  value: ({ points }) => (set === "ipr_mean" ? arm(points, wd).ipr_mean : arm(points, wd).mean[set]),
});

const at = (f: number) => PRUNE_FRACTIONS.indexOf(f);
/** The pruning curves of the coexistence net (wd 0 at full size), measured after training. */
const pruned = (points: P[]) => {
  const r = arm(points, 0);
  if (r.prune_low.test.length !== PRUNE_FRACTIONS.length || r.prune_high.test.length !== PRUNE_FRACTIONS.length) throw new Error("the pruning curves were not measured (prune = false)");
  return r;
};

/** The criteria, once (see the header for their sources). Every check holds on every seed. */
export const CORRUPTED_CHECKS: CheckDecl<P>[] = [
  // CI size (p = 59, N = 256, 1,500 steps): the ladder one phase lower than at full size.
  acc("ci.wd0_train", CI, 0, "train", ">=", 0.99, "memorization"),
  acc("ci.wd0_test", CI, 0, "test", "<=", 0.2, "memorization"),
  acc("ci.wd0_corrupted", CI, 0, "corrupted", ">=", 0.99, "memorization"),
  acc("ci.wd0_ipr_mean", CI, 0, "ipr_mean", "<=", 0.2, "memorization"),
  acc("ci.wd5_train", CI, 5, "train", ">=", 0.95, "coexistence"),
  acc("ci.wd5_test", CI, 5, "test", ">=", 0.95, "coexistence"),
  acc("ci.wd5_corrupted", CI, 5, "corrupted", ">=", 0.9, "coexistence"),
  acc("ci.wd5_ipr_mean", CI, 5, "ipr_mean", ">=", 0.3, "coexistence"),
  acc("ci.wd15_test", CI, 15, "test", ">=", 0.9, "inversion"),
  acc("ci.wd15_train", CI, 15, "train", "<", 0.9, "inversion"),
  acc("ci.wd15_corrupted", CI, 15, "corrupted", "<=", 0.6, "inversion"),
  acc("ci.wd15_clean", CI, 15, "clean", ">=", 0.99, "inversion"),
  // Full size (p = 97, N = 500, 2,000 steps).
  acc("full.wd0_train", FULL, 0, "train", ">=", 0.9, "coexistence"),
  acc("full.wd0_test", FULL, 0, "test", ">=", 0.9, "coexistence"),
  acc("full.wd0_corrupted", FULL, 0, "corrupted", ">=", 0.8, "coexistence"),
  acc("full.wd5_test", FULL, 5, "test", ">=", 0.95, "partial inversion"),
  acc("full.wd5_train", FULL, 5, "train", "in", [0.7, 0.85], "partial inversion"),
  acc("full.wd5_corrupted", FULL, 5, "corrupted", "in", [0.15, 0.6], "partial inversion"),
  acc("full.wd15_test", FULL, 15, "test", ">=", 0.9, "full inversion"),
  acc("full.wd15_train", FULL, 15, "train", "<", 0.7, "full inversion"),
  acc("full.wd15_corrupted", FULL, 15, "corrupted", "<=", 0.1, "full inversion"),
  acc("full.wd15_ipr_mean", FULL, 15, "ipr_mean", ">=", 0.5, "full inversion"),
  {
    id: "full.ipr_mean_increasing",
    role: "claim",
    what: "mean IPR strictly increasing in wd 0 → 5 → 15: the smaller of its two steps up",
    cmp: ">",
    threshold: 0,
    source: `${LADDER} (full size)`,
    sizes: FULL,
    value: ({ points }) => minStep(points, (r) => r.ipr_mean, -1),
  },
  // Both sizes: the ordering over the ladder.
  {
    id: "corrupted_decreasing",
    role: "claim",
    what: "corrupted-pair accuracy strictly decreasing in wd 0 → 5 → 15: the smaller of its two steps down",
    cmp: ">",
    threshold: 0,
    source: LADDER,
    value: ({ points }) => minStep(points, (r) => r.mean.corrupted, 1),
  },
  {
    id: "ipr_frac_lo_decreasing",
    role: "claim",
    what: "fraction of neurons with IPR < 0.1 strictly decreasing in wd 0 → 5 → 15: the smaller of its two steps down",
    cmp: ">",
    threshold: 0,
    source: LADDER,
    value: ({ points }) => minStep(points, (r) => r.ipr_frac_lo, 1),
  },
  // Pruning the coexistence net (wd 0 at full size) without retraining: full size only (calibrated there).
  {
    id: "prune_low_corrupted_ratio_at_0.6",
    role: "claim",
    what: "wd 0, lowest-IPR neurons pruned first: corrupted accuracy at 60% pruned / unpruned",
    cmp: "<=",
    threshold: 0.3,
    source: PRUNING,
    sizes: FULL,
    value: ({ points }) => {
      const r = pruned(points);
      return r.prune_low.corrupted[at(0.6)] / Math.max(1e-9, r.prune_low.corrupted[0]);
    },
  },
  {
    id: "prune_low_min_test_to_0.7",
    role: "claim",
    what: "wd 0, lowest-IPR neurons pruned first: lowest test accuracy at 0–70% pruned",
    cmp: ">=",
    threshold: 0.9,
    source: PRUNING,
    sizes: FULL,
    value: ({ points }) => Math.min(...pruned(points).prune_low.test.slice(0, at(0.7) + 1)),
  },
  {
    id: "prune_high_test_at_0.3",
    role: "claim",
    what: "wd 0, highest-IPR neurons pruned first: test accuracy at 30% pruned",
    cmp: "<=",
    threshold: 0.5,
    source: PRUNING,
    sizes: FULL,
    value: ({ points }) => pruned(points).prune_high.test[at(0.3)],
  },
  {
    id: "prune_high_corrupted_at_0.3",
    role: "claim",
    what: "wd 0, highest-IPR neurons pruned first: corrupted accuracy at 30% pruned",
    cmp: ">=",
    threshold: 0.8,
    source: PRUNING,
    sizes: FULL,
    value: ({ points }) => pruned(points).prune_high.corrupted[at(0.3)],
  },
];

const stepRows = (metrics: MetricRow[]) => metrics.filter((m) => m.axis === "step" && m.phase === "main");

function ladderFigures(points: P[], v: Verdict): FigureSpec[] {
  const s0 = Math.min(...points.map((p) => p.seed));
  const ps = points.filter((p) => p.seed === s0).sort((a, b) => a.hparams.weightDecay - b.hparams.weightDecay);
  const accPanels = ps.map((p) => {
    const rows = stepRows(p.metrics);
    const x = rows.map((r) => r.x);
    return {
      kind: "line" as const,
      title: `wd = ${p.hparams.weightDecay}: ${p.results.phase.replace("_", " ")}`,
      xLabel: "step (log scale)",
      yLabel: `accuracy — wd ${p.hparams.weightDecay}: ${p.results.phase.replace("_", " ")}`,
      xLog: true,
      yDomain: [0, 1] as [number, number],
      series: SETS.map((s) => ({ name: s === "clean" ? "uncorrupted" : s, x, y: rows.map((r) => r.values[`${s}_acc`] ?? NaN) })),
      width: 360,
    };
  });
  const iprPanel = {
    kind: "line" as const,
    title: "mean neuron IPR",
    xLabel: "step (log scale)",
    yLabel: "mean IPR",
    xLog: true,
    series: ps.map((p) => ({ name: `wd=${p.hparams.weightDecay}`, x: stepRows(p.metrics).map((r) => r.x), y: stepRows(p.metrics).map((r) => r.values.ipr_mean ?? NaN) })),
    width: 360,
  };
  const hist = {
    kind: "bar" as const,
    title: "per-neuron IPR histogram (final)",
    xLabel: "IPR bin",
    yLabel: "neurons",
    groups: Array.from({ length: 10 }, (_, i) => `${(i / 10).toFixed(1)}–${((i + 1) / 10).toFixed(1)}`),
    series: ps.map((p) => ({ name: `wd=${p.hparams.weightDecay}`, values: Array.from({ length: 10 }, (_, i) => p.results.ipr_hist[2 * i] + p.results.ipr_hist[2 * i + 1]) })),
    width: 560,
  };
  const full = ps[0].results.p >= 97;
  const co = ps.find((p) => p.hparams.weightDecay === (full ? 0 : 5)) ?? ps[0];
  const prunePanel = (from: "low" | "high") => ({
    kind: "line" as const,
    title: `pruning ${from === "low" ? "lowest" : "highest"}-IPR neurons first (wd ${co.hparams.weightDecay})`,
    xLabel: "fraction of neurons pruned",
    yLabel: `accuracy — ${from === "low" ? "lowest" : "highest"}-IPR first, wd ${co.hparams.weightDecay}`,
    yDomain: [0, 1] as [number, number],
    series: SETS.map((s) => ({ name: s === "clean" ? "uncorrupted" : s, x: PRUNE_FRACTIONS, y: (from === "low" ? co.results.prune_low : co.results.prune_high)[s] })),
    width: 380,
  });
  return [
    {
      name: "corrupted-ladder",
      title: "Corrupted modular addition: train, test, corrupted and uncorrupted accuracy over the weight-decay ladder",
      subtitle: `p = ${ps[0].results.p}, N = ${ps[0].results.hidden}, α = ${ps[0].results.train_fraction}, ξ = ${ps[0].results.corruption} (${ps[0].results.n_corrupted} corrupted pairs), seed ${s0} → ${v.verdict}`,
      panels: [...accPanels, iprPanel],
    },
    { name: "corrupted-ipr", title: "Per-neuron Fourier IPR: weight decay turns memorising neurons periodic", subtitle: `p = ${ps[0].results.p}, N = ${ps[0].results.hidden}, seed ${s0}`, panels: [hist] },
    { name: "corrupted-pruning", title: "IPR-ranked pruning without retraining", subtitle: `low-IPR neurons memorise the corrupted labels; high-IPR neurons carry the generalising solution (seed ${s0})`, panels: [prunePanel("low"), prunePanel("high")] },
  ];
}

export const corruptedModular = defineExperiment({
  id: "grok-corrupted",
  paper: 27,
  title: "Corrupted modular addition: coexistence and inversion over weight decay, Fourier IPR and IPR-ranked pruning",
  claim: (h) =>
    `With ξ = ${h.corruption} of the training labels of (a + b) mod ${h.p} corrupted (α = ${h.trainFraction}, width ${h.hidden}, ${h.steps} AdamW steps), weight decay 0 → 5 → 15 moves the network from ${h.p >= 97 ? "coexistence" : "memorization"} to ${h.p >= 97 ? "partial and full inversion" : "coexistence and inversion"}: accuracy on the corrupted pairs falls while test accuracy holds, neurons become periodic (IPR), and pruning low-IPR neurons removes the memorised labels while pruning high-IPR ones destroys generalisation.`,
  coverage: {
    level: "partial",
    covered: ["label corruption with the corrupted pairs tracked", "the weight-decay ladder (memorization / coexistence / partial and full inversion)", "per-neuron Fourier IPR", "IPR-ranked pruning, both directions", "the App. C phase classifier (the phase diagram is grok-phase-diagram)"],
    notCovered: [
      "dropout and BatchNorm as the other inversion mechanisms",
      "widths up to 10,000 and the 40-seed pruning study (App. Q)",
      "multiplication and other modular operations",
      "the pruning criteria at the CI (quick) size: not calibrated there, so its curves are shown, not judged",
    ],
  },
  deviations: [
    "quick size is p = 59, N = 256, 1,500 steps, where the ladder shifts one phase down (calibration-a.md §1a); its criteria are the calibrated CI-size ones, not the paper's phase labels",
    "accuracies are averaged over the last 5 logged checkpoints (the wd = 15 CI-size dynamics oscillate by ±3–5 points)",
    "the pruning criteria are read off the paper's Fig. 6 and calibrated only at full size, so they are judged only at the full size; at the CI (quick) size the pruning curves are still measured and drawn for the wd = 5 (coexistence) net, not judged",
    "the first layer is a matmul on [onehot(a) | onehot(b)] (equal to the paper's gather)",
    "1 seed at each size (the calibration used torch seeds 1 and 2 with its own data order)",
  ],
  criterionSource: "../shared/papers/calibration-a.md §1d (CI-size and full-size ladder criteria, measured in PyTorch); specs-23-45.md §5 (pruning, from the paper's Fig. 6 and a numpy CHK at full size)",
  checks: CORRUPTED_CHECKS,
  negativeControl: {
    what: "weight decay not applied (applyDecay = false): every point of the ladder with the decay switched off in the optimizer, so the wd 5 and wd 15 points train exactly as wd 0 does; the wd 5, wd 15 and ordering checks must fail (calibration-a.md §1c). Cost: nothing more — the three points compute exactly the wd 0 point's training, so they share its run (`computes`)",
    hparams: { applyDecay: false },
  },
  // Without the decay the nominal weight decay has no effect: the control's three points train exactly as the
  // wd 0 point does, so they share its run (checked bit for bit in test/contract.test.ts).
  computes: (h) => (h.applyDecay ? h : { ...h, applyDecay: true, weightDecay: 0 }),
  seeds: { smoke: 1, quick: 1, full: 1 },
  dataSource: "generated",
  playFields: ["p", "trainFraction", "corruption", "hidden", "lr", "steps"],
  hparams: CORRUPTED_HPARAMS,
  validate(h) {
    const n = modularSplitSizes(h.p, "add", h.trainFraction);
    return n.train >= 1 && n.test >= 1 ? [] : [{ key: "trainFraction", message: `trainFraction ${h.trainFraction} leaves an empty split of the ${n.train + n.test} pairs mod ${h.p}` }];
  },
  sizes: {
    smoke: { p: 23, hidden: 32, steps: 60, logEvery: 20 },
    quick: { p: 59, hidden: 256, steps: 1500 },
  },
  cost: { smoke: "~3 s", quick: "~34 s measured, with the control", full: "~10 min" },
  calibration: { seeds: [100, 101, 102], outcome: "PASS on each of seeds 100–102, one seed each (2026-12-06; the CI-size ladder; pruning is judged at full size only; 90–108 s each on one core). The reported seed 0 FAILs ci.wd15_test (0.889 < 0.9): the wd 15 arm oscillates at the CI ladder's edge; the full size (PASS) is the verdict of record" },
  sweep: () => [{ weightDecay: [0, 5, 15] }],
  run: (ctx) => runCorrupted(ctx),
  figures: ladderFigures,
});
