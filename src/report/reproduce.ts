/**
 * `genlab reproduce` and `genlab report`. Reproduce plans every selected experiment's points (sweeps,
 * seeds, negative controls), runs only what the store does not already hold (in `--jobs N` workers, or a
 * `--shard i/n` share of them), refreshes the report after each finished run so a long reproduction can be
 * watched, and renders the final report. `genlab report` renders from a store alone, running nothing.
 * Every number in the report comes from the runs in the store.
 */
import { join, resolve } from "node:path";
import { GenlabError } from "../core/errors.ts";
import type { Experiment, Size } from "../declare/experiment.ts";
import { SIZES } from "../declare/experiment.ts";
import { genlabVersion, jaxVersion, writeFileAtomic } from "../runner/files.ts";
import { pointKey, runPoints, selectShard, type Shard } from "../runner/pool.ts";
import { sortedBySeed } from "../declare/registry.ts";
import { evaluateExperiment, openStore, planExperiment, resolveConfig, runHashOf, type Outcome, type PointSpec, type RunSummary } from "../runner/run.ts";
import { seedsOf } from "../declare/experiment.ts";
import { readRecords } from "./records.ts";
import type { RunStore } from "../runner/store.ts";
import type { ReproductionView } from "../server/serve.ts";
import { figureMarkup, writeFigureFiles } from "./figures.ts";
import { reportHtml, type ReportExperiment, type ReportPaper } from "./html.ts";
import { errStream } from "../io/console.ts";

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

/** The needs of an experiment this machine lacks, as one line ("needs Fashion-MNIST (sudo apt-get …)"); null when all are met. */
export function unmetNeeds(exp: Experiment, size: Size): string | null {
  // Over every planned point (and control point): a need may hold for some hparams only (one task of a sweep).
  const plan = planExperiment(exp, size, [], seedsOf(exp, size, 0));
  const hs = [...plan.points, ...plan.control].map((p) => p.hparams);
  const missing = exp.needs.filter((n) => hs.some((h) => !n.met(h)));
  return missing.length ? `not run: needs ${missing.map((n) => `${n.what} (${n.how})`).join("; ")}` : null;
}

/** The reproduction of one experiment in a store for the seeds from `first` on (null: not all its points have run). */
export function outcomeFromStore(exp: Experiment, size: Size, first: number, count: number | undefined, store: RunStore): Outcome | null {
  const plan = planExperiment(exp, size, [], seedsOf(exp, size, first, count));
  const find = (p: PointSpec): RunSummary | null => {
    const row = store.latestFinished({ experiment: exp.id, hparams_hash: runHashOf(exp, p.hparams), seed: p.seed, size });
    // a run shared by equivalent points (exp.computes): each point keeps its own hparams
    return row?.summary ? { ...(JSON.parse(row.summary) as RunSummary), hparams: p.hparams } : null;
  };
  // a run shared by equivalent points is counted once: the later points show it as reused (time, run lists)
  const seen = new Set<string>();
  const once = (s: RunSummary | null): RunSummary | null => {
    if (!s) return null;
    const again = seen.has(s.run_id);
    seen.add(s.run_id);
    return again ? { ...s, reused: true } : s;
  };
  const pts = plan.points.map((p) => once(find(p)));
  if (pts.some((p) => p === null)) return null; // not (yet) run: this outcome is missing, not failed
  const ctl = plan.control.map((p) => once(find(p))).filter((p): p is RunSummary => p !== null);
  return evaluateExperiment(exp, size, pts as RunSummary[], ctl.length === plan.control.length ? ctl : [], store);
}

/** The label of an experiment a tour did not run (the report shows its verdict of record). */
export const NOT_IN_TOUR = "not in the tour";

/** The label of an experiment that `--only` left out (the report lists it with its verdict of record). */
export const NOT_SELECTED = "not selected in this run";

/** `listed`: in the report for completeness (not selected, not in the tour), left out of the printed summary. */
export type ReportEntry = { exp: Experiment; size: Size; outcome: Outcome | null; notRun?: string; listed?: boolean };

/**
 * Every reproduction in a store (experiment × size × seeds): for each experiment and size, reproductions
 * starting at the smallest finished seed not yet used, each with its verdict, control and runs.
 */
