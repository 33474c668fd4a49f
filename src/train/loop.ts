/**
 * The training loop: full-batch or minibatch, deterministic shuffling from an explicit key, evaluation
 * and monitors on a log schedule, divergence detection on every step, and checkpoints that resume
 * bit-for-bit. Arrays stay inside: callers get numbers through `onLog` and host trees in checkpoints.
 */
import { DType, grad, jit, numpy as np, valueAndGrad, type Array } from "@jax-js/jax";
import { DivergenceError } from "../core/errors.ts";
import { keyFromData, keyFromSeed, keyToData, permutationFromKey, splitKey, type Key } from "../core/prng.ts";
import { checkResumeMatches } from "./checkpoint.ts";
import { packHostTree, treeDispose, treeFromHost, treeMap, treeRef, treeSignature, treeToHost, unpackHostTree, type PackedTree, type Tree } from "../core/tree.ts";
import type { Dataset } from "../data/dataset.ts";
import { numRows, takeRows } from "../data/dataset.ts";
import { applyUpdates, type GradientTransformation, type OptState } from "../optim/transform.ts";
import type { Monitor } from "./monitors.ts";
import { perExampleGradients } from "./perExample.ts";
import { logSteps, type LogSchedule } from "./schedule.ts";

/** Scalar training loss. Consumes params, x and y. Must be jit-safe (no data reads). */
/** The training loss of a batch; `key` (consumed) is given only when the config sets `stochastic` (dropout). */
export type LossFn<P extends Tree> = (params: P, x: Array, y: Array, key?: Key) => Array;
/** Named scalar metrics on one dataset. Consumes params, x and y. */
export type EvalFn<P extends Tree> = (params: P, x: Array, y: Array) => Record<string, Array>;

export type LogRecord = { step: number } & Record<string, number>;

export type TrainCheckpoint = {
  step: number;
  /** Exact float bytes, base64 (see packHostTree). */
  params: PackedTree;
  optState: PackedTree;
  /** Shuffling state: the data key, the current epoch's permutation and the position in it. */
  data: { key: number[]; perm: number[] | null; offset: number };
  /** Where it was read from (named in error messages; not written). */
  source?: string;
};

export type TrainConfig<P extends Tree> = {
  loss: LossFn<P>;
  optimizer: GradientTransformation;
  train: Dataset;
  /** Datasets evaluated at log steps; metrics are recorded as `${name}_${metric}`. */
  evalSets?: Record<string, Dataset>;
  evaluate?: EvalFn<P>;
  monitors?: Monitor[];
  /** Optimizer steps; or give `epochs` instead (steps = epochs × ⌊n / batchSize⌋). */
  steps?: number;
  epochs?: number;
  /** null: full batch. Otherwise minibatches of this size (last incomplete batch of an epoch dropped). */
  batchSize: number | null;
  log: LogSchedule;
  /** Key for minibatch shuffling (consumed; unused and disposed in full-batch mode). */
  key: Key;
  onLog?: (rec: LogRecord) => void | Promise<void>;
  onStep?: (step: number, loss: number) => void;
  checkpointEvery?: number;
  onCheckpoint?: (ck: TrainCheckpoint) => void | Promise<void>;
  /** Named in the divergence message. */
  settings?: Record<string, unknown>;
  /** Checked every step; true stops the loop after the current step (e.g. on SIGINT). */
  shouldStop?: () => boolean;
  /**
   * A stopping criterion checked on every log record (e.g. Jiang et al.'s "train until the training
   * cross-entropy reaches 0.01"): true ends training there as a normal finish (`criterionStep` says where).
   */
  stopWhen?: (rec: LogRecord) => boolean;
  /** false runs the step eagerly (STYLE.md: every step must also be correct without jit). */
  jit?: boolean;
  resume?: TrainCheckpoint;
  /** Called once `resume` has been checked against the model and the run (before the first step). */
  onResumed?: () => void;
  /** Continue from this optimizer state (consumed) instead of `optimizer.init(params)`: train, score, then continue. */
  optState?: OptState;
  /**
   * Host-side work on the parameters at chosen steps, after that step's update (step 0: before the first
   * step), e.g. the per-example dynamics logger at epoch ends. `run` consumes the params it is given and
   * must not change training: no PRNG draws from the loop's keys, no parameter updates.
   */
  stepHooks?: StepHook<P>[];
  /**
   * A random transform of every training batch before the step (mixup, augmentation): `apply(x, y, key)`
   * consumes x, y and the key and returns the batch the loss sees (targets may become soft [B, C] floats).
   * The key of step s is drawn from `seed` and s alone, so a resumed run transforms its batches exactly as
   * an uninterrupted one (nothing to checkpoint).
   */
  batchTransform?: BatchTransform;
  /**
   * A stochastic loss (dropout, stochastic depth): the loss gets a fresh key every step as its fourth
   * argument, drawn from `seed` and the step alone like a batch transform's (a resumed run draws the same
   * masks; nothing to checkpoint). Not supported with per-example-gradient optimizers.
   */
  stochastic?: { seed: number };
};

