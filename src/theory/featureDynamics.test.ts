import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { lstsq, symEig } from "../core/linalg.ts";
import { keyFromSeed, normalFromKey, splitKey } from "../core/prng.ts";
import { drawInputs, drawReluTeacher, featureFlowCurves, featureModes, reluFeatures, spectrumFloor, teacherOutputs } from "./featureDynamics.ts";

const close = (a: number, b: number, rtol: number, what: string) => assert.ok(Math.abs(a - b) <= rtol * Math.abs(b), `${what}: ${a} vs ${b} (rtol ${rtol})`);

/** A small random-feature problem from one seed: features of P train and T test inputs, noisy and clean targets. */
const problem = (seed: number, P: number, h: number, T: number) => {
  const [kt, kx, kxt, kw] = splitKey(keyFromSeed(seed), 4);
  const nIn = 7;
  const teacher = drawReluTeacher({ nIn, hidden: 3, snr: 5, reference: 4000 }, kt);
  const X = drawInputs(P, nIn, kx), Xt = drawInputs(T, nIn, kxt);
  const W = normalFromKey(kw, h * nIn);
  const y = teacherOutputs(teacher, X, P).map((v, i) => v + 0.3 * Math.sin(7 * i + seed));
  return { teacher, F: reluFeatures(X, P, W, h, nIn), Ftest: reluFeatures(Xt, T, W, h, nIn), y, yTest: teacherOutputs(teacher, Xt, T), P, h, T };
};

