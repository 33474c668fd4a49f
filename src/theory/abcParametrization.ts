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
 *
 * `lrSweep` trains one network per (learning rate, initialisation) side by side in batched matmuls and returns
 * each one's final training loss: the learning-rate curves of μP's transfer across widths (Tensor Programs V,
 * Yang et al. 2022, Fig. 1). `lrWidthExponent` is what Thm 3.3 predicts for them: the smallest s ≥ 0 that makes
 * the parametrization stable with learning rate η·n^{−c−s}, so that the largest stable η scales like n^{−s}.
 */
import { blockUntilReady, grad, jit, numpy as np, random, type Array as JaxArray } from "@jax-js/jax";
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

/**
 * The width exponent of the largest stable learning rate predicted by Thm 3.3: the smallest s ≥ 0 (to 1/1024)
 * with `isStable({ ...p, c: p.c + s })` — η_max ∝ n^{−s}. 0 for μP and NTK, 1 for SP with c = 0 (which needs
 * c = 1). NaN when no learning-rate exponent up to s = 4 makes p stable (a layer's a + b is wrong).
 */
export function lrWidthExponent(p: Abc): number {
  const ok = (s: number) => isStable({ ...p, c: p.c + s });
  if (ok(0)) return 0;
  if (!ok(4)) return NaN;
  let lo = 0;
  let hi = 4; // every condition that involves c is monotone in it: stable at hi, not at lo
  while (hi - lo > 1 / 1024) {
    const mid = (lo + hi) / 2;
    if (ok(mid)) hi = mid;
    else lo = mid;
  }
  return Math.round(hi * 1024) / 1024;
}

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

/**
 * Train lrs.length × inits ReLU MLPs d → n (× L hidden layers) → 1 in parametrization p side by side (batched
 * matmuls), each by `steps` steps of full-batch GD (rate lr·n^{−c}, loss ½·mean (f − y)²) on (x: B × d, y: B).
 * Initialisation j is the same draw for every learning rate (common random numbers: the curves over η are not
 * blurred by the initialisations), from `key` (consumed). Returns the final training loss of each network,
 * loss[i][j] for lrs[i] and initialisation j; Infinity where training diverged (a non-finite loss).
 */
export async function lrSweep(p: Abc, width: number, x: Float32Array<ArrayBuffer>, y: Float32Array<ArrayBuffer>, d: number, steps: number, lrs: number[], inits: number, key: Key): Promise<number[][]> {
  const L = p.a.length - 1;
  const B = y.length;
  const nl = lrs.length;
  const K = nl * inits;
  const dims = [d, ...Array(L).fill(width), 1];
  const mult = p.a.map((a) => width ** -a);
  const keys = splitKey(key, L + 1);
  let ws: Weights = keys.map((k, l) => np.broadcastTo(random.normal(k, [1, inits, dims[l], dims[l + 1]]).mul(width ** -p.b[l]), [nl, inits, dims[l], dims[l + 1]]).reshape([K, dims[l], dims[l + 1]]));
  const X = np.broadcastTo(np.array(x, { shape: [1, B, d] }), [K, B, d]);
  const Y = np.broadcastTo(np.array(y, { shape: [1, B, 1] }), [K, B, 1]);
  const rate = np.array(Float32Array.from({ length: K }, (_, k) => lrs[Math.floor(k / inits)] * width ** -p.c), { shape: [K, 1, 1] });
  const outOf = (wts: Weights, xb: JaxArray) => {
    let h = xb;
    for (let l = 0; l < L; l++) h = np.maximum(np.matmul(h, wts[l]).mul(mult[l]), 0);
    return np.matmul(h, wts[L]).mul(mult[L]); // K × B × 1
  };
  // The sum of the K networks' losses: its gradient in network k's weights is network k's own gradient.
  const total = (wts: Weights, xb: JaxArray, yb: JaxArray) => {
    const r = outOf(wts, xb).sub(yb);
    return r.ref.mul(r).sum().mul(0.5 / B);
  };
  const step = jit((wts: Weights, xb: JaxArray, yb: JaxArray, eta: JaxArray) => {
    const g = grad(total)(wts.map((w) => w.ref), xb, yb) as Weights;
    const out = wts.map((w, l) => w.sub(g[l].mul(eta.ref)));
    eta.dispose();
    return out;
  });
  try {
    for (let t = 0; t < steps; t++) {
      ws = step(ws, X.ref, Y.ref, rate.ref);
      if ((t + 1) % 32 === 0) await blockUntilReady(ws); // jax-js is lazy: drain the queue every few dozen steps
    }
    const r = outOf(ws, X).sub(Y);
    const per = (await r.ref.mul(r).mean([1, 2]).mul(0.5).data()) as Float32Array;
    return lrs.map((_, i) => Array.from({ length: inits }, (_, j) => (Number.isFinite(per[i * inits + j]) ? per[i * inits + j] : Infinity)));
  } finally {
    rate.dispose();
    step.dispose();
  }
}

/** Least-squares slope of y against x. */
export function lsSlope(x: number[], y: number[]): number {
  const mx = x.reduce((a, b) => a + b, 0) / x.length;
  const my = y.reduce((a, b) => a + b, 0) / y.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < x.length; i++) {
    num += (x[i] - mx) * (y[i] - my);
    den += (x[i] - mx) ** 2;
  }
  return num / den;
}

/** Least-squares slope of log y against log x. */
export function logLogSlope(x: number[], y: number[]): number {
  return lsSlope(x.map(Math.log), y.map(Math.log));
}