export type BatchTransform = { seed: number; apply(x: Array, y: Array, key: Key): { x: Array; y: Array } };

/** The key of step `step` of a batch transform with seed `seed` (an explicit seed: no state to checkpoint). */
export function stepKey(seed: number, step: number): Key {
  // a 32-bit mix of (seed, step) (Knuth's multiplicative hash and a xorshift), deterministic and well spread
  let h = (Math.imul(seed >>> 0, 2654435761) ^ Math.imul(step >>> 0, 2246822519)) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, 2246822519) >>> 0;
  h ^= h >>> 13;
  return keyFromSeed(h >>> 0);
}

export type StepHook<P extends Tree> = { steps: number[]; run(step: number, params: P): Promise<void> };

/** Vectors returned by monitors and evaluations are recorded element-wise as `name[i]`, up to this length. */
export const MAX_LOGGED_VECTOR = 4096;

/**
 * Let the host's event loop run (signal handlers, progress output, a browser's rendering). Awaiting
 * array data resolves through microtasks only, so a loop that never yields a macrotask would never see
 * SIGINT. setImmediate in Node, a zero timeout in browsers.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((done) => (typeof setImmediate === "function" ? setImmediate(done) : setTimeout(done, 0)));
}

/** Final parameters and optimizer state (both owned by the caller), so training can continue later. */
export type TrainResult<P extends Tree> = { params: P; optState: OptState; stepsDone: number; stopped: boolean; seconds: number; criterionStep: number | null };

export function toDevice(ds: Dataset): { x: Array; y: Array } {
  const x = np.array(ds.x as Float32Array<ArrayBuffer> | Int32Array<ArrayBuffer>, { shape: ds.xShape, dtype: ds.x instanceof Int32Array ? DType.Int32 : DType.Float32 });
  const yShape = ds.yShape ?? [ds.y.length];
  const y = ds.y instanceof Float32Array ? np.array(ds.y as Float32Array<ArrayBuffer>, { shape: yShape }) : np.array(ds.y as Int32Array<ArrayBuffer>, { shape: yShape, dtype: DType.Int32 });
  return { x, y };
}

/** Write a scalar or vector metric into a record: a vector of n values becomes `name[0]` … `name[n−1]`. */
export function putMetric(rec: Record<string, number>, name: string, values: ArrayLike<number>): void {
  if (values.length === 1) {
    rec[name] = values[0];
    return;
  }
  if (values.length > MAX_LOGGED_VECTOR) throw new RangeError(`metric ${name} has ${values.length} values (more than ${MAX_LOGGED_VECTOR} per logged step): save it as an array artifact instead`);
  for (let i = 0; i < values.length; i++) rec[`${name}[${i}]`] = values[i];
}

/** Total optimizer steps of a configuration: `steps`, or `epochs` full passes over n examples. */
export function stepsOf(cfg: { steps?: number; epochs?: number; batchSize: number | null }, n: number): number {
  if ((cfg.steps === undefined) === (cfg.epochs === undefined)) throw new RangeError("give exactly one of steps and epochs");
  if (cfg.steps !== undefined) return cfg.steps;
  const perEpoch = cfg.batchSize === null || cfg.batchSize >= n ? 1 : Math.floor(n / cfg.batchSize);
  return cfg.epochs! * perEpoch;
}

