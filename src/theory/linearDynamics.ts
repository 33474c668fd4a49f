/**
 * High-dimensional dynamics of generalization error (Advani & Saxe 2017, arXiv 1710.03667): a linear student
 * w ∈ ℝᴺ trained by gradient flow on ½‖y − Xw‖² from P examples of a noisy linear teacher, y = Xw̄ + ε, with
 * inputs xᵢ ~ N(0, 1/N), teacher weights w̄ᵢ ~ N(0, σ_w̄²), noise ε ~ N(0, σ_ε²) and initial weights
 * w₀ᵢ ~ N(0, σ₀²). SNR = σ_w̄²/σ_ε² with σ_w̄² + σ_ε² = 1 (the authors' normalisation: their code for Sun, Advani
 * et al. 2023, github.com/neuroai/Go-CLS_v2 Fig_2, sets variance_w = SNR/(SNR+1), variance_e = 1/(SNR+1)).
 *
 * In the eigenbasis of XᵀX each mode λ > 0 relaxes as c_λ(t) = b_λ/λ + (c_λ(0) − b_λ/λ)e^{−λt}; modes with
 * λ = 0 (N − P of them when N > P) stay at their initial value: the frozen subspace. Averaged over the
 * Marchenko–Pastur density of XᵀX (α = P/N; support [(√α − 1)², (√α + 1)²], an atom 1 − α at 0 when α < 1):
 *
 *   E_g(t)     = σ_ε² + (1 − α)₊(σ_w̄² + σ₀²) + ∫ρ(λ)[(σ_w̄² + σ₀²)e^{−2λt} + (σ_ε²/λ)(1 − e^{−λt})²] dλ
 *   E_train(t) = (1/α)∫ρ(λ)(λ(σ_w̄² + σ₀²) + σ_ε²)e^{−2λt} dλ + (1 − 1/α)₊σ_ε²
 *
 * (the same expressions as the Go-CLS code's Eg and Et at σ₀ = 0; the σ₀² terms follow from w₀ − w̄ having
 * variance σ_w̄² + σ₀² in every mode). E_g is the population error E(w·x − y)² = ‖w − w̄‖²/N + σ_ε². As t → ∞,
 * E_g → σ_ε²/(1 − α) + (1 − α)(σ_w̄² + σ₀²) for α < 1, σ_ε²·α/(α − 1) for α > 1, and diverges at α = 1.
 *
 * `simulateLinearDynamics` is the matching finite-size experiment: one draw of (X, w̄, ε, w₀), solved exactly
 * (gradient flow of a linear model is closed-form in XᵀX's eigenbasis, decomposed in float64), so its error
 * curves are those of that sample, with no Monte-Carlo error in time. Host side only: typed arrays.
 */
import { random } from "@jax-js/jax";
import { choleskySolve, gram64, symEig, transpose64 } from "../core/linalg.ts";
import { splitKey, type Key } from "../core/prng.ts";
import { integratePanels } from "../core/quadrature.ts";

/** A teacher–student setting: α = P/N, SNR = σ_w̄²/σ_ε² (σ_w̄² + σ_ε² = 1), init = σ₀² (variance of w₀ᵢ). */
export type LinearSetting = { alpha: number; snr: number; init: number };

/** σ_w̄² and σ_ε² of an SNR (σ_w̄² + σ_ε² = 1; SNR = ∞ is a noiseless teacher). */
export function teacherVariances(snr: number): { teacher: number; noise: number } {
  if (!(snr > 0)) throw new RangeError(`linear dynamics: expected SNR > 0, got ${snr}`);
  return Number.isFinite(snr) ? { teacher: snr / (snr + 1), noise: 1 / (snr + 1) } : { teacher: 1, noise: 0 };
}

/** Edges [λ₋, λ₊] of the Marchenko–Pastur support of XᵀX for α = P/N. */
export function mpEdges(alpha: number): [number, number] {
  const r = Math.sqrt(alpha);
  return [(r - 1) ** 2, (r + 1) ** 2];
}

