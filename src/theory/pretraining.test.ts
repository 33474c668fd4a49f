import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { keyFromSeed, splitKey } from "../core/prng.ts";
import { matmul64, qr, transpose64 } from "../core/linalg.ts";
import { bayesOf, drawFactorModel, excessRisk, olsExcessTheory, olsOnFeatures, ridgePath, sampleFactorModel, subspaceError } from "./pretraining.ts";

describe("unsupervised pretraining on a factor model (Ge et al.): the pieces", () => {
  it("the Bayes predictor and risk match a large sample (the risk of β* on fresh data), and β* has zero excess risk", async () => {
    const [kf, ks] = splitKey(keyFromSeed(1), 2);
    const f = await drawFactorModel({ d: 20, r: 3, scale: 0.5, noise: 0.3, labels: "latent" }, kf);
    const b = bayesOf(f);
    const n = 20000;
    const { x, y } = await sampleFactorModel(f, n, ks);
    const pred = matmul64(x, b.beta, n, 20, 1);
    const mse = pred.reduce((s, p, i) => s + (y[i] - p) ** 2, 0) / n;
    // Monte-Carlo error of a mean of n squared Gaussian residuals: sd ≈ R*·√(2/n) ≈ 1% of R*
    assert.ok(Math.abs(mse / b.risk - 1) < 0.04, `test MSE of β* ${mse} vs R* ${b.risk} (rtol 0.04, 4 sd)`);
    assert.equal(excessRisk(b.sigma, b.beta, b.beta), 0);
  });

  it("the OLS excess-risk theory R*·r/(n − r − 1) matches OLS on the true latent subspace (mean of 400 draws)", async () => {
    const [kf, ...keys] = splitKey(keyFromSeed(2), 401);
    const f = await drawFactorModel({ d: 12, r: 2, scale: 0.6, noise: 0.2, labels: "latent" }, kf);
    const b = bayesOf(f);
    const { q } = qr(f.B, 12, 2); // the exact latent subspace
    const n = 12;
    const ex: number[] = [];
    for (const k of keys) {
      const { x, y } = await sampleFactorModel(f, n, k);
      ex.push(excessRisk(b.sigma, b.beta, olsOnFeatures(q, x, y, n, 12, 2)!));
    }
    const mean = ex.reduce((a, c) => a + c, 0) / ex.length;
    const se = Math.sqrt(ex.reduce((a, c) => a + (c - mean) ** 2, 0) / (ex.length - 1) / ex.length);
    const th = olsExcessTheory(b.risk, 2, n);
    assert.ok(Math.abs(mean - th) < 3 * se, `mean OLS excess ${mean} vs theory ${th} (3 SE = ${3 * se})`);
    assert.throws(() => olsExcessTheory(1, 5, 6), /expected n > r \+ 1/);
    assert.ok(subspaceError(f, q) < 1e-14, "the latent subspace itself has zero principal angles (atol 1e-14)");
  });

  it("orthogonal labels: Q is orthonormal and orthogonal to the factors, the Bayes risk is the label noise", async () => {
    const f = await drawFactorModel({ d: 16, r: 3, scale: 0.3, noise: 0.1, labels: "orthogonal" }, keyFromSeed(3));
    const qtb = matmul64(transpose64(f.Q!, 16, 3), f.B, 3, 16, 3);
    const qtq = matmul64(transpose64(f.Q!, 16, 3), f.Q!, 3, 16, 3);
    assert.ok(qtb.every((v) => Math.abs(v) < 1e-12), "QᵀB = 0 (atol 1e-12)");
    assert.ok(qtq.every((v, i) => Math.abs(v - (i % 4 === 0 ? 1 : 0)) < 1e-12), "QᵀQ = I (atol 1e-12)");
    assert.ok(Math.abs(bayesOf(f).risk - 0.01) < 1e-15, "R* = σ²");
    await assert.rejects(drawFactorModel({ d: 5, r: 3, scale: 1, noise: 0, labels: "latent" }, keyFromSeed(4)), /2r ≤ d/);
  });

  it("the ridge path tends to the minimum-norm interpolator as λ → 0 and to 0 as λ → ∞", async () => {
    const [kf, ks] = splitKey(keyFromSeed(5), 2);
    const f = await drawFactorModel({ d: 30, r: 2, scale: 0.3, noise: 0.1, labels: "latent" }, kf);
    const { x, y } = await sampleFactorModel(f, 10, ks);
    const [tiny, huge] = ridgePath(x, y, 10, 30, [1e-10, 1e10]);
    const fit = matmul64(x, tiny, 10, 30, 1);
    assert.ok(fit.every((v, i) => Math.abs(v - y[i]) < 1e-6), "λ → 0 interpolates (atol 1e-6)");
    assert.ok(huge.every((v) => Math.abs(v) < 1e-8), "λ → ∞ shrinks to 0 (atol 1e-8)");
  });
});
