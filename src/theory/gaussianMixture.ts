/**
 * The Gaussian-mixture instance of "On the provable advantage of unsupervised pretraining" (Ge, Tang, Fan, Jin
 * 2023, arXiv 2303.01566; specs-01-22.md §19's optional GMM analog): x = μ_z + ε, ε ~ N(0, I_d), z uniform on K
 * components; the label is a function of the component (y = z mod 2). Pretraining is the MLE of the mixture by
 * EM on m unlabeled x (`gmmEm`: weights, means and one shared isotropic variance, k-means++ starts); the
 * downstream is L2-regularised logistic regression on the posterior responsibilities from n labels
 * (`logisticFit`, Newton's method in float64), against logistic regression on the raw x.
 *
 * `labels: "orthogonal"` makes the label y = 1[vᵀx > 0] along a unit v orthogonal to every mean instead: the
 * mixture then carries no information about the label (the negative control).
 */
import { random } from "@jax-js/jax";
import { choleskySolve, qr } from "../core/linalg.ts";
import { splitKey, type Key } from "../core/prng.ts";

export type Gmm = { d: number; K: number; /** K × d */ means: Float64Array; labels: "component" | "orthogonal"; /** unit, orthogonal to the means (labels "orthogonal") */ v: Float64Array | null };

/**
 * K ≥ 2 components in ℝ^d with means on orthonormal random directions q_k: ±radius·q₀ for K = 2 (the
 * symmetric pair, ‖μ₁ − μ₀‖ = 2·radius), radius·q_k for K ≥ 3. Consumes `key`.
 */
export async function drawGmm(o: { d: number; K: number; radius: number; labels: "component" | "orthogonal" }, key: Key): Promise<Gmm> {
  const { d, K } = o;
  const dirs = K === 2 ? 1 : K;
  if (!(Number.isInteger(d) && Number.isInteger(K) && K >= 2 && dirs + 1 <= d)) throw new RangeError(`Gaussian mixture: expected integers K ≥ 2 and d > ${dirs} (directions + 1), got d = ${d}, K = ${K}`);
  const G = Float64Array.from((await random.normal(key, [d, dirs + 1]).data()) as Float32Array);
  const { q } = qr(G, d, dirs + 1); // orthonormal columns: the means' directions, then v
  const means = new Float64Array(K * d);
  for (let k = 0; k < K; k++) for (let i = 0; i < d; i++) means[k * d + i] = K === 2 ? (k === 0 ? -1 : 1) * o.radius * q[i * (dirs + 1)] : o.radius * q[i * (dirs + 1) + k];
  const v = o.labels === "orthogonal" ? Float64Array.from({ length: d }, (_, i) => q[i * (dirs + 1) + dirs]) : null;
  return { d, K, means, labels: o.labels, v };
}

/** n samples: x (n × d), the components z and the labels y ∈ {0, 1}. Consumes `key`. */
export async function sampleGmm(g: Gmm, n: number, key: Key): Promise<{ x: Float64Array; z: Int32Array; y: Int32Array }> {
  const { d, K } = g;
  const [kz, ke] = splitKey(key, 2);
  const u = (await random.uniform(kz, [n]).data()) as Float32Array;
  const e = (await random.normal(ke, [n, d]).data()) as Float32Array;
  const x = new Float64Array(n * d);
  const z = new Int32Array(n);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = Math.min(K - 1, Math.floor(u[i] * K));
    z[i] = k;
    let s = 0;
    for (let j = 0; j < d; j++) {
      x[i * d + j] = g.means[k * d + j] + e[i * d + j];
      if (g.v) s += g.v[j] * x[i * d + j];
    }
    y[i] = g.v ? (s > 0 ? 1 : 0) : k % 2;
  }
  return { x, z, y };
}

export type GmmFit = { weights: Float64Array; /** K × d */ means: Float64Array; sigma2: number; logLik: number; iterations: number; converged: boolean; /** the last change of the mean log-likelihood */ change: number };

