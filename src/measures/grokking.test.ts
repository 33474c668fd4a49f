// The memorization-and-grokking measures of issue 11: Fourier IPR, IPR-ranked pruning, the phase
// classifier, and (below) coherence, alignment and pathway metrics. Each formula on a case with a known answer.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DType, jit, numpy as np, type Array as JArray } from "@jax-js/jax";
import { keyFromSeed, splitKey } from "../core/prng.ts";
import { treeDispose, treeRef } from "../core/tree.ts";
import { gradCheck, onCpu, toF64Cpu } from "../../test/util/numeric.ts";
import { xorClusterData } from "../data/xorClusters.ts";
import { classCounts } from "../data/dataset.ts";
import { gaussianClusters } from "../data/gaussianClusters.ts";
import { twoHopKnowledgeGraph } from "../data/knowledgeGraph.ts";
import { multiOpModular } from "../data/modular.ts";
import { quadraticTeacher } from "../data/teacher.ts";
import { applyMoe, initMoe, topKGates, type MoeParams } from "../nn/moe.ts";
import { editDistance, pathwayConsistency, pathwayDistance, pathwayMetrics, pathways, routingOf } from "./pathway.ts";
import { applyFixedReadout, applyMeanReadout, initFixedReadout, initMeanReadout, meanReadoutJacobian, meanReadoutNtk, readoutSigns } from "../nn/twoLayer.ts";
import { kernelGdCurve, symmetricEigen } from "../theory/kernelGd.ts";
import { choleskySolve } from "../core/linalg.ts";
import { empiricalNtk, kernelTargetAlignment, ntkFeatures } from "./alignment.ts";
import { expectedSingletons, longTailTrial, tau1, zipfFrequencies } from "../theory/longTail.ts";
import { applyMlp, initMlp, mlpSpec, type MlpParams } from "../nn/dense.ts";
import { logisticLoss, softmaxCrossEntropy } from "../nn/losses.ts";
import { sgd } from "../optim/aliases.ts";
import { kthLargest, kthSmallest, meanAggregate, medianAxis0, medianOfMeansAxis0, winsorize, winsorizedMean } from "../optim/robust.ts";
import { chain, scaleByLearningRate } from "../optim/transform.ts";
import { train } from "../train/loop.ts";
import { coherenceOfGradients, mlpCoherence, perExampleGradients } from "../scores/coherence.ts";
import { dftTables, fourierIpr, iprSummary, modularNeuronIpr, rfftPower, rfftSize } from "./fourier.ts";
import { doshiPhase } from "./phases.ts";
import { keepMask, maskHiddenUnits, pruningOrder } from "./pruning.ts";

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tol ${tol})`);

describe("Fourier IPR (Doshi et al. 2024 Eq. 3–4)", () => {
  it("a pure cosine at any frequency and phase has IPR 1; a one-hot vector 1/(⌊p/2⌋+1); a constant 1", async () => {
    for (const p of [23, 59, 97]) {
      const rows: number[] = [];
      for (const [k, phi] of [[1, 0], [5, 0.7], [Math.floor(p / 2), 2.1]]) for (let m = 0; m < p; m++) rows.push(Math.cos((2 * Math.PI * k * m) / p + phi));
      for (let m = 0; m < p; m++) rows.push(m === 3 ? 1 : 0);
      for (let m = 0; m < p; m++) rows.push(2.5);
      const ipr = await fourierIpr(np.array(rows, { shape: [5, p] })).data();
      for (let r = 0; r < 3; r++) close(ipr[r], 1, 2e-4, `cosine row ${r}, p ${p}`);
      close(ipr[3], 1 / rfftSize(p), 1e-5, `one-hot, p ${p}`);
      close(ipr[4], 1, 1e-5, `constant, p ${p}`);
    }
  });

  it("|rfft|² equals a direct DFT in float64, and a zero row has IPR 0 (not NaN)", async () => {
    const p = 13;
    const x = Array.from({ length: p }, (_, m) => Math.sin(1.3 * m * m + 0.2));
    const pow = await rfftPower(np.array(x, { shape: [1, p] })).data();
    for (let j = 0; j < rfftSize(p); j++) {
      let re = 0, im = 0;
      for (let m = 0; m < p; m++) (re += x[m] * Math.cos((2 * Math.PI * j * m) / p)), (im -= x[m] * Math.sin((2 * Math.PI * j * m) / p));
      close(pow[j], re * re + im * im, 1e-4 * (1 + re * re + im * im), `coefficient ${j}`);
    }
    assert.equal(dftTables(p).cos.length, p * rfftSize(p));
    const z = await fourierIpr(np.zeros([2, p])).data();
    assert.deepEqual(Array.from(z), [0, 0]);
  });

  it("per-neuron IPR of the modular network reads U, V and W from the MLP layout and averages them", async () => {
    const p = 7, vOffset = 8, hidden = 3;
    // neuron 0 periodic in U, V, W; neuron 1 one-hot in all three; neuron 2 periodic U, one-hot V and W
    const w0 = new Float32Array(16 * 4);
    const w1 = new Float32Array(4 * 8);
    const cos = (m: number) => Math.cos((2 * Math.PI * 2 * m) / p);
    for (let m = 0; m < p; m++) {
      w0[m * 4 + 0] = cos(m), w0[(vOffset + m) * 4 + 0] = cos(m + 1), w1[0 * 8 + m] = cos(m + 2);
      w0[m * 4 + 2] = cos(m);
    }
    w0[0 * 4 + 1] = 1, w0[(vOffset + 2) * 4 + 1] = 1, w1[1 * 8 + 4] = 1;
    w0[(vOffset + 1) * 4 + 2] = 1, w1[2 * 8 + 0] = 1;
    const params = { layers: [{ w: np.array(w0, { shape: [16, 4] }) }, { w: np.array(w1, { shape: [4, 8] }) }] };
    const ipr = await modularNeuronIpr(params, { p, vOffset, hidden }).data();
    assert.equal(ipr.length, hidden);
    close(ipr[0], 1, 1e-4, "periodic neuron");
    close(ipr[1], 1 / 4, 1e-5, "one-hot neuron");
    close(ipr[2], (1 + 0.25 + 0.25) / 3, 1e-4, "mixed neuron");
    const s = iprSummary(np.array([0.05, 0.2, 0.6, 0.9]));
    close((await s.ipr_mean.data())[0], 0.4375, 1e-6, "mean");
    close((await s.ipr_frac_lo.data())[0], 0.25, 0, "fraction below 0.1");
    close((await s.ipr_frac_hi.data())[0], 0.5, 0, "fraction above 0.5");
  });

  it("a layout that does not fit the weights is a RangeError naming both", () => {
    const params = { layers: [{ w: np.zeros([8, 4]) }, { w: np.zeros([4, 8]) }] };
    assert.throws(() => modularNeuronIpr(params, { p: 7, vOffset: 8, hidden: 4 }), /does not fit w₀ \[8,4\]/);
  });
});

describe("IPR-ranked pruning", () => {
  it("masking units equals the narrower network, and masking all gives a zero output", async () => {
    const spec = mlpSpec({ dims: [5, 6, 3], activation: "square", bias: true, padTo: 1 });
    const params = initMlp(spec, keyFromSeed(4));
    const x = np.array(Array.from({ length: 10 }, (_, i) => Math.cos(i)), { shape: [2, 5] });
    const keep = [1, 0, 1, 1, 0, 1];
    const pruned = await applyMlp(spec, maskHiddenUnits(treeRef(params), keep), x.ref).data();
    // the same network with the pruned columns/rows removed by hand
    const w0 = await params.layers[0].w.ref.data(), b0 = await params.layers[0].b!.ref.data();
    const w1 = await params.layers[1].w.ref.data(), b1 = await params.layers[1].b!.ref.data();
    const xs = await x.ref.data();
    for (let n = 0; n < 2; n++)
      for (let o = 0; o < 3; o++) {
        let y = b1[o];
        for (let k = 0; k < 6; k++) {
          if (!keep[k]) continue;
          let a = b0[k];
          for (let i = 0; i < 5; i++) a += xs[n * 5 + i] * w0[i * 6 + k];
          y += a * a * w1[k * 3 + o];
        }
        close(pruned[n * 3 + o], y, 1e-4 * (1 + Math.abs(y)), `output ${n},${o}`);
      }
    const none = await applyMlp(spec, maskHiddenUnits(params, new Array(6).fill(0)), x).data();
    for (let o = 0; o < 3; o++) close(none[o], b1[o], 1e-6, "all pruned: the output bias only");
  });

  it("orders by score from either end with ties broken by index; keep flags prune a prefix", () => {
    assert.deepEqual(Array.from(pruningOrder([0.3, 0.1, 0.3, 0.9], "low")), [1, 0, 2, 3]);
    assert.deepEqual(Array.from(pruningOrder([0.3, 0.1, 0.3, 0.9], "high")), [3, 0, 2, 1]);
    assert.deepEqual(Array.from(keepMask([2, 0, 1], 4, 2)), [0, 1, 0, 1]);
  });
});

describe("Doshi et al.'s phase classifier (App. C)", () => {
  it("maps (train, test, ξ) to the five phases at the table's boundaries", () => {
    const xi = 0.35; // full inversion below 100(1.05 − ξ)% = 70%
    assert.equal(doshiPhase(0.98, 0.98, xi), "coexistence");
    assert.equal(doshiPhase(0.9, 0.9, xi), "coexistence");
    assert.equal(doshiPhase(0.77, 1, xi), "partial_inversion");
    assert.equal(doshiPhase(0.7, 0.95, xi), "partial_inversion");
    assert.equal(doshiPhase(0.652, 1, xi), "full_inversion");
    assert.equal(doshiPhase(1, 0.05, xi), "memorization");
    assert.equal(doshiPhase(0.5, 0.5, xi), "forgetting");
    assert.throws(() => doshiPhase(NaN, 1, xi), /finite/);
  });
});

describe("Feldman's long-tail model (theory/longTail.ts)", () => {
  it("τ₁ of N uniform points is 1/N; Zipf frequencies sum to 1 and decay as i^(−s)", () => {
    close(tau1(zipfFrequencies(1000, 0), 500), 1e-3, 1e-15, "uniform τ₁");
    const z = zipfFrequencies(100, 2);
    close(z.reduce((a, b) => a + b, 0), 1, 1e-12, "sum");
    close(z[0] / z[9], 100, 1e-9, "p₁/p₁₀ for s = 2");
    // τ₁ = E[p | seen once]: with one frequent and many rare points it is near the rare frequency
    const f = Float64Array.from([0.5, ...new Array(5000).fill(0.5 / 5000)]);
    close(tau1(f, 1000), 1e-4, 1e-6, "τ₁ ignores the frequent point (almost never a singleton)");
  });

  it("the simulated singleton count and gap match their closed forms (200 trials, within 4 standard errors)", () => {
    const freqs = zipfFrequencies(3000, 1);
    const n = 1000, k = 5;
    let key = keyFromSeed(11);
    const s: number[] = [], g: number[] = [];
    for (let i = 0; i < 200; i++) {
      const [a, b] = splitKey(key, 2);
      key = a;
      const r = longTailTrial(freqs, n, k, b);
      s.push(r.singletons), g.push(r.gap);
      assert.ok(r.errNoSingleton >= r.errMemorizer, "fitting fewer points never helps");
    }
    key.dispose();
    const stat = (xs: number[]) => { const m = xs.reduce((a, b) => a + b, 0) / xs.length; return { m, se: Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1) / xs.length) }; };
    const S = stat(s), G = stat(g);
    close(S.m, expectedSingletons(freqs, n), 4 * S.se, "E[#singletons]");
    // E[gap] = (k−1)/k · n Σ p²(1−p)^(n−1) = τ₁ · E[errn₁]
    close(G.m, ((k - 1) / k) * tau1(freqs, n) * expectedSingletons(freqs, n), 4 * G.se, "E[gap]");
  });
});

describe("XOR clusters and the fixed-readout two-layer ReLU", () => {
  it("clusters sit at ±μ₁, ±μ₂ with XOR labels, the flipped rows are exactly ⌊flip·n⌋ and test labels are clean", () => {
    const d = xorClusterData({ n: 400, nTest: 400, d: 50, muNormSq: 400, flip: 0.1 }, keyFromSeed(2));
    assert.equal(d.flipped.length, 40);
    const flipped = new Set(d.flipped);
    let agree = 0;
    for (let i = 0; i < 400; i++) {
      const c = d.trainCluster[i];
      const coord = d.train.x[i * 50 + (c < 2 ? 0 : 1)];
      assert.ok(c % 2 === 0 ? coord > 10 : coord < -10, `row ${i} cluster ${c} coordinate ${coord}`);
      const clean = c < 2 ? 1 : 0;
      if ((d.train.y[i] === clean) !== flipped.has(i)) agree++;
    }
    assert.equal(agree, 400, "flipped rows (and only they) disagree with the cluster label");
    // test: label 1 iff the larger |coordinate| is on axis 0 (clean)
    for (let i = 0; i < 400; i++) assert.equal(d.test.y[i], Math.abs(d.test.x[i * 50]) > Math.abs(d.test.x[i * 50 + 1]) ? 1 : 0, `test row ${i}`);
  });

  it("the readout is ±1/√m, half each; odd widths are refused; the gradient passes a float64 check", async () => {
    const a = readoutSigns(8);
    assert.deepEqual(Array.from(a).map((v) => Math.sign(v)), [1, 1, 1, 1, -1, -1, -1, -1]);
    close(a[0], 1 / Math.sqrt(8), 1e-7, "magnitude");
    assert.throws(() => initFixedReadout({ d: 3, m: 5, activation: "relu", initStd: 1 }, keyFromSeed(0)), /even width/);
    await onCpu(() => {
      const spec = { d: 5, m: 6, activation: "relu" as const, initStd: 1 };
      const params = toF64Cpu(initFixedReadout(spec, keyFromSeed(7)));
      const x = np.array(Array.from({ length: 20 }, (_, i) => Math.sin(2.3 * i + 1)), { shape: [4, 5], dtype: DType.Float64, device: "cpu" });
      const y = np.array([1, 0, 0, 1], { dtype: DType.Float64, device: "cpu" });
      const r = gradCheck((p) => logisticLoss(applyFixedReadout(spec, p as { w: JArray }, x.ref), y.ref), params);
      treeDispose([x, y]);
      assert.ok(r.maxRelErr < 1e-6, `relative error ${r.maxRelErr}`);
    });
  });
});

describe("m-coherence (Chatterjee & Zielinski 2022)", () => {
  it("m identical gradients give m, orthogonal equal-norm gradients give 1, opposite pairs 0", async () => {
    const m = 7;
    const same = np.array(Array.from({ length: m * 3 }, (_, i) => [0.5, -2, 1][i % 3]), { shape: [m, 3] });
    close((await coherenceOfGradients({ a: same }).data())[0], m, 1e-4, "identical");
    const eye = np.eye(m).mul(2.5);
    close((await coherenceOfGradients([eye]).data())[0], 1, 1e-6, "orthogonal");
    const opp = np.array([1, 2, -1, -2], { shape: [2, 2] });
    close((await coherenceOfGradients([opp]).data())[0], 0, 1e-7, "opposite");
  });

  it("ghost-norm coherence of an MLP equals the vmap per-example computation (float64), and m copies of one example give m", async () => {
    await onCpu(async () => {
      const spec = mlpSpec({ dims: [4, 6, 3], activation: "tanh", bias: true, padTo: 1 });
      const params = toF64Cpu(initMlp(spec, keyFromSeed(9)));
      const x = np.array(Array.from({ length: 20 }, (_, i) => Math.cos(1.1 * i)), { shape: [5, 4], dtype: DType.Float64, device: "cpu" });
      const y = np.array([0, 2, 1, 1, 0], { dtype: DType.Int32, device: "cpu" });
      const ghost = (await mlpCoherence(spec, treeRef(params), x.ref, y.ref).data())[0];
      const per = perExampleGradients((p: MlpParams, xb, yb) => softmaxCrossEntropy(applyMlp(spec, p, xb), yb), treeRef(params), x.ref, y.ref);
      const direct = (await coherenceOfGradients(per).data())[0];
      close(ghost, direct, 1e-9 * (1 + direct), "ghost vs vmap");
      assert.ok(ghost > 0 && ghost < 5, `coherence of 5 distinct examples in (0, 5): ${ghost}`);
      const x1 = np.tile(x.slice([0, 1]), [6, 1]);
      const y1 = np.tile(y.slice([0, 1]), [6]);
      close((await mlpCoherence(spec, params, x1, y1).data())[0], 6, 1e-9, "6 copies");
    });
  });
});

describe("robust aggregation: winsorized and median-of-means gradients (optim/robust.ts)", () => {
  const hostKth = (col: number[], c: number) => [...col].sort((a, b) => b - a)[c - 1];
  it("kthLargest/kthSmallest equal a sort, ties included; the median handles odd and even batches", async () => {
    const b = 9, w = 5;
    const vals = Array.from({ length: b * w }, (_, i) => Math.round(4 * Math.sin(3.7 * i)) / 2); // many ties
    const col = (j: number) => Array.from({ length: b }, (_, i) => vals[i * w + j]);
    for (const c of [1, 2, 3, 5, 9]) {
      const got = await kthLargest(np.array(vals, { shape: [b, w] }), c).data();
      const lo = await kthSmallest(np.array(vals, { shape: [b, w] }), c).data();
      const kth = jit((a: JArray) => kthLargest(a, c)) as unknown as ((a: JArray) => JArray) & { dispose(): void };
      const jitted = await kth(np.array(vals, { shape: [b, w] })).data(); // one program: where-chains fused, then materialized
      kth.dispose();
      for (let j = 0; j < w; j++) {
        assert.equal(got[j], hostKth(col(j), c), `c ${c} column ${j} largest`);
        assert.equal(jitted[j], got[j], `c ${c} column ${j} largest, jitted`);
        assert.equal(lo[j], -hostKth(col(j).map((v) => -v), c), `c ${c} column ${j} smallest`);
      }
    }
    const med = await medianAxis0(np.array(vals.slice(0, 8 * w), { shape: [8, w] })).data();
    for (let j = 0; j < w; j++) {
      const s = col(j).slice(0, 8).sort((a, b) => a - b);
      close(med[j], (s[3] + s[4]) / 2, 1e-7, `even median ${j}`);
    }
    assert.throws(() => kthLargest(np.zeros([3, 2]), 4), /c must be an integer in \[1, 3\]/);
  });

  it("the winsorized step of symmetric outliers equals the clean step; one outlier moves the mean but not the winsorized mean", async () => {
    // per-example gradients: 8 clean values around 1 plus two outliers ±50 around the clean mean
    const clean = [0.8, 1.2, 0.9, 1.1, 1.0, 0.7, 1.3, 1.0];
    const cm = clean.reduce((a, b) => a + b, 0) / clean.length;
    const withSym = [...clean, cm + 50, cm - 50];
    const g = (v: number[]) => np.array(v, { shape: [v.length, 1] });
    const [w] = await winsorizedMean(g(withSym), 2).data();
    // clipping to the 2nd order statistics replaces the outliers by 1.3 and 0.7 (symmetric about 1)
    close(w, (clean.reduce((a, b) => a + b, 0) + 1.3 + 0.7) / 10, 1e-6, "winsorized = clean step");
    close(w, cm, 1e-6, "= the clean mean");
    const one = [...clean, 100];
    const [plain] = await g(one).mean(0).data();
    const [win] = await winsorizedMean(g(one), 2).data();
    assert.ok(plain > 10, `the mean is dragged to ${plain}`);
    assert.ok(Math.abs(win - cm) < 0.05, `the winsorized mean stays at ${win}`);
    const [mom] = await medianOfMeansAxis0(g([1, 1, 1, 1, 1, 1, 1000, 1000, 1000]), 3).data();
    close(mom, 1, 1e-6, "median of means ignores one bad group");
  });

  it("in the training loop, a per-example aggregator is used through vmap: the mean aggregator equals plain SGD, winsorize differs", async () => {
    const spec = mlpSpec({ dims: [3, 8, 2], activation: "relu" });
    const data = { x: Float32Array.from({ length: 60 }, (_, i) => Math.sin(0.7 * i)), xShape: [20, 3], y: Int32Array.from({ length: 20 }, (_, i) => i % 2), numClasses: 2 };
    const run = async (opt: ReturnType<typeof sgd>) => {
      const r = await train(initMlp(spec, keyFromSeed(1)), { loss: (p, x, y) => softmaxCrossEntropy(applyMlp(spec, p, x), y), optimizer: opt, train: data, steps: 5, batchSize: 10, log: { every: 0, perDecade: 0 }, key: keyFromSeed(2) });
      const flat = (await r.params.layers[0].w.ref.data()).slice();
      treeDispose([r.params, r.optState]);
      return flat;
    };
    const a = await run(sgd(0.5));
    const b = await run(chain(meanAggregate(), scaleByLearningRate(0.5)));
    const c = await run(chain(winsorize(2), scaleByLearningRate(0.5)));
    let dab = 0, dac = 0;
    for (let i = 0; i < a.length; i++) (dab = Math.max(dab, Math.abs(a[i] - b[i]))), (dac = Math.max(dac, Math.abs(a[i] - c[i])));
    assert.ok(dab < 1e-5, `mean aggregator vs SGD: ${dab}`);
    assert.ok(dac > 1e-4, `winsorize must change the step: ${dac}`);
    assert.throws(() => chain(scaleByLearningRate(1), winsorize(2)), /must come first/);
  });
});

describe("NTK, kernel–target alignment and the linearised model's closed-form GD", () => {
  it("alignment of K = y yᵀ with a centred y is 1; of the identity it is ‖y_c‖/(√n‖y_c‖)… (hand values)", async () => {
    const y = [1, -2, 0.5, 0.5];
    const K = np.array(y.flatMap((a) => y.map((b) => a * b)), { shape: [4, 4] });
    close((await kernelTargetAlignment(K, np.array(y)).data())[0], 1, 1e-6, "rank-one kernel of the target");
    // K = I: K_c = I − 1/n, y_cᵀ K_c y_c = ‖y_c‖², ‖K_c‖_F = √(n − 1) → A = 1/√(n − 1)
    close((await kernelTargetAlignment(np.eye(4), np.array(y)).data())[0], 1 / Math.sqrt(3), 1e-6, "identity kernel");
  });

  it("the mean-readout model's analytic Jacobian and NTK equal autodiff (float64)", async () => {
    await onCpu(async () => {
      const spec = { d: 4, n: 6, alpha: 0.7, eps: 0.3 };
      const params = toF64Cpu(initMeanReadout(spec, keyFromSeed(5)));
      const x = np.array(Array.from({ length: 12 }, (_, i) => Math.sin(0.9 * i + 0.1)), { shape: [3, 4], dtype: DType.Float64, device: "cpu" });
      const f = (p: { w: JArray }, xx: JArray) => applyMeanReadout(spec, p, xx);
      const jA = await meanReadoutJacobian(spec, treeRef(params), x.ref).data();
      const jB = await ntkFeatures(f, treeRef(params), x.ref).data();
      for (let i = 0; i < jA.length; i++) close(jA[i], jB[i], 1e-12, `J[${i}]`);
      const kA = await meanReadoutNtk(spec, treeRef(params), x.ref).data();
      const kB = await empiricalNtk(f, params, x).data();
      for (let i = 0; i < kA.length; i++) close(kA[i], kB[i], 1e-12, `K[${i}]`);
    });
  });

  it("the closed-form GD curve of a linear model equals explicit iteration; its limit is the kernel interpolant", () => {
    const P = 6, M = 4, F = 9;
    const J = Array.from({ length: (P + M) * F }, (_, i) => { const v = Math.sin(12.9898 * (i + 1)) * 43758.5453; return v - Math.floor(v) - 0.5; });
    const dot = (a: number, b: number) => { let s = 0; for (let k = 0; k < F; k++) s += J[a * F + k] * J[b * F + k]; return s; };
    const kTrain = Float64Array.from({ length: P * P }, (_, i) => dot(Math.floor(i / P), i % P));
    const kCross = Float64Array.from({ length: M * P }, (_, i) => dot(P + Math.floor(i / P), i % P));
    const yTrain = [0.3, -1, 2, 0.5, 0, 1], yTest = [1, 0, -0.5, 2];
    const lr = 0.05, steps = [0, 1, 7, 40];
    const curve = kernelGdCurve({ kTrain, kCross, yTrain, yTest, lr, steps });
    // explicit GD on δ ∈ R^F with loss mean((Jδ − y)²)
    const delta = new Float64Array(F);
    const pred = (row: number) => { let s = 0; for (let k = 0; k < F; k++) s += J[row * F + k] * delta[k]; return s; };
    const mse = (rows: number[], ys: number[]) => rows.reduce((a, r, i) => a + (pred(r) - ys[i]) ** 2, 0) / rows.length;
    const trainRows = [...Array(P).keys()], testRows = [...Array(M).keys()].map((i) => P + i);
    let t = 0;
    for (const [si, target] of steps.entries()) {
      for (; t < target; t++) {
        const r = trainRows.map((row, i) => pred(row) - yTrain[i]);
        for (let k = 0; k < F; k++) delta[k] -= lr * (2 / P) * trainRows.reduce((a, row, i) => a + J[row * F + k] * r[i], 0);
      }
      close(curve.train[si], mse(trainRows, yTrain), 1e-9, `train MSE at step ${target}`);
      close(curve.test[si], mse(testRows, yTest), 1e-9, `test MSE at step ${target}`);
    }
    const { values } = symmetricEigen(kTrain, P);
    const trace = [...Array(P).keys()].reduce((a, i) => a + kTrain[i * P + i], 0);
    close(values.reduce((a, b) => a + b, 0), trace, 1e-9 * trace, "eigenvalues sum to the trace");
    // P < F: K is full rank and the t → ∞ limit is the interpolant K× K⁻¹ y
    const c = choleskySolve(kTrain, P, 0, Float64Array.from(yTrain), 1)!;
    const interp = yTest.reduce((a, yt, i) => a + ([...Array(P).keys()].reduce((s, j) => s + kCross[i * P + j] * c[j], 0) - yt) ** 2, 0) / M;
    close(curve.limitTest, interp, 1e-6 * (1 + interp), "t → ∞ equals the kernel interpolant");
  });
});

describe("MoE routing and pathway metrics (nn/moe.ts, measures/pathway.ts)", () => {
  it("edit distance, pathways and their mean pairwise distance on hand cases", () => {
    assert.equal(editDistance([1, 2, 3], [1, 2, 3]), 0);
    assert.equal(editDistance([1, 2, 3], [1, 3]), 1);
    assert.equal(editDistance([0, 1, 2, 3], [4, 5, 6, 7]), 4);
    assert.equal(editDistance([], [1, 2]), 2);
    // 2 rows, 2 layers, 3 experts: row 0 picks {0, 2} then {1, 2}; row 1 picks {0, 2} then {0, 1}
    const gates = [Float32Array.from([0.5, 0, 0.5, 0.7, 0, 0.3]), Float32Array.from([0, 0.4, 0.6, 0.2, 0.8, 0])];
    assert.deepEqual(pathways(gates, 2, 3), [[0, 2, 1, 2], [0, 2, 0, 1]]);
    assert.equal(pathwayDistance([[0, 2, 1, 2], [0, 2, 0, 1], [0, 2, 1, 2]]), (2 + 0 + 2) / 3);
  });

  it("consistency is 1 for identical layer embeddings, 0 for orthogonal ones, and averages over layer pairs", () => {
    const same = Float32Array.from([1, 0, 0, 1]);
    close(pathwayConsistency([same, same, same], 2, 2), 1, 1e-7, "identical");
    const other = Float32Array.from([0, 1, 1, 0]);
    close(pathwayConsistency([same, other], 2, 2), 0, 1e-7, "orthogonal");
    close(pathwayConsistency([same, same, other], 2, 2), 0.5, 1e-7, "one of two transitions aligned");
  });

  it("top-k gates keep exactly k experts per row, sum to 1, and the MoE gradient passes a float64 check", async () => {
    const probs = np.array([0.1, 0.5, 0.15, 0.25, 0.4, 0.3, 0.2, 0.1], { shape: [2, 4] });
    const g = await topKGates(probs, 2).data();
    assert.deepEqual(Array.from(g).map((v) => (v > 0 ? 1 : 0)), [0, 1, 0, 1, 1, 1, 0, 0]);
    close(g[1], 0.5 / 0.75, 1e-6, "renormalised");
    await onCpu(async () => {
      const spec = { input: 5, dModel: 4, hidden: 6, experts: 3, topK: 2, layers: 2, output: 3 };
      const params = toF64Cpu(initMoe(spec, keyFromSeed(12)));
      const x = np.array(Array.from({ length: 20 }, (_, i) => Math.cos(0.77 * i + 0.3)), { shape: [4, 5], dtype: DType.Float64, device: "cpu" });
      const y = np.array([0, 2, 1, 1], { dtype: DType.Int32, device: "cpu" });
      const r = gradCheck((p) => softmaxCrossEntropy(applyMoe(spec, p as MoeParams, x.ref), y.ref), params, { eps: 1e-6 });
      assert.ok(r.maxRelErr < 1e-5, `relative error ${r.maxRelErr}`);
      const rt = await routingOf(spec, toF64Cpu(initMoe(spec, keyFromSeed(12))), x);
      assert.equal(rt.gates.length, 2);
      for (const gl of rt.gates) for (let i = 0; i < 4; i++) assert.equal(Array.from(gl.subarray(i * 3, i * 3 + 3)).filter((v) => v > 0).length, 2, "two experts per row");
      const m = pathwayMetrics(rt, 4, spec);
      assert.ok(m.pathway_distance >= 0 && m.pathway_distance <= 4, `distance ${m.pathway_distance}`);
      assert.ok(m.consistency_a > 0 && m.consistency_a <= 1 + 1e-9, `consistency (a) ${m.consistency_a}`);
      treeDispose(y);
    });
  });

  it("the mean-readout model passes a float64 finite-difference check", async () => {
    await onCpu(() => {
      const spec = { d: 4, n: 6, alpha: 2, eps: 0.3 };
      const params = toF64Cpu(initMeanReadout(spec, keyFromSeed(3)));
      const x = np.array(Array.from({ length: 12 }, (_, i) => Math.sin(0.4 * i + 0.2)), { shape: [3, 4], dtype: DType.Float64, device: "cpu" });
      const y = np.array([0.5, -1, 2], { dtype: DType.Float64, device: "cpu" });
      const r = gradCheck((p) => np.square(applyMeanReadout(spec, p as { w: JArray }, x.ref).sub(y.ref)).mean(), params);
      treeDispose([x, y]);
      assert.ok(r.maxRelErr < 1e-6, `relative error ${r.maxRelErr}`);
    });
  });
});

describe("generators: multi-operation modular data, Gaussian clusters, the quadratic teacher, two-hop knowledge graphs", () => {
  it("multiOpModular covers every pair of every operation once, with the right labels and groups", () => {
    const d = multiOpModular({ p: 7, ops: ["add", "sub", "div"], trainFraction: 0.6 }, keyFromSeed(1));
    const n = d.train.y.length + d.test.y.length;
    assert.equal(n, 49 + 49 + 42);
    const w = 2 * 7 + 3;
    const seen = new Set<string>();
    for (const [ds, grp] of [[d.train, d.trainGroup], [d.test, d.testGroup]] as const)
      for (let i = 0; i < ds.y.length; i++) {
        const row = ds.x.subarray(i * w, (i + 1) * w);
        const a = row.indexOf(1), b = row.subarray(7, 14).indexOf(1), g = row.subarray(14).indexOf(1);
        assert.equal(g, grp[i]);
        const want = g === 0 ? (a + b) % 7 : g === 1 ? (((a - b) % 7) + 7) % 7 : (a * [0, 1, 4, 5, 2, 3, 6][b]) % 7;
        assert.equal(ds.y[i], want, `${a} op${g} ${b}`);
        seen.add(`${a},${b},${g}`);
      }
    assert.equal(seen.size, n, "no duplicates");
  });

  it("Gaussian clusters are balanced around their means; the quadratic teacher is (βᵀx)²/2 with x of norm ≈ 1", () => {
    const c = gaussianClusters({ n: 400, nTest: 10, d: 8, classes: 4, sep: 3, noise: 0.1 }, keyFromSeed(2));
    assert.deepEqual(classCounts(c.train.y, 4), [100, 100, 100, 100]);
    for (let i = 0; i < 400; i++) {
      const k = c.train.y[i];
      let dist = 0;
      for (let j = 0; j < 8; j++) dist += (c.train.x[i * 8 + j] - c.means[k * 8 + j]) ** 2;
      assert.ok(Math.sqrt(dist) < 1, `row ${i} is near its class mean`);
    }
    const t = quadraticTeacher({ n: 200, nTest: 5, d: 50 }, keyFromSeed(3));
    let norm = 0;
    for (let i = 0; i < 200; i++) {
      let s = 0, q = 0;
      for (let j = 0; j < 50; j++) (s += t.beta[j] * t.train.x[i * 50 + j]), (q += t.train.x[i * 50 + j] ** 2);
      close(t.train.y[i], (s * s) / 2, 1e-4 * (1 + s * s), `target ${i}`);
      norm += q / 200;
    }
    close(norm, 1, 0.05, "E‖x‖² = 1");
  });

  it("the two-hop knowledge graph follows the generator's rules (out-degree, OOD splits, φ) and encodes tails at the right position", () => {
    const spec = { entities: 60, relations: 8, outDegree: 4, oodFraction: 0.2, idTestFraction: 0.1, phi: 2 };
    const kg = twoHopKnowledgeGraph(spec, keyFromSeed(4));
    assert.equal(kg.counts.atomic, 240);
    assert.equal(kg.counts.atomicId + kg.counts.atomicOod, 240);
    assert.equal(kg.counts.inferredTrain, Math.min(kg.counts.inferredIdTrainPool, Math.round(2 * kg.counts.atomicId)));
    assert.equal(kg.train.y.length, 240 + kg.counts.inferredTrain);
    const E = 60, pad = E + 8;
    const rows = (ds: { x: Int32Array | Float32Array; y: Int32Array | Float32Array }) => Array.from({ length: ds.y.length }, (_, i) => Array.from(ds.x.subarray(i * 4, i * 4 + 4)));
    // atomic: [h, r, PAD] at position 1; a map (h, r) → t
    const tail = new Map<string, number>();
    rows(kg.probes.atomic_id).forEach((r, i) => { assert.deepEqual([r[2], r[3]], [pad, 1]); tail.set(`${r[0]},${r[1]}`, kg.probes.atomic_id.y[i]); });
    const ood = new Set<string>();
    rows(kg.probes.atomic_ood).forEach((r, i) => { ood.add(`${r[0]},${r[1]}`); tail.set(`${r[0]},${r[1]}`, kg.probes.atomic_ood.y[i]); });
    const outDeg = new Map<number, number>();
    for (const k of tail.keys()) outDeg.set(Number(k.split(",")[0]), (outDeg.get(Number(k.split(",")[0])) ?? 0) + 1);
    assert.ok([...outDeg.values()].every((v) => v === 4) && outDeg.size === E, "every head has out-degree 4");
    // inferred: [h, r1, r2] at position 2, tail = t(t(h, r1), r2); ID test: both hops ID; OOD: both OOD
    const check = (name: "inferred_id" | "inferred_ood" | "inferred_train", bothOod: boolean) =>
      rows(kg.probes[name]).forEach((r, i) => {
        assert.equal(r[3], 2);
        const b = tail.get(`${r[0]},${r[1]}`)!;
        assert.equal(kg.probes[name].y[i], tail.get(`${b},${r[2]}`), `${name} row ${i} composes`);
        assert.equal(ood.has(`${r[0]},${r[1]}`), bothOod);
        assert.equal(ood.has(`${b},${r[2]}`), bothOod);
      });
    check("inferred_id", false);
    check("inferred_train", false);
    check("inferred_ood", true);
    assert.ok(kg.probes.inferred_ood.y.length > 0 && kg.probes.inferred_id.y.length > 0, "both test splits are non-empty");
  });
});
