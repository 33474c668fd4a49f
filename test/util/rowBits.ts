// Child of test/rowKernels.test.ts: data-movement kernels (pads, slices, transposes, stacks, concats, an
// im2col convolution, its gradient with the mean pool's) through jitted jax-js kernels, on odd sizes, NaN
// and ±Inf; the exact copies are checked against the host here (exit 1 on a mismatch). Prints each
// result's bits and the numbers of kernels compiled row by row (and with SIMD rows) as JSON. Run with
// GENLAB_JAX_ROWS=0, GENLAB_JAX_ROW_SIMD=0 and neither (and JAX_THREADS=2, whose workers split rows) and
// compare.
import "../../src/platform/nodeShim.ts";
import { DType, grad, jit, numpy as np, type Array } from "@jax-js/jax";
import { initDevices } from "../../src/core/jax.ts";
import { keyFromSeed } from "../../src/core/prng.ts";
import { applyCnn, cnnSpec, conv3x3Same, initCnn, type CnnParams } from "../../src/nn/cnn.ts";

await initDevices();
const special = [NaN, Infinity, -Infinity, -0];
function hostData(n: number, seed: number): Float32Array<ArrayBuffer> {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.fround(Math.sin(i * 0.37 + seed) * 3);
  for (let i = 0; i < special.length && i < n; i++) out[(i * 7919 + seed) % n] = special[i];
  return out;
}
const bits = async (a: Array) => {
  const d = await a.data();
  return [...(d instanceof Float32Array ? new Uint32Array(d.buffer, d.byteOffset, d.length) : (d as Int32Array))];
};
// ±0 compare equal: jax-js builds a stack or concat as a sum of masked parts (−0 + 0 = +0, with or without rows)
const same = (x: number, y: number) => x === y || (Number.isNaN(x) && Number.isNaN(y));
const failures: string[] = [];
/** want(index of the output, row-major) → the host's value; the kernel's output must equal it exactly. */
async function exact(name: string, out: Array, want: (i: number) => number): Promise<number[]> {
  const d = (await out.ref.data()) as Float32Array;
  for (let i = 0; i < d.length; i++)
    if (!same(d[i], want(i))) {
      failures.push(`${name}: element ${i} is ${d[i]}, expected ${want(i)}`);
      break;
    }
  return bits(out);
}
const unravel = (i: number, shape: number[]) => {
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
};
const at = (h: Float32Array, shape: number[], idx: number[]) => {
  let o = 0;
  for (let d = 0; d < shape.length; d++) o = o * shape[d] + idx[d];
  return h[o];
};

