// The experiment contract: typed declarations, ctx.train returning history and optimizer state, vector
// metrics, float targets, phases that resume without redoing finished work, .npy artifacts, records on a
// non-step axis, and parallel workers that give a serial run's numbers bit for bit.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { numpy as np, type Array } from "@jax-js/jax";
import { EXPERIMENTS } from "../experiments/index.ts";
import { keyFromSeed, splitKey } from "../src/core/prng.ts";
import { treeDispose } from "../src/core/tree.ts";
import { decodeNpy } from "../src/data/npy.ts";
import { applyMlp, initMlp, mlpSpec, type MlpParams } from "../src/nn/dense.ts";
import { softmaxCrossEntropy } from "../src/nn/losses.ts";
import { mlpDynamics } from "../src/scores/dynamics.ts";
import { adam } from "../src/optim/aliases.ts";
import { defineExperiment } from "../src/declare/experiment.ts";
import { runPoints } from "../src/runner/pool.ts";
import { openStore, planExperiment, resumeRun, runExperiment, runHashOf } from "../src/runner/run.ts";
import { outcomeFromStore } from "../src/report/reproduce.ts";
import { bool, integer, number, oneOf } from "../src/declare/schema.ts";
import { RunStore } from "../src/runner/store.ts";
import { GenlabError, formatIssue } from "../src/core/errors.ts";
import { colorFor, figureSvg } from "../src/report/plot.ts";
import { headlessDocument } from "../src/report/render.ts";
import Database from "better-sqlite3";

let phaseRuns: Record<string, number> = {};

const toy = defineExperiment({
  id: "toy-regression",
  paper: 16,
  title: "a toy regression for the contract test",
  claim: (h) => `fits y = sum(x) with lr ${h.lr}`,
  coverage: { level: "full", covered: ["the contract"], notCovered: [] },
  deviations: ["not a paper"],
  criterionSource: "this test",
  negativeControl: { what: "lr tiny", hparams: { lr: 1e-6 } },
  dataSource: "generated",
  hparams: {
    lr: number(0.05, "learning rate", { min: 0, minExclusive: true, max: 1 }),
    steps: integer(30, "steps", { min: 1, max: 1000 }),
    act: oneOf(["tanh", "relu"], "tanh", "activation"),
    interrupt: bool(false, "send SIGINT to itself inside phase b (first attempt)"),
  },
  sizes: { smoke: {}, quick: {} },
  cost: { smoke: "1 s", quick: "1 s", full: "1 s" },
  async run(ctx) {
    // typed: no casts (these lines do not compile if the types are wrong)
    const lr: number = ctx.hparams.lr;
    const act: "tanh" | "relu" = ctx.hparams.act;
    const n = 32;
    const x = Float32Array.from({ length: n * 4 }, (_, i) => Math.sin(i));
    const y = Float32Array.from({ length: n }, (_, i) => x[4 * i] + x[4 * i + 1] + x[4 * i + 2] + x[4 * i + 3]);
    const data = { x, xShape: [n, 4], y, yShape: [n, 1], numClasses: 0 };
    const spec = mlpSpec({ dims: [4, 8, 1], activation: act, bias: true });
    const [kInit, kData, kMore] = splitKey(keyFromSeed(ctx.seed), 3);
    const a = await ctx.phase("a", async () => {
      phaseRuns.a = (phaseRuns.a ?? 0) + 1;
      const out = await ctx.train<MlpParams>({
        params: initMlp(spec, kInit),
        loss: (p, xb, yb) => np.square(applyMlp(spec, p, xb).sub(yb)).mean(),
        evaluate: (p, xb, yb: Array) => {
          const err = np.square(applyMlp(spec, p, xb).sub(yb));
          // a vector metric: the squared error of the first three rows
          return { mse: err.ref.mean(), first3: err.slice([0, 3]).reshape([3]) };
        },
        evalSets: { train: data },
        optimizer: adam(lr),
        train: data,
        steps: ctx.hparams.steps,
        batchSize: null,
        key: kData,
        log: { every: 10, perDecade: 0 },
      });
      // continue the same optimizer state for 10 more steps: training resumes, it does not restart
      const more = await ctx.train<MlpParams>({ name: "a-more", params: out.params, optState: out.optState, loss: (p, xb, yb) => np.square(applyMlp(spec, p, xb).sub(yb)).mean(), optimizer: adam(lr), train: data, steps: 10, batchSize: null, key: kMore, log: { every: 5, perDecade: 0 } });
      treeDispose([more.params, more.optState]);
      ctx.saveArray("targets", y, [n, 1]);
      return { first_mse: out.history[0].train_mse, last_mse: out.history.at(-1)!.train_mse, vector_keys: Object.keys(out.history.at(-1)!).filter((k) => k.startsWith("train_first3")).length };
    });
    const b = await ctx.phase("b", async () => {
      phaseRuns.b = (phaseRuns.b ?? 0) + 1;
      if (ctx.hparams.interrupt && phaseRuns.b === 1) process.kill(process.pid, "SIGINT");
      await new Promise((r) => setTimeout(r, 50));
      for (const w of [1, 2, 4]) await ctx.record({ value: w * a.last_mse }, { axis: "width", x: w });
      return ctx.loadArray("targets").data.length;
    });
    return { ...a, rows: b };
  },
  checks: [{ id: "mse_ratio", role: "claim", what: "last / first train MSE", cmp: "<", threshold: 0.5, source: "this test", value: ({ points }) => points[0].results.last_mse / points[0].results.first_mse }],
  figures: () => [],
});