/** log of the posterior responsibilities (n × K) under a fitted mixture, and the mean log-likelihood. */
function eStep(f: Pick<GmmFit, "weights" | "means" | "sigma2">, x: Float64Array, n: number, d: number): { logR: Float64Array; meanLogLik: number } {
  const K = f.weights.length;
  const logR = new Float64Array(n * K);
  const c = -0.5 * d * Math.log(2 * Math.PI * f.sigma2);
  let ll = 0;
  for (let i = 0; i < n; i++) {
    let mx = -Infinity;
    for (let k = 0; k < K; k++) {
      let s = 0;
      const xo = i * d;
      const mo = k * d;
      for (let j = 0; j < d; j++) {
        const t = x[xo + j] - f.means[mo + j];
        s += t * t;
      }
      const v = Math.log(f.weights[k]) + c - s / (2 * f.sigma2);
      logR[i * K + k] = v;
      if (v > mx) mx = v;
    }
    let t = 0;
    for (let k = 0; k < K; k++) t += Math.exp(logR[i * K + k] - mx);
    const lse = mx + Math.log(t);
    for (let k = 0; k < K; k++) logR[i * K + k] -= lse;
    ll += lse;
  }
  return { logR, meanLogLik: ll / n };
}

/**
 * The mixture's MLE by EM (float64): K weights, K means and one shared isotropic variance, from `restarts`
 * k-means++ starts (the best final likelihood wins). Stops when the mean log-likelihood changes by less than
 * `tol` or after `maxIter` iterations: `converged` says which, `change` gives the last change. Consumes `key`.
 */
export async function gmmEm(x: Float64Array, n: number, d: number, K: number, key: Key, o: { maxIter?: number; tol?: number; restarts?: number } = {}): Promise<GmmFit> {
  const maxIter = o.maxIter ?? 500;
  const tol = o.tol ?? 1e-7;
  const restarts = o.restarts ?? 2;
  if (!(n >= K && K >= 1)) throw new RangeError(`EM: need at least K = ${K} points, got ${n}`);
  const u = (await random.uniform(key, [restarts, K]).data()) as Float32Array;
  let best: GmmFit | null = null;
  for (let s = 0; s < restarts; s++) {
    // k-means++: the first mean a uniform point, each next one a point drawn ∝ its squared distance to the chosen.
    const means = new Float64Array(K * d);
    const d2 = new Float64Array(n).fill(Infinity);
    for (let k = 0; k < K; k++) {
      let pick = Math.min(n - 1, Math.floor(u[s * K] * n));
      if (k > 0) {
        let tot = 0;
        for (let i = 0; i < n; i++) tot += d2[i];
        let target = u[s * K + k] * tot;
        pick = n - 1;
        for (let i = 0; i < n; i++) if ((target -= d2[i]) <= 0) { pick = i; break; }
      }
      for (let j = 0; j < d; j++) means[k * d + j] = x[pick * d + j];
      for (let i = 0; i < n; i++) {
        let t = 0;
        for (let j = 0; j < d; j++) t += (x[i * d + j] - means[k * d + j]) ** 2;
        if (t < d2[i]) d2[i] = t;
      }
    }
    let sigma2 = 0;
    for (let i = 0; i < n; i++) sigma2 += d2[i];
    sigma2 = Math.max(sigma2 / (n * d), 1e-12);
    let fit: GmmFit = { weights: new Float64Array(K).fill(1 / K), means, sigma2, logLik: -Infinity, iterations: 0, converged: false, change: Infinity };
    for (let it = 1; it <= maxIter; it++) {
      const { logR, meanLogLik } = eStep(fit, x, n, d);
      const change = meanLogLik - fit.logLik;
      fit = { ...fit, logLik: meanLogLik, iterations: it, change };
      if (Math.abs(change) < tol) {
        fit.converged = true;
        break;
      }
      // M-step (the responsibilities in place of their logs)
      const R = logR;
      for (let q = 0; q < R.length; q++) R[q] = Math.exp(R[q]);
      const Nk = new Float64Array(K);
      const mu = new Float64Array(K * d);
      for (let i = 0; i < n; i++)
        for (let k = 0; k < K; k++) {
          const r = R[i * K + k];
          Nk[k] += r;
          for (let j = 0; j < d; j++) mu[k * d + j] += r * x[i * d + j];
        }
      for (let k = 0; k < K; k++) for (let j = 0; j < d; j++) mu[k * d + j] /= Math.max(Nk[k], 1e-300);
      let ss = 0;
      for (let i = 0; i < n; i++)
        for (let k = 0; k < K; k++) {
          const r = R[i * K + k];
          if (r === 0) continue;
          let t = 0;
          for (let j = 0; j < d; j++) {
            const u = x[i * d + j] - mu[k * d + j];
            t += u * u;
          }
          ss += r * t;
        }
      fit = { ...fit, weights: Float64Array.from(Nk, (v) => Math.max(v / n, 1e-12)), means: mu, sigma2: Math.max(ss / (n * d), 1e-12) };
    }
    if (!best || fit.logLik > best.logLik) best = fit;
  }
  return best!;
}

