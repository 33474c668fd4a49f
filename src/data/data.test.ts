import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "fflate";
import { GenlabError, formatIssue } from "../core/errors.ts";
import { random } from "@jax-js/jax";
import { keyFromSeed } from "../core/prng.ts";
import { DEFAULT_FASHION_MNIST_DIR, loadFashionMnist } from "../io/fashionMnist.ts";
import { classCounts, takeRows } from "./dataset.ts";
import { encodeIdxUint8, parseIdx } from "./idx.ts";
import { MODULAR_OPS, isPrime, modularDataset, modularLabel } from "./modular.ts";
import { injectLabelNoise, stratifiedSubsample } from "./noise.ts";

function errorText(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof GenlabError, `expected a GenlabError, got ${e}`);
    return e.issues.map(formatIssue).join("\n");
  }
  throw new Error("expected an error");
}

describe("modular arithmetic", () => {
  it("labels for every operation (hand values mod 7)", () => {
    assert.equal(modularLabel("add", 5, 4, 7), 2);
    assert.equal(modularLabel("sub", 2, 5, 7), 4);
    assert.equal(modularLabel("mul", 3, 5, 7), 1);
    assert.equal(modularLabel("div", 3, 5, 7), 2); // 5⁻¹ = 3 mod 7, 3·3 = 9 ≡ 2
    assert.equal(modularLabel("x2xyy2", 2, 3, 7), (4 + 6 + 9) % 7);
    for (let b = 1; b < 7; b++) for (let a = 0; a < 7; a++) assert.equal(modularLabel("mul", modularLabel("div", a, b, 7), b, 7), a, "div inverts mul");
  });

  it("split sizes, disjoint train/test, one-hot encoding padded exactly", () => {
    for (const op of MODULAR_OPS) {
      const p = 11;
      const d = modularDataset({ p, op, trainFraction: 0.3, corruption: 0, encoding: "onehot" }, keyFromSeed(1));
      const total = op === "div" ? p * (p - 1) : p * p;
      assert.equal(d.train.y.length, Math.floor(0.3 * total));
      assert.equal(d.train.y.length + d.test.y.length, total);
      const key = (pairs: Int32Array, i: number) => `${pairs[2 * i]},${pairs[2 * i + 1]}`;
      const tr = new Set(Array.from({ length: d.train.y.length }, (_, i) => key(d.trainPairs, i)));
      for (let i = 0; i < d.test.y.length; i++) assert.ok(!tr.has(key(d.testPairs, i)), "train and test overlap");
      assert.deepEqual(d.train.xShape, [d.train.y.length, 24]); // 2 × pad4(11)
      for (let i = 0; i < d.train.y.length; i++) {
        const row = d.train.x.subarray(i * 24, (i + 1) * 24);
        assert.equal(Array.from(row).reduce((s: number, v: number) => s + v, 0), 2);
        assert.equal(row[d.trainPairs[2 * i]], 1);
        assert.equal(row[12 + d.trainPairs[2 * i + 1]], 1);
        assert.equal(d.train.y[i], modularLabel(op, d.trainPairs[2 * i], d.trainPairs[2 * i + 1], p));
      }
    }
  });

  it("corruption: ⌊ξ·n⌋ rows recorded, labels changed only there, deterministic per key", () => {
    const a = modularDataset({ p: 23, op: "add", trainFraction: 0.5, corruption: 0.35, encoding: "tokens" }, keyFromSeed(7));
    const b = modularDataset({ p: 23, op: "add", trainFraction: 0.5, corruption: 0.35, encoding: "tokens" }, keyFromSeed(7));
    const c = modularDataset({ p: 23, op: "add", trainFraction: 0.5, corruption: 0.35, encoding: "tokens" }, keyFromSeed(8));
    const n = a.train.y.length;
    assert.equal(a.corrupted.length, Math.floor(0.35 * n));
    const set = new Set(a.corrupted);
    let changed = 0;
    for (let i = 0; i < n; i++) {
      if (!set.has(i)) assert.equal(a.train.y[i], a.trueTrainLabels[i]);
      else if (a.train.y[i] !== a.trueTrainLabels[i]) changed++;
    }
    // Uniform relabelling keeps the true label with probability 1/p: most corrupted labels change.
    assert.ok(changed > 0.85 * a.corrupted.length, `${changed} of ${a.corrupted.length} changed`);
    assert.deepEqual(a.train.y, b.train.y);
    assert.deepEqual(a.trainPairs, b.trainPairs);
    assert.notDeepEqual(a.trainPairs, c.trainPairs);
    assert.deepEqual(a.train.xShape, [n, 3]);
    assert.equal(a.train.x[2], 23, "the '=' token");
  });

  it("rejects non-primes and empty splits", () => {
    assert.ok(isPrime(97) && !isPrime(91) && !isPrime(1), "isPrime(97) && !isPrime(91) && !isPrime(1)");
    assert.throws(() => modularDataset({ p: 91, op: "add", trainFraction: 0.3, corruption: 0, encoding: "onehot" }, keyFromSeed(0)), /prime/);
    assert.throws(() => modularDataset({ p: 5, op: "add", trainFraction: 0.01, corruption: 0, encoding: "onehot" }, keyFromSeed(0)), /empty/);
  });
});