export function reproductionsInStore(registry: readonly Experiment[], store: RunStore): ReproductionView[] {
  const out: ReproductionView[] = [];
  for (const exp of sortedBySeed(registry))
    for (const size of SIZES) {
      const seeds = store.finishedSeeds(exp.id, size).sort((a, b) => a - b);
      const used = new Set<number>();
      for (const s of seeds) {
        if (used.has(s)) continue;
        let o: Outcome | null;
        try {
          o = outcomeFromStore(exp, size, s, undefined, store);
        } catch {
          o = null;
        }
        if (!o) continue;
        for (const x of o.seeds) used.add(x);
        const v = o.verdict;
        out.push({
          experiment: exp.id,
          paper: exp.paper,
          kind: exp.kind ?? "reproduction",
          size,
          seeds: o.seeds,
          verdict: o.error ? "ERROR" : (v?.verdict ?? null),
          reason: v?.reason ?? null,
          error: o.error ?? null,
          coverage: exp.coverage.level,
          control: o.control ? { verdict: o.control.verdict?.verdict ?? null, failed: o.control.failed } : null,
          checks: v ? v.checks.map((c) => ({ id: c.id, role: c.role, value: c.value, threshold: `${c.cmp} ${JSON.stringify(c.threshold)}`, ok: c.ok })) : [],
          runs: [...o.points.map((p) => ({ id: p.run_id, role: "point" as const, seed: p.seed, status: p.status })), ...o.controlPoints.map((p) => ({ id: p.run_id, role: "control" as const, seed: p.seed, status: p.status }))],
        });
      }
    }
  return out;
}

export type ReportOptions = { size?: Size; /** First seed (default 0) and count (default: each experiment's declared count). */ seed?: number; seeds?: number; only?: string[]; /** Experiments listed as not run (their needs unmet), with the reason. */ notRun?: Map<string, string>; command: string; reportDir: string; inProgress?: string; /** Write figure files (SVG + PNG) beside the page (default true; the in-progress refreshes skip it). */ figureFiles?: boolean };

