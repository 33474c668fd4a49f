/**
 * A data audit in the shape cleanlab's Datalab users know: per example, for every issue type, a score in
 * [0, 1] (lower = more severe, 1 = no sign of the issue) and a flag; per type, a dataset-level score (the mean
 * of the per-example scores, Datalab's convention) and the number flagged. Beside Datalab's label issues and
 * near-duplicates it adds the generalization issue types Datalab lacks:
 *
 *   label           score: out-of-sample p(given label) (K-fold cross-fit); flag: confident learning
 *                   (prune_by_noise_rate, Northcutt et al. 2021)
 *   near_duplicate  score: 1 − exp(−d/median d) of the nearest-neighbour distance d; flag: d < 0.13·median
 *                   (Datalab's rule and score), and always d = 0: an exact copy (scores/nearDuplicates.ts)
 *   outlier         score: exp(−d̄/median d̄) of the mean distance d̄ to the 10 nearest neighbours; flag:
 *                   d̄ > Q3 + 1.7·IQR (Datalab's rule and score on features, scores/outliers.ts)
 *   memorized       score: 1 − clip(m, 0, 1) with m the Feldman–Zhang estimate when it was computed, else the
 *                   labelled proxy p_in − p_out; flag: learned by the full-data fit (final epoch correct in a
 *                   majority of runs) but predicted wrongly out-of-sample (its own fold held it out)
 *   hard_to_learn   score: mean of σ(AUM), 1 − EL2N/√2 and 1/(1 + forgetting); flag: at least two of AUM < 0
 *                   (Pleiss et al. 2020), EL2N > 1/√2 at the score epoch (the predicted class is not the label
 *                   with confidence) and ≥ 2 forgetting events or never learned (Toneva et al. 2019)
 *   ambiguous       with training dynamics: score 1 − 2·variability (σ̂ ≤ 0.5 for probabilities); flag: σ̂ ≥ 0.2
 *                   (Swayamdipta et al. 2020's high-variability region). From out-of-sample probabilities alone
 *                   (`issues --pred-probs` without --dynamics): score p(1) − p(2), the gap between the two most
 *                   probable classes; flag: gap < 0.1 (margin-based uncertainty, genlab's threshold)
 *
 * The thresholds are genlab's, stated here and in docs/data-scores.md; the per-example scores are in the output
 * so that users can apply their own.
 */
import type { NearestNeighbours } from "./nearDuplicates.ts";
import { nearDuplicateIssues } from "./nearDuplicates.ts";
import { confidentThresholds } from "./confidentLearning.ts";
import { OUTLIER_K, outlierIssues } from "./outliers.ts";
import type { ScoreResult } from "./pipeline.ts";

export const ISSUE_TYPES = ["label", "near_duplicate", "outlier", "memorized", "hard_to_learn", "ambiguous"] as const;
export type IssueType = (typeof ISSUE_TYPES)[number];

export const ISSUE_DESCRIPTIONS: Record<IssueType, string> = {
  label: "The given label disagrees with what a model trained without the example predicts (confident learning on out-of-sample probabilities). Such examples are likely mislabeled.",
  near_duplicate: "The example is extremely close to another one relative to the rest of the dataset (exact or near copies inflate apparent accuracy and leak between splits).",
  outlier: "The example is far from its nearest neighbours relative to the rest of the dataset (its mean distance to its 10 nearest is above Q3 + 1.7 IQR): atypical, corrupted or out-of-distribution inputs.",
  memorized: "The network fits the example only when it trains on it: it is learned in-sample but predicted wrongly when held out (Feldman's memorization). Rare, atypical or mislabeled examples.",
  hard_to_learn: "The example is learned late or never: negative area under the margin, a high early error (EL2N) and repeated forgetting. Mislabeled or genuinely hard examples.",
  ambiguous: "The network's confidence in the label swings across epochs (high variability on the data map), or, from out-of-sample probabilities alone, the two most probable classes are within 0.1: examples near the decision boundary or with ambiguous labels.",
};

export type IssueTable = {
  n: number;
  types: IssueType[];
  /** `${type}_score` and `is_${type}_issue` per type, in type order. */
  columns: { name: string; values: Float64Array | Uint8Array }[];
  summary: { type: IssueType; numIssues: number; score: number }[];
};

