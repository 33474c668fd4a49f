import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DType, grad, hessian, numpy as np, random, type Array } from "@jax-js/jax";
import { keyFromSeed } from "../core/prng.ts";
import { treeDispose, treeFromHost, treeRef, treeToHost, type HostTree } from "../core/tree.ts";
import { onCpu, toF64Cpu } from "../../test/util/numeric.ts";
import { applyMlp, initMlp, mlpPaddingMask, mlpSpec, type MlpParams, type MlpSpec } from "../nn/dense.ts";
import { softmaxCrossEntropy } from "../nn/losses.ts";
import { topHessianEigenvalue, topRitz } from "./hessian.ts";
import { el2nFromLogits, mlpGradNorms, perExampleCrossEntropy, scoreInBatches } from "../scores/perExample.ts";

const flat = (h: HostTree): number[] => ("data" in h && "shape" in h ? (h as { data: number[] }).data : Object.values(h as object).flatMap((v) => flat(v as HostTree)));

function cpuData(n: number, din: number, classes: number) {
  const x = np.array(globalThis.Array.from({ length: n * din }, (_, i) => Math.sin(1.7 * i + 0.3)), { shape: [n, din], dtype: DType.Float64, device: "cpu" });
  const y = np.array(globalThis.Array.from({ length: n }, (_, i) => (i * 5) % classes), { dtype: DType.Int32, device: "cpu" });
  return { x, y };
}

describe("per-example gradient norms (ghost norms)", () => {
  for (const [activation, bias, padTo] of [["relu", true, 4], ["tanh", false, 4], ["gelu", true, 1]] as const) {
    it(`${activation}, bias ${bias}, padTo ${padTo}: equal the norms of per-example gradients computed one by one (float64)`, async () => {
      await onCpu(() => {
        const spec = mlpSpec({ dims: [5, 7, 6, 3], activation, bias, padTo, parametrization: "ntk" });
        const params = toF64Cpu(initMlp(spec, keyFromSeed(3)));
        const { x, y } = cpuData(6, 5, 3);
        const ghost = mlpGradNorms(spec, treeRef(params), x.ref, y.ref).js() as number[];
        for (let i = 0; i < 6; i++) {
          const xi = x.ref.slice([i, i + 1]);
          const yi = y.ref.slice([i, i + 1]);
          const g = grad((p: MlpParams) => perExampleCrossEntropy(applyMlp(spec, p, xi.ref), yi.ref).sum())(treeRef(params));
          const direct = Math.sqrt(flat(treeToHost(g)).reduce((a, v) => a + v * v, 0));
          treeDispose([xi, yi]);
          assert.ok(Math.abs(ghost[i] - direct) <= 1e-12 * Math.max(1, direct), `example ${i}: ghost ${ghost[i]} vs direct ${direct}`);
        }
        treeDispose([params, x, y]);
      });
    });
  }

  it("padded (stored 8→8→4) and unpadded (5→7→3) networks give the same per-example norms", async () => {
    await onCpu(() => {
      const norms = (padTo: number) => {
        const spec = mlpSpec({ dims: [5, 7, 3], activation: "gelu", padTo });
        const { x, y } = cpuData(6, 5, 3);
        return mlpGradNorms(spec, toF64Cpu(initMlp(spec, keyFromSeed(11))), x, y).js() as number[];
      };
      const [a, b] = [norms(4), norms(1)];
      for (let i = 0; i < 6; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-12 * b[i], `example ${i}: ${a[i]} vs ${b[i]}`);
    });
  });

  it("a wrong norm is caught: dropping the bias term changes the result", async () => {
    await onCpu(() => {
      const spec = mlpSpec({ dims: [5, 7, 3], padTo: 1 });
      const params = toF64Cpu(initMlp(spec, keyFromSeed(4)));
      const { x, y } = cpuData(4, 5, 3);
      const withBias = mlpGradNorms(spec, treeRef(params), x.ref, y.ref).js() as number[];
      const noBiasSpec = { ...spec, bias: false };
      const noBias = { layers: params.layers.map((l) => ({ w: l.w })) };
      for (const l of params.layers) l.b!.dispose();
      const without = mlpGradNorms(noBiasSpec, noBias, x, y).js() as number[];
      assert.ok(withBias.every((v, i) => v > without[i] + 1e-6), "withBias.every((v, i) => v > without[i] + 1e-6)");
    });
  });
});

