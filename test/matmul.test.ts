// The matmul kernel patched into jax-js (patches/@jax-js+jax+0.1.25.patch): every layout it claims, and
// some it must leave to jax-js, against a float64 reference computed on the host; thread-count
// independence; and that the patch is really applied.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { grad, jit, nn, numpy as np, type Array } from "@jax-js/jax";
import { BACKEND } from "../src/platform/backend.ts";
import { keyFromSeed } from "../src/core/prng.ts";
import { treeDispose, treeRef } from "../src/core/tree.ts";
import { applyMlp, initMlp, mlpSpec } from "../src/nn/dense.ts";
import { onCpu } from "./util/numeric.ts";

const ROOT = resolve(import.meta.dirname, "..");

/** Deterministic pseudo-random floats in [-1, 1) (host side; no device RNG needed). */
function host(n: number, seed: number): Float32Array<ArrayBuffer> {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

function reference(a: Float32Array, b: Float32Array, m: number, k: number, n: number, aT: boolean, bias?: Float32Array): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let r = 0; r < k; r++) s += (aT ? a[r * m + i] : a[i * k + r]) * b[r * n + j];
      c[i * n + j] = s + (bias ? bias[j] : 0);
    }
  return c;
}

/** Largest |error| / k: a float32 sum of k terms of size ≤ 1 is off by at most ~k·2⁻²⁴ (< 1e-6·k); a wrong element is off by O(1). */
function maxRelErr(got: Float32Array, want: Float64Array, k: number): number {
  let e = 0;
  for (let i = 0; i < want.length; i++) e = Math.max(e, Math.abs(got[i] - want[i]) / k);
  return e;
}

/**
 * The elements of `got` (m × n) that differ from the host's sequential float32 sum Σ_r A[i, r]·B[r, j]
 * (B[j, r] when bt), passed through `finish(s, i, j)`: compared bit for bit, or by `close` where given.
 * Returns "" when none differ, else how many and the first.
 */
function sequentialMismatches(got: Float32Array, a: Float32Array, b: Float32Array, [m, k, n]: number[], bt: boolean, finish: (s: number, i: number, j: number) => number, close?: (v: number, want: number) => boolean): string {
  let wrong = 0;
  let first = "";
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let r = 0; r < k; r++) s = Math.fround(s + Math.fround(a[i * k + r] * (bt ? b[j * k + r] : b[r * n + j])));
      const want = finish(s, i, j);
      const v = got[i * n + j];
      if (!(close ? close(v, want) : Object.is(v, want))) {
        if (!wrong) first = `C[${i}, ${j}] = ${v}, want ${want}`;
        wrong++;
      }
    }
  return wrong ? `${wrong} of ${m * n} differ; first: ${first}` : "";
}

