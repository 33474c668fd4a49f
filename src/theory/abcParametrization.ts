/**
 * abc-parametrizations of an MLP and the coordinate check (Yang & Hu 2021, "Feature Learning in Infinite-Width
 * Neural Networks", Tensor Programs IV, §3 and §5): with width n, layer l ∈ 1…L+1 computes with
 * W^l = n^{−a_l} w^l, trains w^l ~ N(0, n^{−2b_l}) by SGD with learning rate η·n^{−c}. Stability (Thm 3.3) and the
 * feature-learning index r (r = 0: features evolve at infinite width; r > 0: kernel regime) are as in the spec
 * (specs-23-45.md §14; r's exact form is marked unverified there and is checked here only on the named
 * parametrizations: r = 0 for μP, ½ for NTK and for SP with c = 1).
 *
 * `coordinateCheck` trains a ReLU MLP d → n → … → n → 1 for a few SGD steps on a fixed batch and measures the
 * RMS change of the last hidden layer's activations, Δh^L_rms, and the output's RMS at initialisation: μP keeps
 * Δh^L Θ(1) in n, NTK and SP(c = 1) shrink it like n^{−1/2}, SP(c = 0) grows it. jax-js, float32.
 */
import { grad, numpy as np, random, type Array as JaxArray } from "@jax-js/jax";
import { splitKey, type Key } from "../core/prng.ts";

/** Per-layer exponents a_l, b_l (l = 1…L+1, input layer first) and the learning-rate exponent c. */
export type Abc = { a: number[]; b: number[]; c: number };

/** The named parametrizations for L hidden layers (L + 1 weight matrices), spec §14. */
export const NAMED_ABC = {
  mup: (L: number): Abc => ({ a: [-0.5, ...Array(L - 1).fill(0), 0.5], b: Array(L + 1).fill(0.5), c: 0 }),
  ntk: (L: number): Abc => ({ a: [0, ...Array(L).fill(0.5)], b: Array(L + 1).fill(0), c: 0 }),
  sp: (L: number, c: number): Abc => ({ a: Array(L + 1).fill(0), b: [0, ...Array(L).fill(0.5)], c }),
};

/** Thm 3.3's conditions for a stable parametrization (given r ≥ 0 from `featureLearningIndex`). */
export function isStable(p: Abc): boolean {
  const L = p.a.length - 1;
  const eq = (x: number, y: number) => Math.abs(x - y) < 1e-12;
  if (!eq(p.a[0] + p.b[0], 0)) return false;
  for (let l = 1; l < L; l++) if (!eq(p.a[l] + p.b[l], 0.5)) return false;
  const aOut = p.a[L];
  const bOut = p.b[L];
  const r = featureLearningIndex(p);
  return aOut + bOut >= 0.5 - 1e-12 && r >= -1e-12 && 2 * aOut + p.c >= 1 - 1e-12 && aOut + bOut + r >= 1 - 1e-12;
}

/** r = min(a_{L+1} + b_{L+1}, 2a_{L+1} + c) + c − 1 + min_{l ≤ L}(2a_l + 1[l = 1]) (spec §14; unverified form). */
export function featureLearningIndex(p: Abc): number {
  const L = p.a.length - 1;
  const inner = Math.min(...p.a.slice(0, L).map((a, l) => 2 * a + (l === 0 ? 1 : 0)));
  return Math.min(p.a[L] + p.b[L], 2 * p.a[L] + p.c) + p.c - 1 + inner;
}

type Weights = JaxArray[];

function forward(ws: Weights, mult: number[], x: JaxArray): { out: JaxArray; hidden: JaxArray } {
  let h = x;
  const L = ws.length - 1;
  for (let l = 0; l < L; l++) h = np.maximum(np.matmul(h, ws[l]).mul(mult[l]), 0);
  const hidden = h.ref;
  return { out: np.matmul(h, ws[L]).mul(mult[L]), hidden };
}

export type CoordinateResult = { width: number; deltaHidden: number; outputInit: number; finite: boolean };

/**
 * Train a ReLU MLP (input dimension d, `hidden` hidden layers of width n, scalar output) in parametrization p for
 * `steps` SGD steps (rate lr·n^{−c}, loss ½·mean (f − y)²) on the batch (x: B × d, y: B), from weights drawn with
 * `key` (consumed). Returns Δh^L_rms after the steps and the output's RMS at initialisation.
 */
export async function coordinateCheck(p: Abc, width: number, x: Float32Array<ArrayBuffer>, y: Float32Array<ArrayBuffer>, d: number, steps: number, lr: number, key: Key): Promise<CoordinateResult> {
  const L = p.a.length - 1;
  const B = y.length;
  const dims = [d, ...Array(L).fill(width), 1];
  const keys = splitKey(key, L + 1);
  let ws: Weights = keys.map((k, l) => random.normal(k, [dims[l], dims[l + 1]]).mul(width ** -p.b[l]));
  const mult = p.a.map((a) => width ** -a);
  const X = () => np.array(x, { shape: [B, d] });
  const Y = () => np.array(y, { shape: [B, 1] });
  const init = forward(ws.map((w) => w.ref), mult, X());
  const h0 = (await init.hidden.data()) as Float32Array;
  const o0 = (await init.out.data()) as Float32Array;
  const loss = (wts: Weights, xb: JaxArray, yb: JaxArray) => {
    const { out, hidden } = forward(wts, mult, xb);
    hidden.dispose();
    const r = out.sub(yb);
    return r.ref.mul(r).mean().mul(0.5);
  };
  const g = grad(loss);
  const rate = lr * width ** -p.c;
  for (let t = 0; t < steps; t++) {
    const grads = g(ws.map((w) => w.ref), X(), Y()) as Weights;
    ws = ws.map((w, l) => w.sub(grads[l].mul(rate)));
  }
  const after = forward(ws, mult, X());
  after.out.dispose();
  const h1 = (await after.hidden.data()) as Float32Array;
  let dh = 0;
  for (let i = 0; i < h1.length; i++) dh += (h1[i] - h0[i]) ** 2;
  let oi = 0;
  for (let i = 0; i < o0.length; i++) oi += o0[i] ** 2;
  const deltaHidden = Math.sqrt(dh / h1.length);
  return { width, deltaHidden, outputInit: Math.sqrt(oi / o0.length), finite: Number.isFinite(deltaHidden) };
}

/** Least-squares slope of log y against log x. */
export function logLogSlope(x: number[], y: number[]): number {
  const lx = x.map(Math.log);
  const ly = y.map(Math.log);
  const mx = lx.reduce((a, b) => a + b, 0) / lx.length;
  const my = ly.reduce((a, b) => a + b, 0) / ly.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < lx.length; i++) {
    num += (lx[i] - mx) * (ly[i] - my);
    den += (lx[i] - mx) ** 2;
  }
  return num / den;
}
