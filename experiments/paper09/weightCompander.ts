/**
 * Weight Compander: A Simple Weight Reparameterization for Regularization (Cakaj, Mehnert, Yang; IJCNN 2023;
 * arXiv:2306.16993), the laptop reproduction of specs-01-22.md §9 with the paper's own Ψ.
 *
 * Claim: storing every weight as v and using w = Ψ(v) = a·arctan(v/b) (the authors' Eq. 1; the spec's placeholder φ
 * replaced by it) improves test accuracy on top of weight decay and dropout — by ≥ 0.3 points on average over paired
 * seeds, one-sided paired t-test p < 0.1 — leaves fewer near-zero weights, and keeps max |w| ≤ aπ/2.
 * Set-up (the spec): a seeded 10,000-image Fashion-MNIST training subset, the 10,000 test images; MLP 784-512-512-10
 * (ReLU, PyTorch's default init), dropout 0.3 after each hidden layer, weight decay 5e-4, SGD momentum 0.9, lr 0.05,
 * batch 128, 30 epochs. Arms per seed, all from the same initial effective weights (v = b·tan(w₀/a), Eq. 4), batches
 * and dropout masks: the baseline, WC with fixed (a, b), and WC with (a, b) learned per layer from (0.5, 1) (the
 * paper's better "fine" variant; reported, not judged). Weight decay as the paper: on Ψ(v) and the biases with fixed
 * (a, b), on v and the biases with learned ones (never on a, b), written as ½λ‖·‖² in the loss (PyTorch's coupled decay).
 * Fixed (a, b) chosen as the paper does (a grid, one seed, validation accuracy — here the 10,000 training images
 * outside the subset, never the test split): see `calibration`.
 * Negative control (hparams): the compander made the identity (a = b = 100 for both WC arms: Ψ(v) = 100·arctan(v/100) ≈ v
 * at these weights). Its gain over the baseline should vanish, and so should the difference in dead weights.
 * Cost on one core: see `cost`.
 * Run: genlab run weight-compander --quick
 */
import { numpy as np, type Array as JArray } from "@jax-js/jax";
import { permutationFromKey, roleKeys, splitKey, type Key } from "../../src/core/prng.ts";
import { pairedTTestGreater } from "../../src/core/special.ts";
import { treeDispose, treeLeaves, treeRef, type Tree } from "../../src/core/tree.ts";
import { takeRows, type Dataset } from "../../src/data/dataset.ts";
import { loadFashionMnist } from "../../src/io/fashionMnist.ts";
import { weightUseOf } from "../../src/measures/weightUse.ts";
import { companderDecayTree, fromCompander, toCompander, type CompanderSpec } from "../../src/nn/compander.ts";
import { applyMlp, initTorchLinear, mlpSpec, type MlpParams } from "../../src/nn/dense.ts";
import { accuracy, softmaxCrossEntropy } from "../../src/nn/losses.ts";
import { sgd } from "../../src/optim/aliases.ts";
import { defineExperiment, fashionMnistNeed, integer, number, oneOf, type CheckDecl, type Point, type RunContext } from "../../src/declare/kit.ts";

type ArmName = "baseline" | "wc" | "wc_learned";

type ArmResult = {
  /** accuracy on the evaluation split (test, or validation when calibrating) after every logged epoch */
  eval_curve: number[];
  final_eval: number;
  final_train: number;
  /** weights (not biases) at the end: the largest |w|, the fraction below 0.01·max|w|, and their histogram */
  max_abs_w: number;
  dead_fraction: number;
  histogram: { lo: number; hi: number; counts: number[] };
  /** learned (a, b) per layer at the end (wc_learned only) */
  learned_ab: [number, number][] | null;
  seconds: number;
};
export type WcResults = { evaluated_on: string; a: number; b: number; bound: number; arms: Record<ArmName, ArmResult> };

type P = Point<Record<string, number | string>, WcResults>;
const arm = (p: P, m: ArmName) => p.results.arms[m];
const gains = (points: P[]) => points.map((p) => arm(p, "wc").final_eval - arm(p, "baseline").final_eval);