const out: Record<string, number[]> = {};
// a pad of the two last axes (rows of 13: the mask of both ends per element, of the outer rows per row)
{
  const s = [2, 3, 5, 11];
  const h = hostData(2 * 3 * 5 * 11, 1);
  const y = jit((x: Array) => np.pad(x, [[0, 0], [0, 0], [1, 1], [1, 1]]))(np.array(h, { shape: s }));
  out.pad = await exact("pad", y, (i) => {
    const [a, b, r, c] = unravel(i, [2, 3, 7, 13]);
    return r < 1 || r > 5 || c < 1 || c > 11 ? 0 : at(h, s, [a, b, r - 1, c - 1]);
  });
}
// a slice of the two last axes, and a slice with a stride-2 step of the last
{
  const s = [3, 9, 17];
  const h = hostData(3 * 9 * 17, 2);
  out.slice = await exact("slice", jit((x: Array) => x.slice([], [2, 7], [3, 14]).add(0))(np.array(h, { shape: s })), (i) => {
    const [a, r, c] = unravel(i, [3, 5, 11]);
    return at(h, s, [a, r + 2, c + 3]);
  });
}
// the same on 160,000+ elements, which the 2-thread pool splits mid-row (rows of 39)
{
  const s = [16, 9, 33, 37];
  const h = hostData(16 * 9 * 33 * 37, 11);
  out.padLarge = await exact("padLarge", jit((x: Array) => np.pad(x, [[0, 0], [0, 0], [2, 1], [1, 1]]))(np.array(h, { shape: s })), (i) => {
    const [a, b, r, c] = unravel(i, [16, 9, 36, 39]);
    return r < 2 || r > 34 || c < 1 || c > 37 ? 0 : at(h, s, [a, b, r - 2, c - 1]);
  });
}
// transposes that move the last axis (a gather along the row) and that keep it
{
  const s = [5, 9, 11];
  const h = hostData(5 * 9 * 11, 3);
  out.transposeLast = await exact("transposeLast", jit((x: Array) => x.transpose([0, 2, 1]).add(0))(np.array(h, { shape: s })), (i) => {
    const [a, c, r] = unravel(i, [5, 11, 9]);
    return at(h, s, [a, r, c]);
  });
  out.transposeOuter = await exact("transposeOuter", jit((x: Array) => x.transpose([1, 0, 2]).add(0))(np.array(h, { shape: s })), (i) => {
    const [r, a, c] = unravel(i, [9, 5, 11]);
    return at(h, s, [a, r, c]);
  });
}
// a stack of nine shifted slices of a padded array (im2col), and a concat of unequal parts
{
  const s = [3, 2, 7, 9];
  const h = hostData(3 * 2 * 7 * 9, 4);
  const im2col = jit((x: Array) => {
    const xp = np.pad(x, [[0, 0], [0, 0], [1, 1], [1, 1]]);
    const parts: Array[] = [];
    for (let dy = 0; dy < 3; dy++) for (let dx = 0; dx < 3; dx++) parts.push(xp.ref.slice([], [], [dy, dy + 7], [dx, dx + 9]));
    xp.dispose();
    return np.stack(parts, 1);
  });
  out.im2col = await exact("im2col", im2col(np.array(h, { shape: s })), (i) => {
    const [c, k, n, r, q] = unravel(i, [3, 9, 2, 7, 9]);
    const [y, x] = [r + Math.floor(k / 3) - 1, q + (k % 3) - 1];
    return y < 0 || y >= 7 || x < 0 || x >= 9 ? 0 : at(h, s, [c, n, y, x]);
  });
  const h2 = hostData(3 * 5, 5);
  const h3 = hostData(3 * 13, 6);
  out.concat = await exact("concat", jit((a: Array, b: Array) => np.concatenate([a, b], 1))(np.array(h2, { shape: [3, 5] }), np.array(h3, { shape: [3, 13] })), (i) => {
    const [r, c] = unravel(i, [3, 18]);
    return c < 5 ? h2[r * 5 + c] : h3[r * 13 + c - 5];
  });
  // int32 and bool data through a pad (the integer and boolean loads and the masks' select)
  const ints = Int32Array.from({ length: 4 * 10 }, (_, i) => (i * 37) % 23 - 11);
  const padded = (await jit((x: Array) => np.pad(x, [[1, 2], [3, 1]]))(np.array(ints, { shape: [4, 10], dtype: DType.Int32 })).data()) as Int32Array;
  for (let i = 0; i < padded.length; i++) {
    const [r, c] = unravel(i, [7, 14]);
    const want = r < 1 || r > 4 || c < 3 || c > 12 ? 0 : ints[(r - 1) * 10 + c - 3];
    if (padded[i] !== want) {
      failures.push(`int pad: element ${i} is ${padded[i]}, expected ${want}`);
      break;
    }
  }
  out.intPad = [...padded];
  out.boolPad = await bits(jit((x: Array) => np.pad(x.greater(0), [[0, 0], [2, 2]]).astype(DType.Float32))(np.array(ints, { shape: [4, 10], dtype: DType.Int32 })));
}
// arithmetic on gathered values (a transpose feeding exp, log, max with NaN and ±Inf, a comparison and
// an integer index computed per element): compared across the configurations by the test
{
  const s = [4, 9, 13];
  const x = np.array(hostData(4 * 9 * 13, 12), { shape: s });
  const f = jit((v: Array) => {
    const t = v.transpose([0, 2, 1]);
    const e = np.maximum(np.exp(t.ref), t.ref.mul(2)).add(np.log(np.abs(t.ref).add(0.5)));
    return np.where(t.greater(0.25), e, np.arange(4 * 13 * 9).reshape([4, 13, 9]).mod(7).astype(DType.Float32));
  });
  out.gatheredMath = await bits(f(x));
}
// a float remainder by 2³² and by 2³² + 8 (constants no row length may come from: a review found them taken)
{
  const h = hostData(4 * 48, 14).map((v) => v * 1e9);
  const x = np.array(h, { shape: [4, 48] });
  out.floatMod = await bits(jit((v: Array) => np.remainder(v.ref, 2 ** 32).add(np.remainder(v, 2 ** 32 + 8)))(x));
}
// row maximum and minimum over a contiguous axis of 48 (the patch's SIMD Max/Min reductions: exact in any
// order), NaN, ±Inf and ±0 included, against the host
{
  const h = hostData(37 * 48, 13);
  h[5] = -0;
  h[6] = 0;
  h[48 * 3 + 10] = -Infinity;
  const x = np.array(h, { shape: [37, 48] });
  const rowOf = (i: number) => h.subarray(i * 48, (i + 1) * 48);
  const hostMax = (i: number) => rowOf(i).reduce((m, v) => (Number.isNaN(m) || Number.isNaN(v) ? NaN : Math.max(m, v)), -Infinity);
  const hostMin = (i: number) => rowOf(i).reduce((m, v) => (Number.isNaN(m) || Number.isNaN(v) ? NaN : Math.min(m, v)), Infinity);
  out.rowMax = await exact("rowMax", jit((v: Array) => v.max(-1))(x.ref), hostMax);
  out.rowMin = await exact("rowMin", jit((v: Array) => v.min(-1))(x), hostMin);
}
// the conv net's gradient (col2im of both convolutions, the mean pool's upsampling fused with ReLU's
// mask) and a lone 3×3 convolution's: compared across GENLAB_JAX_ROWS and thread counts by the test
{
  const spec = cnnSpec({ height: 12, width: 8, channels: [3, 5], hidden: 7 });
  const params = initCnn(spec, keyFromSeed(9));
  const x = np.array(hostData(6 * 96, 7), { shape: [6, 96] }).mul(0.1);
  const g = grad((xx: Array, p: CnnParams) => applyCnn(spec, p, xx).sum())(x, params);
  out.cnnGrad = await bits(g);
  const w = np.array(hostData(4 * 3 * 9, 8), { shape: [4, 3, 3, 3] });
  const gx = grad((xx: Array) => np.square(conv3x3Same(xx, w.ref)).sum())(np.array(hostData(2 * 3 * 9 * 11, 10), { shape: [2, 3, 9, 11] }).mul(0.1));
  out.convGrad = await bits(gx);
  w.dispose();
}
if (failures.length) {
  console.error(failures.join("\n"));
  process.exit(1);
}
const stats = (globalThis as { __genlabRowStats?: { kernels: number; simd: number } }).__genlabRowStats;
console.log(JSON.stringify({ rowKernels: stats?.kernels ?? 0, simdKernels: stats?.simd ?? 0, out }));
