/**
 * Runs experiments. A *point* is one hashed run (experiment, hparams, seed, size): it gets a run folder
 * (config.json, metrics.jsonl, phases.json, arrays/*.npy, summary.json) and a store row, and is reused
 * when a finished run of the same point and genlab version exists. The run context (`ctx`) owns the
 * plumbing: log schedule, checkpoints, resume, stop, progress, divergence messages, phases and array
 * artifacts. A run is `finished` only after its summary is on disk; a stopped (SIGINT/SIGTERM) run is
 * `interrupted` and resumes from its checkpoints and finished phases; a crashed one is `failed`.
 *
 * An *experiment* is its points (a sweep, or one run) plus its negative control: `evaluateExperiment`
 * gives the verdict and figure specs over all of them. Drawing is report/'s job.
 */
import { accessSync, appendFileSync, constants, existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join, resolve } from "node:path";
import { GenlabError } from "../core/errors.ts";
import { currentDevice, initDevices } from "../core/jax.ts";
import { maxOf } from "../core/order.ts";
import { decodeNpy, encodeNpy } from "../data/npy.ts";
import { readUserFile, readUserText } from "../io/paths.ts";
import { parseCheckpoint } from "../train/checkpoint.ts";
import type { TrainCheckpoint } from "../train/loop.ts";
import { fault } from "./fault.ts";
import type { FigureSpec } from "../declare/charts.ts";
import { StopRequested, createRunContext } from "./context.ts";
import {
  MAIN_PHASE,
  type ArrayInfo,
  type Experiment,
  type HostNdArray,
  type Json,
  type MetricRow,
  type Point,
  type Size,
  type ResultTable,
  type Verdict,
} from "../declare/experiment.ts";
import { BACKEND } from "../platform/backend.ts";
import { genlabVersion, jaxVersion, writeFileAtomic, writeJsonAtomic } from "./files.ts";
import { Progress, formatDuration, formatTable } from "./progress.ts";
import { findExperiment } from "../declare/registry.ts";
import { checkLines, failedChecks, judge } from "../declare/criteria.ts";
import { seedsOf } from "../declare/experiment.ts";
import type { Values } from "../declare/schema.ts";
import { hparamsHashOf, planExperiment, resolveConfig, runHashOf, type PointSpec } from "../declare/plan.ts";
import { RunStore, type RunRow } from "./store.ts";
import { errStream } from "../io/console.ts";

export type RunSummary = {
  run_id: string;
  experiment: string;
  paper: number;
  size: Size;
  seed: number;
  hparams: Values;
  settings: Values;
  status: "finished" | "interrupted";
  /**
   * Always null for runs written since verdicts became the reproduction's (criteria over every point and
   * seed, src/declare/criteria.ts); older stores may hold a per-run verdict here.
   */
  verdict: Verdict["verdict"] | null;
  criterion: string | null;
  measured: Record<string, number | null>;
  results: Json;
  arrays: ArrayInfo[];
  seconds: number;
  /** Figure files (SVG and PNG), written by report/ after the run. */
  figures: string[];
  dir: string;
  /** True when a finished run of the same point was reused instead of run again. */
  reused?: boolean;
  genlab_version: string;
  jax_version: string;
  device: string;
};

export { hparamsHashOf, planExperiment, resolveConfig, runHashOf, type PointSpec };

export type PointOptions = {
  outDir: string;
  storePath?: string;
  stream?: NodeJS.WriteStream;
  quiet?: boolean;
  /** Rerun even when a finished run of the same point exists. */
  force?: boolean;
  /** Progress of the running point (for a worker pool's combined display). */
  onProgress?: (done: number, total: number, label: string) => void;
};

export function runIdFor(exp: string, hparamsHash: string, seed: number): string {
  const t = new Date();
  const stamp = t.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  // A random suffix: two runs started in the same millisecond (workers, shards) never share an id. It
  // names the run only; no number a run computes depends on it.
  return `${exp}-${hparamsHash.slice(0, 8)}-s${seed}-${stamp}${String(t.getMilliseconds()).padStart(3, "0")}-${randomBytes(3).toString("hex")}`;
}

