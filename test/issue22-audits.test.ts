// Issue 22, deliverable 2: the outlier audit from features (cleanlab Datalab's rule: the mean distance to the
// 10 nearest neighbours, flagged above Q3 + 1.7 IQR) and ambiguity from out-of-sample probabilities alone (the
// gap between the two most probable classes), in the library and through `genlab issues --pred-probs`.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeNpy } from "../src/data/npy.ts";
import { buildIssues, topTwo } from "../src/scores/issues.ts";
import { firstNeighbours, nearestNeighbours } from "../src/scores/nearDuplicates.ts";
import { quantileSorted } from "../src/core/order.ts";
import { outlierIssues } from "../src/scores/outliers.ts";
import { genlabHere } from "./util/cliHere.ts";

/** A deterministic host generator (a fixture, not a random draw of the library). */
function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** Brute-force float64 distances of row i to every other row, sorted (distance, row). */
function bruteNeighbours(x: Float32Array, n: number, d: number, i: number, metric: "cosine" | "euclidean"): { j: number; dist: number }[] {
  const out: { j: number; dist: number }[] = [];
  for (let j = 0; j < n; j++) {
    if (j === i) continue;
    let ab = 0, aa = 0, bb = 0, sq = 0;
    for (let t = 0; t < d; t++) {
      const a = x[i * d + t], b = x[j * d + t];
      ab += a * b;
      aa += a * a;
      bb += b * b;
      sq += (a - b) ** 2;
    }
    out.push({ j, dist: metric === "euclidean" ? Math.sqrt(sq) : 1 - ab / Math.sqrt(aa * bb) });
  }
  return out.sort((a, b) => a.dist - b.dist || a.j - b.j);
}

function blobs(n: number, d: number, seed: number): Float32Array {
  const r = lcg(seed);
  const x = Float32Array.from({ length: n * d }, (_, t) => (Math.floor(t / d) % 3 === t % d ? 3 : 0) + (r() + r() + r() - 1.5));
  return x;
}

