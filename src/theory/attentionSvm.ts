/**
 * Transformers as support vector machines (Tarzanagh, Li, Thrampoulidis, Oymak 2023, arXiv 2308.16898): one-layer
 * softmax cross-attention trained by normalised gradient descent, and the attention SVMs its key-query matrix
 * converges to in direction. The set-up follows the official notebook (umich-sota/TF-as-SVM, base.py and
 * local_converge.ipynb, as summarised in specs-23-45.md §22): logits a_it = z_iᵀ W x_it, output
 * f_i = Σ_t softmax(a_i)_t x_itᵀv with v fixed, loss mean_i log(1 + exp(−y_i f_i)); W-parametrization, or
 * W = QᵀK with each factor's gradient normalised separately and the regulariser λ(‖K‖²_F + ‖Q‖²_F).
 *
 * Att-SVM: W^mm = argmin ‖W‖ s.t. ⟨A_k, W⟩ ≥ 1 for every sequence i and token t ≠ α_i, with A_k = z_i(x_iα − x_it)ᵀ
 * and α_i the token the trained model attends to most. Frobenius norm: exact, by dual coordinate ascent.
 * Nuclear norm: proximal gradient with singular-value soft-thresholding on ‖W‖_* + (ρ/2)Σ max(0, 1 − ⟨A_k, W⟩)².
 * Host float64 (the matrices are d × d with d ≈ 10); draws from jax-js PRNG keys.
 */
import { random } from "@jax-js/jax";
import { matmul64, svd, transpose64 } from "../core/linalg.ts";
import { splitKey, type Key } from "../core/prng.ts";

/** n sequences of T tokens in ℝ^d (x: n × T × d), cross inputs z (n × d), labels y ∈ {±1}, the fixed head v. */
export type AttentionData = { n: number; T: number; d: number; x: Float64Array; z: Float64Array; y: Float64Array; v: Float64Array };

const unit = (a: Float64Array, off: number, d: number) => {
  let s = 0;
  for (let j = 0; j < d; j++) s += a[off + j] ** 2;
  const r = Math.sqrt(s);
  for (let j = 0; j < d; j++) a[off + j] /= r;
};

/** Tokens and cross inputs uniform on the unit sphere, v a random unit vector, y = ±1 at random. Consumes `key`. */
export async function attentionData(n: number, T: number, d: number, key: Key): Promise<AttentionData> {
  const [kx, kz, kv, ky] = splitKey(key, 4);
  const x = Float64Array.from((await random.normal(kx, [n * T, d]).data()) as Float32Array);
  for (let k = 0; k < n * T; k++) unit(x, k * d, d);
  const z = Float64Array.from((await random.normal(kz, [n, d]).data()) as Float32Array);
  for (let i = 0; i < n; i++) unit(z, i * d, d);
  const v = Float64Array.from((await random.normal(kv, [d]).data()) as Float32Array);
  unit(v, 0, d);
  const y = Float64Array.from((await random.uniform(ky, [n]).data()) as Float32Array, (u) => (u < 0.5 ? -1 : 1));
  return { n, T, d, x, z, y, v };
}

/** Softmax attention of every sequence under W (d × d): probabilities (n × T). */
export function attention(data: AttentionData, W: Float64Array): Float64Array {
  const { n, T, d, x, z } = data;
  const s = new Float64Array(n * T);
  const zw = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    zw.fill(0);
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) zw[b] += z[i * d + a] * W[a * d + b];
    let max = -Infinity;
    for (let t = 0; t < T; t++) {
      let logit = 0;
      for (let b = 0; b < d; b++) logit += zw[b] * x[(i * T + t) * d + b];
      s[i * T + t] = logit;
      max = Math.max(max, logit);
    }
    let sum = 0;
    for (let t = 0; t < T; t++) sum += (s[i * T + t] = Math.exp(s[i * T + t] - max));
    for (let t = 0; t < T; t++) s[i * T + t] /= sum;
  }
  return s;
}

export type AttentionLoss = "logistic" | "squared";

