import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DType, numpy as np, type Array } from "@jax-js/jax";
import { keyFromSeed, normalFromKey } from "../core/prng.ts";
import { treeDispose } from "../core/tree.ts";
import { gradientPenalty, infoNce, interpolate } from "./contrastive.ts";
import { gradCheck, onCpu } from "../../test/util/numeric.ts";

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tol ${tol})`);

describe("contrastive objectives (train/contrastive.ts)", () => {
  it("InfoNCE: log K for uninformative scores, → 0 for separated ones, so the MI estimate log K − L never exceeds log K", () => {
    close(infoNce(np.zeros([8, 8])).item(), Math.log(8), 1e-6, "equal scores: log K");
    const sharp = infoNce(np.eye(4).mul(50)).item();
    assert.ok(sharp >= 0 && sharp < 1e-6, `separated pairs: ${sharp}`);
    const s = [1, 0.2, -0.5, 0.3, 2, 0.1, 0, -1, 0.7];
    const want = [0, 1, 2].reduce((acc, i) => {
      const row = s.slice(3 * i, 3 * i + 3);
      const m = Math.max(...row);
      return acc - (row[i] - m - Math.log(row.reduce((z, v) => z + Math.exp(v - m), 0)));
    }, 0) / 3;
    close(infoNce(np.array(s, { shape: [3, 3] })).item(), want, 1e-6, "by hand");
    assert.throws(() => infoNce(np.zeros([2, 3])), /square score matrix/);
  });

  it("the gradient penalty is 0 for a critic of unit gradient norm and (c − 1)² for a critic of norm c", () => {
    // f(x, y) = aᵀx + bᵀy has gradient (a, b) everywhere
    const unit = (x: Array, y: Array) => x.mul(np.array([0.6, 0])).sum(-1).add(y.mul(np.array([0.8])).sum(-1));
    const x = np.array(Float32Array.from(normalFromKey(keyFromSeed(1), 10)), { shape: [5, 2] });
    const y = np.array(Float32Array.from(normalFromKey(keyFromSeed(2), 5)), { shape: [5, 1] });
    close(gradientPenalty(unit, x.ref, y.ref).item(), 0, 1e-6, "‖(0.6, 0, 0.8)‖ = 1");
    const triple = (xx: Array, yy: Array) => unit(xx, yy).mul(3);
    close(gradientPenalty(triple, x, y).item(), 4, 1e-5, "norm 3: (3 − 1)²");
    const mid = interpolate(np.array([[0, 0], [2, 2]]), np.array([[4, 8], [0, 0]]), np.array([0.25, 1]));
    assert.deepEqual(globalThis.Array.from(mid.dataSync() as Float32Array), [3, 6, 2, 2]);
  });

  it("WPC's loss (InfoNCE + the gradient penalty of a bilinear critic) passes a float64 finite-difference gradient check: second order through the penalty", async () => {
    await onCpu(() => {
      const f64 = (seed: number, shape: number[]) => np.array(globalThis.Array.from(normalFromKey(keyFromSeed(seed), shape.reduce((a, b) => a * b, 1))), { shape, dtype: DType.Float64, device: "cpu" });
      const x = f64(3, [4, 3]);
      const y = f64(4, [4, 2]);
      const u = np.array([0.1, 0.5, 0.9, 0.3], { dtype: DType.Float64, device: "cpu" });
      const params = { g: f64(5, [3, 2]), h: f64(6, [2, 2]) };
      const r = gradCheck((q) => {
        const p = q as { g: Array; h: Array };
        // critic f(x, y) = tanh(xG)ᵀ tanh(yH): scores of every pair, and the pairwise form for the penalty
        const gx = np.tanh(np.matmul(x.ref, p.g.ref));
        const hy = np.tanh(np.matmul(y.ref, p.h.ref));
        const scores = np.matmul(gx, hy.transpose());
        const pair = (xx: Array, yy: Array) => np.tanh(np.matmul(xx, p.g.ref)).mul(np.tanh(np.matmul(yy, p.h.ref))).sum(-1);
        const xHat = interpolate(x.ref, np.roll(x.ref, 1, 0), u.ref);
        const yHat = interpolate(y.ref, np.roll(y.ref, 1, 0), u.ref);
        const loss = infoNce(scores).add(gradientPenalty(pair, xHat, yHat).mul(10));
        treeDispose(p);
        return loss;
      }, params);
      treeDispose([x, y, u]);
      assert.ok(r.maxRelErr < 1e-6, `relative error ${r.maxRelErr} (${JSON.stringify(r.checks)})`);
    });
  });
});
