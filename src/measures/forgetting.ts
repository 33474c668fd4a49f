/**
 * Continual-learning summaries of an accuracy matrix R (R[i][n]: after learning task i, accuracy on task n, n ≤ i),
 * as Smith et al. ("A Closer Look at Rehearsal-Free Continual Learning", CVPRW 2023; specs-23-45.md §20) and their
 * code (`process_results.py`, "Class FGT") define them:
 *
 *   A_{1:i}   accuracy on every class seen after task i: Σ_n (|T_n| / |T_{1:i}|) R[i][n]
 *   F^G_N     global forgetting, (1/(N − 1)) Σ_{i=2}^N Σ_{n<i} (|T_n| / |T_{1:i}|) (R[n][n] − R[i][n])
 *
 * |T_n| is a task's size (its number of classes or test rows; equal sizes give the code's 1/(t + 1)).
 */

function checkMatrix(R: readonly (readonly number[])[], sizes: readonly number[]): void {
  if (R.length < 1) throw new RangeError("forgetting: an empty accuracy matrix");
  if (sizes.length < R.length || sizes.some((s) => !(s > 0))) throw new RangeError(`forgetting: need a positive size for each of the ${R.length} tasks, got [${sizes.join(", ")}]`);
  R.forEach((row, i) => {
    if (row.length !== i + 1 || row.some((v) => !Number.isFinite(v))) throw new RangeError(`forgetting: row ${i} must hold ${i + 1} finite accuracies (tasks 0 … ${i}), got [${row.join(", ")}]`);
  });
}

/** A_{1:i} after every task i. */
export function seenAccuracy(R: readonly (readonly number[])[], sizes: readonly number[]): number[] {
  checkMatrix(R, sizes);
  return R.map((row) => {
    const total = row.reduce((s, _, n) => s + sizes[n], 0);
    return row.reduce((s, a, n) => s + (sizes[n] / total) * a, 0);
  });
}

/** F^G after the last task (0 for a single task). */
export function globalForgetting(R: readonly (readonly number[])[], sizes: readonly number[]): number {
  checkMatrix(R, sizes);
  const N = R.length;
  if (N < 2) return 0;
  let f = 0;
  for (let i = 1; i < N; i++) {
    const total = R[i].reduce((s, _, n) => s + sizes[n], 0);
    for (let n = 0; n < i; n++) f += (sizes[n] / total) * (R[n][n] - R[i][n]);
  }
  return f / (N - 1);
}
