import { nn, numpy as np, type Array } from "@jax-js/jax";

/**
 * "square" is φ(x) = x², the quadratic activation of Gromov (2023) and Doshi et al. (2024, Eq. 1) under
 * which modular arithmetic has a closed-form Fourier solution.
 */
export type Activation = "relu" | "gelu" | "tanh" | "identity" | "square";
export const ACTIVATIONS: readonly Activation[] = ["relu", "gelu", "tanh", "identity", "square"];

export function applyActivation(act: Activation, x: Array): Array {
  switch (act) {
    case "relu":
      return nn.relu(x);
    case "gelu":
      return nn.gelu(x, { approximate: true });
    case "tanh":
      return np.tanh(x);
    case "identity":
      return x;
    case "square":
      return np.square(x);
  }
}

/** Init gain σ that keeps pre-activation variance O(1) (He et al. 2015 for ReLU; 1 otherwise). */
export function activationGain(act: Activation): number {
  return act === "relu" ? Math.SQRT2 : 1;
}