describe("issue 22: outliers from features, ambiguity from probabilities", () => {
  it("k nearest neighbours: the brute-force k nearest in both metrics, any block size; k = 1 is column 0; an exact copy comes first at distance 0", async () => {
    const [n, d, k] = [90, 5, 10];
    const x = blobs(n, d, 3);
    x.set(x.subarray(0, d), 40 * d); // row 40 copies row 0
    for (const metric of ["euclidean", "cosine"] as const) {
      const nn = await nearestNeighbours(x, n, d, { k, metric, block: 13 });
      const one = await nearestNeighbours(x, n, d, { metric, block: 7 });
      assert.equal(nn.k, k);
      for (let i = 0; i < n; i++) {
        const ref = bruteNeighbours(x, n, d, i, metric).slice(0, k);
        for (let t = 0; t < k; t++) assert.ok(Math.abs(nn.distance[i * k + t] - Math.max(0, ref[t].dist)) < 2e-4, `${metric} row ${i} neighbour ${t}: ${nn.distance[i * k + t]} vs ${ref[t].dist}`);
        // the same set of neighbours up to ties within float32 round-off
        const kth = ref[k - 1].dist;
        for (let t = 0; t < k; t++) assert.ok(bruteNeighbours(x, n, d, i, metric).find((b) => b.j === nn.index[i * k + t])!.dist <= kth + 2e-4, `${metric} row ${i}: neighbour ${t} is among the k nearest`);
      }
      assert.equal(nn.index[0], 40);
      assert.equal(nn.distance[0], 0);
      assert.equal(nn.index[40 * k], 0);
      assert.equal(nn.distance[40 * k], 0);
      const first = firstNeighbours(nn);
      assert.deepEqual(Array.from(first.index), Array.from(one.index), `${metric}: column 0 of k = 10 is the nearest neighbour`);
    }
    await assert.rejects(nearestNeighbours(x, n, d, { k: n }), /k = 90 is not in 1\.\.89/);
  });

  it("copies come first whatever k (zero rows under cosine), and Euclidean distances survive features far from 0 (100 + noise): exact float64 distances, the same near-duplicates with or without outliers", async () => {
    const [n, d] = [60, 5];
    const r = lcg(13);
    const x = Float32Array.from({ length: n * d }, () => r() - 0.5);
    for (let i = 40; i < 50; i++) x.fill(0, i * d, (i + 1) * d); // ten zero rows: copies of each other
    const one = await nearestNeighbours(x, n, d, { metric: "cosine" });
    const ten = await nearestNeighbours(x, n, d, { metric: "cosine", k: 10 });
    for (let i = 40; i < 50; i++) {
      assert.equal(ten.distance[i * 10], 0, `zero row ${i}: a copy first`);
      assert.equal(ten.distance[i * 10 + 8], 0, `zero row ${i}: its 9 copies fill the first 9`);
      assert.equal(ten.index[i * 10], one.index[i], `zero row ${i}: k = 1 and k = 10 agree on the nearest`);
    }
    assert.equal(outlierIssues(ten).flag.slice(40, 50).reduce((a, b) => a + b, 0), 0, "copies are not outliers");
    // features at 100 + noise: float32 ‖a‖² + ‖b‖² − 2a·b would lose every distance
    const m = 120;
    const far = Float32Array.from({ length: m * 2 }, () => 100 + (r() + r() + r() - 1.5));
    const nn = await nearestNeighbours(far, m, 2, { k: 10 });
    for (let i = 0; i < m; i++) {
      const ref = bruteNeighbours(far, m, 2, i, "euclidean").slice(0, 10);
      for (let t = 0; t < 10; t++) assert.ok(Math.abs(nn.distance[i * 10 + t] - ref[t].dist) < 1e-9, `row ${i} neighbour ${t}: ${nn.distance[i * 10 + t]} vs ${ref[t].dist}`);
      assert.notEqual(nn.group[i], nn.group[nn.index[i * 10]], `row ${i}: no row is an exact copy`);
    }
  });

  it("outliers: mean distance to the 10 nearest, Q3 + 1.7 IQR (numpy's linear quartiles), score exp(−d̄/median); planted far points flagged", async () => {
    assert.equal(quantileSorted([1, 2, 3, 4], 0.25), 1.75); // numpy.percentile([1,2,3,4], 25)
    assert.equal(quantileSorted([1, 2, 3, 4], 0.75), 3.25);
    assert.equal(quantileSorted([5], 0.5), 5);
    const [n, d] = [200, 2];
    const x = blobs(n, d, 5);
    const planted = [7, 77, 150];
    for (const i of planted) x.set([40 + i / 10, -30], i * d);
    const nn = await nearestNeighbours(x, n, d, { k: 10 }); // 2 features: Euclidean, as Datalab
    assert.equal(nn.metric, "euclidean");
    const o = outlierIssues(nn);
    // the reference, from brute-force float64 distances
    const avg = Array.from({ length: n }, (_, i) => bruteNeighbours(x, n, d, i, "euclidean").slice(0, 10).reduce((a, b) => a + b.dist, 0) / 10);
    const sorted = [...avg].sort((a, b) => a - b);
    const q = (p: number) => quantileSorted(sorted, p / 100);
    const thr = q(75) + (1 / 0.37037 - 1) * (q(75) - q(25));
    for (let i = 0; i < n; i++) {
      assert.ok(Math.abs(o.meanDistance[i] - avg[i]) < 1e-4, `row ${i}`);
      if (Math.abs(avg[i] - thr) > 1e-3) assert.equal(o.flag[i], avg[i] > thr ? 1 : 0, `row ${i}: ${avg[i]} vs ${thr}`);
      assert.ok(Math.abs(o.score[i] - Math.exp(-avg[i] / q(50))) < 1e-4, `row ${i}: score ${o.score[i]}`);
    }
    assert.ok(Math.abs(o.issueThreshold - thr) < 1e-4, `threshold ${o.issueThreshold} vs ${thr}`);
    for (const i of planted) assert.equal(o.flag[i], 1, `planted outlier ${i}`);
    // through the audit table: the type appears only when asked for and only with k ≥ 2
    const r = { columns: [], dynamics: [], oosProbs: null, info: {} };
    const t = buildIssues(r, { labels: new Int32Array(n), epochs: 0, nn, types: ["outlier"] });
    assert.deepEqual(t.types, ["outlier"]);
    assert.equal(t.summary[0].numIssues, o.flag.reduce((a, b) => a + b, 0));
    assert.deepEqual(buildIssues(r, { labels: new Int32Array(n), epochs: 0, nn: firstNeighbours(nn) }).types, ["near_duplicate"]);
  });

  it("ambiguity from probabilities alone: the gap between the two most probable classes, flagged below 0.1", () => {
    const p = Float32Array.from([0.45, 0.45, 0.1, 0.8, 0.15, 0.05, 0.3, 0.36, 0.34, 1, 0, 0]);
    const tt = topTwo(p, 4);
    assert.deepEqual(Array.from(tt.first), [0, 0, 1, 0]);
    assert.deepEqual(Array.from(tt.second), [1, 1, 2, 1]);
    const t = buildIssues({ columns: [], dynamics: [], oosProbs: p, info: {} }, { labels: Int32Array.from([0, 0, 1, 0]), epochs: 0, nn: null, types: ["ambiguous"] });
    const flag = t.columns.find((c) => c.name === "is_ambiguous_issue")!.values;
    assert.deepEqual(Array.from(flag), [1, 0, 1, 0]);
    const score = t.columns.find((c) => c.name === "ambiguous_score")!.values;
    assert.ok(Math.abs(score[1] - 0.65) < 1e-6, `gap ${score[1]}`);
  });

  it("genlab issues --pred-probs --features: outliers and ambiguous examples with their reasons; without --features, asking for outliers names the flag", async () => {
    const dir = mkdtempSync(join(tmpdir(), "genlab-outliers-"));
    const [n, c, d] = [240, 3, 6];
    const r = lcg(9);
    const y = Int32Array.from({ length: n }, (_, i) => i % c);
    const x = Float32Array.from({ length: n * d }, (_, t) => (y[Math.floor(t / d)] === t % d ? 4 : 0) + r() - 0.5);
    for (const i of [3, 100]) for (let t = 0; t < d; t++) x[i * d + t] = t % 2 ? 9 : -9; // far off every blob's direction
    const p = new Float32Array(n * c);
    for (let i = 0; i < n; i++) for (let k = 0; k < c; k++) p[i * c + k] = k === y[i] ? 0.8 : 0.1;
    p.set([0.46, 0.44, 0.1], 50 * c); // row 50: split between 0 and 1
    writeFileSync(join(dir, "p.npy"), encodeNpy({ data: p, shape: [n, c] }));
    writeFileSync(join(dir, "y.npy"), encodeNpy({ data: y, shape: [n] }));
    writeFileSync(join(dir, "x.npy"), encodeNpy({ data: x, shape: [n, d] }));
    const out = join(dir, "i.csv");
    const res = await genlabHere(["issues", "--pred-probs", join(dir, "p.npy"), "--labels", join(dir, "y.npy"), "--features", join(dir, "x.npy"), "--out", out, "--json"]);
    assert.equal(res.code, 0, res.stderr);
    const j = JSON.parse(res.stdout) as { summary: { issue_type: string; num_issues: number }[]; flagged: { index: number; reason: string }[] };
    assert.deepEqual(j.summary.map((s) => s.issue_type), ["label", "near_duplicate", "outlier", "ambiguous"]);
    const why = (i: number) => j.flagged.find((f) => f.index === i)?.reason ?? "";
    assert.match(why(3), /outlier: mean cosine distance to its 10 nearest neighbours [0-9.]+ > [0-9.]+ \(Q3 \+ 1\.7 IQR; median [0-9.]+\); nearest row \d+/);
    assert.match(why(100), /outlier:/);
    assert.match(why(50), /ambiguous: out of sample p = 0\.460 for class 0 and 0\.440 for class 1 \(gap 0\.020 < 0\.1\)/);
    const lines = readFileSync(out, "utf8").trim().split("\n");
    const head = lines[0].split(",");
    for (const name of ["outlier_score", "is_outlier_issue", "knn_mean_distance", "ambiguous_score", "is_ambiguous_issue", "nearest_neighbour"]) assert.ok(head.includes(name), name);
    const flagged = lines.slice(1).filter((l) => l.split(",")[head.indexOf("is_outlier_issue")] === "1").length;
    assert.equal(flagged, j.summary.find((s) => s.issue_type === "outlier")!.num_issues, "the CSV and the JSON count the same");
    const no = await genlabHere(["issues", "--pred-probs", join(dir, "p.npy"), "--labels", join(dir, "y.npy"), "--types", "outlier", "--out", join(dir, "n.csv")]);
    assert.equal(no.code, 1);
    assert.match(no.stderr, /outlier needs --features/);
    assert.ok(!existsSync(join(dir, "n.csv")), "nothing written");
  });
});

