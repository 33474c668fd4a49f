/**
 * Near-duplicates, as cleanlab's Datalab finds them (its `NearDuplicateIssueManager`): the distance d_i of
 * every example to its nearest other example, in cosine distance for features of more than 3 dimensions
 * and Euclidean otherwise (the metric Datalab picks by default); an example is a near-duplicate when
 * d_i < 0.13 · median_j d_j, and its score is 1 − exp(−d_i / median) (0: an exact duplicate, up to float32 round-off of 1e-6; lower = more
 * severe). id "near_duplicate". The nearest neighbour is found exactly, by batched matmuls on the engine
 * (rows × N distances at a time, never the N × N matrix).
 *
 * Exact duplicates (rows equal in every feature, −0 = 0) are found on the host, not through the metric: their
 * distance is 0 and their neighbour is a copy, whatever the metric and its float32 round-off (‖a‖² + ‖b‖² − 2a·b
 * of two equal rows is not 0), and they are always flagged, even when they are the majority and the median
 * is 0 (issue 21). A zero row has no direction: under cosine its distance to a zero row is 0 (an exact
 * duplicate) and to any non-zero row 1 (as if orthogonal), so it is a near-duplicate only of another zero row.
 */
import { DType, jit, numpy as np, type Array } from "@jax-js/jax";

export const NEAR_DUPLICATE_ID = "near_duplicate";

/**
 * The k nearest other rows of every row, nearest first: row i's neighbours are index[i·k .. i·k + k − 1], at
 * distance[i·k ..] (ties: the lower row first). k = 1 is the nearest neighbour of the near-duplicate audit.
 */
export type NearestNeighbours = {
  k: number;
  index: Int32Array;
  distance: Float64Array;
  metric: "cosine" | "euclidean";
  /** The first row equal to each row in every feature (itself when none before it): rows i, j are exact copies iff group agrees. */
  group: Int32Array;
};

/** The nearest neighbour of every row (column 0 of a k-nearest result; the same object when k = 1). */
export function firstNeighbours(nn: NearestNeighbours): NearestNeighbours {
  if (nn.k === 1) return nn;
  const n = nn.index.length / nn.k;
  return { k: 1, metric: nn.metric, group: nn.group, index: Int32Array.from({ length: n }, (_, i) => nn.index[i * nn.k]), distance: Float64Array.from({ length: n }, (_, i) => nn.distance[i * nn.k]) };
}

/**
 * The k nearest other rows of every row of x ([n × d], row-major); k = 1 by default, at most n − 1.
 * `onProgress(done, n)` after each block. k = 1 takes the minimum on the engine; k > 1 reads each block of
 * distances back and keeps the k smallest per row on the host (the engine's top-k sorts whole rows: 50× slower).
 */
