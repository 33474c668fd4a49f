import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { keyFromSeed, splitKey, uniformFromKey } from "../core/prng.ts";
import { calibration, fitTemperature, softmaxRows, temperatureNll } from "./calibration.ts";
import { lbfgs } from "./lbfgs.ts";

/** A calibrated predictor: logits z, labels drawn from softmax(z). */
function calibratedSample(n: number, c: number, seed: number) {
  const [kz, ky] = splitKey(keyFromSeed(seed), 2);
  const u = uniformFromKey(kz, n * c);
  const logits = Float64Array.from(u, (v) => 4 * (v - 0.5));
  const p = softmaxRows(logits, n, c);
  const v = uniformFromKey(ky, n);
  const labels = Int32Array.from({ length: n }, (_, i) => {
    let acc = 0;
    for (let j = 0; j < c; j++) {
      acc += p[i * c + j];
      if (v[i] < acc) return j;
    }
    return c - 1;
  });
  return { logits, labels, p };
}

describe("calibration metrics and temperature scaling", () => {
  it("ECE, MCE and ACE on a hand case (2 bins)", () => {
    // confidences 0.6, 0.6, 0.9, 0.9 (bins [0.5, 1) for two bins: 0.6 → bin 1, 0.9 → bin 1): one bin, acc 0.75, conf 0.75
    const probs = [0.6, 0.4, 0.4, 0.6, 0.9, 0.1, 0.1, 0.9];
    const r = calibration(probs, [0, 0, 0, 1], 2, { bins: 2 });
    assert.ok(Math.abs(r.ece - 0) < 1e-12, `ece ${r.ece}`);
    // 4 bins: 0.6 → [0.5, 0.75): acc 1/2 conf 0.6; 0.9 → [0.75, 1): acc 1, conf 0.9
    const r4 = calibration(probs, [0, 0, 0, 1], 2, { bins: 4 });
    assert.ok(Math.abs(r4.ece - (0.5 * 0.1 + 0.5 * 0.1)) < 1e-12, `ece ${r4.ece}`);
    assert.ok(Math.abs(r4.mce - 0.1) < 1e-12 && Math.abs(r4.ace - 0.1) < 1e-12, `mce ${r4.mce} ace ${r4.ace}`);
    assert.ok(Math.abs(r4.nll - -(Math.log(0.6) + Math.log(0.4) + Math.log(0.9) + Math.log(0.9)) / 4) < 1e-12, "nll");
  });

  it("a calibrated predictor has ECE ≤ 0.01 at n = 10⁵; a 3× over-confident one does not (spec §8 unit test)", () => {
    const { logits, labels, p } = calibratedSample(100000, 3, 1);
    const r = calibration(p, labels, 3);
    assert.ok(r.ece <= 0.01, `ECE ${r.ece}`);
    assert.ok(calibration(softmaxRows(logits, 100000, 3, 1 / 3), labels, 3).ece > 0.05, "sharpened logits are miscalibrated");
  });

  it("temperature scaling recovers T ∈ [2.9, 3.1] on logits 3·z of a calibrated model; the official one-step fit barely moves", () => {
    const { logits, labels } = calibratedSample(20000, 4, 2);
    const hot = logits.map((v) => 3 * v);
    const fit = fitTemperature(hot, labels, 4);
    assert.ok(fit.converged && fit.temperature >= 2.9 && fit.temperature <= 3.1, `T ${fit.temperature}`);
    assert.ok(Math.abs(temperatureNll(hot, labels, 4, fit.temperature).dLogT) < 1e-6, "the fitted T is a stationary point");
    const official = fitTemperature(hot, labels, 4, "official");
    assert.ok(official.temperature > 1 && official.temperature < 1.5, `official T ${official.temperature}`);
  });

  it("the NLL's derivative in T matches finite differences (float64)", () => {
    const { logits, labels } = calibratedSample(500, 5, 3);
    for (const t of [0.5, 1, 2.5]) {
      const h = 1e-6;
      const fd = (temperatureNll(logits, labels, 5, t + h).nll - temperatureNll(logits, labels, 5, t - h).nll) / (2 * h);
      const an = temperatureNll(logits, labels, 5, t).dT;
      assert.ok(Math.abs(fd - an) <= 1e-6 * Math.max(1, Math.abs(an)), `T ${t}: fd ${fd} vs ${an}`);
    }
  });

  it("L-BFGS with strong Wolfe minimises Rosenbrock to 1e-6", () => {
    const r = lbfgs((x) => {
      const [a, b] = x;
      return { value: (1 - a) ** 2 + 100 * (b - a * a) ** 2, grad: Float64Array.of(-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)) };
    }, [-1.2, 1], { maxIter: 500, tolGrad: 1e-10, tolChange: 1e-15 });
    assert.ok(Math.abs(r.x[0] - 1) < 1e-6 && Math.abs(r.x[1] - 1) < 1e-6, `x ${Array.from(r.x)} after ${r.iterations} (${r.reason})`);
  });
});