/**
 * ∫ρ(λ)f(λ)dλ over the continuous part of the Marchenko–Pastur density (mass min(1, α)), with λ = λ₋ + (λ₊ − λ₋)
 * sin²θ, which makes ρ(λ)dλ = (λ₊ − λ₋)² sin²θ cos²θ / (πλ) dθ smooth at both edges (also at α = 1, where λ₋ = 0).
 * Panels are graded geometrically toward θ = 0, where e^{−λt} varies fastest for large t. Returns the value
 * and an error estimate (half-order difference).
 */
export function mpIntegral(alpha: number, f: (lambda: number) => number, order = 16): { value: number; error: number } {
  if (!(alpha > 0) || !Number.isFinite(alpha)) throw new RangeError(`linear dynamics: expected α = P/N > 0, got ${alpha}`);
  const [lo, hi] = mpEdges(alpha);
  const span = hi - lo;
  const edges = [0];
  const panels = 56;
  const first = 1e-9;
  for (let i = 0; i <= panels; i++) edges.push(first * (Math.PI / 2 / first) ** (i / panels));
  return integratePanels(
    (theta) => {
      const s = Math.sin(theta);
      const c = Math.cos(theta);
      const lambda = lo + span * s * s;
      if (lambda <= 0) return 0; // θ = 0 at α = 1: the weight's limit times f's is 0 for the f used here
      return ((span * span * s * s * c * c) / (Math.PI * lambda)) * f(lambda);
    },
    edges,
    order,
  );
}

export type LinearTheoryCurves = { times: number[]; test: number[]; train: number[]; /** largest quadrature error estimate */ error: number };

/** E_g(t) and E_train(t) averaged over the Marchenko–Pastur spectrum (the N → ∞ limit at fixed α), at each t ≥ 0. */
export function linearTheory(s: LinearSetting, times: number[]): LinearTheoryCurves {
  const { teacher, noise } = teacherVariances(s.snr);
  if (!(s.init >= 0)) throw new RangeError(`linear dynamics: expected init variance σ₀² ≥ 0, got ${s.init}`);
  const a = s.alpha;
  const start = teacher + s.init;
  let error = 0;
  const test: number[] = [];
  const train: number[] = [];
  for (const t of times) {
    if (!(t >= 0)) throw new RangeError(`linear dynamics: expected times ≥ 0, got ${t}`);
    const g = mpIntegral(a, (l) => {
      const e = Math.exp(-l * t);
      // (1 − e^{−λt})²/λ without cancellation at small λt: (−expm1(−λt))²/λ
      const m = -Math.expm1(-l * t);
      return start * e * e + (noise * m * m) / l;
    });
    const tr = mpIntegral(a, (l) => (l * start + noise) * Math.exp(-2 * l * t));
    error = Math.max(error, g.error, tr.error / a);
    test.push(noise + Math.max(0, 1 - a) * start + g.value);
    train.push(tr.value / a + Math.max(0, 1 - 1 / a) * noise);
  }
  return { times, test, train, error };
}

/** E_g(∞) in closed form (Infinity at α = 1 with noise). */
export function linearTheoryAsymptote(s: LinearSetting): number {
  const { teacher, noise } = teacherVariances(s.snr);
  const a = s.alpha;
  if (a === 1) return noise > 0 ? Infinity : noise;
  return a < 1 ? noise / (1 - a) + (1 - a) * (teacher + s.init) : (noise * a) / (a - 1);
}

/** Overtraining of a curve: its last value less its minimum (E_g(t_max) − min_t E_g(t)). */
export function overtrainingOf(curve: ArrayLike<number>): number {
  let min = Infinity;
  for (let i = 0; i < curve.length; i++) min = Math.min(min, curve[i]);
  return curve[curve.length - 1] - min;
}

/** `count` times log-spaced over [from, to]. */
export function logTimes(from: number, to: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => from * (to / from) ** (count > 1 ? i / (count - 1) : 0));
}

/**
 * One draw's modes: eigenvalues λ_k of XᵀX above the numerical-rank cut, and per mode the components of the
 * init direction z (w₀ = σ₀z), of the teacher w̄ and of the noise (u_kᵀε, u_k the left singular vector);
 * plus the frozen subspace's ‖z_f‖², z_f·w̄_f, ‖w̄_f‖² and the noise outside X's column space.
 */
