import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { keyFromSeed, splitKey } from "../core/prng.ts";
import { binomial, lnGamma } from "../core/special.ts";
import { OFFICIAL_TASKS, classificationDifficulty, datasetDifficultyInputs, inductiveBiasComplexity, intrinsicDimMLE, manifoldSample } from "./taskDifficulty.ts";

describe("special functions", () => {
  it("lnGamma and real binomials against known values", () => {
    assert.ok(Math.abs(lnGamma(0.5) - 0.5 * Math.log(Math.PI)) < 1e-14, "Γ(1/2) = √π (atol 1e-14)");
    assert.ok(Math.abs(lnGamma(1)) < 1e-14 && Math.abs(lnGamma(2)) < 1e-14, "Γ(1) = Γ(2) = 1");
    assert.ok(Math.abs(lnGamma(11) - Math.log(3628800)) < 1e-12, "Γ(11) = 10! (atol 1e-12)");
    // ln Γ(100.5): Stirling with three correction terms is exact to ~1e-12 at this size
    const x = 100.5;
    const stirling = (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * x) - 1 / (360 * x ** 3) + 1 / (1260 * x ** 5);
    assert.ok(Math.abs(lnGamma(x) - stirling) < 1e-11, `lnΓ(100.5) ${lnGamma(x)} vs Stirling ${stirling} (atol 1e-11)`);
    assert.ok(Math.abs(lnGamma(-0.5) - Math.log(2 * Math.sqrt(Math.PI))) < 1e-13, "|Γ(−1/2)| = 2√π (reflection, atol 1e-13)");
    assert.ok(Math.abs(binomial(10, 3) - 120) < 1e-9 && Math.abs(binomial(5.5, 2) - (5.5 * 4.5) / 2) < 1e-12, "C(10, 3) = 120; C(5.5, 2) = 5.5·4.5/2");
    assert.throws(() => lnGamma(-2), /pole at -2/);
  });
});

describe("inductive bias complexity (Boopathy et al.): the official formula", () => {
  it("reproduces the official code's values for four benchmarks and the spec's toy values", () => {
    // specs-01-22.md §15: the official formula evaluated on the constants of task_difficulty.py
    const want = { mnist: 1.485e16, svhn: 1.213e31, cifar10: 3.438e32, imagenet: 3.583e41 };
    for (const [k, t] of Object.entries(OFFICIAL_TASKS)) {
      const bits = classificationDifficulty(t).bits;
      assert.ok(Math.abs(bits / want[k as keyof typeof want] - 1) < 1e-3, `${k}: ${bits.toExponential(4)} bits (rtol 1e-3: 3 digits)`);
    }
    const toy = [2, 4, 8].map((m) => classificationDifficulty({ error: 0.01, n: 1000, m, R: 1, classes: 2, delta: 0.2 }).bits);
    [2.66e4, 3.7e6, 2.58e9].forEach((w, i) => assert.ok(Math.abs(toy[i] / w - 1) < 5e-3, `toy m = ${[2, 4, 8][i]}: ${toy[i]} vs ${w} (rtol 5e-3: the spec's 3 digits)`));
  });

  it("the pieces: K solves K(K + m − 1) = M², the log-ratio is linear in log ε, and bad inputs are errors", () => {
    const p = { error: 0.01, n: 100, m: 3, R: 2, prodD: 2, delta: 0.5, D: 1, B: 1 };
    const r = inductiveBiasComplexity(p);
    const M = (2 * Math.PI * 2) / 0.5;
    assert.ok(Math.abs(r.K * (r.K + 2) - M * M) < 1e-9, "K(K + m − 1) = M² (atol 1e-9)");
    const tighter = inductiveBiasComplexity({ ...p, error: 0.005 });
    assert.ok(Math.abs(tighter.log2Ratio - r.log2Ratio - 1) < 1e-12 && tighter.dimThetaQ === r.dimThetaQ, "halving ε adds one bit per free dimension");
    assert.throws(() => inductiveBiasComplexity({ ...p, delta: 0 }), /expected delta > 0/);
  });
});

describe("the MLE intrinsic dimension", () => {
  it("recovers a circle and a 3-torus, and reads a full-dimensional Gaussian as high-dimensional", async () => {
    const est = async (kind: "torus" | "gaussian", m: number, seed: number) => {
      const [a, b] = splitKey(keyFromSeed(seed), 2);
      return intrinsicDimMLE(await manifoldSample(kind, m, 1000, 16, a), 1000, 16, 5, 1000, b);
    };
    const circle = await est("torus", 1, 1);
    const torus = await est("torus", 3, 2);
    const gauss = await est("gaussian", 0, 3);
    assert.ok(Math.abs(circle - 1) < 0.1, `circle: ${circle} (within 10%)`);
    assert.ok(Math.abs(torus / 3 - 1) < 0.15, `3-torus: ${torus} (within 15%)`);
    assert.ok(gauss > 8, `N(0, I₁₆): ${gauss} > 8`);
    assert.throws(() => intrinsicDimMLE(new Float64Array(10), 5, 2, 5, 5, keyFromSeed(4)), /expected an integer k in \[2, n\)/);
  });
});

describe("a real task's inputs (datasetDifficultyInputs)", () => {
  it("R, δ and the class count on a hand case; the MLE dimension equals the float64 estimator's with every point a query", async () => {
    // 2-D points: classes 0, 0, 1, 1; the closest cross-class pair at distance 0.5 (< 1, skipped), the next at √2.
    const X = Float32Array.from([0, 0, 3, 0, 0, 0.5, 1, 1]);
    const r = await datasetDifficultyInputs(X, [0, 0, 1, 1], 4, 2, { k: 2, queries: 4, deltaSample: 4 }, keyFromSeed(1));
    assert.ok(Math.abs(r.R - 3) < 1e-12 && Math.abs(r.delta - Math.SQRT2) < 1e-6 && r.classes === 2, `R ${r.R}, δ ${r.delta}, classes ${r.classes}`);
    const n = 600;
    const T = await manifoldSample("torus", 3, n, 16, keyFromSeed(2));
    const got = await datasetDifficultyInputs(Float32Array.from(T), new Int32Array(n), n, 16, { k: 5, queries: n, deltaSample: 10 }, keyFromSeed(3));
    const want = intrinsicDimMLE(T, n, 16, 5, n, keyFromSeed(4));
    assert.ok(Math.abs(got.mRaw - want) < 1e-3 * want && got.m === Math.round(got.mRaw) && got.duplicates === 0, `float32 blocks ${got.mRaw} against float64 ${want}`);
    const dup = await datasetDifficultyInputs(Float32Array.from([...T.subarray(0, 40 * 16), ...T.subarray(0, 16)]), new Int32Array(41), 41, 16, { k: 3, queries: 41 }, keyFromSeed(5));
    assert.ok(dup.duplicates === 2 && Number.isFinite(dup.mRaw), `a duplicated point is skipped as a neighbour of its twin (both ways): ${dup.duplicates}, m̂ ${dup.mRaw}`);
  });
});
