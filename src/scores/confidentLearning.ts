/**
 * Confident learning (Northcutt, Jiang, Chuang 2021, "Confident Learning: Estimating Uncertainty in Dataset
 * Labels", JAIR, §3), the method of cleanlab's `find_label_issues`, on out-of-sample predicted
 * probabilities p̂ [N × C] (from K-fold cross-fitting: never the training fit's own predictions):
 *
 *   thresholds   t_j = mean of p̂_j(x) over the examples whose given label is j                  (eq. 2)
 *   confident joint C[ỹ][y*] counts examples with given label ỹ whose confident class is y*: the class
 *                with p̂_{y*} ≥ t_{y*} (the largest p̂ among several), examples above no threshold left out; the
 *                diagonal is clipped to ≥ 1                                                       (eq. 1)
 *   calibration  rows rescaled to the given-label counts, then the whole to N, rounded keeping row totals (eq. 3)
 *   prune_by_noise_rate (cleanlab's default filter): for every off-diagonal (ỹ = k, y* = j), flag the
 *                n·Q[k][j] examples labelled k with the largest margin p̂_j − p̂_k, keeping ≥ 1 per class;
 *                examples whose argmax equals their label are never flagged (as cleanlab 2.x does)
 *
 * The label-quality score for ranking is cleanlab's default, self-confidence p̂_{ỹ}(x) (id
 * "cl_self_confidence"; lower = more likely mislabeled). Checked against cleanlab's count.py/filter.py
 * logic (read, not copied).
 */
export const CL_SCORE_ID = "cl_self_confidence";
export const CL_FLAG_ID = "cl_label_issue";

export type Probs = { data: ArrayLike<number>; n: number; c: number };

function checkInputs(labels: ArrayLike<number>, p: Probs): void {
  if (labels.length !== p.n) throw new RangeError(`confident learning: ${labels.length} labels for ${p.n} rows of probabilities`);
  if (p.data.length !== p.n * p.c) throw new RangeError(`confident learning: probabilities hold ${p.data.length} values, expected ${p.n}×${p.c}`);
  for (let i = 0; i < labels.length; i++) if (!(labels[i] >= 0 && labels[i] < p.c && Number.isInteger(labels[i]))) throw new RangeError(`confident learning: label ${labels[i]} at row ${i} is outside 0..${p.c - 1}`);
}

/** Per-class thresholds t_j: the mean self-confidence of the examples labelled j (0 for an absent class). */
export function confidentThresholds(labels: ArrayLike<number>, p: Probs): Float64Array {
  checkInputs(labels, p);
  const sum = new Float64Array(p.c);
  const cnt = new Float64Array(p.c);
  for (let i = 0; i < p.n; i++) {
    const y = labels[i];
    sum[y] += p.data[i * p.c + y];
    cnt[y]++;
  }
  return sum.map((s, j) => (cnt[j] ? s / cnt[j] : 0));
}

/**
 * The confident joint (rows: given label, columns: confident class) and the rows that fall off its diagonal
 * (cleanlab's `compute_confident_joint(…, calibrate, return_indices_of_off_diagonals=True)`).
 */
export function confidentJoint(labels: ArrayLike<number>, p: Probs, opts: { calibrate?: boolean; thresholds?: ArrayLike<number> } = {}): { joint: number[][]; offDiagonal: Int32Array } {
  const t = opts.thresholds ?? confidentThresholds(labels, p);
  const c = p.c;
  const joint = Array.from({ length: c }, () => new Array<number>(c).fill(0));
  const off: number[] = [];
  for (let i = 0; i < p.n; i++) {
    let above = 0;
    let firstAbove = -1;
    let argmax = 0;
    for (let j = 0; j < c; j++) {
      const v = p.data[i * c + j];
      if (v >= t[j] - 1e-6) {
        above++;
        if (firstAbove < 0) firstAbove = j;
      }
      if (v > p.data[i * c + argmax]) argmax = j;
    }
    if (above === 0) continue;
    const guess = above > 1 ? argmax : firstAbove;
    joint[labels[i]][guess]++;
    if (guess !== labels[i]) off.push(i);
  }
  for (let j = 0; j < c; j++) joint[j][j] = Math.max(1, joint[j][j]);
  return { joint: opts.calibrate === false ? joint : calibrateJoint(joint, labels), offDiagonal: Int32Array.from(off) };
}

/** Rows rescaled to the given-label counts, the whole to N, then rounded so that each row keeps its total. */
export function calibrateJoint(joint: number[][], labels: ArrayLike<number>): number[][] {
  const c = joint.length;
  const counts = new Array<number>(c).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]]++;
  const rows = joint.map((row, j) => {
    const s = Math.max(row.reduce((a, b) => a + b, 0), 1e-16);
    return row.map((v) => (v / s) * counts[j]);
  });
  const total = Math.max(rows.flat().reduce((a, b) => a + b, 0), 1e-16);
  const n = counts.reduce((a, b) => a + b, 0);
  return roundPreservingRowTotals(rows.map((row) => row.map((v) => (v / total) * n)));
}

