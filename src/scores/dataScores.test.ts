import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DType, grad, jit, numpy as np, type Array } from "@jax-js/jax";
import { keyFromSeed } from "../core/prng.ts";
import { treeDispose, treeRef, treeToHost, type HostTree } from "../core/tree.ts";
import { onCpu, toF64Cpu } from "../../test/util/numeric.ts";
import { applyMlp, initMlp, mlpSpec, type MlpParams } from "../nn/dense.ts";
import { applyCnn, cnnSpec, initCnn, type CnnParams } from "../nn/cnn.ts";
import { perExampleCrossEntropy, outputQuantities, mlpPerExample, genericPerExample, perExampleInBatches, maxRowsForParams } from "./perExample.ts";
import { appendEpoch, averageDynamics, dynamicsRecorder, forgettingOf, mlpDynamics, truncateDynamics, type Dynamics } from "./dynamics.ts";
import { cartography, mapRegions } from "./cartography.ts";
import { aum, aumThreshold } from "./aum.ts";
import { influenceEstimate, linearDatamodelingScore, memorizationEstimate, memorizationProxy, subsetMasks } from "./memorization.ts";
import { calibrateJoint, confidentJoint, confidentThresholds, estimatedNumLabelIssues, findLabelIssues, roundPreservingRowTotals, selfConfidence } from "./confidentLearning.ts";
import { keepFraction, keepMax, offsetSubset } from "./selection.ts";
import { kmeans, upsample, usefulSlowCluster } from "./useful.ts";
import { nearDuplicateIssues, nearestNeighbours } from "./nearDuplicates.ts";
import { auroc, flagMetrics, liftAtK } from "./ranking.ts";
import { train } from "../train/loop.ts";
import { sgd } from "../optim/aliases.ts";
import { softmaxCrossEntropy } from "../nn/losses.ts";