/** The device and matmul engine a run computes on: "wasm", "wasm+openblas" or "wasm+genlab-gemm" (the native backend, by its GEMM), "cpu". */
export function engineOf(device: string): string {
  return device === "wasm" && BACKEND.name === "native" ? (BACKEND.gemm === "own" ? "wasm+genlab-gemm" : "wasm+openblas") : device;
}

const currentDeviceName = () => {
  try {
    return currentDevice();
  } catch {
    return "wasm";
  }
};

export function defaultStorePath(outDir: string): string {
  return join(outDir, "genlab.db");
}

export function openStore(outDir: string, storePath?: string): RunStore {
  return new RunStore(resolve(storePath ?? defaultStorePath(outDir)));
}

// ------------------------------------------------------------------------------------ metric rows

export function rowToJson(r: MetricRow): Record<string, number | string> {
  return { ...(r.phase !== MAIN_PHASE ? { phase: r.phase } : {}), ...(r.axis !== "step" ? { axis: r.axis } : {}), [r.axis]: r.x, ...r.values };
}

export function rowFromJson(o: Record<string, unknown>): MetricRow {
  const phase = typeof o.phase === "string" ? o.phase : MAIN_PHASE;
  const axis = typeof o.axis === "string" ? o.axis : "step";
  const values: Record<string, number> = {};
  for (const [k, v] of Object.entries(o)) if (k !== "phase" && k !== "axis" && k !== axis && typeof v === "number") values[k] = v;
  return { phase, axis, x: Number(o[axis]), values };
}

/** The rows of a metrics.jsonl (a line cut off by a kill is skipped). */
export function readMetricsFile(path: string): MetricRow[] {
  if (!existsSync(path)) return [];
  const rows: MetricRow[] = [];
  for (const line of readUserText(path, path).split("\n")) {
    if (!line.trim()) continue;
    try {
      rows.push(rowFromJson(JSON.parse(line)));
    } catch {
      // a line cut off by the kill that interrupted the run
    }
  }
  return rows;
}

const fileSafe = (name: string) => name.replace(/[^A-Za-z0-9_.-]/g, "_");
const checkpointFile = (dir: string, name: string) => (name === MAIN_PHASE ? join(dir, "checkpoint.json") : join(dir, "checkpoints", `${fileSafe(name)}.json`));

type PhaseState = { done: Record<string, Json> };

function listArrays(dir: string): ArrayInfo[] {
  const folder = join(dir, "arrays");
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((f) => f.endsWith(".npy"))
    .sort()
    .map((f) => {
      const a = decodeNpy(readUserFile(join(folder, f), join(folder, f)), join(folder, f));
      const dtype = a.data instanceof Float32Array ? "float32" : a.data instanceof Float64Array ? "float64" : a.data instanceof Int32Array ? "int32" : "uint8";
      return { name: f.slice(0, -4), file: join("arrays", f), shape: a.shape, dtype };
    });
}

// ------------------------------------------------------------------------------------ one point

/** What a resume found on disk and checked, before anything is touched. */
type ResumeState = { state: PhaseState; metrics: MetricRow[]; checkpoints: Map<string, TrainCheckpoint>; priorSeconds: number };

type Prepared = { exp: Experiment; spec: PointSpec; runId: string; dir: string; resume: ResumeState | null };

