/**
 * The nonlinear teacher of Advani, Saxe & Sompolinsky (Neural Networks 2020, arXiv 1710.03667, Fig. 7): a two-layer
 * ReLU teacher plus label noise, learned by a two-layer ReLU student whose hidden layer is random and frozen and whose
 * output weights are trained by gradient flow. Only the h output weights are free parameters, so the student is a
 * linear model on random ReLU features and its gradient flow is solved exactly, as in linearDynamics.ts, in the
 * eigenbasis of the features' Gram matrix (float64). The paper's finding: overtraining peaks where the free
 * parameters equal the samples (h = P) and very wide students overtrain less; near the origin the features'
 * spectrum looks like a rescaled Marchenko–Pastur density (a gap for h < P, none at h = P, an atom at 0 for h > P).
 *
 * Conventions (the linear model's, linearDynamics.ts): inputs x ~ N(0, I/N_in); the teacher's clean output is
 * centred and scaled to variance σ_w̄² = SNR/(SNR + 1) on a reference sample, label noise σ_ε² = 1/(SNR + 1);
 * student features φ_j(x) = ReLU(w_j·x)/√h with w_j ~ N(0, I); loss ½‖y − Φa‖² from a = 0;
 * E_g(t) = E(f_t(x) − y)² over fresh (x, y) = mean over the test inputs of (f_t − y_clean)² + σ_ε².
 * Host side only: typed arrays (the teacher and features are drawn with jax-js keys).
 */
import { gram64, matmul64, symEig, transpose64 } from "../core/linalg.ts";
import { normalFromKey, splitKey, type Key } from "../core/prng.ts";
import { teacherVariances } from "./linearDynamics.ts";

/** A two-layer ReLU teacher y = scale·(Σ_k a_k ReLU(W_k·x) − offset) with N_in inputs and `hidden` units. */
export type ReluTeacher = { nIn: number; hidden: number; W: Float64Array; a: Float64Array; offset: number; scale: number; noise: number };

const reluLayer = (X: Float64Array, n: number, W: Float64Array, h: number, nIn: number, norm: number): Float64Array => {
  const Z = matmul64(X, transpose64(W, h, nIn), n, nIn, h);
  for (let i = 0; i < Z.length; i++) Z[i] = Z[i] > 0 ? Z[i] * norm : 0;
  return Z;
};

/** n inputs x ~ N(0, I/N_in), rows of an n × N_in array (`key` consumed). */
export function drawInputs(n: number, nIn: number, key: Key): Float64Array {
  const x = normalFromKey(key, n * nIn);
  const s = 1 / Math.sqrt(nIn);
  for (let i = 0; i < x.length; i++) x[i] *= s;
  return x;
}

/**
 * A teacher with W, a ~ N(0, 1), centred and scaled on `reference` fresh inputs so that its clean output has mean 0
 * and variance SNR/(SNR + 1); label noise 1/(SNR + 1) (`key` consumed).
 */
export function drawReluTeacher(o: { nIn: number; hidden: number; snr: number; reference?: number }, key: Key): ReluTeacher {
  const { nIn, hidden } = o;
  if (!(Number.isInteger(nIn) && nIn >= 1 && Number.isInteger(hidden) && hidden >= 1)) throw new RangeError(`relu teacher: expected integers N_in, hidden ≥ 1, got ${nIn}, ${hidden}`);
  const n = o.reference ?? 20000;
  const [kw, ka, kr] = splitKey(key, 3);
  const W = normalFromKey(kw, hidden * nIn), a = normalFromKey(ka, hidden);
  const raw = reluLayer(drawInputs(n, nIn, kr), n, W, hidden, nIn, 1);
  let m = 0, m2 = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < hidden; k++) s += raw[i * hidden + k] * a[k];
    m += s / n;
    m2 += (s * s) / n;
  }
  const sd = Math.sqrt(Math.max(m2 - m * m, 0));
  if (!(sd > 0)) throw new RangeError("relu teacher: the drawn teacher's output is constant on the reference sample");
  const { teacher, noise } = teacherVariances(o.snr);
  return { nIn, hidden, W, a, offset: m, scale: Math.sqrt(teacher) / sd, noise };
}

/** The teacher's clean outputs on n inputs (rows of X). */
export function teacherOutputs(t: ReluTeacher, X: Float64Array, n: number): Float64Array {
  const H = reluLayer(X, n, t.W, t.hidden, t.nIn, 1);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < t.hidden; k++) s += H[i * t.hidden + k] * t.a[k];
    y[i] = t.scale * (s - t.offset);
  }
  return y;
}

/** Random ReLU features ReLU(X Wᵀ)/√h of n inputs (n × h) for a frozen first layer W (h × N_in). */
export function reluFeatures(X: Float64Array, n: number, W: Float64Array, h: number, nIn: number): Float64Array {
  return reluLayer(X, n, W, h, nIn, 1 / Math.sqrt(h));
}

