// The dashboard in a real browser, driven by Playwright (playwright-core + Debian's chromium): the built
// assets served by `genlab serve` over a run store made by the CLI. Screenshots of the report and of each
// dashboard page go to test-artifacts/.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { RunStore } from "../src/runner/store.ts";
import { EXPERIMENTS } from "../experiments/index.ts";

const CHROMIUM = "/usr/bin/chromium";
const ROOT = resolve(import.meta.dirname, "..");
const BIN = join(ROOT, "bin/genlab.js");
const ARTIFACTS = join(ROOT, "test-artifacts");

function genlab(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", cwd: ROOT });
  assert.equal(r.status, 0, r.stderr);
  return r;
}

describe("dashboard in Chromium (Playwright)", { skip: !existsSync(CHROMIUM) && "Debian chromium is not installed (.ci/run installs it)" }, () => {
  const dir = mkdtempSync(join(tmpdir(), "genlab-dash-"));
  const out = join(dir, "runs");
  let server: ChildProcess;
  let base = "";
  let browser: Browser;
  let page: Page;
  const t0 = performance.now();

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    // Build the dashboard from the current sources (genlab serve builds it only when web/dist is missing).
    const b = spawnSync(process.execPath, [join(ROOT, "node_modules/vite/bin/vite.js"), "build", "--config", join(ROOT, "web/vite.config.ts")], { cwd: ROOT, encoding: "utf8" });
    assert.equal(b.status, 0, b.stderr);
    // Two seeds of the smoke run, through `reproduce` (which also writes the report we screenshot).
    for (const seed of ["0", "1"]) genlab(["run", "grokking-modular", "--size", "smoke", "--seed", seed, "--no-control", "--out", out]);
    genlab(["report", "--out", out, "--report", join(dir, "report")]);
    server = spawn(process.execPath, [BIN, "serve", "--port", "0", "--out", out], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    base = await new Promise<string>((ok, fail) => {
      let buf = "";
      server.stdout!.on("data", (d) => {
        buf += d;
        const m = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(buf);
        if (m) ok(m[0]);
      });
      server.on("exit", (c) => fail(new Error(`serve exited ${c}`)));
      setTimeout(() => fail(new Error(`serve did not start: ${buf}`)), 60_000).unref();
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"] });
    page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1200, height: 900 } });
    page.on("pageerror", (e) => console.error("page error:", e.message));
  });

  after(async () => {
    await browser?.close();
    server?.kill("SIGINT");
    console.log(`# dashboard browser tests: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  });

  const storeRows = () => {
    const store = new RunStore(join(out, "genlab.db"));
    try {
      return store.listRuns().map((r) => ({ id: r.id, seed: r.seed, status: r.status, metrics: store.metrics(r.id) }));
    } finally {
      store.close();
    }
  };
  const points = async () => JSON.parse((await page.getAttribute("[data-testid=chart]", "data-points")) ?? "{}") as Record<string, number>;

  it("the report opens from disk and shows all 45 papers", async () => {
    await page.goto(`file://${join(dir, "report", "index.html")}`);
    assert.equal(await page.locator("section.paper[id^=paper-]").count(), 45);
    const implemented = new Set(EXPERIMENTS.filter((e) => e.kind !== "benchmark").map((e) => e.paper)).size;
    assert.equal(await page.locator("section.paper.todo").count(), 45 - implemented, "papers with a reproduction are never 'not yet implemented', run or not");
    await page.screenshot({ path: join(ARTIFACTS, "report.png"), fullPage: false });
    await page.locator("#grokking-modular").scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, "report-grokking.png"), fullPage: false });
  });

  it("the first page lists reproductions, their runs folded under them; the flat run list is one click away", async () => {
    await page.goto(base);
    await page.waitForSelector("[data-testid=reproductions] tr[data-repro]");
    assert.ok((await page.locator("tr[data-repro]").count()) >= 1, "at least one reproduction row");
    assert.match((await page.textContent("[data-testid=repro-counts]")) ?? "", /reproduction/);
    await page.screenshot({ path: join(ARTIFACTS, "reproductions.png") });
  });

  it("runs list: both runs, filters by status and hparams", async () => {
    await page.goto(`${base}#/runs`);
    await page.waitForSelector("[data-testid=runs] tr[data-run]");
    assert.equal(await page.locator("tr[data-run]").count(), 2);
    await page.selectOption("[data-testid=filter-status]", "running");
    assert.equal(await page.locator("tr[data-run]").count(), 0);
    await page.selectOption("[data-testid=filter-status]", "finished");
    await page.fill("[data-testid=filter-hparams]", "p=23");
    assert.equal(await page.locator("tr[data-run]").count(), 2);
    await page.fill("[data-testid=filter-hparams]", "p=97");
    assert.equal(await page.locator("tr[data-run]").count(), 0);
    await page.fill("[data-testid=filter-hparams]", "");
    await page.screenshot({ path: join(ARTIFACTS, "runs.png") });
  });

  it("run page: the curves have the store's number of points; log axis toggles; CSV export equals the store", async () => {
    const run = storeRows().find((r) => r.seed === 0)!;
    await page.goto(`${base}#/run/${run.id}`);
    await page.waitForSelector("[data-testid=chart] svg");
    const pts = await points();
    const expected = run.metrics.filter((m) => typeof m.test_acc === "number").length;
    assert.ok(expected > 5, "expected > 5");
    assert.deepEqual(pts, { test_acc: expected, train_acc: run.metrics.filter((m) => typeof m.train_acc === "number").length });
    // monitors get their own live chart: the grokking run logs ‖θ‖ (param_norm)
    const mon = JSON.parse((await page.getAttribute("[data-testid=monitor-chart]", "data-points")) ?? "{}") as Record<string, number>;
    assert.deepEqual(mon, { param_norm: run.metrics.filter((m) => typeof m.param_norm === "number").length }, "the param_norm monitor chart has every logged point");
    const logSvg = await page.innerHTML("[data-testid=chart]");
    await page.uncheck("[data-testid=xlog]");
    // the redraw comes after the change event: wait for it instead of reading the page at once
    await page.waitForFunction((old) => document.querySelector("[data-testid=chart]")?.innerHTML !== old, logSvg, { timeout: 15_000 });
    assert.notEqual(await page.innerHTML("[data-testid=chart]"), logSvg, "the linear axis redraws the chart");
    const [dl] = await Promise.all([page.waitForEvent("download"), page.click("[data-testid=export-csv]")]);
    const csv = readFileSync((await dl.path())!, "utf8").trim().split("\n");
    assert.equal(csv[0], "run,metric,step,value");
    const rows = csv.slice(1).map((l) => l.split(","));
    assert.equal(rows.length, pts.test_acc + pts.train_acc);
    for (const [id, metric, step, value] of rows) {
      assert.equal(id, run.id);
      const rec = run.metrics.find((m) => m.step === Number(step))!;
      assert.equal(Number(value), rec[metric], `${metric} at step ${step}`);
    }
    await page.screenshot({ path: join(ARTIFACTS, "run.png"), fullPage: true });
  });

  it("compare two seeds: overlay, then mean with a min–max band", async () => {
    const ids = storeRows().map((r) => r.id);
    await page.goto(`${base}#/compare?ids=${ids.join(",")}&metric=train_acc`);
    await page.waitForSelector("[data-testid=chart] svg");
    assert.equal(Object.keys(await points()).length, 2);
    await page.check("[data-testid=aggregate]");
    await page.waitForFunction(() => document.querySelector("[data-testid=chart]")?.innerHTML.includes("fill-opacity"));
    assert.equal(Object.keys(await points()).length, 1);
    await page.screenshot({ path: join(ARTIFACTS, "compare.png"), fullPage: true });
  });

  it("a run in progress updates live", async () => {
    const child = spawn(process.execPath, [BIN, "run", "grokking-modular", "--size", "smoke", "--set", "steps=20000", "--set", "p=31", "--seed", "5", "--out", out], { cwd: ROOT, stdio: "ignore" });
    try {
      let id: string | undefined;
      for (let i = 0; i < 100 && !id; i++) {
        await new Promise((r) => setTimeout(r, 200));
        id = storeRows().find((r) => r.seed === 5 && r.status === "running" && r.metrics.length > 1)?.id;
      }
      assert.ok(id, "the background run started");
      await page.goto(`${base}#/run/${id}`);
      await page.waitForSelector("[data-testid=chart] svg");
      const first = (await points()).train_acc;
      await page.waitForFunction((n) => JSON.parse(document.querySelector("[data-testid=chart]")!.getAttribute("data-points")!).train_acc > n, first, { timeout: 30_000 });
      assert.equal(await page.textContent("[data-testid=status]"), "running");
    } finally {
      child.kill("SIGINT");
      await new Promise((r) => child.on("exit", r));
    }
  });

  it("in-browser quick run: the URL carries the config, the curve moves, a verdict appears", async () => {
    await page.goto(`${base}#/play?p=23&trainFraction=0.5&hidden=32&steps=300&seed=3`);
    await page.waitForSelector("[data-field=p]");
    assert.equal(await page.inputValue("[data-field=hidden]"), "32");
    await page.click("[data-testid=start]");
    await page.waitForFunction(() => (JSON.parse(document.querySelector("[data-testid=chart]")!.getAttribute("data-points")!).train_acc ?? 0) >= 2, null, { timeout: 60_000 });
    const early = (await points()).train_acc;
    await page.waitForFunction(() => /PASS|FAIL|INCONCLUSIVE/.test(document.querySelector("[data-testid=play-status]")!.textContent ?? ""), null, { timeout: 120_000 });
    assert.ok((await points()).train_acc > early, "the curve grew while training");
    const url = new URL(page.url());
    const q = new URLSearchParams(url.hash.split("?")[1]);
    assert.deepEqual([q.get("p"), q.get("hidden"), q.get("steps"), q.get("seed"), q.get("lr")], ["23", "32", "300", "3", "0.006"]);
    const status = (await page.textContent("[data-testid=play-status]")) ?? "";
    assert.match(status, /^(wasm|webgpu) · finished/);
    // Same configuration on Node (CLI, one thread): on wasm the browser computes exactly the same curves.
    if (status.startsWith("wasm")) {
      const [dl] = await Promise.all([page.waitForEvent("download"), page.click("[data-testid=export-json]")]);
      const curves = JSON.parse(readFileSync((await dl.path())!, "utf8")) as { metric: string; points: [number, number][] }[];
      const node = JSON.parse(genlab(["run", "grokking-modular", "--size", "quick", "--set", "p=23", "--set", "trainFraction=0.5", "--set", "hidden=32", "--set", "steps=300", "--seed", "3", "--out", out, "--json"]).stdout);
      const metrics = readFileSync(join(node.dir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
      for (const c of curves) assert.deepEqual(c.points, metrics.map((m) => [m.step, m[c.metric]]), c.metric);
    }
    await page.screenshot({ path: join(ARTIFACTS, "play.png"), fullPage: true });
  });

  it("in-browser run of another registered experiment (a sweep, through the runner's contract)", async () => {
    await page.goto(`${base}#/play?exp=more-is-better&size=smoke`);
    await page.waitForSelector("[data-field=modes]");
    assert.equal(await page.inputValue("[data-field=modes]"), "200", "the smoke size's defaults");
    await page.click("[data-testid=start]");
    await page.waitForFunction(() => /PASS|FAIL|INCONCLUSIVE/.test(document.querySelector("[data-testid=play-status]")!.textContent ?? ""), null, { timeout: 120_000 });
    // the same sweep on Node gives the same verdict
    const node = JSON.parse(genlab(["run", "more-is-better", "--size", "smoke", "--out", out, "--json"]).stdout);
    assert.match((await page.textContent("[data-testid=play-status]")) ?? "", new RegExp(`· ${node.verdict}$`));
    assert.ok((await page.locator(".figure svg").count()) >= 1, "the experiment's figure is drawn in the page");
    await page.screenshot({ path: join(ARTIFACTS, "play-more-is-better.png"), fullPage: true });
  });

  it("the server answers only for the store and the assets", async () => {
    for (const p of ["api/runs/..%2F..%2Fetc%2Fpasswd", "api/runs/nope", "assets/..%2F..%2Fpackage.json", "..%2Fpackage.json", "api/runs/x/figures/..%2Fconfig.json"]) {
      const r = await fetch(base + p);
      assert.equal(r.status, 404, p);
    }
    assert.equal((await fetch(base + "api/runs", { method: "POST" })).status, 405);
  });

  it("scores page of a run with logged dynamics: the data map has every example, a histogram per score, the top-ranked examples with their images", async () => {
    const node = JSON.parse(genlab(["run", "data-diet", "--size", "smoke", "--no-control", "--out", out, "--json"]).stdout);
    const grok = storeRows().find((r) => r.id.startsWith("grokking-modular"))!;
    // the CLI run took longer than the server's keep-alive timeout: a pooled socket may have been closed, retry once
    const get = (url: string) => fetch(url).catch(() => fetch(url));
    assert.equal((await get(`${base}api/runs/${grok.id}/scores`)).status, 404, "a run without dynamics has no scores page");
    await page.goto(`${base}#/run/${node.run_id}`);
    await page.click("[data-testid=scores-link]");
    await page.waitForSelector("[data-testid=top-table] canvas.thumb");
    const view = await (await get(`${base}api/runs/${node.run_id}/scores`)).json();
    assert.deepEqual(view.prefixes, ["score-clean_run0", "score-noisy_run0"]);
    assert.equal(view.n, 400);
    assert.equal(await page.locator("[data-testid=data-map] svg circle").count(), 400, "one point per example");
    assert.equal(await page.locator("[data-testid=histograms] svg").count(), view.histograms.length * 2, "a histogram figure (frame + panel) per score");
    assert.equal(await page.locator("[data-testid=top-table] canvas.thumb").count(), 24);
    // ranking by another score re-orders the table as the server computes it
    await page.selectOption("[data-testid=score]", "el2n");
    await page.waitForFunction(() => location.hash.includes("score=el2n"));
    const el2n = await (await get(`${base}api/runs/${node.run_id}/scores?score=el2n`)).json();
    await page.waitForFunction((first: number) => document.querySelector("[data-testid=top-table] tr:nth-child(2) td:nth-child(2)")?.textContent === String(first), el2n.top[0].index);
    await page.screenshot({ path: join(ARTIFACTS, "scores.png"), fullPage: false });
  });
});
