import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DType, numpy as np, type Array } from "@jax-js/jax";
import { keyFromSeed, normalFromKey } from "../core/prng.ts";
import { qr } from "../core/linalg.ts";
import { applyMlp, initMlp, mlpSpec, type MlpParams } from "../nn/dense.ts";
import { guidanceLayerMap, guidancePenalty } from "./guidance.ts";
import { gradCheck, onCpu, toF64Cpu } from "../../test/util/numeric.ts";

describe("guidance (representational alignment to a frozen guide)", () => {
  it("the penalty is 0 for a target equal to the guide up to rotation and scale, in (0, k) otherwise, and sums its pairs", () => {
    const n = 30, p = 5;
    const X = Float32Array.from(normalFromKey(keyFromSeed(1), n * p));
    const Q = qr(normalFromKey(keyFromSeed(2), p * p), p, p).q;
    const XQ = new Float32Array(n * p);
    for (let i = 0; i < n; i++) for (let c = 0; c < p; c++) for (let t = 0; t < p; t++) XQ[i * p + c] += 3 * X[i * p + t] * Q[t * p + c];
    const Y = Float32Array.from(normalFromKey(keyFromSeed(3), n * 4));
    const a = (v: Float32Array, w: number) => np.array(v as Float32Array<ArrayBuffer>, { shape: [n, w] });
    const zero = guidancePenalty([a(X, p)], [a(XQ, p)]).item();
    assert.ok(Math.abs(zero) < 1e-5, `aligned up to rotation and scale: ${zero}`);
    const one = guidancePenalty([a(X, p)], [a(Y, 4)]).item();
    assert.ok(one > 0.5 && one < 1, `independent: 1 − CKA = ${one}`);
    const two = guidancePenalty([a(X, p), a(X, p)], [a(Y, 4), a(XQ, p)]).item();
    assert.ok(Math.abs(two - one) < 1e-5, `the pairs add: ${two} = ${one} + 0`);
    assert.throws(() => guidancePenalty([a(X, p)], []), /1 target and 0 guide representations/);
  });

  it("the layer map spreads guide layers uniformly over the target's, both ends included (the official code: FCN 1, 3, 6, 8 ↔ CNN 1–4)", () => {
    assert.deepEqual(guidanceLayerMap(8, 4), [[1, 1], [3, 2], [6, 3], [8, 4]]);
    assert.deepEqual(guidanceLayerMap(3, 3), [[1, 1], [2, 2], [3, 3]]);
    assert.deepEqual(guidanceLayerMap(6, 3), [[1, 1], [3, 2], [6, 3]], "1·5/2 = 2.5 rounds half to even (Python's round) to 2: layer 3");
    assert.deepEqual(guidanceLayerMap(5, 1), [[5, 1]], "one guide layer supervises the last target layer");
    const m = guidanceLayerMap(50, 18);
    assert.equal(m[17][0], 50, "the last guide layer meets the last target layer");
    for (let j = 1; j < m.length; j++) assert.ok(m[j][0] > m[j - 1][0], `strictly increasing target layers: ${JSON.stringify(m)}`);
    assert.throws(() => guidanceLayerMap(3, 4), /need 1 ≤ guide layers ≤ target layers/);
  });

  it("the guided loss of an MLP passes a float64 finite-difference gradient check", async () => {
    await onCpu(() => {
      // tanh, not ReLU: at this tiny width an example whose first hidden layer is all zero puts a second-layer
      // pre-activation exactly at ReLU's kink (zero bias), where finite differences are meaningless
      const spec = mlpSpec({ dims: [4, 6, 5, 3], activation: "tanh", padTo: 1 });
      const params = toF64Cpu(initMlp(spec, keyFromSeed(4)));
      const n = 10;
      const x = np.array(globalThis.Array.from(normalFromKey(keyFromSeed(5), n * 4)), { shape: [n, 4], dtype: DType.Float64, device: "cpu" });
      const g1 = np.array(globalThis.Array.from(normalFromKey(keyFromSeed(6), n * 7)), { shape: [n, 7], dtype: DType.Float64, device: "cpu" });
      const g2 = np.array(globalThis.Array.from(normalFromKey(keyFromSeed(7), n * 2)), { shape: [n, 2], dtype: DType.Float64, device: "cpu" });
      const r = gradCheck((p) => {
        const acts: Array[] = [];
        applyMlp(spec, p as MlpParams, x.ref, undefined, acts).dispose();
        acts[0].dispose();
        return guidancePenalty([acts[1], acts[2]], [g1.ref, g2.ref]);
      }, params);
      for (const a of [x, g1, g2]) a.dispose();
      assert.ok(r.maxRelErr < 1e-6, `relative error ${r.maxRelErr} (${JSON.stringify(r.checks)})`);
    });
  });
});
