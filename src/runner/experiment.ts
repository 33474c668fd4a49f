/**
 * The declaration every reproduction exports (STYLE.md "Experiments"): hparams (hashed into the run id),
 * settings (not hashed), sizes, a run function that trains and measures, figures, and a verdict computed
 * from the measured numbers.
 */
import type { LogRecord, TrainCheckpoint } from "../train/loop.ts";
import type { Schema, Values } from "./schema.ts";

export type Size = "smoke" | "quick" | "full";
export const SIZES: readonly Size[] = ["smoke", "quick", "full"];

export type PaperClass = "A" | "B" | "C";

/** JSON-safe results of a run: numbers, strings, null, arrays and objects of them. */
export type Json = number | string | boolean | null | Json[] | { [k: string]: Json };

export type Verdict = {
  verdict: "PASS" | "FAIL";
  /** The criterion in words, with its thresholds. */
  criterion: string;
  /** The measured values the verdict was computed from (null: never reached). */
  measured: Record<string, number | null>;
};

export type Figure = { name: string; title: string; svg: string };

export type RunContext = {
  experiment: string;
  hparams: Values;
  settings: Values;
  seed: number;
  size: Size;
  /** Record one logged step (goes to metrics.jsonl, the run store and the progress line). */
  log(rec: LogRecord): Promise<void>;
  /** Every record logged so far in this run (on resume: including those before the checkpoint). */
  history(): LogRecord[];
  /** Report training progress (step of total) for the progress bar and ETA. */
  progress(step: number, total: number, extra?: Record<string, number>): void;
  /** Persist a checkpoint (the runner writes it atomically); the loop calls it on its schedule. */
  saveCheckpoint(ck: TrainCheckpoint): Promise<void>;
  /** Set when resuming an interrupted run. */
  resume?: TrainCheckpoint;
  /** True once the user asked to stop (SIGINT/SIGTERM). */
  shouldStop(): boolean;
};

export type Experiment = {
  id: string;
  /** Paper number in seed order (shared/papers/README.md). */
  paper: number;
  paperClass: PaperClass;
  title: string;
  /** The claim as a testable sentence. */
  claim: string;
  hparams: Schema;
  settings: Schema;
  /** Overrides of the hparam defaults (the full size) for smaller sizes. */
  sizes: { smoke: Values; quick: Values };
  /** Expected wall time on 2 cores, for the README and the ETA before the first step. */
  cost: Record<Size, string>;
  run(ctx: RunContext): Promise<Json>;
  verdict(results: Json, hparams: Values): Verdict;
  /** Figures from the results and logged metrics; `document` is a DOM document (linkedom in Node). */
  figures(results: Json, metrics: LogRecord[], hparams: Values, document: Document): Figure[];
};
