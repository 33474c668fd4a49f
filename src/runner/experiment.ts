/**
 * The declaration every reproduction exports (STYLE.md "Experiments"), built with `defineExperiment`:
 * typed hparams (hashed into the run id) and settings (not hashed), sizes, an optional sweep, a `run` that
 * trains and measures through the run context, a verdict computed from the measured numbers of every
 * point, figures as chart specs (drawn by report/), and the honesty fields the report prints: scope,
 * coverage, deviations from the paper, the criterion's source and a negative control.
 *
 * Paper titles and classes are not declared here: they come from experiments/papers.ts only.
 */
import type { Tree } from "../core/tree.ts";
import type { Dataset } from "../data/dataset.ts";
import type { Dynamics, DynamicsMeasure } from "../scores/dynamics.ts";
import type { OptState } from "../optim/transform.ts";
import type { LogRecord, TrainConfig } from "../train/loop.ts";
import type { LogSchedule } from "../train/schedule.ts";
import type { FigureSpec } from "./charts.ts";
import type { Infer, Schema, Values } from "./schema.ts";

export type Size = "smoke" | "quick" | "full";
export const SIZES: readonly Size[] = ["smoke", "quick", "full"];

/** JSON-safe results of a run: numbers, strings, null, arrays and objects of them. */
export type Json = number | string | boolean | null | Json[] | { [k: string]: Json };

export type Verdict = {
  verdict: "PASS" | "FAIL";
  /** The criterion in words, with its thresholds. */
  criterion: string;
  /** The measured values the verdict was computed from (null: never reached). */
  measured: Record<string, number | null>;
  /**
   * Values read off a logging grid are known only to a bracket (previous logged step, logged step]:
   * `brackets[name] = [lo, hi]`; the verdict uses the conservative end.
   */
  brackets?: Record<string, [number | null, number | null]>;
};

/** One logged row: keyed by phase and by one axis (the step unless said otherwise). */
export type MetricRow = { phase: string; axis: string; x: number; values: Record<string, number> };

/** The default phase of an experiment that declares none. */
export const MAIN_PHASE = "main";

/** An array artifact written by `ctx.saveArray` (a .npy file in the run folder). */
export type ArrayInfo = { name: string; file: string; shape: number[]; dtype: string };
export type HostNdArray = { data: Float32Array | Float64Array | Int32Array | Uint8Array; shape: number[] };

/** What `ctx.train` needs: the loop's configuration (train/loop.ts) without the plumbing the runner owns. */
export type CtxTrainConfig<P extends Tree> = Pick<TrainConfig<P>, "loss" | "optimizer" | "optState" | "train" | "evalSets" | "evaluate" | "monitors" | "steps" | "epochs" | "batchSize" | "key" | "onLog" | "batchTransform" | "stopWhen" | "stochastic"> & {
  /** Names the checkpoint and the records (default: the current phase). */
  name?: string;
  params: P;
  /** Default: the `logEvery` / `perDecade` hparams when declared, else every 10% of the steps. */
  log?: LogSchedule;
  /** Progress-line extras from each record (default: the train/test accuracies when present). */
  progressKeys?: string[];
  /** The per-example dynamics logger (scores/dynamics.ts): every example measured at chosen epochs. */
  dynamics?: DynamicsConfig<P>;
};

/**
 * Log per-example quantities of every example of `data` (default: the training set, in its order) at the
 * end of the given epochs (0: before training; default: every epoch and 0). The runner measures them in
 * batches of `batch` rows with the parameters of that moment, keeps them across checkpoints and resumes,
 * returns them in `TrainOutcome.dynamics` and saves them as `<save>_<quantity>.npy` [E, N] and
 * `<save>_epochs.npy` (default prefix: the training's name; `save: false` keeps them in memory only).
 */
export type DynamicsConfig<P extends Tree> = {
  measure: DynamicsMeasure<P>;
  epochs?: number[];
  data?: Dataset;
  batch?: number;
  save?: string | false;
};