describe("patched jax-js matmul kernel", () => {
  it("is applied (postinstall: patch-package)", () => {
    const require = createRequire(import.meta.url);
    const dist = dirname(require.resolve("@jax-js/jax"));
    const files = ["backend-CnjgxpXq.js"].map((f) => readFileSync(join(dist, f), "utf8"));
    assert.ok(files[0].includes("genlabMatmulCodegen"), "patches/@jax-js+jax+0.1.25.patch is not applied: run npm install");
    assert.ok(files[0].includes("genlabNativeDispatch"), "the patch's native matmul hook is not applied: run npm install");
    assert.ok(readFileSync(join(dist, "index.js"), "utf8").includes("genlab: a routine reads its inputs as buffers"), "the patch's jit fix (views feeding a routine are materialized) is not applied: run npm install");
  });

  const cases: [string, number, number, number, boolean, boolean][] = [
    // name, m, k, n, A transposed, bias
    ["W1 forward 4704×196→256 + bias", 4704, 196, 256, false, true],
    ["rows not a multiple of 4, N % 8 = 4", 7, 13, 12, false, false],
    ["fewer than 4 rows", 3, 5, 8, false, true],
    ["A transposed (x^T δ)", 37, 50, 20, true, false],
    ["K blocked (B panel > 1 MiB): 8×2000×512", 8, 2000, 512, false, true],
    ["K blocked, 1024 wide", 12, 700, 1024, false, false],
    ["N not a multiple of 4 (jax-js kernel)", 9, 10, 97, false, true],
  ];
  for (const [name, m, k, n, aT, withBias] of cases) {
    it(name, async () => {
      const a = host(m * k, m + 3 * k);
      const b = host(k * n, n + 7);
      const bias = withBias ? host(n, 11) : undefined;
      const f = jit((x: Array, w: Array, c: Array) => {
        const y = np.matmul(aT ? x.reshape([k, m]).transpose() : x.reshape([m, k]), w);
        return withBias ? y.add(c) : (c.dispose(), y);
      });
      const got = (await f(np.array(a as Float32Array<ArrayBuffer>), np.array(b as Float32Array<ArrayBuffer>, { shape: [k, n] }), np.array((bias ?? new Float32Array(n)) as Float32Array<ArrayBuffer>)).data()) as Float32Array;
      const err = maxRelErr(got, reference(a, b, m, k, n, aT, bias), k);
      assert.ok(err < 1e-6, `error ${err}`);
    });
  }

  it("an elementwise A side fused into the reduction: dW of Σ g ⊙ (xW)² (jax-js fuses 2z ⊙ g into xᵀ(…))", async () => {
    const [n, din, h] = [300, 20, 16];
    const x = host(n * din, 21);
    const w = host(din * h, 22).map((v) => v * 0.3);
    const g = host(n * h, 23);
    const f = jit(grad((wt: Array, xx: Array, gg: Array) => np.square(np.matmul(xx, wt)).mul(gg).sum(), { argnums: 0 }) as never) as unknown as (w: Array, x: Array, g: Array) => Array;
    const got = (await f(np.array(w, { shape: [din, h] }), np.array(x, { shape: [n, din] }), np.array(g, { shape: [n, h] })).data()) as Float32Array;
    // reference: dW = xᵀ (2 z ⊙ g), z = x W
    const want = new Float64Array(din * h);
    for (let r = 0; r < n; r++)
      for (let c = 0; c < h; c++) {
        let z = 0;
        for (let t = 0; t < din; t++) z += x[r * din + t] * w[t * h + c];
        const d = 2 * z * g[r * h + c];
        for (let t = 0; t < din; t++) want[t * h + c] += x[r * din + t] * d;
      }
    let err = 0;
    for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i] - want[i]) / n);
    assert.ok(err < 1e-5, `error ${err}`);
  });

  for (const [name, m, k, n, withBias] of [["B transposed (x Wᵀ), W1 logits 4704×256 → 100 + bias", 4704, 256, 100, true], ["B transposed, K % 4 = 3, N odd, rows < 4", 3, 11, 7, true], ["B transposed, 9×40×13", 9, 40, 13, false]] as [string, number, number, number, boolean][]) {
    it(name, async () => {
      const a = host(m * k, 31 + m);
      const bt = host(n * k, 32 + n);
      const bias = withBias ? host(n, 33) : new Float32Array(n);
      const f = jit((x: Array, w: Array, c: Array) => np.matmul(x, w.transpose()).add(c));
      const got = (await f(np.array(a, { shape: [m, k] }), np.array(bt, { shape: [n, k] }), np.array(bias)).data()) as Float32Array;
      const b = new Float32Array(k * n).map((_, i) => bt[(i % n) * k + Math.floor(i / n)]);
      assert.ok(maxRelErr(got, reference(a, b, m, k, n, false, bias), k) < 1e-6, "maxRelErr(got, reference(a, b, m, k, n, false, bias), k) < 1e-6");
    });
  }

  it("batched and broadcast operands stay correct", async () => {
    const [bt, m, k, n] = [3, 6, 10, 16];
    const a = host(bt * m * k, 5);
    const b = host(bt * k * n, 6);
    const got = (await jit((x: Array, w: Array) => np.matmul(x, w))(np.array(a, { shape: [bt, m, k] }), np.array(b, { shape: [bt, k, n] })).data()) as Float32Array;
    for (let t = 0; t < bt; t++) {
      const want = reference(a.subarray(t * m * k, (t + 1) * m * k), b.subarray(t * k * n, (t + 1) * k * n), m, k, n, false);
      assert.ok(maxRelErr(got.subarray(t * m * n, (t + 1) * m * n), want, k) < 1e-6, `batch ${t}`);
    }
    const w1 = host(k * n, 9);
    const got2 = (await jit((x: Array, w: Array) => np.matmul(np.broadcastTo(x, [m, k]), w))(np.array(a.slice(0, k), { shape: [1, k] }), np.array(w1, { shape: [k, n] })).data()) as Float32Array;
    const want2 = reference(new Float32Array(m * k).map((_, i) => a[i % k]), w1, m, k, n, false);
    assert.ok(maxRelErr(got2, want2, k) < 1e-6, "maxRelErr(got2, want2, k) < 1e-6");
  });

  it("a ReLU mask fused into A (Where(mask, 0, g)ᵀ x: the dW₁ of a ReLU layer's Hessian-vector product)", async () => {
    const [n, din, h] = [300, 20, 16];
    const x = host(n * din, 41);
    const g = host(n * h, 42);
    const maskBits = Int32Array.from({ length: n * h }, (_, i) => (Math.sin(7 * i) > 0.2 ? 1 : 0));
    const f = jit((gg: Array, mb: Array, xx: Array) => np.matmul(np.where(mb.astype("bool" as never), 0, gg).transpose(), xx));
    const got = (await f(np.array(g, { shape: [n, h] }), np.array(maskBits, { shape: [n, h], dtype: "int32" as never }), np.array(x, { shape: [n, din] })).data()) as Float32Array;
    const want = new Float64Array(h * din);
    for (let r = 0; r < n; r++) for (let c = 0; c < h; c++) if (!maskBits[r * h + c]) for (let t = 0; t < din; t++) want[c * din + t] += g[r * h + c] * x[r * din + t];
    assert.ok(maxRelErr(got, want, n) < 1e-6, `error ${maxRelErr(got, want, n)}`);
  });

  it("an epilogue adding a full matrix and a bias row (x·W + D + b, as in a Hessian-vector product's forward)", async () => {
    const [m, k, n] = [37, 24, 20];
    const a = host(m * k, 51);
    const b = host(k * n, 52);
    const d = host(m * n, 53);
    const bias = host(n, 54);
    const f = jit((xx: Array, w: Array, dd: Array, c: Array) => np.matmul(xx, w).add(dd).add(c));
    const got = (await f(np.array(a, { shape: [m, k] }), np.array(b, { shape: [k, n] }), np.array(d, { shape: [m, n] }), np.array(bias)).data()) as Float32Array;
    const want = reference(a, b, m, k, n, false, bias).map((v, i) => v + d[i]);
    assert.ok(maxRelErr(got, want, k) < 1e-6, `error ${maxRelErr(got, want, k)}`);
  });

  it("an elementwise epilogue: ReLU(x·W + b) and Where(x·W < b, x·W, 2b) (an inference forward pass)", async () => {
    const [m, k, n] = [33, 40, 24];
    const a = host(m * k, 61);
    const b = host(k * n, 62);
    const bias = host(n, 63);
    const relu = jit((xx: Array, w: Array, c: Array) => np.maximum(np.matmul(xx, w).add(c), 0));
    const got = (await relu(np.array(a, { shape: [m, k] }), np.array(b, { shape: [k, n] }), np.array(bias)).data()) as Float32Array;
    const want = reference(a, b, m, k, n, false, bias).map((v) => Math.max(v, 0));
    assert.ok(maxRelErr(got, want, k) < 1e-6, `ReLU: error ${maxRelErr(got, want, k)}`);
    const sel = jit((xx: Array, w: Array, c: Array) => {
      const z = np.matmul(xx, w);
      return np.where(z.ref.less(c.ref), z, c.mul(2));
    });
    const got2 = (await sel(np.array(a, { shape: [m, k] }), np.array(b, { shape: [k, n] }), np.array(bias)).data()) as Float32Array;
    const want2 = reference(a, b, m, k, n, false).map((v, i) => (v < bias[i % n] ? v : 2 * bias[i % n]));
    assert.ok(maxRelErr(got2, want2, k) < 1e-6, `Where: error ${maxRelErr(got2, want2, k)}`);
  });

  // B at least 512 floats wide is packed into k-major strips of 8 columns before the 4 × 8 blocks read it
  // (the patch's genlabMatmulPacking): each element must still be one sequential float32 sum over k, the
  // bits of the host loop below. The cases cross the packed and in-place parts: a last strip of 4 columns,
  // rows past the last 4-row block, A transposed, a bias, several K blocks and a short last one.
  for (const [name, m, k, n, aT, withBias] of [
    ["packed B: 29×100×516 + bias (N % 8 = 4, 1 trailing row)", 29, 100, 516, false, true],
    ["packed B: A transposed, 40×70×520", 40, 70, 520, true, false],
    ["packed B: 12×700×1024, 11 K blocks, the last one short", 12, 700, 1024, false, false],
  ] as [string, number, number, number, boolean, boolean][]) {
    it(`${name}: the sequential float32 sum's bits`, async () => {
      if (BACKEND.name === "native") return; // the addon's GEMM, not the Wasm kernel, runs these there
      const a = host(m * k, m + 5 * k);
      const b = host(k * n, n + 3);
      const bias = withBias ? host(n, 17) : new Float32Array(n);
      const f = jit((x: Array, w: Array, c: Array) => {
        const y = np.matmul(aT ? x.reshape([k, m]).transpose() : x.reshape([m, k]), w);
        return withBias ? y.add(c) : (c.dispose(), y);
      });
      const got = (await f(np.array(a), np.array(b, { shape: [k, n] }), np.array(bias)).data()) as Float32Array;
      let wrong = 0;
      let first = "";
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let r = 0; r < k; r++) s = Math.fround(s + Math.fround((aT ? a[r * m + i] : a[i * k + r]) * b[r * n + j]));
          if (withBias) s = Math.fround(s + bias[j]);
          if (!Object.is(got[i * n + j], s)) {
            if (!wrong) first = `C[${i}, ${j}] = ${got[i * n + j]}, want ${s}`;
            wrong++;
          }
        }
      assert.equal(wrong, 0, `${wrong} of ${m * n} elements differ from the sequential sum; first: ${first}`);
    });
  }

  // ReLU(x·W + b), an MLP's forward pass: on Wasm the kernels apply f32x4.max(·, 0) after the bias (jax-js's
  // own f32.max); the bits of the sequential float32 sum, + b, then max with 0, NaN kept (a NaN in row 3).
  // x·Wᵀ's kernel keeps 4 partial sums (patches/README.md) and native GEMMs block k: within 1e-5 there,
  // never below 0, NaN where the row has one.
  for (const bt of [false, true]) {
    it(`ReLU(x·W${bt ? "ᵀ" : ""} + b): the bits of the sequential sum, the bias, then max(·, 0)`, async () => {
      const [m, k, n] = [29, 33, 24];
      const a = host(m * k, 41);
      a[3 * k + 5] = NaN;
      const w = host(k * n, 43);
      const bias = host(n, 47);
      const f = jit((x: Array, ww: Array, c: Array) => np.maximum(np.matmul(x, bt ? ww.reshape([n, k]).transpose() : ww.reshape([k, n])).add(c), 0));
      const got = (await f(np.array(a, { shape: [m, k] }), np.array(w), np.array(bias)).data()) as Float32Array;
      const exact = !bt && BACKEND.name !== "native";
      const close = (v: number, want: number) => (Number.isNaN(want) ? Number.isNaN(v) : v >= 0 && Math.abs(v - want) <= 1e-5 * (1 + Math.abs(want)));
      const bad = sequentialMismatches(got, a, w, [m, k, n], bt, (s, _i, j) => Math.max(Math.fround(s + bias[j]), 0), exact ? undefined : close);
      assert.equal(bad, "", bad);
    });
  }

  // Up to 3 epilogue terms on the Wasm kernels, in the chain's order: ((x·W + D) + b) + c[i], a full matrix,
  // a bias row and a column (the forward of a Hessian-vector product). Bits of the host's sequential sum
  // then the three additions (x·Wᵀ and native: within 1e-5, see above).
  for (const bt of [false, true]) {
    it(`x·W${bt ? "ᵀ" : ""} + D + b + c[i]: three epilogue terms added in order`, async () => {
      const [m, k, n] = [21, 19, 28];
      const a = host(m * k, 51), w = host(k * n, 53), d = host(m * n, 57), bias = host(n, 59), col = host(m, 61);
      const f = jit((x: Array, ww: Array, dd: Array, b: Array, c: Array) => np.matmul(x, bt ? ww.reshape([n, k]).transpose() : ww.reshape([k, n])).add(dd).add(b).add(c.reshape([m, 1])));
      const got = (await f(np.array(a, { shape: [m, k] }), np.array(w), np.array(d, { shape: [m, n] }), np.array(bias), np.array(col)).data()) as Float32Array;
      const close = !bt && BACKEND.name !== "native" ? undefined : (v: number, want: number) => Math.abs(v - want) <= 1e-5 * (1 + Math.abs(want));
      const bad = sequentialMismatches(got, a, w, [m, k, n], bt, (s, i, j) => Math.fround(Math.fround(Math.fround(s + d[i * n + j]) + bias[j]) + col[i]), close);
      assert.equal(bad, "", bad);
    });
  }

  // K ≥ 1024 packs too, and then A's 4-row strips are evaluated once into the scratch buffer (a fused A
  // expression included): Where(mask, 0, g)ᵀ · x over k = 1,100 rows, the bits of the host's sequential sum.
  it("a fused A expression packed once per 4 rows (K = 1,100): the sequential float32 sum's bits", async () => {
    const [n, h, din] = [1100, 23, 20];
    const g = host(n * h, 71), x = host(n * din, 73);
    const maskBits = Int32Array.from(host(n * h, 79), (v) => (v < 0 ? 1 : 0));
    const f = jit((gg: Array, mb: Array, xx: Array) => np.matmul(np.where(mb.astype("bool" as never), 0, gg).transpose(), xx));
    const got = (await f(np.array(g, { shape: [n, h] }), np.array(maskBits, { shape: [n, h], dtype: "int32" as never }), np.array(x, { shape: [n, din] })).data()) as Float32Array;
    let wrong = 0;
    for (let i = 0; i < h; i++)
      for (let j = 0; j < din; j++) {
        let s = 0;
        for (let r = 0; r < n; r++) s = Math.fround(s + Math.fround((maskBits[r * h + i] ? 0 : g[r * h + i]) * x[r * din + j]));
        const ok = BACKEND.name === "native" ? Math.abs(got[i * din + j] - s) <= 1e-4 : Object.is(got[i * din + j], s);
        if (!ok) wrong++;
      }
    assert.equal(wrong, 0, `${wrong} of ${h * din} elements differ from the sequential sum`);
  });

  // Batched products (attention's Q·Kᵀ, P·V and their gradients) run as one kernel with a loop over the
  // matrices (genlabMatmulPlanBatched): per-batch operand offsets on up to two batch axes, A or B
  // transposed, a broadcast operand; layouts it cannot map (strided rows) stay on jax-js's kernel.
  // Each case against float64 on the host; `plan` says whether the batched plan should take it.
  type Batched = { name: string; shapeA: number[]; shapeB: number[]; f: (x: Array, y: Array) => Array; want: (a: Float32Array, b: Float32Array) => Float64Array };
  const bmm = (nb: number, m: number, k: number, n: number, A: (q: number, i: number, r: number) => number, B: (q: number, r: number, j: number) => number) => {
    const c = new Float64Array(nb * m * n);
    for (let q = 0; q < nb; q++) for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let r = 0; r < k; r++) s += A(q, i, r) * B(q, r, j);
      c[(q * m + i) * n + j] = s;
    }
    return c;
  };
  const batched: Batched[] = [
    { name: "A·B, 6 matrices of 13×7 · 7×12 (N % 8 = 4, rows past the last 4-row block)", shapeA: [6, 13, 7], shapeB: [6, 7, 12], f: (x, y) => np.matmul(x, y), want: (a, b) => bmm(6, 13, 7, 12, (q, i, r) => a[(q * 13 + i) * 7 + r], (q, r, j) => b[(q * 7 + r) * 12 + j]) },
    { name: "Q·Kᵀ over batch × heads (3 × 4 of 9×16 · (10×16)ᵀ)", shapeA: [3, 4, 9, 16], shapeB: [3, 4, 10, 16], f: (x, y) => np.matmul(x, y.transpose([0, 1, 3, 2])), want: (a, b) => bmm(12, 9, 16, 10, (q, i, r) => a[(q * 9 + i) * 16 + r], (q, r, j) => b[(q * 10 + j) * 16 + r]) },
    { name: "Q·Kᵀ with K % 4 = 3 (5 of 6×7 · (4×7)ᵀ)", shapeA: [5, 6, 7], shapeB: [5, 4, 7], f: (x, y) => np.matmul(x, y.transpose([0, 2, 1])), want: (a, b) => bmm(5, 6, 7, 4, (q, i, r) => a[(q * 6 + i) * 7 + r], (q, r, j) => b[(q * 4 + j) * 7 + r]) },
    { name: "one column a matrix (5 of 6×7 · (1×7)ᵀ; left to jax-js)", shapeA: [5, 6, 7], shapeB: [5, 1, 7], f: (x, y) => np.matmul(x, y.transpose([0, 2, 1])), want: (a, b) => bmm(5, 6, 7, 1, (q, i, r) => a[(q * 6 + i) * 7 + r], (q, r) => b[q * 7 + r]) },
    { name: "two batch axes with their own strides (A's axes swapped: 2 × 3 of 5×8 · 8×12)", shapeA: [3, 2, 5, 8], shapeB: [2, 3, 8, 12], f: (x, y) => np.matmul(x.transpose([1, 0, 2, 3]), y), want: (a, b) => bmm(6, 5, 8, 12, (q, i, r) => a[(((q % 3) * 2 + Math.floor(q / 3)) * 5 + i) * 8 + r], (q, r, j) => b[(q * 8 + r) * 12 + j]) },
    { name: "Aᵀ·B per matrix (dW of a batched product: 4 of (11×6)ᵀ · 11×8)", shapeA: [4, 11, 6], shapeB: [4, 11, 8], f: (x, y) => np.matmul(x.transpose([0, 2, 1]), y), want: (a, b) => bmm(4, 6, 11, 8, (q, i, r) => a[(q * 11 + r) * 6 + i], (q, r, j) => b[(q * 11 + r) * 8 + j]) },
    // (np.broadcastTo: jax-js's np.matmul of a [8, 5] and a [7, 5, 16] returns [8, 7, 16], not NumPy's [7, 8, 16])
    { name: "A broadcast over the batch (8×5 · 7 of 5×16)", shapeA: [8, 5], shapeB: [7, 5, 16], f: (x, y) => np.matmul(np.broadcastTo(x, [7, 8, 5]), y), want: (a, b) => bmm(7, 8, 5, 16, (_q, i, r) => a[i * 5 + r], (q, r, j) => b[(q * 5 + r) * 16 + j]) },
    { name: "heads strided in the rows ([B, T, H, d] → [B, H, T, d]; left to jax-js)", shapeA: [2, 9, 3, 8], shapeB: [2, 3, 8, 12], f: (x, y) => np.matmul(x.transpose([0, 2, 1, 3]), y), want: (a, b) => bmm(6, 9, 8, 12, (q, i, r) => a[((Math.floor(q / 3) * 9 + i) * 3 + (q % 3)) * 8 + r], (q, r, j) => b[(q * 8 + r) * 12 + j]) },
  ];
  for (const c of batched) {
    it(`batched: ${c.name}`, async () => {
      const size = (sh: number[]) => sh.reduce((x, y) => x * y, 1);
      const a = host(size(c.shapeA), 7 + c.shapeA.length);
      const b = host(size(c.shapeB), 13 + c.shapeB.length);
      const got = (await jit(c.f)(np.array(a, { shape: c.shapeA }), np.array(b, { shape: c.shapeB })).data()) as Float32Array;
      const want = c.want(a, b);
      assert.equal(got.length, want.length, "output size");
      const k = c.shapeA[c.shapeA.length - 1];
      assert.ok(maxRelErr(got, want, k) < 1e-6, `error ${maxRelErr(got, want, k)}`);
    });
  }
  it("batched: the gradient of softmax(Q·Kᵀ)·V with respect to Q, K and V (the attention backward's batched products)", async () => {
    const [nb, t, d] = [6, 10, 8];
    const q = host(nb * t * d, 3), k = host(nb * t * d, 5), v = host(nb * t * d, 9);
    const loss = (qq: Array, kk: Array, vv: Array) => {
      const att = nn.softmax(np.matmul(qq, kk.transpose([0, 2, 1])).mul(0.5), -1);
      return np.square(np.matmul(att, vv)).sum();
    };
    const gf = jit(grad(loss, { argnums: [0, 1, 2] }) as never) as unknown as (a: Array, b: Array, c: Array) => Array[];
    const outs = gf(np.array(q, { shape: [nb, t, d] }), np.array(k, { shape: [nb, t, d] }), np.array(v, { shape: [nb, t, d] }));
    const g = (await Promise.all(outs.map((x) => x.data()))) as Float32Array[];
    // float64 on the host: forward, then the backward by hand
    const gq = new Float64Array(nb * t * d), gk = new Float64Array(nb * t * d), gv = new Float64Array(nb * t * d);
    for (let b = 0; b < nb; b++) {
      const o = b * t * d;
      const P: number[][] = [];
      for (let i = 0; i < t; i++) {
        const s = globalThis.Array.from({ length: t }, (_, j) => 0.5 * globalThis.Array.from({ length: d }, (_, r) => q[o + i * d + r] * k[o + j * d + r]).reduce((x, y) => x + y, 0));
        const mx = Math.max(...s);
        const e = s.map((x) => Math.exp(x - mx));
        const z = e.reduce((x, y) => x + y, 0);
        P.push(e.map((x) => x / z));
      }
      const Y = P.map((row) => globalThis.Array.from({ length: d }, (_, r) => row.reduce((acc, p, j) => acc + p * v[o + j * d + r], 0)));
      const dY = Y.map((row) => row.map((y) => 2 * y));
      for (let j = 0; j < t; j++) for (let r = 0; r < d; r++) gv[o + j * d + r] = P.reduce((acc, row, i) => acc + row[j] * dY[i][r], 0);
      for (let i = 0; i < t; i++) {
        const dP = globalThis.Array.from({ length: t }, (_, j) => dY[i].reduce((acc, y, r) => acc + y * v[o + j * d + r], 0));
        const dot = P[i].reduce((acc, p, j) => acc + p * dP[j], 0);
        const dS = P[i].map((p, j) => 0.5 * p * (dP[j] - dot));
        for (let r = 0; r < d; r++) gq[o + i * d + r] = dS.reduce((acc, x, j) => acc + x * k[o + j * d + r], 0);
        for (let j = 0; j < t; j++) for (let r = 0; r < d; r++) gk[o + j * d + r] += dS[j] * q[o + i * d + r];
      }
    }
    for (const [name, got, want] of [["dQ", g[0], gq], ["dK", g[1], gk], ["dV", g[2], gv]] as [string, Float32Array, Float64Array][]) {
      let e = 0;
      for (let i = 0; i < want.length; i++) e = Math.max(e, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
      assert.ok(e < 1e-5, `${name}: error ${e}`);
    }
  });

  // On the native backend JAX_THREADS sets OpenBLAS's threads, whose split changes round-off: there the
  // promise is the same bits for the same thread count (test/native.test.ts).
  it("gives the same bits with the 2-thread worker pool as on one thread", { skip: BACKEND.name === "native" ? "native: OpenBLAS's thread split changes round-off" : false }, () => {
    const run = (threads: string) => spawnSync(process.execPath, ["--import", "tsx", "test/util/matmulHash.ts"], { cwd: ROOT, encoding: "utf8", env: { ...process.env, JAX_THREADS: threads } });
    const [one, two] = [run("0"), run("2")];
    assert.equal(one.status, 0, one.stderr);
    assert.equal(two.status, 0, two.stderr);
    assert.equal(two.stdout, one.stdout);
  });
});

