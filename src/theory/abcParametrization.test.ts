import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { random } from "@jax-js/jax";
import { keyFromSeed, splitKey } from "../core/prng.ts";
import { NAMED_ABC, featureLearningIndex, isStable, logLogSlope, lrSweep, lrWidthExponent } from "./abcParametrization.ts";

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

describe("learning-rate transfer (lrSweep, lrWidthExponent)", () => {
  it("Thm 3.3's width exponent of the largest stable rate: 0 for μP, NTK and SP(c = 1); 1 for SP(c = 0) and for μP with the standard readout", () => {
    for (const L of [1, 2, 3]) {
      assert.equal(lrWidthExponent(NAMED_ABC.mup(L)), 0, `μP, L = ${L}`);
      assert.equal(lrWidthExponent(NAMED_ABC.ntk(L)), 0, `NTK, L = ${L}`);
      assert.equal(lrWidthExponent(NAMED_ABC.sp(L, 1)), 0, `SP c = 1, L = ${L}`);
      assert.equal(lrWidthExponent(NAMED_ABC.sp(L, 0)), 1, `SP c = 0, L = ${L}`);
      const m = NAMED_ABC.mup(L);
      assert.equal(lrWidthExponent({ ...m, a: [...m.a.slice(0, L), 0] }), 1, `μP with the SP readout, L = ${L}`);
    }
    assert.ok(Number.isNaN(lrWidthExponent({ a: [0.3, 0.5], b: [0, 0.5], c: 0 })), "a₁ + b₁ ≠ 0: no learning rate makes it stable");
  });

  it("the batched networks are exactly independent full-batch GD runs (against float64 GD by hand, L = 2)", async () => {
    const d = 3, n = 4, B = 5, steps = 3, L = 2;
    const p = NAMED_ABC.mup(L);
    const lrs = [0.05, 0.4];
    const inits = 2;
    const x = Float32Array.from({ length: B * d }, (_, i) => Math.sin(1.7 * i + 0.3));
    const y = Float32Array.from({ length: B }, (_, i) => Math.cos(2.1 * i));
    const key = keyFromSeed(7);
    const got = await lrSweep(p, n, x, y, d, steps, lrs, inits, key.ref);
    // The same draws as lrSweep: one key per layer, [1, inits, in, out], times n^{-b}.
    const dims = [d, n, n, 1];
    const w0: Float64Array[][] = [];
    for (const [l, k] of splitKey(key, L + 1).entries()) {
      const a = (await random.normal(k, [inits, dims[l], dims[l + 1]]).data()) as Float32Array;
      w0.push(Array.from({ length: inits }, (_, j) => Float64Array.from(a.subarray(j * dims[l] * dims[l + 1], (j + 1) * dims[l] * dims[l + 1]), (v) => v * n ** -p.b[l])));
    }
    const mult = p.a.map((a) => n ** -a);
    const lossOf = (ws: Float64Array[]) => {
      let s = 0;
      for (let i = 0; i < B; i++) {
        let h = Array.from(x.subarray(i * d, (i + 1) * d), Number);
        for (let l = 0; l <= L; l++) {
          const o = Array.from({ length: dims[l + 1] }, (_, c) => h.reduce((t, v, r) => t + v * ws[l][r * dims[l + 1] + c], 0) * mult[l]);
          h = l < L ? o.map((v) => Math.max(v, 0)) : o;
        }
        s += (h[0] - y[i]) ** 2;
      }
      return (0.5 * s) / B;
    };
    for (const [i, lr] of lrs.entries())
      for (let j = 0; j < inits; j++) {
        const ws = w0.map((w) => Float64Array.from(w[j]));
        for (let t = 0; t < steps; t++) {
          const g = ws.map((w) =>
            Float64Array.from(w, (_, q) => {
              const h = 1e-6;
              const keep = w[q];
              w[q] = keep + h;
              const up = lossOf(ws);
              w[q] = keep - h;
              const dn = lossOf(ws);
              w[q] = keep;
              return (up - dn) / (2 * h);
            }),
          );
          for (const [l, w] of ws.entries()) for (let q = 0; q < w.length; q++) w[q] -= lr * n ** -p.c * g[l][q];
        }
        const want = lossOf(ws);
        assert.ok(Math.abs(got[i][j] - want) <= 1e-4 * Math.max(1, want), `rate ${lr}, initialisation ${j}: batched ${got[i][j]} against float64 GD ${want}`);
      }
  });
});