/** The loss and its gradient in W: logistic mean log(1 + e^{−y f}) (the paper) or squared ½·mean (f − y)² (the control). */
export function lossAndGrad(data: AttentionData, W: Float64Array, loss: AttentionLoss = "logistic"): { loss: number; grad: Float64Array } {
  const { n, T, d, x, z, y, v } = data;
  const s = attention(data, W);
  const G = new Float64Array(d * d);
  let total = 0;
  const u = new Float64Array(T);
  const xs = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    let f = 0;
    for (let t = 0; t < T; t++) {
      let ut = 0;
      for (let b = 0; b < d; b++) ut += x[(i * T + t) * d + b] * v[b];
      u[t] = ut;
      f += s[i * T + t] * ut;
    }
    let dldf: number;
    if (loss === "logistic") {
      const m = -y[i] * f;
      total += (m > 0 ? m + Math.log1p(Math.exp(-m)) : Math.log1p(Math.exp(m))) / n;
      dldf = (-y[i] / (1 + Math.exp(-m))) / n; // −y σ(−y f) / n
    } else {
      total += (0.5 * (f - y[i]) ** 2) / n;
      dldf = (f - y[i]) / n;
    }
    // ∂L/∂W = Σ_i dL/df_i Σ_t s_t (u_t − f_i) z_i x_tᵀ
    xs.fill(0);
    for (let t = 0; t < T; t++) {
      // u_t − f = Σ_{t′} s_{t′}(u_t − u_{t′}), summed without cancellation: once the softmax saturates, u_α − f is
      // ~e^{−margin} while u_α and f agree to 16 digits, and the plain difference would be rounding noise that
      // normalised GD then follows.
      let dev = 0;
      for (let r = 0; r < T; r++) if (r !== t) dev += s[i * T + r] * (u[t] - u[r]);
      const c = dldf * s[i * T + t] * dev;
      for (let b = 0; b < d; b++) xs[b] += c * x[(i * T + t) * d + b];
    }
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) G[a * d + b] += z[i * d + a] * xs[b];
  }
  return { loss: total, grad: G };
}

const frob = (a: Float64Array) => Math.sqrt(a.reduce((s, x) => s + x * x, 0));

/** ⟨W₁, W₂⟩ / (‖W₁‖_F ‖W₂‖_F). */
export function matrixCorrelation(a: Float64Array, b: Float64Array): number {
  return a.reduce((s, x, i) => s + x * b[i], 0) / (frob(a) * frob(b));
}

/** torch.nn.Linear's initialisation: U(−1/√d, 1/√d) entries (d × d). Consumes `key`. */
export async function linearInit(d: number, key: Key): Promise<Float64Array> {
  return Float64Array.from((await random.uniform(key, [d, d]).data()) as Float32Array, (u) => (2 * u - 1) / Math.sqrt(d));
}

/** Normalised GD on W: W ← W − η ∇L/‖∇L‖_F. Returns the final W and the logged iterates' W (every `every` steps). */
export function trainW(data: AttentionData, W0: Float64Array, o: { steps: number; lr: number; loss?: AttentionLoss; every?: number }): { W: Float64Array; trace: Float64Array[] } {
  const W = Float64Array.from(W0);
  const trace: Float64Array[] = [];
  const every = o.every ?? 100;
  for (let k = 1; k <= o.steps; k++) {
    const { grad } = lossAndGrad(data, W, o.loss);
    const g = frob(grad);
    if (g === 0) break;
    for (let j = 0; j < W.length; j++) W[j] -= (o.lr * grad[j]) / g;
    if (k % every === 0 || k === o.steps) trace.push(Float64Array.from(W));
  }
  return { W, trace };
}

/**
 * Normalised GD on W = QᵀK: ∂L/∂Q = K Gᵀ, ∂L/∂K = Q G (G = ∂L/∂W), plus 2λ·factor, each factor's gradient
 * normalised separately. Returns the final W = QᵀK and the logged W's.
 */
export function trainKQ(data: AttentionData, K0: Float64Array, Q0: Float64Array, o: { steps: number; lr: number; lambda: number; every?: number }): { W: Float64Array; trace: Float64Array[] } {
  const d = data.d;
  const K = Float64Array.from(K0);
  const Q = Float64Array.from(Q0);
  const trace: Float64Array[] = [];
  const every = o.every ?? 100;
  let W = matmul64(transpose64(Q, d, d), K, d, d, d);
  for (let k = 1; k <= o.steps; k++) {
    const { grad } = lossAndGrad(data, W);
    const gQ = matmul64(K, transpose64(grad, d, d), d, d, d);
    const gK = matmul64(Q, grad, d, d, d);
    for (let j = 0; j < d * d; j++) {
      gQ[j] += 2 * o.lambda * Q[j];
      gK[j] += 2 * o.lambda * K[j];
    }
    const nq = frob(gQ);
    const nk = frob(gK);
    for (let j = 0; j < d * d; j++) {
      if (nq > 0) Q[j] -= (o.lr * gQ[j]) / nq;
      if (nk > 0) K[j] -= (o.lr * gK[j]) / nk;
    }
    W = matmul64(transpose64(Q, d, d), K, d, d, d);
    if (k % every === 0 || k === o.steps) trace.push(Float64Array.from(W));
  }
  return { W, trace };
}

