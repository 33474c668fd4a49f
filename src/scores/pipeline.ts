/**
 * Every data score of a labelled dataset from one declared job: the trainings they need, run with the
 * per-example dynamics logger, and the scores computed from what was logged.
 *
 *   dynamics runs (R)   full-data trainings logging every example every epoch → EL2N and GraNd at an early
 *                       epoch (Paul et al. 2021), forgetting (Toneva et al. 2019), AUM (Pleiss et al. 2020),
 *                       cartography (Swayamdipta et al. 2020), each averaged over the R runs
 *   K-fold cross-fit    out-of-sample predicted probabilities for confident learning (Northcutt et al. 2021):
 *                       never the training fit's own predictions
 *   subset runs (M)     models on random 70% subsets → the Feldman–Zhang memorization estimate with its
 *                       standard error
 *
 * Host arrays out; used by `genlab scores` and `genlab issues` (cli/) and by experiments. Deterministic for a
 * seed. `onProgress(done, total, label)` counts epochs of training (fractions within an epoch).
 */
import { jit, nn, numpy as np, type Array } from "@jax-js/jax";
import { nativeMatmul } from "../core/jax.ts";
import { permutationFromKey, roleKeys, splitKey, type Key } from "../core/prng.ts";
import { treeDispose, treeRef, type Tree } from "../core/tree.ts";
import { numRows, takeRows, type Dataset } from "../data/dataset.ts";
import { softmaxCrossEntropy } from "../nn/losses.ts";
import { adam, sgd } from "../optim/aliases.ts";
import { train, type StepHook } from "../train/loop.ts";
import { aum } from "./aum.ts";
import { cartography } from "./cartography.ts";
import { findLabelIssues, selfConfidence } from "./confidentLearning.ts";
import { averageDynamics, dynamicsAtEpoch, dynamicsRecorder, forgettingOf, stepsPerEpoch, type Dynamics } from "./dynamics.ts";
import { PER_EXAMPLE_QUANTITIES } from "./perExample.ts";
import { memorizationEstimate, memorizationProxy, subsetMasks } from "./memorization.ts";
import type { ClassifierModel } from "./models.ts";

export const SCORE_IDS = ["el2n", "grand", "forgetting", "aum", "cartography", "margin", "loss", "cl", "memorization"] as const;
export type ScoreId = (typeof SCORE_IDS)[number];
/** The scores computed from per-epoch outputs alone (no gradient, no extra training): what logged dynamics give. */
export const OUTPUT_SCORE_IDS = ["el2n", "forgetting", "aum", "cartography", "margin", "loss"] as const satisfies readonly ScoreId[];
/** The scores computed from a run's dynamics (the logger's [epochs × examples] arrays). */
const DYNAMICS_SCORE_IDS: readonly ScoreId[] = [...OUTPUT_SCORE_IDS, "grand"];

export type TrainRecipe = { epochs: number; batchSize: number; lr: number; optimizer: "sgd" | "adam"; momentum: number; weightDecay: number };

export type ScoreJob = {
  model: ClassifierModel;
  data: Dataset;
  scores: ScoreId[];
  recipe: TrainRecipe;
  /** Dynamics runs averaged (default 1). */
  runs: number;
  /** Subset models for memorization (default 16) and their subset fraction (0.7, Feldman & Zhang). */
  memRuns?: number;
  memFraction?: number;
  /** Folds of the cross-fit (default 5). */
  folds?: number;
  /** The epoch EL2N and GraNd are read at (default min(2, epochs), Data Diet's early scores). */
  scoreEpoch?: number;
  seed: number;
  onProgress?: (done: number, total: number, label: string) => void;
  shouldStop?: () => boolean;
  /**
   * Where finished trainings are kept so that an interrupted job resumes (the CLI: a folder beside the
   * output). Each training draws from its own key, so skipping the finished ones leaves the others — and the
   * result — exactly as an uninterrupted job's.
   */
  cache?: TrainingCache;
};

