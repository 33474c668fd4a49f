/**
 * Rehearsal-free continual learning (Smith et al., "A Closer Look at Rehearsal-Free Continual Learning", CVPRW 2023;
 * specs-23-45.md §20; the official code, shaunak27/data-free-continual-learning at 5388102, `learners/kd.py`, read for
 * this file). Class-incremental: task t adds its classes, the model predicts among every class seen so far (logits
 * 0 … seen − 1; tasks' classes are relabelled so that the seen classes are a prefix), with no task id at test time.
 *
 *   naive      softmax cross-entropy over the seen logits (the official NormalNN)
 *   BCE        sigmoid binary cross-entropy over the seen logits, mean over rows × seen classes, × 5 (ce_loss_scale)
 *   PredKD     BCE whose targets on the past classes are the previous model's sigmoid outputs on the current
 *              task's inputs instead of 0 (LwF_MC: no temperature, no separate weight)
 *   FeatKD     mean squared distance of the penultimate features to the previous model's, × μ
 *   EWC / L2   Σ_j F_j (θ_j − θ*_j)², F the diagonal importance (EWC) or 1 (L2), over the backbone (not the
 *              classifier), θ* the previous task's weights (L2 on task 1: the initial weights)
 *
 * `runTaskSequence` trains task after task and fills the accuracy matrix R[i][n] (after task i, accuracy on task n's
 * test rows over the logits of every class seen by then); measures/forgetting.ts turns it into F^G and A.
 */
import { nn, numpy as np, type Array } from "@jax-js/jax";
import { treeDispose, treeLeaves, treeRef, type Tree } from "../core/tree.ts";
import type { Dataset } from "../data/dataset.ts";
import { logisticLoss } from "../nn/losses.ts";

/** Softmax cross-entropy over the first `seen` logits (naive fine-tuning). Consumes logits and labels. */
export function seenSoftmaxCe(logits: Array, labels: Array, seen: number): Array {
  const z = logits.slice([], [0, seen]);
  return nn.logSoftmax(z, -1).mul(nn.oneHot(labels, seen).astype(logits.dtype)).sum(-1).mean().neg();
}

/**
 * Mean sigmoid binary cross-entropy of logits against targets in [0, 1] (same shape): −[t log σ(z) + (1 − t)
 * log(1 − σ(z))] = softplus(z) − t z, the logistic loss of nn/losses.ts with soft targets. Consumes both.
 */
export function sigmoidBce(logits: Array, targets: Array): Array {
  return logisticLoss(logits, targets);
}

/**
 * The class-incremental BCE loss over the first `seen` logits: one-hot targets of the labels, and on the first
 * `teacher.shape[1]` columns (the past classes) the teacher's sigmoid outputs when a teacher is given (PredKD; its
 * logits are consumed and not differentiated), × `scale` (the official 5). Consumes logits, labels and teacher.
 */
export function predKdBce(logits: Array, labels: Array, seen: number, teacher: Array | null, scale = 5): Array {
  let target = nn.oneHot(labels, seen).astype(logits.dtype);
  if (teacher) {
    const past = teacher.shape[1];
    if (past >= seen) {
      treeDispose([logits, target, teacher]);
      throw new RangeError(`predKdBce: the teacher covers ${past} classes, not fewer than the ${seen} seen`);
    }
    const soft = nn.sigmoid(teacher);
    target = np.concatenate([soft, target.slice([], [past, seen])], 1);
  }
  return sigmoidBce(logits.slice([], [0, seen]), target).mul(scale);
}

/** FeatKD: mean squared difference of features to the previous model's (mean over rows and dimensions). Consumes both. */
export function featureDistillation(features: Array, teacherFeatures: Array): Array {
  return np.square(features.sub(teacherFeatures)).mean();
}

/**
 * Σ_j w_j (θ_j − θ*_j)² over the leaves of `params` against `anchor` (same tree shape), with importance weights
 * `importance` (EWC's diagonal Fisher) or 1 (L2, importance null). Consumes params; anchor and importance are only
 * read (they stay fixed over a task: the caller owns them).
 */
export function anchorPenalty(params: Tree, anchor: Tree, importance: Tree | null): Array {
  const ps = treeLeaves(params);
  const as = treeLeaves(anchor);
  if (ps.length === 0) throw new RangeError("anchorPenalty: no parameters");
  const ws = importance ? treeLeaves(importance) : null;
  if (as.length !== ps.length || (ws && ws.length !== ps.length)) {
    treeDispose(params);
    throw new RangeError(`anchorPenalty: ${ps.length} parameter leaves, ${as.length} anchor leaves${ws ? `, ${ws.length} importance leaves` : ""}`);
  }
  let total: Array | null = null;
  ps.forEach((p, i) => {
    let sq = np.square(p.sub(as[i].ref));
    if (ws) sq = sq.mul(ws[i].ref);
    const s = sq.sum();
    total = total ? total.add(s) : s;
  });
  return total!;
}

export type TaskData = { name: string; train: Dataset; test: Dataset; /** classes seen once this task is learned */ seen: number };

