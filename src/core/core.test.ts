import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DType, numpy as np, random, type Array } from "@jax-js/jax";
import { keyFromData, keyFromSeed, keyToData, splitKey } from "./prng.ts";
import { packHostTree, treeAdd, treeFromHost, treeGlobalNorm, treeRef, treeScale, treeSize, treeToHost, treeVdot, unpackHostTree, type Tree } from "./tree.ts";

describe("pytrees", () => {
  it("map-style helpers on nested trees", () => {
    const a = { w: np.array([1, 2]), layers: [{ b: np.array([3]) }] };
    const b = { w: np.array([10, 20]), layers: [{ b: np.array([30]) }] };
    assert.equal(treeSize(a), 3);
    const s = treeScale(treeAdd(treeRef(a), b), 2) as typeof a;
    assert.deepEqual(s.w.js(), [22, 44]);
    assert.deepEqual(s.layers[0].b.js(), [66]);
    assert.equal(treeVdot(treeRef(a), treeRef(a)).item(), 14);
    assert.ok(Math.abs(treeGlobalNorm(a).item() - Math.sqrt(14)) < 1e-6, "Math.abs(treeGlobalNorm(a).item() - Math.sqrt(14)) < 1e-6");
  });

  it("host copies and packed (base64) copies round-trip exactly", () => {
    const t: Tree = { w: np.array([0.1, -3.5e-20, 1 / 3, 7]), i: np.array([1, -2, 3], { dtype: DType.Int32 }), nested: [np.array([[1e30, -0]])] };
    const host = treeToHost(t);
    const packed = JSON.parse(JSON.stringify(packHostTree(host)));
    assert.deepEqual(unpackHostTree(packed), host);
    const back = treeFromHost(unpackHostTree(packed)) as { w: Array; i: Array };
    assert.deepEqual(back.w.js(), (host as unknown as { w: { data: number[] } }).w.data);
    assert.equal(back.i.dtype, DType.Int32);
    assert.ok(JSON.stringify(packed).length < JSON.stringify(host).length * 2, "JSON.stringify(packed).length < JSON.stringify(host).length * 2");
  });
});

describe("PRNG keys", () => {
  it("split keys are distinct and reproducible; keys serialise exactly", () => {
    const [a, b] = splitKey(keyFromSeed(5), 2);
    const da = keyToData(a);
    const db = keyToData(b);
    assert.notDeepEqual(da, db);
    const [a2] = splitKey(keyFromSeed(5), 2);
    assert.deepEqual(keyToData(a2), da);
    assert.deepEqual(keyToData(keyFromData(da)), da);
  });

  it("a key from a seed has exactly random.key's bits, dtype and shape (it is built on the host, not by a kernel)", () => {
    for (const seed of [0, 1, 5, 0x5bd1e995, 0xffffffff]) {
      const ours = keyFromSeed(seed);
      const theirs = random.key(seed);
      assert.equal(ours.dtype, theirs.dtype, `dtype for seed ${seed}`);
      assert.deepEqual(ours.shape, theirs.shape, `shape for seed ${seed}`);
      assert.deepEqual(keyToData(ours.ref), keyToData(theirs.ref), `bits for seed ${seed}`);
      assert.deepEqual([...(random.uniform(ours, [5]).dataSync() as Float32Array)], [...(random.uniform(theirs, [5]).dataSync() as Float32Array)], `draws for seed ${seed}`);
    }
  });

  it("rejects seeds that are not 32-bit unsigned integers", () => {
    assert.throws(() => keyFromSeed(-1), /seed must be an integer/);
    assert.throws(() => keyFromSeed(1.5), /seed must be an integer/);
  });
});
