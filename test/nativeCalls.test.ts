// Run by test/native.test.ts inside the native child (GENLAB_TEST_ONLY includes "native-calls"): the
// recognised matmuls of a training step really go to OpenBLAS (counted at the addon), including the
// transposed and fused layouts of a backward pass; and the addon refuses operands that do not fit.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { grad, jit, numpy as np, type Array } from "@jax-js/jax";
import { BACKEND } from "../src/platform/backend.ts";

type Blas = { sgemm: (...a: unknown[]) => void; materialize?: (...a: unknown[]) => void; materializeOps?: number };

/** Runs fn with the addon's sgemm counted (and, with withoutMaterialize, the fused A side and the epilogues left to the JS loops). */
async function counted<T>(fn: (calls: () => number) => Promise<T>, opts: { withoutMaterialize?: boolean } = {}): Promise<T> {
  const g = globalThis as { __genlabBlas?: Blas };
  const real = g.__genlabBlas!;
  let calls = 0;
  g.__genlabBlas = { sgemm: (...a: unknown[]) => (calls++, real.sgemm(...a)), ...(opts.withoutMaterialize ? {} : { materialize: real.materialize, materializeOps: real.materializeOps }) };
  try {
    return await fn(() => calls);
  } finally {
    g.__genlabBlas = real;
  }
}

