import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DType, numpy as np } from "@jax-js/jax";
import { keyFromSeed, normalFromKey } from "../core/prng.ts";
import { treeDispose, treeRef } from "../core/tree.ts";
import { gaussianBoundaryDomains, rotateImages, stackDomains } from "../data/domains.ts";
import { mlpSpec } from "../nn/dense.ts";
import { applyDomainHeads, drmLoss, headEntropies, initDomainHeads, selectHeadsByEntropy, steerAndAdapt, steeredProbabilities, type DomainHeadsParams, type DomainHeadsSpec } from "./domainHeads.ts";
import { gradCheck, onCpu, toF64Cpu } from "../../test/util/numeric.ts";

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tol ${tol})`);

describe("multi-domain data (data/domains.ts)", () => {
  it("rotates images about their centre: 90° permutes the pixels exactly, 360° copies, four quarter turns give the image back", () => {
    const img = Float32Array.from({ length: 9 }, (_, i) => i + 1); // 1 2 3 / 4 5 6 / 7 8 9
    const r = rotateImages(img, 1, 3, 3, 90);
    // counter-clockwise: the top row becomes the left column read upwards
    assert.deepEqual(globalThis.Array.from(r, (v) => Math.round(v * 1e6) / 1e6), [3, 6, 9, 2, 5, 8, 1, 4, 7]);
    assert.deepEqual(globalThis.Array.from(rotateImages(img, 1, 3, 3, 360)), globalThis.Array.from(img));
    const two = Float32Array.from(normalFromKey(keyFromSeed(1), 2 * 16)) as Float32Array<ArrayBuffer>;
    let back: Float32Array = two;
    for (let t = 0; t < 4; t++) back = rotateImages(back, 2, 4, 4, 90);
    for (let i = 0; i < two.length; i++) close(back[i], two[i], 1e-5, `pixel ${i} after four quarter turns (even size: centre between pixels)`);
    // 45°: the centre pixel of an odd image stays, a corner falls outside (zero)
    const r45 = rotateImages(img, 1, 3, 3, 45);
    close(r45[4], 5, 1e-6, "centre");
    assert.throws(() => rotateImages(img, 2, 3, 3, 10), /expected 2·3·3 = 18 values/);
  });

  it("Gaussian boundary domains put the class means at ±μ n_k with n_k normal to the boundary at θ_k", () => {
    const doms = gaussianBoundaryDomains({ angles: [0, 90], n: 4000, mu: 2, sigma: 1 }, keyFromSeed(3));
    const proj = (d: (typeof doms)[0], nx: number, ny: number) => {
      let s = 0;
      for (let i = 0; i < 4000; i++) s += (2 * d.y[i] - 1) * (d.x[2 * i] * nx + d.x[2 * i + 1] * ny);
      return s / 4000;
    };
    close(proj(doms[0], 0, 1), 2, 0.05, "θ = 0°: means at ±2 along y (4σ/√n ≈ 0.06)");
    close(proj(doms[0], 1, 0), 0, 0.05, "θ = 0°: nothing along x");
    close(proj(doms[1], -1, 0), 2, 0.05, "θ = 90°: means at ±2 along −x");
  });

  it("stackDomains puts row i of every domain side by side, so a minibatch holds B rows of each", () => {
    const a = { x: Float32Array.from([1, 2, 3, 4, 5, 6]), xShape: [3, 2], y: Int32Array.from([0, 1, 0]), numClasses: 2 };
    const b = { x: Float32Array.from([7, 8, 9, 10]), xShape: [2, 2], y: Int32Array.from([1, 1]), numClasses: 2 };
    const s = stackDomains([a, b]);
    assert.deepEqual(s.data.xShape, [2, 2, 2]);
    assert.deepEqual(s.data.yShape, [2, 2]);
    assert.deepEqual(globalThis.Array.from(s.data.x), [1, 2, 7, 8, 3, 4, 9, 10]);
    assert.deepEqual(globalThis.Array.from(s.data.y), [0, 1, 1, 1]);
    assert.deepEqual(s.dropped, [1, 0], "the third row of domain a does not fit");
  });
});

describe("Domain-Specific Risk Minimization (train/domainHeads.ts)", () => {
  const spec: DomainHeadsSpec = { featurizer: mlpSpec({ dims: [3, 5, 4], activation: "tanh", padTo: 1 }), domains: 2, classes: 3 };
  const xs = (n: number, k: number, seed: number) => Float32Array.from(normalFromKey(keyFromSeed(seed), n * k * 3));

  it("the training loss is (1/K) Σ_i ½ [CE(head i) + CE(pooled head)] over domain i's rows", async () => {
    const params = initDomainHeads(spec, keyFromSeed(5));
    const B = 4;
    const x = xs(B, 2, 6);
    const y = Int32Array.from([0, 2, 1, 1, 2, 0, 0, 1]);
    const loss = drmLoss(spec, treeRef(params), np.array(x, { shape: [B, 2, 3] }), np.array(y, { shape: [B, 2], dtype: DType.Int32 })).item();
    const lg = (await applyDomainHeads(spec, treeRef(params), np.array(x, { shape: [B * 2, 3] })).data()) as Float32Array;
    const ce = (row: number, head: number, label: number) => {
      const o = (row * 3 + head) * 3;
      const m = Math.max(lg[o], lg[o + 1], lg[o + 2]);
      return Math.log(Math.exp(lg[o] - m) + Math.exp(lg[o + 1] - m) + Math.exp(lg[o + 2] - m)) + m - lg[o + label];
    };
    let want = 0;
    for (let dom = 0; dom < 2; dom++) {
      let s = 0;
      for (let b = 0; b < B; b++) s += (ce(b * 2 + dom, dom, y[b * 2 + dom]) + ce(b * 2 + dom, 2, y[b * 2 + dom])) / 2;
      want += s / B / 2;
    }
    close(loss, want, 1e-5, "DRM loss against the per-domain sum");
    treeDispose(params);
  });

  it("the DRM loss passes a float64 finite-difference gradient check", async () => {
    await onCpu(() => {
      const params = toF64Cpu(initDomainHeads(spec, keyFromSeed(7)));
      const x = np.array(globalThis.Array.from(xs(3, 2, 8)), { shape: [3, 2, 3], dtype: DType.Float64, device: "cpu" });
      const y = np.array([0, 1, 2, 2, 1, 0], { shape: [3, 2], dtype: DType.Int32, device: "cpu" });
      const r = gradCheck((p) => drmLoss(spec, p as DomainHeadsParams, x.ref, y.ref), params);
      treeDispose([x, y]);
      assert.ok(r.maxRelErr < 1e-6, `relative error ${r.maxRelErr} (${JSON.stringify(r.checks)})`);
    });
  });

  it("selection takes the head of lowest mean entropy per batch; steering with γ < 0 takes each row's own argmin, γ = 0 averages", () => {
    // 2 rows, 3 heads, 2 classes: head 0 confident on row 0, head 1 confident on row 1, head 2 uniform
    const lg = [5, 0, 0.1, 0, 0, 0, /* row 1 */ 0.2, 0, -6, 0, 0, 0];
    const h = headEntropies(lg, 2, 3, 2);
    close(h[2], Math.log(2), 1e-12, "uniform head: log 2");
    const sel = selectHeadsByEntropy(lg, 2, 3, 2, 1);
    assert.deepEqual(sel.chosen, [0, 1]);
    assert.deepEqual(globalThis.Array.from(sel.predictions), [0, 1]);
    assert.deepEqual(selectHeadsByEntropy(lg, 2, 3, 2, 2).chosen.length, 1, "one choice per batch");
    const pMin = steeredProbabilities(lg, 2, 3, 2, -1);
    close(pMin[0], 1 / (1 + Math.exp(-5)), 1e-12, "row 0: head 0 alone");
    close(pMin[3], 1 / (1 + Math.exp(-6)), 1e-12, "row 1: head 1 alone");
    const pAvg = steeredProbabilities(lg, 2, 3, 2, 0, 2);
    const s = (z: number) => 1 / (1 + Math.exp(-z));
    close(pAvg[0], (s(5) + s(0.1)) / 3, 1e-12, "γ = 0: weights ⅓ over all three heads, summed over the first two (the official code drops the pooled head's share)");
  });

  it("steering without confident rows predicts with the initial heads and leaves the model untouched", async () => {
    const params = initDomainHeads(spec, keyFromSeed(9));
    const n = 10;
    const x = xs(n, 1, 10);
    const lg = (await applyDomainHeads(spec, treeRef(params), np.array(x, { shape: [n, 3] })).data()) as Float32Array;
    const p = steeredProbabilities(lg, n, 3, 3, 1, 2);
    const want = globalThis.Array.from({ length: n }, (_, i) => [0, 1, 2].reduce((b, c) => (p[i * 3 + c] > p[i * 3 + b] ? c : b), 0));
    const r = await steerAndAdapt(spec, params, x, n, { batch: 4, beta: 1.1, gamma: 1, lr: 1e-2, steps: 1 });
    assert.deepEqual(globalThis.Array.from(r.predictions), want);
    assert.equal(r.pseudoLabelled, 0);
    // with every row confident (β = 0) the heads move, but the caller's parameters are only read
    const r2 = await steerAndAdapt(spec, params, x, n, { batch: 4, beta: 0, gamma: 1, lr: 1e-1, steps: 2 }, Int32Array.from({ length: n }, () => 0));
    assert.equal(r2.pseudoLabelled, n);
    assert.equal(params.heads.w.refCount, 1, "the caller's heads are not consumed");
    assert.deepEqual(globalThis.Array.from(r2.predictions.slice(0, 4)), want.slice(0, 4), "the first batch is predicted before any update");
    treeDispose(params);
  });
});

