// Row-hoisted elementwise kernels (the jax-js patch's genlabRowPlan): data movement (pads, slices,
// transposes, stacks, concats, an im2col convolution and its gradient) gives the host's exact copies,
// and the same bits as jax-js's own loop (GENLAB_JAX_ROWS=0), with rows scalar (GENLAB_JAX_ROW_SIMD=0) or
// SIMD, and with the 2-thread pool splitting rows.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "..");
type Bits = { rowKernels: number; simdKernels: number; out: Record<string, number[]> };
function run(env: Record<string, string>): Bits {
  const r = spawnSync(process.execPath, ["--import", "tsx", "test/util/rowBits.ts"], { cwd: ROOT, encoding: "utf8", maxBuffer: 64 << 20, env: { ...process.env, ...env } });
  assert.equal(r.status, 0, `rowBits (${JSON.stringify(env)}) failed:\n${r.stderr}`);
  return JSON.parse(r.stdout) as Bits;
}

describe("row-hoisted elementwise kernels", () => {
  it("copy exactly, give jax-js's bits with SIMD rows and scalar rows, and the same bits on 2 threads", () => {
    const rows = run({ GENLAB_JAX_ROWS: "1", GENLAB_JAX_ROW_SIMD: "1", JAX_THREADS: "0" });
    const scalar = run({ GENLAB_JAX_ROWS: "1", GENLAB_JAX_ROW_SIMD: "0", JAX_THREADS: "0" });
    const plain = run({ GENLAB_JAX_ROWS: "0", JAX_THREADS: "0" });
    const two = run({ GENLAB_JAX_ROWS: "1", GENLAB_JAX_ROW_SIMD: "1", JAX_THREADS: "2" });
    assert.ok(rows.rowKernels >= 10, `only ${rows.rowKernels} kernels were compiled row by row`);
    assert.ok(rows.simdKernels >= 10, `only ${rows.simdKernels} kernels had SIMD rows`);
    assert.equal(scalar.simdKernels, 0, "GENLAB_JAX_ROW_SIMD=0 still compiled SIMD rows");
    assert.equal(plain.rowKernels, 0, "GENLAB_JAX_ROWS=0 still compiled kernels row by row");
    for (const k of Object.keys(plain.out)) {
      assert.deepEqual(scalar.out[k], plain.out[k], `${k}: scalar row kernels differ from jax-js's loop`);
      assert.deepEqual(rows.out[k], plain.out[k], `${k}: SIMD row kernels differ from jax-js's loop`);
      assert.deepEqual(two.out[k], rows.out[k], `${k}: 2 threads differ from 1`);
    }
  });
});