const CHECKS: CheckDecl<P>[] = [
  {
    id: "baseline_gap",
    role: "gate",
    what: "baseline: final train accuracy − evaluation accuracy (a generalisation gap for a regulariser to close)",
    cmp: ">=",
    threshold: 0.03,
    source: "design estimate (the spec's 10,000-image subset is chosen 'so that overfitting is visible')",
    value: ({ points }) => points[0].results.arms.baseline.final_train - points[0].results.arms.baseline.final_eval,
  },
  {
    id: "wc_gain",
    role: "claim",
    what: "mean over seeds of WC − baseline accuracy",
    cmp: ">=",
    threshold: 0.003,
    source: "specs-01-22.md §9 PASS (≥ baseline + 0.3 points; a design estimate) = issue 25, row 9",
    over: "all",
    value: ({ points }) => gains(points).reduce((a, b) => a + b, 0) / points.length,
  },
  {
    id: "wc_paired_p",
    role: "claim",
    what: "one-sided paired t-test of WC > baseline over the seeds: p",
    cmp: "<",
    threshold: 0.1,
    source: "issue 25, row 9 (a paired test, p < 0.1, over ≥ 5 paired seeds; the spec's Welch test made paired: same data, init, batches and dropout masks)",
    over: "all",
    sizes: ["full"],
    value: ({ points }) => pairedTTestGreater(gains(points)).p,
  },
  {
    id: "wc_fewer_dead",
    role: "claim",
    what: "fraction of dead weights (|w| < 0.01·max|w|), baseline − WC",
    cmp: ">",
    threshold: 0,
    source: "specs-01-22.md §9 PASS (dead-weight fraction lower with WC)",
    value: ({ points }) => arm(points[0], "baseline").dead_fraction - arm(points[0], "wc").dead_fraction,
  },
  {
    id: "wc_max_w",
    role: "claim",
    what: "WC: max |w| / (aπ/2) at the end (≤ 1 by construction of Ψ: a mechanical check of the implementation)",
    cmp: "<=",
    threshold: 1,
    source: "specs-01-22.md §9 PASS (max|w| ≤ β; β = aπ/2 for the paper's Ψ)",
    value: ({ points }) => arm(points[0], "wc").max_abs_w / points[0].results.bound,
  },
];

const PIXELS = 784;

type Settings = { width: number; lr: number; momentum: number; weightDecay: number; dropout: number; batchSize: number; epochs: number };

/** One arm: the baseline (compander null) or WC; init and data keys shared across arms by the caller. Consumes the keys. */
async function trainArm(ctx: RunContext, name: ArmName, train: Dataset, evalSet: Dataset, s: Settings, comp: CompanderSpec | null, initKey: Key, dataKey: Key, dropSeed: number): Promise<ArmResult> {
  const spec = mlpSpec({ dims: [PIXELS, s.width, s.width, 10], activation: "relu", padTo: 1 });
  const init = initTorchLinear(spec, initKey);
  const params: Tree = comp ? toCompander(init, comp) : init;
  const effective = (p: Tree): MlpParams => (comp ? fromCompander(p, comp) : p) as MlpParams;
  const decayOf = (p: Tree): Tree => (comp ? companderDecayTree(p, comp) : p);
  const perEpoch = Math.floor(train.y.length / s.batchSize);
  const logEvery = Math.max(1, Math.round(s.epochs / 10)) * perEpoch;
  const out = await ctx.train<Tree>({
    name,
    params,
    loss: (p, x, y, key) => {
      const logits = applyMlp(spec, effective(treeRef(p)), x, undefined, undefined, { rate: s.dropout, key: key! });
      const l2 = treeLeaves(decayOf(p)).reduce<JArray | null>((acc, a) => (acc ? acc.add(np.square(a).sum()) : np.square(a).sum()), null)!;
      return softmaxCrossEntropy(logits, y).add(l2.mul(s.weightDecay / 2));
    },
    stochastic: { seed: dropSeed },
    evaluate: (p, x, y) => ({ acc: accuracy(applyMlp(spec, effective(p), x), y) }),
    evalSets: { eval: evalSet },
    optimizer: sgd(s.lr, { momentum: s.momentum }),
    train,
    epochs: s.epochs,
    batchSize: s.batchSize,
    key: dataKey,
    log: { every: logEvery, perDecade: 0 },
    progressKeys: ["eval_acc"],
  });
  treeDispose(out.optState);
  try {
    const p = out.params;
    const trainAcc = await accuracyOn(spec, effective(treeRef(p)), train);
    const use = await weightUseOf(effective(treeRef(p)));
    const learned = comp?.learn === "layer" ? await learnedAb(p) : null;
    const curve = out.history.filter((r) => r.step > 0).map((r) => r.eval_acc);
    return { eval_curve: curve, final_eval: curve[curve.length - 1], final_train: trainAcc, max_abs_w: use.maxAbs, dead_fraction: use.deadFraction, histogram: use.histogram, learned_ab: learned, seconds: out.seconds };
  } finally {
    treeDispose(out.params);
  }
}

async function accuracyOn(spec: ReturnType<typeof mlpSpec>, params: MlpParams, ds: Dataset): Promise<number> {
  let ok = 0;
  try {
    for (let s = 0; s < ds.y.length; s += 2000) {
      const e = Math.min(ds.y.length, s + 2000);
      const x = np.array((ds.x as Float32Array<ArrayBuffer>).subarray(s * PIXELS, e * PIXELS), { shape: [e - s, PIXELS] });
      const pred = (await np.argmax(applyMlp(spec, treeRef(params), x), -1).data()) as Int32Array;
      for (let i = 0; i < e - s; i++) ok += pred[i] === ds.y[s + i] ? 1 : 0;
    }
  } finally {
    treeDispose(params);
  }
  return ok / ds.y.length;
}