/** Host arrays by name: what each finished training left (its dynamics, its fold's predictions, its outcomes). */
export type TrainingCache = { get(name: string): Float32Array | null; put(name: string, data: Float32Array): void };

export type Column = { name: string; values: Float64Array | Int32Array | Uint8Array | Float32Array; doc: string };

export type ScoreResult = {
  columns: Column[];
  /** Per-run dynamics (when dynamics runs were needed). */
  dynamics: Dynamics[];
  /** Out-of-sample probabilities [N × C] (when the cross-fit ran). */
  oosProbs: Float32Array | null;
  info: Record<string, number>;
};

/** What a job will cost, computed from its sizes before anything runs (`genlab scores`/`issues` print it). */
export type ScoreJobPlan = {
  trainings: number;
  epochs: number;
  bytes: { data: number; model: number; dynamics: number; predictions: number; total: number };
  gflop: number;
  /** Optimizer steps over all trainings, and batched evaluations (the logger's and the predictions'). */
  steps: number;
  evaluations: number;
  /** Estimated seconds on one core of the calibrated machine, with the backend it assumes (see SCORE_COSTS). */
  seconds: number;
  backend: keyof typeof SCORE_COSTS;
};

/**
 * The cost model of a scoring job: seconds ≈ fixedS + GFLOP / gflops + steps × stepMs/1000 + evaluations ×
 * evalMs/1000, fitted by least squares (`node --import tsx scripts/score-costs.ts --backend …`) to `genlab
 * scores` runs of 9 sizes (step-bound, arithmetic-bound, dispatch-bound, the cross-fit, memorization subsets,
 * GraNd) on this project's reference machine (2-core x86-64, Node 20, one thread, 2026-12-06, another job on
 * the second core). The fit's estimate / measured ratio was 0.87–1.33 (native) and 0.65–1.48 (wasm) across
 * those runs. A faster or slower
 * machine scales every term alike; the progress line's ETA, measured on the steps already run, replaces the
 * estimate once work starts.
 */
export const SCORE_COSTS = {
  native: { fixedS: 1.4, gflops: 23, stepMs: 0.8, evalMs: 2.2 },
  wasm: { fixedS: 0.9, gflops: 19, stepMs: 0.6, evalMs: 6.3 },
} as const;

/**
 * The job's plan: the trainings it runs and an estimate of its peak host memory (the data and its engine copy,
 * the parameters with their gradients and optimizer state, the logged dynamics [runs × (E + 1) × N × 6], the
 * predictions and memorization outcomes, the per-example measure's batch) and of its arithmetic (a training
 * step ≈ 6 FLOPs per parameter per example, the logger ≈ 4, a prediction 2). An estimate, stated as one.
 */
