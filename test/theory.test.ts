// The eigenframework calculators (Simon et al. 2023) against closed forms and against simulation.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { keyFromSeed, splitKey } from "../src/core/prng.ts";
import { krrRisk, powerLawTask, rfRisk } from "../src/theory/eigenframework.ts";
import { choleskySolve } from "../src/core/linalg.ts";
import { simulateRf } from "../src/theory/rfSimulation.ts";

const task = powerLawTask(400, 1.2, 1.4, 0.05);

describe("eigenframework", () => {
  it("the kernel limit: κ solves Σλ/(λ+κ) + δ/κ = n, and rfRisk(k → ∞) → krrRisk", () => {
    const r = krrRisk(task, 64, 0.1);
    let s = 0.1 / r.kappa;
    for (const l of task.eigenvalues) s += l / (l + r.kappa);
    assert.ok(Math.abs(s - 64) < 1e-9, String(s));
    // finite k approaches the kernel limit from above (rtol 2%: k = 10⁶ is not ∞)
    const big = rfRisk(task, 64, 1e6, 0.1).test;
    assert.ok(Math.abs(big - r.test) / r.test < 0.02, `${big} vs ${r.test}`);
    assert.ok(rfRisk(task, 64, 32, 0.1).test > r.test, "rfRisk(task, 64, 32, 0.1).test > r.test");
  });

  it("ridgeless under-parameterized RF has the least-squares variance factor n/(n − k); k = n diverges", () => {
    const r = rfRisk(task, 100, 40, 0);
    assert.ok(Math.abs(r.e0 - 100 / 60) < 1e-9, String(r.e0));
    assert.equal(rfRisk(task, 100, 100, 0).test, Infinity);
  });

  it("predicts the simulated test risk (20 trials, within 6%) at a ridge, k < n and k > n", async () => {
    const t = powerLawTask(300, 1.2, 1.4, 0.05);
    let key = keyFromSeed(5);
    for (const [n, k] of [[64, 32], [64, 256], [64, Infinity]] as const) {
      let sum = 0;
      const trials = 20;
      for (let i = 0; i < trials; i++) {
        const [a, b] = splitKey(key, 2);
        key = a;
        sum += (await simulateRf(t, n, k, [0.05], b)).test[0];
      }
      const sim = sum / trials;
      const th = rfRisk(t, n, k, 0.05).test;
      // rtol 6%: 20 trials of a quantity whose trial-to-trial sd is ~10–15%
      assert.ok(Math.abs(th - sim) / sim < 0.06, `n=${n} k=${k}: theory ${th}, simulation ${sim}`);
    }
    key.dispose();
  });

  it("Cholesky solve against a known system; a non-PD matrix is refused", () => {
    const A = Float64Array.from([4, 2, 2, 3]);
    const x = choleskySolve(A, 2, 0, Float64Array.from([2, 1]), 1)!;
    assert.ok(Math.abs(x[0] - 0.5) < 1e-12 && Math.abs(x[1]) < 1e-12, "Math.abs(x[0] - 0.5) < 1e-12 && Math.abs(x[1]) < 1e-12");
    assert.equal(choleskySolve(Float64Array.from([1, 2, 2, 1]), 2, 0, Float64Array.from([1, 1]), 1), null);
  });
});

