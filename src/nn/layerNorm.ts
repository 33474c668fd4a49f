import { numpy as np, type Array } from "@jax-js/jax";

export type LayerNormParams = { scale: Array; bias: Array };

export function initLayerNorm(dim: number): LayerNormParams {
  return { scale: np.ones([dim]), bias: np.zeros([dim]) };
}

/** Ba et al. (2016): normalise over the last axis, then scale and shift. Consumes params and x. */
export function applyLayerNorm(params: LayerNormParams, x: Array, eps = 1e-5): Array {
  const axis = x.ndim - 1;
  const mu = x.ref.mean(axis, { keepdims: true });
  const xc = x.sub(mu);
  const variance = np.square(xc.ref).mean(axis, { keepdims: true });
  const xhat = xc.div(np.sqrt(variance.add(eps)));
  return xhat.mul(params.scale).add(params.bias);
}
