// The eigenframework calculators (Simon et al. 2023) against closed forms and against simulation.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { keyFromSeed, splitKey } from "../src/core/prng.ts";
import { krrRisk, powerLawTask, rfRisk } from "../src/theory/eigenframework.ts";
import { choleskySolve, simulateRf } from "../src/theory/rfSimulation.ts";

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