describe("per-example scores: laws and ownership", () => {
  it("GraNd and EL2N are permutation-equivariant: permuting the examples permutes the scores", async () => {
    const spec = mlpSpec({ dims: [6, 10, 4], activation: "tanh" });
    const params = initMlp(spec, keyFromSeed(12));
    const n = 9;
    const xs = Float32Array.from({ length: n * 6 }, (_, i) => Math.sin(0.7 * i)) as Float32Array<ArrayBuffer>;
    const ys = Int32Array.from({ length: n }, (_, i) => (3 * i) % 4) as Int32Array<ArrayBuffer>;
    const perm = [4, 0, 8, 2, 6, 1, 7, 3, 5];
    const px = new Float32Array(n * 6) as Float32Array<ArrayBuffer>;
    perm.forEach((src, dst) => px.set(xs.subarray(src * 6, src * 6 + 6), dst * 6));
    const py = Int32Array.from(perm.map((src) => ys[src])) as Int32Array<ArrayBuffer>;
    const scores = (x: Float32Array<ArrayBuffer>, y: Int32Array<ArrayBuffer>) => ({
      grand: mlpGradNorms(spec, treeRef(params), np.array(x, { shape: [n, 6] }), np.array(y, { dtype: DType.Int32 })).js() as number[],
      el2n: el2nFromLogits(applyMlp(spec, treeRef(params), np.array(x, { shape: [n, 6] })), np.array(y, { dtype: DType.Int32 })).js() as number[],
    });
    const a = scores(xs, ys);
    const b = scores(px, py);
    for (let dst = 0; dst < n; dst++) {
      // float32: the permuted batch may round differently in the matmul; 1e-5 relative
      assert.ok(Math.abs(b.grand[dst] - a.grand[perm[dst]]) <= 1e-5 * a.grand[perm[dst]], `grand ${dst}`);
      assert.ok(Math.abs(b.el2n[dst] - a.el2n[perm[dst]]) <= 1e-5 * a.el2n[perm[dst]], `el2n ${dst}`);
    }
    treeDispose(params);
  });

  it("ownership: mlpGradNorms and topHessianEigenvalue consume their inputs; the result has refCount 1", async () => {
    const spec = mlpSpec({ dims: [6, 8, 4] });
    const params = initMlp(spec, keyFromSeed(13));
    const x = random.normal(keyFromSeed(14), [5, 6]);
    const y = np.arange(5).mod(4).astype(DType.Int32);
    const norms = mlpGradNorms(spec, treeRef(params), x.ref, y.ref);
    assert.equal(norms.refCount, 1);
    assert.equal(params.layers[0].w.refCount, 1, "the caller's reference is left");
    const loss = (p: MlpParams) => softmaxCrossEntropy(applyMlp(spec, p, x.ref), y.ref);
    await topHessianEigenvalue(loss, treeRef(params), { key: keyFromSeed(15), iters: 3 });
    assert.equal(params.layers[0].w.refCount, 1);
    treeDispose([norms, params]);
    assert.equal(params.layers[0].w.refCount, 0);
    assert.equal(x.refCount, 1);
    treeDispose([x, y]);
  });
});

