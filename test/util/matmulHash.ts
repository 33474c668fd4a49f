// Spawned by test/matmul.test.ts with different JAX_THREADS: prints a hash of the bits of one matmul.
import "../../src/platform/nodeShim.ts";
import { DType, jit, numpy as np, type Array } from "@jax-js/jax";

const a = np.arange(4704 * 196).mod(97).astype(DType.Float32).mul(0.01);
const b = np.arange(196 * 256).mod(89).astype(DType.Float32).mul(0.02);
const y = (await jit((x: Array, w: Array) => np.matmul(x, w))(a.reshape([4704, 196]), b.reshape([196, 256])).data()) as Float32Array;
// and one whose B (1,024 wide) the kernel packs into a scratch buffer, one part per worker
const a2 = np.arange(64 * 300).mod(83).astype(DType.Float32).mul(0.01);
const b2 = np.arange(300 * 1024).mod(79).astype(DType.Float32).mul(0.02);
const y2 = (await jit((x: Array, w: Array) => np.matmul(x, w))(a2.reshape([64, 300]), b2.reshape([300, 1024])).data()) as Float32Array;
// and a batched one (attention's Q·Kᵀ shape: 32 × 4 matrices of 48 × 48 over k = 16), split by whole matrices
const q3 = np.arange(32 * 4 * 48 * 16).mod(71).astype(DType.Float32).mul(0.01).reshape([32, 4, 48, 16]);
const k3 = np.arange(32 * 4 * 48 * 16).mod(67).astype(DType.Float32).mul(0.01).reshape([32, 4, 48, 16]);
const y3 = (await jit((x: Array, w: Array) => np.matmul(x, w.transpose([0, 1, 3, 2])))(q3, k3).data()) as Float32Array;
let h = 0;
for (const v of [y, y2, y3]) {
  const bits = new Int32Array(v.buffer, v.byteOffset, v.length);
  for (let i = 0; i < bits.length; i++) h = (Math.imul(h, 31) + bits[i]) | 0;
}
console.log(h);