/** The posterior responsibilities (n × K) of x under a fitted mixture. */
export function responsibilities(f: Pick<GmmFit, "weights" | "means" | "sigma2">, x: Float64Array, n: number, d: number): Float64Array {
  return eStep(f, x, n, d).logR.map(Math.exp);
}

export type Logistic = { w: Float64Array; b: number; iterations: number; converged: boolean; /** ‖gradient‖∞ at the end */ gradient: number };

/**
 * Binary logistic regression with an L2 penalty (λ/2)‖w‖² (the intercept unpenalised), by Newton's method with
 * step halving, in float64 (`init` warm-starts it), minimises Σᵢ log(1 + e^{−sᵢ(wᵀfᵢ + b)}) + (λ/2)‖w‖², sᵢ = 2yᵢ − 1. λ > 0.
 */
export function logisticFit(F: Float64Array, y: ArrayLike<number>, n: number, p: number, lambda: number, o: { maxIter?: number; tol?: number; /** a start (a fit at a nearby λ: the path warm-starts) */ init?: Pick<Logistic, "w" | "b"> } = {}): Logistic {
  if (!(lambda > 0)) throw new RangeError(`logistic regression: the penalty λ must be > 0 (separable data has no minimiser), got ${lambda}`);
  const maxIter = o.maxIter ?? 100;
  const tol = o.tol ?? 1e-10;
  const q = p + 1; // the weights, then the intercept
  let th = new Float64Array(q);
  if (o.init) {
    th.set(o.init.w);
    th[p] = o.init.b;
  }
  const row = (i: number, j: number) => (j < p ? F[i * p + j] : 1);
  const objective = (t: Float64Array) => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      let z = t[p];
      for (let j = 0; j < p; j++) z += t[j] * F[i * p + j];
      const m = (2 * y[i] - 1) * z;
      s += m > 0 ? Math.log1p(Math.exp(-m)) : -m + Math.log1p(Math.exp(m));
    }
    for (let j = 0; j < p; j++) s += 0.5 * lambda * t[j] * t[j];
    return s;
  };
  let f = objective(th);
  let gInf = Infinity;
  for (let it = 1; it <= maxIter; it++) {
    const g = new Float64Array(q);
    const H = new Float64Array(q * q);
    for (let i = 0; i < n; i++) {
      let z = th[p];
      for (let j = 0; j < p; j++) z += th[j] * F[i * p + j];
      const pr = 1 / (1 + Math.exp(-z));
      const r = pr - y[i];
      const w = Math.max(pr * (1 - pr), 1e-12);
      for (let a = 0; a < q; a++) {
        const fa = row(i, a);
        g[a] += r * fa;
        for (let b = a; b < q; b++) H[a * q + b] += w * fa * row(i, b);
      }
    }
    for (let j = 0; j < p; j++) {
      g[j] += lambda * th[j];
      H[j * q + j] += lambda;
    }
    for (let a = 0; a < q; a++) for (let b = 0; b < a; b++) H[a * q + b] = H[b * q + a];
    gInf = Math.max(...Array.from(g, Math.abs));
    if (gInf < tol) return { w: th.slice(0, p), b: th[p], iterations: it - 1, converged: true, gradient: gInf };
    const step = choleskySolve(H, q, 1e-12, g, 1);
    if (!step) break;
    let t = 1;
    let next = th.map((v, j) => v - t * step[j]);
    let fn = objective(next);
    while (fn > f && t > 1e-10) {
      t /= 2;
      next = th.map((v, j) => v - t * step[j]);
      fn = objective(next);
    }
    if (fn > f) break;
    th = next;
    f = fn;
  }
  return { w: th.slice(0, p), b: th[p], iterations: maxIter, converged: gInf < tol, gradient: gInf };
}

/** Accuracy of the linear classifier 1[wᵀf + b > 0] on (F, y). */
export function linearAccuracy(m: Pick<Logistic, "w" | "b">, F: Float64Array, y: ArrayLike<number>, n: number, p: number): number {
  let ok = 0;
  for (let i = 0; i < n; i++) {
    let z = m.b;
    for (let j = 0; j < p; j++) z += m.w[j] * F[i * p + j];
    if ((z > 0 ? 1 : 0) === y[i]) ok++;
  }
  return ok / n;
}
