import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { keyFromSeed, splitKey } from "../core/prng.ts";
import { symEig } from "../core/linalg.ts";
import { measurementMatrix, recoveryError, robustMatrixSensing, smallInit, subgradientMethod, type SensingProblem } from "./matrixSensing.ts";

/** f(U) = (1/m) Σ |⟨Aᵢ, UUᵀ⟩ − yᵢ| (l1) or (1/m) Σ (⟨Aᵢ, UUᵀ⟩ − yᵢ)² (l2), from the full matrices. */
function lossOf(p: SensingProblem, U: Float64Array, rank: number, loss: "l1" | "l2"): number {
  const { d, m } = p;
  let f = 0;
  for (let i = 0; i < m; i++) {
    const A = measurementMatrix(p, i);
    let v = -p.y[i];
    for (let s = 0; s < d; s++) for (let t = 0; t < d; t++) {
      let uu = 0;
      for (let k = 0; k < rank; k++) uu += U[s * rank + k] * U[t * rank + k];
      v += A[s * d + t] * uu;
    }
    f += loss === "l1" ? Math.abs(v) : v * v;
  }
  return f / m;
}

describe("robust matrix sensing (Ma & Fattahi): the problem", () => {
  it("symmetric measurements, ‖X*‖_op = 1 at rank r, yᵢ = ⟨Aᵢ, X*⟩ off the outliers, exactly round(p·m) outliers", async () => {
    const p = await robustMatrixSensing({ d: 6, r: 2, m: 50, outlierFraction: 0.3, outlierScale: 10 }, keyFromSeed(1));
    const ev = symEig(p.xStar, 6).values;
    assert.ok(Math.abs(ev[5] - 1) < 1e-12 && Math.abs(ev[3]) < 1e-12 && ev[4] > 1e-3, `X* has rank 2 and top eigenvalue 1: ${Array.from(ev)}`);
    assert.equal(p.outlier.reduce((a, b) => a + b, 0), 15);
    for (let i = 0; i < p.m; i++) {
      const A = measurementMatrix(p, i);
      for (let s = 0; s < 6; s++) for (let t = 0; t < 6; t++) assert.equal(A[s * 6 + t], A[t * 6 + s], "Aᵢ symmetric");
      if (p.outlier[i]) continue;
      const full = A.reduce((acc, a, k) => acc + a * p.xStar[k], 0);
      assert.ok(Math.abs(full - p.y[i]) < 1e-12, `y[${i}] = ⟨Aᵢ, X*⟩ through the packed form (atol 1e-12)`);
    }
    await assert.rejects(robustMatrixSensing({ d: 3, r: 4, m: 5, outlierFraction: 0, outlierScale: 1 }, keyFromSeed(2)), /expected integers d ≥ 1, 1 ≤ r ≤ d/);
  });
});

describe("the sub-gradient method", () => {
  it("one step is −η × the loss's gradient (float64 central differences; l1 away from its kinks)", async () => {
    const [kp, ku] = splitKey(keyFromSeed(3), 2);
    const p = await robustMatrixSensing({ d: 5, r: 1, m: 40, outlierFraction: 0.2, outlierScale: 3 }, kp);
    const U0 = await smallInit(5, 3, 0.5, ku);
    for (const loss of ["l2", "l1"] as const) {
      const eta = 1e-3;
      const step = subgradientMethod(p, U0, 3, { eta0: eta, rho: 1, iterations: 1, loss, every: 1 }).U;
      const h = 1e-6;
      for (let j = 0; j < U0.length; j++) {
        const up = Float64Array.from(U0);
        const dn = Float64Array.from(U0);
        up[j] += h;
        dn[j] -= h;
        const fd = (lossOf(p, up, 3, loss) - lossOf(p, dn, 3, loss)) / (2 * h);
        const g = (U0[j] - step[j]) / eta;
        assert.ok(Math.abs(fd - g) <= 1e-6 * Math.max(1, Math.abs(fd)), `${loss}: ∂f/∂U[${j}] ${g} vs central difference ${fd} (rtol 1e-6)`);
      }
    }
  });

  it("recovers a well-posed problem from small initialisation; a too-large step is reported as diverged, never as NaN", async () => {
    const [kp, ku] = splitKey(keyFromSeed(4), 2);
    const p = await robustMatrixSensing({ d: 6, r: 1, m: 150, outlierFraction: 0.1, outlierScale: 10 }, kp);
    const U0 = await smallInit(6, 4, 1e-4, ku);
    const run = subgradientMethod(p, U0, 4, { eta0: 0.5, rho: 0.99, iterations: 1000 });
    assert.ok(run.final < 1e-3 && !run.diverged, `relative error ${run.final} < 1e-3`);
    assert.equal(run.errors.length, 101, "errors every 10 steps and at the end");
    assert.ok(Math.abs(run.errors[0] - recoveryError(p, U0, 4)) < 1e-15, "the first logged error is U₀'s");
    const blow = subgradientMethod(p, U0, 4, { eta0: 1e3, rho: 1, iterations: 200, loss: "l2" });
    assert.ok(blow.diverged && blow.final === Infinity, `diverged run: ${blow.final}`);
  });
});