/** Round each row to integers whose sum is the row's rounded total, giving the remainder to the largest fractions. */
export function roundPreservingRowTotals(m: number[][]): number[][] {
  return m.map((row) => {
    const target = Math.round(row.reduce((a, b) => a + b, 0));
    const floors = row.map(Math.floor);
    let left = target - floors.reduce((a, b) => a + b, 0);
    const order = row.map((v, j) => [v - Math.floor(v), j] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    for (const [, j] of order) {
      if (left <= 0) break;
      floors[j]++;
      left--;
    }
    return floors;
  });
}

/** cleanlab's `_keep_at_least_n_per_class` on the prune-count matrix (true × given): diagonal ≥ n, noise rates reduced to match. */
function keepAtLeastPerClass(pcm: number[][], n: number): number[][] {
  const c = pcm.length;
  const out = pcm.map((r) => r.slice());
  for (let col = 0; col < c; col++) {
    const diag = pcm[col][col];
    const newDiag = Math.max(diag, n);
    const diff = newDiag - diag;
    let nonzero = 0;
    for (let r = 0; r < c; r++) if (pcm[r][col] !== 0) nonzero++;
    const rates = Math.max(nonzero - 1, 1);
    for (let r = 0; r < c; r++) out[r][col] = Math.max(0, pcm[r][col] - diff / rates);
    out[col][col] = newDiag;
  }
  return roundPreservingRowTotals(out);
}

export type FilterBy = "prune_by_noise_rate" | "confident_learning" | "predicted_neq_given";

/** Label issues as a 0/1 mask (cleanlab's `find_label_issues`, default filter prune_by_noise_rate). */
export function findLabelIssues(labels: ArrayLike<number>, p: Probs, opts: { filterBy?: FilterBy; minExamplesPerClass?: number } = {}): Uint8Array {
  checkInputs(labels, p);
  const { n, c } = p;
  const mask = new Uint8Array(n);
  const filterBy = opts.filterBy ?? "prune_by_noise_rate";
  const argmaxOf = (i: number) => {
    let a = 0;
    for (let j = 1; j < c; j++) if (p.data[i * c + j] > p.data[i * c + a]) a = j;
    return a;
  };
  if (filterBy === "predicted_neq_given") {
    for (let i = 0; i < n; i++) mask[i] = argmaxOf(i) !== labels[i] ? 1 : 0;
    return mask;
  }
  if (filterBy === "confident_learning") {
    // the rows off the diagonal of the (uncalibrated) joint, as cleanlab's filter_by="confident_learning"
    for (const i of confidentJoint(labels, p, { calibrate: false }).offDiagonal) mask[i] = 1;
  } else {
    const { joint } = confidentJoint(labels, p, { calibrate: true });
    const counts = new Array<number>(c).fill(0);
    for (let i = 0; i < n; i++) counts[labels[i]]++;
    // prune-count matrix [true j][given k] = joint[k][j]
    const pcm = keepAtLeastPerClass(Array.from({ length: c }, (_, j) => Array.from({ length: c }, (_, k) => joint[k][j])), opts.minExamplesPerClass ?? 1);
    for (let k = 0; k < c; k++) {
      if (counts[k] <= (opts.minExamplesPerClass ?? 1)) continue;
      const rows: number[] = [];
      for (let i = 0; i < n; i++) if (labels[i] === k) rows.push(i);
      for (let j = 0; j < c; j++) {
        const num = pcm[j][k];
        if (j === k || num <= 0) continue;
        const margins = rows.map((i) => p.data[i * c + j] - p.data[i * c + k]).sort((a, b) => b - a);
        const cut = margins[Math.min(num, margins.length) - 1];
        for (const i of rows) if (p.data[i * c + j] - p.data[i * c + k] >= cut) mask[i] = 1;
      }
    }
  }
  for (let i = 0; i < n; i++) if (mask[i] && argmaxOf(i) === labels[i]) mask[i] = 0;
  return mask;
}

/** Self-confidence p̂_{ỹ_i}(x_i): cleanlab's default label-quality score (lower = more likely an issue). */
export function selfConfidence(labels: ArrayLike<number>, p: Probs): Float64Array {
  checkInputs(labels, p);
  return Float64Array.from({ length: p.n }, (_, i) => p.data[i * p.c + labels[i]]);
}

/** cleanlab's `num_label_issues(estimation_method="off_diagonal_calibrated")`: N·(1 − trace of the normalised calibrated joint). */
export function estimatedNumLabelIssues(labels: ArrayLike<number>, p: Probs): number {
  const { joint } = confidentJoint(labels, p, { calibrate: true });
  const total = joint.flat().reduce((a, b) => a + b, 0);
  const trace = joint.reduce((a, r, j) => a + r[j], 0);
  return Math.round((1 - trace / total) * labels.length);
}
