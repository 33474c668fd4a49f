import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { auroc, forgettingScores, precisionAtK, ranks, spearman, topK } from "./ranking.ts";

describe("rank statistics (known answers)", () => {
  it("ranks average ties; Spearman is 1 for a monotone map and −1 reversed", () => {
    assert.deepEqual(Array.from(ranks([10, 20, 20, 5])), [2, 3.5, 3.5, 1]);
    assert.equal(spearman([1, 2, 3, 4], [1, 8, 27, 64]), 1);
    assert.equal(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  });

  it("AUROC: 1 when positives score highest, 0.5 for a constant score, ties count ½", () => {
    assert.equal(auroc([0.9, 0.8, 0.1, 0.2], [1, 1, 0, 0]), 1);
    assert.equal(auroc([1, 1, 1, 1], [1, 0, 1, 0]), 0.5);
    assert.equal(auroc([0.1, 0.9, 0.5], [1, 0, 0]), 0);
  });

  it("top-k is deterministic under ties; precision at k", () => {
    assert.deepEqual(Array.from(topK([1, 3, 3, 2], 2)), [1, 2]);
    assert.equal(precisionAtK([0.9, 0.1, 0.8, 0.2], [1, 0, 0, 0], 2), 0.5);
  });

  it("forgetting events count correct → incorrect transitions; never learned ranks highest", () => {
    const epochs = [Uint8Array.from([1, 0, 1]), Uint8Array.from([0, 0, 1]), Uint8Array.from([1, 0, 1]), Uint8Array.from([0, 0, 1])];
    assert.deepEqual(Array.from(forgettingScores(epochs)), [2, 4, 0]);
  });
});
