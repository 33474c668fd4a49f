// The jax-js patch keeps each kernel object's prepared executable and runs a jitted program as one pending
// unit (patches/README.md, "Prepared kernels kept" and "A jitted run pending as one unit"): repeated calls skip
// hashing and cache lookups, and a run's temporaries live only while it is submitted. These tests guard both:
// every call of a jitted function, read by data() or dataSync(), with eager work between, gives its own
// inputs' answer; outputs read in any order, passed through, literal, or disposed unread, leak no buffer.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { jit, numpy as np } from "@jax-js/jax";
import { initDevices } from "../src/core/jax.ts";

await initDevices();

const dist = dirname(createRequire(import.meta.url).resolve("@jax-js/jax"));
const chunk = (await import(join(dist, "backend-CnjgxpXq.js"))) as { s: () => { genlabLiveSlots(): number } };
const liveSlots = () => chunk.s().genlabLiveSlots();

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-4, `${what}: ${a} vs ${b}`);

const matmulHost = (x: number[], w: number[], n: number, k: number, m: number) =>
  Array.from({ length: n * m }, (_, idx) => {
    const i = Math.floor(idx / m);
    const j = idx % m;
    let s = 0;
    for (let t = 0; t < k; t++) s += x[i * k + t] * w[t * m + j];
    return s;
  });
const host = (x: number[], w: number[], n: number, k: number, m: number) => matmulHost(x, w, n, k, m).map((s) => Math.max(s + 1, 0));

describe("jax-js's prepared-kernel cache (patched)", () => {
  it("is the patched backend", () => {
    assert.ok(readFileSync(join(dist, "backend-CnjgxpXq.js"), "utf8").includes("genlabCachedExecutable"), "the executable cache is not patched in: run npm install");
  });

  it("each call of a jitted function computes its own inputs, through data() and dataSync(), with eager ops between", async () => {
    const [n, k, m] = [5, 7, 3];
    const f = jit((x: np.Array, w: np.Array) => np.maximum(np.matmul(x, w).add(1), 0)) as unknown as ((x: np.Array, w: np.Array) => np.Array) & { dispose(): void };
    const w = Array.from({ length: k * m }, (_, i) => Math.sin(i + 1));
    const W = np.array(Float32Array.from(w), { shape: [k, m] });
    try {
      for (let call = 0; call < 6; call++) {
        const x = Array.from({ length: n * k }, (_, i) => Math.cos(i * (call + 1)) * (call - 2));
        const out = f(np.array(Float32Array.from(x), { shape: [n, k] }), W.ref);
        const got = Array.from(call % 2 ? out.dataSync() : await out.data());
        const want = host(x, w, n, k, m);
        got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-4, `call ${call}, element ${i}: ${v} vs ${want[i]}`));
        // an eager op between calls: a new kernel object, prepared on its own
        const e = np.array(Float32Array.from(x), { shape: [n, k] }).mul(call).sum();
        assert.ok(Math.abs((await e.data())[0] - x.reduce((a, b) => a + b, 0) * call) < 1e-3, `eager sum after call ${call}`);
      }
    } finally {
      W.dispose();
      f.dispose();
    }
  });

  it("a jitted run's outputs (computed, passed through, literal) read in any order or disposed unread: right values, no buffer left behind", async () => {
    const f = jit((x: np.Array, w: np.Array) => {
      const h = np.maximum(np.matmul(x.ref, w.ref), 0); // a temporary
      return [h.ref.sum(), h.mul(2), x, np.ones([2]), w.mul(0).add(3)];
    }) as unknown as ((x: np.Array, w: np.Array) => np.Array[]) & { dispose(): void };
    const x = [1, -2, 3, 0.5, 2, -1];
    const w = [0.5, -1, 2, 1, -0.5, 0.25];
    const mk = () => [np.array(Float32Array.from(x), { shape: [2, 3] }), np.array(Float32Array.from(w), { shape: [3, 2] })];
    const h = matmulHost(x, w, 2, 3, 2).map((v) => Math.max(v, 0)); // relu(xw)
    const sum = h.reduce((a, b) => a + b, 0);
    try {
      const warm = f(...(mk() as [np.Array, np.Array]));
      for (const o of warm) o.dispose(); // never submitted: its inputs and outputs are released
      const before = liveSlots();
      for (let call = 0; call < 40; call++) {
        const [s, h2, xs, ones, threes] = f(...(mk() as [np.Array, np.Array]));
        if (call % 4 === 0) {
          for (const o of [s, h2, xs, ones, threes]) o.dispose();
          continue;
        }
        if (call % 4 === 1) {
          close((await s.data())[0], sum, `call ${call}: sum`);
          h2.dispose();
        } else {
          (call % 4 === 2 ? h2.dataSync() : await h2.data()).forEach((v, i) => close(v, 2 * h[i], `call ${call}: 2h[${i}]`));
          close(s.dataSync()[0], sum, `call ${call}: sum after 2h`);
        }
        assert.deepEqual([...(await xs.data())], [...Float32Array.from(x)], `call ${call}: x passed through`);
        assert.deepEqual([...ones.dataSync()], [1, 1], `call ${call}: literal ones`);
        assert.deepEqual([...(await threes.data())], [3, 3, 3, 3, 3, 3], `call ${call}: w·0 + 3`);
      }
      assert.equal(liveSlots(), before, "live buffers after 40 calls: every output read or disposed, every run's temporaries freed");
    } finally {
      f.dispose();
    }
  });

  it("a gather whose array and indices are outputs of one run, disposed unread, releases the run (it was counted twice)", () => {
    const f = jit((x: np.Array) => [x.ref.mul(2), x.astype(np.int32)]) as unknown as ((x: np.Array) => np.Array[]) & { dispose(): void };
    try {
      f(np.array(Float32Array.from([3, 1, 2, 0]), { shape: [4] })).forEach((o) => o.dispose());
      const before = liveSlots();
      for (let i = 0; i < 10; i++) {
        const [a, idx] = f(np.array(Float32Array.from([3, 1, 2, 0]), { shape: [4] }));
        np.take(a, idx, 0).dispose();
      }
      assert.equal(liveSlots(), before, "live buffers after 10 unread gathers");
      const [a, idx] = f(np.array(Float32Array.from([3, 1, 2, 0]), { shape: [4] }));
      assert.deepEqual([...np.take(a, idx, 0).dataSync()], [0, 2, 4, 6], "the gather's values");
    } finally {
      f.dispose();
    }
  });
  it("a matmul that packs B into a scratch buffer (B ≥ 512 wide) frees it after every call, read or not", async () => {
    const f = jit((x: np.Array, w: np.Array) => np.matmul(x, w)) as unknown as ((x: np.Array, w: np.Array) => np.Array) & { dispose(): void };
    const W = np.array(new Float32Array(16 * 600).fill(0.5), { shape: [16, 600] });
    try {
      const x = () => np.array(new Float32Array(24 * 16).fill(1), { shape: [24, 16] });
      f(x(), W.ref).dispose();
      const before = liveSlots();
      for (let call = 0; call < 12; call++) {
        const y = f(x(), W.ref);
        if (call % 3 === 0) y.dispose();
        else assert.equal((call % 3 === 1 ? y.dataSync() : await y.data())[599], 8, `call ${call}: Σ 16 × 0.5`);
      }
      assert.equal(liveSlots(), before, "live buffers after 12 packed matmuls");
    } finally {
      W.dispose();
      f.dispose();
    }
  });
});