/**
 * The modes of a linear model on features F (P × h) with targets y, for gradient flow on ½‖y − Fa‖² from a = 0:
 * eigenvalues λ_k > 0 of FᵀF, β_k = u_kᵀy (u_k the left singular vectors), the test predictions per unit mode
 * g_k = F_test v_k/σ_k (columns of G, T × K, row-major), ‖y‖² outside F's column space, and the test targets.
 * The eigendecomposition is of the smaller Gram matrix (FᵀF for h ≤ P, FFᵀ otherwise), float64; eigenvalues
 * below 1e-12 of the largest count as zero (those directions never move: the frozen subspace).
 */
export type FeatureModes = { P: number; h: number; T: number; lam: Float64Array; beta: Float64Array; G: Float64Array; yPerp2: number; yTest: Float64Array; noise: number };

export function featureModes(o: { F: Float64Array; y: Float64Array; Ftest: Float64Array; yTest: Float64Array; P: number; h: number; noise: number }): FeatureModes {
  const { F, y, Ftest, yTest, P, h } = o;
  const T = yTest.length;
  if (F.length !== P * h || y.length !== P || Ftest.length !== T * h) throw new RangeError(`feature modes: F is ${F.length} (expected ${P} × ${h}), y ${y.length}, F_test ${Ftest.length} (expected ${T} × ${h})`);
  const lam: number[] = [];
  const beta: number[] = [];
  const cols: Float64Array[] = [];
  if (h <= P) {
    const Ft = transpose64(F, P, h);
    const { values, vectors } = symEig(gram64(Ft, h, P), h);
    const Fty = matmul64(Ft, y, h, P, 1);
    const Gall = matmul64(Ftest, vectors, T, h, h);
    const cut = 1e-12 * Math.max(values[h - 1], 0);
    for (let k = 0; k < h; k++) {
      if (!(values[k] > cut)) continue;
      const s = Math.sqrt(values[k]);
      let b = 0;
      for (let i = 0; i < h; i++) b += vectors[i * h + k] * Fty[i];
      lam.push(values[k]);
      beta.push(b / s);
      cols.push(Float64Array.from({ length: T }, (_, r) => Gall[r * h + k] / s));
    }
  } else {
    const { values, vectors } = symEig(gram64(F, P, h), P);
    const K = matmul64(Ftest, transpose64(F, P, h), T, h, P); // T × P test–train kernel
    const KU = matmul64(K, vectors, T, P, P);
    const cut = 1e-12 * Math.max(values[P - 1], 0);
    for (let k = 0; k < P; k++) {
      if (!(values[k] > cut)) continue;
      let b = 0;
      for (let p = 0; p < P; p++) b += vectors[p * P + k] * y[p];
      lam.push(values[k]);
      beta.push(b);
      cols.push(Float64Array.from({ length: T }, (_, r) => KU[r * P + k] / values[k]));
    }
  }
  const Kn = lam.length;
  const G = new Float64Array(T * Kn);
  cols.forEach((c, k) => c.forEach((v, r) => (G[r * Kn + k] = v)));
  const yPerp2 = Math.max(0, y.reduce((s, v) => s + v * v, 0) - beta.reduce((s, b) => s + b * b, 0));
  return { P, h, T, lam: Float64Array.from(lam), beta: Float64Array.from(beta), G, yPerp2, yTest, noise: o.noise };
}

/**
 * Test error E_g(t) (mean over the test inputs of (f_t − y_clean)², plus σ_ε²) and training error (mean squared
 * residual) at each time of the exact gradient flow: mode k's output-weight coefficient is β_k(1 − e^{−λ_k t})/σ_k.
 * `floor` (> 0) is the negative control's student: trained on features F' = U·diag(σ'_k)·Vᵀ with σ'_k² =
 * max(λ_k, floor) (the same singular vectors and targets; only the eigenvalues below the floor are lifted), so mode k's
 * coefficient is β_k(1 − e^{−σ'_k² t})/σ'_k, and tested on the real test features; its training error is its own.
 */
export function featureFlowCurves(m: FeatureModes, times: number[], floor = 0): { test: number[]; train: number[] } {
  const K = m.lam.length;
  const test: number[] = [];
  const train: number[] = [];
  const c = new Float64Array(K);
  for (const t of times) {
    let tr = m.yPerp2;
    for (let k = 0; k < K; k++) {
      const l = Math.max(m.lam[k], floor);
      const e = t === Infinity ? 0 : Math.exp(-l * t);
      // test prediction per unit g_k: σ_k × (coefficient on v_k)
      c[k] = m.beta[k] * (1 - e) * Math.sqrt(m.lam[k] / l);
      tr += (m.beta[k] * e) ** 2;
    }
    let g = 0;
    for (let r = 0; r < m.T; r++) {
      let f = 0;
      for (let k = 0; k < K; k++) f += m.G[r * K + k] * c[k];
      g += (f - m.yTest[r]) ** 2;
    }
    test.push(g / m.T + m.noise);
    train.push(tr / m.P);
  }
  return { test, train };
}

/** The control's floor: a quarter of the median nonzero eigenvalue (the bulk's scale; the spike of the ReLU mean excluded). */
export function spectrumFloor(m: FeatureModes, fraction = 0.25): number {
  if (!m.lam.length) return 0;
  const s = [...m.lam].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return fraction * (s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2);
}
