import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DType, numpy as np, type Array } from "@jax-js/jax";
import { keyFromSeed, normalFromKey } from "../core/prng.ts";
import { treeDispose, treeRef } from "../core/tree.ts";
import { anchorPenalty, continualObjective, featureDistillation, predKdBce, runTaskSequence, seenSoftmaxCe, sigmoidBce, type ContinualMethod } from "./continual.ts";
import { gradCheck, onCpu } from "../../test/util/numeric.ts";

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tol ${tol})`);
const sig = (z: number) => 1 / (1 + Math.exp(-z));

describe("continual-learning losses (train/continual.ts)", () => {
  it("sigmoid BCE and PredKD's targets: one-hot on the new classes, the teacher's sigmoids on the past ones, × 5", () => {
    const z = [2, -1, 0.5, 3, 0.1, -2];
    const bce = sigmoidBce(np.array(z, { shape: [2, 3] }), np.array([1, 0, 0, 0.3, 0, 1], { shape: [2, 3] })).item();
    const want = [1, 0, 0, 0.3, 0, 1].reduce((s, t, i) => s - (t * Math.log(sig(z[i])) + (1 - t) * Math.log(1 - sig(z[i]))), 0) / 6;
    close(bce, want, 3e-6, "BCE (float32: relative 1e-6)");
    // 2 rows, 4 logits, seen = 3, the teacher covers class 0; labels 2 and 1
    const logits = [0.2, -0.4, 1.5, 9, 0.7, 0.3, -1.2, 9];
    const teacher = [1.0, -2.0];
    const got = predKdBce(np.array(logits, { shape: [2, 4] }), np.array([2, 1], { dtype: DType.Int32 }), 3, np.array(teacher, { shape: [2, 1] })).item();
    const targets = [sig(1.0), 0, 1, sig(-2.0), 1, 0];
    const zs = [0.2, -0.4, 1.5, 0.7, 0.3, -1.2];
    const ref = (5 * zs.reduce((s, v, i) => s - (targets[i] * Math.log(sig(v)) + (1 - targets[i]) * Math.log(1 - sig(v))), 0)) / 6;
    close(got, ref, 1e-5, "PredKD BCE (the unseen 4th logit ignored)");
    assert.throws(() => predKdBce(np.zeros([1, 3]), np.array([0], { dtype: DType.Int32 }), 2, np.zeros([1, 2])), /covers 2 classes, not fewer than the 2 seen/);
    const ce = seenSoftmaxCe(np.array([0, 0, 50], { shape: [1, 3] }), np.array([1], { dtype: DType.Int32 }), 2).item();
    close(ce, Math.log(2), 1e-6, "softmax CE over the first two logits (the third, unseen, ignored)");
  });

  it("the anchor penalty: 0 at the anchor, Σ(θ − θ*)² for L2, importance-weighted for EWC, and weight 0 is plain fine-tuning", () => {
    const p = () => ({ w: np.array([1, 2, 3]), b: np.array([0.5]) });
    const anchor = { w: np.array([1, 1, 1]), b: np.array([0]) };
    const F = { w: np.array([0, 2, 1]), b: np.array([4]) };
    close(anchorPenalty(treeRef(anchor), anchor, null).item(), 0, 0, "at the anchor");
    close(anchorPenalty(p(), anchor, null).item(), 0 + 1 + 4 + 0.25, 1e-6, "L2");
    close(anchorPenalty(p(), anchor, F).item(), 0 + 2 + 4 + 1, 1e-6, "EWC");
    treeDispose([anchor, F]);
  });

  it("a method's objective: EWC with μ = 0 is exactly naive fine-tuning, and each weight adds its own term", () => {
    const z = () => np.array([0.3, -1, 2, 0.1, 0.5, -0.2], { shape: [2, 3] });
    const y = () => np.array([2, 0], { dtype: DType.Int32 });
    const theta = () => ({ w: np.array([1, 2]) });
    const anchor = { w: np.array([0, 0]) };
    const F = { w: np.array([1, 3]) };
    const naive: ContinualMethod = { classifier: "softmax", predKd: false, featKd: 0, ewc: 0, l2: 0 };
    const obj = (m: ContinualMethod) => continualObjective(m, { logits: z(), labels: y(), seen: 3, params: theta(), anchor, importance: F, features: np.array([1, 2]), teacherFeatures: np.array([1, 1]) }).item();
    const base = obj(naive);
    assert.equal(obj({ ...naive, ewc: 0 }), base, "μ = 0: bit-identical to naive");
    close(obj({ ...naive, ewc: 2 }) - base, 0.5 * 2 * (1 * 1 + 3 * 4), 1e-5, "½ μ Σ F θ²");
    close(obj({ ...naive, l2: 0.05 }) - base, 0.05 * 5, 1e-5, "w Σ θ²");
    close(obj({ ...naive, ewc: 2, l2: 0.05 }) - base, 13 + 0.25, 1e-5, "both");
    close(obj({ ...naive, featKd: 5 }) - base, 5 * 0.5, 1e-5, "μ · mean squared feature distance");
    assert.throws(() => continualObjective({ ...naive, predKd: true }, { logits: z(), labels: y(), seen: 3 }), /PredKD distils through the BCE classifier/);
    treeDispose([anchor, F]);
  });

  it("PredKD, FeatKD and the EWC penalty pass a float64 finite-difference gradient check", async () => {
    await onCpu(() => {
      const f64 = (v: number[], shape: number[]) => np.array(v, { shape, dtype: DType.Float64, device: "cpu" });
      const z = f64(globalThis.Array.from(normalFromKey(keyFromSeed(1), 12)), [3, 4]);
      const t = f64(globalThis.Array.from(normalFromKey(keyFromSeed(2), 6)), [3, 2]);
      const y = np.array([2, 3, 2], { dtype: DType.Int32, device: "cpu" });
      const feats = f64(globalThis.Array.from(normalFromKey(keyFromSeed(3), 6)), [3, 2]);
      const anchor = { a: f64([0.1, -0.2, 0.3], [3]) };
      const F = { a: f64([1, 2, 0.5], [3]) };
      const r = gradCheck((q) => {
        const { z: zz, f, a } = q as { z: Array; f: Array; a: Array };
        return predKdBce(zz, y.ref, 4, t.ref).add(featureDistillation(f, feats.ref)).add(anchorPenalty({ a }, anchor, F).mul(0.5));
      }, { z, f: f64([0.3, 0.1, -0.5, 0.2, 0.9, -1], [3, 2]), a: f64([1, 0, -1], [3]) });
      treeDispose([t, y, feats, anchor, F]);
      assert.ok(r.maxRelErr < 1e-6, `relative error ${r.maxRelErr} (${JSON.stringify(r.checks)})`);
    });
  });

  it("the task-sequence runner fills R[i][n] for n ≤ i, hands each task the previous model, and frees every copy", async () => {
    const tasks = [0, 1, 2].map((t) => ({ name: `t${t}`, train: { x: new Float32Array(1), xShape: [1, 1], y: new Int32Array(1), numClasses: 2 }, test: { x: Float32Array.of(t), xShape: [1, 1], y: new Int32Array(1), numClasses: 2 }, seen: 2 * (t + 1) }));
    const seenPrev: (number | null)[] = [];
    const init = { v: np.array([0]) };
    const kept: Array[] = [];
    const r = await runTaskSequence({
      tasks,
      init,
      learn: async (t, params, previous) => {
        seenPrev.push(previous ? previous.v.ref.item() : null);
        kept.push(params.v.ref);
        return { v: params.v.add(1) };
      },
      accuracy: async (params, test, seen) => (params.v.ref.item() * 10 + test.x[0]) / 100 + seen / 1000,
    });
    assert.deepEqual(seenPrev, [null, 1, 2], "task t sees the model after task t − 1");
    assert.deepEqual(r.accuracy.map((row) => row.length), [1, 2, 3]);
    close(r.accuracy[2][1], (3 * 10 + 1) / 100 + 6 / 1000, 1e-12, "R[2][1]: the model after task 2 on task 1's rows, 6 classes seen");
    assert.equal(r.params.v.item(), 3);
    for (const a of kept) {
      assert.equal(a.refCount, 1, "only the test's own reference is left on each intermediate model");
      a.dispose();
    }
  });
});
