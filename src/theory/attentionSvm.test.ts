import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { keyFromSeed, splitKey } from "../core/prng.ts";
import { matmul64, transpose64 } from "../core/linalg.ts";
import { attentionData, frobeniusSvm, linearInit, lossAndGrad, matrixCorrelation, nuclearSvm, svmConstraints, trainKQ } from "./attentionSvm.ts";

describe("attention as an SVM (Tarzanagh et al.)", () => {
  it("the loss gradient in W passes a float64 central-difference check, for both losses and near saturation", async () => {
    const [kd, kw] = splitKey(keyFromSeed(1), 2);
    const data = await attentionData(4, 5, 6, kd);
    const W0 = await linearInit(6, kw);
    for (const scale of [1, 30]) {
      const W = W0.map((w) => w * scale);
      for (const loss of ["logistic", "squared"] as const) {
        const { grad } = lossAndGrad(data, W, loss);
        for (let j = 0; j < 36; j += 5) {
          const h = 1e-6;
          const up = Float64Array.from(W);
          const dn = Float64Array.from(W);
          up[j] += h;
          dn[j] -= h;
          const fd = (lossAndGrad(data, up, loss).loss - lossAndGrad(data, dn, loss).loss) / (2 * h);
          assert.ok(Math.abs(fd - grad[j]) <= 1e-7 * Math.max(1, Math.abs(fd)), `${loss}, scale ${scale}: ∂L/∂W[${j}] ${grad[j]} vs ${fd} (rtol 1e-7)`);
        }
      }
    }
  });

  it("the Frobenius SVM meets the KKT conditions: every margin ≥ 1, W = Σλ_k A_k; a single constraint gives A/‖A‖²", () => {
    const A = [Float64Array.from([1, 0, 0, 2]), Float64Array.from([0, 1, 1, 0]), Float64Array.from([2, 0, 0, 1])];
    const { W, minMargin } = frobeniusSvm(A);
    assert.ok(Math.abs(minMargin - 1) < 1e-9, `the smallest margin is 1 at the optimum: ${minMargin}`);
    assert.ok(A.every((a) => a.reduce((s, x, i) => s + x * W[i], 0) >= 1 - 1e-9), "all margins ≥ 1");
    const one = frobeniusSvm([Float64Array.from([3, 4, 0, 0])]).W;
    assert.ok(Math.abs(one[0] - 3 / 25) < 1e-12 && Math.abs(one[1] - 4 / 25) < 1e-12, `one constraint: W = A/‖A‖² (atol 1e-12), got ${Array.from(one)}`);
  });

  it("the nuclear SVM of rank-1 constraints is rank 1 and cheaper in nuclear norm than the Frobenius SVM", () => {
    // A_k = e₁ b_kᵀ: the minimum-nuclear-norm W with ⟨A_k, W⟩ ≥ 1 lives in row 1
    const d = 3;
    const A = [[1, 0.2, 0], [0.8, 0, 0.5], [0.9, -0.3, 0.1]].map((b) => Float64Array.from({ length: d * d }, (_, j) => (j < d ? b[j] : 0)));
    const nuc = nuclearSvm(A, d, { iterations: 20000 });
    assert.ok(nuc.minMargin > 0.99, `margins ≈ 1 (penalised): ${nuc.minMargin}`);
    assert.ok(nuc.W.slice(d).every((x) => Math.abs(x) < 1e-6), "rows 2–3 stay 0");
    const fro = frobeniusSvm(A).W;
    assert.ok(matrixCorrelation(nuc.W, fro) > 0.99, "with one active row the two SVMs agree in direction");
  });

  it("QᵀK training: W stays QᵀK and the KQ direction prefers the nuclear SVM on a trial", async () => {
    const [kd, kk, kq] = splitKey(keyFromSeed(2), 3);
    const data = await attentionData(6, 8, 10, kd);
    const K0 = await linearInit(10, kk);
    const Q0 = await linearInit(10, kq);
    const run = trainKQ(data, K0, Q0, { steps: 2000, lr: 0.1, lambda: 2.22e-16, every: 2000 });
    const { A } = svmConstraints(data, run.W);
    const cn = matrixCorrelation(run.W, nuclearSvm(A, 10, { iterations: 20000 }).W);
    const cf = matrixCorrelation(run.W, frobeniusSvm(A).W);
    assert.ok(cn > 0.95 && cn > cf, `corr with the nuclear SVM ${cn} > 0.95 and > the Frobenius ${cf}`);
    assert.equal(matmul64(transpose64(Q0, 10, 10), K0, 10, 10, 10).length, 100);
  });
});