describe("label noise and subsampling", () => {
  const labels = Int32Array.from({ length: 1000 }, (_, i) => i % 10);

  it("'different' mode always changes the label; fraction is exact", () => {
    const { labels: noisy, corrupted } = injectLabelNoise(labels, 10, 0.2, keyFromSeed(3), "different");
    assert.equal(corrupted.length, 200);
    for (const r of corrupted) assert.notEqual(noisy[r], labels[r]);
    let diff = 0;
    for (let i = 0; i < 1000; i++) if (noisy[i] !== labels[i]) diff++;
    assert.equal(diff, 200);
  });

  it("uniform mode draws labels roughly uniformly (χ² within reason)", () => {
    const { labels: noisy, corrupted } = injectLabelNoise(labels, 10, 1, keyFromSeed(4));
    assert.equal(corrupted.length, 1000);
    const counts = classCounts(noisy, 10);
    const chi2 = counts.reduce((s, c) => s + (c - 100) ** 2 / 100, 0);
    assert.ok(chi2 < 27.9, `χ²(9) = ${chi2} (p < 0.001 threshold 27.9)`);
  });

  it("stratified subsample takes exactly k per class", () => {
    const idx = stratifiedSubsample(labels, 10, 7, keyFromSeed(5));
    assert.equal(idx.length, 70);
    assert.deepEqual(classCounts(Array.from(idx, (i) => labels[i]), 10), new Array(10).fill(7));
    assert.equal(new Set(idx).size, 70);
  });

  it("takeRows copies rows and labels in order", () => {
    const ds = { x: Float32Array.from([0, 1, 2, 3, 4, 5]), xShape: [3, 2], y: Int32Array.from([7, 8, 9]), numClasses: 10 };
    const t = takeRows(ds, [2, 0]);
    assert.deepEqual(Array.from(t.x), [4, 5, 0, 1]);
    assert.deepEqual(Array.from(t.y), [9, 7]);
    assert.deepEqual(t.xShape, [2, 2]);
  });
});

