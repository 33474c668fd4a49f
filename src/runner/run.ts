/**
 * Runs one experiment: validates the configuration, creates the run folder and store row, trains with
 * progress, computes figures and the verdict, and writes summary.json. A run is marked `finished` only
 * after its summary is on disk; a stopped (SIGINT/SIGTERM) run is `interrupted` and can be resumed from
 * its last checkpoint; a crashed one is `failed` with its error.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { GenlabError, type ErrorIssue } from "../core/errors.ts";
import { hashConfig } from "../core/hash.ts";
import { currentDevice, initDevices } from "../core/jax.ts";
import type { LogRecord, TrainCheckpoint } from "../train/loop.ts";
import type { Experiment, Json, RunContext, Size, Verdict } from "./experiment.ts";
import { genlabVersion, jaxVersion, writeFileAtomic, writeJsonAtomic } from "./files.ts";
import { Progress, formatDuration, formatTable } from "./progress.ts";
import { findExperiment } from "./registry.ts";
import { coerceValue, parseValues, unknownKeyIssue, type Values } from "./schema.ts";
import { RunStore } from "./store.ts";

export type RunOptions = {
  experiment: string;
  seed: number;
  size: Size;
  /** Raw `--set key=value` pairs. */
  set: string[];
  outDir: string;
  storePath?: string;
  /** Progress output; defaults to stderr. */
  stream?: NodeJS.WriteStream;
  quiet?: boolean;
};

export type RunSummary = {
  run_id: string;
  experiment: string;
  paper: number;
  title: string;
  claim: string;
  size: Size;
  seed: number;
  hparams: Values;
  settings: Values;
  status: "finished" | "interrupted";
  verdict: Verdict["verdict"] | null;
  criterion: string | null;
  measured: Record<string, number | null>;
  results: Json;
  seconds: number;
  figures: string[];
  dir: string;
  genlab_version: string;
  jax_version: string;
  device: string;
};

/** Split `--set` pairs into hparams and settings and validate both (all problems reported at once). */
export function resolveConfig(exp: Experiment, size: Size, set: string[]): { hparams: Values; settings: Values } {
  const issues: ErrorIssue[] = [];
  const h: Record<string, unknown> = { ...(size === "full" ? {} : exp.sizes[size]) };
  const s: Record<string, unknown> = {};
  for (const pair of set) {
    const eq = pair.indexOf("=");
    if (eq <= 0) {
      issues.push({ code: "invalid_flag", path: ["--set"], message: `expected key=value, got ${JSON.stringify(pair)}` });
      continue;
    }
    const key = pair.slice(0, eq).trim();
    const raw = pair.slice(eq + 1);
    if (key in exp.hparams) h[key] = coerceValue(exp.hparams[key], raw);
    else if (key in exp.settings) s[key] = coerceValue(exp.settings[key], raw);
    else issues.push(unknownKeyIssue(key, [...Object.keys(exp.hparams), ...Object.keys(exp.settings)], ["--set", key]));
  }
  const hp = parseValues(exp.hparams, h, ["hparams"]);
  const st = parseValues(exp.settings, s, ["settings"]);
  if (!hp.ok) issues.push(...hp.issues);
  if (!st.ok) issues.push(...st.issues);
  if (issues.length || !hp.ok || !st.ok) throw new GenlabError(issues);
  return { hparams: hp.value, settings: st.value };
}

function runIdFor(exp: Experiment, hparamsHash: string, seed: number): string {
  const t = new Date();
  const stamp = t.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `${exp.id}-${hparamsHash.slice(0, 8)}-s${seed}-${stamp}${String(t.getMilliseconds()).padStart(3, "0")}`;
}

export function defaultStorePath(outDir: string): string {
  return join(outDir, "genlab.db");
}

type Prepared = { exp: Experiment; hparams: Values; settings: Values; seed: number; size: Size; runId: string; dir: string; resume?: TrainCheckpoint; startedAt: number };