let stopAtStep = 0;
const toyDynamics = defineExperiment({
  id: "toy-dynamics",
  paper: 13,
  title: "a toy classification with the per-example dynamics logger",
  claim: () => "logs every example every epoch",
  coverage: { level: "full", covered: ["the dynamics contract"], notCovered: [] },
  deviations: ["not a paper"],
  criterionSource: "this test",
  dataSource: "generated",
  hparams: { epochs: integer(4, "epochs", { min: 1, max: 50 }) },
  sizes: { smoke: {}, quick: {} },
  cost: { smoke: "1 s", quick: "1 s", full: "1 s" },
  async run(ctx) {
    const n = 40;
    const x = Float32Array.from({ length: n * 4 }, (_, i) => Math.sin(0.7 * i));
    const data = { x, xShape: [n, 4], y: Int32Array.from({ length: n }, (_, i) => (x[4 * i] > 0 ? 1 : 0) + (i % 7 === 0 ? 1 : 0)), numClasses: 3 };
    const spec = mlpSpec({ dims: [4, 8, 3] });
    const [kInit, kData] = splitKey(keyFromSeed(ctx.seed), 2);
    const out = await ctx.train<MlpParams>({
      params: initMlp(spec, kInit),
      loss: (p, xb, yb) => softmaxCrossEntropy(applyMlp(spec, p, xb), yb),
      optimizer: adam(0.05),
      train: data,
      epochs: ctx.hparams.epochs,
      batchSize: 8,
      key: kData,
      log: { every: 1, perDecade: 0 },
      onLog: async (r) => {
        if (stopAtStep && r.step === stopAtStep) {
          process.kill(process.pid, "SIGINT");
          await new Promise((done) => setTimeout(done, 20)); // let the signal handler run
        }
      },
      dynamics: { measure: mlpDynamics(spec), batch: 16 },
    });
    treeDispose([out.params, out.optState]);
    const d = out.dynamics!;
    return { epochs: d.epochs, last_loss_sum: globalThis.Array.from(d.values.loss!.subarray((d.epochs.length - 1) * n)).reduce((a, b) => a + b, 0) };
  },
  checks: [{ id: "epochs_logged", role: "claim", what: "epochs logged", cmp: ">=", threshold: 1, source: "this test", value: ({ points }) => points[0].results.epochs.length }],
  figures: () => [],
});

const REG = [toy, toyDynamics];

