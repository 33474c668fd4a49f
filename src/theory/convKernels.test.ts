import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { keyFromSeed } from "../core/prng.ts";
import { cholesky, symEig } from "../core/linalg.ts";
import { kappa0, kappa1, learningCurveExponent, sphericalPatches, treeNtk } from "./convKernels.ts";

describe("the tree NTK of a wide hierarchical CNN (Cagnetta et al.)", () => {
  it("arc-cosine kernels at known points", () => {
    assert.equal(kappa0(1), 1);
    assert.equal(kappa1(1), 1);
    assert.ok(Math.abs(kappa0(0) - 0.5) < 1e-15 && Math.abs(kappa1(0) - 1 / Math.PI) < 1e-15, "κ₀(0) = ½, κ₁(0) = 1/π");
    assert.ok(Math.abs(kappa0(-1)) < 1e-15 && Math.abs(kappa1(-1)) < 1e-15, "κ₀(−1) = κ₁(−1) = 0");
  });

  it("NTK(x, x) = L + 1 for unit patches; the Gram matrix is symmetric and positive semi-definite", async () => {
    const X = await sphericalPatches(40, 8, 2, keyFromSeed(1));
    for (const filters of [[2], [2, 2], [2, 2, 2]]) {
      const K = treeNtk(X, 40, X, 40, 8, filters);
      // atol 1e-7: a unit patch's self-cosine is 1 − O(1e-16), and arccos has a square-root singularity at 1, so
      // κ₀ there is 1 − O(1e-8)
      for (let i = 0; i < 40; i++) assert.ok(Math.abs(K[i * 40 + i] - (filters.length + 1)) < 1e-7, `filters ${filters}: diagonal ${K[i * 40 + i]} = L + 1 (atol 1e-7)`);
      for (let i = 0; i < 40; i++) for (let j = 0; j < i; j++) assert.ok(Math.abs(K[i * 40 + j] - K[j * 40 + i]) < 1e-14, "symmetric");
      const ev = symEig(K, 40).values;
      assert.ok(ev[0] > -1e-10, `filters ${filters}: smallest eigenvalue ${ev[0]} ≥ 0 (atol 1e-10)`);
      assert.ok(cholesky(K, 40, 1e-8) !== null, "Cholesky with a small jitter");
    }
    assert.throws(() => treeNtk(X, 1, X, 1, 8, [3]), /does not divide d = 8/);
  });

  it("the local teacher's kernel is additive over patches: changing one patch changes one term", async () => {
    const X = await sphericalPatches(3, 8, 2, keyFromSeed(2));
    // rows 0 and 1 share patches 2–4; K_local(x, y) = mean_p [κ₀(c_p)c_p + κ₁(c_p)] + … depends on each patch alone
    const Y = Float64Array.from(X);
    Y.set(X.subarray(0, 2), 8); // row 1's first patch := row 0's
    const K = treeNtk(X.subarray(0, 8), 1, Y.subarray(8, 16), 1, 8, [2])[0];
    const term = (c: number) => kappa0(c) * c + kappa1(c);
    let want = 0;
    for (let p = 0; p < 4; p++) {
      const c = X[p * 2] * Y[8 + p * 2] + X[p * 2 + 1] * Y[8 + p * 2 + 1];
      want += term(Math.max(-1, Math.min(1, c))) / 4;
    }
    assert.ok(Math.abs(K - want) < 1e-12, `local kernel = mean over patches of κ₀(c)c + κ₁(c): ${K} vs ${want}`);
  });

  it("learning-curve exponents of exact power laws", () => {
    assert.ok(Math.abs(learningCurveExponent([256, 512, 1024], [256, 512, 1024].map((P) => 3 * P ** -0.5)) - 0.5) < 1e-12, "β = 0.5");
  });
});
