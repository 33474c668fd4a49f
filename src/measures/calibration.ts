/**
 * Calibration of a classifier's probabilities (host, float64), as paper 30 (Chidambaram & Ge, ICLR 2024)
 * measures it with netcal:
 *
 *   top-label confidence ĉ = max_k p_k, equal-width bins on [0, 1] (15 by default);
 *   ECE = Σ_b (|B_b|/n)·|acc(B_b) − conf(B_b)|     (Naeini et al. 2015; Guo et al. 2017, eq. 3)   id "ece"
 *   MCE = max_b |acc(B_b) − conf(B_b)|              (Naeini et al. 2015)                            id "mce"
 *   ACE = mean over non-empty bins of |acc − conf|  (netcal's "average calibration error": every bin weighs the same)   id "ace"
 *   NLL = −(1/n) Σ ln p_{y_i}
 *
 * Temperature scaling (Guo et al. 2017, §4.2): p = softmax(z/T), one scalar T fitted on a held-out split by
 * minimising the NLL — to convergence (L-BFGS with a strong-Wolfe line search, in log T), or as the common
 * code does it, one `torch.optim.LBFGS(lr = 0.01)` step (max_iter 20) on T from 1 (calibration-b.md: it barely
 * moves T, 1.107 where the converged fit is 7–9).
 */
import { lbfgs } from "./lbfgs.ts";
import { quantileSorted } from "../core/order.ts";

export type ReliabilityBin = { lo: number; hi: number; count: number; accuracy: number; confidence: number };
export type CalibrationReport = { ece: number; mce: number; ace: number; nll: number; accuracy: number; n: number; bins: ReliabilityBin[] };

/** Softmax of logits [n × c] at temperature T (row-wise, stable), float64. */
export function softmaxRows(logits: ArrayLike<number>, n: number, c: number, temperature = 1): Float64Array {
  const out = new Float64Array(n * c);
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let j = 0; j < c; j++) m = Math.max(m, logits[i * c + j] / temperature);
    let s = 0;
    for (let j = 0; j < c; j++) s += out[i * c + j] = Math.exp(logits[i * c + j] / temperature - m);
    for (let j = 0; j < c; j++) out[i * c + j] /= s;
  }
  return out;
}

export function calibration(probs: ArrayLike<number>, labels: ArrayLike<number>, c: number, opts: { bins?: number } = {}): CalibrationReport {
  const n = labels.length;
  if (probs.length !== n * c) throw new RangeError(`calibration: ${probs.length} probabilities for ${n} rows of ${c}`);
  const nb = opts.bins ?? 15;
  const count = new Float64Array(nb);
  const correct = new Float64Array(nb);
  const conf = new Float64Array(nb);
  let nll = 0;
  let acc = 0;
  for (let i = 0; i < n; i++) {
    let a = 0;
    for (let j = 1; j < c; j++) if (probs[i * c + j] > probs[i * c + a]) a = j;
    const p = probs[i * c + a];
    const b = Math.min(nb - 1, Math.floor(p * nb));
    count[b]++;
    conf[b] += p;
    const ok = a === labels[i] ? 1 : 0;
    correct[b] += ok;
    acc += ok;
    nll -= Math.log(Math.max(probs[i * c + labels[i]], 1e-300));
  }
  let ece = 0;
  let mce = 0;
  let ace = 0;
  let used = 0;
  const bins: ReliabilityBin[] = [];
  for (let b = 0; b < nb; b++) {
    const bin = { lo: b / nb, hi: (b + 1) / nb, count: count[b], accuracy: count[b] ? correct[b] / count[b] : NaN, confidence: count[b] ? conf[b] / count[b] : NaN };
    bins.push(bin);
    if (!count[b]) continue;
    const gap = Math.abs(bin.accuracy - bin.confidence);
    ece += (count[b] / n) * gap;
    mce = Math.max(mce, gap);
    ace += gap;
    used++;
  }
  return { ece, mce, ace: used ? ace / used : 0, nll: nll / n, accuracy: acc / n, n, bins };
}

