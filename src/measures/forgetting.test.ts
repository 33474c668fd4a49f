import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { globalForgetting, seenAccuracy } from "./forgetting.ts";

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tol ${tol})`);

describe("forgetting measures (measures/forgetting.ts)", () => {
  it("F^G and A_{1:i} by hand on a 3-task matrix, task sizes weighting the sums", () => {
    const R = [[1], [0.5, 1], [0.2, 0.6, 1]];
    close(globalForgetting(R, [2, 2, 2]), ((1 - 0.5) / 2 + (1 - 0.2) / 3 + (1 - 0.6) / 3) / 2, 1e-12, "equal sizes");
    close(globalForgetting(R, [1, 3, 4]), ((1 / 4) * 0.5 + (1 / 8) * 0.8 + (3 / 8) * 0.4) / 2, 1e-12, "sizes 1, 3, 4");
    assert.deepEqual(seenAccuracy(R, [2, 2, 2]).map((v) => Math.round(v * 1e9) / 1e9), [1, 0.75, 0.6]);
    assert.equal(globalForgetting([[0.9]], [1]), 0);
    assert.throws(() => globalForgetting([[1], [0.5]], [1, 1]), /row 1 must hold 2 finite accuracies/);
  });
});