export async function train<P extends Tree>(initialParams: P, cfg: TrainConfig<P>): Promise<TrainResult<P>> {
  const t0 = performance.now();
  const n = numRows(cfg.train);
  const fullBatch = cfg.batchSize === null || cfg.batchSize >= n;
  if (!fullBatch && cfg.batchSize! < 1) throw new RangeError(`batchSize must be ≥ 1, got ${cfg.batchSize}`);
  const bs = fullBatch ? n : cfg.batchSize!;
  const totalSteps = stepsOf(cfg, n);
  const logAt = new Set(logSteps(totalSteps, cfg.log));
  const settings = cfg.settings ?? {};

  let params: P;
  let optState: OptState;
  let startStep = 0;
  let dataKey: Key;
  let perm: Int32Array | null = null;
  let offset = 0;
  if (cfg.resume) {
    // Check the checkpoint against this model and run before trusting (or disposing) anything.
    const template = cfg.optState ? null : cfg.optimizer.init(treeRef(initialParams));
    try {
      checkResumeMatches(cfg.resume, cfg.resume.source ?? "checkpoint", {
        params: treeSignature(initialParams, "params"),
        optState: treeSignature((cfg.optState ?? template)!, "optState"),
        totalSteps,
        n,
        fullBatch,
      });
    } catch (e) {
      treeDispose([initialParams, cfg.optState ?? [], cfg.key]);
      throw e;
    } finally {
      if (template) treeDispose(template);
    }
    cfg.onResumed?.();
    treeDispose(initialParams);
    if (cfg.optState) treeDispose(cfg.optState);
    cfg.key.dispose();
    params = treeFromHost(unpackHostTree(cfg.resume.params)) as P;
    optState = treeFromHost(unpackHostTree(cfg.resume.optState));
    startStep = cfg.resume.step;
    dataKey = keyFromData(cfg.resume.data.key);
    perm = cfg.resume.data.perm ? Int32Array.from(cfg.resume.data.perm) : null;
    offset = cfg.resume.data.offset;
  } else {
    params = initialParams;
    optState = cfg.optState ?? cfg.optimizer.init(treeRef(params));
    dataKey = cfg.key;
  }

  // An optimizer that aggregates per-example gradients itself (optim/robust.ts) gets them from
  // vmap(grad) of the loss on single examples; the logged loss is still the batch's mean loss.
  const perExample = (p: P, x: Array, y: Array): [Array, Tree] => [cfg.loss(treeRef(p), x.ref, y.ref), perExampleGradients(cfg.loss, p, x, y)];
  // A sharpness-aware optimizer (optim/sam.ts) gets the gradient at θ + ε(g, θ) on the same batch; the
  // logged loss is the loss at θ.
  const sharpnessAware = (p: P, x: Array, y: Array): [Array, Tree] => {
    const [loss, g] = valueAndGrad((pp: P) => cfg.loss(pp, x.ref, y.ref))(treeRef(p) as never) as unknown as [Array, Tree];
    const eps = cfg.optimizer.perturbation!(g, treeRef(p));
    const perturbed = treeMap((w, e) => w.add(e), p as Tree, eps) as P;
    return [loss, grad((pp: P) => cfg.loss(pp, x, y))(perturbed as never) as unknown as Tree];
  };
  if (cfg.stochastic && cfg.optimizer.perExample) {
    treeDispose([params, optState, dataKey]);
    throw new RangeError("a stochastic loss (dropout) is not supported with a per-example-gradient optimizer");
  }
  const stepFn = (p: P, s: OptState, x: Array, y: Array) => {
    const [loss, grads] = cfg.optimizer.perExample ? perExample(treeRef(p), x, y) : cfg.optimizer.perturbation ? sharpnessAware(treeRef(p), x, y) : valueAndGrad((pp: P) => cfg.loss(pp, x, y))(treeRef(p) as never);
    const [updates, s2] = cfg.optimizer.update(grads as Tree, s, treeRef(p));
    return [loss, applyUpdates(p, updates), s2] as [Array, P, OptState];
  };
  // the stochastic step: the same, with the loss closed over this step's key (each use takes a reference)
  const stochasticStepFn = (p: P, s: OptState, x: Array, y: Array, k: Key) => {
    const lossK = (pp: P, xx: Array, yy: Array) => cfg.loss(pp, xx, yy, k.ref);
    let out: [Array, Tree];
    if (cfg.optimizer.perturbation) {
      const [l, g] = valueAndGrad((pp: P) => lossK(pp, x.ref, y.ref))(treeRef(p) as never) as unknown as [Array, Tree];
      const eps = cfg.optimizer.perturbation(g, treeRef(p));
      const perturbed = treeMap((w, e) => w.add(e), p as Tree, eps) as P;
      out = [l, grad((pp: P) => lossK(pp, x, y))(perturbed as never) as unknown as Tree];
    } else out = valueAndGrad((pp: P) => lossK(pp, x, y))(treeRef(p) as never) as unknown as [Array, Tree];
    k.dispose();
    const [updates, s2] = cfg.optimizer.update(out[1], s, treeRef(p));
    return [out[0], applyUpdates(p, updates), s2] as [Array, P, OptState];
  };
  const step = cfg.stochastic ? (cfg.jit === false ? stochasticStepFn : jit(stochasticStepFn as never)) : cfg.jit === false ? stepFn : jit(stepFn as never);
  const evaluate = cfg.evaluate ? (cfg.jit === false ? cfg.evaluate : jit(cfg.evaluate as never)) : null;

  const fullTrain = fullBatch ? toDevice(cfg.train) : null;
  const evalDevice: Record<string, { x: Array; y: Array }> = {};
  for (const [name, ds] of Object.entries(cfg.evalSets ?? {})) evalDevice[name] = ds === cfg.train && fullTrain ? { x: fullTrain.x.ref, y: fullTrain.y.ref } : toDevice(ds);

  let lastFinite = startStep;
  let stopped = false;
  let criterionStep: number | null = null;
  let s = startStep;

  const nextBatch = (): { x: Array; y: Array } => {
    if (fullTrain) return { x: fullTrain.x.ref, y: fullTrain.y.ref };
    if (perm === null || offset + bs > n) {
      const [k1, k2] = splitKey(dataKey, 2);
      dataKey = k1;
      perm = permutationFromKey(k2, n);
      offset = 0;
    }
    const idx = perm.subarray(offset, offset + bs);
    offset += bs;
    return toDevice(takeRows(cfg.train, idx));
  };

  const record = async (stepNo: number, batchLoss: number | null) => {
    const rec: LogRecord = { step: stepNo } as LogRecord;
    if (batchLoss !== null) rec.batch_loss = batchLoss;
    if (evaluate) {
      for (const [name, d] of Object.entries(evalDevice)) {
        const m = (evaluate as EvalFn<P>)(treeRef(params), d.x.ref, d.y.ref);
        for (const [k, v] of Object.entries(m)) putMetric(rec, `${name}_${k}`, await v.data());
      }
    }
    for (const mon of cfg.monitors ?? []) {
      if (mon.measure) {
        const m = mon.measure(treeRef(params));
        for (const [k, v] of Object.entries(m)) putMetric(rec, k, await v.data());
      }
      if (mon.measureHost) for (const [k, v] of Object.entries(await mon.measureHost(treeRef(params)))) rec[k] = v;
    }
    for (const [k, v] of Object.entries(rec)) {
      if (!Number.isFinite(v)) throw new DivergenceError(stepNo, lastFinite, k, settings);
    }
    await cfg.onLog?.(rec);
    return rec;
  };

  const hooks = (cfg.stepHooks ?? []).map((h) => ({ at: new Set(h.steps), run: h.run }));
  const runHooks = async (stepNo: number) => {
    for (const h of hooks) if (h.at.has(stepNo)) await h.run(stepNo, treeRef(params));
  };

  let lastYield = performance.now();
  try {
    if (startStep === 0 && logAt.has(0)) await record(0, null);
    if (startStep === 0) await runHooks(0);
    for (s = startStep + 1; s <= totalSteps; s++) {
      const batch = nextBatch();
      const { x, y } = cfg.batchTransform ? cfg.batchTransform.apply(batch.x, batch.y, stepKey(cfg.batchTransform.seed, s)) : batch;
      const [loss, p2, s2] = cfg.stochastic ? (step as typeof stochasticStepFn)(params, optState, x, y, stepKey(cfg.stochastic.seed ^ 0x5bd1e995, s)) : (step as typeof stepFn)(params, optState, x, y);
      params = p2;
      optState = s2;
      const lossVal = (await loss.data())[0];
      if (!Number.isFinite(lossVal)) throw new DivergenceError(s, lastFinite, "the training loss", settings);
      let met = false;
      if (logAt.has(s)) {
        const rec = await record(s, lossVal);
        lastFinite = s;
        met = cfg.stopWhen?.(rec) ?? false;
      }
      await runHooks(s);
      // after the record, so that progress at step s shows step s's values
      cfg.onStep?.(s, lossVal);
      if (cfg.onCheckpoint && cfg.checkpointEvery && s % cfg.checkpointEvery === 0 && s < totalSteps) {
        await cfg.onCheckpoint(checkpointOf(s));
      }
      if (performance.now() - lastYield > 50) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
      if (met) {
        criterionStep = s;
        break;
      }
      if (cfg.shouldStop?.()) {
        stopped = s < totalSteps;
        if (cfg.onCheckpoint && stopped) await cfg.onCheckpoint(checkpointOf(s));
        break;
      }
    }
  } catch (e) {
    try {
      treeDispose(params);
      treeDispose(optState);
    } catch {
      // the failing step had already consumed them; keep the original error
    }
    throw e;
  } finally {
    dataKey.dispose();
    if (fullTrain) treeDispose([fullTrain.x, fullTrain.y]);
    for (const d of Object.values(evalDevice)) treeDispose([d.x, d.y]);
    if (step !== stepFn && step !== stochasticStepFn) (step as { dispose?: () => void }).dispose?.();
    if (evaluate && evaluate !== cfg.evaluate) (evaluate as { dispose?: () => void }).dispose?.();
  }
  return { params, optState, stepsDone: Math.min(s, totalSteps), stopped, seconds: (performance.now() - t0) / 1000, criterionStep };

  function checkpointOf(stepNo: number): TrainCheckpoint {
    return {
      step: stepNo,
      params: packHostTree(treeToHost(treeRef(params))),
      optState: packHostTree(treeToHost(treeRef(optState))),
      data: { key: keyToData(dataKey.ref), perm: perm ? globalThis.Array.from(perm) : null, offset },
    };
  }
}
