/**
 * Near-duplicates, as cleanlab's Datalab finds them (its `NearDuplicateIssueManager`): the distance d_i of
 * every example to its nearest other example, in cosine distance for features of more than 3 dimensions
 * and Euclidean otherwise (the metric Datalab picks by default); an example is a near-duplicate when
 * d_i < 0.13 · median_j d_j, and its score is 1 − exp(−d_i / median) (0: an exact duplicate, up to float32 round-off of 1e-6; lower = more
 * severe). id "near_duplicate". The nearest neighbour is found exactly, by batched matmuls on the engine
 * (rows × N distances at a time, never the N × N matrix).
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
  return { index, distance, metric };
}

/** Datalab's near-duplicate flags and scores from nearest-neighbour distances (threshold 0.13 × the median). */
export function nearDuplicateIssues(nn: NearestNeighbours, threshold = 0.13): { flag: Uint8Array; score: Float64Array; median: number } {
  const sorted = Float64Array.from(nn.distance).sort();
  const n = sorted.length;
  const median = Math.max(n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2, 1e-12);
  const flag = new Uint8Array(n);
  const score = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const dd = nn.distance[i];
    if (dd < threshold * median) {
      flag[i] = 1;
      flag[nn.index[i]] = 1; // near-duplication is mutual
    }
    score[i] = Math.abs(dd) < 1e-6 ? 0 : 1 - Math.exp(-dd / median);
  }
  return { flag, score, median };
}
