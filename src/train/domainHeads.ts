/**
 * Domain-Specific Risk Minimization (Zhang et al., KDD 2023; specs-23-45.md §10; the official code,
 * yfzhang114/AdaNPC `domainbed/algorithms.py` class DRM and `adapt_algorithms.py` class DRMFull, read for this file):
 * one shared featurizer f, K domain heads h_1 … h_K and a pooled head h_{K+1}.
 *
 *   training    L = (1/K) Σ_i ½ [CE(h_i(f(x_i)), y_i) + CE(h_{K+1}(f(x_i)), y_i)], one minibatch x_i per domain
 *   selection   H_j = mean over the test batch of the softmax entropy of head j; predict the whole batch with
 *               argmin_j H_j, over all K + 1 heads (`DRM.forward`, lf_alg 'entropy')
 *   steering    per sample, w_j(x) ∝ H_j(x)^(−γ) L1-normalised over all K + 1 heads, p(x) = Σ_j w_j(x)
 *               softmax(h_j(f(x))) over the K domain heads (the official sum); predict argmax p, then pseudo-label the samples with max p ≥ β and take
 *               `steps` Adam steps on Σ_j CE(h_j(f(x)), ŷ) over them (all K + 1 heads, features frozen), the heads
 *               and the optimizer kept from batch to batch (DRMFull, label 'drm', not episodic)
 *
 * The heads are one dense layer of width (K + 1)·C, so every head costs one matmul together. Host-side selection
 * and steering helpers take logits as typed arrays [n, heads, classes].
 */
import { DType, jit, nn, numpy as np, valueAndGrad, type Array } from "@jax-js/jax";
import { splitKey, type Key } from "../core/prng.ts";
import { treeDispose, treeRef, type Tree } from "../core/tree.ts";
import { applyDense, applyMlp, initTorchLinear, mlpSpec, type DenseParams, type MlpParams, type MlpSpec } from "../nn/dense.ts";
import { softmaxCrossEntropy } from "../nn/losses.ts";
import { adam } from "../optim/aliases.ts";
import { applyUpdates, type OptState } from "../optim/transform.ts";

export type DomainHeadsSpec = {
  /** the shared featurizer (its last layer's width is the feature width; no activation after it, as DomainBed's MLP) */
  featurizer: MlpSpec;
  /** K training domains: the model has K + 1 heads (the last one pooled); K = 0 gives one head (ERM) */
  domains: number;
  classes: number;
};

export type DomainHeadsParams = { features: MlpParams; heads: DenseParams };

export const headCount = (spec: DomainHeadsSpec): number => spec.domains + 1;
const featureWidth = (spec: DomainHeadsSpec): number => spec.featurizer.dims[spec.featurizer.dims.length - 1];

/** PyTorch's default Linear init for the featurizer (unpadded) and the heads. Consumes key. */
export function initDomainHeads(spec: DomainHeadsSpec, key: Key): DomainHeadsParams {
  if (!Number.isInteger(spec.domains) || spec.domains < 0 || !Number.isInteger(spec.classes) || spec.classes < 2) {
    key.dispose();
    throw new RangeError(`initDomainHeads: need domains ≥ 0 and classes ≥ 2, got ${spec.domains} and ${spec.classes}`);
  }
  const [kf, kh] = splitKey(key, 2);
  const features = initTorchLinear(spec.featurizer, kf);
  const head = initTorchLinear(mlpSpec({ dims: [featureWidth(spec), headCount(spec) * spec.classes], padTo: 1 }), kh);
  return { features, heads: head.layers[0] };
}

/** Logits of every head on features [N, F]: [N, heads, C]. Consumes heads and feats. */
export function headLogits(spec: DomainHeadsSpec, heads: DenseParams, feats: Array): Array {
  const n = feats.shape[0];
  return applyDense(heads, feats).reshape([n, headCount(spec), spec.classes]);
}

/** Features of inputs [N, …]: [N, F]. Consumes params and x. */
export function domainFeatures(spec: DomainHeadsSpec, features: MlpParams, x: Array): Array {
  const n = x.shape[0];
  return applyMlp(spec.featurizer, features, x.reshape([n, -1]));
}