describe("experiment contract", () => {
  it("train → continue with the returned optimizer state; vector metrics kept whole; float targets; records on a width axis; .npy artifacts", async () => {
    phaseRuns = {};
    const out = mkdtempSync(join(tmpdir(), "genlab-contract-"));
    const o = await runExperiment(REG, { experiment: "toy-regression", seed: 0, size: "smoke", set: [], outDir: out, quiet: true });
    const r = o.points[0].results as { last_mse: number; vector_keys: number; rows: number };
    assert.equal(r.vector_keys, 3, "a 3-vector is recorded as train_first3[0..2], not cut to one number");
    assert.equal(r.rows, 32);
    assert.equal(o.verdict?.verdict, "PASS");
    assert.equal(o.control?.verdict?.verdict, "FAIL", "the tiny-lr control fails the criterion");
    const store = openStore(out);
    try {
      const rows = store.metricRows(o.points[0].run_id);
      assert.deepEqual(rows.filter((m) => m.axis === "width").map((m) => m.x), [1, 2, 4]);
      assert.deepEqual(rows.filter((m) => m.phase === "a-more" && m.axis === "step").map((m) => m.x), [5, 10], "continued: no evaluation, so step 0 has no values");
    } finally {
      store.close();
    }
    const npy = readFileSync(join(o.points[0].dir, "arrays", "targets.npy"));
    assert.equal(npy.subarray(1, 6).toString(), "NUMPY");
    assert.equal((10 + npy.readUInt16LE(8)) % 64, 0, "header padded to 64 bytes (NEP 1)");
    assert.deepEqual(decodeNpy(npy).shape, [32, 1]);
    assert.deepEqual(o.points[0].arrays.map((a) => a.name), ["targets"]);
  });

  it("an interrupted run resumes without redoing its finished phase, to the same result", async () => {
    phaseRuns = {};
    const out = mkdtempSync(join(tmpdir(), "genlab-contract-"));
    const first = await runExperiment(REG, { experiment: "toy-regression", seed: 1, size: "smoke", set: ["interrupt=true"], outDir: out, quiet: true, control: false });
    assert.equal(first.points[0].status, "interrupted");
    assert.deepEqual(phaseRuns, { a: 1, b: 1 });
    const resumed = await resumeRun(REG, first.points[0].run_id, { outDir: out, quiet: true });
    assert.equal(resumed.status, "finished");
    assert.deepEqual(phaseRuns, { a: 1, b: 2 }, "phase a was not run again");
    phaseRuns = {};
    const ref = await runExperiment(REG, { experiment: "toy-regression", seed: 1, size: "smoke", set: [], outDir: mkdtempSync(join(tmpdir(), "genlab-contract-")), quiet: true, control: false });
    assert.deepEqual(resumed.results, ref.points[0].results);
  });

  it("the dynamics logger: [epochs × examples] .npy arrays of every quantity; an interrupted run resumes to the uninterrupted arrays", async () => {
    stopAtStep = 0;
    const ref = await runExperiment(REG, { experiment: "toy-dynamics", seed: 0, size: "smoke", set: [], outDir: mkdtempSync(join(tmpdir(), "genlab-dyn-")), quiet: true });
    const names = ref.points[0].arrays.map((a) => a.name).sort();
    assert.deepEqual(names, ["dyn_correct", "dyn_el2n", "dyn_epochs", "dyn_grad_norm", "dyn_loss", "dyn_margin", "dyn_p_true"]);
    const arr = (dir: string, name: string) => decodeNpy(readFileSync(join(dir, "arrays", `${name}.npy`)));
    assert.deepEqual(arr(ref.points[0].dir, "dyn_loss").shape, [5, 40]);
    assert.deepEqual(globalThis.Array.from(arr(ref.points[0].dir, "dyn_epochs").data), [0, 1, 2, 3, 4]);
    // SIGINT at step 12 (epoch 2 ends at step 10): a checkpoint with epochs 0–2 logged, then resume
    stopAtStep = 12;
    const out = mkdtempSync(join(tmpdir(), "genlab-dyn-"));
    const first = await runExperiment(REG, { experiment: "toy-dynamics", seed: 0, size: "smoke", set: [], outDir: out, quiet: true, control: false });
    assert.equal(first.points[0].status, "interrupted");
    assert.deepEqual(globalThis.Array.from(arr(first.points[0].dir, "dyn_epochs").data), [0, 1, 2], "the arrays saved with the checkpoint");
    stopAtStep = 0;
    const resumed = await resumeRun(REG, first.points[0].run_id, { outDir: out, quiet: true });
    assert.equal(resumed.status, "finished");
    assert.deepEqual(resumed.results, ref.points[0].results);
    for (const q of ["loss", "margin", "grad_norm", "correct"]) assert.deepEqual(globalThis.Array.from(arr(first.points[0].dir, `dyn_${q}`).data), globalThis.Array.from(arr(ref.points[0].dir, `dyn_${q}`).data), q);
  });

  it("--jobs 2 worker processes give the serial run's numbers bit for bit (more-is-better smoke sweep)", async () => {
    const exp = EXPERIMENTS.find((e) => e.id === "more-is-better")!;
    const { points } = planExperiment(exp, "smoke", [], [0]);
    const bin = resolve(import.meta.dirname, "../bin/genlab.js");
    const serial = await runPoints(EXPERIMENTS, points, { jobs: 1, outDir: mkdtempSync(join(tmpdir(), "genlab-j1-")), quiet: true, workerScript: bin });
    const parallel = await runPoints(EXPERIMENTS, points, { jobs: 2, outDir: mkdtempSync(join(tmpdir(), "genlab-j2-")), quiet: true, workerScript: bin });
    assert.equal(parallel.length, points.length);
    assert.deepEqual(parallel.map((s) => s.results), serial.map((s) => s.results));
  });
});