async function learnedAb(p: Tree): Promise<[number, number][]> {
  const layers = (p as { layers: { ca: JArray; cb: JArray }[] }).layers;
  const out: [number, number][] = [];
  for (const l of layers) out.push([await l.ca.ref.item(), await l.cb.ref.item()]);
  return out;
}

export const weightCompander = defineExperiment({
  id: "weight-compander",
  paper: 9,
  title: "Weight Compander: w = a·arctan(v/b) on top of weight decay and dropout, against the same MLP without it",
  claim: (h) =>
    `An MLP 784-${h.width}-${h.width}-10 with dropout ${h.dropout} and weight decay ${h.weightDecay}, trained by SGD for ${h.epochs} epochs on ${h.nTrain.toLocaleString("en")} Fashion-MNIST images, is ≥ 0.3 points more accurate on the test split with every weight reparameterised as ${h.a}·arctan(v/${h.b}) (mean over paired seeds; one-sided paired t-test p < 0.1 at full size), has fewer weights below 1% of its largest, and keeps max|w| ≤ ${h.a}·π/2.`,
  coverage: {
    level: "partial",
    covered: ["Ψ(v) = a·arctan(v/b) on every weight (biases not), its init and its weight-decay rule (the authors' Eq. 1–4)", "fixed (a, b) chosen on validation data as the paper does; learned per-layer (a, b) reported", "dead-weight fraction, max|w| and the weight histogram at the end"],
    notCovered: ["CIFAR-10/100, TinyImageNet and ImageNet with ResNets, WRNs and VGGs (the paper's scale)", "Adam with the paper's modified update (SGD needs none)", "the arsinh and erf variants (Table VII)", "the dead-weight fraction over training (only at the end)"],
  },
  deviations: [
    "Ψ from the authors' PDF (Eq. 1), not the spec's placeholder φ = β·sign(v)(1 − e^{−|v|/γ}): β = aπ/2",
    "a paired one-sided t-test (the issue) instead of the spec's Welch test: every arm of a seed shares the data subset, the initial effective weights, the batches and the dropout masks",
    "fixed (a, b) from a 3 × 3 grid (a ∈ {0.5, 0.7, 1.0}, b ∈ {0.6, 0.8, 1.0}) on one calibration seed at the quick size, judged on validation images (the paper: a 6 × 6 grid on CIFAR)",
    "the last epoch is evaluated (no model selection on validation data, which the paper does)",
  ],
  criterionSource: "specs-01-22.md §9 PASS (design estimates) and issue 25 row 9 (the paired test), declared before any run",
  checks: CHECKS,
  negativeControl: {
    what: "the compander made the identity (a = b = 100 in both WC arms: Ψ(v) ≈ v at these weight scales, the same init and the same decay): wc_gain and wc_fewer_dead should fail; they would pass only if something other than Ψ's shape (the pipeline, the decay handling) made the difference",
    hparams: { a: 100, b: 100, learnA0: 100, learnB0: 100 },
  },
  seeds: { smoke: 1, quick: 1, full: 5 },
  needs: [fashionMnistNeed()],
  dataSource: "file",
  playFields: ["a", "b", "epochs", "nTrain"],
  hparams: {
    a: number(1, "compander scale a (fixed arm): |w| < aπ/2", { min: 0, max: 1000, minExclusive: true }),
    b: number(0.8, "compander width b (fixed arm)", { min: 0, max: 1000, minExclusive: true }),
    learnA0: number(0.5, "learned arm: initial a of every layer", { min: 0, max: 1000, minExclusive: true }),
    learnB0: number(1, "learned arm: initial b of every layer", { min: 0, max: 1000, minExclusive: true }),
    nTrain: integer(10000, "training images (a seeded subset of the training split)", { min: 256, max: 50000 }),
    evaluate: oneOf(["test", "validation"] as const, "test", "the evaluation split: the test split, or 10,000 training images outside the subset (for choosing a, b)"),
    width: integer(512, "hidden width (two hidden layers)", { min: 4, max: 4096 }),
    dropout: number(0.3, "dropout rate after each hidden layer", { min: 0, max: 0.9 }),
    weightDecay: number(5e-4, "weight decay λ (½λ‖·‖² in the loss)", { min: 0, max: 1 }),
    lr: number(0.05, "SGD learning rate", { min: 0, max: 10, minExclusive: true }),
    momentum: number(0.9, "SGD momentum", { min: 0, max: 1, maxExclusive: true }),
    batchSize: integer(128, "minibatch size", { min: 1, max: 100000 }),
    epochs: integer(30, "epochs", { min: 1, max: 1000 }),
  },
  validate: (h) => (h.batchSize <= h.nTrain ? [] : [{ key: "batchSize" as const, message: `is larger than the training subset (${h.nTrain})` }]),
  sizes: {
    smoke: { nTrain: 256, width: 16, epochs: 1, batchSize: 64 },
    quick: { epochs: 10 },
  },
  cost: { smoke: "~5 s", quick: "~82 s measured, with the control (1 seed, 10 epochs)", full: "~23 min of one core (5 seeds × 3 arms × 30 epochs, and the control; ≈ 45 s an arm)" },
  calibration: {
    seeds: [100, 101, 102],
    outcome:
      "(a, b) from a 3 × 3 grid on seed 100 at the quick size, judged on 10,000 validation images (baseline 0.8377): a = 0.5: 0.8365, 0.8375, 0.8360 (b = 0.6, 0.8, 1.0); a = 0.7: 0.8337, 0.8380, 0.8374; a = 1.0: 0.8183, 0.8457, 0.8416 → (1.0, 0.8); the learned arm 0.8456. Then quick on the test split: seed 101 FAIL (WC − baseline +0.55 points, but more dead weights: 0.126 against 0.110), seed 102 INCONCLUSIVE (the baseline's train − test gap 0.029 < 0.03 after 10 epochs; WC − baseline −0.99). The control (a = b = 100) moved test accuracy by +0.48 and −0.71 points against the baseline: one seed's difference is noise of about ±1 point, so the quick verdict is not informative and the paired test over 5 seeds at full size is the verdict of record",
  },

  async run(ctx): Promise<WcResults> {
    const h = ctx.hparams;
    const fm = loadFashionMnist();
    const roles = ["subset", "init", "data", "dropout"] as const;
    const k = roleKeys(ctx.seed, roles);
    const perm = permutationFromKey(k.subset, fm.train.y.length);
    const train = takeRows(fm.train, perm.subarray(0, h.nTrain));
    const evalSet = h.evaluate === "test" ? fm.test : takeRows(fm.train, perm.subarray(h.nTrain, h.nTrain + 10000));
    const dropSeed = (await k.dropout.data())[1] >>> 0;
    treeDispose([k.init, k.data]);
    const s: Settings = { width: h.width, lr: h.lr, momentum: h.momentum, weightDecay: h.weightDecay, dropout: h.dropout, batchSize: h.batchSize, epochs: h.epochs };
    // every arm from the same init and data keys (re-derived: a key is consumed by its use)
    const keys = () => {
      const r = roleKeys(ctx.seed, roles);
      treeDispose([r.subset, r.dropout]);
      return [r.init, r.data] as const;
    };
    const fixed: CompanderSpec = { a: h.a, b: h.b, learn: "none" };
    const learned: CompanderSpec = { a: h.learnA0, b: h.learnB0, learn: "layer" };
    const arms = {} as Record<ArmName, ArmResult>;
    for (const [name, comp] of [["baseline", null], ["wc", fixed], ["wc_learned", learned]] as const) {
      arms[name] = await ctx.phase(name, () => {
        const [ki, kd] = keys();
        return trainArm(ctx, name, train, evalSet, s, comp, ki, kd, dropSeed);
      });
    }
    return { evaluated_on: h.evaluate, a: h.a, b: h.b, bound: (h.a * Math.PI) / 2, arms };
  },

  figures(points: P[], v) {
    const ps = points.slice(0, 5);
    const first = ps[0]?.results;
    if (!first) return [];
    const names: ArmName[] = ["baseline", "wc", "wc_learned"];
    const acc = {
      kind: "bar" as const,
      title: `${first.evaluated_on} accuracy at the end`,
      xLabel: "seed",
      yLabel: "accuracy",
      groups: ps.map((p) => `seed ${p.seed}`),
      series: names.map((m) => ({ name: m, values: ps.map((p) => p.results.arms[m].final_eval) })),
      width: 420,
    };
    const hist = {
      kind: "bar" as const,
      title: `weights at the end (seed ${ps[0].seed}), share of each bin`,
      xLabel: "w / max|w|",
      yLabel: "fraction of weights",
      groups: first.arms.baseline.histogram.counts.map((_, i, c) => (-1 + (2 * (i + 0.5)) / c.length).toFixed(2)),
      series: names.map((m) => {
        const c = first.arms[m].histogram.counts;
        const total = c.reduce((a, b) => a + b, 0);
        return { name: m, values: c.map((x) => x / total) };
      }),
      width: 520,
    };
    return [{ name: "weight-compander", title: "Weight Compander against the same MLP without it", subtitle: v.verdict, panels: [acc, hist] }];
  },
});