/** Logits of every head on inputs [N, …]: [N, heads, C]. Consumes params and x. */
export function applyDomainHeads(spec: DomainHeadsSpec, params: DomainHeadsParams, x: Array): Array {
  return headLogits(spec, params.heads, domainFeatures(spec, params.features, x));
}

/**
 * The DRM training loss on one minibatch per domain, stacked: x [B, K, …], y [B, K] (data/domains.ts
 * `stackDomains`); (1/K) Σ_i ½ [CE(head i) + CE(pooled head)] over domain i's rows. With K = 0 domains (one head,
 * ERM) x is [B, …] and y [B]. Consumes params, x and y.
 */
export function drmLoss(spec: DomainHeadsSpec, params: DomainHeadsParams, x: Array, y: Array): Array {
  const K = spec.domains;
  if (K === 0) return softmaxCrossEntropy(applyDomainHeads(spec, params, x).reshape([x.shape[0], spec.classes]), y);
  const [b, k] = x.shape;
  if (k !== K || y.shape[0] !== b || y.shape[1] !== K) {
    treeDispose([params, x, y]);
    throw new RangeError(`drmLoss: expected x [B, ${K}, …] and y [B, ${K}], got [${x.shape}] and [${y.shape}]`);
  }
  const logits = applyDomainHeads(spec, params, x.reshape([b * K, ...x.shape.slice(2)])).reshape([b, K, K + 1, spec.classes]);
  // head i on domain i's rows: a one-hot mask over the heads picks the diagonal
  const mask = np.eye(K, K + 1).reshape([1, K, K + 1, 1]).astype(logits.dtype);
  const own = logits.ref.mul(mask).sum(2);
  const pooled = logits.slice([], [], [K, K + 1], []).reshape([b, K, spec.classes]);
  // softmaxCrossEntropy averages over all B·K rows = (1/K) Σ_i (mean over domain i's B rows)
  return softmaxCrossEntropy(own, y.ref).add(softmaxCrossEntropy(pooled, y)).mul(0.5);
}

/** Softmax entropy (nats) of every row and head of logits [n, heads, C] (host, float64). */
export function headEntropies(logits: ArrayLike<number>, n: number, heads: number, classes: number): Float64Array {
  const out = new Float64Array(n * heads);
  for (let r = 0; r < n * heads; r++) {
    let m = -Infinity;
    for (let c = 0; c < classes; c++) m = Math.max(m, logits[r * classes + c]);
    let z = 0;
    let s = 0;
    for (let c = 0; c < classes; c++) {
      const e = Math.exp(logits[r * classes + c] - m);
      z += e;
      s += e * (logits[r * classes + c] - m);
    }
    out[r] = Math.log(z) - s / z;
  }
  return out;
}

export type HeadSelection = {
  /** the head chosen for each batch (argmin of its mean entropy) */
  chosen: number[];
  /** predicted class of every row */
  predictions: Int32Array;
  /** mean entropy of every head over every batch, [batch][head] */
  meanEntropy: number[][];
};

/**
 * DRM's selection: rows taken in batches of `batch` (the last one may be smaller), each batch predicted by the
 * head of lowest mean softmax entropy over it (ties: the lower index). Host-side, on logits [n, heads, C].
 */
export function selectHeadsByEntropy(logits: ArrayLike<number>, n: number, heads: number, classes: number, batch: number): HeadSelection {
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`selectHeadsByEntropy: batch must be an integer ≥ 1, got ${batch}`);
  const h = headEntropies(logits, n, heads, classes);
  const chosen: number[] = [];
  const meanEntropy: number[][] = [];
  const predictions = new Int32Array(n);
  for (let s = 0; s < n; s += batch) {
    const e = Math.min(n, s + batch);
    const means = globalThis.Array.from({ length: heads }, (_, j) => {
      let t = 0;
      for (let i = s; i < e; i++) t += h[i * heads + j];
      return t / (e - s);
    });
    let best = 0;
    for (let j = 1; j < heads; j++) if (means[j] < means[best]) best = j;
    chosen.push(best);
    meanEntropy.push(means);
    for (let i = s; i < e; i++) predictions[i] = argmaxRow(logits, (i * heads + best) * classes, classes);
  }
  return { chosen, predictions, meanEntropy };
}

