// genlab's own float32 GEMM (native/genlab_gemm.c), called through the addon with setGemm("own"):
// against a float64 reference on every layout the matmul plans emit (A and B transposed or not, leading
// dimensions wider than the rows, byte offsets), sizes that cross each of its block and tile edges (MR = 12
// rows, NR = 32 columns, KC = 384, MC = 192, NC = 3072, the in-place/packed B threshold), beta 0, 1 and
// other values; NaN and Inf propagate like a product's; beta = 0 never reads C; A and B may be the same
// memory; an element's bits do not depend on where it sits in the matrix (the claim in the file's header).
// Skipped where the addon did not build.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { ADDON_PATH } from "../src/platform/backend.ts";

type Addon = {
  sgemm: (...a: unknown[]) => void;
  setGemm(name: string): boolean;
  info(): { config: string; gemm: string; openblas: boolean };
};

const built = existsSync(ADDON_PATH);

/** A deterministic float32 matrix (a sine pattern: no two rows alike, mixed signs). */
const fill = (n: number, salt: number) => Float32Array.from({ length: n }, (_, i) => Math.fround(Math.sin(0.7 * i + salt) * (1 + ((i * 7 + salt) % 5) / 4)));

type Case = { m: number; n: number; k: number; tA: boolean; tB: boolean; beta: number; pad: number };

/** Runs one GEMM on fresh operands (with leading dimensions `pad` wider and an offset) and checks it against float64. */
function check(addon: Addon, c: Case) {
  const { m, n, k, tA, tB, beta, pad } = c;
  const [ar, ac] = tA ? [k, m] : [m, k];
  const [br, bc] = tB ? [n, k] : [k, n];
  const lda = ac + pad, ldb = bc + pad, ldc = n + pad;
  const off = 3; // elements before each operand
  const A = fill(off + ar * lda, 1), B = fill(off + br * ldb, 2), C = fill(off + m * ldc, 3);
  const C0 = C.slice();
  addon.sgemm(A, 4 * off, lda, tA, B, 4 * off, ldb, tB, C, 4 * off, ldc, m, n, k, beta);
  const a = (i: number, p: number) => A[off + (tA ? p * lda + i : i * lda + p)];
  const b = (p: number, j: number) => B[off + (tB ? j * ldb + p : p * ldb + j)];
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let ref = beta === 0 ? 0 : beta * C0[off + i * ldc + j];
      let mag = Math.abs(ref);
      for (let p = 0; p < k; p++) {
        ref += a(i, p) * b(p, j);
        mag += Math.abs(a(i, p) * b(p, j));
      }
      const got = C[off + i * ldc + j];
      const tol = (k + 2) * 2 ** -23 * mag + 1e-30;
      if (!(Math.abs(got - ref) <= tol)) assert.fail(`${JSON.stringify(c)}: C[${i}, ${j}] = ${got}, float64 ${ref} (tolerance ${tol})`);
    }
  // nothing outside C's m × n window is written: the padding columns and the offset keep their values
  for (let i = 0; i < m; i++) for (let j = n; j < ldc; j++) assert.equal(C[off + i * ldc + j], C0[off + i * ldc + j], `${JSON.stringify(c)}: padding C[${i}, ${j}] written`);
  for (let t = 0; t < off; t++) assert.equal(C[t], C0[t], `${JSON.stringify(c)}: memory before C written`);
}

