/**
 * Runs many points: in this process (`jobs: 1`) or in N worker processes, each single-threaded (jax-js's
 * pool off), so every run's numbers are bit-identical to a serial run's. One progress display for the
 * whole: runs done of total, what each worker is doing, elapsed time and an ETA. Shards select a
 * deterministic share of the points (`--shard i/n`), so a cluster array job can split a sweep.
 */
import { fork, type ChildProcess } from "node:child_process";
import { GenlabError, type ErrorIssue } from "../core/errors.ts";
import type { Experiment } from "../declare/experiment.ts";
import { formatDuration } from "./progress.ts";
import { hparamsHashOf, openStore, runHashOf, runPoint, type PointSpec, type RunSummary } from "./run.ts";
import { errStream } from "../io/console.ts";

export type Shard = { index: number; count: number };

/** Parse `i/n` (0 ≤ i < n). */
export function parseShard(text: string, path = "--shard"): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const bad = (why: string) => new GenlabError({ code: "invalid_shard", path: [path], message: `expected a shard i/n with 0 ≤ i < n (e.g. 0/4), got ${JSON.stringify(text)}: ${why}` });
  if (!m) throw bad("not of the form i/n");
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) throw bad("n must be at least 1");
  if (index >= count) throw bad(`i must be below n`);
  return { index, count };
}

/**
 * The shard from the flag, or from a cluster's environment: SLURM array jobs (SLURM_ARRAY_TASK_ID and
 * SLURM_ARRAY_TASK_COUNT, with SLURM_ARRAY_TASK_MIN as the first index) and Kubernetes Indexed Jobs
 * (JOB_COMPLETION_INDEX, with the count from `--shard-count`).
 */
export function shardFromEnv(flag: string | undefined, countFlag: number | undefined, env: NodeJS.ProcessEnv = process.env): Shard | null {
  if (flag !== undefined) return parseShard(flag);
  if (env.SLURM_ARRAY_TASK_ID !== undefined && env.SLURM_ARRAY_TASK_COUNT !== undefined) {
    const min = Number(env.SLURM_ARRAY_TASK_MIN ?? 0);
    return parseShard(`${Number(env.SLURM_ARRAY_TASK_ID) - min}/${env.SLURM_ARRAY_TASK_COUNT}`, "SLURM_ARRAY_TASK_ID");
  }
  if (env.JOB_COMPLETION_INDEX !== undefined) {
    if (countFlag === undefined) throw new GenlabError({ code: "missing_flag", path: ["--shard-count"], message: "JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job): give the job's completions as --shard-count N" });
    return parseShard(`${env.JOB_COMPLETION_INDEX}/${countFlag}`, "JOB_COMPLETION_INDEX");
  }
  return null;
}

/**
 * Stable identity of the run a point needs, independent of the order in which points were planned: equivalent
 * points (an experiment's `computes`, when the registry is given) share it.
 */
export const pointKey = (p: PointSpec, registry?: readonly Experiment[]) => {
  const exp = registry?.find((x) => x.id === p.experiment);
  return `${p.experiment}|${p.size}|${exp ? runHashOf(exp, p.hparams) : hparamsHashOf(p.experiment, p.hparams)}|s${p.seed}`;
};

/**
 * The points of shard i of n: their run keys sorted, every n-th key from i. Every point is in exactly one shard,
 * and equivalent points (one run) in the same one.
 */
export function selectShard<T extends PointSpec>(points: T[], shard: Shard | null, registry?: readonly Experiment[]): T[] {
  if (!shard) return points;
  const keys = [...new Set(points.map((p) => pointKey(p, registry)))].sort();
  const mine = new Set(keys.filter((_, i) => i % shard.count === shard.index));
  return points.filter((p) => mine.has(pointKey(p, registry)));
}

export type PoolOptions = {
  jobs: number;
  outDir: string;
  storePath?: string;
  force?: boolean;
  stream?: NodeJS.WriteStream;
  quiet?: boolean;
  /** The genlab CLI script a worker process runs (`genlab __worker`). */
  workerScript: string;
  /** Called as each point finishes (in completion order). */
  onFinished?: (spec: PointSpec, summary: RunSummary) => void | Promise<void>;
  intervalMs?: number;
};

type Msg = { type: "progress"; done: number; total: number; label: string } | { type: "done"; summary: RunSummary } | { type: "error"; issues: ErrorIssue[] | null; message: string };

const labelOf = (p: PointSpec) => `${p.experiment} s${p.seed}${p.role === "control" ? " (control)" : ""}`;

/** Run every point; returns the summaries in the order of `points`. */
/**
 * Seconds left of a running point: its own progress (main phase) predicts its end; otherwise what finished
 * runs of its experiment took, minus the time it has run. A run past that estimate without progress of its
 * own has an unknown remainder (null), never 0: an ETA of 0 s for a quarter of an hour says nothing.
 */
