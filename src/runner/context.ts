/**
 * The run context every experiment receives (`ctx`), built on a sink that persists what it produces.
 * The CLI's sink writes run folders and the store (run.ts); the in-browser runner's keeps everything in
 * the page (web/play.ts). One contract, so an experiment runs unchanged in both. Browser-safe: no fs.
 */
import { GenlabError } from "../core/errors.ts";
import { treeDispose, type Tree } from "../core/tree.ts";
import { logSteps } from "../train/schedule.ts";
import { numRows } from "../data/dataset.ts";
import { stepsOf, train, type LogRecord, type TrainCheckpoint } from "../train/loop.ts";
import { dynamicsRecorder, stepsPerEpoch, truncateDynamics, type Dynamics } from "../scores/dynamics.ts";
import { PER_EXAMPLE_QUANTITIES } from "../scores/perExample.ts";
import { MAIN_PHASE, type ArrayInfo, type CtxTrainConfig, type DynamicsConfig, type HostNdArray, type Json, type MetricRow, type RunContext, type Size } from "../declare/experiment.ts";
import type { Values } from "../declare/schema.ts";

/**
 * A phase's result is stored as JSON and a resumed run reads it back: it must be made of numbers, strings,
 * booleans, null, arrays and plain objects (a typed array, a Map, a class instance or a function would come
 * back as something else, and the resumed run would differ). Checked when the phase ends.
 */
export function assertJsonShaped(v: unknown, where: string, path = "result"): void {
  if (v === null || typeof v === "number" || typeof v === "string" || typeof v === "boolean") return;
  if (Array.isArray(v)) {
    v.forEach((x, i) => assertJsonShaped(x, where, `${path}[${i}]`));
    return;
  }
  if (typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    for (const [k, x] of Object.entries(v)) if (x !== undefined) assertJsonShaped(x, where, `${path}.${k}`);
    return;
  }
  const kind = typeof v === "object" ? ((v as object).constructor?.name ?? "object") : typeof v;
  throw new Error(`${where}: ${path} is a ${kind}, which does not survive JSON (a resumed run would read back something else); return plain numbers, strings, arrays and objects (ctx.saveArray for arrays)`);
}

/** Thrown out of `ctx.train` / `ctx.phase` when the user asked to stop; the runner marks the run interrupted. */
export class StopRequested extends Error {
  constructor() {
    super("stopped on request");
  }
}

export interface RunSink {
  writeRow(row: MetricRow): void;
  readCheckpoint(name: string): TrainCheckpoint | undefined;
  /** The checkpoint `readCheckpoint(name)` gave was checked against the model: the resume is good so far. */
  resumed?(name: string): void;
  writeCheckpoint(name: string, ck: TrainCheckpoint): void;
  /** A phase finished: `done` (shared with the context) now holds its result. */
  phaseDone(name: string): void;
  saveArray(name: string, data: HostNdArray["data"], shape: number[]): void;
  loadArray(name: string): HostNdArray;
}

export type ContextOptions = {
  experiment: string;
  hparams: Values;
  settings: Values;
  seed: number;
  size: Size;
  /** Rows already recorded (a resumed run's); the context appends to it. */
  metrics: MetricRow[];
  /** Results of finished phases (a resumed run's); the context adds to it. */
  done: Record<string, Json>;
  sink: RunSink;
  shouldStop(): boolean;
  onProgress(done: number, total: number, label: string, extra?: Record<string, number>): void;
  /** Checkpoint every k steps (0: only on stop). */
  checkpointEvery?: number;
};

const ARRAY_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

/** An array-name-safe prefix from a training's name ("score/run0" → "score_run0"). */
export const arrayPrefix = (name: string) => name.replace(/[^A-Za-z0-9_.-]/g, "_").replace(/^[^A-Za-z0-9]+/, "") || "dyn";

/**
 * The runner's side of the dynamics logger: a step hook at the end of each chosen epoch that measures every
 * example (jitted once), the record so far (restored from the saved arrays on resume, cut back to the
 * checkpoint's step), and `save` (called before each checkpoint and at the end).
 */