/** Predicted class of every row by one head (host, on logits [n, heads, C]). */
export function headPredictions(logits: ArrayLike<number>, n: number, heads: number, classes: number, head: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => argmaxRow(logits, (i * heads + head) * classes, classes));
}

function argmaxRow(a: ArrayLike<number>, off: number, c: number): number {
  let b = 0;
  for (let k = 1; k < c; k++) if (a[off + k] > a[off + b]) b = k;
  return b;
}

/**
 * DRM's steering mixture for every row, as the official DRMFull ('drm' label mode): w_j ∝ H_j^(−γ), L1-normalised
 * over all heads, and p = Σ_j w_j softmax(logits_j) summed over the first `mixHeads` heads only (the K domain heads:
 * the pooled head's weight is dropped, so Σ_c p_c = 1 − w_pooled ≤ 1). γ < 0: each row's argmin-entropy head alone
 * (over all heads; when that is a head outside the mixture, that head's softmax is used — the official code leaves
 * such a row at p = 0). Returns p [n, C] (host, float64).
 */
export function steeredProbabilities(logits: ArrayLike<number>, n: number, heads: number, classes: number, gamma: number, mixHeads = heads): Float64Array {
  if (!Number.isInteger(mixHeads) || mixHeads < 1 || mixHeads > heads) throw new RangeError(`steeredProbabilities: mixHeads must be in [1, ${heads}], got ${mixHeads}`);
  const h = headEntropies(logits, n, heads, classes);
  const p = new Float64Array(n * classes);
  const w = new Float64Array(heads);
  for (let i = 0; i < n; i++) {
    let use = mixHeads;
    if (gamma < 0) {
      let best = 0;
      for (let j = 1; j < heads; j++) if (h[i * heads + j] < h[i * heads + best]) best = j;
      w.fill(0);
      w[best] = 1;
      use = Math.max(mixHeads, best + 1);
    } else {
      let z = 0;
      for (let j = 0; j < heads; j++) {
        // entropies of a saturated head underflow to 0: floor them so that its weight is large but finite
        w[j] = Math.pow(Math.max(h[i * heads + j], 1e-12), -gamma);
        z += w[j];
      }
      for (let j = 0; j < heads; j++) w[j] /= z;
    }
    for (let j = 0; j < use; j++) {
      if (w[j] === 0) continue;
      const off = (i * heads + j) * classes;
      let m = -Infinity;
      for (let c = 0; c < classes; c++) m = Math.max(m, logits[off + c]);
      let z = 0;
      for (let c = 0; c < classes; c++) z += Math.exp(logits[off + c] - m);
      for (let c = 0; c < classes; c++) p[i * classes + c] += (w[j] * Math.exp(logits[off + c] - m)) / z;
    }
  }
  return p;
}

export type SteeringSettings = {
  /** test rows per batch (the spec's 64) */
  batch: number;
  /** pseudo-label confidence threshold β on max p */
  beta: number;
  /** entropy exponent γ */
  gamma: number;
  /** Adam learning rate of the heads (the training lr × α) */
  lr: number;
  /** Adam steps per batch */
  steps: number;
};

export type SteeringResult = {
  /** prediction of every row, made before that batch's update */
  predictions: Int32Array;
  /** rows that were pseudo-labelled (max p ≥ β) */
  pseudoLabelled: number;
  /** of those, how many pseudo-labels were right (when labels were given) */
  pseudoCorrect: number | null;
};

/**
 * DRM-steer, online over the rows in order: for every batch, predict with the steered mixture of the K domain heads,
 * then update all heads (not the featurizer) by `steps` Adam steps on the cross-entropy of every head against the
 * confident pseudo-labels (summed over heads, each a mean over the confident rows). Params are only read (the
 * adapted heads are disposed at the end). `labels`, when given, only count how many pseudo-labels were right.
 */