export function planScoreJob(job: Pick<ScoreJob, "model" | "data" | "scores" | "recipe" | "runs" | "memRuns" | "folds" | "memFraction">, backend: keyof typeof SCORE_COSTS = nativeMatmul() ? "native" : "wasm"): ScoreJobPlan {
  const want = new Set(job.scores);
  const n = numRows(job.data);
  const d = job.data.xShape.slice(1).reduce((a, b) => a * b, 1);
  const c = job.data.numClasses;
  const E = job.recipe.epochs;
  const P = job.model.numParams;
  const runs = DYNAMICS_SCORE_IDS.some((x) => want.has(x)) ? job.runs : 0;
  const folds = want.has("cl") ? (job.folds ?? 5) : 0;
  const memRuns = want.has("memorization") ? (job.memRuns ?? 16) : 0;
  const trainings = runs + folds + memRuns;
  const data = 2 * n * d * 4;
  const model = 4 * P * 4 + job.model.measureBatch * Math.max(P, d) * 4;
  const dynamics = runs * (E + 1) * n * 6 * 4;
  const predictions = (folds ? 2 * n * c * 4 : 0) + memRuns * n * 5;
  const frac = job.memFraction ?? 0.7;
  // examples trained on: each dynamics run all n, each fold (K − 1)/K of them, each memorization model a fraction;
  // predicted: each fold its held-out n/K, each memorization model all n
  const trained = runs * n + (folds ? (folds - 1) * n : 0) + memRuns * frac * n;
  const predicted = (folds ? n : 0) + memRuns * n;
  const gflop = (E * trained * 6 * P + runs * (E + 1) * n * 4 * P + predicted * 2 * P) / 1e9;
  const b = job.recipe.batchSize;
  const steps = E * (runs * stepsPerEpoch(n, b) + folds * stepsPerEpoch(Math.round((n * (folds - 1)) / Math.max(1, folds)), b) + memRuns * stepsPerEpoch(Math.round(frac * n), b));
  const mb = job.model.measureBatch;
  const evaluations = runs * (E + 1) * Math.ceil(n / mb) + folds * Math.ceil(n / Math.max(1, folds) / 2000) + memRuns * Math.ceil(n / 2000);
  const k = SCORE_COSTS[backend];
  const seconds = k.fixedS + gflop / k.gflops + (steps * k.stepMs + evaluations * k.evalMs) / 1000;
  return { trainings, epochs: E, bytes: { data, model, dynamics, predictions, total: data + model + dynamics + predictions }, gflop, steps, evaluations, seconds, backend };
}

/** Stopped on request (Ctrl-C): the command leaves no output behind. */
export class ScoreJobStopped extends Error {
  constructor() {
    super("stopped on request");
  }
}

function optimizerOf(r: TrainRecipe) {
  return r.optimizer === "adam" ? adam(r.lr, { weightDecay: r.weightDecay }) : sgd(r.lr, { momentum: r.momentum, weightDecay: r.weightDecay });
}

/** Softmax probabilities [N × C] of a model on a dataset, in batches (`logits: true`: the raw outputs). Params are only read. */
export async function predictProbs(apply: (p: Tree, x: Array) => Array, params: Tree, data: Dataset, batch = 2000, opts: { logits?: boolean } = {}): Promise<Float32Array> {
  const n = numRows(data);
  const d = data.xShape.slice(1).reduce((a, b) => a * b, 1);
  const f = jit((p: Tree, x: Array) => (opts.logits ? apply(p, x) : nn.softmax(apply(p, x), -1))) as unknown as ((p: Tree, x: Array) => Array) & { dispose(): void };
  let out: Float32Array | null = null;
  try {
    for (let s = 0; s < n; s += batch) {
      const e = Math.min(n, s + batch);
      const xb = np.array((data.x as Float32Array<ArrayBuffer>).subarray(s * d, e * d), { shape: [e - s, ...data.xShape.slice(1)] });
      const p = (await f(treeRef(params), xb).data()) as Float32Array;
      const c = p.length / (e - s);
      out ??= new Float32Array(n * c);
      out.set(p, s * c);
    }
  } finally {
    f.dispose();
  }
  return out!;
}

/** Stratified K folds from a key (consumed): fold[i] ∈ 0..K−1, each class spread evenly. */
export function stratifiedFolds(labels: ArrayLike<number>, k: number, key: Key): Int32Array {
  const n = labels.length;
  const perm = permutationFromKey(key, n);
  const next = new Map<number, number>();
  const fold = new Int32Array(n);
  for (const i of perm) {
    const c = labels[i];
    const f = next.get(c) ?? 0;
    fold[i] = f;
    next.set(c, (f + 1) % k);
  }
  return fold;
}

/**
 * Train one model on `data` for the recipe's epochs (a step hook may log dynamics). Returns the final params
 * (the caller disposes them). Progress in epochs.
 */