function dynamicsLogger<P extends Tree>(dyn: DynamicsConfig<P>, cfg: CtxTrainConfig<P>, name: string, total: number, resumeStep: number, sink: RunSink) {
  const data = dyn.data ?? cfg.train;
  const perEpoch = stepsPerEpoch(numRows(cfg.train), cfg.batchSize);
  const epochsTotal = Math.floor(total / perEpoch);
  const epochs = (dyn.epochs ?? Array.from({ length: epochsTotal + 1 }, (_, e) => e)).filter((e) => e <= epochsTotal);
  const prefix = dyn.save === false ? null : arrayPrefix(dyn.save ?? (name === MAIN_PHASE ? "dyn" : name));
  let rec: Dynamics = { epochs: [], n: numRows(data), values: {} };
  if (resumeStep > 0) {
    const want = epochs.filter((e) => e * perEpoch <= resumeStep);
    if (want.length > 0) {
      if (!prefix) throw new GenlabError({ code: "checkpoint", path: [name], message: "cannot resume a training whose per-example dynamics were not saved (dynamics.save: false): start again with genlab run --force" });
      try {
        const ep = sink.loadArray(`${prefix}_epochs`);
        const saved: Dynamics = { epochs: Array.from(ep.data), n: rec.n, values: {} };
        for (const q of PER_EXAMPLE_QUANTITIES) {
          try {
            saved.values[q] = Float32Array.from(sink.loadArray(`${prefix}_${q}`).data);
          } catch {
            // a quantity this measure does not produce
          }
        }
        if (want.some((e, i) => saved.epochs[i] !== e)) throw new Error("epochs differ");
        rec = truncateDynamics(saved, want.length);
      } catch {
        throw new GenlabError({ code: "checkpoint", path: [`${prefix}_epochs.npy`], message: `the per-example dynamics saved with the checkpoint at step ${resumeStep} are missing or do not match it: the run folder is inconsistent (start again with genlab run --force)` });
      }
    }
  }
  const recorder = dynamicsRecorder({ measure: dyn.measure, data, epochs, stepsPerEpoch: perEpoch, batch: dyn.batch, initial: rec });
  return {
    hook: recorder.hook,
    save() {
      const d = recorder.dynamics();
      if (!prefix || d.epochs.length === 0) return;
      sink.saveArray(`${prefix}_epochs`, Int32Array.from(d.epochs), [d.epochs.length]);
      for (const [q, v] of Object.entries(d.values)) sink.saveArray(`${prefix}_${q}`, v, [d.epochs.length, d.n]);
    },
    dynamics: recorder.dynamics,
    dispose: recorder.dispose,
  };
}

const dtypeOf = (d: HostNdArray["data"]) => (d instanceof Float32Array ? "float32" : d instanceof Float64Array ? "float64" : d instanceof Int32Array ? "int32" : "uint8");

