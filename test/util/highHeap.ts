// Child of test/native.test.ts: fused matmul kernels with every buffer above 2 GiB of wasm heap. A 2 GiB block
// is allocated first (the bump allocator never moves it), so every later array's pointer is ≥ 2³¹: a signed
// `ptr >> 2` in the native path's epilogues made such pointers negative and wrote into other buffers (CI's
// score-estimation NaN after a worker's heap had grown; docs/jax-js-notes.md). Prints one JSON line: the worst
// error against a float64 host reference per pattern, and the backend.
import "../../src/platform/nodeShim.ts";
import { BACKEND } from "../../src/platform/backend.ts";
import { initDevices } from "../../src/core/jax.ts";
import { jit, numpy as np, type Array as JArray } from "@jax-js/jax";
import { wasmHeapBytes } from "../../src/platform/nodeShim.ts";

await initDevices();
const { s: getBackend } = await import("../../node_modules/@jax-js/jax/dist/backend-CnjgxpXq.js" as string);
(getBackend("wasm") as { malloc(n: number): number }).malloc(2 ** 31 + 4096);

const M = 12, K = 20, N = 16, B = 3;
const fill = (n: number, f: (i: number) => number): Float32Array<ArrayBuffer> => {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = f(i);
  return a;
};
const x = fill(M * K, (i) => Math.sin(i)), w = fill(K * N, (i) => Math.cos(1.3 * i)), b = fill(N, (i) => i / 7 - 1);
const R = fill(M * N, (i) => Math.sin(0.7 * i)), c = fill(M, (i) => 1 - i / 5), mask = fill(M * K, (i) => (i % 3 ? 1 : 0));
const xb = fill(B * M * K, (i) => Math.cos(0.37 * i)), wb = fill(B * K * N, (i) => Math.sin(0.21 * i));
const arr = (a: Float32Array<ArrayBuffer>, shape: number[]) => np.array(a, { shape });
const prod = (xs: ArrayLike<number>, ws: ArrayLike<number>, i: number, j: number, off = 0, woff = 0) => {
  let s = 0;
  for (let k = 0; k < K; k++) s += xs[off + i * K + k] * ws[woff + k * N + j];
  return s;
};
const cases: [string, () => JArray, (i: number, j: number) => number][] = [
  ["x·W + b (row epilogue)", () => jit((p: JArray, q: JArray, r: JArray) => np.matmul(p, q).add(r))(arr(x, [M, K]), arr(w, [K, N]), arr(b, [N])), (i, j) => prod(x, w, i, j) + b[j]],
  ["relu(x·W + b) (epilogue and post-op)", () => jit((p: JArray, q: JArray, r: JArray) => np.maximum(np.matmul(p, q).add(r), 0))(arr(x, [M, K]), arr(w, [K, N]), arr(b, [N])), (i, j) => Math.max(prod(x, w, i, j) + b[j], 0)],
  ["x·W + b + R (a row, then a matrix)", () => jit((p: JArray, q: JArray, r: JArray, s: JArray) => np.matmul(p, q).add(r).add(s))(arr(x, [M, K]), arr(w, [K, N]), arr(b, [N]), arr(R, [M, N])), (i, j) => prod(x, w, i, j) + b[j] + R[i * N + j]],
  ["x·W + R + b (a matrix, then a row)", () => jit((p: JArray, q: JArray, r: JArray, s: JArray) => np.matmul(p, q).add(s).add(r))(arr(x, [M, K]), arr(w, [K, N]), arr(b, [N]), arr(R, [M, N])), (i, j) => prod(x, w, i, j) + R[i * N + j] + b[j]],
  ["x·W + c (a column)", () => jit((p: JArray, q: JArray, r: JArray) => np.matmul(p, q).add(r))(arr(x, [M, K]), arr(w, [K, N]), arr(c, [M, 1])), (i, j) => prod(x, w, i, j) + c[i]],
  ["(x ⊙ mask)·W (a fused A expression)", () => jit((p: JArray, m: JArray, q: JArray) => np.matmul(p.mul(m), q))(arr(x, [M, K]), arr(mask, [M, K]), arr(w, [K, N])), (i, j) => { let s = 0; for (let k = 0; k < K; k++) s += x[i * K + k] * mask[i * K + k] * w[k * N + j]; return s; }],
  ["batched x·W", () => jit((p: JArray, q: JArray) => np.matmul(p, q))(arr(xb, [B, M, K]), arr(wb, [B, K, N])), () => NaN],
];
const worst: Record<string, number> = {};
const err = (a: number, r: number) => (Number.isFinite(a) ? Math.abs(a - r) : Infinity);
for (const [name, f, ref] of cases) {
  const out = (await f().data()) as Float32Array;
  let e = 0;
  if (name.startsWith("batched")) {
    for (let q = 0; q < B; q++) for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) e = Math.max(e, err(out[q * M * N + i * N + j], prod(xb, wb, i, j, q * M * K, q * K * N)));
  } else for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) e = Math.max(e, err(out[i * N + j], ref(i, j)));
  worst[name] = e;
}
console.log(JSON.stringify({ backend: BACKEND.name, gemm: BACKEND.gemm ?? null, heapGiB: wasmHeapBytes() / 2 ** 30, worst }));
