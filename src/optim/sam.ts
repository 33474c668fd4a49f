/**
 * Sharpness-aware minimisation (Foret, Kleiner, Mobahi, Neyshabur 2021, "Sharpness-Aware Minimization for
 * Efficiently Improving Generalization", ICLR, eq. 2 and Alg. 1): the update uses the gradient at the
 * worst-case nearby point θ + ε̂, with
 *
 *   ε̂(θ) = ρ · g / ‖g‖₂                      (SAM; g = ∇L_B(θ) on the minibatch)
 *   ε̂(θ) = ρ · T² g / ‖T g‖₂,  T = |θ|       (ASAM, Kwon et al. 2021, adaptive: `adaptive: true`)
 *
 * As an Optax-style transform placed first in a chain, `chain(sam(0.05), traceMomentum(0.9),
 * scaleByLearningRate(0.05))`: the training loop (train/loop.ts) computes g, asks `perturbation` for ε̂ and
 * passes ∇L_B(θ + ε̂), on the same batch, down the chain. Each step costs two gradients.
 */
import { numpy as np } from "@jax-js/jax";
import { treeDispose, treeGlobalNorm, treeMap, treeRef, type Tree } from "../core/tree.ts";
import type { GradientTransformation } from "./transform.ts";

export function sam(rho: number, opts: { adaptive?: boolean } = {}): GradientTransformation {
  if (!(rho >= 0)) throw new RangeError(`sam: rho must be ≥ 0, got ${rho}`);
  return {
    init(params) {
      treeDispose(params);
      return [];
    },
    update(u, s, p) {
      treeDispose(p);
      return [u, s];
    },
    perturbation(g: Tree, params: Tree): Tree {
      if (!opts.adaptive) {
        treeDispose(params);
        const norm = treeGlobalNorm(treeRef(g));
        const f = np.array(rho, { dtype: norm.dtype }).div(np.maximum(norm, 1e-12));
        const out = treeMap((x) => x.mul(f.ref), g);
        f.dispose();
        return out;
      }
      const tg = treeMap((x, w) => x.mul(np.abs(w)), treeRef(g), treeRef(params));
      const norm = treeGlobalNorm(tg);
      const f = np.array(rho, { dtype: norm.dtype }).div(np.maximum(norm, 1e-12));
      const out = treeMap((x, w) => x.mul(np.square(w)).mul(f.ref), g, params);
      f.dispose();
      return out;
    },
  };
}
