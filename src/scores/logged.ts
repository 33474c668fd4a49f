/**
 * Per-example dynamics from outputs a user logged in their own training loop (PyTorch, JAX, anything):
 * per-epoch logits (preferred) or probabilities of every training example, [E × N × C], and the labels.
 * Every quantity is computed by `outputQuantities` (scores/perExample.ts), the function genlab's own
 * dynamics logger applies to its model's logits, so a score from logged outputs equals the score genlab
 * computes when it trains the same model itself (test/loggedDynamics.test.ts).
 *
 * From probabilities the logits are taken as log p (softmax(log p) = p), so the loss, EL2N, correctness and
 * p(label) are exact, and the margin log p_y − max_{k≠y} log p_k equals the logit margin z_y − max z_k
 * (the log-sum-exp cancels) — but only while every probability is representable: a softmax that underflowed
 * to 0 (a logit gap beyond ~103 in float32) clips the margin. AUM (Pleiss et al. 2020) is defined on logits;
 * from probabilities genlab counts the clipped margins and says so.
 */
import { numpy as np } from "@jax-js/jax";
import type { Dynamics } from "./dynamics.ts";
import { outputQuantities, type OutputQuantity } from "./perExample.ts";

export type OutputKind = "logits" | "probs";

/** Rows per engine call. */
const CHUNK = 8192;

/** The smallest float32 probability treated as a probability (log of 0 is −∞: such entries are clipped to it). */
const TINY = 1e-45;

/**
 * Dynamics [epochs × N] of loss, margin, correct, p_true and el2n from logged outputs: `outputs[e]` is epoch
 * `epochs[e]`'s [N × C] row-major array. Labels in 0..C−1 (checked by the caller's reader). `clipped`: the
 * number of (epoch, example) margins that probabilities could not resolve (0 for logits).
 */
export async function dynamicsFromOutputs(outputs: Float32Array[], epochs: number[], n: number, c: number, labels: Int32Array, kind: OutputKind): Promise<{ dynamics: Dynamics; clipped: number }> {
  if (outputs.length !== epochs.length) throw new RangeError("dynamicsFromOutputs: one output array per epoch");
  const E = epochs.length;
  const names: OutputQuantity[] = ["loss", "margin", "correct", "p_true", "el2n"];
  const values = Object.fromEntries(names.map((q) => [q, new Float32Array(E * n)])) as Record<OutputQuantity, Float32Array>;
  let clipped = 0;
  for (let e = 0; e < E; e++) {
    const out = outputs[e];
    if (out.length !== n * c) throw new RangeError(`dynamicsFromOutputs: epoch ${epochs[e]} has ${out.length} values, expected ${n} × ${c}`);
    for (let r0 = 0; r0 < n; r0 += CHUNK) {
      const rows = Math.min(CHUNK, n - r0);
      let z = out.subarray(r0 * c, (r0 + rows) * c);
      if (kind === "probs") {
        const logp = new Float32Array(rows * c);
        for (let i = 0; i < rows; i++) {
          let clip = false;
          for (let k = 0; k < c; k++) {
            const p = z[i * c + k];
            if (p < TINY && !Number.isNaN(p)) clip = true;
            logp[i * c + k] = Math.log(Math.max(p, TINY));
          }
          if (clip) clipped++;
        }
        z = logp;
      }
      // a row of NaN is an example this epoch did not log (an index file: io/loggedOutputs.ts): computed on
      // zeros, then every quantity of it set to NaN, which the scores skip (scores/dynamics.ts)
      const missing: number[] = [];
      for (let i = 0; i < rows; i++) if (Number.isNaN(z[i * c])) missing.push(i);
      const zc = Float32Array.from(z, (v) => (Number.isNaN(v) ? 0 : v));
      const q = outputQuantities(np.array(zc).reshape([rows, c]), np.array(labels.slice(r0, r0 + rows)));
      for (const name of names) {
        const v = (await q[name].data()) as Float32Array;
        for (const i of missing) v[i] = NaN;
        values[name].set(v, e * n + r0);
      }
    }
  }
  return { dynamics: { epochs: epochs.slice(), n, values }, clipped };
}