describe("IDX files", () => {
  const data = Uint8Array.from([1, 2, 3, 4, 5, 6]);
  const file = encodeIdxUint8([2, 3], data);

  it("round-trips, gzipped or not", () => {
    assert.deepEqual(parseIdx(file, "a.idx"), { dims: [2, 3], data });
    assert.deepEqual(parseIdx(gzipSync(file), "a.idx.gz"), { dims: [2, 3], data });
  });

  it("rejects truncated and malformed files with one line naming the file", () => {
    assert.equal(errorText(() => parseIdx(file.subarray(0, file.length - 1), "x.idx")), "✖ is truncated: dims [2, 3] of uint8 need 18 bytes, file has 17 → at x.idx");
    assert.equal(errorText(() => parseIdx(file.subarray(0, 6), "x.idx")), "✖ is truncated: header needs 12 bytes, file has 6 → at x.idx");
    assert.equal(errorText(() => parseIdx(Uint8Array.from([0x50, 0x4b, 3, 4, 0, 0]), "x.idx")), "✖ is not an IDX file: bad magic number 0x504b0304 → at x.idx");
    assert.equal(errorText(() => parseIdx(gzipSync(file).subarray(0, 15), "x.gz")), "✖ is not a valid gzip file (truncated or corrupt download?) → at x.gz");
  });

  it("Fashion-MNIST: a missing directory says what to install", () => {
    assert.equal(errorText(() => loadFashionMnist("/nonexistent/fmnist")), "✖ Fashion-MNIST directory not found. → at /nonexistent/fmnist");
    const dir = mkdtempSync(join(tmpdir(), "fmnist-"));
    writeFileSync(join(dir, "train-images-idx3-ubyte"), encodeIdxUint8([1, 2, 2], Uint8Array.from([0, 255, 0, 0])));
    assert.equal(errorText(() => loadFashionMnist(dir)), `✖ Fashion-MNIST file not found (looked for train-labels-idx1-ubyte.gz and train-labels-idx1-ubyte). → at ${dir}/train-labels-idx1-ubyte.gz`);
    writeFileSync(join(dir, "train-labels-idx1-ubyte"), encodeIdxUint8([1], Uint8Array.from([3])));
    writeFileSync(join(dir, "t10k-images-idx3-ubyte"), encodeIdxUint8([1, 2, 2], Uint8Array.from([0, 255, 0, 0])));
    writeFileSync(join(dir, "t10k-labels-idx1-ubyte"), encodeIdxUint8([2], Uint8Array.from([3, 4])));
    assert.equal(errorText(() => loadFashionMnist(dir)), `✖ has 2 labels but ${dir}/t10k-images-idx3-ubyte has 1 images → at ${dir}/t10k-labels-idx1-ubyte`);
    writeFileSync(join(dir, "t10k-labels-idx1-ubyte"), encodeIdxUint8([1], Uint8Array.from([4])));
    const ds = loadFashionMnist(dir);
    assert.deepEqual(Array.from(ds.train.x), [0, 1, 0, 0]);
    assert.equal(ds.test.y[0], 4);
  });

  it("Fashion-MNIST from Debian's dataset-fashion-mnist (60,000 + 10,000 images of 784 pixels)", { skip: !existsSync(DEFAULT_FASHION_MNIST_DIR) && "dataset-fashion-mnist is not installed (.ci/run installs it)" }, () => {
    const ds = loadFashionMnist();
    assert.deepEqual(ds.train.xShape, [60000, 784]);
    assert.deepEqual(ds.test.xShape, [10000, 784]);
    assert.deepEqual(classCounts(ds.train.y, 10), new Array(10).fill(6000));
    assert.deepEqual(classCounts(ds.test.y, 10), new Array(10).fill(1000));
    let max = 0;
    for (let i = 0; i < 784 * 100; i++) max = Math.max(max, ds.train.x[i]);
    assert.equal(max, 1);
  });
});

describe("simplicity-bias patches and the long-tail mixture", () => {
  it("patch data: the fast feature in ≈ α of the rows, the slow one in all, both with the label's sign", async () => {
    const { patchFeatureData } = await import("./patchFeatures.ts");
    const { keyFromSeed } = await import("../core/prng.ts");
    const { data, hasFast } = patchFeatureData({ n: 2000, patches: 4, d: 10, alpha: 0.9, betaFast: 1, betaSlow: 0.2, sigma: 1 }, keyFromSeed(3));
    const frac = hasFast.reduce((a, b) => a + b, 0) / 2000;
    assert.ok(Math.abs(frac - 0.9) < 0.03, `fast fraction ${frac}`); // binomial sd 0.007
    for (let i = 0; i < 2000; i++) {
      const s = data.y[i] === 1 ? 1 : -1;
      assert.equal(data.x[i * 40 + 10 + 1], Math.fround(s * 0.2));
      if (hasFast[i]) assert.equal(data.x[i * 40], s);
    }
  });

  it("long-tail mixture: Zipf counts, examples at their subpopulation's centre ± σ, labels per subpopulation", async () => {
    const { longTailMixture, sampleMixture, subpopCounts } = await import("./longTailMixture.ts");
    const { keyFromSeed } = await import("../core/prng.ts");
    const m = longTailMixture({ N: 50, zipf: 1, d: 4, sigma: 0.01, classes: 3 }, keyFromSeed(1));
    const s = sampleMixture(m, 5000, keyFromSeed(2));
    const c = subpopCounts(s.subpop, 50);
    // subpopulation 0 has frequency 1/H_50 ≈ 0.222: 5000·0.222 ± 3·29
    assert.ok(Math.abs(c[0] - 5000 * m.freqs[0]) < 90, `count ${c[0]} vs ${5000 * m.freqs[0]}`);
    for (let i = 0; i < 20; i++) {
      assert.equal(s.data.y[i], m.labels[s.subpop[i]]);
      assert.ok(Math.abs(s.data.x[i * 4] - m.centers[s.subpop[i] * 4]) < 0.06, `row ${i} is within 6σ of its centre`);
    }
  });
});

