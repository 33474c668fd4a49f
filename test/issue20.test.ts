// Regression tests for the items of issue 20 ("What was found") that live in the runner, the CLI and the
// report rather than in one experiment (those are in test/experiments.test.ts and the experiments' own tests).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EXPERIMENTS } from "../experiments/index.ts";
import { declaredSeconds, pointSecondsLeft } from "../src/runner/pool.ts";
import { unmetNeeds } from "../src/report/reproduce.ts";
import { planExperiment } from "../src/runner/run.ts";
import { seedsOf } from "../src/declare/experiment.ts";
import { genlabHere } from "./util/cliHere.ts";

describe("issue 20: runner, CLI and report", () => {
  it("the ETA of a run past its estimate is unknown, never 0 s (it said 'ETA 0.0s' for 15 minutes)", () => {
    assert.equal(pointSecondsLeft(900, null, 60), null);
    assert.equal(pointSecondsLeft(30, null, 60), 30);
    assert.equal(pointSecondsLeft(30, 0.5, 60), 30, "a run's own progress predicts its end");
    assert.equal(pointSecondsLeft(30, null, null), null);
    assert.equal(declaredSeconds("~75 s"), 75);
    assert.equal(declaredSeconds("~2 min (64 models)"), 120);
    assert.equal(declaredSeconds("~1.5 min"), 90);
    assert.equal(declaredSeconds("unknown"), null);
  });

  it("a missing Fashion-MNIST is a need listed as not run, not an exit 1 of the whole main job", () => {
    const before = process.env.GENLAB_FASHION_MNIST_DIR;
    process.env.GENLAB_FASHION_MNIST_DIR = join(tmpdir(), "no-such-fashion-mnist");
    try {
      const needy = EXPERIMENTS.filter((e) => unmetNeeds(e, "quick") !== null).map((e) => e.id).sort();
      for (const id of ["data-diet", "useful-fmnist", "nowhere-tight", "label-noise-bench", "prompt-bounds", "temperature-scaling"]) assert.ok(needy.includes(id), `${id} declares Fashion-MNIST`);
      assert.ok(!needy.includes("fantastic-zoo"), "the quick zoo is synthetic only");
      assert.ok(unmetNeeds(EXPERIMENTS.find((e) => e.id === "fantastic-zoo")!, "full") !== null, "the full zoo has Fashion-MNIST points");
      for (const id of ["long-tail", "coherence", "grokking-modular", "xor-benign"]) assert.ok(!needy.includes(id), `${id} needs nothing`);
      assert.match(unmetNeeds(EXPERIMENTS.find((e) => e.id === "data-diet")!, "quick")!, /^not run: needs Fashion-MNIST \(sudo apt-get install dataset-fashion-mnist/);
    } finally {
      if (before === undefined) delete process.env.GENLAB_FASHION_MNIST_DIR;
      else process.env.GENLAB_FASHION_MNIST_DIR = before;
    }
  });

  it("--seed is honoured by every experiment: no sweep fixes its seeds, the points use exactly seed … seed + n − 1", () => {
    for (const e of EXPERIMENTS)
      for (const size of ["smoke", "quick", "full"] as const) {
        const want = seedsOf(e, size, 7);
        assert.equal(want[0], 7);
        const { points, control } = planExperiment(e, size, [], want);
        assert.deepEqual([...new Set([...points, ...control].map((p) => p.seed))].sort((a, b) => a - b), want, `${e.id} ${size}`);
      }
  });

  it("reproduce on a machine without Fashion-MNIST exits 0 and lists what it could not run (smoke size, two experiments)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "genlab-fresh-"));
    const before = process.env.GENLAB_FASHION_MNIST_DIR;
    process.env.GENLAB_FASHION_MNIST_DIR = join(dir, "none");
    let r: Awaited<ReturnType<typeof genlabHere>>;
    try {
      r = await genlabHere(["reproduce", "--size", "smoke", "--only", "long-tail,data-diet", "--jobs", "1", "--out", join(dir, "runs"), "--report", join(dir, "report")]);
    } finally {
      if (before === undefined) delete process.env.GENLAB_FASHION_MNIST_DIR;
      else process.env.GENLAB_FASHION_MNIST_DIR = before;
    }
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /data-diet: not run: needs Fashion-MNIST/);
    assert.match(r.stdout, /long-tail +│ (PASS|FAIL|INCONCLUSIVE)/);
    assert.match(r.stdout, /data-diet +│ not run: needs Fashion-MNIST/);
    const html = readFileSync(join(dir, "report", "index.html"), "utf8");
    assert.match(html, /not run here/);
  });
});
