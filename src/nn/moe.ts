/**
 * A residual mixture-of-experts MLP with top-k routing (Shazeer et al. 2017; the analog of OLMoE's
 * routing in Li, Fan, Zhou 2025, "Where to find grokking in LLM pretraining?"):
 *
 *   x₀ = E·input,  x_{ℓ+1} = x_ℓ + Σ_e g_{ℓ,e}(z) · (ReLU(z W1_e + b1_e) W2_e + b2_e),  z = LN(x_ℓ),
 *   g_ℓ = top-k(softmax(z R_ℓ)) renormalised over the k chosen experts,  logits = LN(x_L) H.
 *
 * The experts are evaluated densely and weighted by the (sparse) gates: the forward values equal sparse
 * dispatch. The k chosen experts per layer are the example's "pathway". Params are plain matrices so the
 * whole step is a few matmuls.
 */
import { nn, numpy as np, random, type Array } from "@jax-js/jax";
import { splitKey, type Key } from "../core/prng.ts";
import { kthLargest } from "../core/order.ts";
import { applyLayerNorm, initLayerNorm, type LayerNormParams } from "./layerNorm.ts";

export type MoeSpec = { input: number; dModel: number; hidden: number; experts: number; topK: number; layers: number; output: number };
export type MoeLayerParams = { ln: LayerNormParams; router: Array; w1: Array; b1: Array; w2: Array; b2: Array };
export type MoeParams = { embed: Array; layers: MoeLayerParams[]; lnOut: LayerNormParams; head: Array };
/** Per layer: the router's softmax probabilities and the renormalised top-k gates, both [n, experts]. */
export type Routing = { probs: Array[]; gates: Array[] };

export function initMoe(spec: MoeSpec, key: Key): MoeParams {
  if (!(spec.topK >= 1 && spec.topK <= spec.experts)) {
    key.dispose();
    throw new RangeError(`topK must be in [1, ${spec.experts}], got ${spec.topK}`);
  }
  const keys = splitKey(key, 2 + 3 * spec.layers);
  const { dModel: d, hidden: h, experts: E } = spec;
  const n = (k: Key, shape: number[], std: number) => random.normal(k, shape).mul(std);
  return {
    embed: n(keys[0], [spec.input, d], 1),
    layers: globalThis.Array.from({ length: spec.layers }, (_, l) => ({
      ln: initLayerNorm(d),
      router: n(keys[2 + 3 * l], [d, E], 1 / Math.sqrt(d)),
      w1: n(keys[3 + 3 * l], [d, E * h], Math.SQRT2 / Math.sqrt(d)),
      b1: np.zeros([E * h]),
      w2: n(keys[4 + 3 * l], [E * h, d], 1 / Math.sqrt(h)),
      b2: np.zeros([E, d]),
    })),
    lnOut: initLayerNorm(d),
    head: n(keys[1], [d, spec.output], 1 / Math.sqrt(d)),
  };
}

/** Top-k gates: softmax probabilities kept on the k largest per row, renormalised. Consumes probs (ref'd by caller). */
export function topKGates(probs: Array, k: number): Array {
  const rows = probs.shape[0];
  const thr = kthLargest(probs.ref.transpose(), k); // [rows]
  const mask = probs.ref.greaterEqual(thr.reshape([rows, 1])).astype(probs.dtype);
  const kept = probs.mul(mask);
  return kept.ref.div(kept.sum(1, { keepdims: true }).reshape([rows, 1]));
}

/** logits [n, output]; with `routing`, pushes each layer's probs and gates (the caller owns them). Consumes params and x. */
export function applyMoe(spec: MoeSpec, params: MoeParams, x: Array, routing?: Routing): Array {
  const rows = x.shape[0];
  const { hidden: h, experts: E } = spec;
  let s = np.matmul(x, params.embed);
  for (const l of params.layers) {
    const z = applyLayerNorm(l.ln, s.ref);
    const probs = nn.softmax(np.matmul(z.ref, l.router), -1);
    const gates = topKGates(probs.ref, spec.topK);
    if (routing) {
      routing.probs.push(probs);
      routing.gates.push(gates.ref);
    } else probs.dispose();
    const act = nn.relu(np.matmul(z, l.w1).add(l.b1));
    const g = gates.ref.reshape([rows, E, 1]).mul(np.ones([1, 1, h], { dtype: gates.dtype })).reshape([rows, E * h]);
    const y = np.matmul(act.mul(g), l.w2).add(np.matmul(gates, l.b2));
    s = s.add(y);
  }
  return np.matmul(applyLayerNorm(params.lnOut, s), params.head);
}
