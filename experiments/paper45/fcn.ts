/**
 * Shared by paper 45's reproductions (extremeSimplicityBias.ts, noisySimplicityBias.ts, fashionConcatenation.ts):
 * slab data split into train and test under one rotation, and the fully connected ReLU network the paper trains (the official
 * `synth_models.get_fcn`: d → width × depth → 2, PyTorch's default init), trained by minibatch SGD with
 * per-epoch accuracy logs. Host side: only typed arrays and numbers leave this file.
 */
import type { Array as JArray } from "@jax-js/jax";
import { splitKey, type Key } from "../../src/core/prng.ts";
import { treeDispose, type Tree } from "../../src/core/tree.ts";
import { takeRows, type Dataset } from "../../src/data/dataset.ts";
import { slabData, type SlabSpec } from "../../src/data/slabs.ts";
import { applyMlp, initTorchLinear, mlpSpec, type MlpParams, type MlpSpec } from "../../src/nn/dense.ts";
import { accuracy, softmaxCrossEntropy } from "../../src/nn/losses.ts";
import { sgd } from "../../src/optim/aliases.ts";
import { predictProbs } from "../../src/scores/pipeline.ts";
import type { LogRecord } from "../../src/train/loop.ts";
import type { RunContext } from "../../src/declare/kit.ts";

/** Train and test rows of d features; `rotation` W when the rows are x = x₀W (slab data), else null. */
export type FcnSplit = { train: Dataset; test: Dataset; rotation: Float64Array | null; d: number };

/** nTrain + nTest rows of one slab distribution (one rotation for both), the first nTrain for training; consumes key. */
export function slabSplit(spec: Omit<SlabSpec, "n">, nTrain: number, nTest: number, key: Key): FcnSplit {
  const s = slabData({ ...spec, n: nTrain + nTest }, key);
  const rows = (from: number, n: number) => takeRows(s.data, Int32Array.from({ length: n }, (_, i) => from + i));
  return { train: rows(0, nTrain), test: rows(nTrain, nTest), rotation: s.rotation, d: spec.d };
}

export type FcnSettings = { width: number; depth: number; lr: number; momentum: number; weightDecay: number; batchSize: number; epochs: number };

/** The paper's FCN: d → width (× depth, ReLU) → 2, unpadded. */
export function fcnSpec(d: number, width: number, depth: number): MlpSpec {
  return mlpSpec({ dims: [d, ...Array.from({ length: depth }, () => width), 2], activation: "relu", padTo: 1 });
}

export type FcnRun = {
  /** One record per epoch (step = epochs × steps per epoch), with the accuracies of the evaluated sets. */
  history: LogRecord[];
  epochs: number;
  /** The epoch at which `stopAt` was reached (null: never). */
  stoppedAt: number | null;
  seconds: number;
  /** Logit difference l₁ − l₀ of any rows (n × d): the classifier's score for class 1. */
  score: (x: Float32Array, n: number) => Promise<Float32Array>;
  dispose: () => void;
};

/**
 * Train the FCN on `split.train` by SGD (cross-entropy, minibatches reshuffled every epoch), logging the accuracy of
 * `evalSets` after every epoch; `stopAt` ends training once train accuracy reaches it (the paper's "until train
 * accuracy ≥ 99.9%"; needs a `train` eval set). Consumes key. The caller disposes the returned scorer.
 */