const flat = (h: HostTree): number[] => ("data" in h && "shape" in h ? (h as { data: number[] }).data : Object.values(h as object).flatMap((v) => flat(v as HostTree)));
const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tol ${tol})`);

describe("per-example quantities", () => {
  it("outputQuantities on hand logits: loss, logit margin, correctness, p(label), EL2N (float64, 1e-12)", async () => {
    await onCpu(() => {
      const logits = np.array([2, 0, -1, 0, 3, 1], { shape: [2, 3], dtype: DType.Float64, device: "cpu" });
      const labels = np.array([0, 2], { dtype: DType.Int32, device: "cpu" });
      const q = outputQuantities(logits, labels);
      const got = Object.fromEntries(Object.entries(q).map(([k, v]) => [k, v.js() as number[]]));
      const sm = (z: number[]) => z.map((v) => Math.exp(v) / z.reduce((a, b) => a + Math.exp(b), 0));
      const p0 = sm([2, 0, -1]);
      const p1 = sm([0, 3, 1]);
      close(got.loss[0], -Math.log(p0[0]), 1e-12, "loss 0");
      close(got.loss[1], -Math.log(p1[2]), 1e-12, "loss 1");
      assert.deepEqual(got.margin, [2, -2]); // 2 − max(0, −1); 1 − max(0, 3)
      assert.deepEqual(got.correct, [1, 0]);
      close(got.p_true[1], p1[2], 1e-12, "p_true");
      close(got.el2n[0], Math.hypot(p0[0] - 1, p0[1], p0[2]), 1e-12, "el2n");
    });
  });

  it("MLP ghost pass and the vmap path give the per-example gradient norms of a one-by-one loop (float64, 1e-10)", async () => {
    await onCpu(() => {
      const spec = mlpSpec({ dims: [5, 7, 3], padTo: 1 });
      const params = toF64Cpu(initMlp(spec, keyFromSeed(5)));
      const x = np.array(globalThis.Array.from({ length: 30 }, (_, i) => Math.cos(0.9 * i)), { shape: [6, 5], dtype: DType.Float64, device: "cpu" });
      const y = np.array([0, 1, 2, 2, 1, 0], { dtype: DType.Int32, device: "cpu" });
      const ghost = mlpPerExample(spec, treeRef(params), x.ref, y.ref);
      const { grad_norm: gn1, loss: ls1, ...rest1 } = ghost;
      const g1 = gn1.js() as number[];
      const l1 = ls1.js() as number[];
      treeDispose(Object.values(rest1));
      const generic = genericPerExample((p: MlpParams, xb: Array) => applyMlp(spec, p, xb), treeRef(params), x.ref, y.ref);
      const { grad_norm: gn2, ...rest2 } = generic;
      const g2 = gn2.js() as number[];
      treeDispose(Object.values(rest2));
      for (let i = 0; i < 6; i++) {
        const xi = x.ref.slice([i, i + 1]);
        const yi = y.ref.slice([i, i + 1]);
        const g = grad((p: MlpParams) => perExampleCrossEntropy(applyMlp(spec, p, xi.ref), yi.ref).sum())(treeRef(params));
        const direct = Math.sqrt(flat(treeToHost(g)).reduce((a, v) => a + v * v, 0));
        treeDispose([xi, yi]);
        close(g1[i], direct, 1e-10 * Math.max(1, direct), `ghost ${i}`);
        close(g2[i], direct, 1e-10 * Math.max(1, direct), `vmap ${i}`);
        assert.ok(l1[i] > 0, `loss of ${i} is positive`);
      }
      treeDispose([params, x, y]);
    });
  });

  it("a conv net (no ghost norms): the vmap path equals a per-example loop (float64, 1e-9)", async () => {
    await onCpu(() => {
      const spec = cnnSpec({ height: 8, width: 8, channels: [2, 3], hidden: 5, outDim: 3 });
      const params = toF64Cpu(initCnn(spec, keyFromSeed(2)));
      const x = np.array(globalThis.Array.from({ length: 4 * 64 }, (_, i) => Math.sin(0.37 * i)), { shape: [4, 64], dtype: DType.Float64, device: "cpu" });
      const y = np.array([0, 2, 1, 2], { dtype: DType.Int32, device: "cpu" });
      const r = genericPerExample((p: CnnParams, xb: Array) => applyCnn(spec, p, xb), treeRef(params), x.ref, y.ref);
      const { grad_norm: gn3, ...rest3 } = r;
      const gn = gn3.js() as number[];
      treeDispose(Object.values(rest3));
      for (let i = 0; i < 4; i++) {
        const xi = x.ref.slice([i, i + 1]);
        const yi = y.ref.slice([i, i + 1]);
        const g = grad((p: CnnParams) => perExampleCrossEntropy(applyCnn(spec, p, xi.ref), yi.ref).sum())(treeRef(params));
        const direct = Math.sqrt(flat(treeToHost(g)).reduce((a, v) => a + v * v, 0));
        treeDispose([xi, yi]);
        close(gn[i], direct, 1e-9 * Math.max(1, direct), `cnn ${i}`);
      }
      treeDispose([params, x, y]);
    });
  });

  it("batched evaluation equals one pass over all rows, and chunks bound memory by rows × parameters", async () => {
    const spec = mlpSpec({ dims: [6, 8, 3] });
    const params = initMlp(spec, keyFromSeed(1));
    const n = 23;
    const data = { x: Float32Array.from({ length: n * 6 }, (_, i) => Math.sin(i)), xShape: [n, 6], y: Int32Array.from({ length: n }, (_, i) => i % 3) };
    const f = jit(((p: MlpParams, x: Array, y: Array) => mlpPerExample(spec, p, x, y)) as never) as unknown as ((p: MlpParams, x: Array, y: Array) => Record<string, Array>) & { dispose(): void };
    const batched = await perExampleInBatches(f, params, data, 5);
    const whole = await perExampleInBatches(f, params, data, n);
    f.dispose();
    for (const k of Object.keys(whole)) for (let i = 0; i < n; i++) close(batched[k][i], whole[k][i], 1e-5 * Math.max(1, Math.abs(whole[k][i])), `${k}[${i}]`);
    assert.equal(maxRowsForParams(1 << 20, 1 << 24), 16);
    assert.equal(maxRowsForParams(1 << 30), 1);
    treeDispose(params);
  });
});

const dyn = (epochs: number[], rows: Record<string, number[][]>): Dynamics => {
  let d: Dynamics = { epochs: [], n: Object.values(rows)[0][0].length, values: {} };
  epochs.forEach((e, r) => (d = appendEpoch(d, e, Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, Float32Array.from(v[r])])))));
  return d;
};

describe("scores from the dynamics (known answers)", () => {
  const d = dyn([0, 1, 2, 3], {
    p_true: [[0.1, 0.5, 0.9], [0.2, 0.9, 0.5], [0.4, 0.1, 0.5], [0.6, 0.8, 0.5]],
    correct: [[0, 0, 1], [0, 1, 1], [0, 0, 1], [1, 1, 1]],
    margin: [[-1, 0, 1], [-2, 1, 1], [-3, -1, 1], [1, 3, 1]],
  });

  it("cartography: confidence, population std, correctness over epochs ≥ 1", () => {
    const c = cartography(d);
    close(c.confidence[0], 0.4, 1e-7, "confidence");
    close(c.variability[0], Math.sqrt(((0.2 - 0.4) ** 2 + 0 + (0.6 - 0.4) ** 2) / 3), 1e-7, "variability");
    assert.equal(c.variability[2], 0);
    close(c.correctness[1], 2 / 3, 1e-12, "correctness");
    assert.deepEqual(mapRegions(c), ["hard", "ambiguous", "easy"]); // σ̂ 0.16 with μ̂ 0.4; σ̂ 0.36; σ̂ 0
  });

  it("AUM is the mean logit margin after initialisation; the threshold is a percentile", () => {
    assert.deepEqual(globalThis.Array.from(aum(d)), [-4 / 3, 1, 1]);
    close(aumThreshold([0, 1, 2, 3, 4], 50), 2, 1e-12, "median");
    close(aumThreshold([0, 10], 99), 9.9, 1e-12, "p99");
  });

  it("forgetting from dynamics equals Toneva's count; averaging and truncation keep shapes", () => {
    assert.deepEqual(globalThis.Array.from(forgettingOf(d)), [0, 1, 0]); // learned last: no event; 1→0→1: one event
    assert.deepEqual(globalThis.Array.from(forgettingOf(dyn([1, 2], { correct: [[0], [0]] }))), [2]); // never learned → #epochs
    const avg = averageDynamics([d, d]);
    assert.deepEqual(globalThis.Array.from(avg.values.margin!), globalThis.Array.from(d.values.margin!));
    const t = truncateDynamics(d, 2);
    assert.deepEqual(t.epochs, [0, 1]);
    assert.equal(t.values.p_true!.length, 6);
  });
});

describe("memorization and influence by subset retraining", () => {
  it("masks have exactly round(f·n) members; an outcome equal to membership has mem 1, an independent one ≈ 0 with its SE", () => {
    const masks = subsetMasks(50, 40, 0.7, keyFromSeed(3));
    for (const m of masks) assert.equal(m.reduce((a, b) => a + b, 0), 35);
    const mem = memorizationEstimate(masks, masks);
    for (let i = 0; i < 50; i++) {
      assert.equal(mem.value[i], 1);
      // Agresti–Caffo: p̃_in = (K_in + 1)/(K_in + 2), p̃_out = 1/(K_out + 2): not 0 although every outcome agrees
      const a = mem.kIn[i];
      const b = mem.kOut[i];
      const pIn = (a + 1) / (a + 2);
      const pOut = 1 / (b + 2);
      close(mem.se[i], Math.sqrt((pIn * (1 - pIn)) / (a + 2) + (pOut * (1 - pOut)) / (b + 2)), 1e-12, "Agresti–Caffo SE");
    }
    // outcome = a fixed coin per model, independent of membership: mem ≈ 0 within a few SE
    const coin = masks.map((_, k) => Float32Array.from({ length: 50 }, () => ((k * 7) % 3 === 0 ? 1 : 0)));
    const m2 = memorizationEstimate(masks, coin);
    let z = 0;
    for (let i = 0; i < 50; i++) z += Math.abs(m2.value[i]) / m2.se[i];
    assert.ok(z / 50 < 2.5, `mean |mem|/SE = ${z / 50}`);
  });

  it("for continuous outcomes the SE is √(s²_in/K_in + s²_out/K_out) (hand case); one model on a side gives NaN", () => {
    const masks = [1, 1, 1, 0, 0].map((v) => Uint8Array.of(v));
    const out = [0.9, 0.1, 0.9, 0.1, 0.9].map((v) => Float32Array.of(v));
    const m = memorizationEstimate(masks, out);
    close(m.value[0], (1.9 / 3) - 0.5, 1e-6, "mem");
    close(m.se[0], Math.sqrt((0.64 / 3) / 3 + 0.32 / 2), 1e-6, "se"); // s²_in = 0.64/3·…, s²_out = 0.32
    assert.ok(Number.isNaN(memorizationEstimate([Uint8Array.of(1), Uint8Array.of(0)], [Float32Array.of(0.5), Float32Array.of(0.2)]).se[0]), "one model a side: no SE");
    assert.deepEqual(globalThis.Array.from(memorizationProxy([0.9, 0.5], [0.1, 0.5])), [0.9 - 0.1, 0]);
  });

  it("influence: a target driven by one training example is attributed to it; LDS is 1 for a linear datamodel and ≈ 0 for a shuffled attribution", () => {
    const n = 20;
    const masks = subsetMasks(n, 400, 0.5, keyFromSeed(8));
    // target j = 3·[i=j ∈ S] + [i=j+1 ∈ S] (a linear datamodel of membership)
    const outcome = (m: Uint8Array) => Float32Array.from({ length: 5 }, (_, j) => 3 * m[j] + m[j + 1]);
    const inf = influenceEstimate(masks, masks.map(outcome));
    // fixed-size subsets make memberships slightly anti-correlated, so the estimate is close, not exact (400 models: SE ≈ 0.16)
    close(inf.value[0 * 5 + 0], 3, 0.5, "self influence");
    close(inf.value[1 * 5 + 0], 1, 0.5, "neighbour influence");
    close(inf.value[7 * 5 + 0], 0, 0.5, "unrelated");
    const held = subsetMasks(n, 30, 0.5, keyFromSeed(9));
    const exact = { value: Float32Array.from({ length: n * 5 }, (_, t) => (Math.floor(t / 5) === t % 5 ? 3 : Math.floor(t / 5) === (t % 5) + 1 ? 1 : 0)), n, m: 5 };
    close(linearDatamodelingScore(exact, held, held.map(outcome)).lds, 1, 1e-12, "LDS of the exact datamodel");
    const est = linearDatamodelingScore(inf, held, held.map(outcome)).lds;
    assert.ok(est > 0.9, `LDS of the estimate ${est}`);
    const shuffled = { ...inf, value: Float32Array.from(inf.value, (_, t) => inf.value[(t * 37 + 11) % inf.value.length]) };
    const bad = linearDatamodelingScore(shuffled, held, held.map(outcome)).lds;
    assert.ok(bad < 0.6, `LDS of a shuffled attribution ${bad}`);
  });
});

describe("confident learning (cleanlab's find_label_issues)", () => {
  // 3 classes, 12 examples: rows 2 and 7 are labelled against a confident prediction
  const labels = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2];
  const rows = [
    [0.9, 0.05, 0.05], [0.8, 0.1, 0.1], [0.05, 0.9, 0.05], [0.7, 0.2, 0.1],
    [0.1, 0.8, 0.1], [0.2, 0.7, 0.1], [0.1, 0.85, 0.05], [0.05, 0.05, 0.9],
    [0.1, 0.1, 0.8], [0.1, 0.2, 0.7], [0.2, 0.1, 0.7], [0.05, 0.15, 0.8],
  ];
  const p = { data: rows.flat(), n: 12, c: 3 };

  it("thresholds are per-class mean self-confidences; the joint counts (given, confident) pairs", () => {
    const t = confidentThresholds(labels, p);
    close(t[0], (0.9 + 0.8 + 0.05 + 0.7) / 4, 1e-12, "t0");
    const { joint, offDiagonal } = confidentJoint(labels, p, { calibrate: false });
    assert.deepEqual(globalThis.Array.from(offDiagonal), [2, 7]);
    assert.equal(joint[0][1], 1);
    assert.equal(joint[1][2], 1);
    const cal = calibrateJoint(joint, labels);
    assert.deepEqual(cal.map((r) => r.reduce((a, b) => a + b, 0)), [4, 4, 4]);
  });

  it("prune_by_noise_rate flags exactly the two flipped rows; self-confidence ranks them lowest", () => {
    assert.deepEqual(globalThis.Array.from(findLabelIssues(labels, p)), labels.map((_, i) => (i === 2 || i === 7 ? 1 : 0)));
    assert.deepEqual(globalThis.Array.from(findLabelIssues(labels, p, { filterBy: "predicted_neq_given" })), labels.map((_, i) => (i === 2 || i === 7 ? 1 : 0)));
    const sc = selfConfidence(labels, p);
    const order = globalThis.Array.from(sc).map((v, i) => [v, i]).sort((a, b) => a[0] - b[0]).map((x) => x[1]);
    assert.deepEqual(order.slice(0, 2).sort(), [2, 7]);
    assert.equal(estimatedNumLabelIssues(labels, p), 2);
  });

  it("rounding keeps row totals", () => {
    assert.deepEqual(roundPreservingRowTotals([[0.4, 0.4, 1.2], [2.5, 0.5, 0]]), [[1, 0, 1], [3, 0, 0]]);
  });

  it("on synthetic noisy probabilities CL reaches high precision and recall; AUROC of 1 − p̂_y is high", () => {
    const n = 600;
    const c = 4;
    const lab: number[] = [];
    const flipped: number[] = [];
    const data: number[] = [];
    for (let i = 0; i < n; i++) {
      const truth = i % c;
      const flip = i % 10 === 3;
      const given = flip ? (truth + 1 + (i % 3)) % c : truth;
      lab.push(given);
      flipped.push(flip ? 1 : 0);
      const conf = 0.55 + 0.4 * Math.abs(Math.sin(i)); // model believes the true class
      for (let j = 0; j < c; j++) data.push(j === truth ? conf : (1 - conf) / (c - 1));
    }
    const pp = { data, n, c };
    const m = flagMetrics(findLabelIssues(lab, pp), flipped);
    assert.ok(m.precision >= 0.95 && m.recall >= 0.95, JSON.stringify(m));
    assert.ok(auroc(globalThis.Array.from(selfConfidence(lab, pp), (v) => 1 - v), flipped) > 0.99, "AUROC of 1 − self-confidence");
    close(liftAtK(globalThis.Array.from(selfConfidence(lab, pp), (v) => 1 - v), flipped, 60), 10, 1e-9, "lift@60");
  });
});

describe("subset selection, USEFUL, near-duplicates", () => {
  it("keep-max and offset subsets", () => {
    const s = [5, 1, 9, 7, 3];
    assert.deepEqual(globalThis.Array.from(keepMax(s, 2)), [2, 3]);
    assert.deepEqual(globalThis.Array.from(offsetSubset(s, 2, 1)), [0, 3]);
    assert.deepEqual(globalThis.Array.from(keepFraction(s, 0.6)), [0, 2, 3]);
    assert.throws(() => offsetSubset(s, 4, 2), /exceeds/);
  });

  it("k-means separates two blobs; USEFUL picks the higher-loss cluster per class (and the broken variant the other)", () => {
    const m = 40;
    const x = Float64Array.from({ length: m * 2 }, (_, t) => (Math.floor(t / 2) < 20 ? 0 : 5) + 0.1 * Math.sin(t));
    const { assign } = kmeans(x, m, 2, 2, keyFromSeed(1));
    for (let i = 1; i < 20; i++) assert.equal(assign[i], assign[0]);
    for (let i = 21; i < 40; i++) assert.equal(assign[i], assign[20]);
    assert.notEqual(assign[0], assign[20]);
    // two classes; within each, the second half has outputs far away and a higher loss
    const labels = Int32Array.from({ length: 40 }, (_, i) => (i < 20 ? 0 : 1));
    const out = Float32Array.from({ length: 40 }, (_, i) => (i % 20 < 14 ? 3 : -1) + 0.01 * i);
    const loss = Float32Array.from({ length: 40 }, (_, i) => (i % 20 < 14 ? 0.1 : 2));
    const slow = usefulSlowCluster(out, 1, loss, labels, 2, keyFromSeed(4));
    assert.deepEqual(globalThis.Array.from(slow), [14, 15, 16, 17, 18, 19, 34, 35, 36, 37, 38, 39]);
    const wrong = usefulSlowCluster(out, 1, loss, labels, 2, keyFromSeed(4), { higher: false });
    assert.equal(wrong.length, 28);
    const up = upsample({ x: Float32Array.from([1, 2, 3]), xShape: [3, 1], y: Int32Array.from([0, 1, 0]), numClasses: 2 }, [2], 1);
    assert.deepEqual(globalThis.Array.from(up.x), [1, 2, 3, 3]);
  });

  it("near-duplicates: the exact nearest neighbour (against brute force), planted duplicates flagged with score 0", async () => {
    const n = 30;
    const d = 6;
    const x = Float32Array.from({ length: n * d }, (_, t) => Math.sin(1.3 * t + 0.2 * Math.floor(t / d)));
    x.set(x.subarray(0, d), 17 * d); // row 17 duplicates row 0
    for (const metric of ["euclidean", "cosine"] as const) {
      const nn = await nearestNeighbours(x, n, d, { metric, block: 7 });
      for (let i = 0; i < n; i++) {
        let best = Infinity;
        for (let j = 0; j < n; j++) {
          if (j === i) continue;
          let dd = 0;
          if (metric === "euclidean") {
            for (let t = 0; t < d; t++) dd += (x[i * d + t] - x[j * d + t]) ** 2;
            dd = Math.sqrt(dd);
          } else {
            let ab = 0, aa = 0, bb = 0;
            for (let t = 0; t < d; t++) {
              ab += x[i * d + t] * x[j * d + t];
              aa += x[i * d + t] ** 2;
              bb += x[j * d + t] ** 2;
            }
            dd = 1 - ab / Math.sqrt(aa * bb);
          }
          best = Math.min(best, dd);
        }
        close(nn.distance[i], best, 1e-4, `${metric} nn distance of ${i}`);
      }
      const issues = nearDuplicateIssues(nn);
      assert.equal(issues.flag[0], 1);
      assert.equal(issues.flag[17], 1);
      assert.equal(issues.score[0], 0);
      assert.equal(issues.flag.reduce((a, b) => a + b, 0), 2, metric);
    }
  });
});

describe("the dynamics recorder in the training loop", () => {
  it("records every example at the chosen epochs without changing training, and its last row equals a direct measurement", async () => {
    const spec = mlpSpec({ dims: [4, 8, 3] });
    const n = 40;
    const data = { x: Float32Array.from({ length: n * 4 }, (_, i) => Math.sin(0.7 * i)), xShape: [n, 4], y: Int32Array.from({ length: n }, (_, i) => i % 3), numClasses: 3 };
    const run = async (withLogger: boolean) => {
      const rec = dynamicsRecorder<MlpParams>({ measure: mlpDynamics(spec), data, epochs: [0, 1, 3], stepsPerEpoch: 4, batch: 16 });
      const r = await train(initMlp(spec, keyFromSeed(2)), {
        loss: (p, x, y) => softmaxCrossEntropy(applyMlp(spec, p, x), y),
        optimizer: sgd(0.1),
        train: data,
        epochs: 3,
        batchSize: 10,
        key: keyFromSeed(3),
        log: { every: 0, perDecade: 0 },
        stepHooks: withLogger ? [rec.hook] : [],
      });
      rec.dispose();
      return { r, d: rec.dynamics() };
    };
    const a = await run(true);
    const b = await run(false);
    const pa = flat(treeToHost(treeRef(a.r.params)));
    const pb = flat(treeToHost(treeRef(b.r.params)));
    assert.deepEqual(pa, pb, "the logger must not change training");
    assert.deepEqual(a.d.epochs, [0, 1, 3]);
    assert.equal(a.d.values.grad_norm!.length, 3 * n);
    const f = jit(((p: MlpParams, x: Array, y: Array) => mlpPerExample(spec, p, x, y)) as never) as never;
    const direct = await perExampleInBatches(f, a.r.params, data, n);
    (f as { dispose(): void }).dispose();
    for (let i = 0; i < n; i++) close(a.d.values.loss![2 * n + i], direct.loss[i], 1e-5, `loss ${i}`);
    treeDispose([a.r.params, a.r.optState, b.r.params, b.r.optState]);
  });
});

describe("the scores page's view (scores/scoresView.ts)", () => {
  it("data map of every example, histograms that count every example, the top by AUM ascending with images and labels", async () => {
    const { scoresView, dynamicsPrefixes } = await import("./scoresView.ts");
    const n = 5;
    const arr = (data: number[], shape: number[]) => ({ data: Float32Array.from(data), shape });
    const arrays = new Map<string, { data: Float32Array | Int32Array | Uint8Array; shape: number[] }>([
      ["t_epochs", { data: Int32Array.from([0, 1, 2]), shape: [3] }],
      ["t_p_true", arr([0.1, 0.1, 0.1, 0.1, 0.1, 0.9, 0.2, 0.5, 0.1, 0.6, 0.9, 0.4, 0.5, 0.1, 0.7], [3, n])],
      ["t_correct", arr([0, 0, 0, 0, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1], [3, n])],
      ["t_margin", arr([0, 0, 0, 0, 0, 3, -1, 0.5, -2, 1, 4, -2, 0.2, -3, 2], [3, n])],
      ["images", { data: Uint8Array.from({ length: n * 4 }, (_, i) => i), shape: [n, 2, 2] }],
      ["labels", { data: Int32Array.from([4, 3, 2, 1, 0]), shape: [n] }],
    ]);
    assert.deepEqual(dynamicsPrefixes([...arrays.keys()]), ["t"]);
    const v = scoresView(arrays as never, { score: "aum", top: 3 })!;
    assert.equal(v.n, 5);
    assert.deepEqual(v.map.index, [0, 1, 2, 3, 4]);
    close(v.map.confidence[0], 0.9, 1e-6, "confidence of 0");
    for (const hst of v.histograms) assert.equal(hst.counts.reduce((a, b) => a + b, 0), n, hst.id);
    // AUM over epochs 1, 2: [3.5, −1.5, 0.35, −2.5, 1.5] → ascending: 3, 1, 2
    assert.deepEqual(v.top.map((t) => t.index), [3, 1, 2]);
    assert.deepEqual(v.top[0].image, [12, 13, 14, 15]);
    assert.equal(v.top[0].label, 1);
    assert.deepEqual(v.imageShape, [2, 2]);
  });
});

describe("per-example gradient norms of a transformer (vmap path)", () => {
  it("equal a one-by-one loop over examples (float64, 1e-9)", async () => {
    const { applyTransformer, initTransformer, lastPosition, transformerSpec } = await import("../nn/transformer.ts");
    await onCpu(() => {
      const spec = transformerSpec({ vocab: 7, seqLen: 3, dModel: 8, heads: 2, layers: 1, dMlp: 16 });
      const params = toF64Cpu(initTransformer(spec, keyFromSeed(4)));
      const tokens = np.array([[1, 2, 6], [3, 0, 6], [5, 5, 6], [4, 1, 6]], { dtype: DType.Int32, device: "cpu" });
      const y = np.array([3, 3, 3, 5], { dtype: DType.Int32, device: "cpu" });
      const apply = (p: typeof params, t: Array) => lastPosition(applyTransformer(spec, p, t));
      const r = genericPerExample(apply, treeRef(params), tokens.ref, y.ref);
      const { grad_norm: g, ...rest } = r;
      const gn = g.js() as number[];
      treeDispose(Object.values(rest));
      for (let i = 0; i < 4; i++) {
        const ti = tokens.ref.slice([i, i + 1]);
        const yi = y.ref.slice([i, i + 1]);
        const gr = grad((p: typeof params) => perExampleCrossEntropy(apply(p, ti.ref), yi.ref).sum())(treeRef(params));
        const direct = Math.sqrt(flat(treeToHost(gr)).reduce((a, v) => a + v * v, 0));
        treeDispose([ti, yi]);
        close(gn[i], direct, 1e-9 * Math.max(1, direct), `transformer ${i}`);
      }
      treeDispose([params, tokens, y]);
    });
  });
});
