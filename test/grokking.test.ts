// The grokking reproduction on the experiment contract: the verdict's mechanism (brackets, conservative
// ends), and the port: the quick run's metrics equal, bit for bit, those recorded from the pre-contract
// code (test/fixtures/grokking-quick-s0.metrics.jsonl: `genlab run grokking-modular --quick --seed 0` at
// commit 76b578d).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { EXPERIMENTS } from "../experiments/index.ts";
import { grokkingVerdict } from "../experiments/paper27/grokkingModular.ts";
import { runExperiment } from "../src/runner/run.ts";

const base = { train_step_99: { lo: 90, hi: 100 }, test_step_95: { lo: 500, hi: 550 }, final_train_acc: 1, final_test_acc: 0.95 };

describe("grokking verdict (mechanism)", () => {
  it("PASS exactly at the conservative boundary; FAIL just outside each condition", () => {
    assert.equal(grokkingVerdict(base).verdict, "PASS");
    // the test bracket's lower end decides: (499, 600] is not ≥ 5 × 100 for sure
    assert.equal(grokkingVerdict({ ...base, test_step_95: { lo: 499, hi: 600 } }).verdict, "FAIL");
    assert.equal(grokkingVerdict({ ...base, train_step_99: { lo: 90, hi: 101 } }).verdict, "FAIL");
    assert.equal(grokkingVerdict({ ...base, final_test_acc: 0.9499 }).verdict, "FAIL");
    assert.equal(grokkingVerdict({ ...base, test_step_95: { lo: 2500, hi: null } }).verdict, "FAIL");
    assert.equal(grokkingVerdict({ ...base, train_step_99: { lo: 2500, hi: null } }).verdict, "FAIL");
    assert.deepEqual(grokkingVerdict(base).brackets, { train_step_99: [90, 100], test_step_95: [500, 550] });
  });
});

const readJsonl = (p: string) =>
  readFileSync(p, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));

describe("grokking-modular quick reproduction", () => {
  it("the port reproduces the pre-contract metrics exactly (seed 0) and PASSes", async () => {
    const out = mkdtempSync(join(tmpdir(), "genlab-grok-"));
    const o = await runExperiment(EXPERIMENTS, { experiment: "grokking-modular", seed: 0, size: "quick", set: [], outDir: out, quiet: true, control: false });
    const s = o.points[0];
    console.log(`# grokking-modular quick seed 0: ${JSON.stringify(o.verdict?.measured)} → ${o.verdict?.verdict} in ${s.seconds.toFixed(1)} s`);
    assert.deepEqual(readJsonl(join(s.dir, "metrics.jsonl")), readJsonl(resolve(import.meta.dirname, "fixtures/grokking-quick-s0.metrics.jsonl")));
    assert.equal(o.verdict?.verdict, "PASS", JSON.stringify(o.verdict?.measured));
    assert.deepEqual(o.verdict?.brackets?.test_step_95, [1000, 1050]);
  });
});