export async function nearestNeighbours(x: Float32Array, n: number, d: number, opts: { k?: number; metric?: "cosine" | "euclidean"; block?: number; onProgress?: (done: number, total: number) => void } = {}): Promise<NearestNeighbours> {
  if (x.length !== n * d) throw new RangeError(`nearestNeighbours: ${x.length} values for ${n} rows of ${d}`);
  if (n < 2) throw new RangeError("nearestNeighbours: needs at least 2 examples");
  const k = opts.k ?? 1;
  if (!Number.isInteger(k) || k < 1 || k > n - 1) throw new RangeError(`nearestNeighbours: k = ${k} is not in 1..${n - 1}`);
  const metric = opts.metric ?? (d > 3 ? "cosine" : "euclidean");
  const rows = new Float32Array(x);
  const { copy, first } = exactCopies(rows, n, d);
  if (metric === "euclidean") {
    // Euclidean distances do not change under a shift; centred rows keep ‖a‖² + ‖b‖² − 2a·b from cancelling
    // in float32 when the features sit far from 0 (100 + noise: every distance was lost)
    const mean = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) mean[t] += rows[i * d + t] / n;
    for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) rows[i * d + t] -= mean[t];
  }
  const sq = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = 0; t < d; t++) s += rows[i * d + t] * rows[i * d + t];
    if (metric === "cosine") {
      const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
      for (let t = 0; t < d; t++) rows[i * d + t] *= inv;
      sq[i] = s > 0 ? 1 : 0;
    } else sq[i] = s;
  }
  // Xᵀ once, so that every block is a plain A·B product (transposed operands leave the fast paths).
  const xt = new Float32Array(d * n);
  for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) xt[t * n + i] = rows[i * d + t];
  const bt = np.array(xt, { shape: [d, n] });
  const sqAll = np.array(sq, { shape: [1, n] });
  const block = Math.max(1, Math.min(opts.block ?? Math.floor((1 << 24) / n), n));
  // squared distance (Euclidean) or 1 − cos, with the row itself pushed out of reach
  const f = jit((a: Array, sqA: Array, rowIdx: Array, b: Array, sqB: Array) => {
    const m = a.shape[0];
    const dots = np.matmul(a, b);
    const dist = metric === "cosine" ? (sqA.dispose(), sqB.dispose(), dots.mul(-1).add(1)) : sqA.reshape([m, 1]).add(sqB).sub(dots.mul(2));
    const self = np.arange(n).reshape([1, n]).equal(rowIdx.reshape([m, 1])).astype(DType.Float32);
    const masked = dist.add(self.mul(1e30));
    return k === 1 ? [np.argmin(masked.ref, 1), masked.min(1)] : [masked];
  }) as unknown as ((a: Array, sqA: Array, self: Array, b: Array, sqB: Array) => Array[]) & { dispose(): void };
  const index = new Int32Array(n * k);
  const distance = new Float64Array(n * k);
  const toDistance = (v: number) => (metric === "cosine" ? Math.max(0, v) : Math.sqrt(Math.max(0, v)));
  try {
    for (let s = 0; s < n; s += block) {
      const e = Math.min(n, s + block);
      const m = e - s;
      const rowIdx = np.array(Int32Array.from({ length: m }, (_, r) => s + r), { dtype: DType.Int32 });
      const out = f(np.array(rows.subarray(s * d, e * d), { shape: [m, d] }), np.array(sq.subarray(s, e)), rowIdx, bt.ref, sqAll.ref);
      if (k === 1) {
        index.set((await out[0].astype(DType.Int32).data()) as Int32Array, s);
        const dv = (await out[1].data()) as Float32Array;
        for (let r = 0; r < m; r++) distance[s + r] = toDistance(dv[r]);
      } else {
        const dv = (await out[0].data()) as Float32Array;
        for (let r = 0; r < m; r++) smallestK(dv.subarray(r * n, (r + 1) * n), k, index.subarray((s + r) * k, (s + r + 1) * k), distance.subarray((s + r) * k, (s + r + 1) * k));
        for (let t = s * k; t < e * k; t++) distance[t] = toDistance(distance[t]);
      }
      opts.onProgress?.(e, n);
    }
  } finally {
    f.dispose();
    bt.dispose();
    sqAll.dispose();
  }
  // The engine's float32 distances chose the candidates; the reported distances are recomputed exactly (float64,
  // from the input rows), and every exact copy of a row comes first at distance 0, as many as fit in k
  // (Datalab's correction of its k-NN graph), whatever the candidates were.
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) if (copy[i] >= 0) (groups.get(first[i]) ?? groups.set(first[i], []).get(first[i])!).push(i);
  for (let i = 0; i < n; i++) {
    const at = i * k;
    const copies = copy[i] >= 0 ? groups.get(first[i])!.filter((j) => j !== i).slice(0, k) : [];
    const rest = globalThis.Array.from(index.subarray(at, at + k)).filter((j) => j >= 0 && !copies.includes(j)).map((j) => ({ j, dist: exactDistance(x, d, i, j, metric) })).sort((a, b) => a.dist - b.dist || a.j - b.j);
    const row = [...copies.map((j) => ({ j, dist: 0 })), ...rest].slice(0, k);
    for (let t = 0; t < k; t++) {
      index[at + t] = row[t].j;
      distance[at + t] = row[t].dist;
    }
  }
  return { k, index, distance, metric, group: first };
}