export async function trainFcn(ctx: RunContext, name: string, split: FcnSplit, f: FcnSettings, evalSets: Record<string, Dataset>, key: Key, stopAt?: number): Promise<FcnRun> {
  if (stopAt !== undefined && !evalSets.train) {
    key.dispose();
    throw new Error("trainFcn: stopping on train accuracy needs a train eval set");
  }
  const spec = fcnSpec(split.d, f.width, f.depth);
  const [kInit, kData] = splitKey(key, 2);
  const perEpoch = Math.floor(split.train.y.length / f.batchSize);
  const out = await ctx.train<MlpParams>({
    name,
    params: initTorchLinear(spec, kInit),
    loss: (p, x, y) => softmaxCrossEntropy(applyMlp(spec, p, x), y),
    evaluate: (p, x, y: JArray) => ({ acc: accuracy(applyMlp(spec, p, x), y) }),
    evalSets,
    optimizer: sgd(f.lr, { momentum: f.momentum, weightDecay: f.weightDecay }),
    train: split.train,
    epochs: f.epochs,
    batchSize: f.batchSize,
    key: kData,
    log: { every: perEpoch, perDecade: 0 },
    ...(stopAt !== undefined ? { stopWhen: (r: LogRecord) => (r.train_acc as number) >= stopAt } : {}),
    progressKeys: Object.keys(evalSets).map((s) => `${s}_acc`),
  });
  treeDispose(out.optState);
  const params = out.params;
  const apply = (p: Tree, x: JArray) => applyMlp(spec, p as MlpParams, x);
  const history = out.history.filter((r) => r.step > 0);
  return {
    history,
    epochs: Math.round(out.steps / perEpoch),
    stoppedAt: out.criterionStep === null ? null : Math.round(out.criterionStep / perEpoch),
    seconds: out.seconds,
    async score(x, n) {
      const lg = await predictProbs(apply, params, { x, xShape: [n, split.d], y: new Int32Array(n), numClasses: 2 }, 5000, { logits: true });
      return Float32Array.from({ length: n }, (_, i) => lg[2 * i + 1] - lg[2 * i]);
    },
    dispose: () => treeDispose(params),
  };
}

/** Accuracy of the sign of a score (> 0: class 1) against 0/1 labels. */
export function scoreAccuracy(score: ArrayLike<number>, y: ArrayLike<number>): number {
  let ok = 0;
  for (let i = 0; i < y.length; i++) ok += (score[i] > 0 ? 1 : 0) === y[i] ? 1 : 0;
  return ok / y.length;
}

/** Logit-difference histograms of the test rows as given and with S and Sᶜ randomised, on one symmetric range. */
export type LogitHistograms = { lo: number; hi: number; standard: number[]; s_rand: number[]; sc_rand: number[] };

export function logitHistograms(standard: ArrayLike<number>, sRand: ArrayLike<number>, scRand: ArrayLike<number>, bins = 40): LogitHistograms {
  let lim = 1e-6;
  for (const a of [standard, sRand, scRand]) for (let i = 0; i < a.length; i++) lim = Math.max(lim, Math.abs(a[i]));
  return { lo: -lim, hi: lim, standard: histogram(standard, -lim, lim, bins), s_rand: histogram(sRand, -lim, lim, bins), sc_rand: histogram(scRand, -lim, lim, bins) };
}

/** The figure panel of `logitHistograms` (seed named in the title; `names`: the three series). */
export function logitHistogramPanel(h: LogitHistograms, seed: number, rows: string, names: [string, string, string]) {
  return {
    kind: "bar" as const,
    title: `logit difference on test (seed ${seed})`,
    xLabel: "l₁ − l₀",
    yLabel: rows,
    groups: h.standard.map((_, i) => (h.lo + ((i + 0.5) * (h.hi - h.lo)) / h.standard.length).toFixed(1)),
    series: [
      { name: names[0], values: h.standard },
      { name: names[1], values: h.s_rand },
      { name: names[2], values: h.sc_rand },
    ],
    width: 520,
  };
}

/** Histogram counts of xs over [lo, hi] in `bins` equal bins (values outside clamp to the end bins). */
export function histogram(xs: ArrayLike<number>, lo: number, hi: number, bins: number): number[] {
  const h = new Array<number>(bins).fill(0);
  for (let i = 0; i < xs.length; i++) h[Math.max(0, Math.min(bins - 1, Math.floor(((xs[i] - lo) / (hi - lo)) * bins)))]++;
  return h;
}
