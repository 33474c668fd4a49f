// The dashboard's pure helpers and its server, without a browser.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { aggregate, configToQuery, queryToRaw, smooth, toCsv } from "../web/data.ts";
import { RUN_VIEW_FIELDS, createDashboardServer, isFigureName, listen, needsToken, newToken, pathSegments, readInside } from "../src/server/serve.ts";
import { RunStore } from "../src/runner/store.ts";

describe("dashboard data helpers", () => {
  it("smoothing 0 is the identity; a constant stays constant (debiased EMA); it lags a step", () => {
    const pts: [number, number][] = [[1, 2], [2, 2], [3, 2]];
    assert.deepEqual(smooth(pts, 0), pts);
    for (const [, y] of smooth(pts, 0.9)) assert.ok(Math.abs(y - 2) < 1e-12, "Math.abs(y - 2) < 1e-12");
    const step = smooth([[1, 0], [2, 0], [3, 1]], 0.5);
    assert.ok(step[2][1] > 0 && step[2][1] < 1, "step[2][1] > 0 && step[2][1] < 1");
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

/** A raw request, so that the Host header and the request target are exactly what a test says. */
function rawGet(port: number, target: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((done, fail) => {
    const req = request({ host: "127.0.0.1", port, path: target, method: "GET", headers: { connection: "close", ...headers }, setHost: false }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => done({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", fail);
    req.end();
  });
}

/** A dashboard server on a free port for `fn`, closed afterwards whatever happens. */
async function withServer(opts: { host: string; storePath: string; assetsDir: string; token?: string }, fn: (port: number) => Promise<void>): Promise<void> {
  const { server, store } = createDashboardServer({ port: 0, ...opts });
  const port = await listen(server, 0, opts.host);
  try {
    await fn(port);
  } finally {
    server.close();
    server.closeAllConnections();
    store.close();
  }
}

describe("dashboard server security", () => {
  const dir = mkdtempSync(join(tmpdir(), "genlab-serve-"));
  const assets = join(dir, "dist");
  mkdirSync(assets, { recursive: true });
  writeFileSync(join(assets, "index.html"), "<!doctype html><p>ok</p>");
  const runDir = join(dir, "run-1");
  mkdirSync(join(runDir, "figures"), { recursive: true });
  writeFileSync(join(runDir, "figures", "curve.svg"), "<svg/>");
  writeFileSync(join(runDir, "secret.svg"), "run-folder secret");
  writeFileSync(join(dir, "outside.svg"), "outside secret");
  symlinkSync(join(dir, "outside.svg"), join(runDir, "figures", "leak.svg"));
  symlinkSync("/etc/passwd", join(runDir, "figures", "passwd.svg"));
  const storePath = join(dir, "genlab.db");
  const store = new RunStore(storePath);
  store.insertRun({ id: "exp-1-s0-x", experiment: "exp", paper: 1, size: "smoke", seed: 0, hparams_hash: "1", hparams: '{"lr":0.1}', settings: "{}", started_at: "2026-11-28T00:00:00Z", dir: runDir, genlab_version: "0", jax_version: "0.1.25", device: "wasm (SIMD, 1 thread)" });
  store.finishRun("exp-1-s0-x", { status: "finished", verdict: "PASS", seconds: 1, summary: JSON.stringify({ measured: { a: 1 }, criterion: "c", dir: runDir, figures: [join(runDir, "figures", "curve.svg")], device: "wasm" }) });
  store.close();

  it("answers only its own Host names and origin-form targets (DNS rebinding), with framing and referrers off", async () => {
    await withServer({ host: "127.0.0.1", storePath, assetsDir: assets }, async (port) => {
      for (const host of ["evil.example", `evil.example:${port}`, "127.0.0.1.evil.example", "", "10.0.0.1"]) {
        const r = await rawGet(port, "/api/runs", host ? { host } : {});
        // Node itself answers 400 to an HTTP/1.1 request without a Host
        assert.equal(r.status, host ? 403 : 400, `Host ${JSON.stringify(host)}`);
        assert.doesNotMatch(r.body, /exp-1/);
      }
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, "localhost", `[::1]:${port}`]) assert.equal((await rawGet(port, "/api/runs", { host })).status, 200, host);
      const abs = await rawGet(port, `http://evil.example/api/runs`, { host: `127.0.0.1:${port}` });
      assert.equal(abs.status, 400, "absolute-form request target");
      const page = await rawGet(port, "/", { host: `127.0.0.1:${port}` });
      assert.match(String(page.headers["content-security-policy"]), /frame-ancestors 'none'/);
      assert.equal(page.headers["referrer-policy"], "no-referrer");
      assert.equal(page.headers["x-frame-options"], "DENY");
    });
  });

  it("a non-loopback bind requires the token on every request (query once, then its cookie, or a Bearer header)", async () => {
    assert.throws(() => createDashboardServer({ port: 0, host: "0.0.0.0", storePath, assetsDir: assets }), /needs a token/);
    assert.equal(needsToken("127.0.0.1"), false);
    assert.equal(needsToken("0.0.0.0"), true);
    assert.equal(needsToken("192.168.1.5"), true);
    const token = newToken();
    await withServer({ host: "0.0.0.0", storePath, assetsDir: assets, token }, async (port) => {
      const host = { host: `127.0.0.1:${port}` };
      assert.equal((await rawGet(port, "/api/runs", host)).status, 401, "no token");
      assert.equal((await rawGet(port, "/api/runs?token=wrong", host)).status, 401, "wrong token");
      assert.equal((await rawGet(port, "/", host)).status, 401, "the page too");
      const first = await rawGet(port, `/?token=${token}`, host);
      assert.equal(first.status, 200);
      const cookie = String(first.headers["set-cookie"]);
      assert.match(cookie, /genlab_token=.*HttpOnly; SameSite=Strict/);
      assert.equal((await rawGet(port, "/api/runs", { ...host, cookie: cookie.split(";")[0] })).status, 200, "the cookie");
      assert.equal((await rawGet(port, "/api/runs", { ...host, authorization: `Bearer ${token}` })).status, 200, "a Bearer header");
      assert.equal((await rawGet(port, "/api/runs", { ...host, cookie: "genlab_token=nope" })).status, 401);
    });
  });

  it("sends only what the page draws: no folders, figure paths, pids, hosts or devices", async () => {
    await withServer({ host: "127.0.0.1", storePath, assetsDir: assets }, async (port) => {
      const host = { host: `127.0.0.1:${port}` };
      const one = await rawGet(port, "/api/runs/exp-1-s0-x", host);
      const view = JSON.parse(one.body);
      assert.deepEqual(Object.keys(view).sort(), [...RUN_VIEW_FIELDS].sort());
      assert.deepEqual(view.summary, { measured: { a: 1 }, criterion: "c" });
      assert.deepEqual(view.figures, ["curve.svg"], "figure names only; symlinks are not listed");
      for (const path of ["/api/runs", "/api/runs/exp-1-s0-x", "/api/runs/exp-1-s0-x/metrics", "/api/runs/exp-1-s0-x/rows"]) {
        const body = (await rawGet(port, path, host)).body;
        for (const leak of [dir, "wasm", "pid", "host", "0.1.25"]) assert.ok(!body.includes(leak), `${path} leaks ${leak}`);
      }
    });
  });

  it("figures: no symlink is followed, and each of the three path checks holds on its own", async () => {
    await withServer({ host: "127.0.0.1", storePath, assetsDir: assets }, async (port) => {
      const host = { host: `127.0.0.1:${port}` };
      assert.equal((await rawGet(port, "/api/runs/exp-1-s0-x/figures/curve.svg", host)).body, "<svg/>");
      for (const bad of ["leak.svg", "passwd.svg", "..%2Fsecret.svg", "..%2F..%2Foutside.svg", "%2E%2E%2Fsecret.svg", "..%5Csecret.svg"]) {
        const r = await rawGet(port, `/api/runs/exp-1-s0-x/figures/${bad}`, host);
        assert.equal(r.status, 404, bad);
        assert.doesNotMatch(r.body, /secret|root:/, bad);
      }
    });
    // check 1 alone: decoded segments with a slash, backslash, NUL or dots are refused
    assert.equal(pathSegments("/api/runs/exp-1-s0-x/figures/..%2Fsecret.svg"), null);
    assert.equal(pathSegments("/a/..%5Cb"), null);
    assert.equal(pathSegments("/a/%00"), null);
    assert.equal(pathSegments("/a/%E0%A4%A"), null);
    assert.deepEqual(pathSegments("/api/runs/x/figures/a.svg"), ["api", "runs", "x", "figures", "a.svg"]);
    // check 2 alone: a figure name is a plain name with .svg or .png
    for (const name of ["../secret.svg", "secret.txt", ".svg", "a/b.svg", "a.svg.txt"]) assert.equal(isFigureName(name), false, name);
    for (const name of ["curve.svg", "grokking-2.png"]) assert.equal(isFigureName(name), true, name);
    // check 3 alone: the real path stays inside the folder and no symlink is opened
    assert.equal(readInside(runDir, join(runDir, "figures"), "../secret.svg"), null, "one level up, into the run folder");
    assert.equal(readInside(runDir, join(runDir, "figures"), "leak.svg"), null, "a symlink out of the run folder");
    assert.equal(readInside(runDir, join(runDir, "figures"), "passwd.svg"), null, "a symlink to /etc/passwd");
    assert.equal(readInside(runDir, dir, "outside.svg"), null, "a folder outside the root");
    assert.equal(readInside(runDir, join(runDir, "figures"), "curve.svg")?.toString(), "<svg/>");
  });
});