export type TrainOutcome<P extends Tree> = {
  /** Final parameters and optimizer state; the caller owns (and disposes) both. */
  params: P;
  optState: OptState;
  /** Every record of this training (on resume: including those before the checkpoint). */
  history: LogRecord[];
  steps: number;
  seconds: number;
  /** The step at which `stopWhen` ended training (null: it ran all its steps). */
  criterionStep: number | null;
  /** What the dynamics logger recorded (when `dynamics` was given). */
  dynamics?: Dynamics;
};

export type RunContext<H extends Values = Values, S extends Values = Values> = {
  experiment: string;
  hparams: H;
  settings: S;
  seed: number;
  size: Size;
  /** Train with the runner's log schedule, checkpoints, resume, stop, progress and divergence message. */
  train<P extends Tree>(cfg: CtxTrainConfig<P>): Promise<TrainOutcome<P>>;
  /**
   * A named, resumable unit of work: a phase that finished in an earlier (interrupted) attempt of this
   * run returns its stored JSON result without running again.
   */
  phase<T extends Json>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Record values at a point of an axis (default: the current phase, axis "step"). */
  record(values: Record<string, number>, at?: { phase?: string; axis?: string; x?: number }): Promise<void>;
  /** Write a .npy file into the run folder (numpy reads it) and list it in the summary. */
  saveArray(name: string, data: Float32Array | Float64Array | Int32Array | Uint8Array, shape?: number[]): ArrayInfo;
  loadArray(name: string): HostNdArray;
  /** Records so far (on resume: including those of finished phases). */
  history(phase?: string): MetricRow[];
  /** Progress of work that is not a training loop (step of total). */
  progress(done: number, total: number, extra?: Record<string, number>): void;
  /** True once the user asked to stop (SIGINT/SIGTERM). */
  shouldStop(): boolean;
};

/** One point of a sweep (or the single run of an experiment without one), as verdicts and figures see it. */
export type Point<H extends Values = Values, R extends Json = Json> = {
  runId: string;
  hparams: H;
  seed: number;
  results: R;
  metrics: MetricRow[];
  arrays: ArrayInfo[];
  dir: string;
};

/** A grid: every combination of the listed values (and seeds); hparams not listed keep the size's values. */
export type SweepGrid<H> = { [K in keyof H]?: readonly H[K][] } & { seeds?: readonly number[] };

export type NegativeControl<H extends Values, R extends Json> = {
  /** What the control is and why the phenomenon must not appear there. */
  what: string;
  /** Run the same experiment with these hparams (the criterion must FAIL on them)… */
  hparams?: Partial<H>;
  /** …or compute the criterion on a control arm already inside the results. */
  verdict?: (points: Point<H, R>[]) => Verdict;
};

export type Coverage = {
  /** "full": the spec's claims are all tested; "partial": the report shows PARTIAL with what is missing. */
  level: "full" | "partial";
  covered: string[];
  notCovered: string[];
};

/** A table of results (a benchmark's method × condition grid), drawn in the report and printed by the CLI. */
export type ResultTable = { title: string; columns: string[]; rows: (string | number | null)[][]; note?: string };

