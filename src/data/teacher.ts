/**
 * Teacher targets for regression studies. `quadraticTeacher`: Kumar et al. (ICLR 2024, Fig. 1):
 * x ~ N(0, I_D / D), β ~ N(0, I_D), y = (βᵀx)² / 2 — a target the initial NTK of their model is misaligned
 * with, so the lazy regime cannot learn it.
 */
import { random } from "@jax-js/jax";
import { splitKey, type Key } from "../core/prng.ts";
import type { Dataset } from "./dataset.ts";

/** Consumes the key. Train and test share β. */
export function quadraticTeacher(spec: { n: number; nTest: number; d: number }, key: Key): { train: Dataset; test: Dataset; beta: Float32Array<ArrayBuffer> } {
  const [kb, kx, kt] = splitKey(key, 3);
  const beta = Float32Array.from(random.normal(kb, [spec.d]).dataSync() as ArrayLike<number>);
  const make = (n: number, k: Key): Dataset => {
    const x = Float32Array.from(random.normal(k, [n, spec.d]).mul(1 / Math.sqrt(spec.d)).dataSync() as ArrayLike<number>);
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < spec.d; j++) s += beta[j] * x[i * spec.d + j];
      y[i] = (s * s) / 2;
    }
    return { x, xShape: [n, spec.d], y, yShape: [n], numClasses: 0 };
  };
  return { train: make(spec.n, kx), test: make(spec.nTest, kt), beta };
}