/** Render the report from the store (nothing is run); returns the path of index.html and the entries. */
export function renderReport(registry: readonly Experiment[], cat: Catalogue, store: RunStore, opts: ReportOptions): { reportPath: string; entries: ReportEntry[] } {
  const entries: ReportEntry[] = [];
  const records = readRecords();
  const selected = new Set(selectExperiments(registry, opts.only));
  for (const exp of sortedBySeed(registry)) {
    // Not selected (--only): listed for completeness with its verdict of record, never as "not yet implemented".
    if (!selected.has(exp)) {
      entries.push({ exp, size: opts.size ?? "quick", outcome: null, notRun: `${NOT_SELECTED} (genlab run ${exp.id} --quick runs it: ${exp.cost.quick} on one core)`, listed: true });
      continue;
    }
    const notRun = opts.notRun?.get(exp.id);
    // Without --size: the largest size with finished runs.
    const size = opts.size ?? [...SIZES].reverse().find((s) => store.finishedSizes(exp.id).includes(s));
    if (notRun) {
      entries.push({ exp, size: size ?? "quick", outcome: null, notRun });
      continue;
    }
    if (!size) {
      // Implemented but not in this store: listed (with its verdict of record), never as "not yet implemented".
      entries.push({ exp, size: opts.size ?? "quick", outcome: null, notRun: `not run in this store (genlab run ${exp.id} --quick runs it: ${exp.cost.quick} on one core)`, listed: true });
      continue;
    }
    // Without --seed: seed 0 when it ran, else the smallest seed that ran.
    const ran = store.finishedSeeds(exp.id, size);
    const outcome = outcomeFromStore(exp, size, opts.seed ?? (ran.length === 0 || ran.includes(0) ? 0 : Math.min(...ran)), opts.seeds, store);
    entries.push(outcome ? { exp, size, outcome } : { exp, size, outcome: null, notRun: `not all points of seed${exp.seeds[size] > 1 ? "s" : ""} from ${opts.seed ?? 0} on are finished in this store` });
  }
  const reportDir = resolve(opts.reportDir);
  const experiments: ReportExperiment[] = entries.map(({ exp, size, outcome, notRun }) => {
    const base = outcome?.points[0]?.hparams ?? resolveConfig(exp, size, []).hparams;
    const figs = (outcome?.figures ?? []).map((f) => ({ ...f, name: `${exp.id}-${f.name}` }));
    if (opts.figureFiles !== false && figs.length) writeFigureFiles(join(reportDir, "figures"), figs);
    const sizeFlag = size === "full" ? "" : size === "quick" ? " --quick" : ` --size ${size}`;
    const all = outcome ? [...outcome.points.map((p) => ({ p, control: false })), ...outcome.controlPoints.map((p) => ({ p, control: true }))] : [];
    return {
      id: exp.id,
      kind: exp.kind ?? "reproduction",
      tables: outcome?.tables ?? [],
      paper: exp.paper,
      title: exp.title,
      claim: exp.claim(base),
      coverage: exp.coverage,
      deviations: exp.deviations,
      criterionSource: exp.criterionSource,
      size,
      outcome: outcome
        ? {
            seeds: outcome.seeds,
            verdict: outcome.verdict,
            control: outcome.control ? { what: outcome.control.what, verdict: outcome.control.verdict, failed: outcome.control.failed, inRun: outcome.control.inRun } : null,
            ...(outcome.error ? { error: outcome.error } : {}),
            runIds: all.map(({ p }) => p.run_id),
            seconds: all.reduce((a, { p }) => a + (p.reused ? 0 : p.seconds), 0),
          }
        : null,
      ...(notRun ? { notRun } : {}),
      ...(records[exp.id] ? { recorded: records[exp.id] } : {}),
      ...(exp.calibration ? { calibration: exp.calibration } : {}),
      points: all.map(({ p, control }) => ({ runId: p.run_id, seed: p.seed, control, varied: Object.fromEntries(Object.entries(p.hparams).filter(([k, v]) => all.some(({ p: q }) => q.hparams[k] !== v))), seconds: p.seconds, reused: !!p.reused })),
      figures: figureMarkup(outcome?.figures ?? []).map((f) => ({ ...f, title: `${f.title}${outcome && outcome.seeds.length > 1 ? ` (seeds ${outcome.seeds.join(", ")})` : ""}` })),
      command: `genlab run ${exp.id}${sizeFlag}${outcome && outcome.seeds[0] !== 0 ? ` --seed ${outcome.seeds[0]}` : ""}`,
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
  /** The first seed (a reproduction of n seeds runs seed … seed + n − 1). */
  seed: number;
  /** How many seeds (default: each experiment's declared count at this size). */
  seeds?: number;
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
  /** A tour (`only` is its list): the report also lists every other experiment, with its verdict of record. */
  tour?: boolean;
};

export type ReproduceResult = { entries: ReportEntry[]; reportPath: string; interrupted: boolean; ran: number; reused: number; seconds: number };

export async function reproduce(registry: readonly Experiment[], cat: Catalogue, opts: ReproduceOptions): Promise<ReproduceResult> {
  const t0 = performance.now();
  const selected = selectExperiments(registry, opts.only);
  const reportOnly = opts.tour ? undefined : opts.only;
  // What a missing dataset or package stops is listed as not run; everything else runs.
  const notRun = new Map<string, string>();
  for (const e of selected) {
    const why = unmetNeeds(e, opts.size);
    if (why) notRun.set(e.id, why);
  }
  if (opts.tour) for (const e of registry) if (!selected.includes(e)) notRun.set(e.id, `${NOT_IN_TOUR} (genlab run ${e.id} --quick runs it: ${e.cost.quick} on one core)`);
  const exps = selected.filter((e) => !notRun.has(e.id));
  const planned = exps.flatMap((e) => {
    const p = planExperiment(e, opts.size, [], seedsOf(e, opts.size, opts.seed, opts.seeds));
    return opts.control === false ? p.points : [...p.points, ...p.control];
  });
  const mine = selectShard(planned, opts.shard, registry);
  const runs = new Set(planned.map((p) => pointKey(p, registry))).size;
  const stream = opts.stream ?? errStream();
  if (!opts.quiet) for (const [id, why] of notRun) stream.write(`${id}: ${why}\n`);
  if (!opts.quiet) stream.write(`reproduce: ${exps.length} experiment${exps.length === 1 ? "" : "s"}, ${planned.length} runs${runs < planned.length ? ` (${runs} computed: equivalent points share one)` : ""}${opts.shard ? `, shard ${opts.shard.index}/${opts.shard.count}: ${mine.length} of them` : ""}, ${opts.size} size, --jobs ${opts.jobs}\n`);
  const refresh = (inProgress?: string) => {
    const store = openStore(opts.outDir, opts.storePath);
    try {
      return renderReport(registry, cat, store, { size: opts.size, seed: opts.seed, seeds: opts.seeds, only: reportOnly, notRun, command: opts.command, reportDir: opts.reportDir, inProgress, figureFiles: !inProgress });
    } finally {
      store.close();
    }
  };
  let done = 0;
  let lastRefresh = 0;
  // A refresh reads the whole store and renders every experiment (0.25–1 s on the quick suite, growing with
  // the store): at most one every 15 s, and at most ~3% of the time (30 × the last refresh's cost apart).
  let refreshGap = 15_000;
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
      // The page is rewritten as runs finish (rendering competes with the workers: see refreshGap).
      if (done < mine.length && performance.now() - lastRefresh > refreshGap) {
        const t = performance.now();
        refresh(`Reproduction in progress: ${done} of ${mine.length} runs finished (this page is rewritten as runs finish).`);
        lastRefresh = performance.now();
        refreshGap = Math.max(15_000, 30 * (lastRefresh - t));
      }
    },
  });
  const interrupted = summaries.length < mine.length || summaries.some((s) => s.status === "interrupted");
  const r = refresh(interrupted ? "Interrupted: some runs did not finish; run the same command again to continue." : undefined);
  return { ...r, interrupted, ran: summaries.filter((s) => !s.reused).length, reused: summaries.filter((s) => s.reused).length, seconds: (performance.now() - t0) / 1000 };
}
