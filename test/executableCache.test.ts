// The jax-js patch keeps each kernel object's prepared executable (patches/README.md, "Prepared kernels kept"):
// a jitted program's kernels are the same objects on every call, so repeated calls skip hashing and cache
// lookups. These tests guard the cache against handing back a wrong or stale executable: every call of a
// jitted function, read by data() or dataSync(), with eager work between, gives its own inputs' answer.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { jit, numpy as np } from "@jax-js/jax";
import { initDevices } from "../src/core/jax.ts";

await initDevices();

const host = (x: number[], w: number[], n: number, k: number, m: number) =>
  Array.from({ length: n * m }, (_, idx) => {
    const i = Math.floor(idx / m);
    const j = idx % m;
    let s = 0;
    for (let t = 0; t < k; t++) s += x[i * k + t] * w[t * m + j];
    return Math.max(s + 1, 0);
  });

describe("jax-js's prepared-kernel cache (patched)", () => {
  it("is the patched backend", () => {
    const dist = dirname(createRequire(import.meta.url).resolve("@jax-js/jax"));
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
});
