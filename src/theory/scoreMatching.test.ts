import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { keyFromSeed, splitKey } from "../core/prng.ts";
import { symEig } from "../core/linalg.ts";
import { SQUARE_GMM, dsmData, empiricalNtk, gmmScore, initScoreNet, linearizedScoreNet, meanSquaredRows, sampleGmm, scoreNetInput, trainScoreNet, vpAlpha, vpSigma2, type Gmm } from "./scoreMatching.ts";

/** log p_t(x) of the mixture under the VP process, float64 (for finite differences). */
function logDensity(g: Gmm, x: number[], t: number): number {
  const a = vpAlpha(t), v = a * a * g.std * g.std + vpSigma2(t), d = x.length;
  let s = 0;
  for (const mu of g.means) s += Math.exp(-x.reduce((acc, xi, j) => acc + (xi - a * mu[j]) ** 2, 0) / (2 * v)) / (2 * Math.PI * v) ** (d / 2);
  return Math.log(s / g.means.length);
}

/** The network g(z) = Aᵀrelu(W z/√D)/√m in float64 on the host, for one input row. */
function forward64(W: ArrayLike<number>, A: ArrayLike<number>, m: number, D: number, z: ArrayLike<number>): number[] {
  const out = [0, 0];
  for (let i = 0; i < m; i++) {
    let u = 0;
    for (let k = 0; k < D; k++) u += W[i * D + k] * z[k];
    const h = Math.max(0, u / Math.sqrt(D));
    for (let j = 0; j < 2; j++) out[j] += (A[i * 2 + j] * h) / Math.sqrt(m);
  }
  return out;
}