export type LinearDraw = { N: number; P: number; noise: number; lam: Float64Array; z: Float64Array; w: Float64Array; ue: Float64Array; zz: number; zw: number; ww: number; eePerp: number };

/** A draw's data: X (P × N, row-major), the teacher w̄, the label noise ε and the init direction z. */
export type LinearData = { X: Float64Array; wbar: Float64Array; eps: Float64Array; z: Float64Array; N: number; P: number; noise: number };

/** Draw X (entries N(0, 1/N)), w̄ ~ N(0, σ_w̄²), ε ~ N(0, σ_ε²) and z ~ N(0, 1) from `key` (consumed). */
export async function drawLinearData(N: number, P: number, snr: number, key: Key): Promise<LinearData> {
  if (!(Number.isInteger(N) && N >= 1 && Number.isInteger(P) && P >= 1)) throw new RangeError(`linear dynamics: expected integers N, P ≥ 1, got N = ${N}, P = ${P}`);
  const { teacher, noise } = teacherVariances(snr);
  const [kx, kw, ke, kz] = splitKey(key, 4);
  const X = Float64Array.from((await random.normal(kx, [P, N]).data()) as Float32Array, (v) => v / Math.sqrt(N));
  const wbar = Float64Array.from((await random.normal(kw, [N]).data()) as Float32Array, (v) => v * Math.sqrt(teacher));
  const eps = Float64Array.from((await random.normal(ke, [P]).data()) as Float32Array, (v) => v * Math.sqrt(noise));
  const z = Float64Array.from((await random.normal(kz, [N]).data()) as Float32Array);
  return { X, wbar, eps, z, N, P, noise };
}

/** A random draw, decomposed (`key` consumed). */
export async function drawLinear(N: number, P: number, snr: number, key: Key): Promise<LinearDraw> {
  return linearModes(await drawLinearData(N, P, snr, key));
}

/**
 * Decompose a draw: the eigendecomposition is of the smaller Gram matrix (XᵀX when N ≤ P, XXᵀ otherwise), float64;
 * eigenvalues below 1e-12 of the largest count as zero (frozen).
 */
export function linearModes(data: LinearData): LinearDraw {
  const { X, wbar, eps, z, N, P, noise } = data;
  const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, x, i) => s + x * b[i], 0);
  const Xv = (v: Float64Array) => Float64Array.from({ length: P }, (_, p) => {
    let s = 0;
    for (let j = 0; j < N; j++) s += X[p * N + j] * v[j];
    return s;
  });
  const lam: number[] = [];
  const zc: number[] = [];
  const wc: number[] = [];
  const uec: number[] = [];
  let zzF = 0, zwF = 0, wwF = 0;
  if (N <= P) {
    const Xt = transpose64(X, P, N);
    const { values, vectors } = symEig(gram64(Xt, N, P), N);
    const Xte = Float64Array.from({ length: N }, (_, j) => {
      let s = 0;
      for (let p = 0; p < P; p++) s += Xt[j * P + p] * eps[p];
      return s;
    });
    const cut = 1e-12 * Math.max(values[N - 1], 0);
    for (let k = 0; k < N; k++) {
      let zk = 0, wk = 0, ek = 0;
      for (let i = 0; i < N; i++) {
        const v = vectors[i * N + k];
        zk += v * z[i];
        wk += v * wbar[i];
        ek += v * Xte[i];
      }
      if (values[k] > cut) {
        lam.push(values[k]);
        zc.push(zk);
        wc.push(wk);
        uec.push(ek / Math.sqrt(values[k]));
      } else {
        zzF += zk * zk;
        zwF += zk * wk;
        wwF += wk * wk;
      }
    }
  } else {
    const { values, vectors } = symEig(gram64(X, P, N), P);
    const Xz = Xv(z);
    const Xw = Xv(wbar);
    const cut = 1e-12 * Math.max(values[P - 1], 0);
    let zzN = 0, zwN = 0, wwN = 0;
    for (let k = 0; k < P; k++) {
      if (!(values[k] > cut)) continue;
      let zk = 0, wk = 0, ek = 0;
      for (let p = 0; p < P; p++) {
        const u = vectors[p * P + k];
        zk += u * Xz[p];
        wk += u * Xw[p];
        ek += u * eps[p];
      }
      const r = Math.sqrt(values[k]);
      lam.push(values[k]);
      zc.push(zk / r);
      wc.push(wk / r);
      uec.push(ek);
      zzN += (zk / r) ** 2;
      zwN += (zk / r) * (wk / r);
      wwN += (wk / r) ** 2;
    }
    zzF = dot(z, z) - zzN;
    zwF = dot(z, wbar) - zwN;
    wwF = dot(wbar, wbar) - wwN;
  }
  const eePerp = dot(eps, eps) - uec.reduce((s, x) => s + x * x, 0);
  return { N, P, noise, lam: Float64Array.from(lam), z: Float64Array.from(zc), w: Float64Array.from(wc), ue: Float64Array.from(uec), zz: zzF, zw: zwF, ww: wwF, eePerp: Math.max(0, eePerp) };
}