const col = (r: ScoreResult, name: string) => r.columns.find((c) => c.name === name)?.values;
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** The gap p(1) − p(2) between the two most probable classes, and those classes, of probabilities [n × c]. */
export function topTwo(probs: Float32Array | Float64Array, n: number): { gap: Float64Array; first: Int32Array; second: Int32Array } {
  const c = probs.length / n;
  const gap = new Float64Array(n);
  const first = new Int32Array(n);
  const second = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let a = 0;
    let b = -1;
    for (let j = 1; j < c; j++) {
      const v = probs[i * c + j];
      if (v > probs[i * c + a]) {
        b = a;
        a = j;
      } else if (b < 0 || v > probs[i * c + b]) b = j;
    }
    first[i] = a;
    second[i] = b;
    gap[i] = b < 0 ? 1 : probs[i * c + a] - probs[i * c + b];
  }
  return { gap, first, second };
}

/** The ambiguity flag from out-of-sample probabilities alone: the two most probable classes within this gap. */
export const AMBIGUOUS_GAP = 0.1;

/**
 * The audit table. `nn`: the nearest neighbours of the features (k ≥ 2 for outliers); `types`: the types to
 * audit (default: every type the inputs allow).
 */
export function buildIssues(r: ScoreResult, opts: { labels: ArrayLike<number>; epochs: number; nn: NearestNeighbours | null; types?: Iterable<IssueType> }): IssueTable {
  const n = opts.labels.length;
  const wanted = new Set<IssueType>(opts.types ?? ISSUE_TYPES);
  const types: IssueType[] = [];
  const columns: IssueTable["columns"] = [];
  const summary: IssueTable["summary"] = [];
  const add = (type: IssueType, score: Float64Array, flag: Uint8Array) => {
    if (!wanted.has(type)) return;
    types.push(type);
    columns.push({ name: `${type}_score`, values: score }, { name: `is_${type}_issue`, values: flag });
    summary.push({ type, numIssues: flag.reduce((a, b) => a + b, 0), score: score.reduce((a, b) => a + b, 0) / n });
  };
  const sc = col(r, "cl_self_confidence");
  const clFlag = col(r, "cl_label_issue");
  if (sc && clFlag) add("label", Float64Array.from(sc), Uint8Array.from(clFlag));
  if (opts.nn) {
    const d = nearDuplicateIssues(opts.nn);
    add("near_duplicate", d.score, d.flag);
    if (opts.nn.k >= Math.min(OUTLIER_K, n - 1)) {
      const o = outlierIssues(opts.nn);
      add("outlier", o.score, o.flag);
    }
  }
  const fz = col(r, "memorization");
  const proxy = col(r, "memorization_proxy");
  if ((fz || proxy) && r.oosProbs && r.dynamics.length) {
    const m = (fz ?? proxy)!;
    const c = r.oosProbs.length / n;
    const last = r.dynamics.map((d) => d.values.correct!.subarray((d.epochs.length - 1) * n, d.epochs.length * n));
    const score = Float64Array.from(m, (v) => 1 - Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0)));
    const y = opts.labels;
    const flag = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const learned = last.reduce((a, row) => a + row[i], 0) > last.length / 2;
      let a = 0;
      for (let j = 1; j < c; j++) if (r.oosProbs[i * c + j] > r.oosProbs[i * c + a]) a = j;
      flag[i] = learned && a !== y[i] ? 1 : 0;
    }
    add("memorized", score, flag);
  }
  const aum = col(r, "aum");
  const el2n = col(r, "el2n");
  const forg = col(r, "forgetting");
  if (aum && el2n && forg) {
    const score = new Float64Array(n);
    const flag = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      score[i] = (sigmoid(aum[i]) + (1 - Math.min(1, el2n[i] / Math.SQRT2)) + 1 / (1 + forg[i])) / 3;
      const votes = Number(aum[i] < 0) + Number(el2n[i] > Math.SQRT1_2) + Number(forg[i] >= 2 || forg[i] >= opts.epochs);
      flag[i] = votes >= 2 ? 1 : 0;
    }
    add("hard_to_learn", score, flag);
  }
  const vari = col(r, "cartography_variability");
  if (vari) add("ambiguous", Float64Array.from(vari, (v) => Math.max(0, 1 - 2 * v)), Uint8Array.from(vari, (v) => (v >= 0.2 ? 1 : 0)));
  else if (r.oosProbs) {
    const { gap } = topTwo(r.oosProbs, n);
    add("ambiguous", gap, Uint8Array.from(gap, (g) => (g < AMBIGUOUS_GAP ? 1 : 0)));
  }
  return { n, types, columns, summary };
}

/**
 * Why each example is flagged, in words with the numbers that decided it: per flagged type, the score, its
 * value and the threshold or the rule, the class it is confused with (and its probability), its nearest
 * neighbour. "" for an example no type flags. Types joined by " | ". The same inputs as `buildIssues`.
 */