describe("score estimation by DSM (Han, Razaviyayn, Xu)", () => {
  it("the mixture's score is the gradient of log p_t (float64 central differences) and a single Gaussian's closed form", () => {
    const X = Float64Array.from([0.3, -0.7, 1.2, 0.9, -1.5, 0.1, 0.02, -0.04]);
    const t = [0.05, 0.4, 1.3, 2];
    const s = gmmScore(SQUARE_GMM, X, t);
    const h = 1e-5;
    for (let i = 0; i < t.length; i++)
      for (let j = 0; j < 2; j++) {
        const x = [X[2 * i], X[2 * i + 1]];
        const xp = [...x], xm = [...x];
        xp[j] += h;
        xm[j] -= h;
        const fd = (logDensity(SQUARE_GMM, xp, t[i]) - logDensity(SQUARE_GMM, xm, t[i])) / (2 * h);
        assert.ok(Math.abs(fd - s[2 * i + j]) < 1e-6 * Math.max(1, Math.abs(fd)), `point ${i}, coordinate ${j}: score ${s[2 * i + j]} against the difference quotient ${fd} (rtol 1e-6)`);
      }
    const one: Gmm = { means: [[0.5, -1]], std: 0.3 };
    const g1 = gmmScore(one, Float64Array.from([0.2, 0.4]), [0.7]);
    const a = vpAlpha(0.7), v = a * a * 0.09 + vpSigma2(0.7);
    assert.ok(Math.abs(g1[0] - (a * 0.5 - 0.2) / v) < 1e-14 && Math.abs(g1[1] - (-a - 0.4) / v) < 1e-14, "one component: (α_t μ − x)/(α_t² s² + σ_t²)");
  });

  it("samples, DSM sets and inputs are deterministic from the key and shaped as declared", () => {
    const a = sampleGmm(SQUARE_GMM, 4000, keyFromSeed(3));
    const b = sampleGmm(SQUARE_GMM, 4000, keyFromSeed(3));
    assert.deepEqual(a, b, "same key, same draws");
    let m0 = 0, m1 = 0, r2 = 0;
    for (let i = 0; i < 4000; i++) {
      m0 += a[2 * i] / 4000;
      m1 += a[2 * i + 1] / 4000;
      r2 += (a[2 * i] ** 2 + a[2 * i + 1] ** 2) / 4000;
    }
    assert.ok(Math.abs(m0) < 0.06 && Math.abs(m1) < 0.06, `the mixture's mean is 0 (got ${m0.toFixed(3)}, ${m1.toFixed(3)})`);
    assert.ok(Math.abs(r2 - 2.08) < 0.05, `E‖x‖² = 2 + 2·0.2² = 2.08 (got ${r2.toFixed(3)})`);
    const d = dsmData(SQUARE_GMM, { n: 10, perSample: 8, tMin: 0.05, tMax: 2 }, keyFromSeed(4));
    assert.equal(d.N, 80);
    assert.ok(d.t.every((t) => t >= 0.05 && t <= 2), "t in [tMin, tMax]");
    const { z, D } = scoreNetInput(d, 2);
    assert.equal(D, 19);
    assert.equal(z.length, 80 * 19);
    assert.equal(z[18], 1, "the constant input");
    assert.throws(() => dsmData(SQUARE_GMM, { n: 2, perSample: 1, tMin: 0, tMax: 1 }, keyFromSeed(5)), /0 < tMin < tMax/);
  });

  it("Vincent's identity: the DSM loss is the weighted score error plus the constant C", () => {
    const d = dsmData(SQUARE_GMM, { n: 2000, perSample: 8, tMin: 0.05, tMax: 2 }, keyFromSeed(6));
    const g = d.clean.map((v, i) => 0.5 * v + 0.1 * Math.sin(i)); // any fixed estimate
    const dsm = meanSquaredRows(g, d.noisy, 2);
    const identity = meanSquaredRows(g, d.clean, 2) + meanSquaredRows(d.noisy, d.clean, 2);
    // the cross term 2E⟨g − g*, g* − y⟩ vanishes in expectation; its Monte Carlo sd over 16,000 rows is ≈ 0.01
    assert.ok(Math.abs(dsm - identity) < 0.04, `DSM ${dsm.toFixed(4)} against score error + C ${identity.toFixed(4)}`);
  });

  it("GD's float32 step follows the float64 finite-difference gradient; g ≡ 0 at initialisation", async () => {
    const d = dsmData(SQUARE_GMM, { n: 4, perSample: 2, tMin: 0.05, tMax: 2 }, keyFromSeed(7));
    const { z, D } = scoreNetInput(d, 2);
    const m = 16, N = d.N, lr = 1e-3;
    const init = initScoreNet(m, D, 2, keyFromSeed(8));
    const run = await trainScoreNet({ init, z, y: d.noisy, evals: [z], lr, checkpoints: [0, 1] });
    // zero up to float32 summation order: the pairs cancel term by term, the GEMM adds them in blocks
    assert.ok(run.preds[0][0].every((v) => Math.abs(v) < 1e-5), "antisymmetric pairs: the output is zero at initialisation (atol 1e-5)");
    const loss64 = (W: ArrayLike<number>, A: ArrayLike<number>) => {
      let s = 0;
      for (let r = 0; r < N; r++) {
        const f = forward64(W, A, m, D, z.subarray(r * D, (r + 1) * D));
        s += (f[0] - d.noisy[2 * r]) ** 2 + (f[1] - d.noisy[2 * r + 1]) ** 2;
      }
      return s / N;
    };
    // predicted change of the training outputs after one step: −lr Σ_θ (∂L/∂θ)(∂g/∂θ), via the loss change instead:
    // L(θ₁) − L(θ₀) ≈ −lr ‖∇L‖², with ∇L by central differences in float64
    const W = Float64Array.from(init.W), A = Float64Array.from(init.A);
    let g2 = 0;
    const h = 1e-6;
    for (const P of [W, A])
      for (let i = 0; i < P.length; i++) {
        const v = P[i];
        P[i] = v + h;
        const lp = loss64(W, A);
        P[i] = v - h;
        const lm = loss64(W, A);
        P[i] = v;
        g2 += ((lp - lm) / (2 * h)) ** 2;
      }
    const drop = run.trainLoss[0] - run.trainLoss[1];
    assert.ok(Math.abs(drop - lr * g2) < 0.02 * lr * g2, `one step lowers the loss by ${drop.toExponential(4)} ≈ lr‖∇L‖² = ${(lr * g2).toExponential(4)} (rtol 2%)`);
  });

  it("the empirical NTK is symmetric PSD, and the linearised model tracks a wide network early and interpolates late", async () => {
    const d = dsmData(SQUARE_GMM, { n: 6, perSample: 4, tMin: 0.05, tMax: 2 }, keyFromSeed(9));
    const { z, D } = scoreNetInput(d, 2);
    const [k1, k2] = splitKey(keyFromSeed(10), 2);
    const init = initScoreNet(2048, D, 2, k1);
    k2.dispose();
    const P = d.N * 2;
    const theta = await empiricalNtk(init, z, z);
    for (let i = 0; i < P; i++) for (let j = 0; j < i; j++) assert.ok(Math.abs(theta[i * P + j] - theta[j * P + i]) < 1e-5 * (1 + Math.abs(theta[i * P + j])), `Θ symmetric at (${i}, ${j})`);
    const ev = symEig(theta, P).values;
    assert.ok(ev[0] > -1e-4 * ev[P - 1], `Θ PSD: smallest eigenvalue ${ev[0]} against largest ${ev[P - 1]}`);
    const lr = 0.5, checkpoints = [0, 5, 20, 100000];
    const lin = await linearizedScoreNet({ init, z, y: d.noisy, evals: [z], lr, checkpoints });
    const net = await trainScoreNet({ init, z, y: d.noisy, evals: [z], lr, checkpoints: [0, 5, 20] });
    for (const c of [1, 2]) {
      const diff = meanSquaredRows(net.preds[0][c], lin.preds[0][c], 2) / meanSquaredRows(lin.preds[0][c], new Float64Array(P), 2);
      assert.ok(diff < 1e-3, `step ${checkpoints[c]}: relative squared gap network–linearised ${diff.toExponential(2)} < 1e-3 at width 2,048`);
      assert.ok(Math.abs(net.trainLoss[c] - lin.trainLoss[c]) < 0.01 * lin.trainLoss[c], `step ${checkpoints[c]}: training loss ${net.trainLoss[c]} against ${lin.trainLoss[c]} (rtol 1%)`);
    }
    const y2 = meanSquaredRows(d.noisy, new Float64Array(P), 2);
    assert.ok(Math.abs(lin.trainLoss[0] - y2) < 1e-12 * y2, `from g ≡ 0 the loss starts at mean ‖y‖² = ${y2} (got ${lin.trainLoss[0]})`);
    assert.ok(lin.trainLoss[3] < 1e-6, `N = 24 points, width 2,048: the linearised model interpolates (loss ${lin.trainLoss[3]})`);
    await assert.rejects(linearizedScoreNet({ init, z, y: d.noisy, evals: [z], lr: 1e4, checkpoints: [0, 1] }), /GD diverges at lr 10000/);
  });
});
