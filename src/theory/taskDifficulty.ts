/**
 * Model-agnostic generalization difficulty (Boopathy, Liu, Hwang, Ge, Mohammedsaleh, Fiete 2023, arXiv
 * 2305.01034): the inductive bias complexity Ĩ, the information (bits) needed to pick a well-generalizing
 * hypothesis among those that fit the training data, with the paper's estimators of its inputs.
 *
 * The formula is the official code's, checked line by line against FieteLab/inductive-bias-complexity
 * task_difficulty.py (`difficulty`, `log_wasserstein`, `count_eigenvalues`, `intrinsic_dim`), rewritten here:
 *   M = 2πR/δ,  K = (√((m − 1)² + 4M²) − (m − 1))/2,  E = C(m + K, m) + C(m + K − 1, m)   (real binomials)
 *   dim Θ = 2·D·prod_d·E,  dim Θ_q = dim Θ − n·D,  L_f = K√D/R
 *   ln W = ½ ln(m/6) + [ln 2 + ((m + 1)/2) ln π + ln prod_d − lnΓ((m + 1)/2)]/m + ln R − (ln n)/m
 *   Ĩ = dim Θ_q · [log₂B + ½log₂D + ½log₂prod_d − log₂ε + log₂L_f + ln W/ln 2]   bits.
 * For classification D = classes − 1, prod_d = classes, B = 1, R = max‖x‖.
 */
import { numpy as np, random } from "@jax-js/jax";
import { qr } from "../core/linalg.ts";
import { permutationFromKey, splitKey, type Key } from "../core/prng.ts";
import { binomial, lnGamma } from "../core/special.ts";

export type DifficultyInput = {
  /** desired error rate ε */
  error: number;
  /** training set size */
  n: number;
  /** intrinsic dimension of the data */
  m: number;
  /** maximum norm of the inputs */
  R: number;
  /** prod_i M(d_i): the number of combinations of discrete features (the classes, for classification) */
  prodD: number;
  /** spatial resolution: the minimum distance between classes */
  delta: number;
  /** output dimension (classes − 1) */
  D: number;
  /** bound on the output's ∞-norm */
  B: number;
};

export type Difficulty = { bits: number; K: number; eigenfunctions: number; dimTheta: number; dimThetaQ: number; logW: number; Lf: number; log2Ratio: number };

export function inductiveBiasComplexity(p: DifficultyInput): Difficulty {
  for (const [k, v] of Object.entries(p)) if (!(v > 0) || !Number.isFinite(v)) throw new RangeError(`inductive bias complexity: expected ${k} > 0, got ${v}`);
  const { error, n, m, R, prodD, delta, D, B } = p;
  const logW = 0.5 * Math.log(m / 6) + (Math.log(2) + ((m + 1) / 2) * Math.log(Math.PI) + Math.log(prodD) - lnGamma((m + 1) / 2)) / m + Math.log(R) - Math.log(n) / m;
  const M = (2 * Math.PI * R) / delta;
  const K = (Math.sqrt((m - 1) * (m - 1) + 4 * M * M) - (m - 1)) / 2;
  const eigenfunctions = binomial(m + K, m) + binomial(m + K - 1, m);
  const Lf = (K * Math.sqrt(D)) / R;
  const dimTheta = 2 * D * prodD * eigenfunctions;
  const dimThetaQ = dimTheta - n * D;
  const log2Ratio = Math.log2(B) + 0.5 * Math.log2(D) + 0.5 * Math.log2(prodD) - Math.log2(error) + Math.log2(Lf) + logW / Math.LN2;
  return { bits: dimThetaQ * log2Ratio, K, eigenfunctions, dimTheta, dimThetaQ, logW, Lf, log2Ratio };
}

/** A classification task's Ĩ: D = classes − 1, prod_d = classes, B = 1. */
export function classificationDifficulty(o: { error: number; n: number; m: number; R: number; classes: number; delta: number }): Difficulty {
  return inductiveBiasComplexity({ error: o.error, n: o.n, m: o.m, R: o.R, prodD: o.classes, delta: o.delta, D: o.classes - 1, B: 1 });
}

/** The official code's constants for four benchmarks (task_difficulty.py, `task_data`). */
export const OFFICIAL_TASKS = {
  mnist: { error: 0.001, n: 60000, m: 14, R: 17.179045827183984, classes: 10, delta: 2.3987084824335305 },
  svhn: { error: 0.01, n: 73257, m: 19, R: 53.86932485133339, classes: 10, delta: 1.5766998174969105 },
  cifar10: { error: 0.01, n: 50000, m: 27, R: 54.9156786783691, classes: 10, delta: 2.7506414616587023 },
  imagenet: { error: 0.1, n: 1280901, m: 48, R: 943.5923, classes: 1000, delta: 65 },
} as const;