describe("genlab's own GEMM (native/genlab_gemm.c)", { skip: built ? false : `the addon did not build here (${ADDON_PATH} missing): see native/build-status.json` }, () => {
  const addon = built ? (createRequire(import.meta.url)(ADDON_PATH) as Addon) : (null as unknown as Addon);
  /** Runs fn with the addon's own GEMM chosen, restoring the backend's choice afterwards (the addon is shared with the process's backend). */
  const withOwn = (fn: () => void) => {
    const before = addon.info().gemm;
    assert.equal(addon.setGemm("own"), true, "setGemm('own') is always available");
    try {
      assert.equal(addon.info().gemm, "own", "info() names the GEMM in use");
      assert.match(addon.info().config, /^genlab-gemm (avx512|avx2|vec128) \d+x\d+$/, "its config names the ISA and tile");
      fn();
    } finally {
      if (before === "openblas") assert.equal(addon.setGemm("openblas"), true, "OpenBLAS restored");
    }
  };

  it("matches float64 on every layout, across its tile and block edges, for beta 0, 1 and 0.5", () => {
    withOwn(() => {
      const sizes: [number, number, number][] = [
        [1, 1, 1], [3, 5, 7], [12, 32, 5], [13, 33, 17], [11, 31, 385], [25, 97, 64], [24, 64, 64], [193, 40, 9],
        [7, 300, 260], // k·n past the in-place B threshold: B packed; n > NR: A packed
        [5, 3100, 24], // n past NC = 3072
        [37, 16, 800], // K in three blocks of KC = 384
      ];
      let t = 0;
      for (const [m, n, k] of sizes)
        for (const tA of [false, true])
          for (const tB of [false, true]) check(addon, { m, n, k, tA, tB, beta: [0, 1, 0.5][t++ % 3], pad: t % 2 ? 3 : 0 });
    });
  });

  it("NaN and Inf propagate like a product's; beta = 0 never reads C; A and B may share memory", () => {
    withOwn(() => {
      const [m, n, k] = [20, 40, 30];
      const A = fill(m * k, 4), B = fill(k * n, 5);
      A[3 * k + 7] = NaN; // row 3 of C: NaN everywhere
      B[11 * n + 5] = Infinity; // column 5 of C: ±Inf (or NaN on row 3)
      const C = new Float32Array(m * n).fill(NaN); // beta = 0: never read
      addon.sgemm(A, 0, k, false, B, 0, n, false, C, 0, n, m, n, k, 0);
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          const v = C[i * n + j];
          if (i === 3) assert.ok(Number.isNaN(v), `C[3, ${j}] = ${v}: a NaN in A's row 3 reaches every column`);
          else if (j === 5) assert.equal(Math.abs(v), Infinity, `C[${i}, 5] = ${v}: an Inf in B's column 5`);
          else assert.ok(Number.isFinite(v), `C[${i}, ${j}] = ${v}: finite (the NaN left in C was not read)`);
        }
      // C = X·Xᵀ with A and B the same array: symmetric to the bit (each element's products in the same order)
      const X = fill(17 * 45, 6);
      const G = new Float32Array(17 * 17);
      addon.sgemm(X, 0, 45, false, X, 0, 45, true, G, 0, 17, 17, 17, 45, 0);
      for (let i = 0; i < 17; i++) for (let j = 0; j < i; j++) assert.equal(G[i * 17 + j], G[j * 17 + i], `X·Xᵀ[${i}, ${j}] = [${j}, ${i}] bit for bit`);
    });
  });

  it("an element's bits do not depend on its place in the matrix or on the call's path (same seed, same bits)", () => {
    withOwn(() => {
      const [m, n, k] = [50, 90, 700]; // two K blocks; packed A, in-place B
      const A = fill(m * k, 7), B = fill(k * n, 8);
      const full = new Float32Array(m * n);
      addon.sgemm(A, 0, k, false, B, 0, n, false, full, 0, n, m, n, k, 0);
      const again = new Float32Array(m * n);
      addon.sgemm(A, 0, k, false, B, 0, n, false, again, 0, n, m, n, k, 0);
      assert.deepEqual(again, full, "the same call twice: the same bits");
      // rows 5..17 and columns 7..29 alone (a sub-problem: other tiles, A read in place, masked columns)
      const sub = new Float32Array(13 * 23);
      addon.sgemm(A, 4 * 5 * k, k, false, B, 4 * 7, n, false, sub, 0, 23, 13, 23, k, 0);
      for (let i = 0; i < 13; i++) for (let j = 0; j < 23; j++) assert.equal(sub[i * 23 + j], full[(i + 5) * n + j + 7], `C[${i + 5}, ${j + 7}] alone and in the whole product`);
      // the same product with B transposed in memory (packed B): the same bits
      const Bt = new Float32Array(n * k);
      for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) Bt[j * k + p] = B[p * n + j];
      const viaT = new Float32Array(m * n);
      addon.sgemm(A, 0, k, false, Bt, 0, k, true, viaT, 0, n, m, n, k, 0);
      assert.deepEqual(viaT, full, "B transposed in memory: the same bits");
    });
  });
});