describe("principal components (data/pca.ts)", () => {
  it("recovers planted directions and variances: x = Σ_k √λ_k z_k u_k + small noise, λ = 9, 4, 1", async () => {
    const { pca, pcaTransform } = await import("./pca.ts");
    const d = 12;
    const n = 4000;
    const z = Float32Array.from(random.normal(keyFromSeed(3), [n, 3 + d]).dataSync() as ArrayLike<number>);
    // orthonormal directions: coordinate axes 2, 5 and 7 rotated by 45° into axes 3, 6, 8
    const s = Math.SQRT1_2;
    const dirs = [[2, 3], [5, 6], [7, 8]];
    const lam = [9, 4, 1];
    const x = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      for (let t = 0; t < d; t++) x[i * d + t] = 0.05 * z[i * (3 + d) + 3 + t] + 1.5;
      dirs.forEach(([a, b], k) => {
        x[i * d + a] += Math.sqrt(lam[k]) * z[i * (3 + d) + k] * s;
        x[i * d + b] += Math.sqrt(lam[k]) * z[i * (3 + d) + k] * s;
      });
    }
    const p = pca(x, n, d, 3, keyFromSeed(4));
    p.variances.forEach((v, k) => assert.ok(Math.abs(v - lam[k]) / lam[k] < 0.08, `variance ${k}: ${v} vs ${lam[k]} (8% sampling tolerance at n = 4000)`));
    p.components.forEach((u, k) => {
      const cos = Math.abs(u[dirs[k][0]] * s + u[dirs[k][1]] * s);
      assert.ok(cos > 0.995, `direction ${k}: |cos| = ${cos}`);
    });
    assert.ok(Math.abs(p.mean[0] - 1.5) < 0.01, `mean ${p.mean[0]}`);
    const proj = pcaTransform(p, x, n);
    let v0 = 0;
    for (let i = 0; i < n; i++) v0 += proj[i * 3] ** 2 / n;
    assert.ok(Math.abs(v0 - p.variances[0]) / p.variances[0] < 1e-3, `projection variance ${v0} vs ${p.variances[0]}`);
  });
});

describe("concatenated blocks (the MNIST-CIFAR construction)", () => {
  // two sources: rows of class c are filled with the value 10·source + c, so every row says where it came from
  const source = (tag: number, classes: number[], size: number) => {
    const y = Int32Array.from({ length: 40 }, (_, i) => classes[i % classes.length]);
    return { x: Float32Array.from({ length: 40 * size }, (_, j) => 10 * tag + y[Math.floor(j / size)]), xShape: [40, size], y, numClasses: 10 };
  };
  it("each informative block shows pair[y]; an uninformative one is independent of y; columns are the blocks' in order; deterministic", async () => {
    const { concatenatedBlocks } = await import("./concatenation.ts");
    const blocks = [
      { name: "a", source: source(1, [3, 5, 7], 4), pair: [3, 5] as const },
      { name: "b", source: source(2, [0, 9], 2), pair: [9, 0] as const },
      { name: "c", source: source(3, [1, 2], 3), pair: [1, 2] as const, informative: false },
    ];
    const c = concatenatedBlocks(blocks, 2000, keyFromSeed(31));
    assert.deepEqual(c.data.xShape, [2000, 9], "4 + 2 + 3 columns");
    assert.deepEqual(c.blocks.map((b) => b.columns), [[0, 1, 2, 3], [4, 5], [6, 7, 8]], "block columns in order");
    let agree = 0;
    for (let i = 0; i < 2000; i++) {
      const y = c.data.y[i];
      const row = c.data.x.subarray(i * 9, i * 9 + 9);
      assert.ok(row.slice(0, 4).every((v) => v === 10 + [3, 5][y]), `row ${i}: block a shows class ${[3, 5][y]} for y = ${y}`);
      assert.ok(row.slice(4, 6).every((v) => v === 20 + [9, 0][y]), `row ${i}: block b shows class ${[9, 0][y]}`);
      assert.ok(row[6] === 31 || row[6] === 32, `row ${i}: block c from its pair`);
      agree += (row[6] === 32 ? 1 : 0) === y ? 1 : 0;
    }
    assert.ok(Math.abs(agree / 2000 - 0.5) < 0.05, `the uninformative block agrees with y by chance only (${agree / 2000})`);
    const again = concatenatedBlocks(blocks, 2000, keyFromSeed(31));
    assert.deepEqual(Array.from(again.data.x), Array.from(c.data.x), "same key, same rows");
    assert.throws(() => concatenatedBlocks([{ name: "z", source: source(1, [3, 5], 1), pair: [3, 4] }], 10, keyFromSeed(32)), /block "z" has no row of class 4/);
  });
});