/** NLL of softmax(z/T) and its derivative in u = ln T. */
export function temperatureNll(logits: ArrayLike<number>, labels: ArrayLike<number>, c: number, temperature: number): { nll: number; dLogT: number; dT: number } {
  const n = labels.length;
  let nll = 0;
  let dT = 0;
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let j = 0; j < c; j++) m = Math.max(m, logits[i * c + j] / temperature);
    let s = 0;
    let sz = 0;
    for (let j = 0; j < c; j++) {
      const e = Math.exp(logits[i * c + j] / temperature - m);
      s += e;
      sz += e * logits[i * c + j];
    }
    const zy = logits[i * c + labels[i]];
    nll += -(zy / temperature - m - Math.log(s));
    // d/dT [−z_y/T + log Σ exp(z_j/T)] = z_y/T² − E_p[z]/T²
    dT += (zy - sz / s) / (temperature * temperature);
  }
  return { nll: nll / n, dT: dT / n, dLogT: (dT / n) * temperature };
}

export type TemperatureFit = { temperature: number; nll: number; iterations: number; converged: boolean; method: "converged" | "official" };

/**
 * Fit T on (logits, labels) of a held-out split. "converged": L-BFGS with a strong-Wolfe line search on ln T to
 * ‖∂NLL/∂ln T‖ ≤ 1e-9. "official": one torch LBFGS(lr = 0.01) step (its default max_iter = 20) on T starting at 1, no line search (calibration-b.md).
 */
export function fitTemperature(logits: ArrayLike<number>, labels: ArrayLike<number>, c: number, method: "converged" | "official" = "converged"): TemperatureFit {
  if (method === "converged") {
    const r = lbfgs((u) => {
      const t = temperatureNll(logits, labels, c, Math.exp(u[0]));
      return { value: t.nll, grad: Float64Array.of(t.dLogT) };
    }, [0], { maxIter: 200, tolGrad: 1e-9, tolChange: 1e-12 });
    return { temperature: Math.exp(r.x[0]), nll: r.value, iterations: r.iterations, converged: r.converged, method };
  }
  const r = lbfgs((t) => {
    const v = temperatureNll(logits, labels, c, t[0]);
    return { value: v.nll, grad: Float64Array.of(v.dT) };
  }, [1], { maxIter: 20, lineSearch: "none", lr: 0.01, tolGrad: 1e-7, tolChange: 1e-9 });
  return { temperature: r.x[0], nll: r.value, iterations: r.iterations, converged: r.converged, method };
}

// ---------------------------------------------------------------------------------------------------------
// Calibration of a user's predictions (issue 22, `genlab calibrate`): every metric variant on weighted
// examples, so that a bootstrap resample is the same computation with multiplicities as weights. Exact
// definitions, conventions and which paper or library uses which: docs/calibration.md.
// ---------------------------------------------------------------------------------------------------------

/** Stable ids of the metrics of `calibrationMetrics`, in the order they are printed. */
export const CALIBRATION_METRICS = ["ece", "adaptive_ece", "classwise_ece", "mce", "l2_ece", "l2_ece_debiased", "nll", "brier", "accuracy"] as const;
export type CalibrationMetric = (typeof CALIBRATION_METRICS)[number];
export type CalibrationMetrics = Record<CalibrationMetric, number>;

/**
 * The equal-width bin of a probability p among `bins` bins on [0, 1]: bin b holds [b/B, (b+1)/B), the last
 * one [1 − 1/B, 1] (closed: a confidence of exactly 1 is in the last bin, not in a bin of its own as in
 * torchmetrics #3510), and a probability of exactly 0 is in the first (Guo et al.'s code, with bins
 * (lo, hi], drops it). Computed as min(B − 1, ⌊p·B⌋) in float64.
 */
export function binIndex(p: number, bins: number): number {
  if (!(p > 0)) return 0;
  return Math.min(bins - 1, Math.floor(p * bins));
}

/** Per-example quantities every metric is a weighted sum of, computed once for the point estimate and all resamples. */
export type PreparedCalibration = {
  n: number;
  c: number;
  bins: number;
  probs: ArrayLike<number>;
  labels: ArrayLike<number>;
  /** top-label confidence max_k p_ik, whether its argmax (first on ties) is the label, its equal-width bin */
  conf: Float64Array;
  correct: Uint8Array;
  topBin: Int32Array;
  /** examples by increasing confidence (ties by index): the equal-mass bins' order */
  order: Int32Array;
  /** equal-width bin of every p_ik, row-major [n × c] */
  classBin: Int32Array;
  nll: Float64Array;
  brier: Float64Array;
};

