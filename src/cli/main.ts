/**
 * The `genlab` command line: argument parsing and printing only. Errors a user can fix are printed as
 * `✖ message → at path` with a non-zero exit code, never as a stack trace.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { readFileSync, existsSync, renameSync, rmSync, statSync } from "node:fs";
import { availableParallelism, cpus, hostname } from "node:os";
import { execFileSync } from "node:child_process";
import { join, resolve } from "node:path";
import { EXPERIMENTS } from "../../experiments/index.ts";
import { TOUR, TOUR_NOTE } from "../../experiments/tour.ts";
import { CLASS_MEANING, PAPERS } from "../../experiments/papers.ts";
import { PAPER_SPECS } from "../../experiments/paperSpecs.ts";
import { writeFigureFiles } from "../report/figures.ts";
import { recordOf, writeRecords } from "../report/records.ts";
import { formatMeasured } from "../report/html.ts";
import { NOT_IN_TOUR, renderReport, reproduce, reproductionsInStore, type ReportEntry } from "../report/reproduce.ts";
import { createDashboardServer, listen, needsToken, newToken } from "../server/serve.ts";
import { GenlabError, formatIssue } from "../core/errors.ts";
import { SIZES, type Size, type Verdict } from "../declare/experiment.ts";
import { jsonNumbers } from "../declare/criteria.ts";
import { genlabVersion } from "../runner/files.ts";
import { shardFromEnv } from "../runner/pool.ts";
import { formatDuration, formatTable } from "../runner/progress.ts";
import { findExperiment, sortedBySeed } from "../declare/registry.ts";
import { resolveConfig } from "../declare/plan.ts";
import { defaultStorePath, openStore, outcomeTable, resumeRun, runExperiment, summaryTable, type Outcome, type RunSummary } from "../runner/run.ts";
import { reindexStore, runFolders } from "../runner/reindex.ts";
import { describeField } from "../declare/schema.ts";
import { RunStore, fileKind } from "../runner/store.ts";
import { describeCalculator, runCalculator, CALCULATORS } from "../declare/calculators.ts";
import { BACKEND, describeBackend } from "../platform/backend.ts";
import { addDataCommands } from "./dataCommands.ts";
import { addMeasureCommand } from "./measureCommand.ts";
import { addRelianceCommand } from "./relianceCommand.ts";
import { addCkaCommand } from "./ckaCommand.ts";
import { addCalibrateCommand } from "./calibrateCommand.ts";
import { out, err } from "../io/console.ts";

const CATALOGUE = { papers: PAPERS.map((p) => ({ ...p, ...PAPER_SPECS[p.number] })), classMeaning: CLASS_MEANING };
const BIN = resolve(import.meta.dirname, "../../bin/genlab.js");

/** Decimal integers only: "0x10", "1e3", "+5", " 7" and "" are refused (Number() would accept them). */
function decimalInteger(v: string, lo: number, hi: number, what: string): number {
  const n = /^(0|[1-9][0-9]{0,15})$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < lo || n > hi) throw new InvalidArgumentError(`expected ${what}, got ${JSON.stringify(v)}`);
  return n;
}

const parseJobs = (v: string) => decimalInteger(v, 1, 256, "a number of worker processes in [1, 256]");
const parseCount = (v: string) => decimalInteger(v, 1, Number.MAX_SAFE_INTEGER, "a positive decimal integer");

/** Figures of an outcome: into the run folder for a single run, else `<out>/results/<exp>-<size>/figures`. */
function writeOutcomeFigures(o: Outcome, outDir: string): string[] {
  if (!o.verdict) return [];
  const dir = o.points.length === 1 ? join(o.points[0].dir, "figures") : join(resolve(outDir), "results", `${o.experiment}-${o.size}`, "figures");
  return writeFigureFiles(dir, o.figures);
}

/** A verdict as JSON: the label, the criterion, every check with its value, threshold and margin. */
function verdictJson(v: Verdict | null) {
  return v ? { verdict: v.verdict, reason: v.reason ?? null, criterion: v.criterion, seeds: v.seeds, checks: v.checks, measured: v.measured, brackets: v.brackets ?? {} } : { verdict: null, reason: null, criterion: null, seeds: [], checks: [], measured: {}, brackets: {} };
}

/** What `genlab run --json` prints: the reproduction (every point and seed), its verdict and its control. */
function outcomeJson(o: Outcome, figures: string[]) {
  const control = o.control ? { what: o.control.what, in_run: o.control.inRun, failed: o.control.failed, ...verdictJson(o.control.verdict), run_ids: o.control.runIds } : null;
  return {
    experiment: o.experiment,
    paper: o.paper,
    size: o.size,
    status: [...o.points, ...o.controlPoints].every((p) => p.status === "finished") ? "finished" : "interrupted",
    ...verdictJson(o.verdict),
    error: o.error ?? null,
    control,
    figures,
    points: o.points.map((p) => ({ run_id: p.run_id, seed: p.seed, hparams: p.hparams, results: p.results, reused: !!p.reused, dir: p.dir })),
    // A reproduction of one point also shows that run's fields at the top (run_id, results, dir, …).
    ...(o.points.length === 1 ? { run_id: o.points[0].run_id, seed: o.points[0].seed, hparams: o.points[0].hparams, settings: o.points[0].settings, results: o.points[0].results, reused: !!o.points[0].reused, dir: o.points[0].dir, device: o.points[0].device, genlab_version: o.points[0].genlab_version, jax_version: o.points[0].jax_version } : {}),
    seconds: o.seconds,
  };
}