describe("issue 22: the time estimate of a scoring job", () => {
  it("counts the steps and evaluations of every training (dynamics runs, folds, memorization subsets) and prices them with the backend's fitted constants", async () => {
    const { planScoreJob, SCORE_COSTS } = await import("../src/scores/pipeline.ts");
    const { parseModelSpec } = await import("../src/scores/models.ts");
    const [n, d] = [1000, 20];
    const model = parseModelSpec("mlp:16", { inputDim: d, numClasses: 4, image: null });
    const data = { x: new Float32Array(n * d), xShape: [n, d], y: new Int32Array(n), numClasses: 4 };
    const recipe = { epochs: 3, batchSize: 100, lr: 0.1, optimizer: "sgd" as const, momentum: 0.9, weightDecay: 0 };
    const plan = planScoreJob({ model, data, scores: ["el2n", "cl", "memorization"], recipe, runs: 2, folds: 4, memRuns: 5, memFraction: 0.5 }, "wasm");
    // steps: 2 runs × 3 epochs × 10, 4 folds × 3 × ⌊750/100⌋ = 7, 5 subsets × 3 × ⌊500/100⌋ = 5
    assert.equal(plan.steps, 2 * 3 * 10 + 4 * 3 * 7 + 5 * 3 * 5);
    // evaluations: the logger 2 runs × 4 × ⌈1000/measureBatch⌉, one prediction batch per fold and per subset model
    assert.equal(plan.evaluations, 2 * 4 * Math.ceil(n / model.measureBatch) + 4 + 5);
    const k = SCORE_COSTS.wasm;
    assert.ok(Math.abs(plan.seconds - (k.fixedS + plan.gflop / k.gflops + (plan.steps * k.stepMs + plan.evaluations * k.evalMs) / 1000)) < 1e-12, `seconds ${plan.seconds}`);
    assert.equal(plan.backend, "wasm");
  });
});
