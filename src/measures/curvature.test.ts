import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DType, jvp, nn, numpy as np, type Array } from "@jax-js/jax";
import { keyFromSeed } from "../core/prng.ts";
import { treeDispose, treeRef, type Tree } from "../core/tree.ts";
import { onCpu, toF64Cpu } from "../../test/util/numeric.ts";
import { applyMlp, initMlp, mlpSpec, type MlpParams } from "../nn/dense.ts";
import { empiricalFisherOperator, ggnDiagonal, ggnOperator, minibatchFisherDiagonal } from "./curvature.ts";
import { flattenTree, unflattenTree } from "./spectral.ts";

describe("curvature operators (measures/curvature.ts), float64 on cpu", () => {
  it("GGN and empirical Fisher products equal the dense matrices built from Jacobians; the exact GGN diagonal equals diag of the dense GGN", async () => {
    // tolerance 1e-7 relative: jax-js 0.1.25's softmax / log-softmax on the cpu device differ from a float64
    // host softmax by ~1.5e-8 relative (measured), more than float64 round-off
    await onCpu(async () => {
      const spec = mlpSpec({ dims: [3, 4, 3], activation: "tanh", padTo: 1 });
      const params = toF64Cpu(initMlp(spec, keyFromSeed(1)));
      const n = 5;
      const xs = globalThis.Array.from({ length: n * 3 }, (_, i) => Math.sin(0.7 * i + 0.2));
      const ys = [0, 1, 2, 1, 0];
      const x = () => np.array(xs, { shape: [n, 3], dtype: DType.Float64, device: "cpu" });
      const y = () => np.array(ys, { dtype: DType.Int32, device: "cpu" });
      const f = (p: Tree, xb: Array) => applyMlp(spec, p as MlpParams, xb);
      const theta = flattenTree(treeRef(params));
      const P = theta.shape[0];
      const template = params;
      // dense Jacobian of the logits [n·C, P] and of the losses [n, P]
      const logitsOf = (t: Array) => f(unflattenTree(t, template), x()).reshape([-1]);
      // dense Jacobians column by column: one jvp per basis vector
      const jacobian = (fn: (t: Array) => Array, rows: number): number[][] => {
        const out = globalThis.Array.from({ length: rows }, () => new globalThis.Array<number>(P).fill(0));
        for (let c = 0; c < P; c++) {
          const e = np.arange(P).equal(c).astype(DType.Float64);
          const [v, t] = jvp(fn as never, [theta.ref] as never, [e] as never) as unknown as [Array, Array];
          v.dispose();
          (t.js() as number[]).forEach((val, r) => (out[r][c] = val));
        }
        return out;
      };
      const Jh = jacobian(logitsOf, n * 3);
      const z = (f(treeRef(params), x()).js() as number[][]);
      const G = globalThis.Array.from({ length: P }, () => new globalThis.Array<number>(P).fill(0));
      for (let i = 0; i < n; i++) {
        const e = z[i].map(Math.exp);
        const s = e.reduce((a, b) => a + b, 0);
        const p = e.map((v) => v / s);
        for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) {
          const h = (a === b ? p[a] : 0) - p[a] * p[b];
          for (let r = 0; r < P; r++) for (let c = 0; c < P; c++) G[r][c] += (Jh[i * 3 + a][r] * h * Jh[i * 3 + b][c]) / n;
        }
      }
      const lossesOf = (t: Array) => nn.logSoftmax(f(unflattenTree(t, template), x()), -1).mul(nn.oneHot(y(), 3).astype(DType.Float64)).sum(-1).neg();
      const Jl = jacobian(lossesOf, n);
      const F = globalThis.Array.from({ length: P }, (_, r) => globalThis.Array.from({ length: P }, (_, c) => Jl.reduce((a, g) => a + (g[r] * g[c]) / n, 0)));
      const data = { x: x(), y: y() };
      const ggn = ggnOperator(f, treeRef(params), data);
      const fisher = empiricalFisherOperator(f, treeRef(params), { x: x(), y: y() });
      for (const col of [0, 5, P - 1]) {
        const e = np.zeros([P], { dtype: DType.Float64, device: "cpu" }).add(np.arange(P).equal(col).astype(DType.Float64));
        const g = ggn.apply(e.ref).js() as number[];
        const fv = fisher.apply(e).js() as number[];
        for (let r = 0; r < P; r++) {
          assert.ok(Math.abs(g[r] - G[r][col]) < 1e-7 * Math.max(1, Math.abs(G[r][col])), `GGN[${r}, ${col}] ${g[r]} vs ${G[r][col]}`);
          assert.ok(Math.abs(fv[r] - F[r][col]) < 1e-7 * Math.max(1, Math.abs(F[r][col])), `Fisher[${r}, ${col}] ${fv[r]} vs ${F[r][col]}`);
        }
      }
      assert.equal(ggn.products(), 3);
      ggn.dispose();
      fisher.dispose();
      const diag = await ggnDiagonal(f, params, { x: Float32Array.from(xs), xShape: [n, 3], y: Int32Array.from(ys), numClasses: 3 }, 2);
      // the data went through float32: compare with 1e-6
      for (let r = 0; r < P; r++) assert.ok(Math.abs(diag[r] - G[r][r]) < 1e-6 * Math.max(1, G[r][r]), `diag[${r}] ${diag[r]} vs ${G[r][r]}`);
      treeDispose([params, theta]);
    });
  });

  it("EWC's minibatch Fisher diagonal: batch 1 is the empirical Fisher's diagonal, batch b squares the batch-mean gradient × b", async () => {
    // loss ½ mean (w·x − y)²: the per-example gradient is r_i x_i, r_i = w·x_i − y_i
    const xs = [1, 2, 0, -1, 3, 1, 2, 2];
    const ys = [1, 0, 2, -1];
    const w = [0.5, -0.25];
    const r = [0, 1, 2, 3].map((i) => w[0] * xs[2 * i] + w[1] * xs[2 * i + 1] - ys[i]);
    const loss = (p: { w: Array }, x: Array, y: Array) => np.square(np.matmul(x, p.w).sub(y.astype(DType.Float32))).mean().mul(0.5);
    const data = { x: Float32Array.from(xs), xShape: [4, 2], y: Int32Array.from(ys), numClasses: 0 };
    const params = { w: np.array(w) };
    const f1 = (await minibatchFisherDiagonal(loss, params, data, 1))[0];
    for (let j = 0; j < 2; j++) {
      const want = [0, 1, 2, 3].reduce((s, i) => s + (r[i] * xs[2 * i + j]) ** 2, 0) / 4;
      assert.ok(Math.abs(f1[j] - want) < 1e-5, `batch 1, coordinate ${j}: ${f1[j]} vs ${want}`);
    }
    const f3 = (await minibatchFisherDiagonal(loss, params, data, 3))[0];
    for (let j = 0; j < 2; j++) {
      const g3 = (r[0] * xs[j] + r[1] * xs[2 + j] + r[2] * xs[4 + j]) / 3;
      const want = (g3 ** 2 * 3 + (r[3] * xs[6 + j]) ** 2 * 1) / 2;
      assert.ok(Math.abs(f3[j] - want) < 1e-5, `batch 3 (the last batch of 1 included, weighted by its size), coordinate ${j}: ${f3[j]} vs ${want}`);
    }
    const f2 = (await minibatchFisherDiagonal(loss, params, data, 2))[0];
    for (let j = 0; j < 2; j++) {
      const g = (a: number, b: number) => (r[a] * xs[2 * a + j] + r[b] * xs[2 * b + j]) / 2;
      const want = (g(0, 1) ** 2 * 2 + g(2, 3) ** 2 * 2) / 2;
      assert.ok(Math.abs(f2[j] - want) < 1e-5, `batch 2, coordinate ${j}: ${f2[j]} vs ${want}`);
    }
    assert.equal(params.w.refCount, 1, "params only read");
    params.w.dispose();
  });
});