const parseSeed = (v: string) => decimalInteger(v, 0, 0xffffffff, "a decimal integer in [0, 4294967295]");
const parseSeeds = (v: string) => decimalInteger(v, 1, 100, "a number of seeds in [1, 100]");
const parsePort = (v: string) => decimalInteger(v, 0, 65535, "a port in [0, 65535]");

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

function printRun(s: RunSummary, json: boolean): void {
  if (json) out(JSON.stringify(s, null, 2) + "\n");
  else out(summaryTable(s));
}

const MAX_SUMMARY_BYTES = 64 << 20;

/** A run's summary.json, or the store's copy when the file is missing or damaged (said on stderr). */
function readSummary(row: { dir: string; summary: string | null }): RunSummary | null {
  const path = join(row.dir, "summary.json");
  const st = existsSync(path) ? statSync(path) : null;
  // A FIFO would block the read, a device or a huge file fill the memory: a regular file of a bounded size only.
  if (st && (!st.isFile() || st.size > MAX_SUMMARY_BYTES)) err(`✖ ${path} is ${st.isFile() ? `${st.size} bytes, more than the ${MAX_SUMMARY_BYTES} a summary can be` : `${fileKind(st)}, not a regular file`}${row.summary ? "; showing the store's copy" : ""}\n`);
  else if (st) {
    try {
      return JSON.parse(readFileSync(path, "utf8")) as RunSummary;
    } catch (e) {
      err(`✖ ${path} is damaged (${(e as Error).message})${row.summary ? "; showing the store's copy" : ""}\n`);
    }
  }
  return row.summary ? (JSON.parse(row.summary) as RunSummary) : null;
}

/** A new store next to run folders it does not list: say how to get them back (the store is never guessed). */
function warnOrphans(outDir: string, storeOpt?: string): void {
  const storePath = resolve(storeOpt ?? defaultStorePath(outDir));
  if (existsSync(storePath)) return;
  const n = runFolders(outDir).length;
  if (n > 0) err(`note: ${resolve(outDir)} holds ${n} run folder${n === 1 ? "" : "s"} but no run store; a new empty store is made (genlab reindex --out ${outDir} rebuilds it from the folders)\n`);
}

/** The final summary table (or one JSON line per experiment): PASS, FAIL, INCONCLUSIVE, ERROR and not run apart. */
function printEntries(entries: ReportEntry[], json: boolean, title: string): void {
  if (json) {
    for (const { exp, size, outcome: o, notRun } of entries) {
      const status = notRun ? "not run" : !o ? null : o.error ? "ERROR" : (o.verdict?.verdict ?? null);
      out(
        JSON.stringify({
          id: exp.id,
          paper: exp.paper,
          size,
          coverage: exp.coverage.level,
          verdict: status,
          ...(notRun ? { not_run: notRun } : {}),
          ...(o?.error ? { error: o.error } : {}),
          reason: o?.verdict?.reason ?? null,
          criterion: o?.verdict?.criterion ?? null,
          checks: o?.verdict?.checks.map((c) => ({ id: c.id, role: c.role, value: c.value, threshold: c.threshold, cmp: c.cmp, margin: c.margin, ok: c.ok })) ?? [],
          measured: o?.verdict?.measured ?? {},
          control: o?.control ? { verdict: o.control.verdict?.verdict ?? null, failed: o.control.failed } : null,
          seeds: o?.seeds ?? [],
          runs: o ? o.points.length + o.controlPoints.length : 0,
          seconds: o ? Number([...o.points, ...o.controlPoints].reduce((b, p) => b + (p.reused ? 0 : p.seconds), 0).toFixed(3)) : 0,
        }, jsonNumbers) + "\n",
      );
    }
    return;
  }
  const counts: Record<string, number> = {};
  const rows: [string, string][] = entries.map(({ exp, outcome: o, notRun }) => {
    const label = notRun ? "not run" : !o ? "interrupted" : o.error ? "ERROR" : (o.verdict?.verdict ?? "interrupted");
    counts[label] = (counts[label] ?? 0) + 1;
    if (notRun || !o) return [`${exp.paper}. ${exp.id}`, notRun ?? "interrupted"];
    const v = o.verdict;
    const missed = v ? v.checks.filter((c) => !c.ok).map((c) => `✗ ${c.id} ${formatMeasured(c.value)}`) : [];
    const ctl = o.control?.verdict ? ` · control ${o.control.verdict.verdict === "PASS" ? "PASSES (WARNING)" : `${o.control.verdict.verdict}${o.control.failed.length ? ` (fails ${o.control.failed.length})` : ""}`}` : "";
    return [
      `${exp.paper}. ${exp.id}`,
      `${label}${exp.coverage.level === "partial" ? " (partial coverage)" : ""}${o.seeds.length > 1 ? ` · seeds ${o.seeds[0]}–${o.seeds[o.seeds.length - 1]}` : ` · seed ${o.seeds[0]}`}${missed.length ? ` · ${missed.slice(0, 2).join(", ")}` : ""}${ctl} · ${formatDuration([...o.points, ...o.controlPoints].reduce((b, p) => b + (p.reused ? 0 : p.seconds), 0))}${o.error ? ` · ${o.error}` : ""}`,
    ];
  });
  rows.push(["verdicts", ["PASS", "FAIL", "INCONCLUSIVE", "ERROR", "not run", "interrupted"].filter((k) => counts[k]).map((k) => `${counts[k]} ${k}`).join(" · ")]);
  const done = new Set(sortedBySeed(EXPERIMENTS).filter((e) => e.kind !== "benchmark").map((e) => e.paper)).size;
  rows.push(["not yet implemented", `${PAPERS.length - done} of ${PAPERS.length} papers`]);
  out(formatTable(rows, title));
}