describe("equivalent points share one run (an experiment's `computes`)", () => {
  const exp = EXPERIMENTS.find((e) => e.id === "grok-corrupted")!;
  const readMetrics = (dir: string) => readFileSync(join(dir, "metrics.jsonl"), "utf8");

  it("grok-corrupted's declared equivalence is exact: a control point run on its own gives the wd 0 point's metrics bit for bit", async () => {
    const { points, control } = planExperiment(exp, "smoke", [], [0]);
    const wd0 = points.find((p) => p.hparams.weightDecay === 0)!;
    const ctl15 = control.find((p) => p.hparams.weightDecay === 15)!;
    assert.equal(ctl15.hparams.applyDecay, false, "the control switches the decay off");
    assert.equal(runHashOf(exp, ctl15.hparams), runHashOf(exp, wd0.hparams), "declared equivalent");
    // each in its own store, so neither can reuse the other
    const [a] = await runPoints(EXPERIMENTS, [wd0], { jobs: 1, outDir: mkdtempSync(join(tmpdir(), "genlab-eq-a-")), quiet: true, workerScript: "" });
    const [b] = await runPoints(EXPERIMENTS, [ctl15], { jobs: 1, outDir: mkdtempSync(join(tmpdir(), "genlab-eq-b-")), quiet: true, workerScript: "" });
    assert.equal(b.reused, undefined, "run, not reused");
    assert.equal(readMetrics(b.dir), readMetrics(a.dir), "the same metrics, byte for byte");
    const timeless = (r: unknown) => ({ ...(r as Record<string, unknown>), train_seconds: 0 });
    assert.deepEqual(timeless(b.results), timeless(a.results), "the same results (but the timing)");
  });

  it("a reproduction runs them once, even with --force and two workers; each point keeps its own hparams, and the report reads them back the same", async () => {
    const bin = resolve(import.meta.dirname, "../bin/genlab.js");
    const { points, control } = planExperiment(exp, "smoke", [], [0]);
    const all = [...points, ...control];
    const out = mkdtempSync(join(tmpdir(), "genlab-eq-"));
    const ran = await runPoints(EXPERIMENTS, all, { jobs: 2, outDir: out, quiet: true, workerScript: bin, force: true });
    assert.equal(new Set(ran.map((s) => s.run_id)).size, 3, "three runs for six points");
    assert.equal(ran.filter((s) => s.reused).length, 3, "the three control points reuse the wd 0 run");
    assert.deepEqual(
      ran.map((s) => [s.hparams.weightDecay, s.hparams.applyDecay]),
      all.map((p) => [p.hparams.weightDecay, p.hparams.applyDecay]),
      "each point's own hparams",
    );
    const store = openStore(out);
    try {
      const o = outcomeFromStore(exp, "smoke", 0, undefined, store)!;
      assert.deepEqual(o.controlPoints.map((s) => s.hparams.weightDecay), [0, 5, 15], "the control's nominal weight decays, from the store");
      assert.ok(o.control?.failed.includes("ci.wd15_test"), `the control fails the wd 15 checks: ${o.control?.failed.join(", ")}`);
    } finally {
      store.close();
    }
  });
});