async function execute(p: Prepared, store: RunStore, opts: { stream?: NodeJS.WriteStream; quiet?: boolean }): Promise<RunSummary> {
  const { exp, hparams, settings, seed, size, runId, dir } = p;
  const metricsPath = join(dir, "metrics.jsonl");
  const metrics: LogRecord[] = [];
  if (p.resume && existsSync(metricsPath)) {
    for (const line of readFileSync(metricsPath, "utf8").split("\n")) {
      if (!line.trim()) continue;
      try {
        const rec = JSON.parse(line) as LogRecord;
        if (rec.step <= p.resume.step) metrics.push(rec);
      } catch {
        // a line cut off by the kill that interrupted the run
      }
    }
    writeFileAtomic(metricsPath, metrics.map((m) => JSON.stringify(m)).join("\n") + (metrics.length ? "\n" : ""));
    store.truncateMetrics(runId, p.resume.step);
  }

  let stopRequested = false;
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    stopRequested = true;
    if (signals === 1) (opts.stream ?? process.stderr).write(`\n${sig}: stopping after this step and saving a checkpoint (again to quit now)\n`);
    else {
      store.finishRun(runId, { status: "interrupted", error: `stopped by ${sig}` });
      process.exit(130);
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const progress = new Progress(exp.id, { stream: opts.stream, quiet: opts.quiet });
  const ckPath = join(dir, "checkpoint.json");
  const ctx: RunContext = {
    experiment: exp.id,
    hparams,
    settings,
    seed,
    size,
    resume: p.resume,
    async log(rec) {
      metrics.push(rec);
      appendFileSync(metricsPath, JSON.stringify(rec) + "\n");
      store.appendMetrics(runId, rec);
    },
    history: () => metrics.slice(),
    progress(step, total, extra) {
      progress.update(step, total, extra);
    },
    async saveCheckpoint(ck) {
      writeJsonAtomic(ckPath, ck);
    },
    shouldStop: () => stopRequested,
  };

  const t0 = performance.now();
  let results: Json;
  try {
    results = await exp.run(ctx);
  } catch (e) {
    progress.stop();
    const status = stopRequested ? "interrupted" : "failed";
    store.finishRun(runId, { status, error: (e as Error).message, seconds: (performance.now() - t0) / 1000 });
    throw e;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  progress.stop();
  const seconds = (performance.now() - p.startedAt) / 1000;

  const base = {
    run_id: runId,
    experiment: exp.id,
    paper: exp.paper,
    title: exp.title,
    claim: exp.claim,
    size,
    seed,
    hparams,
    settings,
    results,
    seconds,
    dir,
    genlab_version: genlabVersion(),
    jax_version: jaxVersion(),
    device: currentDevice(),
  };
  if (stopRequested) {
    const summary: RunSummary = { ...base, status: "interrupted", verdict: null, criterion: null, measured: {}, figures: [] };
    store.finishRun(runId, { status: "interrupted", seconds, error: "stopped by signal; resume with: genlab resume " + runId });
    return summary;
  }

  const v = exp.verdict(results, hparams);
  const figures: string[] = [];
  const { headlessDocument, svgToPng } = await import("../report/render.ts");
  for (const fig of exp.figures(results, metrics, hparams, headlessDocument())) {
    const svgPath = join(dir, "figures", `${fig.name}.svg`);
    writeFileAtomic(svgPath, fig.svg);
    writeFileAtomic(join(dir, "figures", `${fig.name}.png`), svgToPng(fig.svg));
    figures.push(svgPath, join(dir, "figures", `${fig.name}.png`));
  }
  const summary: RunSummary = { ...base, status: "finished", verdict: v.verdict, criterion: v.criterion, measured: v.measured, figures };
  writeJsonAtomic(join(dir, "summary.json"), summary);
  store.finishRun(runId, { status: "finished", verdict: v.verdict, seconds, summary: JSON.stringify(summary) });
  return summary;
}

function openStore(outDir: string, storePath?: string): RunStore {
  return new RunStore(resolve(storePath ?? defaultStorePath(outDir)));
}

export async function runExperiment(registry: readonly Experiment[], opts: RunOptions): Promise<RunSummary> {
  const exp = findExperiment(registry, opts.experiment);
  const { hparams, settings } = resolveConfig(exp, opts.size, opts.set);
  const device = await initDevices();
  const store = openStore(opts.outDir, opts.storePath);
  try {
    const hparamsHash = hashConfig({ experiment: exp.id, hparams });
    const runId = runIdFor(exp, hparamsHash, opts.seed);
    const dir = resolve(opts.outDir, runId);
    const config = {
      run_id: runId,
      experiment: exp.id,
      paper: exp.paper,
      size: opts.size,
      seed: opts.seed,
      hparams,
      settings,
      hparams_hash: hparamsHash,
      genlab_version: genlabVersion(),
      jax_version: jaxVersion(),
      device,
      node_version: process.version,
      jax_threads: Number(process.env.JAX_THREADS ?? 0),
      command: `genlab run ${exp.id} --seed ${opts.seed}${opts.size === "full" ? "" : ` --size ${opts.size}`}${opts.set.map((s) => ` --set ${s}`).join("")}`,
      started_at: new Date().toISOString(),
    };
    writeJsonAtomic(join(dir, "config.json"), config);
    writeFileSync(join(dir, "metrics.jsonl"), "");
    store.insertRun({
      id: runId,
      experiment: exp.id,
      paper: exp.paper,
      size: opts.size,
      seed: opts.seed,
      hparams_hash: hparamsHash,
      hparams: JSON.stringify(hparams),
      settings: JSON.stringify(settings),
      started_at: config.started_at,
      dir,
      genlab_version: config.genlab_version,
      jax_version: config.jax_version,
      device,
    });
    return await execute({ exp, hparams, settings, seed: opts.seed, size: opts.size, runId, dir, startedAt: performance.now() }, store, opts);
  } finally {
    store.close();
  }
}

/** Continue an interrupted run from its last checkpoint; the result is identical to an uninterrupted run. */
export async function resumeRun(registry: readonly Experiment[], runId: string, opts: { outDir: string; storePath?: string; stream?: NodeJS.WriteStream; quiet?: boolean }): Promise<RunSummary> {
  const store = openStore(opts.outDir, opts.storePath);
  try {
    const row = store.getRun(runId);
    if (!row) throw new GenlabError({ code: "unknown_run", path: ["<run-id>"], message: `no run ${JSON.stringify(runId)} in ${store.path}` });
    if (row.status === "finished") throw new GenlabError({ code: "finished", path: ["<run-id>"], message: `run ${runId} already finished; nothing to resume` });
    if (row.status === "running") throw new GenlabError({ code: "running", path: ["<run-id>"], message: `run ${runId} is still running (pid ${row.pid})` });
    const ckPath = join(row.dir, "checkpoint.json");
    if (!existsSync(ckPath)) throw new GenlabError({ code: "no_checkpoint", path: [ckPath], message: "the run has no checkpoint to resume from; start it again with genlab run" });
    const exp = findExperiment(registry, row.experiment);
    await initDevices();
    const resume = JSON.parse(readFileSync(ckPath, "utf8")) as TrainCheckpoint;
    store.reopenRun(runId);
    return await execute(
      { exp, hparams: JSON.parse(row.hparams), settings: JSON.parse(row.settings), seed: row.seed, size: row.size as Size, runId, dir: row.dir, resume, startedAt: performance.now() },
      store,
      opts,
    );
  } finally {
    store.close();
  }
}

export function summaryTable(s: RunSummary): string {
  const rows: [string, string][] = [
    ["run", s.run_id],
    ["experiment", `${s.experiment} (paper ${s.paper})`],
    ["size / seed", `${s.size} / ${s.seed}`],
    ["status", s.status],
  ];
  for (const [k, v] of Object.entries(s.measured)) rows.push([k, v === null ? "null (not reached)" : /step/.test(k) ? String(v) : v.toFixed(4)]);
  if (s.verdict) rows.push(["verdict", s.verdict]);
  if (s.criterion) rows.push(["criterion", s.criterion]);
  rows.push(["time", formatDuration(s.seconds)]);
  rows.push(["folder", s.dir]);
  const figs = s.figures.filter((f) => f.endsWith(".png"));
  if (figs.length) rows.push(["figures", figs.join(", ")]);
  return formatTable(rows);
}
