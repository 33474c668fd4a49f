// The dashboard's pure helpers and its server, without a browser.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { aggregate, configToQuery, queryToRaw, smooth, toCsv } from "../web/data.ts";
import { createDashboardServer, listen } from "../src/server/serve.ts";
import { RunStore } from "../src/runner/store.ts";

describe("dashboard data helpers", () => {
  it("smoothing 0 is the identity; a constant stays constant (debiased EMA); it lags a step", () => {
    const pts: [number, number][] = [[1, 2], [2, 2], [3, 2]];
    assert.deepEqual(smooth(pts, 0), pts);
    for (const [, y] of smooth(pts, 0.9)) assert.ok(Math.abs(y - 2) < 1e-12);
    const step = smooth([[1, 0], [2, 0], [3, 1]], 0.5);
    assert.ok(step[2][1] > 0 && step[2][1] < 1);
  });

  it("aggregate: mean and min–max at the steps every seed logged", () => {
    const a = aggregate([[[1, 1], [2, 3], [3, 5]], [[1, 3], [2, 5]]]);
    assert.deepEqual(a, { x: [1, 2], mean: [2, 4], lo: [1, 3], hi: [3, 5] });
  });

  it("CSV quotes what needs quoting; the URL round-trips a config", () => {
    assert.equal(toCsv([{ run: "a,b", metric: "m", points: [[1, 0.5]] }]), 'run,metric,step,value\n"a,b",m,1,0.5\n');
    const cfg = { p: 97, op: "add", lr: 0.006, seed: 2 };
    assert.deepEqual(queryToRaw(configToQuery(cfg)), { p: "97", op: "add", lr: "0.006", seed: "2" });
  });
});

describe("dashboard server", () => {
  it("serves the store and the assets, 404s everything else", async () => {
    const dir = mkdtempSync(join(tmpdir(), "genlab-serve-"));
    const assets = join(dir, "dist");
    mkdirSync(join(assets, "assets"), { recursive: true });
    writeFileSync(join(assets, "index.html"), "<!doctype html><p>ok</p>");
    writeFileSync(join(assets, "assets", "a.js"), "1");
    writeFileSync(join(dir, "secret.txt"), "no");
    const storePath = join(dir, "genlab.db");
    const store = new RunStore(storePath);
    store.insertRun({ id: "exp-1-s0-x", experiment: "exp", paper: 1, size: "smoke", seed: 0, hparams_hash: "1", hparams: "{}", settings: "{}", started_at: "2026-11-28T00:00:00Z", dir, genlab_version: "0", jax_version: "0", device: "wasm" });
    store.appendMetrics("exp-1-s0-x", { phase: "main", axis: "step", x: 1, values: { loss: 0.5 } });
    store.appendMetrics("exp-1-s0-x", { phase: "main", axis: "step", x: 2, values: { loss: 0.25 } });
    store.appendMetrics("exp-1-s0-x", { phase: "sim", axis: "width", x: 64, values: { test_mse: 0.5 } });
    store.close();
    const { server, store: s2 } = createDashboardServer({ port: 0, host: "127.0.0.1", storePath, assetsDir: assets });
    const port = await listen(server, 0, "127.0.0.1");
    const get = (p: string) => fetch(`http://127.0.0.1:${port}${p}`, { headers: { connection: "close" } });
    try {
      assert.equal((await get("/")).status, 200);
      assert.equal(await (await get("/assets/a.js")).text(), "1");
      const runs = await (await get("/api/runs")).json();
      assert.deepEqual(runs.map((r: { id: string }) => r.id), ["exp-1-s0-x"]);
      const m = await (await get("/api/runs/exp-1-s0-x/metrics?after=1")).json();
      assert.deepEqual(m.metrics, [{ step: 2, loss: 0.25 }]);
      // records on a non-step axis are served apart, for the run page's axis charts
      assert.deepEqual(await (await get("/api/runs/exp-1-s0-x/rows")).json(), [{ phase: "sim", axis: "width", x: 64, values: { test_mse: 0.5 } }]);
      assert.deepEqual(runs[0].figures, []);
      for (const bad of ["/secret.txt", "/../secret.txt", "/%2e%2e/secret.txt", "/assets/..%2F..%2Fsecret.txt", "/api/runs/..%2Fx", "/api/runs/exp-1-s0-x/figures/..%2F..%2Fsecret.txt", "/api/runs/nope", "/api/runs/%00", "/api/other", "/assets/%E0%A4%A"]) {
        assert.equal((await get(bad)).status, 404, bad);
      }
      assert.equal((await fetch(`http://127.0.0.1:${port}/api/runs`, { method: "DELETE" })).status, 405);
    } finally {
      server.close();
      server.closeAllConnections();
      s2.close();
    }
  });
});