export function createRunContext(o: ContextOptions): RunContext {
  const { hparams, metrics, done, sink } = o;
  let phase = MAIN_PHASE;
  const write = (row: MetricRow) => {
    metrics.push(row);
    sink.writeRow(row);
  };
  const hasSchedule = "logEvery" in hparams && "perDecade" in hparams;
  return {
    experiment: o.experiment,
    hparams,
    settings: o.settings,
    seed: o.seed,
    size: o.size,
    async train<P extends Tree>(cfg: CtxTrainConfig<P>) {
      const { name = phase, params, log: given, progressKeys: keys = ["train_acc", "test_acc"], onLog, dynamics: dyn, ...loop } = cfg;
      if (o.shouldStop()) {
        treeDispose([params, cfg.key, cfg.optState ?? []]);
        throw new StopRequested();
      }
      const log = given ?? (hasSchedule ? { every: Number(hparams.logEvery), perDecade: Number(hparams.perDecade) } : { every: Math.max(1, Math.ceil((cfg.steps ?? 10) / 10)), perDecade: 0 });
      const label = name === MAIN_PHASE ? "" : name;
      const total = stepsOf(cfg, numRows(cfg.train));
      const resume = o.sink.readCheckpoint(name);
      if (resume && resume.step > total) {
        treeDispose([params, cfg.key, cfg.optState ?? []]);
        throw new GenlabError({ code: "checkpoint", path: [resume.source ?? "checkpoint"], message: `is at step ${resume.step}, past this run's ${total} steps; the checkpoint is damaged or not this run's (delete it to restart the phase, or start again with genlab run --force)` });
      }
      if (resume) {
        // The history must hold every step logged up to the checkpoint, or the resumed curve has a hole.
        const have = new Set(metrics.filter((m) => m.phase === name && m.axis === "step").map((m) => m.x));
        const missing = logSteps(total, log).find((s) => s <= resume.step && !have.has(s));
        if (missing !== undefined) {
          treeDispose([params, cfg.key, cfg.optState ?? []]);
          throw new GenlabError({ code: "checkpoint", path: [resume.source ?? "checkpoint"], message: `is at step ${resume.step}, but the run's metrics lack the logged step ${missing}: the run folder is inconsistent (start again with genlab run --force)` });
        }
      }
      const logger = dyn ? dynamicsLogger(dyn, cfg, name, total, resume?.step ?? 0, sink) : null;
      const r = await train<P>(params, {
        ...loop,
        log,
        resume,
        onResumed: () => sink.resumed?.(name),
        checkpointEvery: o.checkpointEvery ?? Number(o.settings.checkpointEvery ?? 0),
        // The dynamics so far are saved with every checkpoint, so that a resume finds them.
        onCheckpoint: (ck) => {
          logger?.save();
          sink.writeCheckpoint(name, ck);
        },
        stepHooks: logger ? [logger.hook] : undefined,
        shouldStop: o.shouldStop,
        // The divergence message names every hparam of the run.
        settings: hparams,
        onStep: (s) => o.onProgress(s, total, label),
        onLog: async (rec) => {
          const { step, ...values } = rec;
          write({ phase: name, axis: "step", x: step, values });
          const extra: Record<string, number> = {};
          for (const k of keys) if (typeof values[k] === "number") extra[k] = values[k];
          o.onProgress(step, total, label, extra);
          await onLog?.(rec);
        },
      });
      logger?.dispose();
      if (r.stopped) {
        treeDispose([r.params, r.optState]);
        throw new StopRequested();
      }
      logger?.save();
      const history = metrics.filter((m) => m.phase === name && m.axis === "step").map((m) => ({ step: m.x, ...m.values }) as LogRecord);
      return { params: r.params, optState: r.optState, history, steps: r.stepsDone, seconds: r.seconds, criterionStep: r.criterionStep, ...(logger ? { dynamics: logger.dynamics() } : {}) };
    },
    async phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
      if (name in done) return done[name] as T;
      if (o.shouldStop()) throw new StopRequested();
      const outer = phase;
      phase = name;
      try {
        const result = await fn();
        if (o.shouldStop()) throw new StopRequested();
        assertJsonShaped(result, `phase ${JSON.stringify(name)}`);
        done[name] = result as Json;
        sink.phaseDone(name);
        return result;
      } finally {
        phase = outer;
      }
    },
    async record(values, at = {}) {
      const ph = at.phase ?? phase;
      const axis = at.axis ?? "step";
      const x = at.x ?? metrics.filter((m) => m.phase === ph && m.axis === axis).length;
      for (const [k, v] of Object.entries(values)) if (typeof v !== "number") throw new TypeError(`record: ${k} is not a number`);
      write({ phase: ph, axis, x, values });
    },
    saveArray(name, data, shape): ArrayInfo {
      if (!ARRAY_NAME.test(name)) throw new RangeError(`saveArray: expected a name of letters, digits, _ . - (got ${JSON.stringify(name)})`);
      const sh = shape ?? [data.length];
      if (sh.reduce((a, b) => a * b, 1) !== data.length) throw new RangeError(`saveArray ${name}: shape [${sh.join(", ")}] does not hold ${data.length} values`);
      sink.saveArray(name, data, sh);
      return { name, file: `arrays/${name}.npy`, shape: sh, dtype: dtypeOf(data) };
    },
    loadArray: (name) => sink.loadArray(name),
    history: (ph) => metrics.filter((m) => ph === undefined || m.phase === ph),
    progress: (d, t, extra) => o.onProgress(d, t, phase === MAIN_PHASE ? "" : phase, extra),
    shouldStop: o.shouldStop,
  };
}
