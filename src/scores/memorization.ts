/**
 * Label memorization and influence by subset retraining (Feldman 2020, "Does Learning Require Memorization?
 * A Short Tale about a Long Tail", STOC, Def. 2.1; Feldman & Zhang 2020, "What Neural Networks Memorize and
 * Why", NeurIPS, eqs. 1–3). With models h_1 … h_K trained on random subsets S_k of size m of the n training
 * examples:
 *
 *   mem(i)     = mean_{k: i ∈ S_k} 1[h_k(x_i) = y_i] − mean_{k: i ∉ S_k} 1[h_k(x_i) = y_i]      id "memorization"
 *   infl(i, j) = mean_{k: i ∈ S_k} 1[h_k(x'_j) = y'_j] − mean_{k: i ∉ S_k} 1[h_k(x'_j) = y'_j]  id "influence"
 *
 * Each is a difference of two independent sample means. For 0/1 outcomes (correctness) its standard error
 * is Agresti & Caffo's (2000, "Simple and effective confidence intervals for proportions and differences of
 * proportions", The American Statistician): one success and one failure added to each side,
 * p̃ = (s + 1)/(K + 2), SE² = p̃_in(1 − p̃_in)/(K_in + 2) + p̃_out(1 − p̃_out)/(K_out + 2), which stays honest
 * when a side has few models or all its outcomes agree (the plug-in SE would then be 0). For continuous
 * outcomes it is √(s²_in/K_in + s²_out/K_out) with unbiased sample variances (NaN when a side has fewer
 * than 2 models). Feldman & Zhang use m = 0.7n and K in the thousands; the error falls as 1/√K (bench: the
 * estimator's error against K).
 *
 * The cheaper proxy (id "memorization_proxy", labelled as a proxy wherever it is shown): p_in(i) − p_out(i),
 * the probability of the label under one model fitted on all the data minus that under the K-fold model
 * that held i out. It is one sample of each side, with different training-set sizes: a ranking heuristic,
 * not the estimator.
 */
import { keyFromSeed, permutationFromKey, splitKey, type Key } from "../core/prng.ts";
import { spearman } from "./ranking.ts";

export const MEMORIZATION_ID = "memorization";
export const INFLUENCE_ID = "influence";
export const MEMORIZATION_PROXY_ID = "memorization_proxy";

/** K membership masks over n examples, each with exactly round(fraction·n) members, drawn from a key (consumed). */
export function subsetMasks(n: number, k: number, fraction: number, key: Key): Uint8Array[] {
  if (!(fraction > 0 && fraction < 1)) {
    key.dispose();
    throw new RangeError(`subset fraction must be in (0, 1), got ${fraction}`);
  }
  const m = Math.round(fraction * n);
  const keys = splitKey(key, k);
  return keys.map((kk) => {
    const mask = new Uint8Array(n);
    for (const i of permutationFromKey(kk, n).subarray(0, m)) mask[i] = 1;
    return mask;
  });
}

export type MemEstimate = {
  /** The estimate per example. */
  value: Float64Array;
  /** Its standard error (NaN when a side has no model; for continuous outcomes also when a side has only one). */
  se: Float64Array;
  /** Models that held the example in / out. */
  kIn: Int32Array;
  kOut: Int32Array;
};

/**
 * mem(i) from K masks ([K] of [n]) and each model's correctness on the training examples ([K] of [n], 0/1,
 * or any per-example outcome such as p_true).
 */
export function memorizationEstimate(masks: Uint8Array[], outcomes: ArrayLike<number>[]): MemEstimate {
  const k = masks.length;
  if (k === 0 || outcomes.length !== k) throw new RangeError(`memorization: ${k} masks and ${outcomes.length} outcome rows`);
  const n = masks[0].length;
  return differenceOfMeans(n, (i, r) => masks[r][i] === 1, (i, r) => outcomes[r][i], k, isBinary(outcomes));
}

const isBinary = (rows: ArrayLike<number>[]) => rows.every((r) => Array.prototype.every.call(r, (v: number) => v === 0 || v === 1));

/**
 * infl(i, j) for training examples i and test examples j: `outcomes[k][j]` is model k's outcome on test
 * example j. Returns row-major [n × m] values and standard errors.
 */