describe("random-feature student of a ReLU teacher (Advani, Saxe & Sompolinsky, Fig. 7)", () => {
  it("the teacher's clean output is centred with variance SNR/(SNR + 1) on fresh inputs", () => {
    const [kt, kx] = splitKey(keyFromSeed(3), 2);
    const t = drawReluTeacher({ nIn: 20, hidden: 5, snr: 5 }, kt);
    const y = teacherOutputs(t, drawInputs(20000, 20, kx), 20000);
    const m = y.reduce((s, v) => s + v, 0) / y.length;
    const v = y.reduce((s, x) => s + (x - m) ** 2, 0) / y.length;
    assert.ok(Math.abs(m) < 0.03, `mean ${m} (atol 0.03: sampling error of two 20,000-point samples)`);
    close(v, 5 / 6, 0.05, "variance");
    assert.equal(t.noise, 1 / 6, "label noise 1/(SNR + 1)");
  });

  it("the closed-form flow equals explicit gradient descent (η → 0) and converges to the min-norm least squares, h < P and h > P", () => {
    for (const [P, h] of [[12, 5], [6, 15]]) {
      const p = problem(P * 10 + h, P, h, 9);
      const modes = featureModes({ ...p, noise: 0.1 });
      const eta = 2e-3, steps = 2500; // t = 5
      const a = new Float64Array(h);
      const fit = (F: Float64Array, n: number) => Float64Array.from({ length: n }, (_, i) => a.reduce((s, aj, j) => s + F[i * h + j] * aj, 0));
      for (let k = 0; k < steps; k++) {
        const f = fit(p.F, P);
        for (let j = 0; j < h; j++) {
          let g = 0;
          for (let i = 0; i < P; i++) g += p.F[i * h + j] * (p.y[i] - f[i]);
          a[j] += eta * g;
        }
      }
      const ft = fit(p.Ftest, p.T), f = fit(p.F, P);
      const test = ft.reduce((s, v, r) => s + (v - p.yTest[r]) ** 2, 0) / p.T + 0.1;
      const train = f.reduce((s, v, i) => s + (v - p.y[i]) ** 2, 0) / P;
      const flow = featureFlowCurves(modes, [eta * steps, Infinity]);
      close(flow.test[0], test, 5e-3, `P = ${P}, h = ${h}: E_g(t = 5), flow vs GD with η = 2e-3 (O(η) apart)`);
      close(flow.train[0], train, 5e-3, `P = ${P}, h = ${h}: E_train(t = 5)`);
      const ls = lstsq(p.F, p.y, P, h).x;
      const ftLs = Float64Array.from({ length: p.T }, (_, r) => ls.reduce((s, aj, j) => s + p.Ftest[r * h + j] * aj, 0));
      close(flow.test[1], ftLs.reduce((s, v, r) => s + (v - p.yTest[r]) ** 2, 0) / p.T + 0.1, 1e-8, `P = ${P}, h = ${h}: E_g(∞) = the min-norm least-squares fit's`);
      if (h > P) assert.ok(flow.train[1] < 1e-12, `h > P interpolates: E_train(∞) = ${flow.train[1]} (atol 1e-12)`);
      const start = featureFlowCurves(modes, [0]);
      close(start.test[0], p.yTest.reduce((s, v) => s + v * v, 0) / p.T + 0.1, 1e-12, "E_g(0) = E y_clean² + σ_ε² (a = 0)");
      close(start.train[0], p.y.reduce((s, v) => s + v * v, 0) / P, 1e-10, "E_train(0) = mean y²");
    }
  });

  it("the floor control: unchanged above the floor, the same start and training fit at ∞; equal to explicit GD on F' = U σ' Vᵀ, h < P and h > P", () => {
    for (const [P, h] of [[10, 4], [6, 11]]) {
      const p = problem(5 + h, P, h, 6);
      const modes = featureModes({ ...p, noise: 0 });
      const [a, b] = [featureFlowCurves(modes, [0, 0.7, Infinity]), featureFlowCurves(modes, [0, 0.7, Infinity], 0)];
      assert.deepEqual(b, a, "floor 0 is the model itself");
      close(spectrumFloor(modes), 0.25 * spectrumFloor(modes, 1), 1e-12, "the default floor is a quarter of the median");
      const floor = spectrumFloor(modes, 1); // the median: half the modes lifted
      assert.ok(floor > 0 && modes.lam.some((l) => l < floor), `P = ${P}, h = ${h}: some eigenvalue lies below the floor ${floor}`);
      const c = featureFlowCurves(modes, [0, Infinity], floor);
      close(c.test[0], a.test[0], 1e-12, "E_g(0)");
      close(c.train[1] + 1, a.train[2] + 1, 1e-9, "E_train(∞): both fit y's projection on the same column space");
      // F' from F's SVD, explicit GD on it, tested on the real test features
      const { F, y } = p;
      const FtF = Float64Array.from({ length: h * h }, (_, q) => {
        const i = Math.floor(q / h), j = q % h;
        let s = 0;
        for (let r = 0; r < P; r++) s += F[r * h + i] * F[r * h + j];
        return s;
      });
      const { values, vectors } = symEig(FtF, h);
      const cut = 1e-12 * values[h - 1];
      const Fp = new Float64Array(P * h);
      for (let k = 0; k < h; k++) {
        if (!(values[k] > cut)) continue;
        const s = Math.sqrt(values[k]), sp = Math.sqrt(Math.max(values[k], floor));
        for (let r = 0; r < P; r++) {
          let u = 0;
          for (let j = 0; j < h; j++) u += F[r * h + j] * vectors[j * h + k];
          for (let j = 0; j < h; j++) Fp[r * h + j] += (u / s) * sp * vectors[j * h + k];
        }
      }
      const a2 = new Float64Array(h);
      const eta = 1e-3, steps = 3000;
      for (let k = 0; k < steps; k++) {
        const f = Float64Array.from({ length: P }, (_, r) => a2.reduce((s, aj, j) => s + Fp[r * h + j] * aj, 0));
        for (let j = 0; j < h; j++) {
          let g = 0;
          for (let r = 0; r < P; r++) g += Fp[r * h + j] * (y[r] - f[r]);
          a2[j] += eta * g;
        }
      }
      const ft = Float64Array.from({ length: p.T }, (_, r) => a2.reduce((s, aj, j) => s + p.Ftest[r * h + j] * aj, 0));
      close(featureFlowCurves(modes, [eta * steps], floor).test[0], ft.reduce((s, v, r) => s + (v - p.yTest[r]) ** 2, 0) / p.T, 5e-3, `P = ${P}, h = ${h}: floor E_g(t = 3) against GD on F'`);
    }
    const p = problem(5, 10, 4, 6);
    assert.throws(() => featureModes({ ...p, h: 5, noise: 0 }), /feature modes: F is 40 \(expected 10 × 5\)/);
  });
});