/**
 * The maximum-likelihood intrinsic dimension as the official code computes it (Levina–Bickel form): for each
 * of `samples` points (a random subset), the distances to every point of X (n × dim, row-major; the point itself
 * at distance 0 first), m̂ = [mean over points and j = 1..k−1 of ln(r_k / r_j)]⁻¹. Consumes `key`.
 */
export function intrinsicDimMLE(X: Float64Array, n: number, dim: number, k: number, samples: number, key: Key): number {
  if (!(Number.isInteger(k) && k >= 2 && k < n)) {
    key.dispose();
    throw new RangeError(`intrinsic dimension: expected an integer k in [2, n), got ${k}`);
  }
  const rows = permutationFromKey(key, n).subarray(0, Math.min(samples, n));
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let t = 0; t < dim; t++) norms[i] += X[i * dim + t] ** 2;
  const best = new Float64Array(k + 1);
  let sum = 0;
  let count = 0;
  for (const i of rows) {
    best.fill(Infinity);
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let t = 0; t < dim; t++) dot += X[i * dim + t] * X[j * dim + t];
      const d2 = j === i ? 0 : Math.max(0, norms[i] + norms[j] - 2 * dot);
      if (d2 >= best[k]) continue;
      let s = k;
      while (s > 0 && best[s - 1] > d2) {
        best[s] = best[s - 1];
        s--;
      }
      best[s] = d2;
    }
    const lk = 0.5 * Math.log(best[k]);
    for (let j = 1; j < k; j++) {
      sum += lk - 0.5 * Math.log(best[j]);
      count++;
    }
  }
  return count / sum;
}

/**
 * n points of an m-dimensional flat torus (angles uniform; (cos φ, sin φ) per angle, radius 1) rotated into
 * ℝ^ambient by a random orthonormal frame; `gaussian` instead draws n points N(0, I) in all `ambient` dimensions
 * (no low-dimensional structure). Consumes `key`.
 */
export async function manifoldSample(kind: "torus" | "gaussian", m: number, n: number, ambient: number, key: Key): Promise<Float64Array> {
  const [ka, kr] = splitKey(key, 2);
  if (kind === "gaussian") {
    kr.dispose();
    return Float64Array.from((await random.normal(ka, [n, ambient]).data()) as Float32Array);
  }
  if (2 * m > ambient) throw new RangeError(`manifold: a ${m}-torus needs ambient ≥ ${2 * m}, got ${ambient}`);
  const phi = (await random.uniform(ka, [n, m]).data()) as Float32Array;
  const { q } = qr(Float64Array.from((await random.normal(kr, [ambient, 2 * m]).data()) as Float32Array), ambient, 2 * m);
  const X = new Float64Array(n * ambient);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < m; j++) {
      const a = 2 * Math.PI * phi[i * m + j];
      const c = Math.cos(a);
      const s = Math.sin(a);
      for (let t = 0; t < ambient; t++) X[i * ambient + t] += c * q[t * 2 * m + 2 * j] + s * q[t * 2 * m + 2 * j + 1];
    }
  return X;
}

export type DatasetInputs = {
  /** max ‖x‖ over the data */
  R: number;
  /** the MLE intrinsic dimension before rounding, and rounded (the official code rounds it) */
  mRaw: number;
  m: number;
  /** the sample δ: the smallest distance ≥ 1 between two points of different classes in the sample */
  delta: number;
  classes: number;
  /** neighbours at distance 0 (exact duplicates) skipped by the MLE */
  duplicates: number;
};