// Reciprocal, Exp and Log in jax-js's SIMD path (the same patch): the scalar code's operations lane for
// lane, so the same bits as the scalar kernels they replace (GENLAB_JAX_SIMD_TRANSCENDENTAL=0 keeps
// those), on ordinary values and on every special case of the scalar code.
describe("SIMD Exp, Log and Reciprocal", () => {
  it("give the scalar kernels' bits, special values included", () => {
    const run = (simd: string) =>
      spawnSync(process.execPath, ["--import", "tsx", "test/util/transcendentalBits.ts"], { cwd: ROOT, encoding: "utf8", env: { ...process.env, GENLAB_JAX_SIMD_TRANSCENDENTAL: simd } });
    const [simd, scalar] = [run("1"), run("0")];
    assert.equal(simd.status, 0, simd.stderr);
    assert.equal(scalar.status, 0, scalar.stderr);
    const a = JSON.parse(simd.stdout) as Record<string, number[]>;
    const b = JSON.parse(scalar.stdout) as Record<string, number[]>;
    for (const k of ["exp", "log", "reciprocal", "softmax"]) {
      assert.equal(a[k].length, b[k].length, k);
      const diff = a[k].findIndex((v, i) => v !== b[k][i]);
      assert.equal(diff, -1, `${k}: first differing bits at input ${diff} (simd ${a[k][diff]} vs scalar ${b[k][diff]})`);
    }
    assert.ok(a.exp.length > 4000, "many inputs");
  });
});

