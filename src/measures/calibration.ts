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
