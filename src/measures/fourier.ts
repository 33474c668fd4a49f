/**
 * Fourier inverse participation ratio (IPR) of weight vectors over Z_p, Doshi et al. (ICLR 2024) Eq. 3–4
 * with r = 2 and their code's convention x̃ = |rfft(x)|:
 *
 *   IPR(x) = Σ_j |x̃_j|⁴ / (Σ_j |x̃_j|²)²,   j = 0 … ⌊p/2⌋.
 *
 * A pure cosine cos(2πk·m/p + φ) has one non-zero coefficient, so IPR = 1; a one-hot vector has a flat
 * spectrum, IPR = 1/(⌊p/2⌋ + 1); Gaussian noise is near that floor. High-IPR ("periodic") neurons carry the
 * generalising Fourier solution of modular arithmetic, low-IPR ones memorise (their Sec. 2.1).
 *
 * The rfft is two matmuls with cosine and sine tables, so it runs inside jit and on every backend.
 */
import { numpy as np, type Array } from "@jax-js/jax";
import type { MlpParams } from "../nn/dense.ts";
import type { Monitor } from "../train/monitors.ts";

/** Number of rfft coefficients of a length-p signal. */
export const rfftSize = (p: number): number => Math.floor(p / 2) + 1;

/** [p, ⌊p/2⌋+1] tables cos(2πjm/p) and sin(2πjm/p) (host float32). */
export function dftTables(p: number): { cos: Float32Array<ArrayBuffer>; sin: Float32Array<ArrayBuffer> } {
  const k = rfftSize(p);
  const cos = new Float32Array(p * k);
  const sin = new Float32Array(p * k);
  for (let m = 0; m < p; m++)
    for (let j = 0; j < k; j++) {
      const t = (2 * Math.PI * ((j * m) % p)) / p;
      cos[m * k + j] = Math.cos(t);
      sin[m * k + j] = Math.sin(t);
    }
  return { cos, sin };
}

/** |rfft(x)|² of each row of x [r, p] → [r, ⌊p/2⌋+1]. Consumes x. */
export function rfftPower(x: Array): Array {
  const p = x.shape[x.ndim - 1];
  const k = rfftSize(p);
  const t = dftTables(p);
  const c = np.matmul(x.ref, np.array(t.cos, { shape: [p, k], dtype: x.dtype }));
  const s = np.matmul(x, np.array(t.sin, { shape: [p, k], dtype: x.dtype }));
  return np.square(c).add(np.square(s));
}

/**
 * IPR of each row of x [r, p] → [r]. A zero row (a pruned or padded unit) has IPR 0 by convention
 * instead of 0/0. Consumes x.
 */
export function fourierIpr(x: Array): Array {
  const pow = rfftPower(x);
  const num = np.square(pow.ref).sum(-1);
  const den = np.square(pow.sum(-1));
  return num.div(np.maximum(den, 1e-30));
}

export type ModularLayout = {
  /** The modulus: the length of each vector whose spectrum is taken. */
  p: number;
  /** Row of the first layer's weight where the second operand's one-hot block starts (its padded width). */
  vOffset: number;
  /** True hidden width N (columns beyond it are storage padding). */
  hidden: number;
};

/**
 * Per-neuron IPR of Doshi et al.'s network f(m, n) = W φ(U e_m + V e_n), stored as a bias-free 2-layer
 * MLP on [onehot(m) | onehot(n)]: U_k = w₀[0:p, k], V_k = w₀[vOffset : vOffset+p, k], W_·k = w₁[k, 0:p],
 * and IPR_k = (IPR(U_k) + IPR(V_k) + IPR(W_·k)) / 3 (their `calculate_ipr` averaged over the three).
 * Returns [N]. Consumes params.
 */
export function modularNeuronIpr(params: MlpParams, layout: ModularLayout): Array {
  const { p, vOffset, hidden } = layout;
  if (params.layers.length !== 2) throw new RangeError(`modularNeuronIpr expects a 2-layer network, got ${params.layers.length} layers`);
  const [w0, w1] = [params.layers[0].w, params.layers[1].w];
  if (w0.shape[0] < vOffset + p || w0.shape[1] < hidden || w1.shape[0] < hidden || w1.shape[1] < p) {
    const shapes = `w₀ [${w0.shape}], w₁ [${w1.shape}]`;
    for (const l of params.layers) l.w.dispose(), l.b?.dispose();
    throw new RangeError(`modularNeuronIpr: the layout (p ${p}, vOffset ${vOffset}, hidden ${hidden}) does not fit ${shapes}`);
  }
  for (const l of params.layers) l.b?.dispose();
  const u = w0.ref.slice([0, p], [0, hidden]).transpose();
  const v = w0.slice([vOffset, vOffset + p], [0, hidden]).transpose();
  const w = w1.slice([0, hidden], [0, p]);
  return fourierIpr(u).add(fourierIpr(v)).add(fourierIpr(w)).div(3);
}

/** Summary statistics of a vector of per-neuron IPRs: mean and the fractions below `lo` and above `hi`. */
export function iprSummary(ipr: Array, lo = 0.1, hi = 0.5): { ipr_mean: Array; ipr_frac_lo: Array; ipr_frac_hi: Array } {
  const f = ipr.dtype;
  return {
    ipr_mean: ipr.ref.mean(),
    ipr_frac_lo: ipr.ref.less(lo).astype(f).mean(),
    ipr_frac_hi: ipr.greater(hi).astype(f).mean(),
  };
}

/**
 * A training monitor: per-neuron Fourier IPR summarised as `ipr_mean`, `ipr_frac_lo` (IPR < 0.1, the
 * memorising neurons) and `ipr_frac_hi` (IPR > 0.5, periodic) at every log step. Attach it to any
 * ctx.train of a 2-layer network on one-hot modular inputs.
 */
export function fourierIprMonitor(layout: ModularLayout): Monitor {
  return { id: "fourier_ipr", measure: (params) => iprSummary(modularNeuronIpr(params as MlpParams, layout)) };
}