describe("EL2N", () => {
  it("matches the definition on hand-made logits and runs in batches", async () => {
    const logits = np.array([[0, 0, 0], [10, 0, 0]], { dtype: DType.Float32 });
    const y = np.array([0, 0], { dtype: DType.Int32 });
    const s = el2nFromLogits(logits, y).js() as number[];
    // uniform softmax vs onehot(0): √((2/3)² + 2·(1/3)²) = √(2/3)
    assert.ok(Math.abs(s[0] - Math.sqrt(2 / 3)) < 1e-6, "Math.abs(s[0] - Math.sqrt(2 / 3)) < 1e-6");
    assert.ok(s[1] < 1e-3, "s[1] < 1e-3");
    const spec = mlpSpec({ dims: [6, 8, 4] });
    const params = initMlp(spec, keyFromSeed(5));
    const n = 23;
    const data = { x: Float32Array.from({ length: n * 6 }, (_, i) => Math.cos(i)), xShape: [n, 6], y: Int32Array.from({ length: n }, (_, i) => i % 4) };
    const score = (x: Array, yb: Array) => el2nFromLogits(applyMlp(spec, treeRef(params), x), yb);
    const batched = await scoreInBatches(score, data, 10);
    const whole = el2nFromLogits(applyMlp(spec, treeRef(params), np.array(data.x, { shape: [n, 6] })), np.array(data.y, { dtype: DType.Int32 })).js() as number[];
    for (let i = 0; i < n; i++) assert.ok(Math.abs(batched[i] - whole[i]) < 1e-6, `row ${i}`);
    treeDispose(params);
  });
});

