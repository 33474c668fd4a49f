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

  it("a ReLU-masked A, a full-matrix or ReLU epilogue and N = 97 (not a multiple of 4) also go to OpenBLAS", async () => {
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
      assert.equal(calls, 3, "x·W + D + b: the product, then + b as a rank-1 product");
      const odd = jit((xx: Array, w: Array) => np.matmul(xx, w));
      await odd(np.ones([n, din]), np.ones([din, 97])).data();
      assert.equal(calls, 4, "N = 97");
      const relu = jit((xx: Array, w: Array, c: Array) => np.maximum(np.matmul(xx, w).add(c), 0));
      await relu(np.ones([n, din]), np.ones([din, h]), np.ones([h])).data();
      assert.equal(calls, 5, "ReLU(x·W + b)");
    } finally {
      g.__genlabBlas = real;
    }
  });

  it("materialize (the fused A side in C) gives the JS loop's float32 bits, and refuses bad programs", () => {
    const blas = (globalThis as { __genlabBlas?: { materialize: (...a: unknown[]) => void } }).__genlabBlas!;
    const n = 1000;
    const mem = new Uint8Array(16 * n);
    const f = new Float32Array(mem.buffer);
    const i32 = new Int32Array(mem.buffer);
    for (let t = 0; t < n; t++) {
      f[t] = Math.sin(t) * 3;
      f[n + t] = Math.cos(1.3 * t) / 7;
      i32[2 * n + t] = t % 3 === 0 ? 1 : 0;
      f[3 * n + t] = t % 17 === 0 ? NaN : Math.sin(0.1 * t);
    }
    // Where(mask, 0, (x·y + x) − z) and Where(x < z, x·x, y − 0.1): every opcode
    const progs: [number[], number[], (t: number) => number][] = [
      [[1, 2, 2, 0, 0, 0, 0, 1, 5, 0, 0, 0, 3, 0, 0, 3, 4, 0, 7, 0], [0], (t) => (i32[2 * n + t] ? 0 : Math.fround(Math.fround(Math.fround(f[t] * f[n + t]) + f[t]) - f[3 * n + t]))],
      [[0, 0, 0, 3, 6, 0, 0, 0, 0, 0, 5, 0, 0, 1, 2, 0, 4, 0, 7, 0], [Math.fround(0.1)], (t) => (f[t] < f[3 * n + t] ? Math.fround(f[t] * f[t]) : Math.fround(f[n + t] - Math.fround(0.1)))],
    ];
    for (const [prog, consts, want] of progs) {
      const out = new Float32Array(n);
      blas.materialize(Int32Array.from(prog), Float32Array.from(consts), mem, Float64Array.from([0, 4 * n, 8 * n, 12 * n]), out, n);
      const ref = Float32Array.from({ length: n }, (_, t) => want(t));
      const a = new Uint32Array(out.buffer);
      const b = new Uint32Array(ref.buffer);
      assert.equal(a.findIndex((v, t) => v !== b[t] && !(Number.isNaN(out[t]) && Number.isNaN(ref[t]))), -1, `program ${prog.join(",")}`);
    }
    const out = new Float32Array(n);
    assert.throws(() => blas.materialize(Int32Array.from([0, 0, 3, 0]), new Float32Array(1), mem, Float64Array.from([0]), out, n), /bad program/, "stack underflow");
    assert.throws(() => blas.materialize(Int32Array.from([0, 0]), new Float32Array(1), mem, Float64Array.from([12 * n + 4]), out, n), /does not fit/, "a load past the memory");
    assert.throws(() => blas.materialize(Int32Array.from([0, 5]), new Float32Array(1), mem, Float64Array.from([0]), out, n), /bad program/, "a load of a missing leaf");
    assert.throws(() => blas.materialize(Int32Array.from([0, 0]), new Float32Array(1), mem, Float64Array.from([0]), new Float32Array(10), n), /output does not fit/);
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
