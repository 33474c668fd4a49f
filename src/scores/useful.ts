/**
 * USEFUL, "UpSample Early For Uniform Learning" (Nguyen, Haddad, Gan, Mirzasoleiman 2024, "Changing the
 * Training Data Distribution to Reduce Simplicity Bias Improves In-distribution Generalization", NeurIPS,
 * §4, Alg. 1): train for t_sep epochs; for every class separately, cluster the network's outputs of that
 * class's training examples into k = 2 groups by k-means; the cluster with the higher mean loss holds the
 * examples whose (fast-learnable) features were not learned early: upsample it once (duplicate it) and
 * retrain from scratch on the modified data. Host-side numbers only.
 */
import { splitKey, uniformFromKey, type Key } from "../core/prng.ts";
import { takeRows, type Dataset } from "../data/dataset.ts";

export const USEFUL_ID = "useful_slow_cluster";

/**
 * Lloyd's k-means on m rows of dimension d (row-major), k-means++ seeding (Arthur & Vassilvitskii 2007)
 * from a key (consumed), at most `iters` iterations. Deterministic for a key. Returns the assignment of
 * every row and the centres.
 */
export function kmeans(x: ArrayLike<number>, m: number, d: number, k: number, key: Key, iters = 100): { assign: Int32Array; centers: Float64Array; inertia: number } {
  if (x.length !== m * d) {
    key.dispose();
    throw new RangeError(`kmeans: ${x.length} values for ${m} rows of ${d}`);
  }
  if (m < k) {
    key.dispose();
    throw new RangeError(`kmeans: ${m} rows cannot form ${k} clusters`);
  }
  const u = uniformFromKey(key, k);
  const centers = new Float64Array(k * d);
  const dist2 = (i: number, c: number) => {
    let s = 0;
    for (let t = 0; t < d; t++) {
      const v = x[i * d + t] - centers[c * d + t];
      s += v * v;
    }
    return s;
  };
  // k-means++: the first centre uniformly, then each next with probability ∝ squared distance.
  const first = Math.min(m - 1, Math.floor(u[0] * m));
  for (let t = 0; t < d; t++) centers[t] = x[first * d + t];
  const best = new Float64Array(m).fill(Infinity);
  for (let c = 1; c < k; c++) {
    let total = 0;
    for (let i = 0; i < m; i++) {
      best[i] = Math.min(best[i], dist2(i, c - 1));
      total += best[i];
    }
    let pick = m - 1;
    if (total > 0) {
      let acc = 0;
      const target = u[c] * total;
      for (let i = 0; i < m; i++) {
        acc += best[i];
        if (acc > target) {
          pick = i;
          break;
        }
      }
    }
    for (let t = 0; t < d; t++) centers[c * d + t] = x[pick * d + t];
  }
  const assign = new Int32Array(m).fill(-1);
  let inertia = 0;
  for (let it = 0; it < iters; it++) {
    let changed = false;
    inertia = 0;
    for (let i = 0; i < m; i++) {
      let bc = 0;
      let bd = Infinity;
      for (let c = 0; c < k; c++) {
        const dd = dist2(i, c);
        if (dd < bd) {
          bd = dd;
          bc = c;
        }
      }
      inertia += bd;
      if (assign[i] !== bc) {
        assign[i] = bc;
        changed = true;
      }
    }
    if (!changed) break;
    const sums = new Float64Array(k * d);
    const counts = new Float64Array(k);
    for (let i = 0; i < m; i++) {
      counts[assign[i]]++;
      for (let t = 0; t < d; t++) sums[assign[i] * d + t] += x[i * d + t];
    }
    // an emptied cluster keeps its centre
    for (let c = 0; c < k; c++) if (counts[c] > 0) for (let t = 0; t < d; t++) centers[c * d + t] = sums[c * d + t] / counts[c];
  }
  return { assign, centers, inertia };
}

/**
 * The slow-learnable examples: per class, 2-means on the outputs ([N × d] logits at t_sep) of that class's
 * examples, and the cluster with the higher mean loss (`higher: false` picks the lower, the broken variant
 * used as a negative control). Returns sorted example indices. Consumes the key.
 */
export function usefulSlowCluster(outputs: ArrayLike<number>, d: number, losses: ArrayLike<number>, labels: ArrayLike<number>, numClasses: number, key: Key, opts: { higher?: boolean } = {}): Int32Array {
  const n = labels.length;
  if (outputs.length !== n * d || losses.length !== n) {
    key.dispose();
    throw new RangeError(`useful: ${outputs.length} outputs (d = ${d}) and ${losses.length} losses for ${n} labels`);
  }
  const keys = splitKey(key, numClasses);
  const picked: number[] = [];
  for (let c = 0; c < numClasses; c++) {
    const rows: number[] = [];
    for (let i = 0; i < n; i++) if (labels[i] === c) rows.push(i);
    if (rows.length < 2) {
      keys[c].dispose();
      continue;
    }
    const xs = new Float64Array(rows.length * d);
    rows.forEach((i, r) => {
      for (let t = 0; t < d; t++) xs[r * d + t] = outputs[i * d + t];
    });
    const { assign } = kmeans(xs, rows.length, d, 2, keys[c]);
    const mean = [0, 0];
    const cnt = [0, 0];
    rows.forEach((i, r) => {
      mean[assign[r]] += losses[i];
      cnt[assign[r]]++;
    });
    if (cnt[0] === 0 || cnt[1] === 0) continue; // one cluster: nothing separates
    const m0 = mean[0] / cnt[0];
    const m1 = mean[1] / cnt[1];
    const slow = (opts.higher ?? true) === m1 > m0 ? 1 : 0;
    rows.forEach((i, r) => {
      if (assign[r] === slow) picked.push(i);
    });
  }
  return Int32Array.from(picked).sort();
}

/** The dataset with the rows `idx` appended `times` more times (USEFUL upsamples once: times = 1). */
export function upsample(ds: Dataset, idx: ArrayLike<number>, times = 1): Dataset {
  const n = ds.xShape[0];
  const order = Int32Array.from({ length: n + idx.length * times }, (_, i) => (i < n ? i : idx[(i - n) % idx.length]));
  return takeRows(ds, order);
}
