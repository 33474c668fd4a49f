import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DType, numpy as np } from "@jax-js/jax";
import { keyFromSeed } from "../core/prng.ts";
import { coloredEnvironment, splitEnvironments } from "../data/coloredImages.ts";
import { logisticLoss, softmaxCrossEntropy } from "../nn/losses.ts";
import { groupDro, irmV1Penalty, vrexPenalty } from "./oodPenalties.ts";
import { gradCheck, onCpu } from "../../test/util/numeric.ts";

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tol ${tol})`);

describe("OOD penalties (train/oodPenalties.ts)", () => {
  it("Group-DRO takes the worst risk; vREx of equal risks is 0 and is the unbiased variance otherwise", () => {
    close(groupDro(np.array([0.3, 0.9, 0.5])).item(), 0.9, 1e-7, "max");
    close(vrexPenalty(np.array([0.4, 0.4, 0.4])).item(), 0, 1e-12, "equal risks");
    close(vrexPenalty(np.array([1, 2, 4])).item(), ((1 - 7 / 3) ** 2 + (2 - 7 / 3) ** 2 + (4 - 7 / 3) ** 2) / 2, 1e-6, "unbiased variance");
    assert.throws(() => vrexPenalty(np.array([1])), /at least 2 environments/);
  });

  it("IRMv1 is the squared derivative of the risk in the logits' scale (finite differences in s), and 0 at the optimal scale", () => {
    const z = [1.2, -0.4, 2.0, 0.3, -1.5];
    const y = [1, 0, 1, 0, 0];
    const risk = (s: number) => logisticLoss(np.array(z.map((v) => v * s)), np.array(y)).item();
    const h = 1e-3;
    const fd = (risk(1 + h) - risk(1 - h)) / (2 * h);
    close(irmV1Penalty(np.array(z), np.array(y), "logistic").item(), fd * fd, 1e-5, "logistic");
    const zc = [0.5, -1, 2, 0.1, 0.3, -0.2];
    const yc = [2, 0];
    const riskC = (s: number) => softmaxCrossEntropy(np.array(zc.map((v) => v * s), { shape: [2, 3] }), np.array(yc, { dtype: DType.Int32 })).item();
    const fdc = (riskC(1 + h) - riskC(1 - h)) / (2 * h);
    close(irmV1Penalty(np.array(zc, { shape: [2, 3] }), np.array(yc, { dtype: DType.Int32 }), "softmax").item(), fdc * fdc, 1e-5, "softmax");
    // the risk-minimising scale of one feature: at the s* where d/ds R(s z) = 0, rescaling the logits by s* zeroes the penalty
    // (found in float64 on the host: R(s) = mean(softplus(s z) − y s z))
    const riskHost = (s: number) => z.reduce((a, v, i) => a + Math.log1p(Math.exp(s * v)) - y[i] * s * v, 0) / z.length;
    let lo = 0.01;
    let hi = 10;
    for (let k = 0; k < 60; k++) {
      const mid = (lo + hi) / 2;
      const slope = (riskHost(mid + 1e-6) - riskHost(mid - 1e-6)) / 2e-6;
      if (slope > 0) hi = mid;
      else lo = mid;
    }
    const sStar = (lo + hi) / 2;
    const p = irmV1Penalty(np.array(z.map((v) => v * sStar)), np.array(y), "logistic").item();
    assert.ok(p < 1e-8, `penalty at the optimal scale s* = ${sStar}: ${p}`);
  });

  it("IRMv1 and vREx pass a float64 finite-difference gradient check in the logits", async () => {
    await onCpu(() => {
      const y = np.array([1, 0, 1, 1], { dtype: DType.Float64, device: "cpu" });
      const r = gradCheck((q) => {
        const z = q as ReturnType<typeof np.array>;
        const r1 = logisticLoss(z.ref.slice([0, 2]), y.ref.slice([0, 2]));
        const r2 = logisticLoss(z.ref.slice([2, 4]), y.ref.slice([2, 4]));
        return irmV1Penalty(z, y.ref, "logistic").add(vrexPenalty(np.stack([r1, r2])));
      }, np.array([0.3, -1.1, 0.8, 2.0], { dtype: DType.Float64, device: "cpu" }));
      y.dispose();
      assert.ok(r.maxRelErr < 1e-6, `relative error ${r.maxRelErr} (${JSON.stringify(r.checks)})`);
    });
  });
});

describe("coloured environments (data/coloredImages.ts)", () => {
  it("colour agrees with the label at 1 − e, the label with the shape at 1 − noise; images subsampled into the colour's channel", () => {
    const n = 4000;
    const img = new Float32Array(n * 16);
    const cls = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      cls[i] = i % 10;
      for (let p = 0; p < 16; p++) img[i * 16 + p] = p + 1;
    }
    const env = coloredEnvironment({ x: img, xShape: [n, 16], y: cls, numClasses: 10 }, { positive: (c) => c <= 4, labelNoise: 0.25, colorFlip: 0.1 }, keyFromSeed(1));
    assert.deepEqual(env.xShape, [n, 2, 2, 2]);
    let agreeColor = 0;
    let agreeShape = 0;
    for (let i = 0; i < n; i++) {
      agreeColor += env.colors[i] === env.y[i] ? 1 : 0;
      agreeShape += (cls[i] <= 4 ? 1 : 0) === env.y[i] ? 1 : 0;
      const on = env.colors[i];
      assert.deepEqual(globalThis.Array.from(env.x.subarray(i * 8 + on * 4, i * 8 + on * 4 + 4)), [1, 3, 9, 11], "pixels (0,0), (0,2), (2,0), (2,2)");
      assert.deepEqual(globalThis.Array.from(env.x.subarray(i * 8 + (1 - on) * 4, i * 8 + (1 - on) * 4 + 4)), [0, 0, 0, 0], "the other channel zeroed");
    }
    close(agreeColor / n, 0.9, 0.02, "colour–label agreement (sd ≈ 0.005)");
    close(agreeShape / n, 0.75, 0.03, "shape–label agreement (sd ≈ 0.007)");
    const parts = splitEnvironments(10, [3, 4], keyFromSeed(2));
    assert.equal(new Set([...parts[0], ...parts[1]]).size, 7, "disjoint");
    assert.throws(() => splitEnvironments(5, [3, 4], keyFromSeed(3)), /need 7 of the 5 rows/);
  });
});
