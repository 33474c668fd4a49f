/**
 * Gradient coherence (Chatterjee 2020, "Coherent gradients"; Chatterjee & Zielinski 2022, "On the
 * generalization mystery in deep learning", §4; Zielinski et al. 2020, "Making coherence out of nothing
 * at all"). For per-example gradients g₁ … g_m of a fixed sample,
 *
 *   α = ‖E g‖² / E‖g‖²,   α_m / α_m^⊥ = m·α = ‖Σᵢ gᵢ‖² / Σᵢ ‖gᵢ‖²   (the "m-coherence"),
 *
 * normalised by α_m^⊥ = 1/m, the value for m orthogonal gradients of equal norm: m-coherence is 1 for
 * orthogonal gradients, m for identical ones, and reads as "how many examples a step on one example
 * helps". Real labels give coherent gradients early in training; random labels stay near 1.
 *
 * For an MLP both terms cost about one backward pass: ‖Σgᵢ‖² is the squared norm of the gradient of
 * Σᵢ ℓᵢ, and Σ‖gᵢ‖² comes from ghost norms (scores/perExample.ts), never materialising a per-example
 * gradient. `coherenceOfGradients` takes materialised per-example gradients (any model, via vmap).
 */
import { grad, numpy as np, type Array } from "@jax-js/jax";
import { treeLeaves, treeRef, treeVdot, type Tree } from "../core/tree.ts";
import type { Dataset } from "../data/dataset.ts";
import { applyMlp, type MlpParams, type MlpSpec } from "../nn/dense.ts";
import { mlpGradNorms, perExampleCrossEntropy, perExampleSquaredError, type PerExampleLoss } from "./perExample.ts";
import { toDevice } from "../train/loop.ts";
import { perExampleGradients } from "../train/perExample.ts";
import type { Monitor } from "../train/monitors.ts";

/** m-coherence from per-example gradients: a tree whose leaves are [m, …]. Consumes g. */
export function coherenceOfGradients(g: Tree): Array {
  let sumSq: Array | null = null;
  let sqSum: Array | null = null;
  for (const leaf of treeLeaves(g)) {
    const s = np.square(leaf.ref.sum(0)).sum();
    const q = np.square(leaf).sum();
    sumSq = sumSq === null ? s : sumSq.add(s);
    sqSum = sqSum === null ? q : sqSum.add(q);
  }
  if (sumSq === null || sqSum === null) throw new RangeError("coherenceOfGradients: no gradients");
  return sumSq.div(np.maximum(sqSum, 1e-30));
}

export { perExampleGradients };

/** m-coherence of an MLP on (x, y) with ghost norms (no per-example gradient materialised). Consumes params, x, y. */
export function mlpCoherence(spec: MlpSpec, params: MlpParams, x: Array, y: Array, loss: PerExampleLoss = "cross_entropy"): Array {
  const per = loss === "cross_entropy" ? perExampleCrossEntropy : perExampleSquaredError;
  const total = grad((p: MlpParams) => per(applyMlp(spec, p, x.ref), y.ref).sum())(treeRef(params) as never) as unknown as MlpParams;
  const sumSq = treeVdot(treeRef(total), total);
  const norms = mlpGradNorms(spec, params, x, y, loss);
  return sumSq.div(np.maximum(np.square(norms).sum(), 1e-30));
}

/**
 * A training monitor: the m-coherence of a fixed probe set (m = its rows) at every log step, as
 * `coherence`. Attach it to any ctx.train of an MLP. The probe moves to the device once per measure.
 */
export function coherenceMonitor(spec: MlpSpec, probe: Dataset, loss: PerExampleLoss = "cross_entropy", name = "coherence"): Monitor {
  return {
    id: name,
    measure(params) {
      const { x, y } = toDevice(probe);
      return { [name]: mlpCoherence(spec, params as MlpParams, x, y, loss) };
    },
  };
}