async function execute(p: Prepared, store: RunStore, opts: PointOptions): Promise<RunSummary> {
  const { exp, spec, runId, dir } = p;
  const { hparams, settings, seed, size } = spec;
  const metricsPath = join(dir, "metrics.jsonl");
  const phasesPath = join(dir, "phases.json");
  const state: PhaseState = p.resume?.state ?? { done: {} };
  const metrics: MetricRow[] = p.resume?.metrics ?? [];
  // A resume changes nothing on disk until every checkpoint it read has been checked against the model
  // (`resumed`): until then its writes (re-logged rows, new checkpoints, finished phases, arrays) are
  // queued in memory. Then the metrics are rewritten to what the checkpoints and finished phases vouch
  // for and the queue is written out. A resume that fails before that (a checkpoint that does not match
  // the model, in any phase) leaves the run folder and the store exactly as they were.
  let pending = p.resume !== null;
  const awaiting = new Set(p.resume ? p.resume.checkpoints.keys() : []);
  const kept = metrics.slice(); // the context appends to `metrics` before the sink writes
  const queue: (() => void)[] = [];
  const queuedArrays = new Map<string, HostNdArray>();
  const flush = () => {
    if (!pending) return;
    pending = false;
    writeFileAtomic(metricsPath, kept.map((m) => JSON.stringify(rowToJson(m))).join("\n") + (kept.length ? "\n" : ""));
    store.replaceMetrics(runId, kept);
    for (const op of queue.splice(0)) op();
    queuedArrays.clear();
  };
  const perform = (op: () => void) => {
    if (pending && awaiting.size > 0) queue.push(op);
    else {
      flush();
      op();
    }
  };
  const priorSeconds = p.resume?.priorSeconds ?? 0;
  const t0 = performance.now();

  let stopRequested = false;
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    stopRequested = true;
    if (signals === 1) (opts.stream ?? errStream()).write(`\n${sig}: stopping after this step and saving a checkpoint (again to quit now)\n`);
    else {
      store.finishRun(runId, { status: "interrupted", error: `stopped by ${sig}` });
      process.exit(130);
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const progress = new Progress(exp.id, { stream: opts.stream, quiet: opts.quiet });
  const report = (done: number, total: number, label: string, extra?: Record<string, number>) => {
    progress.update(done, total, extra, label);
    opts.onProgress?.(done, total, label);
  };
  const write = (row: MetricRow) =>
    perform(() => {
      appendFileSync(metricsPath, JSON.stringify(rowToJson(row)) + "\n");
      fault("row");
      store.appendMetrics(runId, row);
    });
  const ctx = createRunContext({
    experiment: exp.id,
    hparams,
    settings,
    seed,
    size,
    metrics,
    done: state.done,
    shouldStop: () => stopRequested,
    onProgress: report,
    sink: {
      writeRow: write,
      readCheckpoint: (name) => p.resume?.checkpoints.get(name === MAIN_PHASE ? MAIN_PHASE : fileSafe(name)),
      resumed: (name) => {
        awaiting.delete(name === MAIN_PHASE ? MAIN_PHASE : fileSafe(name));
        if (awaiting.size === 0) flush();
      },
      writeCheckpoint: (name, ck) =>
        perform(() => {
          fault("checkpoint");
          writeJsonAtomic(checkpointFile(dir, name), ck);
          store.setSeconds(runId, priorSeconds + (performance.now() - t0) / 1000);
        }),
      phaseDone: () => {
        const snapshot = JSON.stringify(state, null, 2) + "\n";
        perform(() => {
          fault("phase");
          writeFileAtomic(phasesPath, snapshot);
          store.setSeconds(runId, priorSeconds + (performance.now() - t0) / 1000);
        });
      },
      saveArray(name, data, shape) {
        if (pending) queuedArrays.set(name, { data: data.slice(), shape: shape.slice() });
        perform(() => {
          fault("array");
          writeFileAtomic(join(dir, "arrays", `${name}.npy`), encodeNpy({ data, shape }));
        });
      },
      loadArray(name) {
        const queued = queuedArrays.get(name);
        if (queued) return { data: queued.data.slice(), shape: queued.shape.slice() };
        const path = join(dir, "arrays", `${name}.npy`);
        if (!existsSync(path)) throw new RangeError(`loadArray: no array ${JSON.stringify(name)} in this run (saved: ${listArrays(dir).map((a) => a.name).join(", ") || "none"})`);
        return decodeNpy(readUserFile(path, path), path);
      },
    },
  });

  let results: Json = null;
  let stopped = false;
  try {
    // Results are JSON (summary.json, the store, worker IPC): normalise here (Infinity → null) so that every
    // reader, in this process or another, sees the same values.
    results = JSON.parse(JSON.stringify(await exp.run(ctx))) as Json;
  } catch (e) {
    progress.stop();
    if (e instanceof StopRequested || stopRequested) stopped = true;
    else if (pending) {
      // a resume that changed nothing yet: the run stays interrupted, resumable once the cause is fixed
      store.finishRun(runId, { status: "interrupted", error: (e as Error).message, seconds: priorSeconds });
      throw e;
    } else {
      store.finishRun(runId, { status: "failed", error: (e as Error).message, seconds: priorSeconds + (performance.now() - t0) / 1000 });
      throw e;
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  progress.stop();
  flush();
  // A resumed run's time is the sum of its attempts.
  const seconds = priorSeconds + (performance.now() - t0) / 1000;
  const base = {
    run_id: runId,
    experiment: exp.id,
    paper: exp.paper,
    size,
    seed,
    hparams,
    settings,
    results,
    arrays: listArrays(dir),
    seconds,
    figures: [] as string[],
    dir,
    genlab_version: genlabVersion(),
    jax_version: jaxVersion(),
    device: engineOf(currentDevice()),
  };
  if (stopped || stopRequested) {
    store.finishRun(runId, { status: "interrupted", seconds, error: "stopped by signal; resume with: genlab resume " + runId });
    return { ...base, status: "interrupted", verdict: null, criterion: null, measured: {} };
  }
  // A point has no verdict of its own: the reproduction (every point and seed, and its control) is judged.
  void metrics;
  const summary: RunSummary = { ...base, status: "finished", verdict: null, criterion: null, measured: {} };
  fault("summary");
  writeJsonAtomic(join(dir, "summary.json"), summary);
  fault("finish");
  store.finishRun(runId, { status: "finished", verdict: summary.verdict, seconds, summary: JSON.stringify(summary) });
  return summary;
}

/** Run (or reuse) one point. */
export async function runPoint(registry: readonly Experiment[], spec: PointSpec, opts: PointOptions): Promise<RunSummary> {
  const exp = findExperiment(registry, spec.experiment);
  const store = openStore(opts.outDir, opts.storePath);
  try {
    // The run a point needs: equivalent points (exp.computes) share one.
    const hparamsHash = runHashOf(exp, spec.hparams);
    // The engine is part of a run's identity for reuse: native and wasm matmuls round differently.
    const engine = engineOf(currentDeviceName());
    if (!opts.force) {
      const row = store.findFinished({ experiment: exp.id, hparams_hash: hparamsHash, seed: spec.seed, size: spec.size, genlab_version: genlabVersion(), device: engine });
      const s = row?.summary ? (JSON.parse(row.summary) as RunSummary) : null;
      // an equivalent point's run keeps this point's own hparams in the verdict's points
      if (s) return { ...s, hparams: spec.hparams, reused: true };
    }
    const device = engineOf(await initDevices());
    const runId = runIdFor(exp.id, hparamsHash, spec.seed);
    const dir = resolve(opts.outDir, runId);
    const config = {
      run_id: runId,
      experiment: exp.id,
      paper: exp.paper,
      size: spec.size,
      seed: spec.seed,
      role: spec.role,
      hparams: spec.hparams,
      settings: spec.settings,
      hparams_hash: hparamsHash,
      genlab_version: genlabVersion(),
      jax_version: jaxVersion(),
      device,
      node_version: process.version,
      jax_threads: Number(process.env.JAX_THREADS ?? 0),
      backend: { name: BACKEND.name, why: BACKEND.why, threads: BACKEND.threads, ...(BACKEND.blas ? { blas: BACKEND.blas } : {}), ...(BACKEND.gemm ? { gemm: BACKEND.gemm } : {}), ...(BACKEND.coretype ? { coretype: BACKEND.coretype } : {}) },
      command: `genlab run ${exp.id} --seed ${spec.seed}${spec.size === "full" ? "" : ` --size ${spec.size}`}${Object.entries(spec.hparams)
        .map(([k, v]) => ` --set ${k}=${v}`)
        .join("")}`,
      started_at: new Date().toISOString(),
    };
    if (existsSync(dir)) throw new Error(`run folder ${dir} already exists`);
    writeJsonAtomic(join(dir, "config.json"), config);
    writeFileSync(join(dir, "metrics.jsonl"), "");
    store.insertRun({
      id: runId,
      experiment: exp.id,
      paper: exp.paper,
      size: spec.size,
      seed: spec.seed,
      hparams_hash: hparamsHash,
      hparams: JSON.stringify(spec.hparams),
      settings: JSON.stringify(spec.settings),
      started_at: config.started_at,
      dir,
      genlab_version: config.genlab_version,
      jax_version: config.jax_version,
      device,
    });
    return await execute({ exp, spec, runId, dir, resume: null }, store, opts);
  } finally {
    store.close();
  }
}

/** Read a JSON file the run wrote, or say which file is damaged. */
function readRunJson(file: string, what: string): unknown {
  const text = readUserText(file, file);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new GenlabError({ code: "damaged_file", path: [file], message: `${what} is not valid JSON (${(e as Error).message}; truncated?); delete it to redo that work, or start again with genlab run --force` });
  }
}

/**
 * Everything a resume needs from the run folder, read and checked before anything is changed: the
 * finished phases, every checkpoint, and the metrics those vouch for.
 */
function readResumeState(dir: string, priorSeconds: number): ResumeState {
  const phasesPath = join(dir, "phases.json");
  let state: PhaseState = { done: {} };
  if (existsSync(phasesPath)) {
    const v = readRunJson(phasesPath, "phases.json") as PhaseState;
    if (typeof v !== "object" || v === null || typeof v.done !== "object" || v.done === null || Array.isArray(v.done)) throw new GenlabError({ code: "damaged_file", path: [phasesPath], message: 'expected {"done": {phase: result}}; delete it to redo the phases' });
    state = v;
  }
  const checkpoints = new Map<string, TrainCheckpoint>();
  const files: [string, string][] = [];
  if (existsSync(join(dir, "checkpoint.json"))) files.push([MAIN_PHASE, join(dir, "checkpoint.json")]);
  if (existsSync(join(dir, "checkpoints"))) for (const f of readdirSync(join(dir, "checkpoints")).sort()) if (f.endsWith(".json")) files.push([f.slice(0, -5), join(dir, "checkpoints", f)]);
  for (const [name, file] of files) checkpoints.set(name, { ...parseCheckpoint(readUserText(file, file), file), source: file });
  // Keep what a finished phase or a checkpoint vouches for; everything else is recomputed.
  const phaseOfFile = (phase: string) => (phase === MAIN_PHASE ? MAIN_PHASE : fileSafe(phase));
  const metrics = readMetricsFile(join(dir, "metrics.jsonl")).filter((r) => {
    if (r.phase in state.done) return true;
    const ck = checkpoints.get(phaseOfFile(r.phase));
    return ck !== undefined && r.axis === "step" && r.x <= ck.step;
  });
  return { state, metrics, checkpoints, priorSeconds };
}

/** Continue an interrupted run from its checkpoints and finished phases; the result equals an uninterrupted run's. */
export async function resumeRun(registry: readonly Experiment[], runId: string, opts: PointOptions & { force?: boolean }): Promise<RunSummary> {
  // No store, no run to resume: say so without creating the store (or its folder) first.
  const storePath = resolve(opts.storePath ?? defaultStorePath(opts.outDir));
  if (!existsSync(storePath)) throw new GenlabError({ code: "unknown_run", path: ["<run-id>"], message: `no run ${JSON.stringify(runId)}: there is no run store at ${storePath} (pass the --out or --store it ran with)` });
  const store = openStore(opts.outDir, opts.storePath);
  try {
    const row = store.getRun(runId);
    if (!row) throw new GenlabError({ code: "unknown_run", path: ["<run-id>"], message: `no run ${JSON.stringify(runId)} in ${store.path}` });
    if (row.status === "finished") throw new GenlabError({ code: "finished", path: ["<run-id>"], message: `run ${runId} already finished; nothing to resume` });
    if (row.status === "running" && !opts.force) throw new GenlabError({ code: "running", path: ["<run-id>"], message: `run ${runId} is still running (pid ${row.pid} on ${row.host}); if that process is gone (another machine, a reused pid), resume --force` });
    const exp = findExperiment(registry, row.experiment);
    if (!existsSync(row.dir)) throw new GenlabError({ code: "missing_folder", path: [row.dir], message: "the run folder is gone; start the run again with genlab run" });
    try {
      accessSync(row.dir, constants.W_OK);
    } catch {
      throw new GenlabError({ code: "read_only", path: [row.dir], message: "the run folder is not writable, so the run cannot continue there; fix its permissions (chmod u+w)" });
    }
    if (!existsSync(join(row.dir, "config.json"))) throw new GenlabError({ code: "missing_file", path: [join(row.dir, "config.json")], message: "the run folder has no config.json: it is not a run folder any more; start the run again with genlab run" });
    // A run continues on the backend it started on: the backends store layer widths differently (padded
    // to 4 on the Wasm kernels, unpadded with OpenBLAS) and round differently, so "resume equals an
    // uninterrupted run" holds only there.
    const startedOn = (readRunJson(join(row.dir, "config.json"), "config.json") as { backend?: { name?: string; gemm?: string } }).backend;
    const started = startedOn?.name;
    if (started && started !== BACKEND.name)
      throw new GenlabError({ code: "backend_mismatch", path: ["--backend"], message: `run ${runId} started on the ${started} backend and this process runs ${BACKEND.name}; resume it with --backend ${started} (or GENLAB_BACKEND=${started})` });
    // …and on the GEMM it started on (OpenBLAS and genlab's own round differently)
    const gemmOf = (g: string | undefined) => (g === "own" ? "own" : "openblas");
    if (started === "native" && gemmOf(startedOn?.gemm) !== gemmOf(BACKEND.gemm))
      throw new GenlabError({ code: "backend_mismatch", path: ["GENLAB_GEMM"], message: `run ${runId} started on the native backend with ${gemmOf(startedOn?.gemm) === "own" ? "genlab's own GEMM" : "OpenBLAS"} and this process uses ${BACKEND.gemm === "own" ? "genlab's own GEMM" : "OpenBLAS"}; resume it with GENLAB_GEMM=${gemmOf(startedOn?.gemm)}` });
    // With no checkpoint and no finished phase the run starts over in its folder (same numbers, by seed).
    const resume = readResumeState(row.dir, row.seconds ?? 0);
    await initDevices();
    // Temporary files of writes a kill cut short.
    for (const sub of [".", "arrays", "checkpoints"]) {
      const d = join(row.dir, sub);
      if (existsSync(d)) for (const f of readdirSync(d)) if (f.endsWith(".tmp")) rmSync(join(d, f), { force: true });
    }
    store.reopenRun(runId);
    const spec: PointSpec = { experiment: row.experiment, size: row.size as Size, seed: row.seed, hparams: JSON.parse(row.hparams), settings: JSON.parse(row.settings), role: "point", set: [] };
    return await execute({ exp, spec, runId, dir: row.dir, resume }, store, opts);
  } finally {
    store.close();
  }
}

// ------------------------------------------------------------------------------------ experiments

/** An experiment's result over all its points: the verdict, the control's verdict and the figure specs. */
export type Outcome = {
  experiment: string;
  paper: number;
  size: Size;
  /** The seeds judged. */
  seeds: number[];
  /** null when a point was interrupted (or the judging failed: see `error`). */
  verdict: Verdict | null;
  /** The control, judged by the same checks; `failed` lists the checks it fails. */
  control: { what: string; verdict: Verdict | null; failed: string[]; runIds: string[]; inRun: boolean } | null;
  /** An error of the experiment (a check with a missing value, a control with a missing arm). */
  error?: string;
  points: RunSummary[];
  controlPoints: RunSummary[];
  figures: FigureSpec[];
  tables: ResultTable[];
  seconds: number;
};

export function pointOf(s: RunSummary, metrics: MetricRow[]): Point {
  return { runId: s.run_id, hparams: s.hparams, seed: s.seed, results: s.results, metrics, arrays: s.arrays ?? [], dir: s.dir };
}

/** Verdict, control verdict and figures of an experiment from its finished points (metrics read from the store). */
export function evaluateExperiment(exp: Experiment, size: Size, points: RunSummary[], controlPoints: RunSummary[], store: RunStore): Outcome {
  const complete = (ps: RunSummary[]) => ps.length > 0 && ps.every((s) => s.status === "finished");
  const load = (ps: RunSummary[]) => ps.map((s) => pointOf(s, store.metricRows(s.run_id)));
  const pts = complete(points) ? load(points) : null;
  const seeds = [...new Set(points.map((p) => p.seed))].sort((a, b) => a - b);
  const nc = exp.negativeControl;
  const base = { experiment: exp.id, paper: exp.paper, size, seeds, points, controlPoints, seconds: [...points, ...controlPoints].reduce((a, s) => a + (s.reused ? 0 : s.seconds), 0) };
  if (!pts) return { ...base, verdict: null, control: nc ? { what: nc.what, verdict: null, failed: [], runIds: controlPoints.map((s) => s.run_id), inRun: !!nc.inRun } : null, figures: [], tables: [] };
  let verdict: Verdict | null = null;
  let control: Outcome["control"] = null;
  const errors: string[] = [];
  try {
    verdict = judge(exp.id, exp.checks, pts, size);
  } catch (e) {
    errors.push((e as Error).message);
  }
  if (nc) {
    let cv: Verdict | null = null;
    const cps = nc.inRun ? pts : complete(controlPoints) ? load(controlPoints) : null;
    if (cps) {
      try {
        cv = judge(exp.id, exp.checks, cps, size, "control");
      } catch (e) {
        errors.push(`negative control: ${(e as Error).message}`);
      }
    }
    control = { what: nc.what, verdict: cv, failed: cv ? failedChecks(cv) : [], runIds: (nc.inRun ? points : controlPoints).map((s) => s.run_id), inRun: !!nc.inRun };
  }
  // Figures and tables are drawn from the same points; a bug there is an error of the experiment too, but it
  // must not take the verdict (or the rest of a reproduce) down with it.
  let figures: FigureSpec[] = [];
  let tables: ResultTable[] = [];
  try {
    if (verdict) figures = exp.figures(pts, verdict);
    if (exp.tables) tables = exp.tables(pts);
  } catch (e) {
    errors.push(`figures/tables: ${(e as Error).message}`);
  }
  return { ...base, verdict, control, ...(errors.length ? { error: errors.join("; ") } : {}), figures, tables };
}

export type RunOptions = PointOptions & {
  experiment: string;
  size: Size;
  set: string[];
  /** The first seed: a reproduction of n seeds runs seed, seed + 1, …, seed + n − 1. */
  seed: number;
  /** How many seeds (default: the experiment's declared count at this size). */
  seedCount?: number;
  /** Also run the negative control (default true). */
  control?: boolean;
};

/** Run an experiment in this process: its points for the seeds from `seed` on, and its control. */
export async function runExperiment(registry: readonly Experiment[], opts: RunOptions): Promise<Outcome> {
  const exp = findExperiment(registry, opts.experiment);
  const plan = planExperiment(exp, opts.size, opts.set, seedsOf(exp, opts.size, opts.seed, opts.seedCount));
  const todo = [...plan.points, ...(opts.control === false ? [] : plan.control)];
  const done: RunSummary[] = [];
  // equivalent points (exp.computes) share one run: reused even under --force once it ran in this call
  const ranHere = new Set<string>();
  for (const [i, spec] of todo.entries()) {
    if (todo.length > 1 && !opts.quiet) (opts.stream ?? errStream()).write(`${exp.id}: run ${i + 1}/${todo.length}${spec.role === "control" ? " (negative control)" : ""}, seed ${spec.seed}\n`);
    const key = `${runHashOf(exp, spec.hparams)}|s${spec.seed}`;
    const s = await runPoint(registry, spec, ranHere.has(key) ? { ...opts, force: false } : opts);
    ranHere.add(key);
    done.push(s);
    if (s.status === "interrupted") break;
  }
  const store = openStore(opts.outDir, opts.storePath);
  try {
    const points = done.filter((_, i) => todo[i].role === "point");
    const controlPoints = done.filter((_, i) => todo[i].role === "control");
    return evaluateExperiment(exp, opts.size, points, opts.control === false && !exp.negativeControl?.inRun ? [] : controlPoints, store);
  } finally {
    store.close();
  }
}

const fmt = (v: number | null) => (v === null ? "null (not reached)" : Number.isInteger(v) ? String(v) : v.toFixed(4));

export function summaryTable(s: RunSummary): string {
  const rows: [string, string][] = [
    ["run", s.run_id + (s.reused ? " (reused: the same computation finished earlier — this point's or an equivalent one's; --force reruns what finished before this call)" : "")],
    ["experiment", `${s.experiment} (paper ${s.paper})`],
    ["size / seed", `${s.size} / ${s.seed}`],
    ["status", s.status],
  ];
  for (const [k, v] of Object.entries(s.measured)) rows.push([k, fmt(v)]);
  if (s.verdict) rows.push(["verdict", s.verdict]);
  if (s.criterion) rows.push(["criterion", s.criterion]);
  if (s.arrays?.length) rows.push(["arrays", s.arrays.map((a) => `${a.file} [${a.shape.join("×")}]`).join(", ")]);
  rows.push(["time", formatDuration(s.seconds)]);
  rows.push(["folder", s.dir]);
  const figs = s.figures.filter((f) => f.endsWith(".png"));
  if (figs.length) rows.push(["figures", figs.join(", ")]);
  return formatTable(rows);
}

/** What a control's verdict means, in words. */
export function controlText(c: NonNullable<Outcome["control"]>): string {
  if (!c.verdict) return `not judged — ${c.what}`;
  const v = c.verdict.verdict;
  const fails = c.failed.length ? `fails ${c.failed.join(", ")}` : "fails no check";
  return `${v === "PASS" ? "WARNING: PASSES" : v} (${fails}) — ${c.what}`;
}

export function outcomeTable(o: Outcome): string {
  const rows: [string, string][] = [["experiment", `${o.experiment} (paper ${o.paper}), ${o.size} size, seed${o.seeds.length === 1 ? "" : "s"} ${o.seeds.join(", ")}`]];
  rows.push(["runs", `${o.points.length} point${o.points.length === 1 ? "" : "s"}${o.controlPoints.length ? ` + ${o.controlPoints.length} control` : ""} (${[...o.points, ...o.controlPoints].filter((p) => p.reused).length} reused)`]);
  if (o.verdict) {
    rows.push(["verdict", o.verdict.verdict + (o.verdict.reason ? ` — ${o.verdict.reason}` : "")]);
    for (const line of checkLines(o.verdict)) rows.push(["", line]);
  } else rows.push(["verdict", o.error ? `ERROR — ${o.error}` : "none (interrupted)"]);
  if (o.verdict && o.error) rows.push(["error", o.error]);
  if (o.control) rows.push(["negative control", controlText(o.control)]);
  rows.push(["time", formatDuration(o.seconds)]);
  return formatTable(rows) + o.tables.map(formatResultTable).join("");
}

/** A result table as aligned text (numbers to 4 decimals). */
export function formatResultTable(t: ResultTable): string {
  const cell = (v: string | number | null) => (v === null ? "—" : typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : v);
  const rows = [t.columns, ...t.rows.map((r) => r.map(cell))];
  const w = t.columns.map((_, j) => maxOf(rows.map((r) => String(r[j] ?? "").length)));
  const line = (r: string[]) => "  " + r.map((c, j) => (j === 0 ? c.padEnd(w[j]) : c.padStart(w[j]))).join("  ");
  return `\n ${t.title}\n${line(rows[0] as string[])}\n${rows.slice(1).map((r) => line(r as string[])).join("\n")}\n${t.note ? `  ${t.note}\n` : ""}`;
}

export type { RunRow };
