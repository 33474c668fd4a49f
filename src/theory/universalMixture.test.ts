import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { keyFromSeed } from "../core/prng.ts";
import { ktLog2Prob, markovSource, mixtureLog2Prob, resolvabilityBound, sampleMarkov, sourceLog2Prob } from "./universalMixture.ts";

describe("the Bayesian mixture over Markov orders (universality lens)", () => {
  it("KT probabilities by hand: P(0) = ½, P(01) = ½·¼, P(011) = ½·¼·½ (order 0); order 1 uses the zero past", () => {
    const x = Uint8Array.from([0, 1, 1]);
    const kt0 = ktLog2Prob(x, 0);
    assert.deepEqual(Array.from(kt0), [Math.log2(1 / 2), Math.log2(1 / 8), Math.log2(1 / 16)]);
    // order 1: contexts 0 (past 0), 0 (after 0), 1 (after 1): ½ · (½/2 = ¼) · ½
    assert.deepEqual(Array.from(ktLog2Prob(x, 1)), [Math.log2(1 / 2), Math.log2(1 / 8), Math.log2(1 / 16)]);
  });

  it("the mixture is within log₂(1/w_k) of every component, and sums the components exactly", async () => {
    const src = markovSource(2, [0.1, 0.6, 0.3, 0.9]);
    const x = await sampleMarkov(src, 500, keyFromSeed(1));
    const prior = [0.5, 0.25, 0.25];
    const mix = mixtureLog2Prob(x, prior);
    const parts = prior.map((_, k) => ktLog2Prob(x, k));
    for (const t of [0, 99, 499]) {
      const direct = Math.log2(prior.reduce((s, w, k) => s + w * 2 ** parts[k][t], 0));
      assert.ok(Math.abs(mix[t] - direct) < 1e-9, `t = ${t}: log-sum-exp equals the direct sum (atol 1e-9)`);
      prior.forEach((w, k) => assert.ok(mix[t] >= Math.log2(w) + parts[k][t] - 1e-12, `mixture ≥ w_k · KT_k at t = ${t}`));
    }
    assert.throws(() => mixtureLog2Prob(x, [0.5, 0.4]), /summing to 1/);
  });

  it("sampling follows the source; the KL neighbourhood of the truth is found by the prior samples", async () => {
    const src = markovSource(1, [0.2, 0.7]);
    const x = await sampleMarkov(src, 20000, keyFromSeed(2));
    const ones = x.reduce((a, b) => a + b, 0) / x.length;
    // stationary P(1) = 0.2 / (0.2 + 0.3) = 0.4; sd of the mean of a correlated chain ≈ √(0.24·(1+0.5)/(1−0.5)/20000) ≈ 0.006
    assert.ok(Math.abs(ones - 0.4) < 0.025, `frequency of 1s ${ones} vs stationary 0.4 (atol 0.025, 4 sd)`);
    assert.ok(sourceLog2Prob(src, x)[19999] < 0, "log-probability negative");
    const b = await resolvabilityBound(src, Array(11).fill(1 / 11), 2000, 20000, keyFromSeed(3));
    assert.ok(b.bound > Math.log2(11) && b.bound < 40 && b.epsilon < 0.01, `bound ${b.bound} bits at ε = ${b.epsilon}`);
    assert.throws(() => markovSource(1, [0.5]), /expected 2 probabilities/);
  });
});
