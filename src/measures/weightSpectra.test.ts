import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { random } from "@jax-js/jax";
import { keyFromSeed, uniformFromKey } from "../core/prng.ts";
import { symEig } from "./spectral.ts";
import { esd, layerSpectrum, powerLawFit, symmetricEigenvalues } from "./weightSpectra.ts";

const gaussian = (n: number, seed: number) => Float64Array.from(random.normal(keyFromSeed(seed), [n]).dataSync() as ArrayLike<number>);

describe("weight spectra (measures/weightSpectra.ts)", () => {
  it("Householder + QL eigenvalues equal Jacobi's on a random symmetric 30×30 (1e-10) and numpy's on 200×200 (1e-8)", () => {
    const n = 30;
    const g = gaussian(n * n, 1);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = g[i * n + j] + g[j * n + i];
    const ql = symmetricEigenvalues(a, n);
    const jac = symEig(Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * n, (i + 1) * n)))).values;
    ql.forEach((v, i) => assert.ok(Math.abs(v - jac[i]) < 1e-10 * Math.max(1, Math.abs(v)), `${i}: ${v} vs ${jac[i]}`));
    if (spawnSync("/usr/bin/python3", ["-c", "import numpy"]).status !== 0) return;
    const m = 200;
    const h = gaussian(m * m, 2);
    const b = new Float64Array(m * m);
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) b[i * m + j] = (h[i * m + j] + h[j * m + i]) / 2;
    const r = spawnSync("/usr/bin/python3", ["-c", "import numpy as np, json, sys; a = np.array(json.loads(sys.stdin.read())).reshape(200, 200); print(json.dumps(np.linalg.eigvalsh(a).tolist()))"], { input: JSON.stringify(Array.from(b)), encoding: "utf8", maxBuffer: 1 << 26 });
    assert.equal(r.status, 0, r.stderr);
    const ref = JSON.parse(r.stdout) as number[];
    symmetricEigenvalues(b, m).forEach((v, i) => assert.ok(Math.abs(v - ref[i]) < 1e-8 * Math.max(1, Math.abs(v)), `${i}: ${v} vs numpy ${ref[i]}`));
  });

  it("a Gaussian matrix follows the Marchenko–Pastur law: σ² ≈ 1, no spikes, small KS; a planted rank-one signal is one spike", () => {
    const N = 800;
    const M = 200;
    const g = gaussian(N * M, 3);
    const s = layerSpectrum(g, N, M);
    assert.ok(Math.abs(s.mpSigma2 - 1) < 0.05, `σ² ${s.mpSigma2}`);
    assert.ok(s.mpSpikes <= 1 && s.mpKs < 0.05, `spikes ${s.mpSpikes}, KS ${s.mpKs}`);
    assert.ok(Math.abs(s.stableRank - (M * 1) / ((1 + Math.sqrt(M / N)) ** 2)) < 0.15 * s.stableRank, `stable rank ${s.stableRank}`);
    // + θ u vᵀ with ‖u‖ = √N, ‖v‖ = 1 and θ = 3: an outlier far above the edge
    const u = gaussian(N, 4);
    const v = gaussian(M, 5);
    const vn = Math.sqrt(v.reduce((a, x) => a + x * x, 0));
    const spiked = g.map((x, t) => x + (3 * u[Math.floor(t / M)] * v[t % M]) / vn);
    const sp = layerSpectrum(spiked, N, M);
    assert.equal(sp.mpSpikes, 1);
    assert.ok(esd(spiked, N, M)[M - 1] > 2 * sp.mpEdge, "the spike is far above the bulk edge");
  });

  it("the power-law MLE recovers α = 3 from 5,000 Pareto draws (±0.15)", () => {
    const u = uniformFromKey(keyFromSeed(6), 5000);
    const x = Float64Array.from(u, (v) => (1 - v) ** (-1 / 2)); // Pareto with density ∝ x^{−3}, x ≥ 1
    const fit = powerLawFit(x);
    assert.ok(Math.abs(fit.alpha - 3) < 0.15, `α ${fit.alpha} (xmin ${fit.xmin})`);
  });

  it("a layer larger than the limit is not measured, and says why", () => {
    const s = layerSpectrum(new Float64Array(20 * 10), 20, 10, { limit: 8 });
    assert.equal(s.measured, false);
    assert.match(s.why!, /ESD is 10×10, more than the 8 genlab diagonalises/);
  });
});
