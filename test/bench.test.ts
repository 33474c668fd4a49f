// The benchmark must not rot: its genlab side runs (no timing asserted) and its numbers are computed.
// The torch side needs Debian's python3-torch, which CI does not install; `npm run bench` checks for it.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "..");

describe("bench", () => {
  it("the genlab workloads W1, W3 and W6 run and print finite checks; GraNd baseline (vmap) = ghost norms", () => {
    const run = (extra: string[]) => {
      const r = spawnSync(process.execPath, ["--import", "tsx", "bench/genlab.ts", "--only=W1,W3,W6,W7", "--rep-scale=0.1", ...extra], { cwd: ROOT, encoding: "utf8", env: { ...process.env, JAX_THREADS: "0" } });
      assert.equal(r.status, 0, r.stderr);
      return Object.fromEntries(r.stdout.trim().split("\n").map((l) => JSON.parse(l)).map((o) => [o.id, o]));
    };
    const now = run([]);
    for (const id of ["W1", "W3", "W6", "W7"]) assert.ok(Number.isFinite(now[id].check) && now[id].cpu_ms > 0, id);
    const before = run(["--baseline"]);
    // mean per-example gradient norm: ghost norms vs materialised vmap(grad), float32
    assert.ok(Math.abs(now.W3.check - before.W3.check) <= 1e-4 * before.W3.check, `${now.W3.check} vs ${before.W3.check}`);
  });

  it("bench/run.ts rejects an unknown option with a one-line message", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "bench/run.ts", "--thread=2"], { cwd: ROOT, encoding: "utf8" });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /✖ unknown option --thread=2 → expected one of --json/);
  });
});
