// The grokking reproduction on the experiment contract: the verdict's mechanism through its declared checks
// (GROKKING_CHECKS judged by judge(): brackets, conservative ends, the "memorised" gate), and the port: the
// quick run's metrics equal, bit for bit, those recorded from the pre-contract code
// (test/fixtures/grokking-quick-s0.metrics.jsonl: `genlab run grokking-modular --quick --seed 0` at commit
// 76b578d).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { EXPERIMENTS } from "../experiments/index.ts";
import { GROKKING_CHECKS, type GrokkingCheckPoint } from "../experiments/paper27/grokkingModular.ts";
import { judge } from "../src/declare/criteria.ts";
import { runExperiment } from "../src/runner/run.ts";

type R = GrokkingCheckPoint["results"];
const base: R = { train_step_99: { lo: 90, hi: 100 }, test_step_95: { lo: 500, hi: 550 }, final_test_acc: 0.95, steps: 2500 };
const point = (r: Partial<R>, seed = 0): GrokkingCheckPoint => ({ seed, results: { ...base, ...r } });
const verdictOf = (r: Partial<R>) => judge("grokking-modular", GROKKING_CHECKS, [point(r)], "quick");

describe("grokking verdict (mechanism, through the declared checks)", () => {
  it("PASS exactly at the conservative boundary; FAIL just outside each claim; INCONCLUSIVE when the training set was never fitted", () => {
    assert.equal(verdictOf({}).verdict, "PASS");
    // the test bracket's lower end decides: (499, 600] is not ≥ 5 × 100 for sure
    assert.equal(verdictOf({ test_step_95: { lo: 499, hi: 600 } }).verdict, "FAIL");
    assert.equal(verdictOf({ train_step_99: { lo: 90, hi: 101 } }).verdict, "FAIL");
    assert.equal(verdictOf({ final_test_acc: 0.9499 }).verdict, "FAIL");
    // test accuracy never reached 95%: no delay is established (−∞), even with a final test accuracy at the line
    const never = verdictOf({ test_step_95: { lo: 2500, hi: null } });
    assert.equal(never.verdict, "FAIL");
    assert.equal(never.measured.delay, -Infinity);
    // train accuracy never reached 99%: the regime (memorisation) was not reached, so no verdict on the claim
    const unfit = verdictOf({ train_step_99: { lo: 2500, hi: null } });
    assert.equal(unfit.verdict, "INCONCLUSIVE");
    assert.match(unfit.reason ?? "", /train accuracy ≥ 0\.99/);
    assert.deepEqual(verdictOf({}).brackets, { memorised: [90, 100], delay: [500, 550] });
    assert.equal(verdictOf({}).measured.delay, 5);
  });

  it("a check judges every seed: one seed outside the line fails the verdict", () => {
    const v = judge("grokking-modular", GROKKING_CHECKS, [point({}, 0), point({ final_test_acc: 0.5 }, 1)], "quick");
    assert.equal(v.verdict, "FAIL");
    assert.deepEqual(v.seeds, [0, 1]);
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
    assert.deepEqual(o.verdict?.brackets?.delay, [1000, 1050]);
  });
});
