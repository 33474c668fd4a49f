/**
 * Random-features model (Rahimi & Recht 2007): f(x) = φ(x W₀ + b₀) · a / √F with W₀, b₀ drawn once and
 * frozen, only the readout a trained. The frozen features are a separate tree from the trained params
 * so that optimizers (and weight decay) never touch them.
 */
import { numpy as np, random, type Array } from "@jax-js/jax";
import { splitKey, type Key } from "../core/prng.ts";
import { applyActivation, type Activation } from "./activations.ts";

export type RandomFeaturesSpec = { inputDim: number; features: number; outDim: number; activation: Activation; initScale: number; outputScale: number };
export type RandomFeatures = { w0: Array; b0: Array };
export type RandomFeaturesParams = { readout: Array };

export function randomFeaturesSpec(partial: Partial<RandomFeaturesSpec> & { inputDim: number; features: number }): RandomFeaturesSpec {
  return { outDim: 1, activation: "relu", initScale: 1, outputScale: 1, ...partial };
}

/** Frozen W₀ ~ N(0, 1/d), b₀ ~ N(0, 1); readout ~ N(0, initScale²) (zero init when initScale = 0). */
export function initRandomFeatures(spec: RandomFeaturesSpec, key: Key): { features: RandomFeatures; params: RandomFeaturesParams } {
  const [kw, kb, ka] = splitKey(key, 3);
  return {
    features: {
      w0: random.normal(kw, [spec.inputDim, spec.features]).mul(1 / Math.sqrt(spec.inputDim)),
      b0: random.normal(kb, [spec.features]),
    },
    params: { readout: random.normal(ka, [spec.features, spec.outDim]).mul(spec.initScale) },
  };
}

/** The feature map φ(x W₀ + b₀) / √F, [N, F]. Consumes features and x. */
export function randomFeatureMap(spec: RandomFeaturesSpec, features: RandomFeatures, x: Array): Array {
  const z = np.matmul(x, features.w0).add(features.b0);
  return applyActivation(spec.activation, z).mul(1 / Math.sqrt(spec.features));
}

/** Consumes features, params and x. */
export function applyRandomFeatures(spec: RandomFeaturesSpec, features: RandomFeatures, params: RandomFeaturesParams, x: Array): Array {
  const out = np.matmul(randomFeatureMap(spec, features, x), params.readout);
  return spec.outputScale === 1 ? out : out.mul(spec.outputScale);
}
