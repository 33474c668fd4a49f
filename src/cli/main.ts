/**
 * The `genlab` command line: argument parsing and printing only. Errors a user can fix are printed as
 * `✖ message → at path` with a non-zero exit code, never as a stack trace.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { readFileSync, existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { EXPERIMENTS } from "../../experiments/index.ts";
import { CLASS_MEANING, PAPERS } from "../../experiments/papers.ts";
import { formatMeasured } from "../report/html.ts";
import { reproduce } from "../runner/reproduce.ts";
import { createDashboardServer, listen } from "../server/serve.ts";
import { GenlabError, formatIssue } from "../core/errors.ts";
import { SIZES, type Size } from "../runner/experiment.ts";
import { genlabVersion } from "../runner/files.ts";
import { formatDuration, formatTable } from "../runner/progress.ts";
import { sortedBySeed } from "../runner/registry.ts";
import { defaultStorePath, resumeRun, runExperiment, summaryTable, type RunSummary } from "../runner/run.ts";
import { describeField } from "../runner/schema.ts";
import { RunStore } from "../runner/store.ts";

const out = (s: string) => process.stdout.write(s);
const err = (s: string) => process.stderr.write(s);

function parseSeed(v: string): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new InvalidArgumentError(`expected an integer in [0, 4294967295], got ${JSON.stringify(v)}`);
  return n;
}

function parseSeeds(v: string): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isInteger(n) || n < 1 || n > 100) throw new InvalidArgumentError(`expected a number of seeds in [1, 100], got ${JSON.stringify(v)}`);
  return n;
}

function parsePort(v: string): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`expected a port in [0, 65535], got ${JSON.stringify(v)}`);
  return n;
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

function printRun(s: RunSummary, json: boolean): void {
  if (json) out(JSON.stringify(s, null, 2) + "\n");
  else out(summaryTable(s));
}

function e2rows(entries: { id: string; paper: number; verdict: string | null; measured: Record<string, number | null>[]; seconds: number }[]): [string, string][] {
  const rows: [string, string][] = entries.map((e) => [
    `${e.paper}. ${e.id}`,
    `${e.verdict ?? "interrupted"} · ${Object.entries(e.measured[0] ?? {})
      .slice(0, 3)
      .map(([k, v]) => `${k} ${formatMeasured(v)}`)
      .join(", ")} · ${formatDuration(e.seconds)}`,
  ]);
  const done = new Set(entries.map((e) => e.paper)).size;
  rows.push(["not yet implemented", `${PAPERS.length - done} of ${PAPERS.length} papers`]);
  return rows;
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name("genlab")
    .description("A laboratory for the science of generalization in neural networks")
    .version(genlabVersion())
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureOutput({ writeErr: (s) => err(s.startsWith("error: ") ? `✖ ${s.slice(7)}` : s), outputError: (s, write) => write(s) });

  program
    .command("list")
    .description("list the registered experiments (id, paper number in seed order, class, title)")
    .option("--json", "print JSON")
    .action((o: { json?: boolean }) => {
      const list = sortedBySeed(EXPERIMENTS).map((e) => ({ id: e.id, paper: e.paper, class: e.paperClass, title: e.title, claim: e.claim, cost: e.cost }));
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
    .description("run one experiment")
    .argument("<experiment>", "experiment id (see genlab list)")
    .option("--seed <n>", "random seed", parseSeed, 0)
    .option("--quick", "the quick size (≤ 3 minutes on 2 cores)")
    .addOption(new Option("--size <size>", "smoke | quick | full").choices(SIZES as string[]))
    .option("--set <key=value>", "override an hparam or setting (repeatable)", collect, [])
    .option("--out <dir>", "folder for run folders and the run store", "runs")
    .option("--store <path>", "run store file (default <out>/genlab.db)")
    .option("--json", "print the summary as JSON on stdout")
    .option("--params", "print the experiment's hparams and settings and exit")
    .action(async (id: string, o: { seed: number; quick?: boolean; size?: Size; set: string[]; out: string; store?: string; json?: boolean; params?: boolean }) => {
      if (o.quick && o.size && o.size !== "quick") throw new GenlabError({ code: "conflict", path: ["--size"], message: `--quick conflicts with --size ${o.size}` });
      const size: Size = o.size ?? (o.quick ? "quick" : "full");
      if (o.params) {
        const exp = EXPERIMENTS.find((e) => e.id === id);
        if (exp) {
          const rows: [string, string][] = [];
          for (const [k, f] of Object.entries({ ...exp.hparams, ...exp.settings })) rows.push([k, `${JSON.stringify((size !== "full" && k in exp.sizes[size] ? exp.sizes[size][k] : f.default))}  — ${f.doc}; ${describeField(f)}`]);
          out(formatTable(rows, `${exp.id} (${size})`));
          return;
        }
      }
      const summary = await runExperiment(EXPERIMENTS, { experiment: id, seed: o.seed, size, set: o.set, outDir: o.out, storePath: o.store });
      printRun(summary, !!o.json);
      if (summary.status === "interrupted") {
        err(`interrupted; resume with: genlab resume ${summary.run_id}${o.out !== "runs" ? ` --out ${o.out}` : ""}\n`);
        process.exitCode = 130;
      }
    });

  program
    .command("reproduce")
    .description("run the reproductions (seeds 0…N−1) and write the HTML report of all papers")
    .option("--quick", "the quick size of every reproduction (minutes on 2 cores)")
    .addOption(new Option("--size <size>", "smoke | quick | full").choices(SIZES as string[]))
    .option("--only <ids>", "comma-separated experiment ids (see genlab list)")
    .option("--seeds <n>", "seeds per experiment: 0 … n−1", parseSeeds, 1)
    .option("--report <dir>", "folder for the report (index.html)", "report")
    .option("--out <dir>", "folder for run folders and the run store", "runs")
    .option("--store <path>", "run store file (default <out>/genlab.db)")
    .option("--json", "print one JSON object per experiment on stdout")
    .action(async (o: { quick?: boolean; size?: Size; only?: string; seeds: number; report: string; out: string; store?: string; json?: boolean }) => {
      if (o.quick && o.size && o.size !== "quick") throw new GenlabError({ code: "conflict", path: ["--size"], message: `--quick conflicts with --size ${o.size}` });
      const size: Size = o.size ?? (o.quick ? "quick" : "full");
      const only = o.only?.split(",").map((x) => x.trim()).filter(Boolean);
      const command = `genlab reproduce${size === "full" ? "" : size === "quick" ? " --quick" : ` --size ${size}`}${only ? ` --only ${only.join(",")}` : ""} --seeds ${o.seeds}`;
      const r = await reproduce(EXPERIMENTS, PAPERS, CLASS_MEANING, { size, only, seeds: o.seeds, outDir: o.out, storePath: o.store, reportDir: o.report, command });
      if (o.json) {
        for (const e of r.entries) out(JSON.stringify({ id: e.id, paper: e.paper, verdict: e.verdict, criterion: e.criterion, measured: e.measured, seeds: e.seeds, seconds: Number(e.seconds.toFixed(3)) }) + "\n");
      } else {
        const rows: [string, string][] = e2rows(r.entries);
        out(formatTable(rows, `reproduce (${size}, ${o.seeds} seed${o.seeds > 1 ? "s" : ""})`));
      }
      err(`report: ${r.reportPath}\n`);
      if (r.interrupted) process.exitCode = 130;
    });

  program
    .command("serve")
    .description("the web dashboard over a run store (http://127.0.0.1:8321 by default)")
    .option("--port <n>", "TCP port (0: any free port)", parsePort, 8321)
    .option("--host <addr>", "address to bind (default loopback only)", "127.0.0.1")
    .option("--out <dir>", "folder of the run store", "runs")
    .option("--store <path>", "run store file (default <out>/genlab.db)")
    .action(async (o: { port: number; host: string; out: string; store?: string }) => {
      const storePath = resolve(o.store ?? defaultStorePath(o.out));
      if (!existsSync(storePath)) throw new GenlabError({ code: "missing_store", path: [o.store ? "--store" : storePath], message: `no run store at ${storePath} (run an experiment first, or pass --out/--store)` });
      const assetsDir = resolve(import.meta.dirname, "../../web/dist");
      if (!existsSync(join(assetsDir, "index.html"))) {
        err("building the dashboard (vite, once)…\n");
        const { build } = await import("vite");
        await build({ configFile: resolve(import.meta.dirname, "../../web/vite.config.ts"), logLevel: "warn" });
      }
      const { server, store } = createDashboardServer({ port: o.port, host: o.host, storePath, assetsDir });
      const port = await listen(server, o.port, o.host).catch((e: NodeJS.ErrnoException) => {
        throw new GenlabError({ code: "listen", path: ["--port"], message: `cannot listen on ${o.host}:${o.port} (${e.code ?? e.message})` });
      });
      out(`genlab dashboard: http://${o.host}:${port}/  (store ${storePath}; Ctrl-C stops)\n`);
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
    .action(async (id: string, o: { out: string; store?: string; json?: boolean }) => {
      const summary = await resumeRun(EXPERIMENTS, id, { outDir: o.out, storePath: o.store });
      printRun(summary, !!o.json);
      if (summary.status === "interrupted") process.exitCode = 130;
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
      const store = new RunStore(storePath);
      try {
        const found = store.getRun(id);
        if (!found) throw new GenlabError({ code: "unknown_run", path: ["<run-id>"], message: `no run ${JSON.stringify(id)} in ${storePath} (genlab runs lists them)` });
        const row = found;
        const summaryPath = join(row.dir, "summary.json");
        const summary = existsSync(summaryPath) ? (JSON.parse(readFileSync(summaryPath, "utf8")) as RunSummary) : null;
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
    .option("--status <status>", "running | finished | failed | interrupted")
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
      const store = new RunStore(storePath);
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
  program.addHelpText(
    "after",
    `
Examples:
  genlab list
  genlab run grokking-modular --quick                 quick size (~75 s on 2 cores)
  genlab run grokking-modular --quick --set p=59 --seed 1 --json
  genlab run grokking-modular --params                hparams, settings, defaults and ranges
  genlab show <run-id>
  genlab resume <run-id>                              continue an interrupted run

Runs go to ./runs (--out DIR); JAX_THREADS=2 uses the wasm worker pool (faster, other round-off).`,
  );
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander already printed its message (reformatted above); help/version exit 0
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof GenlabError) {
      err(e.issues.map(formatIssue).join("\n") + "\n");
      return 1;
    }
    const msg = e instanceof Error ? e.message : String(e);
    err(`✖ internal error: ${msg}\n`);
    if (process.env.GENLAB_DEBUG) err(`${(e as Error).stack}\n`);
    else err("  (set GENLAB_DEBUG=1 for the stack trace, and please report it)\n");
    return 1;
  }
}