/**
 * Prepare probabilities [n × c] and integer labels in 0..c−1. With `logits` (the logits the probabilities
 * are softmax(z/T) of), the NLL is computed from them as logsumexp(z/T) − z_y/T, exact where p_y underflows;
 * otherwise as −ln max(p_y, 1e-300).
 */
export function prepareCalibration(probs: ArrayLike<number>, labels: ArrayLike<number>, c: number, opts: { bins?: number; logits?: ArrayLike<number>; temperature?: number } = {}): PreparedCalibration {
  const n = labels.length;
  const bins = opts.bins ?? 15;
  if (probs.length !== n * c) throw new RangeError(`calibration: ${probs.length} probabilities for ${n} rows of ${c}`);
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`calibration: bins must be a positive integer, got ${bins}`);
  if (n < 1 || c < 2) throw new RangeError(`calibration: needs at least one example and two classes, got ${n} × ${c}`);
  const conf = new Float64Array(n);
  const correct = new Uint8Array(n);
  const topBin = new Int32Array(n);
  const classBin = new Int32Array(n * c);
  const nll = new Float64Array(n);
  const brier = new Float64Array(n);
  const t = opts.temperature ?? 1;
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= c) throw new RangeError(`calibration: label ${y} of example ${i} is not in 0..${c - 1}`);
    let a = 0;
    let b = 0;
    for (let j = 0; j < c; j++) {
      const p = probs[i * c + j];
      if (p > probs[i * c + a]) a = j;
      classBin[i * c + j] = binIndex(p, bins);
      b += (p - (j === y ? 1 : 0)) ** 2;
    }
    conf[i] = probs[i * c + a];
    correct[i] = a === y ? 1 : 0;
    topBin[i] = binIndex(conf[i], bins);
    brier[i] = b;
    if (opts.logits) {
      let m = -Infinity;
      for (let j = 0; j < c; j++) m = Math.max(m, opts.logits[i * c + j] / t);
      let s = 0;
      for (let j = 0; j < c; j++) s += Math.exp(opts.logits[i * c + j] / t - m);
      nll[i] = m + Math.log(s) - opts.logits[i * c + y] / t;
    } else nll[i] = -Math.log(Math.max(probs[i * c + y], 1e-300));
  }
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((x, y) => conf[x] - conf[y] || x - y);
  return { n, c, bins, probs, labels, conf, correct, topBin, order, classBin, nll, brier };
}

export type BinSummary = { lo: number; hi: number; count: number; accuracy: number; confidence: number };

/**
 * Every metric on weighted examples (w = null: each example once; a bootstrap resample: its multiplicities).
 * With W = Σ w_i and bins B:
 *   ece (top-label, equal width; Guo et al. 2017 eq. 3)   Σ_b (W_b/W)·|acc_b − conf_b|
 *   adaptive_ece (top-label, equal mass)                  the same over bins of ⌈W/B⌉ or ⌊W/B⌋ examples by increasing
 *                                                         confidence (the r-th, 0-based, in bin ⌊r·B/W⌋)
 *   classwise_ece (equal width; Kull et al. 2019)         (1/C) Σ_k Σ_b (W_kb/W)·|mean_b 1[y = k] − mean_b p_k|
 *   mce (Naeini et al. 2015)                              max over non-empty equal-width bins of |acc_b − conf_b|
 *   l2_ece (top-label, equal width; the plug-in)          √(Σ_b (W_b/W)·(acc_b − conf_b)²)
 *   l2_ece_debiased (Kumar, Liang & Ma 2019, "Verified    √max(0, Σ_b (W_b/W)·[(acc_b − conf_b)² − acc_b(1 − acc_b)/(W_b − 1)]),
 *     uncertainty calibration"; their verified_          bins of fewer than 2 examples adding 0: the binned estimate minus its
 *     calibration library's unbiased_l2_ce)              sampling variance, so a calibrated model is not scored above 0 by noise
 *   nll                                                   (1/W) Σ w_i·(−ln p_{i,y_i})
 *   brier (Brier 1950, summed over classes: [0, 2])       (1/W) Σ w_i Σ_k (p_ik − 1[y_i = k])²
 */
