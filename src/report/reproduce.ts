/**
 * `genlab reproduce` and `genlab report`. Reproduce plans every selected experiment's points (sweeps,
 * seeds, negative controls), runs only what the store does not already hold (in `--jobs N` workers, or a
 * `--shard i/n` share of them), refreshes the report after each finished run so a long reproduction can be
 * watched, and renders the final report. `genlab report` renders from a store alone, running nothing.
 * Every number in the report comes from the runs in the store.
 */
import { join, resolve } from "node:path";
import { GenlabError } from "../core/errors.ts";
import type { Experiment, Size } from "../runner/experiment.ts";
import { SIZES } from "../runner/experiment.ts";
import { genlabVersion, jaxVersion, writeFileAtomic } from "../runner/files.ts";
import { runPoints, selectShard, type Shard } from "../runner/pool.ts";
import { sortedBySeed } from "../runner/registry.ts";
import { evaluateExperiment, hparamsHashOf, openStore, planExperiment, type Outcome, type PointSpec, type RunSummary } from "../runner/run.ts";
import type { RunStore } from "../runner/store.ts";
import { figureMarkup, writeFigureFiles } from "./figures.ts";
import { reportHtml, type ReportExperiment, type ReportPaper } from "./html.ts";

export type Catalogue = { papers: ReportPaper[]; classMeaning: Record<string, string> };

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

const seedList = (n: number) => Array.from({ length: n }, (_, i) => i);

/** The outcomes of one experiment in a store: per seed for a single-run experiment, one for a sweep. */
export function outcomesFromStore(exp: Experiment, size: Size, seeds: number[], store: RunStore): Outcome[] {
  const plan = planExperiment(exp, size, [], seeds);
  const find = (p: PointSpec): RunSummary | null => {
    const row = store.latestFinished({ experiment: exp.id, hparams_hash: hparamsHashOf(exp.id, p.hparams), seed: p.seed, size });
    return row?.summary ? (JSON.parse(row.summary) as RunSummary) : null;
  };
  const groups: { points: PointSpec[]; control: PointSpec[] }[] = exp.sweep
    ? [plan]
    : seeds.map((s) => ({ points: plan.points.filter((p) => p.seed === s), control: plan.control.filter((p) => p.seed === s) }));
  const out: Outcome[] = [];
  for (const g of groups) {
    const pts = g.points.map(find);
    if (pts.some((p) => p === null)) continue; // not (yet) run: this outcome is missing, not failed
    const ctl = g.control.map(find).filter((p): p is RunSummary => p !== null);
    out.push(evaluateExperiment(exp, size, pts as RunSummary[], ctl, store));
  }
  return out;
}

export type ReportOptions = { size?: Size; seeds?: number; only?: string[]; command: string; reportDir: string; inProgress?: string; /** Write figure files (SVG + PNG) beside the page (default true; the in-progress refreshes skip it). */ figureFiles?: boolean };

/** Render the report from the store (nothing is run); returns the path of index.html and the entries. */
export function renderReport(registry: readonly Experiment[], cat: Catalogue, store: RunStore, opts: ReportOptions): { reportPath: string; entries: { exp: Experiment; size: Size; outcomes: Outcome[] }[] } {
  const entries: { exp: Experiment; size: Size; outcomes: Outcome[] }[] = [];
  for (const exp of selectExperiments(registry, opts.only)) {
    // Without --size: the largest size with finished runs.
    const size = opts.size ?? [...SIZES].reverse().find((s) => store.finishedSizes(exp.id).includes(s));
    if (!size) continue;
    const seeds = opts.seeds !== undefined ? seedList(opts.seeds) : store.finishedSeeds(exp.id, size);
    const outcomes = outcomesFromStore(exp, size, seeds, store);
    if (outcomes.length) entries.push({ exp, size, outcomes });
  }
  const reportDir = resolve(opts.reportDir);
  const experiments: ReportExperiment[] = entries.map(({ exp, size, outcomes }) => {
    const first = outcomes[0];
    const base = first.points[0].hparams;
    const figs = first.figures.map((f) => ({ ...f, name: `${exp.id}-${f.name}` }));
    if (opts.figureFiles !== false) writeFigureFiles(join(reportDir, "figures"), figs);
    const sizeFlag = size === "full" ? "" : size === "quick" ? " --quick" : ` --size ${size}`;
    return {
      id: exp.id,
      kind: exp.kind ?? "reproduction",
      tables: first.tables,
      paper: exp.paper,
      title: exp.title,
      claim: exp.claim(base),
      coverage: exp.coverage,
      deviations: exp.deviations,
      criterionSource: exp.criterionSource,
      size,
      outcomes: outcomes.map((o) => ({
        seed: exp.sweep ? null : o.points[0].seed,
        verdict: o.verdict,
        control: o.control ? { what: o.control.what, verdict: o.control.verdict } : null,
        runIds: [...o.points, ...o.controlPoints].map((p) => p.run_id),
        seconds: [...o.points, ...o.controlPoints].reduce((a, p) => a + p.seconds, 0),
      })),
      points: first.points.map((p) => ({ runId: p.run_id, seed: p.seed, varied: Object.fromEntries(Object.entries(p.hparams).filter(([k, v]) => first.points.some((q) => q.hparams[k] !== v))), seconds: p.seconds, reused: !!p.reused })),
      figures: figureMarkup(first.figures).map((f) => ({ ...f, title: `${f.title}${exp.sweep ? "" : ` (seed ${first.points[0].seed})`}` })),
      command: `genlab reproduce --only ${exp.id}${sizeFlag} --seeds ${Math.max(1, outcomes.length)}`,
      hparams: base,
    };
  });
  const html = reportHtml({
    papers: cat.papers,
    experiments,
    classMeaning: cat.classMeaning,
    generatedAt: new Date().toISOString(),
    command: opts.command,
    versions: { genlab: genlabVersion(), "jax-js": jaxVersion(), node: process.version },
    inProgress: opts.inProgress,
  });
  const reportPath = join(reportDir, "index.html");
  writeFileAtomic(reportPath, html);
  return { reportPath, entries };
}

