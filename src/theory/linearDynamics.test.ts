import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { keyFromSeed, splitKey } from "../core/prng.ts";
import { gaussLegendre, integratePanels } from "../core/quadrature.ts";
import { drawLinearData, frozenExcessDraw, frozenExcessOf, linearDrawCurves, linearModes, linearTheory, linearTheoryAsymptote, mpIntegral, teacherVariances } from "./linearDynamics.ts";

const close = (a: number, b: number, rtol: number, what: string) => assert.ok(Math.abs(a - b) <= rtol * Math.abs(b), `${what}: ${a} vs ${b} (rtol ${rtol})`);

describe("Gauss–Legendre quadrature", () => {
  it("is exact for polynomials of degree 2n − 1 and converges on smooth integrands", () => {
    const { x, w } = gaussLegendre(5);
    for (let k = 0; k <= 9; k++) {
      const q = x.reduce((s, xi, i) => s + w[i] * xi ** k, 0);
      assert.ok(Math.abs(q - (k % 2 ? 0 : 2 / (k + 1))) < 1e-14, `∫x^${k} over [−1, 1] (atol 1e-14)`);
    }
    const r = integratePanels(Math.exp, [0, 0.5, 1], 12);
    assert.ok(Math.abs(r.value - (Math.E - 1)) < 1e-14 && r.error < 1e-10, "∫₀¹ eˣ = e − 1 (atol 1e-14), error estimate small");
    assert.throws(() => gaussLegendre(0), /gaussLegendre: expected an integer order/);
  });
});

describe("linear teacher–student dynamics (Advani & Saxe): theory", () => {
  it("the Marchenko–Pastur density: mass min(1, α), mean eigenvalue α, and E[1/λ] in closed form", () => {
    for (const alpha of [0.25, 0.8, 1, 1.25, 4]) {
      close(mpIntegral(alpha, () => 1).value, Math.min(1, alpha), 1e-10, `mass at α = ${alpha}`);
      close(mpIntegral(alpha, (l) => l).value, alpha, 1e-10, `∫ρλ at α = ${alpha}`);
      if (alpha !== 1) close(mpIntegral(alpha, (l) => 1 / l).value, alpha > 1 ? 1 / (alpha - 1) : alpha / (1 - alpha), 1e-8, `∫ρ/λ at α = ${alpha}`);
    }
  });

  it("E_g and E_train start at σ_w̄² + σ₀² + σ_ε² and converge to the closed-form limits; the frozen term is (1 − α)σ₀²", () => {
    for (const alpha of [0.5, 2]) {
      for (const init of [0, 1]) {
        const th = linearTheory({ alpha, snr: 5, init }, [0, 1e6]);
        close(th.test[0], 1 + init, 1e-10, `E_g(0) at α = ${alpha}, σ₀² = ${init}`);
        close(th.train[0], 1 + init, 1e-10, `E_train(0) at α = ${alpha}, σ₀² = ${init}`);
        close(th.test[1], linearTheoryAsymptote({ alpha, snr: 5, init }), 1e-9, `E_g(∞) at α = ${alpha}, σ₀² = ${init}`);
        if (alpha > 1) close(th.train[1], (1 - 1 / alpha) / 6, 1e-9, `E_train(∞) = (1 − 1/α)σ_ε² at α = ${alpha}`);
        else assert.ok(th.train[1] < 1e-12, `E_train(∞) = 0 when α < 1 (atol 1e-12), got ${th.train[1]}`);
      }
      const excess = linearTheoryAsymptote({ alpha, snr: 5, init: 1 }) - linearTheoryAsymptote({ alpha, snr: 5, init: 0 });
      assert.ok(Math.abs(excess - Math.max(0, 1 - alpha)) < 1e-12, `frozen excess (1 − α)₊σ₀² at α = ${alpha}: ${excess} (atol 1e-12)`);
    }
    // at α = 1 the noise term grows like σ_ε²·(2√π(2 − √2)/π)·√t (the density ~ 1/(π√λ) at 0)
    const th = linearTheory({ alpha: 1, snr: 5, init: 0 }, [1e8]);
    close(th.test[0] / Math.sqrt(1e8), ((1 / 6) * 2 * Math.sqrt(Math.PI) * (2 - Math.SQRT2)) / Math.PI, 1e-3, "α = 1: E_g(t)/√t at t = 1e8");
    assert.deepEqual(teacherVariances(5), { teacher: 5 / 6, noise: 1 / 6 });
    assert.throws(() => linearTheory({ alpha: 0, snr: 5, init: 0 }, [1]), /expected α = P\/N > 0/);
  });
});

