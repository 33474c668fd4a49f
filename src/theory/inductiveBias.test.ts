import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { lnGammaP, ncx2LogCdf, ncx2LogPdf } from "../core/special.ts";
import { symEig } from "../core/linalg.ts";
import { nelderMead } from "../core/optimize.ts";
import { keyFromSeed, normalFromKey, splitKey } from "../core/prng.ts";
import { fitNcx2, gpPosteriorErrors, inductiveBias, inductiveBiasAlt, medianPairwiseDistance, ncx2FromNormals, ncx2Quantile, rbfKernel } from "./inductiveBias.ts";

const close = (a: number, b: number, rtol: number, what: string) => assert.ok(Math.abs(a - b) <= rtol * Math.abs(b), `${what}: ${a} against ${b} (rtol ${rtol})`);

describe("inductive bias by a non-central χ² fit (Boopathy et al.)", () => {
  it("ln P(a, x) and the ncx2 log-density and log-CDF against scipy 1.17 (values computed there)", () => {
    close(lnGammaP(2.5, 0.1), -7.028636973111804, 1e-12, "ln P(2.5, 0.1)");
    close(lnGammaP(2.5, 7), -0.01573252583023136, 1e-12, "ln P(2.5, 7)");
    close(lnGammaP(30, 1), -75.62548110599407, 1e-12, "ln P(30, 1): far left tail");
    close(lnGammaP(0.5, 0.5), -0.38171514630212616, 1e-12, "ln P(0.5, 0.5)");
    close(ncx2LogPdf(3, 4, 2.5), -2.2131482471146002, 1e-10, "ln ncx2 pdf(3; 4, 2.5)");
    close(ncx2LogCdf(3, 4, 2.5), -1.552560416896131, 1e-10, "ln ncx2 cdf(3; 4, 2.5)");
    close(ncx2LogPdf(0.05, 50, 20), -154.02598539953465, 1e-10, "ln pdf deep in the left tail");
    close(ncx2LogCdf(0.05, 50, 20), -160.24001627831453, 1e-10, "ln cdf deep in the left tail (the CDF itself is 1e-70)");
    close(ncx2LogCdf(120, 50, 20), -0.0007510766076223993, 1e-8, "ln cdf in the right tail");
    close(ncx2LogCdf(1e-3, 3, 0), -11.686336551214486, 1e-10, "nc = 0 is the central χ²");
    close(ncx2LogPdf(10, 10, 0), -2.4334493611714887, 1e-10, "central χ² density");
    close(ncx2Quantile(0.01, 50, 20), 42.44381707863947, 1e-9, "the 1% quantile of ncx2(50, 20)");
    assert.throws(() => ncx2LogCdf(1, 0, 1), /df > 0/);
  });

  it("Nelder–Mead finds the Rosenbrock minimum and says when it ran out of iterations", () => {
    const rosen = (p: number[]) => 100 * (p[1] - p[0] ** 2) ** 2 + (1 - p[0]) ** 2;
    const r = nelderMead(rosen, [-1.2, 1], { ftol: 1e-14 });
    assert.ok(r.converged && Math.abs(r.x[0] - 1) < 1e-4 && Math.abs(r.x[1] - 1) < 1e-4, `minimum at (1, 1), got ${r.x}`);
    assert.equal(nelderMead(rosen, [-1.2, 1], { maxIter: 5 }).converged, false);
  });

  it("the official tail approximation z²/2 against the exact IB: 0.69×, 0.83×, 0.41× at the 1e-3, 1e-20, 1e-100 quantiles", () => {
    // spec §6 (i) asks for agreement within 10% wherever both are finite; the official inductive_bias_alt (utils.py,
    // read) is the leading term z²/2 of −ln Φ(z), so it is 31% low at q = 1e-3 and within 10% only from q ≈ 1e-20
    const fit = { df: 50, nc: 20, scale: 0.01 };
    const ratio = (q: number) => {
      const eps = ncx2Quantile(q, fit.df, fit.nc, fit.scale);
      const exact = inductiveBias(eps, fit);
      assert.equal(exact.method, "exact");
      close(exact.nats, -Math.log(q), 1e-8, `IB at the ${q} quantile is −ln q`);
      return inductiveBiasAlt(eps, fit) / exact.nats;
    };
    const r3 = ratio(1e-3), r20 = ratio(1e-20), r100 = ratio(1e-100);
    // measured: 0.69, 0.83 and 0.41 — the normal approximation behind it also degrades deep in the tail, so the
    // spec's 10% agreement holds nowhere here; genlab's log-space CDF stays finite instead (the fallback is unused)
    assert.ok(r3 > 0.6 && r3 < 0.75 && r20 > 0.75 && r20 < 0.9 && r100 < 0.5, `alt/exact ${r3.toFixed(3)} at q = 1e-3, ${r20.toFixed(3)} at 1e-20, ${r100.toFixed(3)} at 1e-100`);
    const deep = inductiveBias(1e-9, fit);
    assert.ok(deep.method === "exact" && Number.isFinite(deep.nats) && deep.nats > 400, `ε far below the support's bulk: IB ${deep.nats} nats from the exact log-CDF`);
  });

  it("the estimator recovers IB = −ln 0.01 within ±15% from K = 100 draws (spec §6 (i), 12 of its 50 repeats: ≥ 10 hit)", () => {
    const df = 50, nc = 20, scale = 0.01;
    const eps = ncx2Quantile(0.01, df, nc, scale);
    let key = keyFromSeed(61);
    let hits = 0;
    for (let r = 0; r < 12; r++) {
      const [next, k] = splitKey(key, 2);
      key = next;
      const errors = ncx2FromNormals(normalFromKey(k, 100 * df), df, nc, scale);
      const ib = inductiveBias(eps, fitNcx2(errors)).nats;
      if (Math.abs(ib - Math.log(100)) <= 0.15 * Math.log(100)) hits++;
    }
    key.dispose();
    // the spec's 50 repeats take ~10 s of MLE (the likelihood has a flat df–nc ridge): `genlab calc inductive-bias` runs them
    assert.ok(hits >= 10, `${hits}/12 repeats within ±15% of 4.605 nats (need ≥ 10)`);
  });

  it("GP posterior errors: interpolation on the training points, and the mean error is ‖μ − y‖² + tr Σ per element", () => {
    const n = 30, m = 20, d = 3, C = 4;
    const z = normalFromKey(keyFromSeed(71), (n + m) * d);
    const X = z.subarray(0, n * d), Xt = z.subarray(n * d);
    const y = Array.from({ length: n }, (_, i) => i % C), yt = Array.from({ length: m }, (_, i) => (3 * i) % C);
    const sigma = medianPairwiseDistance(X, n, d);
    const self = gpPosteriorErrors({ xTrain: X, yTrain: y, nTrain: n, xTest: X, yTest: y, nTest: n, d, classes: C, sigma, ridge: 1e-10, samples: 50 }, keyFromSeed(72));
    assert.ok(self.meanError < 1e-8 && Math.max(...self.errors) < 1e-6, `on the training points the posterior interpolates (mean error ${self.meanError}, largest sample ${Math.max(...self.errors)})`);
    const S = 4000;
    const r = gpPosteriorErrors({ xTrain: X, yTrain: y, nTrain: n, xTest: Xt, yTest: yt, nTest: m, d, classes: C, sigma, ridge: 1e-10, samples: S }, keyFromSeed(73));
    // tr Σ = Σ_i [k(x_i, x_i) − k_iᵀ K⁻¹ k_i], computed directly
    const K = rbfKernel(X, n, X, n, d, sigma), Kx = rbfKernel(Xt, m, X, n, d, sigma);
    const Kinv = symEig(K, n);
    let tr = 0;
    for (let i = 0; i < m; i++) {
      let q = 0;
      for (let k = 0; k < n; k++) {
        let p = 0;
        for (let j = 0; j < n; j++) p += Kinv.vectors[j * n + k] * Kx[i * n + j];
        q += (p * p) / (Kinv.values[k] + 1e-10);
      }
      tr += 1 - q;
    }
    const expected = r.meanError + tr / m; // per element: C outputs share Σ, so C·tr Σ/(m·C)
    const mean = r.errors.reduce((a, b) => a + b, 0) / S;
    const sd = Math.sqrt(r.errors.reduce((a, b) => a + (b - mean) ** 2, 0) / (S - 1));
    assert.ok(Math.abs(mean - expected) < 4 * (sd / Math.sqrt(S)) + 1e-9, `mean sampled error ${mean} against ${expected} (4 standard errors ${4 * sd / Math.sqrt(S)})`);
  });
});

