import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DType, hessian, numpy as np, random } from "@jax-js/jax";
import { keyFromSeed } from "../core/prng.ts";
import { treeDispose, treeRef } from "../core/tree.ts";
import { onCpu, toF64Cpu } from "../../test/util/numeric.ts";
import { decodeNpy, encodeNpy } from "../data/npy.ts";
import { applyMlp, initMlp, mlpSpec, type MlpParams } from "../nn/dense.ts";
import { softmaxCrossEntropy } from "../nn/losses.ts";
import { denseOperator, flattenTree, hessianLinearOperator, hutchinsonDiagonal, hutchinsonTrace, hutchPlusPlus, slqDensity, symEig, topEigenvalues, wasserstein1, xtrace } from "./spectral.ts";

/** A symmetric matrix Q diag(λ) Qᵀ with a random orthogonal Q (host, float64), as a flat row-major array. */
function withSpectrum(lambda: number[], seed: number): Float64Array {
  const n = lambda.length;
  const z = Float64Array.from(random.normal(keyFromSeed(seed), [n, n]).dataSync() as ArrayLike<number>);
  // Gram–Schmidt on the columns of z
  const q = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const v = Float64Array.from({ length: n }, (_, i) => z[i * n + j]);
    for (let p = 0; p < j; p++) {
      let c = 0;
      for (let i = 0; i < n; i++) c += q[i * n + p] * v[i];
      for (let i = 0; i < n; i++) v[i] -= c * q[i * n + p];
    }
    const nv = Math.sqrt(v.reduce((a, x) => a + x * x, 0));
    for (let i = 0; i < n; i++) q[i * n + j] = v[i] / nv;
  }
  const a = new Float64Array(n * n);
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += q[r * n + k] * lambda[k] * q[c * n + k];
    a[r * n + c] = s;
  }
  return a;
}

const op = (a: Float64Array, n: number) => denseOperator(np.array(Float32Array.from(a), { shape: [n, n] }));

