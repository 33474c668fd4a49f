/**
 * Gaussian class clusters: k class means μ_c ~ N(0, sep²·I_d) (so ‖μ_c‖ ≈ sep·√d), and
 * x = μ_y + σ·ξ, ξ ~ N(0, I_d), with balanced classes (y = i mod k before shuffling). The calibrated
 * set-up of the gradient-coherence spec (Chatterjee & Zielinski 2022): 10 classes in 64 dimensions.
 */
import { random } from "@jax-js/jax";
import { permutationFromKey, splitKey, type Key } from "../core/prng.ts";
import type { Dataset } from "./dataset.ts";

export type GaussianClustersSpec = { n: number; nTest: number; d: number; classes: number; sep: number; noise: number };

/** Consumes the key. Train and test share the class means. */
export function gaussianClusters(spec: GaussianClustersSpec, key: Key): { train: Dataset; test: Dataset; means: Float32Array } {
  const { d, classes } = spec;
  if (classes < 2) {
    key.dispose();
    throw new RangeError(`gaussianClusters: need ≥ 2 classes, got ${classes}`);
  }
  const [kMu, kTr, kTe] = splitKey(key, 3);
  const means = Float32Array.from(random.normal(kMu, [classes, d]).mul(spec.sep).dataSync() as ArrayLike<number>);
  const draw = (n: number, k: Key): Dataset => {
    const [kOrder, kNoise] = splitKey(k, 2);
    const order = permutationFromKey(kOrder, n);
    const x = Float32Array.from(random.normal(kNoise, [n, d]).mul(spec.noise).dataSync() as ArrayLike<number>);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const c = order[i] % classes;
      y[i] = c;
      for (let j = 0; j < d; j++) x[i * d + j] += means[c * d + j];
    }
    return { x, xShape: [n, d], y, numClasses: classes };
  };
  return { train: draw(spec.n, kTr), test: draw(spec.nTest, kTe), means };
}
