import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DType, numpy as np, random } from "@jax-js/jax";
import { keyFromSeed } from "../core/prng.ts";
import { treeDispose } from "../core/tree.ts";
import type { Dataset } from "../data/dataset.ts";
import { applyMlp, initMlp, mlpSpec, type MlpParams } from "../nn/dense.ts";
import { softmaxCrossEntropy } from "../nn/losses.ts";
import { checkHostDense, deviceNetwork, hostNetwork, measureNetwork, MEASURE_FAMILIES, type HostDense, type MeasureFamily } from "./catalogue.ts";
import type { SeqNetwork } from "../nn/sequential.ts";
import { matrixOf, normMeasures } from "./norms.ts";
import { hessianLinearOperator } from "./spectral.ts";

async function tinyNetwork(): Promise<{ net: HostDense; init: HostDense; data: Dataset }> {
  const spec = mlpSpec({ dims: [5, 12, 3], activation: "relu", padTo: 1 });
  const init = await hostNetwork(spec, initMlp(spec, keyFromSeed(11)));
  // a "trained" network: init plus a fixed perturbation (the catalogue does not care how it was trained)
  const net: HostDense = { dims: init.dims, weights: init.weights.map((w) => w.map((v, i) => v * 1.3 + 0.05 * Math.sin(i))), biases: init.biases.map((b) => b!.map((_, i) => 0.1 * Math.cos(i))) };
  const n = 120;
  const x = Float32Array.from(random.normal(keyFromSeed(12), [n, 5]).dataSync() as ArrayLike<number>);
  // labels from the network itself, with 10% flipped: train accuracy 0.9 exactly
  const { spec: s2, params } = deviceNetwork(net);
  const logits = (await applyMlp(s2, params, np.array(x).reshape([n, 5])).data()) as Float32Array;
  const y = Int32Array.from({ length: n }, (_, i) => {
    const row = [0, 1, 2].map((c) => logits[i * 3 + c]);
    const arg = row.indexOf(Math.max(...row));
    return i % 10 === 0 ? (arg + 1) % 3 : arg;
  });
  return { net, init, data: { x, xShape: [n, 5], y, numClasses: 3 } };
}

