import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { numpy as np, type Array } from "@jax-js/jax";
import { wasmHeapBytes } from "../platform/nodeShim.ts";
import { DivergenceError, formatIssue } from "../core/errors.ts";
import { keyFromSeed, splitKey } from "../core/prng.ts";
import { treeRef, treeToHost } from "../core/tree.ts";
import { modularDataset } from "../data/modular.ts";
import { applyMlp, initMlp, mlpSpec, type MlpParams } from "../nn/dense.ts";
import { accuracy, softmaxCrossEntropy } from "../nn/losses.ts";
import { adamw, sgd } from "../optim/aliases.ts";
import type { GradientTransformation } from "../optim/transform.ts";
import { layerNormsMonitor, paramNormMonitor } from "./monitors.ts";
import { logSteps } from "./schedule.ts";
import { stepsOf, train, type LogRecord, type TrainCheckpoint } from "./loop.ts";

const p = 13;
const spec = mlpSpec({ dims: [32, 16, 16], activation: "relu" });

type Opts = { seed: number; steps: number; batchSize: number | null; jit?: boolean; opt?: GradientTransformation; resume?: TrainCheckpoint; checkpointEvery?: number; stopAt?: number; lr?: number; stopWhen?: (r: LogRecord) => boolean };

async function runTiny(o: Opts) {
  const [kd, ki, ks] = splitKey(keyFromSeed(o.seed), 3);
  const data = modularDataset({ p, op: "add", trainFraction: 0.5, corruption: 0, encoding: "onehot" }, kd);
  const logs: LogRecord[] = [];
  const checkpoints: TrainCheckpoint[] = [];
  let step = 0;
  const res = await train<MlpParams>(initMlp(spec, ki), {
    loss: (pp, x, y) => softmaxCrossEntropy(applyMlp(spec, pp, x), y, p),
    evaluate: (pp, x, y: Array) => {
      const lg = applyMlp(spec, pp, x);
      return { loss: softmaxCrossEntropy(lg.ref, y.ref, p), acc: accuracy(lg, y, p) };
    },
    monitors: [paramNormMonitor],
    optimizer: o.opt ?? adamw(o.lr ?? 0.01, { weightDecay: 0.1 }),
    train: data.train,
    evalSets: { train: data.train, test: data.test },
    steps: o.steps,
    batchSize: o.batchSize,
    log: { every: 5, perDecade: 10 },
    key: ks,
    jit: o.jit,
    resume: o.resume,
    checkpointEvery: o.checkpointEvery,
    onCheckpoint: (ck) => void checkpoints.push(ck),
    onLog: (r) => void logs.push(r),
    onStep: (s) => (step = s),
    shouldStop: () => o.stopAt !== undefined && step >= o.stopAt,
    stopWhen: o.stopWhen,
    settings: { lr: o.lr ?? 0.01 },
  });
  const final = treeToHost(res.params);
  return { logs, checkpoints, final, res };
}

describe("monitors", () => {
  it("parameter norm and per-leaf norms (hand values)", () => {
    const params = { a: np.array([3, 4]), b: [np.array([[1, 2], [2, 4]])] };
    // float32: √50 to ~1e-7 relative
    assert.ok(Math.abs(paramNormMonitor.measure!(treeRef(params)).param_norm.item() - Math.sqrt(50)) < 1e-5, "Math.abs(paramNormMonitor.measure!(treeRef(params)).param_norm.item() - Math.sqrt(50)) < 1e-5");
    const per = layerNormsMonitor.measure!(params);
    assert.ok(Math.abs(per.norm_0.item() - 5) < 1e-5 && Math.abs(per.norm_1.item() - 5) < 1e-5, "Math.abs(per.norm_0.item() - 5) < 1e-5 && Math.abs(per.norm_1.item() - 5) < 1e-5");
  });
});

describe("log schedule", () => {
  it("union of 0, log-spaced steps, every-k steps and the last step", () => {
    assert.deepEqual(logSteps(100, { every: 25, perDecade: 2 }), [0, 1, 3, 10, 25, 32, 50, 75, 100]);
    assert.deepEqual(logSteps(7, { every: 0, perDecade: 0 }), [0, 7]);
  });
});

