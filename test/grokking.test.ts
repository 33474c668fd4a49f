// The quick reproduction of grokking on modular addition, the way `genlab run grokking-modular --quick`
// runs it. The verdict is a measured result: this test asserts that the quick configuration still
// reproduces the phenomenon (PASS) with its measured values printed.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EXPERIMENTS } from "../experiments/index.ts";
import { grokkingVerdict, type GrokkingResults } from "../experiments/paper27/grokkingModular.ts";
import { runExperiment } from "../src/runner/run.ts";

const base: GrokkingResults = {
  train_step_99: 100,
  test_step_95: 500,
  delay_ratio: 5,
  final_train_acc: 1,
  final_test_acc: 0.95,
  final_train_loss: 0,
  final_test_loss: 0,
  final_param_norm: 1,
  steps: 1000,
  n_train: 1,
  n_test: 1,
  n_corrupted: 0,
  final_corrupted_acc: null,
  train_seconds: 1,
};

describe("grokking verdict (mechanism)", () => {
  it("PASS exactly at the boundary; FAIL just outside each condition", () => {
    assert.equal(grokkingVerdict(base).verdict, "PASS");
    assert.equal(grokkingVerdict({ ...base, test_step_95: 499 }).verdict, "FAIL");
    assert.equal(grokkingVerdict({ ...base, final_test_acc: 0.9499 }).verdict, "FAIL");
    assert.equal(grokkingVerdict({ ...base, test_step_95: null }).verdict, "FAIL");
    assert.equal(grokkingVerdict({ ...base, train_step_99: null }).verdict, "FAIL");
  });
});

async function quick(seed: number, set: string[]) {
  const out = mkdtempSync(join(tmpdir(), "genlab-grok-"));
  const s = await runExperiment(EXPERIMENTS, { experiment: "grokking-modular", seed, size: "quick", set, outDir: out, quiet: true });
  console.log(`# grokking-modular quick ${set.join(" ")} seed ${seed}: ${JSON.stringify(s.measured)} → ${s.verdict} in ${s.seconds.toFixed(1)} s`);
  return s;
}

describe("grokking-modular quick reproduction", () => {
  it("reproduces delayed generalisation (PASS) at the quick size, seed 0", async () => {
    const s = await quick(0, []);
    assert.equal(s.verdict, "PASS", JSON.stringify(s.measured));
  });

  it("holds with the same settings for another prime and seed (p = 59, seed 1)", async () => {
    const s = await quick(1, ["p=59"]);
    assert.equal(s.verdict, "PASS", JSON.stringify(s.measured));
  });
});