export type ExperimentDecl<HS extends Schema, SS extends Schema, R extends Json> = {
  id: string;
  /**
   * "reproduction" (default): a paper's claim with a verdict. "benchmark": a measurement kept in the
   * repository (methods compared on a grid); its verdict is a validity check of the benchmark itself, and the
   * report shows it in its own section, not as a paper's reproduction.
   */
  kind?: "reproduction" | "benchmark";
  /** Paper number in seed order (experiments/papers.ts holds its title and class). */
  paper: number;
  /** The scope of this reproduction (what it reproduces, not the paper's title). */
  title: string;
  /** The claim as a testable sentence, computed from the hparams actually used. */
  claim: (h: Infer<HS>) => string;
  coverage: Coverage;
  /** Deviations from the paper: loss, sizes, init, optimizer settings, data. */
  deviations: string[];
  /** Where the criterion comes from (spec section, calibration). */
  criterionSource: string;
  negativeControl?: NegativeControl<Infer<HS>, R>;
  /** "generated": the data is made in code, so the experiment also runs in a browser page. */
  dataSource: "generated" | "file";
  /** The hparams the in-browser form shows (default: all). */
  playFields?: (keyof HS & string)[];
  hparams: HS;
  settings?: SS;
  /**
   * Checks across hparams (an empty split, a batch larger than the data), run when a config is resolved:
   * a problem is a `✖` line naming the key, before any run folder or store row exists.
   */
  validate?: (h: Infer<HS>) => { key: keyof HS & string; message: string }[];
  /** Overrides of the hparam defaults (the full size) for smaller sizes. */
  sizes: { smoke: Partial<Infer<HS>>; quick: Partial<Infer<HS>> };
  /** Expected wall time on one core, for the README and the ETA before the first step. */
  cost: Record<Size, string>;
  /** A sweep: the points are separate hashed runs; the verdict and figures see all of them. */
  sweep?: (size: Size, h: Infer<HS>) => SweepGrid<Infer<HS>>[];
  run(ctx: RunContext<Infer<HS>, Infer<SS>>): Promise<R>;
  verdict(points: Point<Infer<HS>, R>[]): Verdict;
  figures(points: Point<Infer<HS>, R>[]): FigureSpec[];
  /** Result tables (optional; benchmarks have them). */
  tables?(points: Point<Infer<HS>, R>[]): ResultTable[];
};

/** The registry's erased view of a declaration. */
export type Experiment = {
  id: string;
  kind?: "reproduction" | "benchmark";
  paper: number;
  title: string;
  claim: (h: Values) => string;
  coverage: Coverage;
  deviations: string[];
  criterionSource: string;
  negativeControl?: NegativeControl<Values, Json>;
  dataSource: "generated" | "file";
  playFields?: string[];
  hparams: Schema;
  settings: Schema;
  validate?: (h: Values) => { key: string; message: string }[];
  sizes: { smoke: Values; quick: Values };
  cost: Record<Size, string>;
  sweep?: (size: Size, h: Values) => SweepGrid<Values>[];
  run(ctx: RunContext): Promise<Json>;
  verdict(points: Point[]): Verdict;
  figures(points: Point[]): FigureSpec[];
  tables?(points: Point[]): ResultTable[];
};

/** Settings every experiment has (not hashed). */
export const COMMON_SETTINGS: Schema = {
  checkpointEvery: { type: "number", default: 500, doc: "save a resumable checkpoint every k steps (0: never)", min: 0, max: 1e7, integer: true },
};

/** Declare an experiment; hparam and settings types are inferred from their schemas (no casts). */
export function defineExperiment<HS extends Schema, SS extends Schema = Record<never, never>, R extends Json = Json>(decl: ExperimentDecl<HS, SS, R>): Experiment {
  for (const k of Object.keys(decl.settings ?? {})) if (k in decl.hparams) throw new Error(`${decl.id}: ${k} is both an hparam and a setting`);
  return { ...(decl as unknown as Experiment), settings: { ...COMMON_SETTINGS, ...(decl.settings ?? {}) } };
}

/** Expand sweep grids into points (hparam overrides + seed), in a stable order. */
export function expandSweep(grids: SweepGrid<Values>[], defaultSeeds: readonly number[]): { set: Values; seed: number }[] {
  const out: { set: Values; seed: number }[] = [];
  for (const g of grids) {
    const { seeds, ...axes } = g as Record<string, readonly (number | string | boolean)[]> & { seeds?: readonly number[] };
    let combos: Values[] = [{}];
    for (const [k, vals] of Object.entries(axes)) combos = combos.flatMap((c) => vals.map((v) => ({ ...c, [k]: v })));
    for (const c of combos) for (const seed of seeds ?? defaultSeeds) out.push({ set: c, seed });
  }
  return out;
}

export type { LogRecord };
