import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DType, grad, numpy as np, type Array } from "@jax-js/jax";
import { keyFromSeed } from "../core/prng.ts";
import { treeDispose, treeLeaves, treeRef, treeToHost, type HostTree, type Tree } from "../core/tree.ts";
import { onCpu, toF64Cpu } from "../../test/util/numeric.ts";
import { gaussianClusters } from "../data/gaussianClusters.ts";
import { applyMlp, initMlp, mlpSpec, type MlpParams } from "../nn/dense.ts";
import { softmaxCrossEntropy } from "../nn/losses.ts";
import { sgd } from "../optim/aliases.ts";
import { train } from "../train/loop.ts";
import { fisherRaoNorm, pacBayesMeasures, pacBayesSigma, worstCaseSharpness } from "./flatness.ts";

const flat = (h: HostTree): number[] => ("data" in h && "shape" in h ? (h as { data: number[] }).data : Object.values(h as object).flatMap((v) => flat(v as HostTree)));

async function trained() {
  const data = gaussianClusters({ n: 400, nTest: 10, d: 8, classes: 3, sep: 0.6, noise: 1 }, keyFromSeed(1)).train;
  const spec = mlpSpec({ dims: [8, 16, 3] });
  const r = await train(initMlp(spec, keyFromSeed(2)), { loss: (p, x, y) => softmaxCrossEntropy(applyMlp(spec, p, x), y), optimizer: sgd(0.2, { momentum: 0.9 }), train: data, epochs: 20, batchSize: 50, key: keyFromSeed(3), log: { every: 0, perDecade: 0 } });
  treeDispose(r.optState);
  const model = { apply: (p: Tree, x: Array) => applyMlp(spec, p as MlpParams, x) };
  const logits = applyMlp(spec, treeRef(r.params), np.array(data.x as Float32Array<ArrayBuffer>, { shape: data.xShape }));
  const acc = (np.argmax(logits, -1).equal(np.array(data.y as Int32Array<ArrayBuffer>, { dtype: DType.Int32 })).astype(DType.Float32).mean().js() as number);
  return { data, spec, params: r.params, model, acc };
}

describe("flatness measures (measures/flatness.ts)", () => {
  it("PAC-Bayes σ': the bisection lands on a 0.1 accuracy drop (± the tolerance or the search's resolution), deterministic for a key; magnitude-aware differs", async () => {
    const t = await trained();
    const a = await pacBayesSigma(t.model, t.params, t.data, { accuracy: t.acc, key: keyFromSeed(4) });
    const b = await pacBayesSigma(t.model, t.params, t.data, { accuracy: t.acc, key: keyFromSeed(4) });
    assert.equal(a.sigma, b.sigma, "same key, same σ");
    assert.ok(a.sigma > 0 && a.sigma < 2, `σ ${a.sigma}`);
    const drop = t.acc - a.perturbedAccuracy;
    assert.ok(Math.abs(drop - 0.1) < 0.01 || a.steps === 15, `drop ${drop} after ${a.steps} steps`);
    assert.equal(a.forwardPasses, a.steps * 10);
    const m = await pacBayesSigma(t.model, t.params, t.data, { accuracy: t.acc, key: keyFromSeed(4), magnitudeEps: 1e-3 });
    assert.notEqual(m.sigma, a.sigma);
    treeDispose(t.params);
  });

  it("worst-case sharpness: projected gradient ascent finds a worse perturbation than random points of the same box", async () => {
    const t = await trained();
    const s = await worstCaseSharpness(t.model, t.params, t.data, { accuracy: t.acc, key: keyFromSeed(5) });
    assert.ok(s.alpha > 0 && s.alpha < 2 && s.gradients > 0, JSON.stringify(s));
    // a random u in the same box lowers accuracy less than the ascent did
    const { random } = await import("@jax-js/jax");
    let i = 0;
    const keys = (await import("../core/prng.ts")).splitKey(keyFromSeed(7), treeLeaves(t.params).length);
    const { treeMap } = await import("../core/tree.ts");
    const rnd = treeMap((w: Array) => w.add(random.uniform(keys[i++], w.shape).mul(2).sub(1).mul(s.alpha)), treeRef(t.params));
    const x = np.array(t.data.x as Float32Array<ArrayBuffer>, { shape: t.data.xShape });
    const y = np.array(t.data.y as Int32Array<ArrayBuffer>, { dtype: DType.Int32 });
    const randomAcc = np.argmax(applyMlp(t.spec, rnd, x), -1).equal(y).astype(DType.Float32).mean().js() as number;
    assert.ok(s.worstAccuracy < randomAcc, `ascent ${s.worstAccuracy} vs random ${randomAcc}`);
    treeDispose(t.params);
  });

  it("Fisher–Rao norm equals (1/m) Σ ⟨θ, ∇ℓ_i⟩² from per-example gradients (float64, 1e-9)", async () => {
    await onCpu(async () => {
      const spec = mlpSpec({ dims: [4, 5, 3], padTo: 1 });
      const params = toF64Cpu(initMlp(spec, keyFromSeed(8)));
      const n = 6;
      const data = { x: Float32Array.from({ length: n * 4 }, (_, i) => Math.sin(i)), xShape: [n, 4], y: Int32Array.from({ length: n }, (_, i) => i % 3), numClasses: 3 };
      const xs = np.array(globalThis.Array.from(data.x), { shape: [n, 4], dtype: DType.Float64, device: "cpu" });
      const theta = flat(treeToHost(treeRef(params)));
      let want = 0;
      for (let i = 0; i < n; i++) {
        const g = grad((p: MlpParams) => softmaxCrossEntropy(applyMlp(spec, p, xs.ref.slice([i, i + 1])), np.array([data.y[i]], { dtype: DType.Int32, device: "cpu" })))(treeRef(params));
        const gv = flat(treeToHost(g));
        want += gv.reduce((a, v, j) => a + v * theta[j], 0) ** 2 / n;
      }
      xs.dispose();
      // fisherRaoNorm reads float32 host data: compare in float64 by passing float64 params (the data is exact in float32)
      const got = await fisherRaoNorm({ apply: (p, x) => applyMlp(spec, p as MlpParams, x.astype(DType.Float64)) }, params, data);
      assert.ok(Math.abs(got - want) <= 1e-6 * Math.max(1, want), `${got} vs ${want}`);
      treeDispose(params);
    });
  });

  it("the PAC-Bayes bounds' formulas on a hand case", () => {
    const m = pacBayesMeasures({ w: Float64Array.of(1, 2), w0: Float64Array.of(1, 0), m: 100, sigma: 0.5 });
    const get = (id: string) => m.find((x) => x.id === id)!.value;
    assert.ok(Math.abs(get("pacbayes_init") - (4 / (4 * 0.25) + Math.log(200) + 10)) < 1e-12, "init");
    assert.ok(Math.abs(get("pacbayes_orig") - (5 / (4 * 0.25) + Math.log(200) + 10)) < 1e-12, "orig");
    assert.equal(get("pacbayes_flatness"), 4);
  });
});
