/**
 * `genlab reproduce`: run the registered reproductions (each for N seeds), then write the report
 * (report/html.ts) atomically. Every number in the report comes from the run summaries of this
 * invocation; figures are the SVGs the runs wrote.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { GenlabError } from "../core/errors.ts";
import { reportHtml, type ReportExperiment, type ReportPaper } from "../report/html.ts";
import type { Experiment, Size } from "./experiment.ts";
import { genlabVersion, jaxVersion, writeFileAtomic } from "./files.ts";
import { formatDuration } from "./progress.ts";
import { sortedBySeed } from "./registry.ts";
import { runExperiment, type RunSummary } from "./run.ts";

export type ReproduceOptions = {
  size: Size;
  only?: string[];
  seeds: number;
  outDir: string;
  storePath?: string;
  reportDir: string;
  stream?: NodeJS.WriteStream;
  quiet?: boolean;
  /** The command line, shown in the report. */
  command: string;
};

export type ReproduceEntry = {
  id: string;
  paper: number;
  verdict: "PASS" | "FAIL" | null;
  criterion: string | null;
  measured: Record<string, number | null>[];
  seeds: number[];
  seconds: number;
  runs: RunSummary[];
};

export type ReproduceResult = { entries: ReproduceEntry[]; reportPath: string; interrupted: boolean };

export function selectExperiments(registry: readonly Experiment[], only?: string[]): Experiment[] {
  const all = sortedBySeed(registry);
  if (!only || only.length === 0) return all;
  const unknown = only.filter((id) => !all.some((e) => e.id === id));
  if (unknown.length)
    throw new GenlabError({
      code: "unknown_experiment",
      path: ["--only"],
      message: `unknown experiment${unknown.length > 1 ? "s" : ""} ${unknown.map((u) => JSON.stringify(u)).join(", ")} (expected one of: ${all.map((e) => e.id).join(", ")})`,
    });
  return all.filter((e) => only.includes(e.id));
}

export async function reproduce(registry: readonly Experiment[], papers: ReportPaper[], classMeaning: Record<string, string>, opts: ReproduceOptions): Promise<ReproduceResult> {
  const exps = selectExperiments(registry, opts.only);
  const stream = opts.stream ?? process.stderr;
  const say = (s: string) => {
    if (!opts.quiet) stream.write(s + "\n");
  };
  const jobs = exps.flatMap((e) => Array.from({ length: opts.seeds }, (_, s) => ({ e, seed: s })));
  const entries: ReproduceEntry[] = [];
  const t0 = performance.now();
  let interrupted = false;
  for (let j = 0; j < jobs.length && !interrupted; j++) {
    const { e, seed } = jobs[j];
    const elapsed = (performance.now() - t0) / 1000;
    const eta = j > 0 ? ` · ETA ${formatDuration((elapsed / j) * (jobs.length - j))}` : ` · expected ${e.cost[opts.size]} each`;
    say(`reproduce [${j + 1}/${jobs.length}] ${e.id} (paper ${e.paper}) seed ${seed}, ${opts.size} size · elapsed ${formatDuration(elapsed)}${eta}`);
    const summary = await runExperiment(registry, { experiment: e.id, seed, size: opts.size, set: [], outDir: opts.outDir, storePath: opts.storePath, stream: opts.stream, quiet: opts.quiet });
    let entry = entries.find((x) => x.id === e.id);
    if (!entry) {
      entry = { id: e.id, paper: e.paper, verdict: null, criterion: summary.criterion, measured: [], seeds: [], seconds: 0, runs: [] };
      entries.push(entry);
    }
    entry.runs.push(summary);
    entry.seeds.push(seed);
    entry.measured.push(summary.measured);
    entry.seconds += summary.seconds;
    if (summary.status === "interrupted") interrupted = true;
  }
  for (const entry of entries) {
    const v = entry.runs.map((r) => r.verdict);
    entry.verdict = v.some((x) => x === null) ? null : v.every((x) => x === "PASS") ? "PASS" : "FAIL";
  }

  const reportExperiments: ReportExperiment[] = entries.map((entry) => {
    const exp = exps.find((e) => e.id === entry.id)!;
    const first = entry.runs[0];
    const figures = first.figures
      .filter((f) => f.endsWith(".svg"))
      .map((f) => {
        const p = resolve(f);
        return { title: `${exp.title} — ${f.split("/").pop()}`, svg: existsSync(p) ? readFileSync(p, "utf8").replace(/^<\?xml[^>]*>\s*/, "") : "" };
      });
    return {
      id: entry.id,
      paper: entry.paper,
      title: exp.title,
      claim: exp.claim,
      paperClass: exp.paperClass,
      criterion: entry.criterion,
      size: opts.size,
      verdict: entry.verdict,
      runs: entry.runs.map((r) => ({ seed: r.seed, verdict: r.verdict, status: r.status, measured: r.measured, seconds: r.seconds, runId: r.run_id, dir: r.dir })),
      seconds: entry.seconds,
      figures,
      hparams: first.hparams,
      command: `genlab reproduce --only ${entry.id}${opts.size === "full" ? "" : opts.size === "quick" ? " --quick" : ` --size ${opts.size}`} --seeds ${opts.seeds}`,
    };
  });
  const html = reportHtml({
    papers,
    experiments: reportExperiments,
    classMeaning,
    generatedAt: new Date().toISOString(),
    command: opts.command,
    versions: { genlab: genlabVersion(), "jax-js": jaxVersion(), node: process.version },
  });
  const reportPath = join(resolve(opts.reportDir), "index.html");
  writeFileAtomic(reportPath, html);
  return { entries, reportPath, interrupted };
}