describe("bad input at the contract's boundaries", () => {
  it("an unknown sweep key names the experiment and the valid keys", () => {
    const bad = { ...toy, sweep: () => [{ lrr: [0.1] }] } as unknown as typeof toy;
    assert.throws(
      () => planExperiment(bad, "smoke", [], [0]),
      (e: unknown) => e instanceof GenlabError && formatIssue(e.issues[0]) === '✖ unknown key "lrr" (did you mean "lr"?); valid keys: lr, steps, act, interrupt → at toy-regression.sweep.lrr',
    );
  });

  it("stores: a newer schema version and a non-genlab SQLite file are refused with one line; nothing is changed", () => {
    const dir = mkdtempSync(join(tmpdir(), "genlab-stores-"));
    const newer = join(dir, "newer.db");
    const db = new Database(newer);
    db.exec("CREATE TABLE runs (id TEXT); PRAGMA user_version = 4;");
    db.close();
    assert.throws(() => new RunStore(newer), (e: unknown) => e instanceof GenlabError && /schema version 4 is newer than this genlab's \(3\); upgrade genlab/.test(e.message));
    const other = join(dir, "other.db");
    const db2 = new Database(other);
    db2.exec("CREATE TABLE photos (id TEXT);");
    db2.close();
    assert.throws(() => new RunStore(other), (e: unknown) => e instanceof GenlabError && /it holds other tables, not a genlab run store/.test(e.message));
    const check = new Database(other);
    assert.deepEqual(check.prepare("SELECT name FROM sqlite_master").all(), [{ name: "photos" }], "the foreign file is left as it was");
    check.close();
  });

  it("a version-1 store (metrics keyed by step) is migrated in place", () => {
    const path = join(mkdtempSync(join(tmpdir(), "genlab-v1-")), "genlab.db");
    const db = new Database(path);
    db.exec(`CREATE TABLE runs (id TEXT PRIMARY KEY, experiment TEXT NOT NULL, paper INTEGER NOT NULL, size TEXT NOT NULL, seed INTEGER NOT NULL, hparams_hash TEXT NOT NULL, hparams TEXT NOT NULL, settings TEXT NOT NULL, status TEXT NOT NULL, verdict TEXT, started_at TEXT NOT NULL, finished_at TEXT, seconds REAL, dir TEXT NOT NULL, summary TEXT, error TEXT, pid INTEGER NOT NULL, host TEXT NOT NULL, genlab_version TEXT NOT NULL, jax_version TEXT NOT NULL, device TEXT NOT NULL);
      CREATE TABLE metrics (run_id TEXT NOT NULL, step INTEGER NOT NULL, name TEXT NOT NULL, value REAL, PRIMARY KEY (run_id, step, name)) WITHOUT ROWID;
      INSERT INTO metrics VALUES ('r', 5, 'loss', 0.5);`);
    db.close();
    const store = new RunStore(path);
    try {
      assert.equal(store.schemaVersion(), 3);
      assert.deepEqual(store.metricRows("r"), [{ phase: "main", axis: "step", x: 5, values: { loss: 0.5 } }]);
    } finally {
      store.close();
    }
  });
});

describe("chart specs", () => {
  it("every kind draws as SVG; one colour per metric name (the dashboard's train_acc is the report's train)", () => {
    const doc = headlessDocument();
    const svg = figureSvg(
      {
        name: "all",
        title: "all kinds",
        panels: [
          { kind: "line", title: "l", xLabel: "x", yLabel: "y", series: [{ name: "train", x: [1, 2, 3], y: [1, 2, 3], lo: [0, 1, 2], hi: [2, 3, 4] }] },
          { kind: "scatter", title: "s", xLabel: "x", yLabel: "y", series: [{ name: "test", x: [1, 2], y: [2, 1] }], diagonal: true },
          { kind: "bar", title: "b", xLabel: "g", yLabel: "v", groups: ["a", "b"], series: [{ name: "el2n", values: [1, 2], err: [0.1, 0.2] }] },
          { kind: "heatmap", title: "h", xLabel: "train fraction", yLabel: "ξ", x: [0.3, 0.5], y: [0, 0.2], values: [[1, 0.5], [0.2, 0.9]], colorLabel: "test acc" },
        ],
      },
      doc,
    );
    assert.equal(svg.match(/<svg/g)?.length, 5, "a figure with four panels");
    for (const t of ["l", "s", "b", "h"]) assert.match(svg, new RegExp(`font-weight="bold" fill="#222">${t}</text>`), `panel title ${t} is drawn`);
    assert.match(svg, /<rect[^>]*fill="rgb|fill="#/);
    assert.equal(colorFor("train_acc"), colorFor("train"));
    assert.equal(colorFor("test_loss"), colorFor("test"));
    assert.notEqual(colorFor("train"), colorFor("test"));
  });
});

describe("figure layout", () => {
  it("`columns` wraps panels into rows (5 panels of 200×150 at 2 columns: 3 rows, 400 wide); no panels still draws a page; rotated bar labels", () => {
    const doc = headlessDocument();
    const panel = (t: string) => ({ kind: "scatter" as const, title: t, xLabel: "x", yLabel: "y", series: [{ name: "test", x: [1, 2], y: [2, 1] }], width: 200, height: 150 });
    const svg = figureSvg({ name: "grid", title: "grid", columns: 2, panels: ["a", "b", "c", "d", "e"].map(panel) }, doc);
    const [w, h] = [Number(/^<svg[^>]* width="(\d+)"/.exec(svg)![1]), Number(/^<svg[^>]* height="(\d+)"/.exec(svg)![1])];
    assert.equal(w, 400, "two panels per row");
    assert.equal(h, 30 + 3 * (18 + 150), "three rows, each with its title line");
    const ys = [...svg.matchAll(/<svg x="(\d+)" y="(\d+)"/g)].map((m) => [Number(m[1]), Number(m[2])]);
    assert.deepEqual(ys, [[0, 48], [200, 48], [0, 216], [200, 216], [0, 384]], "panel positions");
    const one = figureSvg({ name: "row", title: "row", panels: ["a", "b", "c"].map(panel) }, doc);
    assert.equal(Number(/^<svg[^>]* width="(\d+)"/.exec(one)![1]), 600, "without columns: one row");
    const empty = figureSvg({ name: "none", title: "nothing to show", panels: [] }, doc);
    assert.match(empty, /^<svg[^>]* width="480" height="50"/, "an empty figure is a titled page, not a 0×0 SVG");
    const bars = figureSvg({ name: "bars", title: "bars", panels: [{ kind: "bar", title: "b", xLabel: "g", yLabel: "v", groups: ["a_long_measure_name", "b"], series: [{ name: "τ", values: [1, 2] }], rotateLabels: true }] }, doc);
    assert.match(bars, /rotate\(-50\)/, "group labels rotated");
  });
});

describe("the public library entry", () => {
  it("examples/scores.ts runs with tsx against src/index.ts", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", resolve(import.meta.dirname, "../examples/scores.ts")], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Spearman\(EL2N, GraNd\) over 64 examples: 0\.\d{3}/);
  });
});
