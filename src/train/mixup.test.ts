import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DType, numpy as np } from "@jax-js/jax";
import { keyFromSeed, permutationFromKey, splitKey } from "../core/prng.ts";
import { softmaxCrossEntropy } from "../nn/losses.ts";
import { stepKey } from "./loop.ts";
import { dirichletHost, gammaHost, mixup, softCrossEntropy } from "./mixup.ts";

describe("d-Mixup (train/mixup.ts)", () => {
  it("Gamma draws have mean ≈ shape and variance ≈ shape (shape 0.5, 1, 3; 20,000 draws, 4 SE)", () => {
    for (const shape of [0.5, 1, 3]) {
      const g = gammaHost(shape, 20000, keyFromSeed(7));
      const m = g.reduce((a, b) => a + b, 0) / g.length;
      const v = g.reduce((a, b) => a + (b - m) ** 2, 0) / (g.length - 1);
      assert.ok(Math.abs(m - shape) < 4 * Math.sqrt(shape / g.length), `shape ${shape}: mean ${m}`);
      assert.ok(Math.abs(v - shape) < 0.1 * shape, `shape ${shape}: variance ${v}`);
    }
  });

  it("d = 2, α = 1 draws λ ~ U(0, 1): Kolmogorov–Smirnov over 2,000 steps' keys, D below the 1% critical value", () => {
    const lambdas = Array.from({ length: 2000 }, (_, s) => dirichletHost(1, 2, splitKey(stepKey(3, s), 3)[0])[0]).sort((a, b) => a - b);
    let d = 0;
    lambdas.forEach((v, i) => (d = Math.max(d, Math.abs(v - i / lambdas.length), Math.abs(v - (i + 1) / lambdas.length))));
    assert.ok(d < 1.63 / Math.sqrt(lambdas.length), `KS D ${d}`);
  });

  it("the soft cross-entropy of the mixed batch equals λ·CE(y) + (1 − λ)·CE(y[π]); the broken variant keeps the labels unmixed", () => {
    const t = mixup({ classes: 3, seed: 5 });
    const x = np.array([[1, 0], [0, 1], [2, 2], [3, -1]]);
    const y = np.array([0, 1, 2, 1], { dtype: DType.Int32 });
    const w = np.array([[0.3, -0.2, 0.5], [0.1, 0.4, -0.6]]);
    const key = stepKey(5, 17);
    const { x: xm, y: tm } = t.apply(x.ref, y.ref, key);
    // the λ and permutation the transform drew, recomputed from the same key
    const [kl, , kp] = splitKey(stepKey(5, 17), 3);
    const lambda = dirichletHost(1, 2, kl)[0];
    const perm = permutationFromKey(kp, 4);
    const logits = () => np.matmul(xm.ref, w.ref);
    const soft = softCrossEntropy(logits(), tm.ref).js() as number;
    const yPerm = np.array(Int32Array.from(perm, (i) => (y.ref.js() as number[])[i]), { dtype: DType.Int32 });
    const mixed = lambda * (softmaxCrossEntropy(logits(), y.ref).js() as number) + (1 - lambda) * (softmaxCrossEntropy(logits(), yPerm).js() as number);
    assert.ok(Math.abs(soft - mixed) < 1e-5, `soft ${soft} vs λ-mixed ${mixed}`);
    const broken = mixup({ classes: 3, seed: 5, mixLabels: false }).apply(x, y.ref, stepKey(5, 17));
    assert.deepEqual(broken.y.js(), (np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0]]).js() as number[][]));
    broken.x.dispose();
    for (const a of [xm, tm, w, y]) a.dispose();
  });
});
