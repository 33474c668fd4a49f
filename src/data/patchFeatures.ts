/**
 * Simplicity-bias patch data (Nguyen et al. 2024, USEFUL, §3's theory set-up, as constructed in spec
 * §11 / calibration-b): x ∈ R^{P×d}, y ∈ {±1}. Patch 1 holds the fast-learnable feature y·β_e·v_e for a
 * fraction α of the examples (the others get pure noise there); patch 2 always holds the slow-learnable
 * feature y·β_a·v_a; the remaining patches are noise N(0, σ²I/d). v_e = e₀, v_a = e₁. Labels are stored
 * as class indices 0 (y = −1) and 1 (y = +1).
 */
import { random } from "@jax-js/jax";
import { splitKey, uniformFromKey, type Key } from "../core/prng.ts";
import type { Dataset } from "./dataset.ts";

export type PatchSpec = { n: number; patches: number; d: number; alpha: number; betaFast: number; betaSlow: number; sigma: number };

/** The dataset ([n, P·d], patch-major) and which examples carry the fast feature. Consumes the key. */
export function patchFeatureData(spec: PatchSpec, key: Key): { data: Dataset; hasFast: Uint8Array } {
  const { n, patches: P, d } = spec;
  if (P < 2) {
    key.dispose();
    throw new RangeError("patchFeatureData: needs at least 2 patches (fast and slow)");
  }
  const [ky, kf, kn] = splitKey(key, 3);
  const uy = uniformFromKey(ky, n);
  const uf = uniformFromKey(kf, n);
  const x = Float32Array.from(random.normal(kn, [n, P * d]).mul(spec.sigma / Math.sqrt(d)).dataSync() as ArrayLike<number>);
  const y = new Int32Array(n);
  const hasFast = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const s = uy[i] < 0.5 ? -1 : 1;
    y[i] = s > 0 ? 1 : 0;
    const row = i * P * d;
    // patch 2: the slow feature, always present (replacing its noise)
    for (let t = 0; t < d; t++) x[row + d + t] = 0;
    x[row + d + 1] = s * spec.betaSlow;
    if (uf[i] < spec.alpha) {
      hasFast[i] = 1;
      for (let t = 0; t < d; t++) x[row + t] = 0;
      x[row] = s * spec.betaFast;
    }
  }
  return { data: { x, xShape: [n, P * d], y, numClasses: 2 }, hasFast };
}
