/**
 * Where the native matmul starts to pay: a jitted float32 matmul C = A·B of n × n × n (and the W1-like
 * 4704 × k × n shapes) timed on this process's backend, as µs per call (median of 9 timings of `reps`
 * calls, each awaited). Run once per backend: GENLAB_BACKEND=wasm|native node --import tsx bench/crossover.ts
 */
import "../src/platform/nodeShim.ts";
import { jit, numpy as np, type Array } from "@jax-js/jax";
import { initDevices } from "../src/core/jax.ts";
import { describeBackend } from "../src/platform/backend.ts";

await initDevices();
const out: Record<string, number> = {};
for (const [m, k, n] of [[8, 8, 8], [16, 16, 16], [32, 32, 32], [64, 64, 64], [128, 128, 128], [256, 256, 256], [512, 512, 512]]) {
  const a = np.array(Float32Array.from({ length: m * k }, (_, i) => Math.sin(i)), { shape: [m, k] });
  const b = np.array(Float32Array.from({ length: k * n }, (_, i) => Math.cos(i)), { shape: [k, n] });
  const f = jit((x: Array, y: Array) => np.matmul(x, y));
  const reps = Math.max(3, Math.min(400, Math.round(2e7 / (m * k * n))));
  await f(a.ref, b.ref).data();
  const times: number[] = [];
  for (let t = 0; t < 9; t++) {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) await f(a.ref, b.ref).data();
    times.push(((performance.now() - t0) * 1000) / reps);
  }
  times.sort((x, y) => x - y);
  out[`${m}x${k}x${n}`] = Number(times[4].toFixed(1));
  a.dispose();
  b.dispose();
  f.dispose();
}
console.log(JSON.stringify({ backend: describeBackend(), us_per_call: out }));
