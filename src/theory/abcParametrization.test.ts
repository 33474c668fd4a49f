import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { NAMED_ABC, featureLearningIndex, isStable, logLogSlope } from "./abcParametrization.ts";

describe("abc-parametrizations (Tensor Programs IV)", () => {
  it("μP learns features (r = 0), NTK and SP with c = 1 are kernel-like (r = ½); all three stable; SP with c = 0 is not", () => {
    // L ≥ 2 hidden layers: the spec's r formula (unverified) was consistency-checked there; with one hidden
    // layer it gives r = 1.5 for SP(c = 1), which nothing here relies on.
    for (const L of [2, 4]) {
      assert.equal(featureLearningIndex(NAMED_ABC.mup(L)), 0, `μP, L = ${L}`);
      assert.equal(featureLearningIndex(NAMED_ABC.ntk(L)), 0.5, `NTK, L = ${L}`);
      assert.equal(featureLearningIndex(NAMED_ABC.sp(L, 1)), 0.5, `SP c = 1, L = ${L}`);
      assert.ok(isStable(NAMED_ABC.mup(L)) && isStable(NAMED_ABC.ntk(L)) && isStable(NAMED_ABC.sp(L, 1)), `stable, L = ${L}`);
      assert.ok(!isStable(NAMED_ABC.sp(L, 0)), `SP with c = 0 unstable, L = ${L}`);
    }
  });

  it("the symmetry (a, b, c) → (a + θ, b − θ, c − 2θ) leaves r and stability unchanged", () => {
    for (const p of [NAMED_ABC.mup(2), NAMED_ABC.ntk(2), NAMED_ABC.sp(2, 1)]) {
      const t = 0.25;
      const q = { a: p.a.map((a) => a + t), b: p.b.map((b) => b - t), c: p.c - 2 * t };
      assert.ok(Math.abs(featureLearningIndex(q) - featureLearningIndex(p)) < 1e-12 && isStable(q) === isStable(p), "invariant under the abc symmetry");
    }
  });

  it("log-log slopes of exact power laws", () => {
    const x = [128, 256, 512, 1024];
    assert.ok(Math.abs(logLogSlope(x, x.map((n) => 3 * n ** -0.5)) + 0.5) < 1e-12, "n^{-1/2}");
    assert.ok(Math.abs(logLogSlope(x, x.map(() => 7))) < 1e-12, "constant");
  });
});
