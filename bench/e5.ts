/**
 * E5 of `npm run bench`: the runner's own overhead on the whole quick suite. Runs
 * `genlab reproduce --quick --jobs J` (J = E5_JOBS, default 1) in a fresh folder, timed from outside
 * (process start to exit, as a user waits for it), then reads every run's own time from the run store
 * (`seconds`: one run's code from its start to its summary, measured by the runner around it). With J = 1
 * the parts run one after the other, so wall − Σ parts is what the runner adds around them: process start,
 * engine set-up, planning, the store, the report rewritten while runs finish, and the final report. With
 * J > 1, Σ parts / J is the wall time of a perfect split (no runner, no waiting on the longest run).
 * E5_ONLY=a,b limits it to those experiments (reproduce --only); E5_JSON=file keeps reproduce's --json
 * output (every experiment's verdict and measured values), e.g. to compare verdicts across backends.
 * Prints {id: "E5", jobs, wall_ms, parts_ms, runs, overhead_ms, overhead_frac, verdicts}.
 *   node --import tsx bench/e5.ts            (the backend from GENLAB_BACKEND / GENLAB_GEMM, as genlab reads them)
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "..");
const jobs = Number(process.env.E5_JOBS ?? 1);
if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`E5_JOBS must be a positive integer, got ${process.env.E5_JOBS}`);
const out = mkdtempSync(join(tmpdir(), "genlab-e5-"));
try {
  const env = { ...process.env };
  delete env.JAX_THREADS; // reproduce's workers are single-threaded, as in CI
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ["bin/genlab.js", "reproduce", "--quick", "--jobs", String(jobs), ...(process.env.E5_ONLY ? ["--only", process.env.E5_ONLY] : []), "--out", out, "--report", join(out, "report"), "--json"], { cwd: ROOT, env, encoding: "utf8", maxBuffer: 1 << 26 });
  const wall = performance.now() - t0;
  if (r.status !== 0) throw new Error(`genlab reproduce failed (exit ${r.status}): ${r.stderr.trim().split("\n").slice(-4).join(" | ")}`);
  if (process.env.E5_JSON) writeFileSync(process.env.E5_JSON, r.stdout);
  const listed = spawnSync(process.execPath, ["bin/genlab.js", "runs", "--out", out, "--json"], { cwd: ROOT, encoding: "utf8", maxBuffer: 1 << 26 });
  if (listed.status !== 0) throw new Error(`genlab runs failed (exit ${listed.status}): ${listed.stderr.trim()}`);
  const runs = JSON.parse(listed.stdout) as { status: string; seconds: number | null }[];
  const unfinished = runs.filter((x) => x.status !== "finished" || typeof x.seconds !== "number");
  if (unfinished.length) throw new Error(`${unfinished.length} of ${runs.length} runs did not finish with a time`);
  const parts = runs.reduce((s, x) => s + (x.seconds as number) * 1000, 0);
  // the experiments' verdicts, from reproduce --json (one object a line)
  const verdicts: Record<string, number> = {};
  for (const l of r.stdout.split("\n").filter((x) => x.startsWith("{"))) {
    const v = String((JSON.parse(l) as { verdict?: string }).verdict);
    verdicts[v] = (verdicts[v] ?? 0) + 1;
  }
  const overhead = jobs === 1 ? wall - parts : wall - parts / jobs;
  console.log(JSON.stringify({ id: "E5", jobs, wall_ms: wall, parts_ms: parts, runs: runs.length, overhead_ms: overhead, overhead_frac: overhead / wall, verdicts }));
} finally {
  rmSync(out, { recursive: true, force: true });
}
