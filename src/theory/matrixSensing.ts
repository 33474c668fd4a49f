/**
 * Robust low-rank matrix recovery by the sub-gradient method (Ma & Fattahi 2022, arXiv 2202.08788, JMLR 24(96)
 * 2023): recover a rank-r PSD X* ∈ ℝ^{d×d} from m linear measurements yᵢ = ⟨Aᵢ, X*⟩ + sᵢ, a fraction of them
 * corrupted by large outliers, by minimising the ℓ₁ loss f(U) = (1/m) Σ |⟨Aᵢ, UUᵀ⟩ − yᵢ| over U ∈ ℝ^{d×r′}
 * with r′ ≥ r (over-parameterised) from a small initialisation U₀ = αB, with geometric steps η_t = η₀ρᵗ:
 *
 *   D_t = (2/m) Σᵢ sign(⟨Aᵢ, U_tU_tᵀ⟩ − yᵢ) Aᵢ U_t,   U_{t+1} = U_t − η_t D_t      (Aᵢ symmetric).
 *
 * The paper's exact step rule could not be checked (specs-01-22.md §22: unverified; no official code was
 * found): this is the spec's calibrated geometric schedule. `loss: "l2"` runs the same iteration on the
 * squared loss (1/m) Σ (⟨Aᵢ, UUᵀ⟩ − yᵢ)², gradient (4/m) Σ rᵢ Aᵢ U, for the non-robust control.
 *
 * Measurements are symmetric Gaussian, Aᵢ = (G + Gᵀ)/2 with G standard normal. They are stored packed: the d
 * diagonal entries, then √2 × the d(d − 1)/2 upper ones, so that ⟨Aᵢ, M⟩ for symmetric M is a dot product of
 * packed vectors of length d(d + 1)/2. Host float64; draws from jax-js PRNG keys.
 */
import { random } from "@jax-js/jax";
import { symEig } from "../core/linalg.ts";
import { permutationFromKey, splitKey, type Key } from "../core/prng.ts";

export type SensingProblem = {
  d: number;
  r: number;
  m: number;
  /** Packed measurements, m × d(d + 1)/2. */
  a: Float64Array;
  y: Float64Array;
  /** X* (d × d), ‖X*‖_op = 1. */
  xStar: Float64Array;
  /** 1 where yᵢ carries an outlier. */
  outlier: Uint8Array;
};

const packedSize = (d: number) => (d * (d + 1)) / 2;

/** Pack a symmetric d × d matrix: diagonal, then √2 × the upper triangle row by row. */
function pack(M: Float64Array, d: number, out: Float64Array): void {
  let k = 0;
  for (let i = 0; i < d; i++) out[k++] = M[i * d + i];
  for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) out[k++] = Math.SQRT2 * M[i * d + j];
}

/** Unpack into a symmetric d × d matrix (the inverse of pack). */
function unpack(v: Float64Array, d: number, out: Float64Array): void {
  let k = 0;
  for (let i = 0; i < d; i++) out[i * d + i] = v[k++];
  for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) out[i * d + j] = out[j * d + i] = v[k++] / Math.SQRT2;
}

/**
 * A robust matrix-sensing problem: U* ~ N(0, 1) (d × r), X* = U*U*ᵀ scaled to ‖X*‖_op = 1, symmetric Gaussian
 * measurements, and round(p·m) outliers (a random subset) adding N(0, scale²) to their yᵢ; `noise` adds
 * N(0, noise²) to every yᵢ. Consumes `key`.
 */
export async function robustMatrixSensing(o: { d: number; r: number; m: number; outlierFraction: number; outlierScale: number; noise?: number }, key: Key): Promise<SensingProblem> {
  const { d, r, m } = o;
  if (!(Number.isInteger(d) && d >= 1 && Number.isInteger(r) && r >= 1 && r <= d && Number.isInteger(m) && m >= 1)) throw new RangeError(`matrix sensing: expected integers d ≥ 1, 1 ≤ r ≤ d, m ≥ 1, got d = ${d}, r = ${r}, m = ${m}`);
  if (!(o.outlierFraction >= 0 && o.outlierFraction < 1)) throw new RangeError(`matrix sensing: expected an outlier fraction in [0, 1), got ${o.outlierFraction}`);
  const [ku, ka, ko, ks, kn] = splitKey(key, 5);
  const U = Float64Array.from((await random.normal(ku, [d, r]).data()) as Float32Array);
  const X = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) for (let t = 0; t < r; t++) X[i * d + j] += U[i * r + t] * U[j * r + t];
  const top = symEig(X, d).values[d - 1];
  for (let i = 0; i < d * d; i++) X[i] /= top;
  const G = (await random.normal(ka, [m, d, d]).data()) as Float32Array;
  const q = packedSize(d);
  const a = new Float64Array(m * q);
  const sym = new Float64Array(d * d);
  const row = new Float64Array(q);
  const xs = new Float64Array(q);
  pack(X, d, xs);
  const y = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const g = i * d * d;
    for (let s = 0; s < d; s++) for (let t = 0; t < d; t++) sym[s * d + t] = (G[g + s * d + t] + G[g + t * d + s]) / 2;
    pack(sym, d, row);
    a.set(row, i * q);
    let v = 0;
    for (let k = 0; k < q; k++) v += row[k] * xs[k];
    y[i] = v;
  }
  const outlier = new Uint8Array(m);
  const nOut = Math.round(o.outlierFraction * m);
  const perm = permutationFromKey(ko, m);
  const s = (await random.normal(ks, [m]).data()) as Float32Array;
  for (let k = 0; k < nOut; k++) {
    outlier[perm[k]] = 1;
    y[perm[k]] += o.outlierScale * s[k];
  }
  const noise = (await random.normal(kn, [m]).data()) as Float32Array;
  if (o.noise) for (let i = 0; i < m; i++) y[i] += o.noise * noise[i];
  return { d, r, m, a, y, xStar: X, outlier };
}

