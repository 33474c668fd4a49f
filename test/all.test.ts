// One entry point for every test (DEPS.md: one process is ~5× faster than one per file). The Node 20
// shim must be evaluated before @jax-js/jax.
//
// Two shards by default: `npm test` starts two processes of this file (GENLAB_TEST_SHARD=1/2 and 2/2), each
// running about half the suite by the per-file seconds in test/durations.json (longest first onto the lighter
// shard), prints their lines as they come prefixed [1/2] and [2/2], and fails when either fails. The files that
// build or serve the dashboard's assets (web/dist) run in one shard, so two processes never write them at once.
// GENLAB_TEST_SHARDS=1 runs everything in this process; GENLAB_TEST_ONLY (below) always does.
// Refresh the seconds after a suite run: node --import tsx --test-reporter=tap test/all.test.ts > tap.txt;
// node scripts/test-durations.mjs tap.txt.
import "./env.ts"; // GENLAB_BACKEND=wasm unless set: before the shim, which reads it
import "../src/platform/nodeShim.ts";
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { createInterface } from "node:readline";
import { initDevices } from "../src/core/jax.ts";

const ROOT = join(import.meta.dirname, "..");
const only = process.env.GENLAB_TEST_ONLY;
const shardSpec = process.env.GENLAB_TEST_SHARD;
const shardCount = Number(process.env.GENLAB_TEST_SHARDS ?? 2);
if (!Number.isInteger(shardCount) || shardCount < 1) throw new Error(`GENLAB_TEST_SHARDS must be a positive integer, got ${process.env.GENLAB_TEST_SHARDS}`);
if (!only && !shardSpec && shardCount > 1) process.exit(await runShards(shardCount));

// Every temporary folder of the suite (and of the processes it starts) goes under one folder that is
// removed when the suite ends, pass or fail: no genlab-* folders pile up in /tmp.
const suiteTmp = mkdtempSync(join(tmpdir(), "genlab-suite-"));
chmodSync(suiteTmp, 0o1777); // like /tmp: the permission tests run the CLI as another user
process.env.TMPDIR = suiteTmp;
process.on("exit", () => rmSync(suiteTmp, { recursive: true, force: true }));

await initDevices();

// Every *.test.ts under src/ and test/ is discovered (a new test file cannot be left out of npm test):
// the library's unit tests first (in layer order), then the integration tests of test/, by name.
const LAYERS = ["core", "nn", "optim", "data", "train", "measures", "scores", "theory", "io", "declare", "runner", "report", "server", "cli"];
const find = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? find(join(dir, d.name)) : d.name.endsWith(".test.ts") && d.name !== "all.test.ts" ? [join(dir, d.name)] : []));
const layer = (f: string) => {
  const i = LAYERS.indexOf(relative(join(ROOT, "src"), f).split("/")[0]);
  return i < 0 ? LAYERS.length : i;
};
const files = [...find(join(ROOT, "src")).sort((a, b) => layer(a) - layer(b) || a.localeCompare(b)), ...find(join(ROOT, "test")).sort()];
// GENLAB_TEST_ONLY=optim (or a comma-separated list: core,nn,optim) runs the files whose names contain one.
const wanted = only?.split(",").map((x) => x.trim()).filter(Boolean);
const mine = shardSpec && !wanted ? shardOf(files, shardSpec) : null;
for (const f of files) if ((!wanted || wanted.some((w) => f.includes(w))) && (!mine || mine.has(f))) await import(f);

/** The files of shard "i/n" (1-based): test/durations.json's seconds (2 s for a file not in it), longest first onto the lightest shard; the dashboard's files together. */
function shardOf(all: string[], spec: string): Set<string> {
  const m = /^(\d+)\/(\d+)$/.exec(spec);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > Number(m[2])) throw new Error(`GENLAB_TEST_SHARD must be i/n with 1 ≤ i ≤ n, got ${spec}`);
  const [i, n] = [Number(m[1]), Number(m[2])];
  const seconds = JSON.parse(readFileSync(join(ROOT, "test/durations.json"), "utf8")) as Record<string, number>;
  const rel = (f: string) => relative(ROOT, f);
  const WEB = /^test\/(dashboard|issue21-store|web)\.test\.ts$/; // build or serve web/dist
  const units: string[][] = [all.filter((f) => WEB.test(rel(f))), ...all.filter((f) => !WEB.test(rel(f))).map((f) => [f])].filter((u) => u.length);
  const cost = (u: string[]) => u.reduce((t, f) => t + (seconds[rel(f)] ?? 2), 0);
  units.sort((a, b) => cost(b) - cost(a) || rel(a[0]).localeCompare(rel(b[0])));
  const load = new Array(n).fill(0);
  const out = new Set<string>();
  for (const u of units) {
    const k = load.indexOf(Math.min(...load));
    load[k] += cost(u);
    if (k === i - 1) for (const f of u) out.add(f);
  }
  return out;
}

/** Run the suite as n child processes of this file; their lines prefixed [i/n] as they come; a summary; the exit code (non-zero when any failed). */
async function runShards(n: number): Promise<number> {
  const t0 = performance.now();
  const kids = Array.from({ length: n }, (_, k) => {
    const tag = `[${k + 1}/${n}]`;
    const child = spawn(process.execPath, [...process.execArgv, import.meta.filename], { env: { ...process.env, GENLAB_TEST_SHARD: `${k + 1}/${n}` }, stdio: ["ignore", "pipe", "pipe"] });
    const counts = { pass: 0, fail: 0 };
    const failed: string[] = [];
    for (const stream of [child.stdout!, child.stderr!])
      createInterface({ input: stream }).on("line", (line) => {
        const c = /^# (pass|fail) (\d+)$/.exec(line);
        if (c) counts[c[1] as "pass" | "fail"] = Number(c[2]);
        if (/^\s*not ok \d+ - /.test(line)) failed.push(line.trim());
        (stream === child.stdout ? process.stdout : process.stderr).write(`${tag} ${line}\n`);
      });
    const done = new Promise<{ code: number; seconds: number }>((ok) => child.on("close", (code, sig) => ok({ code: code ?? (sig ? 1 : 0), seconds: (performance.now() - t0) / 1000 })));
    return { tag, child, counts, failed, done };
  });
  const stop = () => kids.forEach((k) => k.child.kill("SIGTERM"));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const ends = await Promise.all(kids.map((k) => k.done));
  console.log(`\n# ${n} shards in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  for (const [k, kid] of kids.entries()) console.log(`# ${kid.tag} ${kid.counts.pass} pass, ${kid.counts.fail} fail, exit ${ends[k].code}, ${ends[k].seconds.toFixed(0)} s${kid.failed.length ? `: ${kid.failed.join("; ")}` : ""}`);
  return ends.some((e) => e.code !== 0) ? 1 : 0;
}