export function issueReasons(t: IssueTable, r: ScoreResult, opts: { labels: ArrayLike<number>; epochs: number; nn: NearestNeighbours | null }): string[] {
  const n = t.n;
  const flagOf = (type: IssueType) => t.columns.find((c) => c.name === `is_${type}_issue`)?.values;
  const out: string[][] = Array.from({ length: n }, () => []);
  const y = opts.labels;
  const probs = r.oosProbs;
  const c = probs ? probs.length / n : 0;
  const argmax = (i: number) => {
    let a = 0;
    for (let j = 1; j < c; j++) if (probs![i * c + j] > probs![i * c + a]) a = j;
    return a;
  };
  const f3 = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : String(v));
  const label = flagOf("label");
  if (label && probs) {
    const th = confidentThresholds(y, { data: probs, n, c });
    for (let i = 0; i < n; i++) {
      if (!label[i]) continue;
      const a = argmax(i);
      const k = a === y[i] ? -1 : a;
      out[i].push(`label: p(given ${y[i]}) = ${f3(probs[i * c + y[i]])} out of sample; ${k < 0 ? "no other class above its threshold" : `confused with ${k} (p = ${f3(probs[i * c + k])}, class ${k}'s confident threshold ${f3(th[k])})`}; flagged by confident learning (prune_by_noise_rate)`);
    }
  }
  const dup = flagOf("near_duplicate");
  if (dup && opts.nn) {
    const { median } = nearDuplicateIssues(opts.nn);
    for (let i = 0; i < n; i++) {
      if (!dup[i]) continue;
      const k = opts.nn.k;
      const d = opts.nn.distance[i * k];
      const j = opts.nn.index[i * k];
      out[i].push(opts.nn.group[i] === opts.nn.group[j] ? `near_duplicate: an exact copy of row ${j}` : `near_duplicate: ${opts.nn.metric} distance ${f3(d)} to row ${j} (flag: < 0.13 × median ${f3(median)}, or another row's nearest)`);
    }
  }
  const outl = flagOf("outlier");
  if (outl && opts.nn) {
    const o = outlierIssues(opts.nn);
    for (let i = 0; i < n; i++) if (outl[i]) out[i].push(`outlier: mean ${opts.nn.metric} distance to its ${o.k} nearest neighbours ${f3(o.meanDistance[i])} > ${f3(o.issueThreshold)} (Q3 + 1.7 IQR; median ${f3(o.median)}); nearest row ${opts.nn.index[i * o.k]}`);
  }
  const mem = flagOf("memorized");
  const m = col(r, "memorization") ?? col(r, "memorization_proxy");
  if (mem && probs && m) {
    for (let i = 0; i < n; i++) if (mem[i]) out[i].push(`memorized: learned in training but predicted ${argmax(i)} out of sample (p = ${f3(probs[i * c + argmax(i)])}); ${col(r, "memorization") ? "memorization" : "memorization proxy"} ${f3(m[i])}`);
  }
  const hard = flagOf("hard_to_learn");
  const aum = col(r, "aum");
  const el2n = col(r, "el2n");
  const forg = col(r, "forgetting");
  if (hard && aum && el2n && forg) {
    for (let i = 0; i < n; i++) {
      if (!hard[i]) continue;
      const why = [aum[i] < 0 ? `AUM ${f3(aum[i])} < 0` : "", el2n[i] > Math.SQRT1_2 ? `EL2N ${f3(el2n[i])} > 0.707` : "", forg[i] >= opts.epochs ? "never learned" : forg[i] >= 2 ? `${forg[i]} forgetting events ≥ 2` : ""].filter(Boolean);
      out[i].push(`hard_to_learn: ${why.join(", ")} (two of three)`);
    }
  }
  const amb = flagOf("ambiguous");
  const vari = col(r, "cartography_variability");
  if (amb && vari) for (let i = 0; i < n; i++) if (amb[i]) out[i].push(`ambiguous: variability of p(label) over epochs ${f3(vari[i])} ≥ 0.2`);
  if (amb && !vari && probs) {
    const tt = topTwo(probs, n);
    for (let i = 0; i < n; i++) if (amb[i]) out[i].push(`ambiguous: out of sample p = ${f3(probs[i * c + tt.first[i]])} for class ${tt.first[i]} and ${f3(probs[i * c + tt.second[i]])} for class ${tt.second[i]} (gap ${f3(tt.gap[i])} < ${AMBIGUOUS_GAP})`);
  }
  return out.map((x) => x.join(" | "));
}