/** Measurement i as a full symmetric d × d matrix (row-major). */
export function measurementMatrix(p: SensingProblem, i: number): Float64Array {
  const q = packedSize(p.d);
  const out = new Float64Array(p.d * p.d);
  unpack(p.a.subarray(i * q, (i + 1) * q), p.d, out);
  return out;
}

/** U₀ = α·B with B ~ N(0, 1) entries (d × r′). Consumes `key`. */
export async function smallInit(d: number, rank: number, alpha: number, key: Key): Promise<Float64Array> {
  return Float64Array.from((await random.normal(key, [d, rank]).data()) as Float32Array, (v) => alpha * v);
}

/** ‖UUᵀ − X*‖_F / ‖X*‖_F. */
export function recoveryError(p: SensingProblem, U: Float64Array, rank: number): number {
  const { d, xStar } = p;
  let num = 0;
  let den = 0;
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++) {
      let m = 0;
      for (let t = 0; t < rank; t++) m += U[i * rank + t] * U[j * rank + t];
      num += (m - xStar[i * d + j]) ** 2;
      den += xStar[i * d + j] ** 2;
    }
  return Math.sqrt(num / den);
}

export type SubgradientRun = { errors: number[]; every: number; final: number; diverged: boolean; /** the last iterate (d × rank) */ U: Float64Array };

/**
 * Run the (sub-)gradient method from U₀ (d × rank, not modified) for `iterations` steps with η_t = η₀ρᵗ, recording
 * the recovery error every `every` steps (and at the end). A non-finite iterate stops the run (diverged: true,
 * final error Infinity) instead of returning NaN.
 */
export function subgradientMethod(p: SensingProblem, U0: Float64Array, rank: number, o: { eta0: number; rho: number; iterations: number; loss?: "l1" | "l2"; every?: number }): SubgradientRun {
  const { d, m, a, y } = p;
  const q = packedSize(d);
  const every = o.every ?? 10;
  const l2 = o.loss === "l2";
  const U = Float64Array.from(U0);
  const M = new Float64Array(d * d);
  const mv = new Float64Array(q);
  const sv = new Float64Array(q);
  const S = new Float64Array(d * d);
  const D = new Float64Array(d * rank);
  const errors: number[] = [];
  let eta = o.eta0;
  for (let t = 0; t <= o.iterations; t++) {
    if (t % every === 0 || t === o.iterations) {
      const e = recoveryError(p, U, rank);
      errors.push(e);
      if (!Number.isFinite(e)) return { errors, every, final: Infinity, diverged: true, U };
    }
    if (t === o.iterations) break;
    M.fill(0);
    for (let i = 0; i < d; i++)
      for (let j = i; j < d; j++) {
        let s = 0;
        for (let k = 0; k < rank; k++) s += U[i * rank + k] * U[j * rank + k];
        M[i * d + j] = M[j * d + i] = s;
      }
    pack(M, d, mv);
    sv.fill(0);
    for (let i = 0; i < m; i++) {
      const off = i * q;
      let v0 = 0, v1 = 0, v2 = 0, v3 = 0;
      let k = 0;
      for (; k + 3 < q; k += 4) {
        v0 += a[off + k] * mv[k];
        v1 += a[off + k + 1] * mv[k + 1];
        v2 += a[off + k + 2] * mv[k + 2];
        v3 += a[off + k + 3] * mv[k + 3];
      }
      for (; k < q; k++) v0 += a[off + k] * mv[k];
      const v = v0 + v1 + v2 + v3 - y[i];
      const w = l2 ? 2 * v : Math.sign(v); // d|r|/dr, d r²/dr (the factor 2 of the symmetric A then below)
      if (w === 0) continue;
      for (k = 0; k < q; k++) sv[k] += w * a[off + k];
    }
    unpack(sv, d, S);
    // D = (2/m) S U
    for (let i = 0; i < d; i++)
      for (let k = 0; k < rank; k++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += S[i * d + j] * U[j * rank + k];
        D[i * rank + k] = (2 / m) * s;
      }
    for (let i = 0; i < d * rank; i++) U[i] -= eta * D[i];
    eta *= o.rho;
  }
  return { errors, every, final: errors[errors.length - 1], diverged: false, U };
}
