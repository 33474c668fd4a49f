import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DType, numpy as np } from "@jax-js/jax";
import { keyFromSeed } from "../core/prng.ts";
import { treeDispose } from "../core/tree.ts";
import { initXavierUniform, mlpSpec } from "../nn/dense.ts";
import { groupRisks, groupsFromPartitions, synthesisTargets } from "./richFeatures.ts";

describe("Rich Feature Construction pieces (train/richFeatures.ts)", () => {
  it("groups are the cells of the partitions; group risks are per-cell means (an empty cell 0); synthesis targets are each round's predictions", async () => {
    const p0 = [1, 1, 0, 0, 1];
    const p1 = [1, 0, 1, 0, 1];
    assert.deepEqual(globalThis.Array.from(groupsFromPartitions([p0, p1], 5)), [3, 1, 2, 0, 3]);
    const risks = (await groupRisks(np.array([0.5, 1, 2, 4, 1.5]), np.array([3, 1, 2, 0, 3], { dtype: DType.Int32 }), 5).data()) as Float32Array;
    assert.deepEqual(globalThis.Array.from(risks), [4, 1, 2, 1, 0], "cell 3 holds rows 0 and 4: (0.5 + 1.5)/2; cell 4 is empty");
    // round k right → its prediction is y; wrong → 1 − y
    assert.deepEqual(globalThis.Array.from(synthesisTargets([1, 0, 1], [[1, 0, 1], [0, 0, 1]])), [1, 0, 1, 1, 1, 1]);
    assert.throws(() => groupsFromPartitions([[1, 0]], 3), /partition 0 has 2 rows, expected 3/);
  });

  it("Xavier-uniform init: weights within ±√(6/(fan_in + fan_out)), zero biases", async () => {
    const p = initXavierUniform(mlpSpec({ dims: [30, 20, 2], padTo: 1 }), keyFromSeed(1));
    const w = (await p.layers[0].w.ref.data()) as Float32Array;
    const bound = Math.sqrt(6 / 50);
    assert.ok(w.every((v) => Math.abs(v) <= bound), "bounded");
    assert.ok(Math.max(...w.map(Math.abs)) > 0.9 * bound, "and spread up to the bound (600 draws)");
    assert.ok(((await p.layers[1].b!.ref.data()) as Float32Array).every((v) => v === 0), "zero biases");
    treeDispose(p);
  });
});