describe("linear teacher–student dynamics: simulation", () => {
  it("the closed-form gradient flow of a draw equals explicit gradient-descent steps (η → 0), both orientations", async () => {
    for (const [N, P] of [[6, 10], [12, 5]]) {
      const data = await drawLinearData(N, P, 5, keyFromSeed(N * 100 + P));
      const draw = linearModes(data);
      const sigma0 = 0.7;
      const eta = 1e-3;
      const steps = 4000; // t = 4
      const w = Float64Array.from(data.z, (v) => sigma0 * v);
      const { X, eps, wbar } = data;
      const y = Float64Array.from({ length: P }, (_, p) => wbar.reduce((s, wj, j) => s + X[p * N + j] * wj, 0) + eps[p]);
      for (let k = 0; k < steps; k++) {
        const r = Float64Array.from({ length: P }, (_, p) => y[p] - w.reduce((s, wj, j) => s + X[p * N + j] * wj, 0));
        for (let j = 0; j < N; j++) {
          let g = 0;
          for (let p = 0; p < P; p++) g += X[p * N + j] * r[p];
          w[j] += eta * g;
        }
      }
      const test = w.reduce((s, wj, j) => s + (wj - wbar[j]) ** 2, 0) / N + data.noise;
      const train = y.reduce((s, yp, p) => s + (yp - w.reduce((a, wj, j) => a + X[p * N + j] * wj, 0)) ** 2, 0) / P;
      const flow = linearDrawCurves(draw, sigma0, [eta * steps]);
      close(flow.test[0], test, 2e-3, `N = ${N}, P = ${P}: E_g(t = 4), flow vs GD with η = 1e-3 (O(η) apart)`);
      close(flow.train[0], train, 2e-3, `N = ${N}, P = ${P}: E_train(t = 4)`);
      const start = linearDrawCurves(draw, sigma0, [0]);
      close(start.test[0], data.z.reduce((s, zj, j) => s + (sigma0 * zj - wbar[j]) ** 2, 0) / N + data.noise, 1e-12, "E_g(0) of the draw");
    }
  });

  it("the frozen-subspace excess by one Cholesky solve equals the eigendecomposition's, and is unbiased for σ₀²(1 − P/N)", async () => {
    const data = await drawLinearData(30, 12, 5, keyFromSeed(7));
    const draw = linearModes(data);
    const viaEig = linearDrawCurves(draw, Math.sqrt(2), [Infinity]).test[0] - linearDrawCurves(draw, 0, [Infinity]).test[0];
    close(frozenExcessOf(data, 2), viaEig, 1e-10, "frozen excess, Cholesky vs eigendecomposition");
    assert.equal(frozenExcessOf(await drawLinearData(5, 12, 5, keyFromSeed(8)), 2), 0, "no frozen subspace when N ≤ P");
    // 400 draws at N = 40, P = 20: per-draw sd ≈ 0.22 of the mean 0.5, so 3 SE ≈ 3.3%
    let key = keyFromSeed(9);
    const xs: number[] = [];
    for (let i = 0; i < 400; i++) {
      const [next, k] = splitKey(key, 2);
      key = next;
      xs.push(await frozenExcessDraw(40, 20, 5, 1, k));
    }
    key.dispose();
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    const se = Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1) / xs.length);
    assert.ok(Math.abs(m - 0.5) < 3 * se, `mean frozen excess ${m} within 3 SE (${se}) of 0.5`);
  });
});
