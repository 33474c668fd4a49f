/**
 * The Wasm SIMD128 ceiling on this CPU, measured: a hand-assembled module whose loop keeps 12 independent
 * f32x4 accumulators in registers and does a ← a·b + c on each (no memory traffic at all), i.e. the most
 * float32 arithmetic per second V8's Wasm code can issue on one thread. With `fma` it uses
 * f32x4.relaxed_madd (needs --experimental-wasm-relaxed-simd on Node 20; one fused instruction).
 * A matmul kernel can at best approach this; OpenBLAS's AVX-512 kernels run 16-lane FMAs instead of 4-lane.
 * Prints { id: "W0", gflops, fma }.
 */
import v8 from "node:v8";

const fma = process.argv.includes("--fma");
if (fma) v8.setFlagsFromString("--experimental-wasm-relaxed-simd");

const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const f32x4 = (v: number) => {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < 4; i++) dv.setFloat32(4 * i, v, true);
  return [...b];
};
const section = (id: number, bytes: number[]) => [id, ...uleb(bytes.length), ...bytes];

const ACC = 12;
const B = ACC + 1;
const C = ACC + 2;
const body: number[] = [0x01, ACC + 2, 0x7b]; // ACC + 2 locals of type v128
body.push(0xfd, 0x0c, ...f32x4(0.9999), 0x21, B);
body.push(0xfd, 0x0c, ...f32x4(0.5), 0x21, C);
body.push(0x03, 0x40); // loop
for (let k = 1; k <= ACC; k++) {
  if (fma) body.push(0x20, k, 0x20, B, 0x20, C, 0xfd, ...uleb(0x105)); // relaxed_madd(a, b, c) = a·b + c
  else body.push(0x20, k, 0x20, B, 0xfd, ...uleb(0xe6), 0x20, C, 0xfd, ...uleb(0xe4)); // mul, add
  body.push(0x21, k);
}
body.push(0x20, 0x00, 0x41, 0x01, 0x6b, 0x22, 0x00, 0x0d, 0x00, 0x0b); // n -= 1; br_if n
body.push(0x20, 0x01, 0xfd, 0x1f, 0x00, 0x0b); // a0[0]
const bytes = [
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, [0x01, 0x60, 0x01, 0x7f, 0x01, 0x7d]),
  ...section(3, [0x01, 0x00]),
  ...section(7, [0x01, 0x04, 0x70, 0x65, 0x61, 0x6b, 0x00, 0x00]),
  ...section(10, [0x01, ...uleb(body.length), ...body]),
];
const { instance } = await WebAssembly.instantiate(new Uint8Array(bytes));
const peak = instance.exports.peak as (n: number) => number;
peak(1e6);
const iters = 2e7;
let best = 0;
for (let r = 0; r < 3; r++) {
  const t0 = performance.now();
  const v = peak(iters);
  const ms = performance.now() - t0;
  if (!Number.isFinite(v)) throw new Error("non-finite");
  best = Math.max(best, (iters * ACC * 4 * 2) / ms / 1e6);
}
console.log(JSON.stringify({ id: "W0", gflops: best, fma }));