async function fit(job: ScoreJob, data: Dataset, key: Key, label: string, base: number, total: number, hooks: StepHook<Tree>[] = []): Promise<Tree> {
  const [kInit, kData] = splitKey(key, 2);
  const spe = stepsPerEpoch(numRows(data), job.recipe.batchSize);
  const r = await train<Tree>(job.model.init(kInit), {
    loss: (p, x, y) => softmaxCrossEntropy(job.model.apply(p, x), y),
    optimizer: optimizerOf(job.recipe),
    train: data,
    epochs: job.recipe.epochs,
    batchSize: job.recipe.batchSize,
    key: kData,
    log: { every: 0, perDecade: 0 },
    stepHooks: hooks,
    onStep: (s) => job.onProgress?.(base + s / spe, total, label),
    shouldStop: job.shouldStop,
  });
  treeDispose(r.optState);
  if (r.stopped) {
    treeDispose(r.params);
    throw new ScoreJobStopped();
  }
  return r.params;
}

/** Top-1 accuracy of row-major [n, c] probabilities against labels (ties: the first class). */
export function accuracyOfProbs(probs: Float32Array, labels: ArrayLike<number>, c: number): number {
  return correctnessOf(probs, labels, c).reduce((a, b) => a + b, 0) / labels.length;
}

/** Correctness (0/1) of a model on every row of a dataset. */
function correctnessOf(probs: Float32Array, labels: ArrayLike<number>, c: number): Float32Array {
  return Float32Array.from({ length: labels.length }, (_, i) => {
    let a = 0;
    for (let j = 1; j < c; j++) if (probs[i * c + j] > probs[i * c + a]) a = j;
    return a === labels[i] ? 1 : 0;
  });
}

/**
 * The score columns of one or more runs' dynamics (each score averaged over the runs): EL2N and GraNd at
 * `scoreEpoch`, margin and loss at `lastEpoch`, forgetting, AUM and cartography over the epochs ≥ 1. The one
 * place these columns are made: genlab's own trainings and a user's logged outputs (scores/logged.ts) alike.
 */
export function dynamicsColumns(dynamics: Dynamics[], want: ReadonlySet<ScoreId>, scoreEpoch: number, lastEpoch: number): { columns: Column[]; info: Record<string, number> } {
  const n = dynamics[0].n;
  const runs = dynamics.length;
  const columns: Column[] = [];
  const avg = averageDynamics(dynamics);
  const mean = (f: (d: Dynamics) => ArrayLike<number>) => {
    const out = new Float64Array(n);
    for (const d of dynamics) {
      const v = f(d);
      for (let i = 0; i < n; i++) out[i] += v[i] / runs;
    }
    return out;
  };
  if (want.has("el2n")) columns.push({ name: "el2n", values: Float64Array.from(dynamicsAtEpoch(avg, "el2n", scoreEpoch)), doc: `EL2N at epoch ${scoreEpoch}, mean of ${runs} run(s) (Paul et al. 2021)` });
  if (want.has("grand")) columns.push({ name: "grand", values: Float64Array.from(dynamicsAtEpoch(avg, "grad_norm", scoreEpoch)), doc: `GraNd (full-parameter gradient norm) at epoch ${scoreEpoch}, mean of ${runs} run(s)` });
  if (want.has("forgetting")) columns.push({ name: "forgetting", values: mean(forgettingOf), doc: `forgetting events over epochs 1..${lastEpoch} (never learned = the number of epochs), mean over runs (Toneva et al. 2019)` });
  if (want.has("aum")) columns.push({ name: "aum", values: mean(aum), doc: `area under the logit margin over epochs 1..${lastEpoch}, mean over runs (Pleiss et al. 2020); low = suspicious` });
  if (want.has("cartography")) {
    const carts = dynamics.map((d) => cartography(d));
    for (const k of ["confidence", "variability", "correctness"] as const) {
      const out = new Float64Array(n);
      for (const ct of carts) for (let i = 0; i < n; i++) out[i] += ct[k][i] / carts.length;
      columns.push({ name: `cartography_${k}`, values: out, doc: `data-map ${k} over epochs 1..${lastEpoch} (Swayamdipta et al. 2020), mean over runs` });
    }
  }
  if (want.has("margin")) columns.push({ name: "margin", values: Float64Array.from(dynamicsAtEpoch(avg, "margin", lastEpoch)), doc: `logit margin z_y − max_{k≠y} z_k at epoch ${lastEpoch}, mean of ${runs} run(s)` });
  if (want.has("loss")) columns.push({ name: "loss", values: Float64Array.from(dynamicsAtEpoch(avg, "loss", lastEpoch)), doc: `per-example cross-entropy at epoch ${lastEpoch}, mean of ${runs} run(s)` });
  const info = { train_accuracy_final: dynamicsAtEpoch(avg, "correct", lastEpoch).reduce((a, b) => a + b, 0) / n };
  return { columns, info };
}