describe("bounds for discrete hypotheses (theory/pacBayesDiscrete.ts)", () => {
  it("binary kl and its inverse; the bounds on a hand case; kl-inverse is the tightest", async () => {
    const { binaryKl, klInverseUpper, discreteBounds } = await import("../src/theory/pacBayesDiscrete.ts");
    assert.ok(Math.abs(binaryKl(0.1, 0.2) - (0.1 * Math.log(0.5) + 0.9 * Math.log(0.9 / 0.8))) < 1e-15, "kl");
    const p = klInverseUpper(0.1, 0.05);
    assert.ok(Math.abs(binaryKl(0.1, p) - 0.05) < 1e-9 && p > 0.1, `inverse ${p}`);
    const b = discreteBounds({ empiricalRisk: 0.1, n: 10000, negLogPrior: 30, delta: 0.05, vocab: 64, length: 8 });
    assert.ok(Math.abs(b.occamPrior - (0.1 + Math.sqrt((30 + Math.log(20)) / 20000))) < 1e-15, "Occam");
    assert.ok(Math.abs(b.mcallester - (0.1 + Math.sqrt((30 + Math.log(20) + Math.log(10000) + 2) / 19999))) < 1e-15, "McAllester");
    assert.ok(b.klInverse < b.occamPrior && b.klInverse < b.mcallester, JSON.stringify(b));
    assert.ok(b.occamUniform! > b.occamPrior, "8·ln 64 = 33.3 nats > 30");
  });

  it("validity by simulation: for a fixed hypothesis with true risk 0.3, the kl bound holds in ≥ 1 − δ of 4,000 resamples", async () => {
    const { discreteBounds } = await import("../src/theory/pacBayesDiscrete.ts");
    const { uniformFromKey } = await import("../src/core/prng.ts");
    const n = 200;
    const u = uniformFromKey(keyFromSeed(9), 4000 * n);
    let holds = 0;
    for (let t = 0; t < 4000; t++) {
      let errors = 0;
      for (let i = 0; i < n; i++) if (u[t * n + i] < 0.3) errors++;
      if (discreteBounds({ empiricalRisk: errors / n, n, negLogPrior: 0, delta: 0.05 }).klInverse >= 0.3) holds++;
    }
    assert.ok(holds / 4000 >= 0.95, `held in ${holds}/4000`);
  });

  it("bigram prior: rows normalised, −ln P by hand; greedy search finds a planted best sequence and selects the prefix by its kl bound", async () => {
    const { fitBigram, bigramNegLogProb, greedyDiscreteSearch } = await import("../src/theory/pacBayesDiscrete.ts");
    const lm = fitBigram([0, 1, 2, 0, 1, 2, 0, 1], 3, 0.5, 4);
    for (let r = 0; r <= 3; r++) {
      const s = [0, 1, 2].reduce((a, t) => a + Math.exp(lm.logProb[r * 3 + t]), 0);
      assert.ok(Math.abs(s - 1) < 1e-12, `row ${r} sums to ${s}`);
    }
    // start contexts at 0 and 4 (tokens 0 and 1): counts start→0: 1.5, start→1: 1.5, start→2: 0.5
    assert.ok(Math.abs(bigramNegLogProb(lm, [0]) + Math.log(1.5 / 3.5)) < 1e-12, "start prob");
    assert.ok(bigramNegLogProb(lm, []) === 0, "empty sequence");
    // planted: errors = 100 − 30·(number of leading tokens matching [2, 1]) on n = 1000; the prior is uniform
    const target = [2, 1];
    const errorsOf = (seq: number[]) => 100 - 30 * seq.filter((t, i) => target[i] === t).length + (seq.length > 2 ? 5 : 0);
    const res = await greedyDiscreteSearch({ vocab: 3, maxLength: 3, n: 1000, lambda: 1, negLogPrior: (t) => Math.log(4) + t.length * Math.log(3), errors: async (prefix, cand) => (cand.length ? cand.map((t) => errorsOf([...prefix, t])) : [errorsOf(prefix)]) });
    assert.deepEqual(res.path.map((s) => s.tokens.length), [0, 1, 2, 3], "one prefix a length");
    assert.deepEqual(res.path[2].tokens, target, "the planted sequence");
    assert.deepEqual(res.byTrainError.tokens, target, "fewest training errors");
    assert.deepEqual(res.byBound.tokens, target, "selected by bound (length 3 costs more errors and more prior)");
    assert.ok(res.byBound.bounds.klInverse > res.byBound.risk, "the bound exceeds the empirical risk");
  });
});