/** The distance of rows i and j of x in float64 (cosine: 1 − cos, a zero row at 0 from a zero row and 1 from any other). */
function exactDistance(x: Float32Array, d: number, i: number, j: number, metric: "cosine" | "euclidean"): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  let sq = 0;
  for (let t = 0; t < d; t++) {
    const a = x[i * d + t];
    const b = x[j * d + t];
    if (metric === "euclidean") sq += (a - b) * (a - b);
    else {
      ab += a * b;
      aa += a * a;
      bb += b * b;
    }
  }
  if (metric === "euclidean") return Math.sqrt(sq);
  if (aa === 0 || bb === 0) return aa === 0 && bb === 0 ? 0 : 1;
  return Math.max(0, 1 - ab / Math.sqrt(aa * bb));
}

/** The k smallest values of `row` (masked self: 1e30) and their positions, ascending, ties by position. */
function smallestK(row: Float32Array, k: number, index: Int32Array, value: Float64Array): void {
  value.fill(Infinity);
  index.fill(-1);
  for (let j = 0; j < row.length; j++) {
    const v = row[j];
    if (!(v < value[k - 1])) continue; // NaN never enters; equal values keep the earlier position
    let t = k - 1;
    while (t > 0 && value[t - 1] > v) {
      value[t] = value[t - 1];
      index[t] = index[t - 1];
      t--;
    }
    value[t] = v;
    index[t] = j;
  }
}

/**
 * For every row of x ([n × d]) another row equal to it in every feature (the first other one), or −1 (`copy`),
 * and the first row equal to it (`first`, itself when none before it: rows i, j are equal iff first agrees). Rows are
 * bucketed by a 32-bit FNV-1a hash of their float32 words, then compared bit by bit, after −0 is made 0 (the
 * bits differ, the feature does not; x is changed in place). Deterministic: the first equal row wins.
 */
function exactCopies(x: Float32Array, n: number, d: number): { copy: Int32Array; first: Int32Array } {
  for (let t = 0; t < x.length; t++) if (x[t] === 0) x[t] = 0;
  const bits = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const buckets = new Map<number, number[]>(); // hash → the first row of each distinct row with that hash
  const first = new Int32Array(n); // the first row equal to row i (i itself when none before it)
  for (let i = 0; i < n; i++) {
    let h = 0x811c9dc5;
    for (let t = i * d; t < (i + 1) * d; t++) h = Math.imul(h ^ bits[t], 0x01000193);
    const bucket = buckets.get(h);
    const same = bucket?.find((j) => bits.subarray(j * d, (j + 1) * d).every((b, t) => b === bits[i * d + t]));
    if (same === undefined) {
      if (bucket) bucket.push(i);
      else buckets.set(h, [i]);
      first[i] = i;
    } else first[i] = same;
  }
  const second = new Int32Array(n).fill(-1); // the second row equal to a first row: the first row's copy
  for (let i = n - 1; i >= 0; i--) if (first[i] !== i) second[first[i]] = i;
  return { copy: Int32Array.from(first, (f, i) => (second[f] < 0 ? -1 : f === i ? second[i] : f)), first };
}

/**
 * Datalab's near-duplicate flags and scores from nearest-neighbour distances (threshold 0.13 × the median).
 * Distance 0 (an exact duplicate, see nearestNeighbours) is flagged whatever the median: when copies are the
 * majority the median is 0 and no threshold on it would separate them.
 */
export function nearDuplicateIssues(nearest: NearestNeighbours, threshold = 0.13): { flag: Uint8Array; score: Float64Array; median: number } {
  const nn = firstNeighbours(nearest);
  const sorted = Float64Array.from(nn.distance).sort();
  const n = sorted.length;
  const median = Math.max(n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2, 1e-12);
  const flag = new Uint8Array(n);
  const score = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const dd = nn.distance[i];
    if (dd === 0 || dd < threshold * median) {
      flag[i] = 1;
      flag[nn.index[i]] = 1; // near-duplication is mutual
    }
    score[i] = Math.abs(dd) < 1e-6 ? 0 : 1 - Math.exp(-dd / median);
  }
  return { flag, score, median };
}