export function pointSecondsLeft(elapsed: number, frac: number | null, expected: number | null): number | null {
  if (frac !== null && frac > 0.02) return elapsed / frac - elapsed;
  if (expected !== null && elapsed < expected) return expected - elapsed;
  return null;
}

/** Seconds of a declared cost ("~75 s", "~2 min (64 models)", "~1.5 min", "~90 min (estimate)"); null if unreadable. */
export function declaredSeconds(cost: string | undefined): number | null {
  const m = /([\d.]+)\s*(s|min|h)\b/.exec(cost ?? "");
  if (!m) return null;
  return Number(m[1]) * (m[2] === "s" ? 1 : m[2] === "min" ? 60 : 3600);
}

export async function runPoints(registry: readonly Experiment[], points: PointSpec[], opts: PoolOptions): Promise<RunSummary[]> {
  const stream = opts.stream ?? errStream();
  const say = (s: string) => {
    if (!opts.quiet) stream.write(s + "\n");
  };
  // Create the store (its file and schema) here, before any worker starts: two workers opening a new
  // store at once could otherwise see the other's still-empty file and refuse it as a 0-byte store.
  if (points.length) openStore(opts.outDir, opts.storePath).close();
  const results: (RunSummary | undefined)[] = new Array(points.length);
  const t0 = performance.now();
  let finished = 0;
  let ran = 0;
  let ranSeconds = 0;
  const status = new Map<number, string>();
  // For the ETA: seconds of finished runs per experiment, and each running point's start and progress.
  const byExp = new Map<string, number[]>();
  const running = new Map<number, { start: number; frac: number | null }>();
  const started = new Set<number>();
  // Before any run of an experiment finished: its declared cost (the whole reproduction) shared by its points.
  const declared = new Map<string, number | null>();
  for (const e of new Set(points.map((p) => p.experiment))) {
    const exp = registry.find((x) => x.id === e);
    const n = points.filter((p) => p.experiment === e && p.role === "point").length;
    const secs = exp ? declaredSeconds(exp.cost[points.find((p) => p.experiment === e)!.size]) : null;
    declared.set(e, secs === null ? null : secs / Math.max(1, n));
  }
  const expected = (i: number): number | null => {
    const xs = byExp.get(points[i].experiment);
    return xs?.length ? xs.reduce((a, b) => a + b, 0) / xs.length : (declared.get(points[i].experiment) ?? (ran > 0 ? ranSeconds / ran : null));
  };
  const eta = (): string => {
    let work = 0;
    let longest = 0;
    for (let i = 0; i < points.length; i++) {
      if (results[i]) continue;
      const r = running.get(i);
      const exp = expected(i);
      let left: number | null;
      if (r) {
        left = pointSecondsLeft((performance.now() - r.start) / 1000, r.frac, exp);
        if (left === null) return exp === null ? "?" : "unknown (a run is past its estimate)";
        longest = Math.max(longest, left);
      } else left = started.has(i) || ranHere.has(keyOf(i)) || inFlight.has(keyOf(i)) ? 0 : exp; // an equivalent point reuses that run
      if (left === null) return "?";
      work += left;
    }
    return formatDuration(Math.max(longest, work / Math.max(1, opts.jobs)));
  };
  const line = () => {
    const elapsed = (performance.now() - t0) / 1000;
    return `runs ${finished}/${points.length} done · elapsed ${formatDuration(elapsed)} · ETA ${eta()}${status.size ? " · " + [...status.values()].join(" | ") : ""}`;
  };
  let lastPrint = 0;
  const tick = () => {
    const now = performance.now();
    if (now - lastPrint >= (opts.intervalMs ?? 10_000)) {
      lastPrint = now;
      say(line());
    }
  };
  const finish = async (i: number, s: RunSummary) => {
    results[i] = s;
    finished++;
    if (!s.reused) {
      ran++;
      ranSeconds += s.seconds;
      byExp.set(s.experiment, [...(byExp.get(s.experiment) ?? []), s.seconds]);
    }
    status.delete(i);
    running.delete(i);
    say(`✓ ${labelOf(points[i])}: ${s.status}${s.verdict ? ` ${s.verdict}` : ""}${s.reused ? " (reused)" : ` in ${formatDuration(s.seconds)}`} — ${line()}`);
    await opts.onFinished?.(points[i], s);
  };

  // Equivalent points (an experiment's `computes`) share one run: the first runs it, the others wait for it and
  // reuse it from the store, even under --force (which reruns what finished before this call, not within it).
  const keys = points.map((p) => pointKey(p, registry)); // hashed once: the ETA and pick read them often
  const keyOf = (i: number): string => keys[i];
  const ranHere = new Set<string>();
  const inFlight = new Map<string, Promise<void>>();
  const forceOf = (i: number) => !!opts.force && !ranHere.has(keyOf(i));

  if (opts.jobs <= 1) {
    for (let i = 0; i < points.length; i++) {
      status.set(i, labelOf(points[i]));
      running.set(i, { start: performance.now(), frac: null });
      started.add(i);
      const s = await runPoint(registry, points[i], {
        outDir: opts.outDir,
        storePath: opts.storePath,
        force: forceOf(i),
        quiet: true,
        onProgress: (d, t, label) => {
          status.set(i, `${labelOf(points[i])}${label ? " " + label : ""} ${d}/${t}`);
          running.get(i)!.frac = label === "" && t > 0 ? d / t : null;
          tick();
        },
      });
      ranHere.add(keyOf(i));
      await finish(i, s);
      if (s.status === "interrupted") break;
    }
    return results.filter((r): r is RunSummary => r !== undefined);
  }

  // The next point whose run is not in flight in another worker (an equivalent point waits for it). Its key is
  // marked in flight here, before pick returns, so no other worker can take an equivalent point meanwhile.
  const pending = points.map((_, i) => i);
  const settlers = new Map<string, () => void>();
  const pick = async (): Promise<number | null> => {
    while (!failure && !interrupted) {
      const j = pending.findIndex((i) => !inFlight.has(keyOf(i)));
      if (j >= 0) {
        const i = pending.splice(j, 1)[0];
        const key = keyOf(i);
        inFlight.set(
          key,
          new Promise<void>((r) => {
            settlers.set(key, r);
          }),
        );
        return i;
      }
      if (!pending.length) return null;
      await Promise.race(inFlight.values());
    }
    return null;
  };
  /** The run of `key` is over: a finished one is reused by the equivalent points (even under --force). */
  const release = (key: string, finishedRun: boolean) => {
    if (finishedRun) ranHere.add(key);
    inFlight.delete(key);
    settlers.get(key)?.();
    settlers.delete(key);
  };
  let failure: Error | null = null;
  let interrupted = false;
  const workers: ChildProcess[] = [];
  const forward = (sig: NodeJS.Signals) => {
    interrupted = true;
    for (const w of workers) w.kill(sig);
  };
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  try {
    await Promise.all(
      Array.from({ length: Math.min(opts.jobs, points.length) }, async () => {
        // One thread per worker (JAX_THREADS=0): bit-identical to a serial run.
        const w = fork(opts.workerScript, ["__worker"], { env: { ...process.env, JAX_THREADS: "0" }, stdio: ["ignore", "ignore", "inherit", "ipc"] });
        workers.push(w);
        try {
          for (let i = await pick(); i !== null; i = await pick()) {
            const key = keyOf(i);
            status.set(i, labelOf(points[i]));
            running.set(i, { start: performance.now(), frac: null });
            started.add(i);
            const s = await new Promise<RunSummary>((done, fail) => {
              const onMsg = (m: Msg) => {
                if (m.type === "progress") {
                  status.set(i, `${labelOf(points[i])}${m.label ? " " + m.label : ""} ${m.done}/${m.total}`);
                  running.get(i)!.frac = m.label === "" && m.total > 0 ? m.done / m.total : null;
                  tick();
                } else if (m.type === "done") {
                  cleanup();
                  done(m.summary);
                } else {
                  cleanup();
                  fail(m.issues ? new GenlabError(m.issues) : new Error(m.message));
                }
              };
              const onExit = (code: number | null) => {
                cleanup();
                fail(new Error(`worker for ${labelOf(points[i])} exited with code ${code}`));
              };
              const cleanup = () => {
                w.off("message", onMsg);
                w.off("exit", onExit);
              };
              w.on("message", onMsg);
              w.on("exit", onExit);
              w.send({ type: "run", spec: points[i], outDir: opts.outDir, storePath: opts.storePath, force: forceOf(i) });
            }).then(
              (r) => (release(key, r.status === "finished"), r),
              (e: unknown) => {
                // the failure first: a worker waiting on this run must stop, not rerun or reuse a stale one
                failure ??= e as Error;
                release(key, false);
                throw e;
              },
            );
            await finish(i, s);
            if (s.status === "interrupted") interrupted = true;
          }
        } catch (e) {
          failure ??= e as Error;
        } finally {
          if (w.connected) w.disconnect();
        }
      }),
    );
  } finally {
    process.off("SIGINT", forward);
    process.off("SIGTERM", forward);
  }
  if (failure && !interrupted) throw failure;
  return results.filter((r): r is RunSummary => r !== undefined);
}