export function calibrationMetrics(prep: PreparedCalibration, w: ArrayLike<number> | null = null): { metrics: CalibrationMetrics; bins: BinSummary[]; adaptiveBins: BinSummary[] } {
  const { n, c, bins: nb } = prep;
  const wt = (i: number) => (w ? w[i] : 1);
  let W = 0;
  let nll = 0;
  let brier = 0;
  let acc = 0;
  const cnt = new Float64Array(nb);
  const cor = new Float64Array(nb);
  const cf = new Float64Array(nb);
  const ccnt = new Float64Array(c * nb);
  const cy = new Float64Array(c * nb);
  const cp = new Float64Array(c * nb);
  for (let i = 0; i < n; i++) {
    const wi = wt(i);
    if (!wi) continue;
    W += wi;
    nll += wi * prep.nll[i];
    brier += wi * prep.brier[i];
    acc += wi * prep.correct[i];
    const b = prep.topBin[i];
    cnt[b] += wi;
    cor[b] += wi * prep.correct[i];
    cf[b] += wi * prep.conf[i];
    const y = prep.labels[i];
    for (let k = 0; k < c; k++) {
      const kb = k * nb + prep.classBin[i * c + k];
      ccnt[kb] += wi;
      cp[kb] += wi * prep.probs[i * c + k];
      if (k === y) cy[kb] += wi;
    }
  }
  let ece = 0;
  let mce = 0;
  let l2 = 0;
  let l2d = 0;
  const bins: BinSummary[] = [];
  for (let b = 0; b < nb; b++) {
    const a = cnt[b] ? cor[b] / cnt[b] : NaN;
    const f = cnt[b] ? cf[b] / cnt[b] : NaN;
    bins.push({ lo: b / nb, hi: (b + 1) / nb, count: cnt[b], accuracy: a, confidence: f });
    if (!cnt[b]) continue;
    ece += (cnt[b] / W) * Math.abs(a - f);
    mce = Math.max(mce, Math.abs(a - f));
    l2 += (cnt[b] / W) * (a - f) ** 2;
    if (cnt[b] >= 2) l2d += (cnt[b] / W) * ((a - f) ** 2 - (a * (1 - a)) / (cnt[b] - 1));
  }
  let classwise = 0;
  for (let kb = 0; kb < c * nb; kb++) if (ccnt[kb]) classwise += (ccnt[kb] / W) * Math.abs(cy[kb] / ccnt[kb] - cp[kb] / ccnt[kb]);
  classwise /= c;
  // equal mass: copies of an example with multiplicity w_i take w_i consecutive positions
  const acnt = new Float64Array(nb);
  const acor = new Float64Array(nb);
  const acf = new Float64Array(nb);
  const alo = new Float64Array(nb).fill(NaN);
  const ahi = new Float64Array(nb).fill(NaN);
  let r = 0;
  for (let k = 0; k < n; k++) {
    const i = prep.order[k];
    const wi = wt(i);
    for (let copy = 0; copy < wi; copy++, r++) {
      const b = Math.min(nb - 1, Math.floor((r * nb) / W));
      acnt[b]++;
      acor[b] += prep.correct[i];
      acf[b] += prep.conf[i];
      if (Number.isNaN(alo[b])) alo[b] = prep.conf[i];
      ahi[b] = prep.conf[i];
    }
  }
  let adaptive = 0;
  const adaptiveBins: BinSummary[] = [];
  for (let b = 0; b < nb; b++) {
    const a = acnt[b] ? acor[b] / acnt[b] : NaN;
    const f = acnt[b] ? acf[b] / acnt[b] : NaN;
    adaptiveBins.push({ lo: alo[b], hi: ahi[b], count: acnt[b], accuracy: a, confidence: f });
    if (acnt[b]) adaptive += (acnt[b] / W) * Math.abs(a - f);
  }
  return { metrics: { ece, adaptive_ece: adaptive, classwise_ece: classwise, mce, l2_ece: Math.sqrt(l2), l2_ece_debiased: Math.sqrt(Math.max(0, l2d)), nll: nll / W, brier: brier / W, accuracy: acc / W }, bins, adaptiveBins };
}

