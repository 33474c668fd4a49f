/**
 * Monitors measure the model on the log schedule. They receive the params (consumed) and return scalar
 * arrays; the loop reads them into numbers. Later measures (sharpness, margins, gradient coherence)
 * plug in here.
 */
import { numpy as np, type Array } from "@jax-js/jax";
import { treeGlobalNorm, treeLeaves, type Tree } from "../core/tree.ts";

export interface Monitor {
  readonly id: string;
  /** Array-valued measures (read into numbers by the loop). Consumes params. */
  measure?(params: Tree): Record<string, Array>;
  /**
   * Measures that need host code (an edit distance, a sort): numbers, asynchronously. Consumes params.
   * A monitor may have both; the loop calls `measure` first.
   */
  measureHost?(params: Tree): Promise<Record<string, number>>;
}

/** ‖θ‖₂ over all parameters: weight decay's target, and a grokking indicator (Liu et al. 2023). */
export const paramNormMonitor: Monitor = {
  id: "param_norm",
  measure: (params) => ({ param_norm: treeGlobalNorm(params) }),
};

/** Frobenius norm of each leaf, named by its position ("w0", "w1", …). */
export const layerNormsMonitor: Monitor = {
  id: "layer_norms",
  measure(params) {
    const out: Record<string, Array> = {};
    treeLeaves(params).forEach((x, i) => {
      out[`norm_${i}`] = np.sqrt(np.square(x).sum());
    });
    return out;
  },
};

