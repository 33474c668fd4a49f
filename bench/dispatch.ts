/**
 * The fixed cost of a jitted call (issue 23): µs per call of a jitted n × n × n matmul (n = 8, 64) and of a
 * fused elementwise kernel (tanh(2x + 1) over 1,024 floats), each (a) with its input uploaded from the same
 * host array and its output read back at every call, as a training loop feeds a batch and reads its loss,
 * and (b) chained 20 deep (each call's output is the next call's input) and
 * read once, the dispatch alone; and (c) the cost of one more kernel inside a jitted program: a chain of 32
 * tanh(y·Wⱼ) against a chain of one, per extra kernel (n = 8: dispatch; n = 64: dispatch and arithmetic).
 * Median of 15 timings. Run on each backend:
 *   GENLAB_BACKEND=wasm|native node --import tsx bench/dispatch.ts
 */
import "../src/platform/nodeShim.ts";
import { jit, numpy as np, profiler, type Array } from "@jax-js/jax";
import { initDevices } from "../src/core/jax.ts";
import { describeBackend } from "../src/platform/backend.ts";

await initDevices();
const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1];
async function perCall(f: (x: Array) => Array, x0: () => Array, reps: number): Promise<{ read: number; chained: number }> {
  for (let i = 0; i < 20; i++) await f(x0()).data();
  const read: number[] = [];
  const chained: number[] = [];
  for (let t = 0; t < 15; t++) {
    let t0 = performance.now();
    for (let r = 0; r < reps; r++) await f(x0()).data();
    read.push(((performance.now() - t0) * 1000) / reps);
    t0 = performance.now();
    let y = x0();
    for (let r = 0; r < 20; r++) y = f(y);
    await y.data();
    chained.push(((performance.now() - t0) * 1000) / 20);
  }
  return { read: median(read), chained: median(chained) };
}
const out: Record<string, { read: number; chained: number }> = {};
for (const n of [8, 64]) {
  const w = np.array(Float32Array.from({ length: n * n }, (_, i) => Math.sin(i) / n), { shape: [n, n] });
  const f = jit((x: Array) => np.matmul(x, w.ref));
  const host = Float32Array.from({ length: n * n }, (_, i) => Math.cos(i));
  out[`matmul ${n}³`] = await perCall(f, () => np.array(host, { shape: [n, n] }), 200);
  f.dispose();
  w.dispose();
}
const g = jit((x: Array) => np.tanh(x.mul(2).add(1)));
const host = Float32Array.from({ length: 1024 }, (_, i) => Math.sin(i));
out["elementwise tanh(2x + 1), 1,024"] = await perCall(g, () => np.array(host), 200);
g.dispose();
// (c) inside one program: a jitted chain of 32 products tanh(y·Wⱼ) against a chain of 1, each call chained 50
// deep: the time per extra kernel (jax-js's profiler counts each chain's kernels) in a training step's program
const perKernel: Record<string, number> = {};
for (const n of [8, 64]) {
  const ws = globalThis.Array.from({ length: 32 }, (_, j) => np.array(Float32Array.from({ length: n * n }, (_, i) => Math.sin(i + j) / n), { shape: [n, n] }));
  const chain = (depth: number) => jit((x: Array) => {
    let y = x;
    for (let j = 0; j < depth; j++) y = np.tanh(np.matmul(y, ws[j].ref));
    return y;
  });
  const host = Float32Array.from({ length: n * n }, (_, i) => Math.cos(i));
  const us: number[] = [];
  const kernels: number[] = [];
  for (const depth of [1, 32]) {
    const f = chain(depth);
    for (let i = 0; i < 20; i++) await f(np.array(host, { shape: [n, n] })).data();
    // the kernels one call runs, counted by jax-js's profiler on one untimed call
    performance.clearMeasures();
    profiler.startTrace();
    await f(np.array(host, { shape: [n, n] })).data();
    profiler.stopTrace();
    kernels.push(performance.getEntriesByType("measure").length);
    performance.clearMeasures();
    const ts: number[] = [];
    for (let t = 0; t < 15; t++) {
      let y = np.array(host, { shape: [n, n] });
      const t0 = performance.now();
      for (let r = 0; r < 50; r++) y = f(y);
      await y.data();
      ts.push(((performance.now() - t0) * 1000) / 50);
    }
    us.push(median(ts));
    f.dispose();
  }
  perKernel[`matmul ${n}³ + tanh, in a program`] = (us[1] - us[0]) / (kernels[1] - kernels[0]);
  for (const w of ws) w.dispose();
}
console.log(describeBackend());
for (const [k, v] of Object.entries(out)) console.log(`${k.padEnd(34)} read back every call ${v.read.toFixed(1).padStart(7)} µs   chained ${v.chained.toFixed(1).padStart(7)} µs`);
for (const [k, v] of Object.entries(perKernel)) console.log(`${k.padEnd(34)} per extra kernel     ${v.toFixed(2).padStart(7)} µs`);