describe("jax-js codegen patches: SIMD tail, hoisted invariants", () => {
  it("elementwise kernels of any size (SIMD over the 4-aligned part, scalar tail) give exact float32 results", async () => {
    for (const n of [1, 3, 5, 4097, 4098, 4099, 4100]) {
      const x = host(n, n);
      const got = (await jit((v: Array) => v.ref.mul(2).add(1).mul(v))(np.array(x)).data()) as Float32Array;
      const want = Float32Array.from(x, (v) => Math.fround(Math.fround(Math.fround(v * 2) + 1) * v));
      assert.deepEqual([...new Uint32Array(got.buffer)], [...new Uint32Array(want.buffer)], `n = ${n}`);
    }
    // exp of an odd-sized array: the same bits as the same values inside a multiple-of-4 array
    const x = host(4099, 7);
    const odd = (await jit((v: Array) => np.exp(v))(np.array(x)).data()) as Float32Array;
    const padded = (await jit((v: Array) => np.exp(v))(np.array(Float32Array.from({ length: 4100 }, (_, i) => x[i] ?? 0))).data()) as Float32Array;
    assert.deepEqual([...new Uint32Array(odd.buffer)], [...new Uint32Array(padded.buffer, 0, 4099)]);
  });

  it("a reduction with a log broadcast along the reduced axis (a log-softmax against one-hot) sums in order, log once per row", async () => {
    const [m, k] = [37, 13];
    const a = host(m * k, 3);
    const b = Float32Array.from(host(m, 4), (v) => 1.5 + v);
    const c = host(m * k, 5);
    const logs = (await jit((v: Array) => np.log(v))(np.array(b)).data()) as Float32Array;
    const f = jit((aa: Array, bb: Array, cc: Array) => aa.add(np.log(bb).reshape([m, 1]).neg()).mul(cc).sum(-1));
    const got = (await f(np.array(a, { shape: [m, k] }), np.array(b), np.array(c, { shape: [m, k] })).data()) as Float32Array;
    const want = new Float32Array(m);
    for (let i = 0; i < m; i++) {
      let acc = 0;
      for (let j = 0; j < k; j++) acc = Math.fround(acc + Math.fround(Math.fround(a[i * k + j] + Math.fround(0 - logs[i])) * c[i * k + j]));
      want[i] = acc;
    }
    assert.deepEqual([...new Uint32Array(got.buffer)], [...new Uint32Array(want.buffer)]);
  });
});

