import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { keyFromSeed, splitKey, uniformFromKey } from "../core/prng.ts";
import { binIndex, bootstrapCalibration, calibration, calibrationMetrics, CALIBRATION_METRICS, fitTemperature, hostRng, prepareCalibration, quantileSorted, softmaxRows, stratifiedSplit, temperatureNll } from "./calibration.ts";
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

describe("calibration metric variants, bins and bootstrap (issue 22)", () => {
  const close = (a: number, b: number, atol: number, what: string) => assert.ok(Math.abs(a - b) <= atol, `${what}: ${a} vs ${b}`);
  // the hand case above: confidences 0.6, 0.6, 0.9, 0.9; correct 1, 0, 1, 1
  const probs = [0.6, 0.4, 0.4, 0.6, 0.9, 0.1, 0.1, 0.9];
  const labels = [0, 0, 0, 1];

  it("every variant on a hand case (4 bins)", () => {
    const { metrics: m, bins, adaptiveBins } = calibrationMetrics(prepareCalibration(probs, labels, 2, { bins: 4 }));
    // equal width: [0.5, 0.75) holds 0.6, 0.6 (acc 1/2, gap 0.1); [0.75, 1] holds 0.9, 0.9 (acc 1, gap 0.1)
    close(m.ece, 0.1, 1e-12, "ece");
    close(m.mce, 0.1, 1e-12, "mce");
    // equal mass, one example a bin: gaps 0.4, 0.6, 0.1, 0.1, each weighing 1/4
    close(m.adaptive_ece, 0.3, 1e-12, "adaptive ece");
    assert.deepEqual(adaptiveBins.map((b) => b.count), [1, 1, 1, 1]);
    // classwise: every p_k alone in its bin; class 0 gaps |1−.6|, |1−.4|, |1−.9|, |0−.1| = 1.2/4; class 1 the same
    close(m.classwise_ece, 0.3, 1e-12, "classwise ece");
    // Brier summed over classes: (.32 + .72 + .02 + .02) / 4
    close(m.brier, 0.27, 1e-12, "brier");
    close(m.nll, -(Math.log(0.6) + Math.log(0.4) + 2 * Math.log(0.9)) / 4, 1e-12, "nll");
    close(m.accuracy, 0.75, 0, "accuracy");
    assert.deepEqual(bins.map((b) => b.count), [0, 0, 2, 2]);
  });

  it("bin edges: a probability of exactly 0 is in the first bin, exactly 1 in the last (no extra bin)", () => {
    assert.equal(binIndex(0, 15), 0);
    assert.equal(binIndex(1, 15), 14);
    assert.equal(binIndex(0.5, 2), 1, "bins are closed on the left");
    assert.equal(binIndex(0.5 - 1e-12, 2), 0);
    // confidence 1 twice, one right, one wrong: both in bin 9 of 10; the zeros of the other class in bin 0
    const { metrics: m, bins } = calibrationMetrics(prepareCalibration([1, 0, 0, 1], [0, 0], 2, { bins: 10 }));
    assert.equal(bins.length, 10);
    assert.equal(bins[9].count, 2);
    assert.equal(bins.reduce((s, b) => s + b.count, 0), 2, "every example in some bin");
    close(m.ece, 0.5, 1e-12, "ece");
    // class 0: p = 1 (y = 0 → hit) in bin 9, p = 0 (hit) in bin 0: |1 − 0| with weight 1/2; class 1 likewise
    close(m.classwise_ece, 0.5, 1e-12, "classwise ece");
  });

  it("the top-label ECE and MCE equal calibration()'s on a random 3-class predictor", () => {
    const r = hostRng(5);
    const n = 2000;
    const z = Float64Array.from({ length: n * 3 }, () => 6 * (r() - 0.5));
    const p = softmaxRows(z, n, 3);
    const y = Int32Array.from({ length: n }, () => Math.floor(r() * 3));
    const a = calibration(p, y, 3, { bins: 12 });
    const b = calibrationMetrics(prepareCalibration(p, y, 3, { bins: 12 })).metrics;
    close(b.ece, a.ece, 1e-12, "ece");
    close(b.mce, a.mce, 1e-12, "mce");
    close(b.nll, a.nll, 1e-12, "nll");
    // the NLL from logits is the same where p_y does not underflow
    close(calibrationMetrics(prepareCalibration(p, y, 3, { logits: z })).metrics.nll, a.nll, 1e-12, "nll from logits");
  });

  it("integer weights are the same as repeating the examples (the bootstrap's law)", () => {
    const r = hostRng(7);
    const n = 300;
    const p = softmaxRows(Float64Array.from({ length: n * 4 }, () => 5 * (r() - 0.5)), n, 4);
    const y = Int32Array.from({ length: n }, () => Math.floor(r() * 4));
    const w = Float64Array.from({ length: n }, () => Math.floor(r() * 4));
    const dupP: number[] = [];
    const dupY: number[] = [];
    for (let i = 0; i < n; i++) for (let k = 0; k < w[i]; k++) {
      dupY.push(y[i]);
      for (let j = 0; j < 4; j++) dupP.push(p[i * 4 + j]);
    }
    const a = calibrationMetrics(prepareCalibration(p, y, 4, { bins: 7 }), w).metrics;
    const b = calibrationMetrics(prepareCalibration(dupP, dupY, 4, { bins: 7 })).metrics;
    for (const k of CALIBRATION_METRICS) close(a[k], b[k], 1e-12, k);
  });

  it("bootstrap: deterministic for a seed, another seed differs, the interval holds the estimate of a miscalibrated predictor", () => {
    const { logits, labels: y } = calibratedSample(3000, 3, 11);
    const prep = prepareCalibration(softmaxRows(logits, 3000, 3, 0.5), y, 3);
    const a = bootstrapCalibration(prep, { resamples: 200, seed: 3 });
    const b = bootstrapCalibration(prep, { resamples: 200, seed: 3 });
    const c = bootstrapCalibration(prep, { resamples: 200, seed: 4 });
    assert.deepEqual(a, b);
    assert.notEqual(a.ece.lo, c.ece.lo);
    for (const k of CALIBRATION_METRICS) assert.ok(a[k].lo <= a[k].value && a[k].value <= a[k].hi, `${k}: ${a[k].value} in [${a[k].lo}, ${a[k].hi}]`);
    assert.ok(a.ece.value > 0.05, "T = 0.5 is over-confident");
    const none = bootstrapCalibration(prep, { resamples: 0 });
    assert.ok(Number.isNaN(none.ece.lo) && none.ece.value === a.ece.value, "no resamples: no interval, the same estimate");
  });

  it("percentiles interpolate as numpy.percentile; the host PRNG is uniform and seeded", () => {
    close(quantileSorted([1, 2, 3, 4], 0.025), 1.075, 1e-12, "np.percentile([1,2,3,4], 2.5)");
    close(quantileSorted([1, 2, 3, 4], 0.975), 3.925, 1e-12, "np.percentile([1,2,3,4], 97.5)");
    const r = hostRng(1);
    let s = 0;
    for (let i = 0; i < 100000; i++) s += r();
    close(s / 100000, 0.5, 0.005, "mean of 10⁵ uniforms (sd 0.0009)");
    assert.equal(hostRng(9, 2)(), hostRng(9, 2)());
    assert.notEqual(hostRng(9, 2)(), hostRng(9, 3)());
  });

  it("the stratified split holds out round(f·n_k) of each class, disjointly, the same for a seed", () => {
    const y = Int32Array.from({ length: 103 }, (_, i) => (i % 10 === 0 ? 1 : 0));
    const s = stratifiedSplit(y, 2, 0.5, 0);
    assert.equal(s.held.length + s.fit.length, 103);
    assert.equal(new Set([...s.held, ...s.fit]).size, 103);
    assert.equal([...s.held].filter((i) => y[i] === 1).length, Math.round(0.5 * 11));
    assert.deepEqual(stratifiedSplit(y, 2, 0.5, 0), s);
    assert.notDeepEqual(stratifiedSplit(y, 2, 0.5, 1).held, s.held);
  });

  it("the debiased L2 ECE removes the binning noise: a calibrated predictor scores ~0 where the plug-in L2 ECE does not; a 0.1 over-confident one keeps its error", () => {
    const run = (shift: number, seed: number) => {
      const rng = hostRng(seed, 7);
      const n = 2000;
      const probs = new Float64Array(n * 2);
      const labels = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const u = 0.5 + 0.5 * rng(); // confidence of class 0
        probs[i * 2] = u;
        probs[i * 2 + 1] = 1 - u;
        labels[i] = rng() < u - shift ? 0 : 1; // calibrated when shift = 0
      }
      return calibrationMetrics(prepareCalibration(probs, labels, 2, { bins: 15 })).metrics;
    };
    let plug = 0;
    let deb = 0;
    for (let seed = 0; seed < 20; seed++) {
      const m = run(0, seed);
      plug += m.l2_ece / 20;
      deb += m.l2_ece_debiased / 20;
    }
    assert.ok(plug > 0.02, `plug-in L2 ECE of a calibrated predictor: ${plug} (binning noise)`);
    assert.ok(deb < plug / 2, `debiased ${deb} vs plug-in ${plug}`);
    const off = run(0.1, 99);
    assert.ok(Math.abs(off.l2_ece_debiased - 0.1) < 0.03 && off.l2_ece_debiased <= off.l2_ece, `over-confident by 0.1: debiased ${off.l2_ece_debiased}, plug-in ${off.l2_ece}`);
  });
});