/**
 * A small deterministic host PRNG (sfc32, seeded through splitmix32 from `seed` and a `stream` number so that
 * the split and each bootstrap draw from their own stream). Returns uniform doubles in [0, 1) with 53 random
 * bits. Host-side because a bootstrap of 1000 × 60,000 indices through jax-js keys would allocate 240 MB.
 */
export function hostRng(seed: number, stream = 0): () => number {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`seed must be an integer in [0, 2^32), got ${seed}`);
  let s = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
  const splitmix = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = 1;
  const next = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 12; i++) next();
  return () => ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992;
}


export { quantileSorted };

export type MetricWithCi = { value: number; lo: number; hi: number };

/**
 * Every metric with a percentile bootstrap interval (Efron 1979): `resamples` resamples of the n examples
 * with replacement (multiplicities drawn from hostRng(seed, stream)), the interval the (1 ± level)/2
 * quantiles of the resampled metric. resamples = 0: no interval (lo = hi = NaN). The plug-in ECE is biased
 * upward, so for a nearly calibrated predictor the interval can lie entirely above the estimate
 * (docs/calibration.md).
 */
export function bootstrapCalibration(prep: PreparedCalibration, opts: { resamples?: number; level?: number; seed?: number; stream?: number } = {}): Record<CalibrationMetric, MetricWithCi> {
  const B = opts.resamples ?? 1000;
  const level = opts.level ?? 0.95;
  const point = calibrationMetrics(prep).metrics;
  const draws: Record<CalibrationMetric, Float64Array> = Object.fromEntries(CALIBRATION_METRICS.map((m) => [m, new Float64Array(B)])) as Record<CalibrationMetric, Float64Array>;
  const rng = hostRng(opts.seed ?? 0, opts.stream ?? 0);
  const w = new Float64Array(prep.n);
  for (let b = 0; b < B; b++) {
    w.fill(0);
    for (let j = 0; j < prep.n; j++) w[Math.floor(rng() * prep.n)]++;
    const m = calibrationMetrics(prep, w).metrics;
    for (const k of CALIBRATION_METRICS) draws[k][b] = m[k];
  }
  const out = {} as Record<CalibrationMetric, MetricWithCi>;
  for (const k of CALIBRATION_METRICS) {
    const s = draws[k].sort();
    out[k] = { value: point[k], lo: B ? quantileSorted(s, (1 - level) / 2) : NaN, hi: B ? quantileSorted(s, (1 + level) / 2) : NaN };
  }
  return out;
}

/**
 * A seeded split of the examples into a fit part and a held-out part, stratified by label: within each
 * class (in a hostRng(seed, stream) shuffle) the first round(fraction·n_k) examples are held out. Both parts
 * are returned in increasing index order.
 */
export function stratifiedSplit(labels: ArrayLike<number>, c: number, fraction: number, seed: number, stream = 0): { fit: Int32Array; held: Int32Array } {
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`holdout fraction must be in (0, 1), got ${fraction}`);
  const rng = hostRng(seed, stream);
  const byClass: number[][] = Array.from({ length: c }, () => []);
  for (let i = 0; i < labels.length; i++) byClass[labels[i]].push(i);
  const fit: number[] = [];
  const held: number[] = [];
  for (const idx of byClass) {
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    const h = Math.round(fraction * idx.length);
    // a loop, not push(...slice): a class of 10⁵ examples overflows the argument stack
    for (let k = 0; k < idx.length; k++) (k < h ? held : fit).push(idx[k]);
  }
  return { fit: Int32Array.from(fit).sort(), held: Int32Array.from(held).sort() };
}

/** Rows `idx` of a row-major [n × c] array. */
export function takeRows(a: ArrayLike<number>, c: number, idx: ArrayLike<number>): Float64Array {
  const out = new Float64Array(idx.length * c);
  for (let r = 0; r < idx.length; r++) for (let j = 0; j < c; j++) out[r * c + j] = a[idx[r] * c + j];
  return out;
}