/** Squared distances between the rows `rows` of X and every row of Y (n × dim each, float32 matmuls in jax-js), one block of rows at a time, passed to `each(blockStart, d2)` with d2 row-major (block × nY). */
async function sqDistanceBlocks(X: Float32Array, rows: ArrayLike<number>, Y: Float32Array<ArrayBuffer>, nY: number, dim: number, each: (start: number, size: number, d2: Float32Array) => void, block = 128): Promise<void> {
  const yNorm = new Float64Array(nY);
  for (let j = 0; j < nY; j++) for (let t = 0; t < dim; t++) yNorm[j] += Y[j * dim + t] ** 2;
  const Yt = np.array(Y, { shape: [nY, dim] }).transpose();
  try {
    for (let s = 0; s < rows.length; s += block) {
      const b = Math.min(block, rows.length - s);
      const Q = new Float32Array(b * dim);
      const qNorm = new Float64Array(b);
      for (let i = 0; i < b; i++) {
        Q.set(X.subarray(rows[s + i] * dim, (rows[s + i] + 1) * dim), i * dim);
        for (let t = 0; t < dim; t++) qNorm[i] += Q[i * dim + t] ** 2;
      }
      const dot = (await np.matmul(np.array(Q, { shape: [b, dim] }), Yt.ref).data()) as Float32Array;
      for (let i = 0; i < b; i++) for (let j = 0; j < nY; j++) dot[i * nY + j] = Math.max(0, qNorm[i] + yNorm[j] - 2 * dot[i * nY + j]);
      each(s, b, dot);
    }
  } finally {
    Yt.dispose();
  }
}

/**
 * The inputs of a real classification task's Ĩ, estimated as the official `classification_task_difficulty` does
 * (FieteLab/inductive-bias-complexity task_difficulty.py): R = max‖x‖; m = round(MLE intrinsic dimension), from
 * `queries` random points against every point (k nearest, `intrinsic_dim`); δ = the smallest distance ≥ 1 between
 * points of different classes among `deltaSample` random points (`sample_delta`). Distances are float32 matmuls
 * (jax-js). Exact duplicates are skipped as neighbours (the official log(0) would make m̂ = 0) and counted.
 * X: n × dim, row-major. Consumes `key`.
 */
export async function datasetDifficultyInputs(X: Float32Array<ArrayBuffer>, y: ArrayLike<number>, n: number, dim: number, o: { k?: number; queries?: number; deltaSample?: number }, key: Key): Promise<DatasetInputs> {
  const k = o.k ?? 5;
  if (!(Number.isInteger(k) && k >= 2 && k < n)) {
    key.dispose();
    throw new RangeError(`intrinsic dimension: expected an integer k in [2, n), got ${k}`);
  }
  const [kq, kd] = splitKey(key, 2);
  let R = 0;
  const sq = new Float64Array(n); // squared row norms
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = 0; t < dim; t++) s += X[i * dim + t] ** 2;
    sq[i] = s;
    R = Math.max(R, Math.sqrt(s));
  }
  const queries = permutationFromKey(kq, n).subarray(0, Math.min(o.queries ?? 10000, n));
  let sum = 0;
  let count = 0;
  let duplicates = 0;
  const best = new Float64Array(k);
  await sqDistanceBlocks(X, queries, X, n, dim, (s, b, d2) => {
    for (let i = 0; i < b; i++) {
      best.fill(Infinity);
      const self = queries[s + i];
      for (let j = 0; j < n; j++) {
        const v = d2[i * n + j];
        if (j === self || v >= best[k - 1]) continue;
        // a float32 matmul leaves identical rows at a squared distance of ~1e-7·‖x‖², not exactly 0
        if (v <= 1e-5 * (sq[self] + sq[j])) {
          duplicates++;
          continue;
        }
        let t = k - 1;
        while (t > 0 && best[t - 1] > v) {
          best[t] = best[t - 1];
          t--;
        }
        best[t] = v;
      }
      const lk = 0.5 * Math.log(best[k - 1]);
      for (let j = 0; j < k - 1; j++) {
        sum += lk - 0.5 * Math.log(best[j]);
        count++;
      }
    }
  });
  const mRaw = count / sum;
  const sample = permutationFromKey(kd, n).subarray(0, Math.min(o.deltaSample ?? 30000, n));
  const S = new Float32Array(sample.length * dim);
  sample.forEach((r, i) => S.set(X.subarray(r * dim, (r + 1) * dim), i * dim));
  let d2min = Infinity;
  await sqDistanceBlocks(S, Int32Array.from(sample, (_, i) => i), S, sample.length, dim, (s, b, d2) => {
    for (let i = 0; i < b; i++)
      for (let j = 0; j < sample.length; j++) {
        const v = d2[i * sample.length + j];
        if (v >= 1 && v < d2min && y[sample[s + i]] !== y[sample[j]]) d2min = v;
      }
  });
  const classes = new Set(Array.from(y as ArrayLike<number>)).size;
  return { R, mRaw, m: Math.round(mRaw), delta: Math.sqrt(d2min), classes, duplicates };
}