describe("native-calls", { skip: BACKEND.name !== "native" ? "not on the native backend" : false }, () => {
  it("a jitted MLP gradient sends its forward and backward matmuls to OpenBLAS", async () => {
    await counted(async (calls) => {
      const x = np.array(Float32Array.from({ length: 64 * 32 }, (_, i) => Math.sin(i)), { shape: [64, 32] });
      const w1 = np.array(Float32Array.from({ length: 32 * 16 }, (_, i) => Math.cos(i) * 0.2), { shape: [32, 16] });
      const w2 = np.array(Float32Array.from({ length: 16 * 8 }, (_, i) => Math.sin(2 * i) * 0.3), { shape: [16, 8] });
      const f = jit(grad((p: { w1: Array; w2: Array }, xx: Array) => np.square(np.matmul(np.tanh(np.matmul(xx, p.w1)), p.w2)).mean()) as never) as unknown as (p: { w1: Array; w2: Array }, x: Array) => { w1: Array; w2: Array };
      const out = f({ w1, w2 }, x);
      const d1 = (await out.w1.data()) as Float32Array;
      await out.w2.data();
      assert.ok(calls() >= 4, `${calls()} sgemm calls (forward 2, backward ≥ 2)`);
      assert.ok(d1.every(Number.isFinite), "finite gradients");
    });
  });

  it("a ReLU-masked A, a full-matrix or ReLU epilogue and N = 97 (not a multiple of 4) also go to OpenBLAS", async () => {
    await counted(async (calls) => {
      const [n, din, h] = [64, 12, 16];
      const masked = jit((gg: Array, mb: Array, xx: Array) => np.matmul(np.where(mb.astype("bool" as never), 0, gg).transpose(), xx));
      await masked(np.ones([n, h]), np.zeros([n, h], { dtype: "int32" as never }), np.ones([n, din])).data();
      assert.equal(calls(), 1, "Where(mask, 0, g)ᵀ x");
      const full = jit((xx: Array, w: Array, d: Array, c: Array) => np.matmul(xx, w).add(d).add(c));
      await full(np.ones([n, din]), np.ones([din, h]), np.ones([n, h]), np.ones([h])).data();
      assert.equal(calls(), 3, "x·W + D + b: the product, then + b as a rank-1 product");
      const odd = jit((xx: Array, w: Array) => np.matmul(xx, w));
      await odd(np.ones([n, din]), np.ones([din, 97])).data();
      assert.equal(calls(), 4, "N = 97");
      const relu = jit((xx: Array, w: Array, c: Array) => np.maximum(np.matmul(xx, w).add(c), 0));
      await relu(np.ones([n, din]), np.ones([din, h]), np.ones([h])).data();
      assert.equal(calls(), 5, "ReLU(x·W + b)");
    });
  });

  it("a fused A side (2z ⊙ g of an x² layer, a ReLU mask) gives the same bits in C as in the JS loop", async () => {
    const [n, din, h] = [301, 20, 16];
    const x = Float32Array.from({ length: n * din }, (_, i) => Math.sin(0.37 * i));
    const w = Float32Array.from({ length: din * h }, (_, i) => Math.cos(0.11 * i) * 0.3);
    const gg = Float32Array.from({ length: n * h }, (_, i) => Math.sin(0.05 * i + 1));
    const mask = Int32Array.from({ length: n * h }, (_, i) => (Math.sin(7 * i) > 0.2 ? 1 : 0));
    const square = jit(grad((wt: Array, xx: Array, g: Array) => np.square(np.matmul(xx, wt)).mul(g).sum(), { argnums: 0 }) as never) as unknown as (w: Array, x: Array, g: Array) => Array;
    const masked = jit((g: Array, mb: Array, xx: Array) => np.matmul(np.where(mb.astype("bool" as never), 0, g).transpose(), xx));
    const both = async () => [
      (await square(np.array(w, { shape: [din, h] }), np.array(x, { shape: [n, din] }), np.array(gg, { shape: [n, h] })).data()) as Float32Array,
      (await masked(np.array(gg, { shape: [n, h] }), np.array(mask, { shape: [n, h], dtype: "int32" as never }), np.array(x, { shape: [n, din] })).data()) as Float32Array,
    ];
    const inC = await counted(() => both());
    const inJs = await counted(() => both(), { withoutMaterialize: true });
    for (let k = 0; k < 2; k++) assert.deepEqual([...new Uint32Array(inC[k].buffer)], [...new Uint32Array(inJs[k].buffer)], k ? "ReLU mask" : "2z ⊙ g");
  });

  it("an elementwise epilogue (ReLU(x·W + b), min/max and Where of acc and a bias row) gives the same bits in C as in the JS loop, NaN and −0 included", async () => {
    const [m, k, n] = [203, 17, 13];
    const x = Float32Array.from({ length: m * k }, (_, i) => Math.sin(0.3 * i));
    const w = Float32Array.from({ length: k * n }, (_, i) => (i % 5 === 0 ? 0 : Math.cos(0.7 * i)));
    const b = Float32Array.from({ length: n }, (_, i) => (i === 3 ? NaN : i === 4 ? -0 : Math.sin(i)));
    x.fill(0, 0, k); // a zero row: acc = 0, + (−0) and max with 0 meet signed zeros
    const relu = jit((xx: Array, ww: Array, c: Array) => np.maximum(np.matmul(xx, ww).add(c), 0));
    const mix = jit((xx: Array, ww: Array, c: Array) => {
      const z = np.matmul(xx, ww);
      return np.where(z.ref.less(c.ref), np.minimum(z.ref, c.ref.mul(0.5)), np.maximum(z, c));
    });
    const both = async () => [
      (await relu(np.array(x, { shape: [m, k] }), np.array(w, { shape: [k, n] }), np.array(b)).data()) as Float32Array,
      (await mix(np.array(x, { shape: [m, k] }), np.array(w, { shape: [k, n] }), np.array(b)).data()) as Float32Array,
    ];
    const inC = await counted(async (calls) => {
      const r = await both();
      assert.equal(calls(), 2, "both products went to OpenBLAS");
      return r;
    });
    const inJs = await counted(() => both(), { withoutMaterialize: true });
    const bits = (a: Float32Array) => [...a].map((v) => (Number.isNaN(v) ? "NaN" : Object.is(v, -0) ? "-0" : v));
    for (let q = 0; q < 2; q++) assert.deepEqual(bits(inC[q]), bits(inJs[q]), q ? "Where/min/max" : "ReLU");
    assert.ok(inC[0].some(Number.isNaN), "the NaN bias column propagates");
  });

  it("an epilogue with a column term (x·W + D + b − r[i], the log-softmax form of an HVP's tangent logits) goes native, with the JS loop's bits", async () => {
    const [m, k, n] = [57, 19, 11];
    const x = Float32Array.from({ length: m * k }, (_, i) => Math.sin(0.3 * i));
    const w = Float32Array.from({ length: k * n }, (_, i) => Math.cos(0.7 * i));
    const d = Float32Array.from({ length: m * n }, (_, i) => Math.sin(1.1 * i) / 3);
    const b = Float32Array.from({ length: n }, (_, i) => Math.cos(i) / 5);
    const r = Float32Array.from({ length: m }, (_, i) => (i === 5 ? NaN : Math.sin(2.3 * i)));
    const g = Float32Array.from({ length: m * n }, (_, i) => Math.cos(0.9 * i));
    // chain form (acc + D + b − r) and a general one (g ⊙ (acc + D + b − r))
    const chain = jit((xx: Array, ww: Array, dd: Array, bb: Array, rr: Array) => np.matmul(xx, ww).add(dd).add(bb).sub(rr.reshape([m, 1])));
    const general = jit((gg: Array, xx: Array, ww: Array, dd: Array, bb: Array, rr: Array) => gg.mul(np.matmul(xx, ww).add(dd).add(bb).sub(rr.reshape([m, 1]))));
    const arr = (a: Float32Array<ArrayBuffer>, shape: number[]) => np.array(a, { shape });
    const both = async () => [
      (await chain(arr(x, [m, k]), arr(w, [k, n]), arr(d, [m, n]), arr(b, [n]), arr(r, [m])).data()) as Float32Array,
      (await general(arr(g, [m, n]), arr(x, [m, k]), arr(w, [k, n]), arr(d, [m, n]), arr(b, [n]), arr(r, [m])).data()) as Float32Array,
    ];
    const inC = await counted(async (calls) => {
      const out = await both();
      assert.equal(calls(), 2, "both products went to the native GEMM");
      return out;
    });
    const inJs = await counted(() => both(), { withoutMaterialize: true });
    const bits = (a: Float32Array) => [...a].map((v) => (Number.isNaN(v) ? "NaN" : Object.is(v, -0) ? "-0" : v));
    assert.deepEqual(bits(inC[1]), bits(inJs[1]), "the general epilogue: LOAD_COL in C = the JS loop");
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) acc += x[i * k + p] * w[p * n + j];
        const want = acc + d[i * n + j] + b[j] - r[i];
        const got = inC[0][i * n + j];
        if (i === 5) assert.ok(Number.isNaN(got), `row 5 (r = NaN) is NaN, got ${got}`);
        else assert.ok(Math.abs(got - want) <= 1e-5 * (1 + Math.abs(want)), `chain C[${i}, ${j}] = ${got}, float64 ${want}`);
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

  it("scatterRows (an embedding's gradient in C) gives the JS loop's float32 bits, skips ids out of range, and checks its operands", () => {
    const blas = (globalThis as { __genlabBlas?: { scatterRows: (...a: unknown[]) => void } }).__genlabBlas!;
    const rows = 7, width = 5, n = 60;
    const upd = Float32Array.from({ length: n * width }, (_, i) => Math.sin(i) * 10 ** ((i % 7) - 3));
    const ids = Int32Array.from({ length: n }, (_, r) => (r % 11 === 0 ? -1 : r % 13 === 0 ? rows : (r * 5) % rows));
    const out = new Float32Array(rows * width);
    // ids and updates longer than the n rows used (jax-js's pooled buffers): the tail must be ignored
    const longIds = Int32Array.from([...ids, 0, 0, 0]);
    const longUpd = Float32Array.from([...upd, ...new globalThis.Array<number>(3 * width).fill(NaN)]);
    blas.scatterRows(out, longUpd, longIds, n, width, rows);
    const want = new Float32Array(rows * width);
    for (let r = 0; r < n; r++) if (ids[r] >= 0 && ids[r] < rows) for (let t = 0; t < width; t++) want[ids[r] * width + t] += upd[r * width + t];
    assert.deepEqual([...new Uint32Array(out.buffer)], [...new Uint32Array(want.buffer)]);
    assert.throws(() => blas.scatterRows(new Float32Array(rows * width - 1), upd, ids, n, width, rows), /does not fit/, "output too small");
    assert.throws(() => blas.scatterRows(out, new Float32Array(n * width - 1), ids, n, width, rows), /does not fit/, "updates too short for n rows");
    assert.throws(() => blas.scatterRows(out, upd, ids, n + 1, width, rows), /does not fit/, "more rows than ids");
    assert.throws(() => blas.scatterRows(out, upd, Float32Array.from(ids), n, width, rows), /Int32Array/, "float ids");
    assert.throws(() => blas.scatterRows(out, upd, ids, width, rows), /6 arguments/);
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
