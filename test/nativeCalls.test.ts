// Run by test/native.test.ts inside the native child (GENLAB_TEST_ONLY includes "native-calls"): the
// recognised matmuls of a training step really go to OpenBLAS (counted at the addon), including the
// transposed and fused layouts of a backward pass; and the addon refuses operands that do not fit.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { grad, jit, numpy as np, type Array } from "@jax-js/jax";
import { BACKEND } from "../src/platform/backend.ts";

describe("native-calls", { skip: BACKEND.name !== "native" ? "not on the native backend" : false }, () => {
  it("a jitted MLP gradient sends its forward and backward matmuls to OpenBLAS", async () => {
    const g = globalThis as { __genlabBlas?: { sgemm: (...a: unknown[]) => void } };
    const real = g.__genlabBlas!;
    let calls = 0;
    g.__genlabBlas = { ...real, sgemm: (...a: unknown[]) => (calls++, real.sgemm(...a)) };
    try {
      const x = np.array(Float32Array.from({ length: 64 * 32 }, (_, i) => Math.sin(i)), { shape: [64, 32] });
      const w1 = np.array(Float32Array.from({ length: 32 * 16 }, (_, i) => Math.cos(i) * 0.2), { shape: [32, 16] });
      const w2 = np.array(Float32Array.from({ length: 16 * 8 }, (_, i) => Math.sin(2 * i) * 0.3), { shape: [16, 8] });
      const f = jit(grad((p: { w1: Array; w2: Array }, xx: Array) => np.square(np.matmul(np.tanh(np.matmul(xx, p.w1)), p.w2)).mean()) as never) as unknown as (p: { w1: Array; w2: Array }, x: Array) => { w1: Array; w2: Array };
      const out = f({ w1, w2 }, x);
      const d1 = (await out.w1.data()) as Float32Array;
      await out.w2.data();
      assert.ok(calls >= 4, `${calls} sgemm calls (forward 2, backward ≥ 2)`);
      assert.ok(d1.every(Number.isFinite), "finite gradients");
    } finally {
      g.__genlabBlas = real;
    }
  });

  it("a ReLU-masked A, a full-matrix epilogue and N = 97 (not a multiple of 4) also go to OpenBLAS", async () => {
    const g = globalThis as { __genlabBlas?: { sgemm: (...a: unknown[]) => void } };
    const real = g.__genlabBlas!;
    let calls = 0;
    g.__genlabBlas = { ...real, sgemm: (...a: unknown[]) => (calls++, real.sgemm(...a)) };
    try {
      const [n, din, h] = [64, 12, 16];
      const masked = jit((gg: Array, mb: Array, xx: Array) => np.matmul(np.where(mb.astype("bool" as never), 0, gg).transpose(), xx));
      await masked(np.ones([n, h]), np.zeros([n, h], { dtype: "int32" as never }), np.ones([n, din])).data();
      assert.equal(calls, 1, "Where(mask, 0, g)ᵀ x");
      const full = jit((xx: Array, w: Array, d: Array, c: Array) => np.matmul(xx, w).add(d).add(c));
      await full(np.ones([n, din]), np.ones([din, h]), np.ones([n, h]), np.ones([h])).data();
      assert.equal(calls, 2, "x·W + D + b");
      const odd = jit((xx: Array, w: Array) => np.matmul(xx, w));
      await odd(np.ones([n, din]), np.ones([din, 97])).data();
      assert.equal(calls, 3, "N = 97");
    } finally {
      g.__genlabBlas = real;
    }
  });

  it("the addon checks every operand's extent before calling OpenBLAS", () => {
    const blas = (globalThis as { __genlabBlas?: { sgemm: (...a: unknown[]) => void } }).__genlabBlas!;
    const a = new Float32Array(6);
    const c = new Float32Array(4);
    assert.throws(() => blas.sgemm(a, 0, 3, false, a, 0, 2, false, new Float32Array(3), 0, 2, 2, 2, 3, 0), /does not fit/, "C too small for 2×2");
    assert.throws(() => blas.sgemm(a, 0, 3, false, a, 8, 2, false, c, 0, 2, 2, 2, 3, 0), /does not fit/, "B runs past its array");
    assert.throws(() => blas.sgemm(a, 2, 3, false, a, 0, 2, false, c, 0, 2, 2, 2, 3, 0), /does not fit/, "unaligned offset");
    assert.throws(() => blas.sgemm(a, 0, 3, false), /15 arguments/);
    const b = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const out = new Float32Array(4);
    blas.sgemm(Float32Array.from([1, 0, 0, 0, 1, 0]), 0, 3, false, b, 0, 2, false, out, 0, 2, 2, 2, 3, 0);
    assert.deepEqual([...out], [1, 2, 3, 4]);
  });
});