describe("top Hessian eigenvalue (Hessian-vector products; Lanczos and power iteration)", () => {
  const eighMax = (spec: MlpSpec, params: MlpParams, x: Array, y: Array, nReal: number): number => {
    // Dense Hessian of the loss over the flattened real parameters (tiny network), float64.
    const shapes = params.layers.map((l) => l.w.shape);
    const sizes = shapes.map(([a, b]) => a * b);
    const f = (theta: Array) => {
      let off = 0;
      const layers = shapes.map(([a, b], i) => {
        const w = theta.ref.slice([off, off + sizes[i]]).reshape([a, b]);
        off += sizes[i];
        return { w };
      });
      theta.dispose();
      return softmaxCrossEntropy(applyMlp(spec, { layers }, x.ref), y.ref);
    };
    const theta = np.concatenate(params.layers.map((l) => l.w.ref.reshape([-1])));
    const H = hessian(f)(theta);
    assert.equal(H.shape[0], nReal);
    const [w, v] = np.linalg.eigh(H) as unknown as [Array, Array];
    v.dispose();
    const ev = w.js() as number[];
    return ev.reduce((a, b) => (Math.abs(b) > Math.abs(a) ? b : a), 0);
  };

  for (const [activation, method] of [["relu", "power"], ["tanh", "power"], ["relu", "lanczos"], ["tanh", "lanczos"]] as const) {
    it(`${activation}: ${method} on the padded network equals eigh of the dense unpadded Hessian (float64)`, async () => {
      await onCpu(async () => {
        const base = { dims: [3, 5, 3], activation, bias: false };
        const su = mlpSpec({ ...base, padTo: 1 });
        const sp = mlpSpec({ ...base, padTo: 4 });
        const pu = toF64Cpu(initMlp(su, keyFromSeed(6)));
        const pp = toF64Cpu(initMlp(sp, keyFromSeed(6)));
        const { x, y } = cpuData(8, 3, 3);
        const exact = eighMax(su, treeRef(pu), x.ref, y.ref, 3 * 5 + 5 * 3);
        const mask = mlpPaddingMask(sp, pp);
        const loss = (p: MlpParams) => softmaxCrossEntropy(applyMlp(sp, p, x.ref), y.ref);
        const r = await topHessianEigenvalue(loss, treeRef(pp), { key: keyFromSeed(7), iters: method === "power" ? 300 : 40, tol: 1e-12, mask, method });
        assert.ok(Math.abs(r.eigenvalue - exact) <= 1e-6 * Math.abs(exact), `${method} ${r.eigenvalue} vs eigh ${exact} after ${r.iterations} iterations`);
        // the 30 real parameters span at most a 30-dimensional Krylov space: Lanczos is exact by then
        if (method === "lanczos") assert.ok(r.iterations <= 31 && r.residual <= 1e-12, `lanczos: ${r.iterations} products, residual ${r.residual}`);
        treeDispose([pu, pp, x, y, mask]);
      });
    });
  }

  it("float32 on wasm: 20 iterations land within 1% of the float64 answer on a gapped problem", async () => {
    const spec = mlpSpec({ dims: [6, 16, 4], activation: "relu" });
    const params = initMlp(spec, keyFromSeed(8));
    const x = random.normal(keyFromSeed(9), [32, 6]);
    const y = np.arange(32).mod(4).astype(DType.Int32);
    const host = treeToHost(treeRef(params));
    const loss = (p: MlpParams) => softmaxCrossEntropy(applyMlp(spec, p, x.ref), y.ref);
    const r32 = await topHessianEigenvalue(loss, treeRef(params), { key: keyFromSeed(10), iters: 20, method: "power" });
    const l32 = await topHessianEigenvalue(loss, params, { key: keyFromSeed(10), iters: 8 });
    const r64 = await onCpu(async () => {
      const p64 = toF64Cpu(treeFromHost(host) as MlpParams);
      const x64 = toF64Cpu(x.ref);
      const y64 = toF64Cpu(y.ref);
      const l64 = (p: MlpParams) => softmaxCrossEntropy(applyMlp(spec, p, x64.ref), y64.ref);
      const r = await topHessianEigenvalue(l64, p64, { key: keyFromSeed(10), iters: 200, tol: 1e-12 });
      treeDispose([x64, y64]);
      return r;
    });
    treeDispose([x, y]);
    assert.ok(r32.history.length === 20, "r32.history.length === 20");
    assert.ok(Math.abs(r32.eigenvalue - r64.eigenvalue) <= 0.01 * Math.abs(r64.eigenvalue), `${r32.eigenvalue} vs ${r64.eigenvalue}`);
    // Lanczos (the default) from 8 products lands at least as close as power iteration from 20
    assert.equal(l32.method, "lanczos");
    assert.equal(l32.iterations, 8);
    assert.ok(Math.abs(l32.eigenvalue - r64.eigenvalue) <= Math.max(Math.abs(r32.eigenvalue - r64.eigenvalue), 1e-6 * Math.abs(r64.eigenvalue)), `lanczos ${l32.eigenvalue}, power ${r32.eigenvalue}, float64 ${r64.eigenvalue}`);
  });

  it("topRitz: the extreme eigenvalue of a tridiagonal matrix and its eigenvector's last component", () => {
    // T = tridiag(−1, 2, −1) of size k: eigenvalues 2 − 2cos(jπ/(k+1)), eigenvectors sin(ijπ/(k+1))
    for (const k of [1, 2, 5, 12]) {
      const { theta, lastComponent } = topRitz(new globalThis.Array(k).fill(2), new globalThis.Array(k - 1).fill(-1));
      const want = 2 - 2 * Math.cos((k * Math.PI) / (k + 1));
      assert.ok(Math.abs(theta - want) < 1e-12, `k=${k}: ${theta} vs ${want}`);
      const norm = Math.sqrt(globalThis.Array.from({ length: k }, (_, i) => Math.sin(((i + 1) * k * Math.PI) / (k + 1)) ** 2).reduce((a, b) => a + b, 0));
      assert.ok(Math.abs(Math.abs(lastComponent) - Math.abs(Math.sin((k * k * Math.PI) / (k + 1)) / norm)) < 1e-10, `k=${k}: last component ${lastComponent}`);
    }
    // the largest |θ| wins over the largest θ
    assert.equal(topRitz([1, -3], [0]).theta, -3);
  });
});
