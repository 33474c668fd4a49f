import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { keyFromSeed } from "../core/prng.ts";
import { bootstrap, conditionalMutualInformation, granulatedKendall, kendallTau, type ZooModel } from "./rankCorrelation.ts";

// a 3 × 3 × 2 grid: the gap depends on width and lr only
const grid: ZooModel[] = [];
for (const width of [16, 32, 64]) for (const lr of [0.01, 0.1, 1]) for (const wd of [0, 1e-4]) grid.push({ hparams: { width, lr, wd }, measure: 0, gap: width + 10 * lr + (wd ? 0.001 : 0) });

describe("rank-correlation protocols (measures/rankCorrelation.ts)", () => {
  it("Kendall τ: 1 for a perfect measure, −1 reversed, ~0 for noise; hand case with a tie", () => {
    const perfect = grid.map((m) => ({ ...m, measure: m.gap }));
    assert.equal(kendallTau(perfect), 1);
    assert.equal(kendallTau(grid.map((m) => ({ ...m, measure: -m.gap }))), -1);
    // pairs: (a,b) concordant, (a,c) tie in μ → 0, (b,c) discordant: (1 + 0 − 1)/3
    assert.equal(kendallTau([{ hparams: {}, measure: 1, gap: 1 }, { hparams: {}, measure: 2, gap: 2 }, { hparams: {}, measure: 1, gap: 3 }]), 0);
  });

  it("granulated Ψ: a measure that tracks only width gets ψ_width = 1 and ψ_lr ≈ 0", () => {
    const widthOnly = grid.map((m) => ({ ...m, measure: Number(m.hparams.width) }));
    const g = granulatedKendall(widthOnly);
    assert.equal(g.perHparam.width, 1);
    assert.equal(g.perHparam.lr, 0);
    assert.ok(Math.abs(g.psi - 1 / 3) < 1e-12, `Ψ ${g.psi}`);
  });

  it("CMI: a measure equal to the gap scores 1; one that only encodes width scores 0 once we condition on width", () => {
    const perfect = conditionalMutualInformation(grid.map((m) => ({ ...m, measure: m.gap })));
    assert.ok(Math.abs(perfect.k - 1) < 1e-12, `K ${perfect.k}`);
    const widthOnly = conditionalMutualInformation(grid.map((m) => ({ ...m, measure: Number(m.hparams.width) })));
    assert.ok(widthOnly.k < 1e-12 && widthOnly.argmin.includes("width"), JSON.stringify(widthOnly));
  });

  it("bootstrap intervals contain the estimate and shrink with more models", () => {
    const noisy = (n: number) => Array.from({ length: n }, (_, i) => ({ hparams: { i }, measure: i + 3 * Math.sin(i * 7.3), gap: i }));
    const small = bootstrap(noisy(20), kendallTau, keyFromSeed(1));
    const big = bootstrap(noisy(200), kendallTau, keyFromSeed(1));
    assert.ok(small.lo <= small.value && small.value <= small.hi, JSON.stringify(small));
    assert.ok(big.hi - big.lo < small.hi - small.lo, `${big.hi - big.lo} vs ${small.hi - small.lo}`);
  });
});
