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

  it("CMI equals its definition on random zoos (ties, numeric and string hyperparameters, up to 60 models)", () => {
    // the definition, written plainly: pairs grouped by string keys of their U_S values
    const H = (cs: number[]) => {
      const n = cs.reduce((a, b) => a + b, 0);
      return n ? -cs.reduce((a, c) => (c ? a + (c / n) * Math.log(c / n) : a), 0) : 0;
    };
    const cmiByDefinition = (ms: ZooModel[]) => {
      const names = [...new Set(ms.flatMap((m) => Object.keys(m.hparams)))].sort();
      const sets: string[][] = [[], ...names.map((a) => [a]), ...names.flatMap((a, i) => names.slice(i + 1).map((b) => [a, b]))];
      let best = Infinity;
      for (const S of sets) {
        const cells = new Map<string, number[]>();
        let total = 0;
        for (let i = 0; i < ms.length; i++)
          for (let j = 0; j < ms.length; j++) {
            const vm = Math.sign(ms[i].measure - ms[j].measure);
            const vg = Math.sign(ms[i].gap - ms[j].gap);
            if (i === j || vm === 0 || vg === 0) continue;
            const key = JSON.stringify(S.map((a) => [ms[i].hparams[a], ms[j].hparams[a]]));
            const c = cells.get(key) ?? [0, 0, 0, 0];
            c[(vm > 0 ? 2 : 0) + (vg > 0 ? 1 : 0)]++;
            cells.set(key, c);
            total++;
          }
        if (!total) return Infinity; // no pair ordered in both: the library's "no information"
        let mi = 0;
        let hg = 0;
        for (const c of cells.values()) {
          const w = c.reduce((a, b) => a + b, 0) / total;
          mi += w * (H([c[0] + c[1], c[2] + c[3]]) + H([c[0] + c[2], c[1] + c[3]]) - H(c));
          hg += w * H([c[0] + c[2], c[1] + c[3]]);
        }
        best = Math.min(best, hg > 1e-12 ? mi / hg : 0);
      }
      return best;
    };
    let x = 12345;
    const rnd = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let t = 0; t < 60; t++) {
      const n = 2 + Math.floor(rnd() * 59);
      const axes = 1 + Math.floor(rnd() * 6);
      const ms: ZooModel[] = Array.from({ length: n }, () => {
        const h: Record<string, number | string> = {};
        for (let a = 0; a < axes; a++) h[`h${a}`] = Math.floor(rnd() * (1 + (a % 4)));
        if (rnd() < 0.5) h.opt = rnd() < 0.5 ? "sgd" : "adam";
        return { hparams: h, measure: Math.floor(rnd() * 8), gap: rnd() < 0.1 ? 0.5 : rnd() };
      });
      const got = conditionalMutualInformation(ms).k;
      const want = cmiByDefinition(ms);
      assert.ok(Math.abs(got - want) < 1e-12 || (got === Infinity && want === Infinity), `zoo ${t} (${n} models): CMI ${got} vs ${want}`);
    }
  });

  it("bootstrap intervals contain the estimate and shrink with more models", () => {
    const noisy = (n: number) => Array.from({ length: n }, (_, i) => ({ hparams: { i }, measure: i + 3 * Math.sin(i * 7.3), gap: i }));
    const small = bootstrap(noisy(20), kendallTau, keyFromSeed(1));
    const big = bootstrap(noisy(200), kendallTau, keyFromSeed(1));
    assert.ok(small.lo <= small.value && small.value <= small.hi, JSON.stringify(small));
    assert.ok(big.hi - big.lo < small.hi - small.lo, `${big.hi - big.lo} vs ${small.hi - small.lo}`);
  });
});
