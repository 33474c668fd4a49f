import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { normalCdf } from "../core/special.ts";
import { keyFromSeed } from "../core/prng.ts";
import { drawGmm, gmmEm, linearAccuracy, logisticFit, sampleGmm } from "./gaussianMixture.ts";

describe("Gaussian mixtures: EM pretraining and the logistic downstream (paper 19's GMM instance)", () => {
  it("Φ against known values", () => {
    for (const [x, want] of [[1, 0.8413447460685429], [-1.5, 0.06680720126885807], [2.5, 0.9937903346742238], [0.1, 0.539827837277029]] as const)
      assert.ok(Math.abs(normalCdf(x) - want) < 1e-12, `Φ(${x}) = ${normalCdf(x)}, expected ${want}`);
  });

  it("EM recovers the weights, means and variance of a separated mixture; the log-likelihood never falls from one iteration to the next", async () => {
    const d = 6, n = 4000;
    const g = await drawGmm({ d, K: 3, radius: 3, labels: "component" }, keyFromSeed(1));
    const { x } = await sampleGmm(g, n, keyFromSeed(2));
    const fit = await gmmEm(x, n, d, 3, keyFromSeed(3));
    assert.ok(fit.converged, `converged (last change ${fit.change} after ${fit.iterations} iterations)`);
    assert.ok(Math.abs(fit.sigma2 - 1) < 0.05, `σ² = ${fit.sigma2}`);
    for (let k = 0; k < 3; k++) {
      // match each true mean to its nearest estimate
      const err = Math.min(...[0, 1, 2].map((j) => Math.hypot(...Array.from({ length: d }, (_, i) => fit.means[j * d + i] - g.means[k * d + i]))));
      assert.ok(err < 0.15, `mean ${k}: error ${err}`);
    }
    assert.ok(Array.from(fit.weights).every((w) => Math.abs(w - 1 / 3) < 0.04), `weights ${Array.from(fit.weights)}`);
    let prev = -Infinity;
    for (const it of [1, 2, 3, 5, 8]) {
      const f = await gmmEm(x, n, d, 3, keyFromSeed(3), { maxIter: it, restarts: 1 });
      assert.ok(f.logLik >= prev - 1e-12, `log-likelihood after ${it} iterations ${f.logLik} < ${prev}`);
      prev = f.logLik;
    }
  });

  it("logistic regression: the penalised gradient vanishes at the fit (checked independently), and separable data gets a finite fit", async () => {
    const d = 4, n = 60;
    const g = await drawGmm({ d, K: 2, radius: 0.7, labels: "component" }, keyFromSeed(4));
    const { x, y } = await sampleGmm(g, n, keyFromSeed(5));
    const lambda = 0.3;
    const m = logisticFit(x, y, n, d, lambda);
    assert.ok(m.converged, `converged (‖g‖∞ ${m.gradient})`);
    const grad = new Float64Array(d + 1);
    for (let i = 0; i < n; i++) {
      let z = m.b;
      for (let j = 0; j < d; j++) z += m.w[j] * x[i * d + j];
      const r = 1 / (1 + Math.exp(-z)) - y[i];
      for (let j = 0; j < d; j++) grad[j] += r * x[i * d + j];
      grad[d] += r;
    }
    for (let j = 0; j < d; j++) grad[j] += lambda * m.w[j];
    assert.ok(Math.max(...Array.from(grad, Math.abs)) < 1e-8, `gradient ${Array.from(grad)}`);
    const sep = logisticFit(Float64Array.from([-2, -1, 1, 2]), [0, 0, 1, 1], 4, 1, 1e-3);
    assert.ok(sep.converged && Number.isFinite(sep.w[0]) && linearAccuracy(sep, Float64Array.from([-2, -1, 1, 2]), [0, 0, 1, 1], 4, 1) === 1, `separable: w ${sep.w[0]}, converged ${sep.converged}`);
    assert.throws(() => logisticFit(x, y, n, d, 0), /λ must be > 0/);
  });

  it("the orthogonal labels are independent of the component; the component labels are z mod 2", async () => {
    const g = await drawGmm({ d: 10, K: 2, radius: 2, labels: "orthogonal" }, keyFromSeed(6));
    const dot = g.v!.reduce((s, v, i) => s + v * g.means[10 + i], 0);
    assert.ok(Math.abs(dot) < 1e-12, `vᵀμ = ${dot}`);
    const { z, y } = await sampleGmm(g, 4000, keyFromSeed(7));
    const agree = z.reduce((s, k, i) => s + (k === y[i] ? 1 : 0), 0) / 4000;
    assert.ok(Math.abs(agree - 0.5) < 0.04, `P(y = z) = ${agree}`);
    const h = await drawGmm({ d: 10, K: 4, radius: 2, labels: "component" }, keyFromSeed(8));
    const s = await sampleGmm(h, 100, keyFromSeed(9));
    assert.ok(s.y.every((v, i) => v === s.z[i] % 2), "y = z mod 2");
  });
});