describe("spectral estimators on operators (measures/spectral.ts)", () => {
  it("symEig: eigenvalues and orthonormal eigenvectors of a 3×3", () => {
    const { values, vectors } = symEig([[2, 1, 0], [1, 2, 0], [0, 0, 5]]);
    assert.deepEqual(values.map((v) => Number(v.toFixed(12))), [1, 3, 5]);
    const col = (j: number) => vectors.map((r) => r[j]);
    const d = (u: number[], v: number[]) => u.reduce((a, x, i) => a + x * v[i], 0);
    assert.ok(Math.abs(d(col(0), col(1))) < 1e-12 && Math.abs(d(col(2), col(2)) - 1) < 1e-12, "orthonormal");
  });

  it("top-3 eigenvalues: Lanczos (30 products) and power iteration with deflation, against the known spectrum (rel 1e-3)", async () => {
    const n = 80;
    const lambda = Array.from({ length: n }, (_, i) => (i < 3 ? [10, 7, 5][i] : 1 / (i + 1)));
    const a = withSpectrum(lambda, 1);
    const L = op(a, n);
    const lz = await topEigenvalues(L, 3, { key: keyFromSeed(2), method: "lanczos", steps: 30 });
    assert.equal(lz.products, 30);
    lz.values.forEach((v, i) => assert.ok(Math.abs(v - [10, 7, 5][i]) < 1e-3 * [10, 7, 5][i], `lanczos ${i}: ${v}`));
    const pw = await topEigenvalues(L, 3, { key: keyFromSeed(3), method: "power", iters: 300, tol: 1e-7 });
    pw.values.forEach((v, i) => assert.ok(Math.abs(v - [10, 7, 5][i]) < 1e-3 * [10, 7, 5][i], `power ${i}: ${v}`));
    assert.ok(pw.products > lz.products, `power needs more products (${pw.products} vs ${lz.products})`);
    L.dispose();
  });

  it("trace: Hutchinson, Hutch++ and XTrace are within 4 reported SEs of tr(A); on a low-rank-plus-small matrix XTrace and Hutch++ beat Hutchinson at equal products", async () => {
    const n = 120;
    const lambda = Array.from({ length: n }, (_, i) => (i < 10 ? 20 - i : 0.05));
    const a = withSpectrum(lambda, 4);
    const tr = lambda.reduce((x, y) => x + y, 0);
    const L = op(a, n);
    const errs: Record<string, number> = {};
    for (const [name, f] of [["hutchinson", hutchinsonTrace], ["hutch++", hutchPlusPlus], ["xtrace", xtrace]] as const) {
      const e = await f(L, 60, keyFromSeed(5));
      assert.ok(e.products <= 60, `${name} spent ${e.products} products`);
      assert.ok(Math.abs(e.estimate - tr) <= 4 * e.se + 1e-3 * tr, `${name}: ${e.estimate} ± ${e.se} vs ${tr}`);
      errs[name] = Math.abs(e.estimate - tr);
    }
    assert.ok(errs.xtrace < errs.hutchinson && errs["hutch++"] < errs.hutchinson, JSON.stringify(errs));
    // more probes converge to the dense answer
    const big = await hutchinsonTrace(L, 2000, keyFromSeed(6));
    assert.ok(Math.abs(big.estimate - tr) < 0.05 * tr, `Hutchinson with 2000 probes: ${big.estimate} vs ${tr}`);
    L.dispose();
  });

  it("diagonal: Hutchinson's estimate is within 5 SEs of diag(A) on 95% of entries", async () => {
    const n = 40;
    const a = withSpectrum(Array.from({ length: n }, (_, i) => 1 + (i % 5)), 7);
    const L = op(a, n);
    const d = await hutchinsonDiagonal(L, 400, keyFromSeed(8));
    let ok = 0;
    for (let i = 0; i < n; i++) if (Math.abs(d.diag[i] - a[i * n + i]) <= 5 * d.se[i] + 1e-4) ok++;
    assert.ok(ok >= 0.95 * n, `${ok}/${n} entries within 5 SE`);
    L.dispose();
  });

  it("SLQ density of diag(5, 4, 3, 0, …) + ZZᵀ/n, n = 2000 (a Marchenko–Pastur bulk plus spikes) against numpy's eigvalsh: Wasserstein-1 ≤ 0.05; the trace within 3 SE", { skip: spawnSync("/usr/bin/python3", ["-c", "import numpy"]).status === 0 ? false : "needs /usr/bin/python3 with numpy (apt-get install python3-numpy)" }, async () => {
    const n = 2000;
    const z = random.normal(keyFromSeed(11), [n, n]);
    const spikes = np.array(Float32Array.from({ length: n }, (_, i) => (i < 3 ? [5, 4, 3][i] : 0)));
    const a = np.matmul(z.ref, z.transpose()).mul(1 / n).add(np.diag(spikes));
    const host = (await a.ref.data()) as Float32Array;
    const dir = mkdtempSync(join(tmpdir(), "genlab-slq-"));
    writeFileSync(join(dir, "a.npy"), encodeNpy({ data: host, shape: [n, n] }));
    const py = spawnSync("/usr/bin/python3", ["-c", `import numpy as np; a = np.load("${dir}/a.npy").astype(np.float64); np.save("${dir}/e.npy", np.linalg.eigvalsh((a + a.T) / 2))`], { encoding: "utf8" });
    assert.equal(py.status, 0, py.stderr);
    const eig = decodeNpy(readFileSync(join(dir, "e.npy"))).data;
    const L = denseOperator(a);
    const slq = await slqDensity(L, { key: keyFromSeed(12), runs: 10, steps: 60 });
    const w1 = wasserstein1(slq.nodes.flat(), slq.weights.flat(), eig);
    assert.ok(w1 <= 0.05, `W1 ${w1}`);
    const tr = Array.from(eig).reduce((x, y) => x + y, 0);
    assert.ok(Math.abs(slq.trace - tr) <= 3 * slq.traceSe + 1e-3 * tr, `SLQ trace ${slq.trace} ± ${slq.traceSe} vs ${tr}`);
    assert.equal(slq.products, 600);
    // the spikes are resolved: the largest nodes sit near the top eigenvalues
    const top = Math.max(...slq.nodes.flat());
    assert.ok(Math.abs(top - eig[n - 1]) < 0.02 * eig[n - 1], `largest node ${top} vs λ_max ${eig[n - 1]}`);
    L.dispose();
  });

  it("on a network's Hessian (float64, cpu): Lanczos top-2 equals eigh of the dense Hessian (1e-6); Hutchinson and SLQ traces converge to its trace", async () => {
    await onCpu(async () => {
      const spec = mlpSpec({ dims: [4, 6, 3], activation: "tanh", padTo: 1 });
      const params = toF64Cpu(initMlp(spec, keyFromSeed(13)));
      const x = np.array(Array.from({ length: 40 }, (_, i) => Math.sin(1.1 * i)), { shape: [10, 4], dtype: DType.Float64, device: "cpu" });
      const y = np.array(Array.from({ length: 10 }, (_, i) => i % 3), { dtype: DType.Int32, device: "cpu" });
      const loss = (p: MlpParams) => softmaxCrossEntropy(applyMlp(spec, p, x.ref), y.ref);
      const flatLoss = (v: ReturnType<typeof flattenTree>) => {
        // rebuild the tree from a flat vector for jax's dense hessian
        let off = 0;
        const layers = params.layers.map((l) => {
          const w = v.ref.slice([off, off + l.w.size]).reshape(l.w.shape);
          off += l.w.size;
          const b = v.ref.slice([off, off + l.b!.size]).reshape(l.b!.shape);
          off += l.b!.size;
          return { w, b };
        });
        v.dispose();
        return loss({ layers });
      };
      const theta = flattenTree(treeRef(params));
      const dense = hessian(flatLoss)(theta) as ReturnType<typeof flattenTree>;
      const eig = (await np.linalg.eigvalsh(dense.ref).data()) as Float64Array;
      const P = eig.length;
      const trace = Array.from(eig).reduce((s, v) => s + v, 0);
      const H = hessianLinearOperator(loss, treeRef(params));
      const top = await topEigenvalues(H, 2, { key: keyFromSeed(14), steps: P });
      assert.ok(Math.abs(top.values[0] - eig[P - 1]) < 1e-6 * Math.abs(eig[P - 1]) && Math.abs(top.values[1] - eig[P - 2]) < 1e-6 * Math.abs(eig[P - 1]), `${top.values} vs ${eig[P - 1]}, ${eig[P - 2]}`);
      const hu = await hutchinsonTrace(H, 400, keyFromSeed(15));
      assert.ok(Math.abs(hu.estimate - trace) <= 4 * hu.se, `Hutchinson ${hu.estimate} ± ${hu.se} vs ${trace}`);
      const slq = await slqDensity(H, { key: keyFromSeed(16), runs: 30, steps: P });
      assert.ok(Math.abs(slq.trace - trace) <= 4 * slq.traceSe + 1e-9, `SLQ ${slq.trace} ± ${slq.traceSe} vs ${trace}`);
      H.dispose();
      treeDispose([params, x, y, dense]);
    });
  });
});

