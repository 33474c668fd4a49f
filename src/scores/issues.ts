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
 *   memorized       score: 1 − clip(m, 0, 1) with m the Feldman–Zhang estimate when it was computed, else the
 *                   labelled proxy p_in − p_out; flag: learned by the full-data fit (final epoch correct in a
 *                   majority of runs) but predicted wrongly out-of-sample (its own fold held it out)
 *   hard_to_learn   score: mean of σ(AUM), 1 − EL2N/√2 and 1/(1 + forgetting); flag: at least two of AUM < 0
 *                   (Pleiss et al. 2020), EL2N > 1/√2 at the score epoch (the predicted class is not the label
 *                   with confidence) and ≥ 2 forgetting events or never learned (Toneva et al. 2019)
 *   ambiguous       score: 1 − 2·variability (σ̂ ≤ 0.5 for probabilities); flag: σ̂ ≥ 0.2 (Swayamdipta et
 *                   al. 2020's high-variability region)
 *
 * The thresholds are genlab's, stated here and in docs/data-scores.md; the per-example scores are in the output
 * so that users can apply their own.
 */
import type { NearestNeighbours } from "./nearDuplicates.ts";
import { nearDuplicateIssues } from "./nearDuplicates.ts";
import type { ScoreResult } from "./pipeline.ts";

export const ISSUE_TYPES = ["label", "near_duplicate", "memorized", "hard_to_learn", "ambiguous"] as const;
export type IssueType = (typeof ISSUE_TYPES)[number];

export const ISSUE_DESCRIPTIONS: Record<IssueType, string> = {
  label: "The given label disagrees with what a model trained without the example predicts (confident learning on out-of-sample probabilities). Such examples are likely mislabeled.",
  near_duplicate: "The example is extremely close to another one relative to the rest of the dataset (exact or near copies inflate apparent accuracy and leak between splits).",
  memorized: "The network fits the example only when it trains on it: it is learned in-sample but predicted wrongly when held out (Feldman's memorization). Rare, atypical or mislabeled examples.",
  hard_to_learn: "The example is learned late or never: negative area under the margin, a high early error (EL2N) and repeated forgetting. Mislabeled or genuinely hard examples.",
  ambiguous: "The network's confidence in the label swings across epochs (high variability on the data map): examples near the decision boundary or with ambiguous labels.",
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

export function buildIssues(r: ScoreResult, opts: { labels: ArrayLike<number>; epochs: number; nn: NearestNeighbours | null }): IssueTable {
  const n = opts.labels.length;
  const types: IssueType[] = [];
  const columns: IssueTable["columns"] = [];
  const summary: IssueTable["summary"] = [];
  const add = (type: IssueType, score: Float64Array, flag: Uint8Array) => {
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
  return { n, types, columns, summary };
}