describe("training loop", () => {
  it("epochs: steps = epochs × ⌊n / batch⌋, each epoch a fresh permutation", async () => {
    assert.equal(stepsOf({ epochs: 3, batchSize: 16 }, 84), 15);
    assert.equal(stepsOf({ epochs: 3, batchSize: null }, 84), 3);
    assert.throws(() => stepsOf({ steps: 1, epochs: 1, batchSize: null }, 5), /exactly one/);
  });

  it("stopWhen ends training at the first log record that meets the criterion, as a normal finish", async () => {
    const full = await runTiny({ seed: 3, steps: 200, batchSize: null });
    const first = full.logs.find((r) => r.train_loss <= 0.5);
    assert.ok(first, "the full run reaches train loss 0.5");
    const cut = await runTiny({ seed: 3, steps: 200, batchSize: null, stopWhen: (r) => r.train_loss <= 0.5 });
    assert.equal(cut.res.criterionStep, first!.step, "stopped at the first qualifying log step");
    assert.equal(cut.res.stepsDone, first!.step, "steps done");
    assert.equal(cut.res.stopped, false, "a criterion stop is not an interruption");
    assert.deepEqual(cut.logs, full.logs.filter((r) => r.step <= first!.step), "identical records up to the stop");
    assert.equal(full.res.criterionStep, null, "no criterion: null");
  });

  it("a stochastic loss (dropout) gets a per-step key: same seed → same run, another seed → another; resume reproduces it", async () => {
    const [kd, ki] = splitKey(keyFromSeed(4), 2);
    const data = modularDataset({ p, op: "add", trainFraction: 0.5, corruption: 0, encoding: "onehot" }, kd);
    const init = treeToHost(initMlp(spec, ki));
    const { treeFromHost } = await import("../core/tree.ts");
    const run = async (seed: number, steps: number, resume?: TrainCheckpoint) => {
      const cks: TrainCheckpoint[] = [];
      const r = await train<MlpParams>(treeFromHost(init) as MlpParams, {
        loss: (pp, x, y, k) => softmaxCrossEntropy(applyMlp(spec, pp, x, undefined, undefined, { rate: 0.5, key: k! }), y, p),
        optimizer: sgd(0.1),
        train: data.train,
        steps,
        batchSize: 16,
        log: { every: 0, perDecade: 0 },
        key: keyFromSeed(5),
        stochastic: { seed },
        resume,
        checkpointEvery: 10,
        onCheckpoint: (ck) => void cks.push(ck),
      });
      return { final: treeToHost(r.params), cks };
    };
    const a = await run(1, 20);
    const b = await run(1, 20);
    const c = await run(2, 20);
    assert.deepEqual(a.final, b.final, "same seed, same masks");
    assert.notDeepEqual(a.final, c.final, "another seed, other masks");
    const resumed = await run(1, 20, a.cks[0]);
    assert.deepEqual(resumed.final, a.final, "resumed from step 10: identical");
  });

  it("same seed → identical numbers; different seed → different numbers (full batch and minibatch)", async () => {
    for (const batchSize of [null, 16]) {
      const a = await runTiny({ seed: 1, steps: 20, batchSize });
      const b = await runTiny({ seed: 1, steps: 20, batchSize });
      const c = await runTiny({ seed: 2, steps: 20, batchSize });
      assert.deepEqual(a.logs, b.logs);
      assert.deepEqual(a.final, b.final);
      assert.notDeepEqual(a.logs.at(-1), c.logs.at(-1));
    }
  });

  it("eager and jit steps agree to float32 round-off", async () => {
    const a = await runTiny({ seed: 3, steps: 6, batchSize: null, jit: false });
    const b = await runTiny({ seed: 3, steps: 6, batchSize: null, jit: true });
    for (let i = 0; i < a.logs.length; i++) {
      for (const k of Object.keys(a.logs[i])) {
        // Fused jit kernels reorder float32 sums: agreement to ~1e-5 relative is round-off, not a bug.
        assert.ok(Math.abs(a.logs[i][k] - b.logs[i][k]) <= 1e-5 + 1e-4 * Math.abs(a.logs[i][k]), `${k} at step ${a.logs[i].step}: ${a.logs[i][k]} vs ${b.logs[i][k]}`);
      }
    }
  });

  it("checkpoint + resume continues bit-for-bit (minibatch with shuffling, mid-epoch)", async () => {
    const full = await runTiny({ seed: 4, steps: 30, batchSize: 16 });
    const first = await runTiny({ seed: 4, steps: 30, batchSize: 16, checkpointEvery: 100, stopAt: 13 });
    assert.equal(first.res.stopped, true);
    const ck = JSON.parse(JSON.stringify(first.checkpoints.at(-1))) as TrainCheckpoint; // through JSON, as on disk
    assert.equal(ck.step, 13);
    assert.ok(ck.data.perm !== null && ck.data.offset > 0, "stopped mid-epoch");
    const second = await runTiny({ seed: 4, steps: 30, batchSize: 16, resume: ck });
    assert.deepEqual([...first.logs, ...second.logs], full.logs);
    assert.deepEqual(second.final, full.final);
  });

  it("divergence stops the run naming the step and the settings", async () => {
    await assert.rejects(
      () => runTiny({ seed: 5, steps: 50, batchSize: null, opt: sgd(1e30), lr: 1e30 }),
      (e: unknown) => {
        assert.ok(e instanceof DivergenceError, "e instanceof DivergenceError");
        const msg = formatIssue(e.issues[0]);
        assert.match(msg, /^✖ training diverged: .* is not finite at step \d+ \(last finite value logged at step \d+\); settings: lr=1e\+30\. Try a smaller learning rate or gradient clipping\.$/);
        return true;
      },
    );
  });

  it("a 5,000-step loop keeps the wasm heap flat (no leaked arrays)", async () => {
    await runTiny({ seed: 6, steps: 200, batchSize: 8 }); // warm up allocator and jit caches
    const before = wasmHeapBytes();
    const r = await runTiny({ seed: 6, steps: 5000, batchSize: 8 });
    const after = wasmHeapBytes();
    assert.equal(r.res.stepsDone, 5000);
    // One leaked float per step would be ≥ 20 kB; a leaked batch or gradient ≥ 5 MB. The heap is
    // page-granular (64 KiB) and never shrinks, so "flat" means no growth at all.
    assert.ok(after - before <= 0, `wasm heap grew by ${after - before} bytes over 5,000 steps (${before} → ${after})`);
  });
});
