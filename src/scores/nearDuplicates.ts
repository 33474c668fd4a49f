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

export type NearestNeighbours = { index: Int32Array; distance: Float64Array; metric: "cosine" | "euclidean" };

/** Nearest other row of every row of x ([n × d], row-major). `onProgress(done, n)` after each block. */
export async function nearestNeighbours(x: Float32Array, n: number, d: number, opts: { metric?: "cosine" | "euclidean"; block?: number; onProgress?: (done: number, total: number) => void } = {}): Promise<NearestNeighbours> {
  if (x.length !== n * d) throw new RangeError(`nearestNeighbours: ${x.length} values for ${n} rows of ${d}`);
  if (n < 2) throw new RangeError("nearestNeighbours: needs at least 2 examples");
  const metric = opts.metric ?? (d > 3 ? "cosine" : "euclidean");
  const rows = new Float32Array(x);
  const copy = exactCopies(rows, n, d);
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
    return [np.argmin(masked.ref, 1), masked.min(1)];
  }) as unknown as ((a: Array, sqA: Array, self: Array, b: Array, sqB: Array) => [Array, Array]) & { dispose(): void };
  const index = new Int32Array(n);
  const distance = new Float64Array(n);
  try {
    for (let s = 0; s < n; s += block) {
      const e = Math.min(n, s + block);
      const m = e - s;
      const rowIdx = np.array(Int32Array.from({ length: m }, (_, r) => s + r), { dtype: DType.Int32 });
      const [idx, dist] = f(np.array(rows.subarray(s * d, e * d), { shape: [m, d] }), np.array(sq.subarray(s, e)), rowIdx, bt.ref, sqAll.ref);
      index.set((await idx.astype(DType.Int32).data()) as Int32Array, s);
      const dv = (await dist.data()) as Float32Array;
      for (let r = 0; r < m; r++) distance[s + r] = metric === "cosine" ? Math.max(0, dv[r]) : Math.sqrt(Math.max(0, dv[r]));
      opts.onProgress?.(e, n);
    }
  } finally {
    f.dispose();
    bt.dispose();
    sqAll.dispose();
  }
  for (let i = 0; i < n; i++) {
    if (copy[i] < 0) continue;
    index[i] = copy[i];
    distance[i] = 0;
  }
  return { index, distance, metric };
}

/**
 * For every row of x ([n × d]) another row equal to it in every feature (the first other one), or −1. Rows are
 * bucketed by a 32-bit FNV-1a hash of their float32 words, then compared bit by bit, after −0 is made 0 (the
 * bits differ, the feature does not; x is changed in place). Deterministic: the first equal row wins.
 */
function exactCopies(x: Float32Array, n: number, d: number): Int32Array {
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
  return Int32Array.from(first, (f, i) => (second[f] < 0 ? -1 : f === i ? second[i] : f));
}

/**
 * Datalab's near-duplicate flags and scores from nearest-neighbour distances (threshold 0.13 × the median).
 * Distance 0 (an exact duplicate, see nearestNeighbours) is flagged whatever the median: when copies are the
 * majority the median is 0 and no threshold on it would separate them.
 */
export function nearDuplicateIssues(nn: NearestNeighbours, threshold = 0.13): { flag: Uint8Array; score: Float64Array; median: number } {
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