export async function steerAndAdapt(spec: DomainHeadsSpec, params: DomainHeadsParams, x: Float32Array, n: number, s: SteeringSettings, labels?: ArrayLike<number>): Promise<SteeringResult> {
  const heads = headCount(spec);
  const C = spec.classes;
  const d = x.length / n;
  if (!Number.isInteger(d)) throw new RangeError(`steerAndAdapt: ${x.length} values are not ${n} rows`);
  if (spec.domains < 1) throw new RangeError("steerAndAdapt: needs a model with domain heads (domains ≥ 1)");
  const xs = np.array(x as Float32Array<ArrayBuffer>, { shape: [n, d] });
  const feats = domainFeatures(spec, treeRef(params.features), xs);
  let hp: DenseParams = treeRef(params.heads);
  const opt = adam(s.lr);
  let state: OptState = opt.init(treeRef(hp));
  const step = jit((p: DenseParams, st: OptState, f: Array, yb: Array, m: Array): [DenseParams, OptState] => {
    const [lossValue, g] = valueAndGrad((q: DenseParams) => {
      const lg = headLogits(spec, q, f.ref);
      // Σ over heads of the mean CE over the confident rows (mask m ∈ {0, 1}, count ≥ 1)
      const logp = nn.logSoftmax(lg, -1);
      const oh = nn.oneHot(yb.ref, C).astype(logp.dtype).reshape([-1, 1, C]);
      const perRow = logp.mul(oh).sum(-1).neg().sum(-1);
      return perRow.mul(m.ref).sum().div(m.ref.sum());
    })(treeRef(p) as never) as unknown as [Array, DenseParams];
    treeDispose([lossValue, f, yb, m]);
    const [u, st2] = opt.update(g as Tree, st, treeRef(p) as Tree);
    return [applyUpdates(p as Tree, u) as DenseParams, st2];
  }) as unknown as ((p: DenseParams, st: OptState, f: Array, y: Array, m: Array) => [DenseParams, OptState]) & { dispose(): void };
  const predictions = new Int32Array(n);
  let pseudoLabelled = 0;
  let pseudoCorrect = 0;
  try {
    for (let start = 0; start < n; start += s.batch) {
      const e = Math.min(n, start + s.batch);
      const fb = feats.ref.slice([start, e]);
      try {
        const lg = (await headLogits(spec, treeRef(hp), fb.ref).data()) as Float32Array;
        const p = steeredProbabilities(lg, e - start, heads, C, s.gamma, spec.domains);
        const yb = new Int32Array(e - start);
        const mb = new Float32Array(e - start);
        let confident = 0;
        for (let i = 0; i < e - start; i++) {
          const c = argmaxRow(p, i * C, C);
          predictions[start + i] = c;
          yb[i] = c;
          if (p[i * C + c] >= s.beta) {
            mb[i] = 1;
            confident++;
            if (labels && labels[start + i] === c) pseudoCorrect++;
          }
        }
        pseudoLabelled += confident;
        if (confident === 0) continue;
        for (let t = 0; t < s.steps; t++) {
          [hp, state] = step(hp, state, fb.ref, np.array(yb, { dtype: DType.Int32 }), np.array(mb));
        }
      } finally {
        fb.dispose();
      }
    }
    return { predictions, pseudoLabelled, pseudoCorrect: labels ? pseudoCorrect : null };
  } finally {
    treeDispose([feats, hp, state]);
    step.dispose();
  }
}

/** Logits of every head on host rows x (n × d), in chunks: [n, heads, C] (host). Params are only read. */
export async function domainHeadLogits(spec: DomainHeadsSpec, params: DomainHeadsParams, x: Float32Array, n: number, chunk = 2048): Promise<Float32Array> {
  const d = x.length / n;
  if (!Number.isInteger(d)) throw new RangeError(`domainHeadLogits: ${x.length} values are not ${n} rows`);
  const out = new Float32Array(n * headCount(spec) * spec.classes);
  for (let s = 0; s < n; s += chunk) {
    const e = Math.min(n, s + chunk);
    const xb = np.array(x.subarray(s * d, e * d) as Float32Array<ArrayBuffer>, { shape: [e - s, d] });
    out.set((await applyDomainHeads(spec, treeRef(params), xb).data()) as Float32Array, s * headCount(spec) * spec.classes);
  }
  return out;
}
