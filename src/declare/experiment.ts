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
import { validateChecks, type CheckDecl, type Size, type Verdict } from "./criteria.ts";

export type { Size } from "./criteria.ts";
export const SIZES: readonly Size[] = ["smoke", "quick", "full"];

/** JSON-safe results of a run: numbers, strings, null, arrays and objects of them. */
export type Json = number | string | boolean | null | Json[] | { [k: string]: Json };

export type { Verdict, VerdictLabel, CheckDecl, CheckResult, CheckInput } from "./criteria.ts";

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
   * run returns its stored JSON result without running again. The result must be JSON-shaped (numbers,
   * strings, booleans, null, arrays, plain objects): checked when the phase ends, so no cast is needed.
   */
  phase<T>(name: string, fn: () => Promise<T>): Promise<T>;
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

/**
 * A grid: every combination of the listed values; hparams not listed keep the size's values. Seeds are not
 * listed here: the experiment declares how many (`seeds`), the user which (`--seed s` runs s, s+1, …).
 */
export type SweepGrid<H> = { [K in keyof H]?: readonly H[K][] };

/**
 * The negative control: the reproduction with the one ingredient the claim depends on removed, actually run
 * (or actually measured), and judged by the same checks (with `arm: "control"`). It must be able to pass: a
 * relabelling of the reproduction's own arms that fails by construction proves nothing. The report lists,
 * per control, the checks it fails; a control that passes is flagged.
 */
export type NegativeControl<H extends Values> = {
  /** What is removed and why the phenomenon must not appear without it. */
  what: string;
} & (
  | {
      /** Run every point again with these hparams (the ingredient removed). */
      hparams: Partial<H>;
      inRun?: never;
    }
  | {
      /**
       * The control arm is run inside every point (say which arm in `what`): the checks read it when
       * `input.arm === "control"`; a missing control value is an error like any other.
       */
      inRun: true;
      hparams?: never;
    }
);

/** A dataset or package a run needs that a fresh machine may lack: reproduce lists the experiment as not run. */
export type Need = {
  /** What is needed ("Fashion-MNIST"). */
  what: string;
  /** How to get it ("sudo apt-get install dataset-fashion-mnist"). */
  how: string;
  /** Whether this machine has it, for these hparams. */
  met: (h: Values) => boolean;
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
  /** Where the criteria come from overall (spec section, calibration); each check names its own source too. */
  criterionSource: string;
  /**
   * The criteria, written once: gates (the regime was reached) and claims (what the paper says happens
   * there). The verdict, the criterion text and the report's per-check table are computed from them.
   */
  checks: CheckDecl<Point<Infer<HS>, R>>[];
  negativeControl?: NegativeControl<Infer<HS>>;
  /**
   * The hparams a point actually computes with, when some of its hparams have no effect (a weight decay
   * that the control switches off): points whose `computes` agree, with the same seed and size, are one
   * run — run once and reused by the others, which keep their own hparams in the verdict's points. Must be
   * exact: a test runs each declared equivalence both ways and compares the metrics bit for bit.
   */
  computes?: (h: Infer<HS>) => Infer<HS>;
  /** How many seeds a reproduction of each size runs (default 1); `--seed s` makes them s, s+1, … */
  seeds?: Partial<Record<Size, number>>;
  /**
   * How the quick size was calibrated: the seeds (never the reported ones) and what they gave. Shown in the
   * report; absent means not calibrated yet, and the report says so.
   */
  calibration?: { seeds: number[]; outcome: string };
  /** Datasets or packages the runs need (a fresh machine may lack them: reproduce lists them as not run). */
  needs?: Need[];
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
  /** Figures from the points (of the reproduction) and their verdict. */
  figures(points: Point<Infer<HS>, R>[], verdict: Verdict): FigureSpec[];
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
  checks: CheckDecl<Point>[];
  negativeControl?: NegativeControl<Values>;
  computes?: (h: Values) => Values;
  seeds: Record<Size, number>;
  calibration?: { seeds: number[]; outcome: string };
  needs: Need[];
  dataSource: "generated" | "file";
  playFields?: string[];
  hparams: Schema;
  settings: Schema;
  validate?: (h: Values) => { key: string; message: string }[];
  sizes: { smoke: Values; quick: Values };
  cost: Record<Size, string>;
  sweep?: (size: Size, h: Values) => SweepGrid<Values>[];
  run(ctx: RunContext): Promise<Json>;
  figures(points: Point[], verdict: Verdict): FigureSpec[];
  tables?(points: Point[]): ResultTable[];
};

/** Settings every experiment has (not hashed). */
export const COMMON_SETTINGS: Schema = {
  checkpointEvery: { type: "number", default: 500, doc: "save a resumable checkpoint every k steps (0: never)", min: 0, max: 1e7, integer: true },
};

/** Declare an experiment; hparam and settings types are inferred from their schemas (no casts). */
export function defineExperiment<HS extends Schema, SS extends Schema = Record<never, never>, R extends Json = Json>(decl: ExperimentDecl<HS, SS, R>): Experiment {
  for (const k of Object.keys(decl.settings ?? {})) if (k in decl.hparams) throw new Error(`${decl.id}: ${k} is both an hparam and a setting`);
  validateChecks(decl.id, decl.checks);
  if (!decl.checks.some((c) => c.role === "claim")) throw new Error(`${decl.id}: no claim among the checks`);
  const seeds = { smoke: 1, quick: 1, full: 1, ...(decl.seeds ?? {}) };
  for (const [size, n] of Object.entries(seeds)) if (!Number.isInteger(n) || n < 1) throw new Error(`${decl.id}: seeds.${size} must be a positive integer`);
  if (decl.negativeControl && !decl.negativeControl.hparams && !decl.negativeControl.inRun) throw new Error(`${decl.id}: a negative control is run: give hparams or inRun`);
  // The erasure: the declaration's types are checked above; the registry sees every experiment alike.
  return { ...(decl as unknown as Experiment), seeds, needs: decl.needs ?? [], settings: { ...COMMON_SETTINGS, ...(decl.settings ?? {}) } };
}

/** The seeds a reproduction runs: `count` (default: the size's declared count) from `first` on. */
export function seedsOf(exp: Experiment, size: Size, first: number, count?: number): number[] {
  const n = count ?? exp.seeds[size];
  return Array.from({ length: n }, (_, i) => first + i);
}

/** Expand sweep grids into points (hparam overrides + seed), in a stable order. */
export function expandSweep(grids: SweepGrid<Values>[], seeds: readonly number[]): { set: Values; seed: number }[] {
  const out: { set: Values; seed: number }[] = [];
  for (const g of grids) {
    let combos: Values[] = [{}];
    for (const [k, vals] of Object.entries(g as Record<string, readonly (number | string | boolean)[]>)) combos = combos.flatMap((c) => vals.map((v) => ({ ...c, [k]: v })));
    for (const c of combos) for (const seed of seeds) out.push({ set: c, seed });
  }
  return out;
}

export type { LogRecord };