/**
 * Test and train error of one draw at each time, for initial scale σ₀ (w₀ = σ₀z): the exact gradient-flow
 * solution. `flat` replaces every nonzero eigenvalue by their mean (the singular vectors, norms and noise kept):
 * the spectrum's spread removed, for the negative control. t = Infinity gives the converged error.
 */
export function linearDrawCurves(d: LinearDraw, sigma0: number, times: number[], flat = false): { test: number[]; train: number[] } {
  const K = d.lam.length;
  const mean = K ? d.lam.reduce((s, x) => s + x, 0) / K : 0;
  const frozen = sigma0 * sigma0 * d.zz - 2 * sigma0 * d.zw + d.ww;
  const test: number[] = [];
  const train: number[] = [];
  for (const t of times) {
    let g = frozen;
    let tr = d.eePerp;
    for (let k = 0; k < K; k++) {
      const l = flat ? mean : d.lam[k];
      const A = sigma0 * d.z[k] - d.w[k];
      const B = d.ue[k] / Math.sqrt(l);
      const e = t === Infinity ? 0 : Math.exp(-l * t);
      const dev = A * e + B * (1 - e);
      g += dev * dev;
      tr += l * e * e * (B - A) * (B - A);
    }
    test.push(d.noise + g / d.N);
    train.push(tr / d.P);
  }
  return { test, train };
}

/**
 * E_g(∞ | σ₀) − E_g(∞ | 0) of one draw (consumes `key`): (σ₀²‖z_f‖² − 2σ₀ z_f·w̄_f)/N, with z_f and w̄_f the
 * components of the init direction and the teacher in X's null space (the frozen subspace; 0 when N ≤ P). The
 * converged error's other terms do not depend on σ₀ and cancel. The projection onto X's row space is
 * Xᵀ(XXᵀ)⁻¹X, by one Cholesky solve (P³/3, not an eigendecomposition), so many draws are cheap.
 */
export async function frozenExcessDraw(N: number, P: number, snr: number, init: number, key: Key): Promise<number> {
  if (N <= P) {
    key.dispose();
    return 0;
  }
  return frozenExcessOf(await drawLinearData(N, P, snr, key), init);
}

/** The frozen-subspace excess of given data (see frozenExcessDraw). */
export function frozenExcessOf(data: LinearData, init: number): number {
  const { X, wbar, z, N, P } = data;
  if (N <= P) return 0;
  const R = new Float64Array(P * 2); // columns X z, X w̄
  for (let p = 0; p < P; p++) {
    let a = 0, b = 0;
    for (let j = 0; j < N; j++) {
      a += X[p * N + j] * z[j];
      b += X[p * N + j] * wbar[j];
    }
    R[p * 2] = a;
    R[p * 2 + 1] = b;
  }
  const S = choleskySolve(gram64(X, P, N), P, 0, R, 2);
  if (!S) throw new RangeError(`linear dynamics: XXᵀ (${P} × ${P}) is not positive definite in float64 at N = ${N}`);
  let zz = 0, zw = 0;
  for (let j = 0; j < N; j++) {
    zz += z[j] * z[j];
    zw += z[j] * wbar[j];
  }
  for (let p = 0; p < P; p++) {
    zz -= R[p * 2] * S[p * 2];
    zw -= R[p * 2 + 1] * S[p * 2];
  }
  const s0 = Math.sqrt(init);
  return (init * zz - 2 * s0 * zw) / N;
}