/** The Att-SVM constraints A_k = z_i(x_iα − x_it)ᵀ (t ≠ α_i), α_i the most attended token under W. */
export function svmConstraints(data: AttentionData, W: Float64Array): { A: Float64Array[]; selected: Int32Array } {
  const { n, T, d, x, z } = data;
  const s = attention(data, W);
  const selected = new Int32Array(n);
  const A: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let t = 1; t < T; t++) if (s[i * T + t] > s[i * T + best]) best = t;
    selected[i] = best;
    for (let t = 0; t < T; t++) {
      if (t === best) continue;
      const Ak = new Float64Array(d * d);
      for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) Ak[a * d + b] = z[i * d + a] * (x[(i * T + best) * d + b] - x[(i * T + t) * d + b]);
      A.push(Ak);
    }
  }
  return { A, selected };
}

const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, x, i) => s + x * b[i], 0);

/**
 * Frobenius Att-SVM by dual coordinate ascent on max Σλ_k − ½‖Σλ_k A_k‖²_F, λ ≥ 0 (W = Σλ_k A_k), until the
 * largest constraint violation and complementary-slackness gap are below `tol`. Throws if not converged.
 */
export function frobeniusSvm(A: Float64Array[], tol = 1e-10, maxSweeps = 200000): { W: Float64Array; minMargin: number; sweeps: number } {
  const size = A[0].length;
  const lambda = new Float64Array(A.length);
  const W = new Float64Array(size);
  const norms = A.map((a) => dot(a, a));
  for (let sweep = 1; sweep <= maxSweeps; sweep++) {
    let change = 0;
    for (let k = 0; k < A.length; k++) {
      const next = Math.max(0, lambda[k] + (1 - dot(A[k], W)) / norms[k]);
      const delta = next - lambda[k];
      if (delta !== 0) {
        for (let j = 0; j < size; j++) W[j] += delta * A[k][j];
        lambda[k] = next;
        change = Math.max(change, Math.abs(delta) * Math.sqrt(norms[k]));
      }
    }
    if (change < tol) {
      const minMargin = Math.min(...A.map((a) => dot(a, W)));
      return { W, minMargin, sweeps: sweep };
    }
  }
  throw new RangeError(`frobeniusSvm: dual coordinate ascent did not converge in ${maxSweeps} sweeps`);
}

/**
 * Nuclear-norm Att-SVM, penalised: accelerated proximal gradient (FISTA) on ‖W‖_* + (ρ/2) Σ_k max(0, 1 − ⟨A_k, W⟩)²,
 * the prox of the nuclear norm being singular-value soft-thresholding. The step is 1/(ρ‖Σ_k A_k ⊗ A_k‖), the
 * penalty gradient's Lipschitz constant (its operator norm by power iteration). Stops when an iteration changes W
 * by less than `tol` relatively; returns W, the smallest margin (→ 1 as ρ → ∞) and the last relative change.
 */
export function nuclearSvm(A: Float64Array[], d: number, o: { rho?: number; iterations?: number; tol?: number } = {}): { W: Float64Array; minMargin: number; change: number; iterations: number } {
  const rho = o.rho ?? 1e3;
  const maxIt = o.iterations ?? 100000;
  const tol = o.tol ?? 1e-11;
  const size = d * d;
  // ‖M‖ for M(W) = Σ⟨A_k, W⟩A_k, by power iteration
  let q: Float64Array = new Float64Array(size).fill(1 / d);
  let lip = 0;
  for (let it = 0; it < 200; it++) {
    const next = new Float64Array(size);
    for (const a of A) {
      const c = dot(a, q);
      for (let j = 0; j < size; j++) next[j] += c * a[j];
    }
    lip = frob(next);
    q = next.map((x) => x / lip);
  }
  const step = 1 / (rho * lip);
  let W: Float64Array = new Float64Array(size);
  let Y: Float64Array = new Float64Array(size);
  let t = 1;
  let change = Infinity;
  let it = 0;
  for (; it < maxIt && change > tol; it++) {
    const G = new Float64Array(size);
    for (const a of A) {
      const slack = 1 - dot(a, Y);
      if (slack > 0) for (let j = 0; j < size; j++) G[j] -= rho * slack * a[j];
    }
    const { u, s, v, k } = svd(Y.map((y, j) => y - step * G[j]), d, d);
    const shrunk = Array.from(s, (x) => Math.max(0, x - step));
    const next = matmul64(Float64Array.from(u, (x, idx) => x * shrunk[idx % k]), transpose64(v, d, k), d, k, d);
    const tNext = (1 + Math.sqrt(1 + 4 * t * t)) / 2;
    Y = next.map((x, j) => x + ((t - 1) / tNext) * (x - W[j]));
    change = frob(next.map((x, j) => x - W[j])) / Math.max(frob(next), 1e-300);
    W = next;
    t = tNext;
  }
  return { W, minMargin: Math.min(...A.map((a) => dot(a, W))), change, iterations: it };
}