export type TaskSequenceConfig<P extends Tree> = {
  tasks: TaskData[];
  /** the initial parameters (consumed) */
  init: P;
  /**
   * Learn task t from `params` (consumed); `previous` is the model after task t − 1 (null on task 0), only read: a
   * frozen teacher and anchor. Returns the new parameters.
   */
  learn: (t: number, params: P, previous: P | null) => Promise<P>;
  /** Accuracy of `params` (only read) on test rows over the first `seen` logits. */
  accuracy: (params: P, test: Dataset, seen: number) => Promise<number>;
  /** Called after task t with the row R[t] of the accuracy matrix. */
  onTask?: (t: number, row: number[]) => void | Promise<void>;
};

export type TaskSequenceResult<P extends Tree> = {
  /** R[i][n]: after learning task i, accuracy on task n's test rows (n ≤ i) over every class seen after task i */
  accuracy: number[][];
  /** the final parameters (owned by the caller) */
  params: P;
};

/** Learn the tasks in order, keeping the previous model as a frozen copy, and fill the accuracy matrix. */
export async function runTaskSequence<P extends Tree>(cfg: TaskSequenceConfig<P>): Promise<TaskSequenceResult<P>> {
  let params = cfg.init;
  let previous: P | null = null;
  const R: number[][] = [];
  try {
    for (let t = 0; t < cfg.tasks.length; t++) {
      const next: P = await cfg.learn(t, treeRef(params), previous);
      if (previous) treeDispose(previous);
      previous = null;
      treeDispose(params);
      params = next;
      const row: number[] = [];
      for (let n = 0; n <= t; n++) row.push(await cfg.accuracy(params, cfg.tasks[n].test, cfg.tasks[t].seen));
      R.push(row);
      await cfg.onTask?.(t, row);
      previous = treeRef(params);
    }
    if (previous) treeDispose(previous);
    return { accuracy: R, params };
  } catch (e) {
    treeDispose([params, previous ?? []]);
    throw e;
  }
}

/**
 * A continual-learning method as data (declarable in any experiment's settings): the classifier loss, whether the
 * past classes' BCE targets come from the previous model (PredKD), and the weights of FeatKD, EWC and L2.
 */
export type ContinualMethod = {
  classifier: "softmax" | "bce";
  /** BCE targets on the past classes from the previous model (PredKD; needs classifier "bce") */
  predKd: boolean;
  /** weight μ of FeatKD (the official 5) */
  featKd: number;
  /** weight μ of EWC, applied as ½ μ Σ F (θ − θ*)² (the official 10) */
  ewc: number;
  /** weight of L2, applied as w Σ (θ − θ*)² (the official 0.05) */
  l2: number;
  /** the BCE loss's scale (the official 5) */
  bceScale?: number;
};

export type ContinualTerms = {
  logits: Array;
  labels: Array;
  seen: number;
  /** the previous model's logits on the past classes (PredKD), or null */
  teacherLogits?: Array | null;
  /** penultimate features and the previous model's (FeatKD) */
  features?: Array | null;
  teacherFeatures?: Array | null;
  /** the regularised parameters (the backbone), the anchor θ* and the EWC importance (null before any Fisher) */
  params?: Tree | null;
  anchor?: Tree | null;
  importance?: Tree | null;
};

/**
 * The method's training loss. A term with weight 0 (or PredKD off) is left out entirely, so that EWC with μ = 0 is
 * exactly naive fine-tuning. Consumes logits, labels, teacher logits, features and params; anchor and importance
 * are only read.
 */
export function continualObjective(m: ContinualMethod, t: ContinualTerms): Array {
  const drop = (a: Tree | null | undefined) => a && treeDispose(a);
  if (m.predKd && m.classifier !== "bce") {
    treeDispose([t.logits, t.labels]);
    [t.teacherLogits, t.features, t.teacherFeatures, t.params].forEach(drop);
    throw new RangeError("continualObjective: PredKD distils through the BCE classifier (classifier: \"bce\")");
  }
  const teacher = m.predKd ? (t.teacherLogits ?? null) : (drop(t.teacherLogits), null);
  let loss = m.classifier === "softmax" ? seenSoftmaxCe(t.logits, t.labels, t.seen) : predKdBce(t.logits, t.labels, t.seen, teacher, m.bceScale ?? 5);
  if (m.featKd > 0 && t.features && t.teacherFeatures) loss = loss.add(featureDistillation(t.features, t.teacherFeatures).mul(m.featKd));
  else [t.features, t.teacherFeatures].forEach(drop);
  const ewc = m.ewc > 0 && t.params && t.anchor && t.importance;
  const l2 = m.l2 > 0 && t.params && t.anchor;
  if (ewc) loss = loss.add(anchorPenalty(l2 ? treeRef(t.params!) : t.params!, t.anchor!, t.importance!).mul(0.5 * m.ewc));
  if (l2) loss = loss.add(anchorPenalty(t.params!, t.anchor!, null).mul(m.l2));
  if (!ewc && !l2) drop(t.params);
  return loss;
}