export async function runScoreJob(job: ScoreJob): Promise<ScoreResult> {
  const want = new Set(job.scores);
  const n = numRows(job.data);
  const c = job.data.numClasses;
  const y = job.data.y as Int32Array;
  const E = job.recipe.epochs;
  const needDynamics = DYNAMICS_SCORE_IDS.some((s) => want.has(s));
  const runs = needDynamics ? job.runs : 0;
  const folds = want.has("cl") ? (job.folds ?? 5) : 0;
  const memRuns = want.has("memorization") ? (job.memRuns ?? 16) : 0;
  const total = (runs + folds + memRuns) * E;
  const scoreEpoch = Math.min(job.scoreEpoch ?? 2, E);
  const keys = roleKeys(job.seed, ["dynamics", "folds", "foldSplit", "memorization", "masks"]);
  const columns: Column[] = [];
  const info: Record<string, number> = {};
  let done = 0;

  // 1. dynamics runs
  const dynamics: Dynamics[] = [];
  const runKeys = runs ? splitKey(keys.dynamics, runs) : (keys.dynamics.dispose(), []);
  for (let r = 0; r < runs; r++) {
    const cachedEpochs = job.cache?.get(`dynamics${r}_epochs`);
    if (cachedEpochs) {
      const values: Dynamics["values"] = {};
      for (const q of PER_EXAMPLE_QUANTITIES) {
        const v = job.cache!.get(`dynamics${r}_${q}`);
        if (v) values[q] = v;
      }
      dynamics.push({ epochs: globalThis.Array.from(cachedEpochs), n, values });
      runKeys[r].dispose();
      done += E;
      job.onProgress?.(done, total, `dynamics run ${r + 1}/${runs} (resumed)`);
      continue;
    }
    const rec = dynamicsRecorder<Tree>({ measure: job.model.measure, data: job.data, epochs: globalThis.Array.from({ length: E + 1 }, (_, e) => e), stepsPerEpoch: stepsPerEpoch(n, job.recipe.batchSize), batch: job.model.measureBatch });
    try {
      const params = await fit(job, job.data, runKeys[r], `dynamics run ${r + 1}/${runs}`, done, total, [rec.hook]);
      treeDispose(params);
    } finally {
      rec.dispose();
    }
    const dy = rec.dynamics();
    for (const [q, v] of Object.entries(dy.values)) job.cache?.put(`dynamics${r}_${q}`, v!);
    job.cache?.put(`dynamics${r}_epochs`, Float32Array.from(dy.epochs));
    dynamics.push(dy);
    done += E;
  }
  if (runs) {
    const d = dynamicsColumns(dynamics, want, scoreEpoch, E);
    columns.push(...d.columns);
    Object.assign(info, d.info);
  }

  // 2. K-fold cross-fit: out-of-sample probabilities
  let oos: Float32Array | null = null;
  if (folds) {
    const fold = stratifiedFolds(y, folds, keys.foldSplit);
    const foldKeys = splitKey(keys.folds, folds);
    oos = new Float32Array(n * c);
    for (let k = 0; k < folds; k++) {
      const inIdx: number[] = [];
      const outIdx: number[] = [];
      for (let i = 0; i < n; i++) (fold[i] === k ? outIdx : inIdx).push(i);
      let p = job.cache?.get(`fold${k}`) ?? null;
      if (p) foldKeys[k].dispose();
      else {
        const params = await fit(job, takeRows(job.data, inIdx), foldKeys[k], `cross-fit fold ${k + 1}/${folds}`, done, total);
        p = await predictProbs(job.model.apply, params, takeRows(job.data, outIdx));
        treeDispose(params);
        job.cache?.put(`fold${k}`, p);
      }
      outIdx.forEach((i, r) => oos!.set(p.subarray(r * c, (r + 1) * c), i * c));
      done += E;
    }
    const probs = { data: oos, n, c };
    columns.push({ name: "cl_self_confidence", values: selfConfidence(y, probs), doc: `out-of-sample p(given label), ${folds}-fold cross-fit (confident learning's label-quality score; low = suspicious)` });
    const flags = findLabelIssues(y, probs);
    columns.push({ name: "cl_label_issue", values: flags, doc: "confident learning's label issue flag (prune_by_noise_rate, Northcutt et al. 2021)" });
    info.cl_flagged = flags.reduce((a, b) => a + b, 0);
    info.oos_accuracy = accuracyOfProbs(oos, y, c);
    if (runs) {
      const pIn = dynamicsAtEpoch(averageDynamics(dynamics), "p_true", E);
      columns.push({ name: "memorization_proxy", values: memorizationProxy(pIn, selfConfidence(y, probs)), doc: "PROXY, not the estimator: p(label) of the full-data fit minus the out-of-fold p(label)" });
    }
  } else {
    keys.folds.dispose();
    keys.foldSplit.dispose();
  }

  // 3. memorization by subset retraining
  if (memRuns) {
    const frac = job.memFraction ?? 0.7;
    const masks = subsetMasks(n, memRuns, frac, keys.masks);
    const mKeys = splitKey(keys.memorization, memRuns);
    const outcomes: Float32Array[] = [];
    for (let k = 0; k < memRuns; k++) {
      const idx: number[] = [];
      for (let i = 0; i < n; i++) if (masks[k][i]) idx.push(i);
      const cached = job.cache?.get(`memorization${k}`) ?? null;
      if (cached) {
        mKeys[k].dispose();
        outcomes.push(cached);
      } else {
        const params = await fit(job, takeRows(job.data, idx), mKeys[k], `memorization model ${k + 1}/${memRuns}`, done, total);
        const o = correctnessOf(await predictProbs(job.model.apply, params, job.data), y, c);
        treeDispose(params);
        job.cache?.put(`memorization${k}`, o);
        outcomes.push(o);
      }
      done += E;
    }
    const est = memorizationEstimate(masks, outcomes);
    columns.push({ name: "memorization", values: est.value, doc: `Feldman–Zhang memorization: P(correct | in) − P(correct | out) over ${memRuns} models on ${Math.round(frac * 100)}% subsets` });
    columns.push({ name: "memorization_se", values: est.se, doc: "its standard error √(s²_in/K_in + s²_out/K_out) (NaN: fewer than 2 models on a side)" });
    columns.push({ name: "memorization_k_in", values: est.kIn, doc: "models that trained on the example" });
    columns.push({ name: "memorization_k_out", values: est.kOut, doc: "models that held it out" });
    const ses = globalThis.Array.from(est.se).filter(Number.isFinite).sort((a, b) => a - b);
    info.memorization_se_median = ses.length ? ses[Math.floor(ses.length / 2)] : NaN;
  } else {
    keys.memorization.dispose();
    keys.masks.dispose();
  }
  job.onProgress?.(total, total, "done");
  return { columns, dynamics, oosProbs: oos, info };
}
