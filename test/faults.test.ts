// Fault injection: a run SIGKILLed at random writes (metric rows, checkpoints, phases, arrays, the summary
// and the final store update) leaves a sound store and an interrupted run, never a finished run without
// summary.json, and resumes to exactly the metrics of an uninterrupted run. Damaged checkpoints make
// resume fail with one line naming the file, and change nothing.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { RunStore } from "../src/runner/store.ts";
import { FAULT_POINTS } from "../src/runner/fault.ts";

const PROBE = resolve(import.meta.dirname, "util/faultProbe.ts");

type ChildResult = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

function child(args: string[], env: Record<string, string> = {}): Promise<ChildResult> {
  return new Promise((done) => {
    const c = spawn(process.execPath, ["--import", "tsx", PROBE, ...args], { env: { ...process.env, JAX_THREADS: "0", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    c.stdout.on("data", (d) => (stdout += d));
    c.stderr.on("data", (d) => (stderr += d));
    c.on("exit", (code, signal) => done({ code, signal, stdout, stderr }));
  });
}

const sortedLines = (path: string) => readFileSync(path, "utf8").split("\n").filter(Boolean).sort();

function storeState(out: string, id: string) {
  const store = new RunStore(join(out, "genlab.db"));
  try {
    return { integrity: store.integrityCheck(), row: store.getRun(id), metrics: store.metricRows(id).map((r) => JSON.stringify(r)).sort() };
  } finally {
    store.close();
  }
}

/** A deterministic choice of kill points (an LCG: the test picks points, no number of a run depends on it). */
function pickKillPoints(counts: Map<string, number>, want: number, seed: number): [string, number][] {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const all: [string, number][] = [];
  for (const [p, c] of counts) for (let n = 1; n <= c; n++) all.push([p, n]);
  const picked = new Map<string, [string, number]>();
  // every kind of point at least once (its first and last occurrence), the rest at random
  for (const [p, c] of counts) {
    picked.set(`${p}:1`, [p, 1]);
    picked.set(`${p}:${c}`, [p, c]);
  }
  while (picked.size < Math.min(want, all.length)) {
    const [p, n] = all[Math.floor(next() * all.length)];
    picked.set(`${p}:${n}`, [p, n]);
  }
  return [...picked.values()];
}

async function inPairs<T>(items: T[], fn: (t: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += 2) await Promise.all(items.slice(i, i + 2).map(fn));
}

describe("fault injection", () => {
  it("SIGKILL at ≥ 20 points across rows, checkpoints, phases, arrays and the summary: store sound, run interrupted, resume equals an uninterrupted run", async () => {
    const root = mkdtempSync(join(tmpdir(), "genlab-faults-"));
    try {
      const refOut = join(root, "ref");
      const trace = join(root, "trace");
      const ref = await child(["run", refOut], { GENLAB_FAULT_TRACE: trace });
      assert.equal(ref.code, 0, ref.stderr);
      const refSummary = JSON.parse(ref.stdout);
      const refMetrics = sortedLines(join(refSummary.dir, "metrics.jsonl"));
      const refStore = storeState(refOut, refSummary.run_id);
      const counts = new Map<string, number>();
      for (const p of readFileSync(trace, "utf8").split("\n").filter(Boolean)) counts.set(p, (counts.get(p) ?? 0) + 1);
      assert.deepEqual([...counts.keys()].sort(), [...FAULT_POINTS].sort(), "the probe reaches every fault point");
      const points = pickKillPoints(counts, 24, 20261201);
      assert.ok(points.length >= 20, `${points.length} kill points`);
      let resumedFromScratch = 0;
      await inPairs(points, async ([p, n]) => {
        const what = `killed at ${p}:${n}`;
        const out = join(root, `${p}-${n}`);
        const killed = await child(["run", out], { GENLAB_FAULT: `${p}:${n}` });
        assert.equal(killed.signal, "SIGKILL", `${what}: ${killed.stderr}`);
        const id = readdirSync(out).find((d) => d.startsWith("fault-probe-"))!;
        const after = storeState(out, id);
        assert.equal(after.integrity, "ok", what);
        assert.equal(after.row?.status, "interrupted", `${what}: the store says ${after.row?.status}`);
        if (!existsSync(join(out, id, "checkpoint.json")) && !existsSync(join(out, id, "checkpoints"))) resumedFromScratch++;
        const resumed = await child(["resume", out, id]);
        assert.equal(resumed.code, 0, `${what}: ${resumed.stderr}`);
        const s = JSON.parse(resumed.stdout);
        assert.equal(s.status, "finished", what);
        assert.deepEqual(s.results, refSummary.results, `${what}: results`);
        assert.deepEqual(sortedLines(join(out, id, "metrics.jsonl")), refMetrics, `${what}: metrics.jsonl`);
        const done = storeState(out, id);
        assert.equal(done.integrity, "ok", what);
        assert.equal(done.row?.status, "finished", what);
        assert.ok(existsSync(join(out, id, "summary.json")), `${what}: finished means summary.json`);
        assert.deepEqual(done.metrics, refStore.metrics, `${what}: store metrics`);
        assert.deepEqual(readdirSync(join(out, id)).filter((f) => f.endsWith(".tmp")), [], `${what}: no temporary files left`);
      });
      assert.ok(resumedFromScratch < points.length, "most kills leave a checkpoint to resume from");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("a damaged checkpoint: resume fails with one line naming the file, changes nothing, and the repaired run finishes with an uninterrupted run's metrics", async () => {
    const root = mkdtempSync(join(tmpdir(), "genlab-faults-"));
    try {
      const ref = await child(["run", join(root, "ref")]);
      assert.equal(ref.code, 0, ref.stderr);
      const refSummary = JSON.parse(ref.stdout);
      const out = join(root, "run");
      // killed at its 8th checkpoint (the 3rd of the main training)
      const killed = await child(["run", out], { GENLAB_FAULT: "checkpoint:8" });
      assert.equal(killed.signal, "SIGKILL");
      const id = readdirSync(out).find((d) => d.startsWith("fault-probe-"))!;
      const ck = join(out, id, "checkpoint.json");
      assert.ok(existsSync(ck), "the main training has a checkpoint");
      const good = readFileSync(ck, "utf8");
      const before = { metrics: readFileSync(join(out, id, "metrics.jsonl"), "utf8"), store: storeState(out, id) };
      const parsed = JSON.parse(good);
      const wrongShape = JSON.stringify({ ...parsed, params: { ...parsed.params, layers: [{ ...parsed.params.layers[0], w: { ...parsed.params.layers[0].w, shape: [8, 4] } }, ...parsed.params.layers.slice(1)] } });
      const cases: [string, string, RegExp][] = [
        ["the issue's {step: 5}", '{"step": 5}', /^✖ has no field "params"; the checkpoint is damaged or not this run's .* → at .*checkpoint\.json\n$/],
        ["truncated", good.slice(0, Math.floor(good.length / 2)), /^✖ is not valid JSON \(.*truncated\?\).* → at .*checkpoint\.json\n$/],
        ["a step past the run", JSON.stringify({ ...parsed, step: 18650 }), /^✖ is at step 18650, past this run's 24 steps.* → at .*checkpoint\.json\n$/],
        ["a shape that is not the model's", wrongShape, /^✖ params does not match the model: params\.layers\[0\]\.w: \[8, 4\] float32 in the file, params\.layers\[0\]\.w: \[4, 8\] float32 expected.* → at .*checkpoint\.json\n$/],
        ["base64 too short for its shape", JSON.stringify({ ...parsed, params: { ...parsed.params, layers: [{ ...parsed.params.layers[0], w: { ...parsed.params.layers[0].w, b64: "AAAA" } }, ...parsed.params.layers.slice(1)] } }), /params\.layers\[0\]\.w holds 3 bytes/],
        ["a shuffling permutation with a repeat", JSON.stringify({ ...parsed, data: { ...parsed.data, perm: parsed.data.perm.map(() => 0) } }), /data\.perm is not a permutation/],
      ];
      for (const [what, text, expected] of cases) {
        writeFileSync(ck, text);
        const r = await child(["resume", out, id]);
        assert.equal(r.code, 1, `${what}: exit 1 (${r.stderr})`);
        assert.match(r.stderr, expected, what);
        assert.equal(readFileSync(join(out, id, "metrics.jsonl"), "utf8"), before.metrics, `${what}: metrics.jsonl untouched`);
        const now = storeState(out, id);
        assert.deepEqual(now.metrics, before.store.metrics, `${what}: the store's metrics untouched`);
        assert.equal(now.row?.status, "interrupted", `${what}: still resumable`);
      }
      writeFileSync(ck, good);
      const r = await child(["resume", out, id]);
      assert.equal(r.code, 0, r.stderr);
      const s = JSON.parse(r.stdout);
      assert.deepEqual(s.results, refSummary.results);
      assert.deepEqual(sortedLines(join(out, id, "metrics.jsonl")), sortedLines(join(refSummary.dir, "metrics.jsonl")));
      const killedSeconds = before.store.row?.seconds ?? 0;
      assert.ok(killedSeconds > 0, "the killed attempt's time up to its last checkpoint is kept");
      assert.ok(s.seconds > killedSeconds, `a resumed run's time counts its attempts (${s.seconds} > ${killedSeconds})`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