export function influenceEstimate(masks: Uint8Array[], outcomes: ArrayLike<number>[]): { value: Float32Array; se: Float32Array; n: number; m: number } {
  const k = masks.length;
  if (k === 0 || outcomes.length !== k) throw new RangeError(`influence: ${k} masks and ${outcomes.length} outcome rows`);
  const n = masks[0].length;
  const m = outcomes[0].length;
  const value = new Float32Array(n * m);
  const se = new Float32Array(n * m);
  const binary = isBinary(outcomes);
  for (let j = 0; j < m; j++) {
    const e = differenceOfMeans(n, (i, r) => masks[r][i] === 1, (_i, r) => outcomes[r][j], k, binary);
    for (let i = 0; i < n; i++) {
      value[i * m + j] = e.value[i];
      se[i * m + j] = e.se[i];
    }
  }
  return { value, se, n, m };
}

function differenceOfMeans(n: number, member: (i: number, r: number) => boolean, outcome: (i: number, r: number) => number, k: number, binary: boolean): MemEstimate {
  const value = new Float64Array(n);
  const se = new Float64Array(n);
  const kIn = new Int32Array(n);
  const kOut = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let sIn = 0;
    let qIn = 0;
    let sOut = 0;
    let qOut = 0;
    for (let r = 0; r < k; r++) {
      const v = outcome(i, r);
      if (member(i, r)) {
        kIn[i]++;
        sIn += v;
        qIn += v * v;
      } else {
        kOut[i]++;
        sOut += v;
        qOut += v * v;
      }
    }
    const a = kIn[i];
    const b = kOut[i];
    if (a === 0 || b === 0) {
      value[i] = NaN;
      se[i] = NaN;
      continue;
    }
    const mIn = sIn / a;
    const mOut = sOut / b;
    value[i] = mIn - mOut;
    if (binary) {
      const pIn = (sIn + 1) / (a + 2);
      const pOut = (sOut + 1) / (b + 2);
      se[i] = Math.sqrt((pIn * (1 - pIn)) / (a + 2) + (pOut * (1 - pOut)) / (b + 2));
      continue;
    }
    const vIn = a > 1 ? Math.max(0, (qIn - a * mIn * mIn) / (a - 1)) : NaN;
    const vOut = b > 1 ? Math.max(0, (qOut - b * mOut * mOut) / (b - 1)) : NaN;
    se[i] = Math.sqrt(vIn / a + vOut / b);
  }
  return { value, se, kIn, kOut };
}

/** The proxy p_in − p_out (see the module comment): labelled "memorization_proxy", never "memorization". */
export function memorizationProxy(pIn: ArrayLike<number>, pOut: ArrayLike<number>): Float64Array {
  if (pIn.length !== pOut.length) throw new RangeError(`memorizationProxy: ${pIn.length} and ${pOut.length} values`);
  return Float64Array.from(pIn, (v, i) => v - pOut[i]);
}

/**
 * The linear datamodeling score (Park, Georgiev, Ilyas, Leclerc, Madry 2023, "TRAK", §2.2, Def. 2.3) of an
 * attribution τ ([n × m]: training example i → target j) on L held-out subsets S_l with measured outputs
 * f_j(S_l) (`outputs[l][j]`): per target j, the Spearman correlation over l of f_j(S_l) and the attribution's
 * prediction g_j(S_l) = Σ_{i ∈ S_l} τ(i, j); LDS is their mean over the targets (NaN correlations, from a
 * constant output, are left out and counted).
 */
export function linearDatamodelingScore(tau: { value: ArrayLike<number>; n: number; m: number }, masks: Uint8Array[], outputs: ArrayLike<number>[]): { lds: number; perTarget: Float64Array; undefinedTargets: number } {
  const { n, m } = tau;
  const l = masks.length;
  if (l < 3 || outputs.length !== l) throw new RangeError(`LDS: needs ≥ 3 held-out subsets with outputs, got ${l} masks and ${outputs.length} output rows`);
  const perTarget = new Float64Array(m);
  let sum = 0;
  let count = 0;
  for (let j = 0; j < m; j++) {
    const g = new Float64Array(l);
    const f = new Float64Array(l);
    for (let r = 0; r < l; r++) {
      let s = 0;
      const mask = masks[r];
      for (let i = 0; i < n; i++) if (mask[i]) s += Number(tau.value[i * m + j]) || 0;
      g[r] = s;
      f[r] = outputs[r][j];
    }
    const rho = spearman(g, f);
    perTarget[j] = rho;
    if (Number.isFinite(rho)) {
      sum += rho;
      count++;
    }
  }
  return { lds: count ? sum / count : NaN, perTarget, undefinedTargets: m - count };
}

/** Deterministic masks from a plain seed (the CLI and benches, which hold no key of their own). */
export function subsetMasksFromSeed(n: number, k: number, fraction: number, seed: number): Uint8Array[] {
  return subsetMasks(n, k, fraction, keyFromSeed(seed));
}