export type ReproduceOptions = {
  size: Size;
  only?: string[];
  seeds: number;
  outDir: string;
  storePath?: string;
  reportDir: string;
  stream?: NodeJS.WriteStream;
  quiet?: boolean;
  command: string;
  jobs: number;
  shard: Shard | null;
  force?: boolean;
  workerScript: string;
  /** false: skip the negative controls (default: run them). */
  control?: boolean;
};

export type ReproduceResult = { entries: { exp: Experiment; size: Size; outcomes: Outcome[] }[]; reportPath: string; interrupted: boolean; ran: number; reused: number; seconds: number };

export async function reproduce(registry: readonly Experiment[], cat: Catalogue, opts: ReproduceOptions): Promise<ReproduceResult> {
  const t0 = performance.now();
  const exps = selectExperiments(registry, opts.only);
  const planned = exps.flatMap((e) => {
    const p = planExperiment(e, opts.size, [], seedList(opts.seeds));
    return opts.control === false ? p.points : [...p.points, ...p.control];
  });
  const mine = selectShard(planned, opts.shard);
  const stream = opts.stream ?? process.stderr;
  if (!opts.quiet) stream.write(`reproduce: ${exps.length} experiment${exps.length === 1 ? "" : "s"}, ${planned.length} runs${opts.shard ? `, shard ${opts.shard.index}/${opts.shard.count}: ${mine.length} of them` : ""}, ${opts.size} size, --jobs ${opts.jobs}\n`);
  const refresh = (inProgress?: string) => {
    const store = openStore(opts.outDir, opts.storePath);
    try {
      return renderReport(registry, cat, store, { size: opts.size, seeds: opts.seeds, only: opts.only, command: opts.command, reportDir: opts.reportDir, inProgress, figureFiles: !inProgress });
    } finally {
      store.close();
    }
  };
  let done = 0;
  let lastRefresh = 0;
  const summaries = await runPoints(registry, mine, {
    jobs: opts.jobs,
    outDir: opts.outDir,
    storePath: opts.storePath,
    force: opts.force,
    stream: opts.stream,
    quiet: opts.quiet,
    workerScript: opts.workerScript,
    onFinished: () => {
      done++;
      // The page is rewritten as runs finish (at most every 10 s: rendering competes with the workers).
      if (done < mine.length && performance.now() - lastRefresh > 10_000) {
        lastRefresh = performance.now();
        refresh(`Reproduction in progress: ${done} of ${mine.length} runs finished (this page is rewritten as runs finish).`);
      }
    },
  });
  const interrupted = summaries.length < mine.length || summaries.some((s) => s.status === "interrupted");
  const r = refresh(interrupted ? "Interrupted: some runs did not finish; run the same command again to continue." : undefined);
  return { ...r, interrupted, ran: summaries.filter((s) => !s.reused).length, reused: summaries.filter((s) => s.reused).length, seconds: (performance.now() - t0) / 1000 };
}