describe("the measure catalogue (measures/catalogue.ts)", () => {
  it("every family on a tiny ReLU net: unique ids, finite values, norms equal normMeasures, the Hessian trace within 4 SE of the exact trace, costs counted", async () => {
    const { net, init, data } = await tinyNetwork();
    const res = await measureNetwork(net, data, keyFromSeed(13), { init, traceProbes: 40, searchDepth: 8, sigmaSamples: 4, stepsToCriterion: 321 });
    const ids = res.values.map((v) => v.id);
    assert.equal(new Set(ids).size, ids.length, `duplicate ids: ${ids.join(",")}`);
    for (const f of MEASURE_FAMILIES) assert.ok(res.values.some((v) => v.family === f), `family ${f} produced values`);
    for (const v of res.values) assert.ok(Number.isFinite(v.value), `${v.id} = ${v.value}`);
    assert.deepEqual(res.notMeasured, [], "everything measurable was measured");
    const get = (id: string) => res.values.find((v) => v.id === id)!;
    assert.ok(Math.abs(get("train_acc").value - 0.9) < 1e-12, `train acc ${get("train_acc").value}`);
    assert.equal(get("params").value, 5 * 12 + 12 + 12 * 3 + 3, "parameter count");
    assert.equal(get("steps_to_criterion").value, 321, "steps to criterion passed through");
    // norms: identical to calling normMeasures directly
    const mats = net.weights.map((w, i) => matrixOf(w, net.dims[i], net.dims[i + 1]));
    const direct = normMeasures({ weights: mats, init: init.weights.map((w, i) => matrixOf(w, net.dims[i], net.dims[i + 1])), layers: mats.map((w, i) => ({ w, b: Float64Array.from(net.biases[i]!) })), margins: [1], numParams: 1 });
    for (const id of ["param_norm", "fro_dist", "log_prod_of_spec", "path_norm"]) {
      const want = direct.find((m) => m.id === id)!.value;
      assert.ok(Math.abs(get(id).value - want) <= 1e-12 * Math.abs(want), `${id}: ${get(id).value} vs ${want}`);
    }
    // Hessian trace: exact by one HVP per basis vector (float32, P = 111)
    const { spec, params } = deviceNetwork(net);
    const x = np.array(data.x as Float32Array<ArrayBuffer>).reshape([120, 5]);
    const y = np.array(data.y as Int32Array<ArrayBuffer>, { dtype: DType.Int32 });
    const op = hessianLinearOperator((p: MlpParams) => softmaxCrossEntropy(applyMlp(spec, p, x.ref), y.ref), params);
    let exact = 0;
    for (let j = 0; j < op.dim; j++) {
      const e = np.zeros([op.dim]).add(np.eye(op.dim).slice([j, j + 1]).reshape([op.dim]));
      exact += ((await op.apply(e).data()) as Float32Array)[j];
    }
    op.dispose();
    x.dispose();
    y.dispose();
    const tr = get("hessian_trace");
    assert.ok(Math.abs(tr.value - exact) <= 4 * tr.se! + 1e-4, `Hutchinson ${tr.value} ± ${tr.se} vs exact ${exact}`);
    assert.ok(Math.abs(get("hessian_trace_hutchpp").value - exact) <= 0.25 * Math.abs(exact), `Hutch++ ${get("hessian_trace_hutchpp").value} vs ${exact}`);
    assert.ok(get("hessian_eig1").value >= get("hessian_eig2").value, "eigenvalues in decreasing order");
    assert.ok(get("hessian_eig1").value <= exact + 1e-6 || exact < 0, "λ₁ ≤ trace for a PSD-dominated Hessian");
    assert.ok(tr.cost.hvp >= 40, `HVPs counted: ${tr.cost.hvp}`);
    assert.ok(get("pacbayes_sigma").cost.forward > 0, "forward passes counted");
  });

  it("the same network as a layer list (nn/sequential.ts, the CNN path) gives the dense path's measures: the device path norm, reshaped-kernel norms and HVPs agree", async () => {
    const { net, init, data } = await tinyNetwork();
    const asList = (h: HostDense): SeqNetwork => ({
      input: [h.dims[0]],
      layers: h.weights.flatMap((w, i) => [{ kind: "dense" as const, inDim: h.dims[i], outDim: h.dims[i + 1], w, b: h.biases[i] }, ...(i < h.weights.length - 1 ? [{ kind: "relu" as const }] : [])]),
    });
    const opts = { families: ["data", "count", "norm", "spectra", "curvature"] as MeasureFamily[], traceProbes: 20 };
    const a = await measureNetwork(net, data, keyFromSeed(21), { ...opts, init });
    const b = await measureNetwork(asList(net), data, keyFromSeed(21), { ...opts, init: asList(init) });
    assert.deepEqual(b.values.map((v) => v.id), a.values.map((v) => v.id), "the same measures");
    for (const v of a.values) {
      const w = b.values.find((x) => x.id === v.id)!;
      // float32 device arithmetic against float64 host arithmetic (path norm), identical otherwise up to round-off
      assert.ok(Math.abs(v.value - w.value) <= 1e-4 * Math.max(1, Math.abs(v.value)), `${v.id}: dense ${v.value} vs layer list ${w.value}`);
    }
    await assert.rejects(measureNetwork(asList(net), data, keyFromSeed(2), { init }), /not the same kind of network/);
  });

  it("without the initialisation, the distance measures are reported as not measured, with why; shapes are checked", async () => {
    const { net, data } = await tinyNetwork();
    const res = await measureNetwork(net, data, keyFromSeed(1), { families: ["norm", "optimization"] });
    const why = res.notMeasured.map((m) => m.id);
    for (const id of ["fro_dist", "l2_dist", "dist_spec_init", "steps_to_criterion"]) assert.ok(why.includes(id), `${id} listed as not measured: ${why.join(",")}`);
    assert.ok(!res.values.some((v) => v.id === "fro_dist"), "no distance value without an init");
    assert.throws(() => checkHostDense({ dims: [5, 12, 3], weights: [new Float32Array(60), new Float32Array(35)], biases: [null, null] }), /layer 1: weight has 35 values, expected 12×3/);
    await assert.rejects(measureNetwork(net, { ...data, xShape: [120, 4], x: data.x.slice(0, 480) }, keyFromSeed(2)), /4 features per example/);
    treeDispose([]);
  });
});