/** The checked-out commit (with "+dirty" when the tree has changes), or "unknown" outside a git checkout. */
function gitCommit(): string {
  try {
    const root = resolve(import.meta.dirname, "../..");
    const head = execFileSync("git", ["-C", root, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["-C", root, "status", "--porcelain", "--untracked-files=no"], { encoding: "utf8" }).trim();
    return head + (dirty ? "+dirty" : "");
  } catch {
    return "unknown";
  }
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name("genlab")
    .description("A laboratory for the science of generalization in neural networks")
    .version(`${genlabVersion()}\nmatmul backend: ${describeBackend()}`)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureOutput({ writeOut: (s) => out(s), writeErr: (s) => err(s.startsWith("error: ") ? `✖ ${s.slice(7)}` : s), outputError: (s, write) => write(s) });

  program
    .command("list")
    .description("list the registered experiments (id, paper number in seed order, class, title)")
    .option("--json", "print JSON")
    .action((o: { json?: boolean }) => {
      const list = sortedBySeed(EXPERIMENTS).map((e) => {
        const paper = PAPERS.find((p) => p.number === e.paper);
        return { id: e.id, paper: e.paper, class: paper?.paperClass ?? "?", paper_title: paper?.title ?? "", title: e.title, coverage: e.coverage.level, claim: e.claim({ ...Object.fromEntries(Object.entries(e.hparams).map(([k, f]) => [k, f.default])) }), cost: e.cost, sweep: !!e.sweep };
      });
      if (o.json) {
        out(JSON.stringify(list, null, 2) + "\n");
        return;
      }
      const w = Math.max(...list.map((e) => e.id.length));
      out(`${"id".padEnd(w)}  paper  class  title\n`);
      for (const e of list) out(`${e.id.padEnd(w)}  ${String(e.paper).padStart(5)}  ${e.class.padStart(5)}  ${e.title}\n`);
    });

  program
    .command("run")
    .description("run one experiment (all points of its sweep, and its negative control)")
    .argument("<experiment>", "experiment id (see genlab list)")
    .option("--seed <n>", "the first seed: an experiment of n seeds runs seed … seed + n − 1", parseSeed, 0)
    .option("--seeds <n>", "how many seeds (default: the experiment's declared count at this size)", parseSeeds)
    .option("--quick", "the quick size (≤ 2 minutes on one core)")
    .addOption(new Option("--size <size>", "smoke | quick | full").choices(SIZES as string[]))
    .option("--set <key=value>", "override an hparam or setting (repeatable)", collect, [])
    .option("--out <dir>", "folder for run folders and the run store", "runs")
    .option("--store <path>", "run store file (default <out>/genlab.db)")
    .option("--force", "rerun points that already finished with the same hparams, seed, size and genlab version")
    .option("--no-control", "skip the negative control")
    .option("--json", "print the summary as JSON on stdout")
    .option("--params", "print the experiment's hparams and settings and exit")
    .action(async (id: string, o: { seed: number; seeds?: number; quick?: boolean; size?: Size; set: string[]; out: string; store?: string; json?: boolean; params?: boolean; force?: boolean; control: boolean }) => {
      if (o.quick && o.size && o.size !== "quick") throw new GenlabError({ code: "conflict", path: ["--size"], message: `--quick conflicts with --size ${o.size}` });
      const size: Size = o.size ?? (o.quick ? "quick" : "full");
      if (o.params) {
        const exp = findExperiment(EXPERIMENTS, id);
        // The values this run would use: the size's, then --set (validated like a run's).
        const { hparams, settings } = resolveConfig(exp, size, o.set);
        const given = new Set(o.set.map((p) => p.slice(0, Math.max(0, p.indexOf("="))).trim()));
        const rows: [string, string][] = [];
        for (const [k, f] of Object.entries({ ...exp.hparams, ...exp.settings })) {
          const v = k in hparams ? hparams[k] : settings[k];
          rows.push([k, `${JSON.stringify(v)}${given.has(k) ? " (--set)" : ""}  — ${f.doc}; ${describeField(f)}${k in exp.settings ? " (setting, not hashed)" : ""}`]);
        }
        out(formatTable(rows, `${exp.id} (${size})`));
        return;
      }
      warnOrphans(o.out, o.store);
      const outcome = await runExperiment(EXPERIMENTS, { experiment: id, seed: o.seed, seedCount: o.seeds, size, set: o.set, outDir: o.out, storePath: o.store, force: o.force, control: o.control });
      const figures = writeOutcomeFigures(outcome, o.out);
      if (o.json) out(JSON.stringify(outcomeJson(outcome, figures), jsonNumbers, 2) + "\n");
      else out(outcomeTable(outcome) + (outcome.points.length === 1 ? ` folder: ${outcome.points[0].dir}\n` : "") + (figures.length ? ` figures: ${figures.filter((f) => f.endsWith(".png")).join(", ")}\n` : ""));
      if (outcome.error) process.exitCode = 1;
      const stopped = outcome.points.find((p) => p.status === "interrupted") ?? outcome.controlPoints.find((p) => p.status === "interrupted");
      if (stopped) {
        err(`interrupted; resume with: genlab resume ${stopped.run_id}${o.out !== "runs" ? ` --out ${o.out}` : ""}\n`);
        process.exitCode = 130;
      }
    });

  program
    .command("calc")
    .description("a closed-form theory calculator: prints its outputs for the given parameters (--list: every calculator, its parameters, units and paper)")
    .argument("[calculator]", `calculator id (${Object.keys(CALCULATORS).join(", ")})`)
    .option("--set <key=value>", "a parameter (repeatable)", collect, [])
    .option("--list", "list the calculators with their parameters, units and papers")
    .option("--json", "print JSON")
    .action(async (id: string | undefined, o: { set: string[]; list?: boolean; json?: boolean }) => {
      if (!id || o.list) {
        const all = (id ? [id] : Object.keys(CALCULATORS)).map(describeCalculator);
        if (o.json) out(JSON.stringify(all, null, 2) + "\n");
        else for (const c of all) out(`${c.id} (paper ${c.paper}): ${c.doc}\n  parameters:\n${c.params.map((l) => `    ${l}\n`).join("")}  outputs:\n${c.outputs.map((l) => `    ${l}\n`).join("")}\n`);
        return;
      }
      const r = await runCalculator(id, o.set);
      const unit = (k: string) => (r.units[k] ? ` [${r.units[k]}]` : "");
      if (o.json) out(JSON.stringify(r, null, 2) + "\n");
      else out(formatTable([...Object.entries(r.inputs).map(([k, v]) => [`${k}${unit(k)}`, String(v)] as [string, string]), ...Object.entries(r.outputs).map(([k, v]) => [`→ ${k}${unit(k)}`, formatMeasured(v)] as [string, string])], `${id} (paper ${r.paper})`));
    });

  program
    .command("reproduce")
    .description("run what the store lacks of the reproductions (their seeds, sweeps and controls) and write the HTML report")
    .option("--quick", "the quick size of every reproduction (≤ 2 minutes each on one core)")
    .addOption(new Option("--size <size>", "smoke | quick | full").choices(SIZES as string[]))
    .option("--only <ids>", "comma-separated experiment ids (see genlab list)")
    .option("--seed <n>", "the first seed of every reproduction (each runs its declared number of seeds from there)", parseSeed, 0)
    .option("--seeds <n>", "seeds per reproduction (default: each one's declared count)", parseSeeds)
    .option("--tour", `a short tour: ${TOUR.join(", ")} (what npm start runs); the report shows the rest with their verdicts of record`)
    .option("--jobs <n>", "worker processes, each single-threaded (default: the number of cores)", parseJobs)
    .option("--shard <i/n>", "run only shard i of n (default from SLURM_ARRAY_TASK_ID/COUNT or JOB_COMPLETION_INDEX)")
    .option("--shard-count <n>", "the number of shards of a Kubernetes Indexed Job (with JOB_COMPLETION_INDEX)", parseCount)
    .option("--force", "rerun runs that already finished")
    .option("--no-control", "skip the negative controls (the report shows them as not run)")
    .option("--report <dir>", "folder for the report (index.html)", "report")
    .option("--out <dir>", "folder for run folders and the run store", "runs")
    .option("--store <path>", "run store file (default <out>/genlab.db)")
    .option("--json", "print one JSON object per experiment on stdout")
    .action(async (o: { quick?: boolean; size?: Size; only?: string; seed: number; seeds?: number; tour?: boolean; jobs?: number; shard?: string; shardCount?: number; force?: boolean; control: boolean; report: string; out: string; store?: string; json?: boolean }) => {
      if (o.quick && o.size && o.size !== "quick") throw new GenlabError({ code: "conflict", path: ["--size"], message: `--quick conflicts with --size ${o.size}` });
      const size: Size = o.size ?? (o.quick ? "quick" : "full");
      if (o.tour && o.only) throw new GenlabError({ code: "conflict", path: ["--tour"], message: "--tour conflicts with --only" });
      const only = o.tour ? [...TOUR] : o.only?.split(",").map((x) => x.trim()).filter(Boolean);
      const shard = shardFromEnv(o.shard, o.shardCount);
      const jobs = o.jobs ?? availableParallelism();
      const command = `genlab reproduce${size === "full" ? "" : size === "quick" ? " --quick" : ` --size ${size}`}${o.tour ? " --tour" : only ? ` --only ${only.join(",")}` : ""}${o.seed ? ` --seed ${o.seed}` : ""}${o.seeds ? ` --seeds ${o.seeds}` : ""}${o.control ? "" : " --no-control"}${shard ? ` --shard ${shard.index}/${shard.count}` : ""}`;
      warnOrphans(o.out, o.store);
      const r = await reproduce(EXPERIMENTS, CATALOGUE, { size, only, tour: !!o.tour, seed: o.seed, seeds: o.seeds, outDir: o.out, storePath: o.store, reportDir: o.report, command, jobs, shard, force: o.force, workerScript: BIN, control: o.control });
      printEntries(r.entries.filter((e) => !e.listed && !e.notRun?.startsWith(NOT_IN_TOUR)), !!o.json, `reproduce (${size}${o.tour ? ", tour" : ""}, first seed ${o.seed}; ${r.ran} run, ${r.reused} reused, ${formatDuration(r.seconds)} wall, --jobs ${jobs})`);
      if (o.tour) err(`The tour ran ${TOUR.length} of ${EXPERIMENTS.length} experiments; the report shows the others' verdicts of record. Everything: genlab reproduce --quick (${TOUR_NOTE}).\n`);
      err(`report: ${r.reportPath}\n`);
      if (r.interrupted) process.exitCode = 130;
      else if (r.entries.some((e) => e.outcome?.error)) process.exitCode = 1;
    });

  program
    .command("record")
    .description("run reproductions (default: the full size) and store their verdicts of record in docs/results/records.json, with commit, date, machine and wall time")
    .requiredOption("--only <ids>", "comma-separated experiment ids")
    .addOption(new Option("--size <size>", "smoke | quick | full").choices(SIZES as string[]).default("full"))
    .option("--seed <n>", "the first seed", parseSeed, 0)
    .option("--jobs <n>", "worker processes", parseJobs)
    .option("--out <dir>", "folder for run folders and the run store", "runs")
    .option("--store <path>", "run store file (default <out>/genlab.db)")
    .option("--report <dir>", "folder for the report", "report")
    .option("--records <path>", "the records file (default docs/results/records.json)")
    .action(async (o: { only: string; size: Size; seed: number; jobs?: number; out: string; store?: string; report: string; records?: string }) => {
      const only = o.only.split(",").map((x) => x.trim()).filter(Boolean);
      const jobs = o.jobs ?? availableParallelism();
      const t0 = performance.now();
      const r = await reproduce(EXPERIMENTS, CATALOGUE, { size: o.size, only, seed: o.seed, outDir: o.out, storePath: o.store, reportDir: o.report, command: `genlab record --only ${only.join(",")} --size ${o.size}`, jobs, shard: null, workerScript: BIN });
      if (r.interrupted) {
        process.exitCode = 130;
        return;
      }
      const commit = gitCommit();
      const date = new Date().toISOString().slice(0, 10);
      const machine = `${availableParallelism()} cores, ${cpus()[0]?.model ?? "unknown CPU"}`;
      const recs = r.entries.filter((e) => e.outcome && !e.listed).map((e) => recordOf(e.outcome!, { commit, date, machine, backend: BACKEND.name, wall_s: Math.round([...e.outcome!.points, ...e.outcome!.controlPoints].reduce((a, p) => a + (p.reused ? 0 : p.seconds), 0)) }));
      writeRecords(recs, o.records ? resolve(o.records) : undefined);
      printEntries(r.entries.filter((e) => !e.listed), false, `recorded (${o.size}; ${formatDuration((performance.now() - t0) / 1000)} wall, --jobs ${jobs})`);
      for (const e of r.entries) if (e.notRun && !e.listed) err(`${e.exp.id}: ${e.notRun}; not recorded\n`);
    });

  program
    .command("report")
    .description("render the HTML report from a run store, running nothing")
    .addOption(new Option("--size <size>", "smoke | quick | full (default: each experiment's largest size in the store)").choices(SIZES as string[]))
    .option("--only <ids>", "comma-separated experiment ids")
    .option("--report <dir>", "folder for the report (index.html)", "report")
    .option("--out <dir>", "folder of the run store", "runs")
    .option("--store <path>", "run store file (default <out>/genlab.db)")
    .option("--json", "print one JSON object per experiment on stdout")
    .action((o: { size?: Size; only?: string; report: string; out: string; store?: string; json?: boolean }) => {
      const storePath = resolve(o.store ?? defaultStorePath(o.out));
      if (!existsSync(storePath)) throw new GenlabError({ code: "missing_store", path: [o.store ? "--store" : storePath], message: `no run store at ${storePath} (run genlab reproduce first, or pass --out/--store)` });
      const only = o.only?.split(",").map((x) => x.trim()).filter(Boolean);
      const store = new RunStore(storePath, { readonly: true });
      try {
        const r = renderReport(EXPERIMENTS, CATALOGUE, store, { size: o.size, only, command: `genlab report --store ${storePath}`, reportDir: o.report });
        printEntries(r.entries.filter((e) => !e.listed), !!o.json, `report from ${storePath}`);
        err(`report: ${r.reportPath}\n`);
      } finally {
        store.close();
      }
    });

  program
    .command("merge")
    .description("merge run stores (e.g. the shards of a cluster job) into one; the same run twice gives one row")
    .argument("<stores...>", "run store files to merge from")
    .requiredOption("--into <path>", "the store to merge into (created if missing)")
    .action((stores: string[], o: { into: string }) => {
      const into = resolve(o.into);
      const sources = stores.map((p) => resolve(p));
      // The same file under another name (a symlink, a hard link) is the same store.
      const same = (a: string, b: string) => {
        const [x, y] = [statSync(a), statSync(b)];
        return x.dev === y.dev && x.ino === y.ino;
      };
      for (const p of sources) {
        if (!existsSync(p)) throw new GenlabError({ code: "missing_store", path: [p], message: "no such run store" });
        if (p === into || (existsSync(into) && same(p, into))) throw new GenlabError({ code: "invalid_store", path: [p], message: "cannot merge a store into itself" });
      }
      // Sources are only read (an older schema through an upgraded copy in memory); every one is opened and
      // checked before the target is touched.
      const opened: RunStore[] = [];
      try {
        for (const p of sources) {
          const src = new RunStore(p, { readonly: true, upgradeCopy: true });
          opened.push(src);
          src.checkMergeable();
        }
        // A new target is written as a temporary file and renamed when complete: a failed merge leaves none.
        const fresh = !existsSync(into);
        const work = fresh ? `${into}.merge-${process.pid}.tmp` : into;
        let counts: { added: number; skipped: number }[];
        try {
          const target = new RunStore(work);
          try {
            counts = target.mergeFrom(opened);
          } finally {
            target.close();
          }
          if (fresh) renameSync(work, into);
        } finally {
          if (fresh) for (const f of [work, `${work}-wal`, `${work}-shm`]) rmSync(f, { force: true });
        }
        counts.forEach((r, i) => out(`${sources[i]}: ${r.added} run${r.added === 1 ? "" : "s"} added, ${r.skipped} already there\n`));
      } finally {
        for (const s of opened) s.close();
      }
    });

  program
    .command("serve")
    .description("the web dashboard over a run store (http://127.0.0.1:8321 by default)")
    .option("--port <n>", "TCP port (0: any free port)", parsePort, 8321)
    .option("--host <addr>", "address to bind (default loopback only; any other needs the printed token, see SECURITY.md)", "127.0.0.1")
    .option("--out <dir>", "folder of the run store", "runs")
    .option("--store <path>", "run store file (default <out>/genlab.db)")
    .action(async (o: { port: number; host: string; out: string; store?: string }) => {
      const storePath = resolve(o.store ?? defaultStorePath(o.out));
      if (!existsSync(storePath)) throw new GenlabError({ code: "missing_store", path: [o.store ? "--store" : storePath], message: `no run store at ${storePath} (run an experiment first, or pass --out/--store)` });
      const token = needsToken(o.host) ? process.env.GENLAB_TOKEN || newToken() : undefined;
      if (token && token.length < 16) throw new GenlabError({ code: "weak_token", path: ["GENLAB_TOKEN"], message: "expected a token of at least 16 characters" });
      // The token travels in the printed URL's query and in a cookie: characters that need no escaping in either.
      if (token && !/^[A-Za-z0-9._~-]+$/.test(token)) throw new GenlabError({ code: "bad_token", path: ["GENLAB_TOKEN"], message: "expected a token of the characters A–Z a–z 0–9 . _ ~ - only (it travels in a URL and a cookie)" });
      const assetsDir = resolve(import.meta.dirname, "../../web/dist");
      if (!existsSync(join(assetsDir, "index.html"))) {
        err("building the dashboard (vite, once)…\n");
        const { build } = await import("vite");
        await build({ configFile: resolve(import.meta.dirname, "../../web/vite.config.ts"), logLevel: "warn" });
      }
      const { server, store } = createDashboardServer({ port: o.port, host: o.host, storePath, assetsDir, token, reproductions: (st) => reproductionsInStore(EXPERIMENTS, st) });
      const port = await listen(server, o.port, o.host).catch((e: NodeJS.ErrnoException) => {
        store.close();
        throw new GenlabError({ code: "listen", path: ["--port"], message: `cannot listen on ${o.host}:${o.port} (${e.code ?? e.message})` });
      });
      if (token) {
        err(
          `WARNING: --host ${o.host} serves the dashboard beyond this machine's loopback: anyone who can reach ${o.host}:${port} and has the token can read every run in ${storePath}.\n` +
            `  Every request needs the token; the traffic is plain HTTP (use an SSH tunnel to 127.0.0.1 on shared networks; see SECURITY.md).\n`,
        );
        out(`genlab dashboard: http://${o.host === "0.0.0.0" || o.host === "::" ? hostname() : o.host}:${port}/?token=${token}  (store ${storePath}; Ctrl-C stops)\n`);
      } else out(`genlab dashboard: http://${o.host}:${port}/  (store ${storePath}; Ctrl-C stops)\n`);
      await new Promise<void>((done) => {
        const stop = () => {
          server.close();
          server.closeAllConnections();
          store.close();
          done();
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
    });

  program
    .command("resume")
    .description("continue an interrupted run from its last checkpoint")
    .argument("<run-id>")
    .option("--out <dir>", "folder for run folders and the run store", "runs")
    .option("--store <path>", "run store file (default <out>/genlab.db)")
    .option("--json", "print the summary as JSON on stdout")
    .option("--force", "resume a run the store still calls running (its process is gone: another machine, a reused pid)")
    .action(async (id: string, o: { out: string; store?: string; json?: boolean; force?: boolean }) => {
      const summary = await resumeRun(EXPERIMENTS, id, { outDir: o.out, storePath: o.store, force: o.force });
      let figures: string[] = [];
      const exp = EXPERIMENTS.find((e) => e.id === summary.experiment);
      if (summary.status === "finished" && exp && !exp.sweep) {
        const store = openStore(o.out, o.store);
        try {
          const { evaluateExperiment } = await import("../runner/run.ts");
          figures = writeOutcomeFigures(evaluateExperiment(exp, summary.size, [summary], [], store), o.out);
        } finally {
          store.close();
        }
      }
      printRun({ ...summary, figures }, !!o.json);
      if (summary.status === "interrupted") process.exitCode = 130;
    });

  program
    .command("reindex")
    .description("rebuild the run store from the run folders (a lost, emptied or damaged genlab.db)")
    .option("--out <dir>", "folder of the run folders", "runs")
    .option("--store <path>", "run store file to rebuild (default <out>/genlab.db)")
    .action((o: { out: string; store?: string }) => {
      const storePath = resolve(o.store ?? defaultStorePath(o.out));
      if (!existsSync(o.out)) throw new GenlabError({ code: "missing_folder", path: ["--out"], message: `no folder ${resolve(o.out)}` });
      const r = reindexStore(o.out, storePath);
      for (const s of r.skipped) err(`skipped ${s.dir}: ${s.why}\n`);
      out(formatTable([
        ["store", storePath],
        ["run folders", String(r.folders)],
        ["finished", String(r.finished)],
        ["interrupted (resumable if checkpointed)", String(r.interrupted)],
        ["kept from the old store (folders elsewhere)", String(r.kept)],
        ["skipped (damaged config.json)", String(r.skipped.length)],
      ], "reindex"));
    });

  program
    .command("show")
    .description("show a run: status, measured values, verdict, files")
    .argument("<run-id>")
    .option("--out <dir>", "folder for run folders and the run store", "runs")
    .option("--store <path>", "run store file (default <out>/genlab.db)")
    .option("--json", "print JSON")
    .action((id: string, o: { out: string; store?: string; json?: boolean }) => {
      const storePath = resolve(o.store ?? defaultStorePath(o.out));
      if (!existsSync(storePath)) throw new GenlabError({ code: "missing_store", path: [storePath], message: "no run store here yet (run an experiment first, or pass --out/--store)" });
      const store = new RunStore(storePath, { readonly: true });
      try {
        const found = store.getRun(id);
        if (!found) throw new GenlabError({ code: "unknown_run", path: ["<run-id>"], message: `no run ${JSON.stringify(id)} in ${storePath} (genlab runs lists them)` });
        const row = found;
        const summary = readSummary(row);
        if (o.json) {
          out(JSON.stringify({ ...row, hparams: JSON.parse(row.hparams), settings: JSON.parse(row.settings), summary }, null, 2) + "\n");
          return;
        }
        if (summary) {
          out(summaryTable({ ...summary, status: row.status as RunSummary["status"] } as RunSummary));
          return;
        }
        out(
          formatTable([
            ["run", row.id],
            ["experiment", `${row.experiment} (paper ${row.paper})`],
            ["size / seed", `${row.size} / ${row.seed}`],
            ["status", row.status],
            ["started", row.started_at],
            ["error", row.error ?? ""],
            ["folder", row.dir],
          ]),
        );
      } finally {
        store.close();
      }
    });

  program
    .command("runs")
    .description("list runs in the run store")
    .option("--experiment <id>", "only this experiment")
    .addOption(new Option("--status <status>", "only runs with this status").choices(["running", "finished", "failed", "interrupted"]))
    .option("--out <dir>", "folder for run folders and the run store", "runs")
    .option("--store <path>", "run store file (default <out>/genlab.db)")
    .option("--json", "print JSON")
    .action((o: { experiment?: string; status?: string; out: string; store?: string; json?: boolean }) => {
      const storePath = resolve(o.store ?? defaultStorePath(o.out));
      if (!existsSync(storePath)) {
        if (o.json) {
          out("[]\n");
          return;
        }
        out("no runs yet\n");
        return;
      }
      const store = new RunStore(storePath, { readonly: true });
      try {
        const rows = store.listRuns({ experiment: o.experiment, status: o.status });
        if (o.json) {
          out(JSON.stringify(rows.map(({ summary, ...r }) => ({ ...r, hparams: JSON.parse(r.hparams), settings: JSON.parse(r.settings), has_summary: summary !== null })), null, 2) + "\n");
          return;
        }
        for (const r of rows) out(`${r.id}  ${r.status.padEnd(11)}  ${(r.verdict ?? "-").padEnd(4)}  ${r.seconds === null ? "" : formatDuration(r.seconds as number)}\n`);
      } finally {
        store.close();
      }
    });
  addDataCommands(program);
  addMeasureCommand(program);
  addRelianceCommand(program);
  addCkaCommand(program);
  addCalibrateCommand(program);
  program.addHelpText(
    "after",
    `
Examples:
  genlab list
  genlab run grokking-modular --quick                 quick size (~75 s a run; the wd = 0 control runs too)
  genlab run grokking-modular --quick --set p=59 --seed 1 --json
  genlab run grokking-modular --params                hparams, settings, defaults and ranges
  genlab show <run-id>
  genlab resume <run-id>                              continue an interrupted run
  genlab reproduce --quick --jobs 2                   every quick reproduction, 2 worker processes
  genlab reproduce --shard 0/4 --out runs-0           one share of a cluster array job
  genlab merge runs-*/genlab.db --into all.db && genlab report --store all.db
  genlab calc rf-risk --set n=256 --set k=512 --set ridge=0.01
  genlab calc linear-dynamics --set ratio=1.25 --set t=100
  genlab calc --list

Runs go to ./runs (--out DIR). Matmuls run on OpenBLAS when the native addon built (--backend native),
else on jax-js's Wasm kernels (--backend wasm); genlab --version says which and why. JAX_THREADS=2 uses
2 threads (the wasm worker pool, or OpenBLAS's threads): faster, other round-off.`,
  );
  return program;
}

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === "__worker") {
    const { workerMain } = await import("./worker.ts");
    return workerMain();
  }
  const program = buildProgram();
  try {
    if (BACKEND.error) throw new GenlabError({ code: "backend", path: [BACKEND.errorAt ?? (process.env.GENLAB_BACKEND_FROM_FLAG ? "--backend" : "GENLAB_BACKEND")], message: BACKEND.error });
    await program.parseAsync(argv, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (e) {
    return reportError(e);
  }
}

/** Exit codes: 0 done, 1 a value, file or environment the user can fix, 2 bad usage, 70 a bug, 130 interrupted. */
export const EXIT = { ok: 0, user: 1, usage: 2, internal: 70, interrupted: 130 } as const;

const FS_ERRORS: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "the file system is read-only",
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  EISDIR: "is a directory, expected a file",
  ENOTDIR: "a part of the path is not a directory",
  ENOENT: "no such file or directory",
  EEXIST: "already exists",
  EMFILE: "too many open files",
  ENAMETOOLONG: "the path is too long",
  ELOOP: "too many symbolic links",
};

/** A file-system error (it carries the path and the call) is the environment, not a bug: say what to do. */
export function fsErrorMessage(e: unknown): string | null {
  const x = e as NodeJS.ErrnoException;
  if (!x || typeof x.code !== "string" || !(x.code in FS_ERRORS) || typeof x.path !== "string") return null;
  const fix = x.code === "ENOSPC" || x.code === "EDQUOT" ? "free some space or pass another --out" : x.code === "ENOENT" ? "check the path" : "pass a folder you can write with --out (or --store), or fix its permissions";
  return `✖ cannot ${x.syscall ?? "access"} ${x.path}: ${FS_ERRORS[x.code]} (${x.code}); ${fix} → at ${x.path}`;
}

export function reportError(e: unknown): number {
  if (e instanceof CommanderError) {
    // commander already printed its message (reformatted above); help/version exit 0; a bad value is 1
    if (e.exitCode === 0) return EXIT.ok;
    return e.code === "commander.invalidArgument" ? EXIT.user : EXIT.usage;
  }
  if (e instanceof GenlabError) {
    err(e.issues.map(formatIssue).join("\n") + "\n");
    return e.issues.every((i) => i.code === "interrupted") ? EXIT.interrupted : EXIT.user;
  }
  const fsMsg = fsErrorMessage(e);
  if (fsMsg) {
    err(fsMsg + "\n");
    return EXIT.user;
  }
  const msg = e instanceof Error ? e.message : String(e);
  err(`✖ internal error: ${msg}\n`);
  if (process.env.GENLAB_DEBUG) err(`${(e as Error).stack}\n`);
  else err("  (set GENLAB_DEBUG=1 for the stack trace, and please report it)\n");
  return EXIT.internal;
}
