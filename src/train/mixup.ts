/**
 * d-Mixup (Zhang, Cisse, Dauphin, Lopez-Paz 2018, "mixup"; the d-point generalisation of Chidambaram & Ge
 * 2024, "On the Limitations of Temperature Scaling for Distributions with Overlaps", `GeneralMixupLoss` of
 * their code): per minibatch one weight vector λ ~ Dirichlet(α·1_d) and d − 1 random permutations π_j of the
 * batch (π_1 the identity):
 *
 *   x̃ = Σ_j λ_j x[π_j],   target = Σ_j λ_j e_{y[π_j]}   (soft, [B, C])
 *
 * so that the soft cross-entropy −Σ_c target_c log p_c(x̃) equals Σ_j λ_j CE(f(x̃), y[π_j]) (tested). d = 2,
 * α = 1 is ordinary mixup with λ ~ U(0, 1). As a training-loop batch transform (train/loop.ts), keyed by the
 * step, so resumes are exact. `mixLabels: false` is the broken variant (inputs mixed, labels not) that
 * calibration-b uses as a negative control.
 */
import { DType, nn, numpy as np, random, type Array } from "@jax-js/jax";
import { permutationFromKey, splitKey, uniformFromKey, type Key } from "../core/prng.ts";
import type { BatchTransform } from "./loop.ts";

/** Gamma(shape, 1) draws on the host from a key (Marsaglia & Tsang 2000; shape < 1 by the boost u^(1/shape)). Consumes the key. */
export function gammaHost(shape: number, count: number, key: Key): Float64Array {
  if (!(shape > 0)) {
    key.dispose();
    throw new RangeError(`gamma shape must be > 0, got ${shape}`);
  }
  const boost = shape < 1;
  const a = boost ? shape + 1 : shape;
  const d = a - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  const out = new Float64Array(count);
  // enough uniforms and normals for the rejection loop (acceptance > 95% for a ≥ 1); refilled if ever short
  let [ku, kn, kb, kMore] = splitKey(key, 4);
  let u = uniformFromKey(ku, 8 * count + 8);
  let z = Float64Array.from(random.normal(kn, [8 * count + 8]).dataSync() as ArrayLike<number>);
  const ub = uniformFromKey(kb, count);
  let pos = 0;
  for (let i = 0; i < count; i++) {
    for (;;) {
      if (pos >= u.length) {
        const [k1, k2, k3] = splitKey(kMore, 3);
        kMore = k3;
        u = uniformFromKey(k1, 8 * count + 8);
        z = Float64Array.from(random.normal(k2, [8 * count + 8]).dataSync() as ArrayLike<number>);
        pos = 0;
      }
      const x = z[pos];
      const uu = u[pos++];
      const v = (1 + c * x) ** 3;
      if (v <= 0) continue;
      if (Math.log(Math.max(uu, 1e-300)) < 0.5 * x * x + d - d * v + d * Math.log(v)) {
        out[i] = d * v * (boost ? Math.max(ub[i], 1e-300) ** (1 / shape) : 1);
        break;
      }
    }
  }
  kMore.dispose();
  return out;
}

/** λ ~ Dirichlet(α·1_d) on the host. Consumes the key. */
export function dirichletHost(alpha: number, d: number, key: Key): number[] {
  const g = gammaHost(alpha, d, key);
  const s = g.reduce((a, b) => a + b, 0);
  return globalThis.Array.from(g, (v) => v / s);
}

/** −Σ_c t_c log softmax(z)_c, averaged over the batch: the cross-entropy against soft targets [B, C]. Consumes both. */
export function softCrossEntropy(logits: Array, targets: Array): Array {
  return nn.logSoftmax(logits, -1).mul(targets).sum(-1).mean().neg();
}

export type MixupOptions = { classes: number; alpha?: number; points?: number; seed: number; mixLabels?: boolean };

/** The d-Mixup batch transform: x, y (int labels) → x̃, soft targets. */
export function mixup(opts: MixupOptions): BatchTransform {
  const d = opts.points ?? 2;
  const alpha = opts.alpha ?? 1;
  if (!Number.isInteger(d) || d < 1) throw new RangeError(`mixup: points must be an integer ≥ 1, got ${d}`);
  return {
    seed: opts.seed,
    apply(x: Array, y: Array, key: Key) {
      const b = x.shape[0];
      const [kl, ...kp] = splitKey(key, d + 1);
      const lambda = dirichletHost(alpha, d, kl);
      let xs: Array | null = null;
      let ts: Array | null = null;
      for (let j = 0; j < d; j++) {
        const idx = j === 0 ? (kp[0].dispose(), null) : np.array(permutationFromKey(kp[j], b) as Int32Array<ArrayBuffer>, { dtype: DType.Int32 });
        const xj = idx ? np.take(x.ref, idx.ref, 0) : x.ref;
        const yj = idx ? np.take(y.ref, idx, 0) : y.ref;
        const onehot = nn.oneHot(yj, opts.classes).astype(x.dtype);
        const wx = xj.mul(lambda[j]);
        xs = xs ? xs.add(wx) : wx;
        const wt = onehot.mul(opts.mixLabels === false ? (j === 0 ? 1 : 0) : lambda[j]);
        ts = ts ? ts.add(wt) : wt;
      }
      for (let j = d + 1; j < kp.length; j++) kp[j].dispose();
      x.dispose();
      y.dispose();
      return { x: xs!, y: ts! };
    },
  };
}