describe("patched jax-js Scatter (the gradient of take(table, ids, 0))", () => {
  it("adds whole rows in update order: the bits of a sequential float32 sum, repeated and out-of-order ids included", async () => {
    const V = 13, D = 6, n = 40;
    const t = host(V * D, 5);
    const w = host(n * D, 9);
    const ids = Int32Array.from({ length: n }, (_, i) => (i * 7 + (i % 3)) % V);
    const f = (table: Array, idx: Array, g: Array) => np.take(table, idx, 0).mul(g).sum();
    const got = await grad(f)(np.array(t, { shape: [V, D] }), np.array(ids, { shape: [n], dtype: np.int32 }), np.array(w, { shape: [n, D] })).data();
    const want = new Float32Array(V * D);
    for (let r = 0; r < n; r++) for (let c = 0; c < D; c++) want[ids[r] * D + c] = Math.fround(want[ids[r] * D + c] + w[r * D + c]);
    assert.deepEqual([...new Uint32Array(got.buffer)], [...new Uint32Array(want.buffer)], "bit-identical to the sequential sum");
  });

  it("runs under jit when its inputs are views (ids reshaped, updates broadcast by a sum): the k-hot dense layer", async () => {
    const t = host(8 * 4, 7);
    const ids = Int32Array.from([0, 5, 3, 5, 1, 6]);
    const f = (table: Array, idx: Array) => { const h = np.take(table, idx.reshape([6]), 0).reshape([3, 2, 4]).sum(1); return h.ref.mul(h).sum(); };
    const got = await jit(grad(f))(np.array(t, { shape: [8, 4] }), np.array(ids, { shape: [3, 2], dtype: np.int32 })).data();
    const want = new Float32Array(32);
    for (let r = 0; r < 3; r++)
      for (let c = 0; c < 4; c++) {
        const h = Math.fround(t[ids[2 * r] * 4 + c] + t[ids[2 * r + 1] * 4 + c]);
        for (const j of [ids[2 * r], ids[2 * r + 1]]) want[j * 4 + c] = Math.fround(want[j * 4 + c] + Math.fround(2 * h));
      }
    assert.deepEqual([...new Uint32Array(got.buffer)], [...new Uint32Array(want.buffer)], "the gradient of Σ (W[a] + W[b])², bit for bit");
  });

  it("a hotInput MLP gives the one-hot MLP's forward bits; an int32 input without hotInput (or floats with it) is refused", async () => {
    const spec = mlpSpec({ dims: [16, 12, 5], activation: "square", bias: false });
    const params = initMlp(spec, keyFromSeed(3));
    const ids = Int32Array.from([0, 8 + 3, 5, 8 + 5, 7, 8 + 0]);
    const onehot = new Float32Array(3 * 16);
    for (let r = 0; r < 3; r++) for (const j of [ids[2 * r], ids[2 * r + 1]]) onehot[r * 16 + j] = 1;
    const dense = await applyMlp(spec, treeRef(params), np.array(onehot, { shape: [3, 16] })).data();
    const hot = await applyMlp({ ...spec, hotInput: true }, treeRef(params), np.array(ids, { shape: [3, 2], dtype: np.int32 })).data();
    assert.deepEqual([...new Uint32Array(hot.buffer)], [...new Uint32Array(dense.buffer)]);
    assert.throws(() => applyMlp(spec, treeRef(params), np.array(ids, { shape: [3, 2], dtype: np.int32 })), /needs hotInput/);
    assert.throws(() => applyMlp({ ...spec, hotInput: true }, treeRef(params), np.array(onehot, { shape: [3, 16] })), /takes int32 positions/);
    treeDispose(params);
  });

  it("ids that are a slice of a larger array (a pooled buffer longer than the ids): only the slice's rows are added (float64 on the CPU backend too)", async () => {
    const all = Int32Array.from([1, 2, 6, 3, 0, 6, 5, 5, 6]);
    const want = globalThis.Array.from({ length: 28 }, (_, i) => [1, 2, 6].filter((r) => r === Math.floor(i / 4)).length);
    // the first row: a prefix of the ids' buffer, which jax-js hands to the routine whole
    const f = (table: Array, idx: Array) => np.take(table, idx.slice([0, 1]).reshape([3]), 0).sum();
    const run = async (t: Array) => [...(await grad(f)(t, np.array(all, { shape: [3, 3], dtype: np.int32 })).data())];
    assert.deepEqual(await run(np.array(host(7 * 4, 11), { shape: [7, 4] })), want, "float32: rows 1, 2 and 6 counted once each");
    const f64 = await onCpu(() => run(np.array(Float64Array.from(host(7 * 4, 11)), { shape: [7, 4], dtype: np.float64 })));
    assert.deepEqual(f64, want, "float64 on the CPU backend");
  });

  it("a scatter it does not claim (ids of shape [n, 2] into a 3-D table's middle axis) keeps jax-js's loop", async () => {
    const t = host(2 * 5 * 3, 3);
    const ids = Int32Array.from([0, 4, 4, 1, 2, 2]);
    const f = (table: Array, idx: Array) => np.take(table, idx, 1).sum();
    const got = await grad(f)(np.array(t, { shape: [2, 5, 3] }), np.array(ids, { shape: [3, 2], dtype: np.int32 })).data();
    const counts = [1, 1, 2, 0, 2];
    const want = Float32Array.from({ length: 30 }, (_, i) => counts[Math.floor(i / 3) % 5]);
    assert.deepEqual([...got], [...want], "each row counted as often as it was taken");
  });
});
