/**
 * Slab data of "The Pitfalls of Simplicity Bias" (Shah et al., NeurIPS 2020; the official `gendata.py` logic as
 * specs-23-45.md §23 and calibration-b.md describe it): every coordinate alone predicts the binary label y
 * perfectly, but coordinates differ in simplicity.
 * - linear: x = (2y − 1)(m + (w − m)U), U ~ U[0, 1] — one threshold separates the classes with margin 2m;
 * - k-slab (k odd): [−w, w] cut into k slabs of width (2w − 2m(k − 1))/k with gaps 2m, labels alternating outward
 *   from the centre slab (y = 0); y = 0 points take the centre slab with probability p0 (k = 5: ¾, k = 7: ½, k = 3:
 *   ½) and the outer y = 0 slabs otherwise; y = 1 points take their inner slab pair with probability p1 (k = 7: ⅞,
 *   else all their slabs alike), each side with probability ½, uniform within a slab.
 * Coordinates are drawn independently given y (the official `indep_slabs`). LMS-k: coordinate 0 linear and d − 1
 * k-slabs; MS-k: d k-slabs; any set of linear columns otherwise. `corruptLinear` = c puts exactly round(c·n) rows'
 * first linear coordinate (rows chosen by a random permutation, as the official code) in U[−m, m] (inside the
 * margin: LMŜ-k). The 7-slab probabilities follow the official code (calibration-b.md): ⅞ of the y = 1 points in the
 * inner pair, the y = 0 points split ½ / ½ between the centre and the outer slabs. `rotate` applies a random orthogonal W (d × d, from the QR of a Gaussian matrix): x ← xW.
 * Widths w = 1 and margins m = 0.1 as the paper's defaults.
 */
import { qr } from "../core/linalg.ts";
import { normalFromKey, permutationFromKey, splitKey, uniformFromKey, type Key } from "../core/prng.ts";
import type { Dataset } from "./dataset.ts";

export type SlabSpec = {
  n: number;
  d: number;
  /** slabs per complex coordinate (odd, ≥ 3) */
  k: number;
  /**
   * which coordinates are linear, each drawn independently; the rest are k-slabs: coordinate 0 (LMS-k: true), none
   * (MS-k: false), the first L (a number), or these columns (a list, e.g. [1, 2, …] for a slab at coordinate 0)
   */
  linear: boolean | number | readonly number[];
  /** fraction of rows whose first linear coordinate is drawn inside the margin, U[−m, m] (LMŜ-k); 0 by default */
  corruptLinear?: number;
  /** apply a random orthogonal rotation (the paper's `random_transform`) */
  rotate?: boolean;
  width?: number;
  margin?: number;
};

export type SlabData = {
  data: Dataset;
  /** the rotation W (d × d, row-major; x = x₀W), or null */
  rotation: Float64Array | null;
  /** rows whose linear coordinate was corrupted */
  corrupted: Int32Array;
};

/** Slab boundaries [lo, hi] of a k-slab coordinate on [−w, w], left to right; slab j's label is |j − (k − 1)/2| odd. */
export function slabEdges(k: number, width = 1, margin = 0.1): [number, number][] {
  if (!(Number.isInteger(k) && k >= 3 && k % 2 === 1)) throw new RangeError(`slabs: k must be an odd integer ≥ 3, got ${k}`);
  const sw = (2 * width - 2 * margin * (k - 1)) / k;
  if (!(sw > 0)) throw new RangeError(`slabs: margin ${margin} leaves no room for ${k} slabs of width > 0 in [−${width}, ${width}]`);
  return Array.from({ length: k }, (_, j) => {
    const lo = -width + j * (sw + 2 * margin);
    return [lo, lo + sw] as [number, number];
  });
}

/** The probability that a y = 0 point takes the centre slab, and a y = 1 point its inner slab pair (gendata.py). */
function slabProbabilities(k: number): { p0: number; p1: number | null } {
  if (k === 5) return { p0: 3 / 4, p1: null };
  if (k === 7) return { p0: 1 / 2, p1: 7 / 8 };
  // other k: the centre as likely as each outer y = 0 pair, y = 1 pairs alike
  return { p0: 1 / (Math.floor((k - 1) / 4) + 1), p1: null };
}

/** One k-slab coordinate for labels y from uniforms (u picks the slab, v the side, w the place within it). */
function slabCoordinate(y: Int32Array, k: number, edges: [number, number][], u: Float32Array, v: Float32Array, w: Float32Array, out: Float32Array, d: number, col: number): void {
  const c = (k - 1) / 2;
  const { p0, p1 } = slabProbabilities(k);
  // slabs by distance from the centre: labels alternate 0, 1, 0, 1, …
  const zeros = Array.from({ length: c + 1 }, (_, r) => r).filter((r) => r % 2 === 0); // includes the centre (r = 0)
  const ones = Array.from({ length: c + 1 }, (_, r) => r).filter((r) => r % 2 === 1);
  for (let i = 0; i < y.length; i++) {
    let r: number;
    if (y[i] === 0) {
      const outer = zeros.slice(1);
      r = u[i] < p0 || !outer.length ? 0 : outer[Math.min(outer.length - 1, Math.floor(((u[i] - p0) / (1 - p0)) * outer.length))];
    } else if (p1 !== null && ones.length > 1) {
      const rest = ones.slice(1);
      r = u[i] < p1 ? ones[0] : rest[Math.min(rest.length - 1, Math.floor(((u[i] - p1) / (1 - p1)) * rest.length))];
    } else r = ones[Math.min(ones.length - 1, Math.floor(u[i] * ones.length))];
    const j = r === 0 ? c : v[i] < 0.5 ? c - r : c + r;
    const [lo, hi] = edges[j];
    out[i * d + col] = lo + (hi - lo) * w[i];
  }
}

/** A random orthogonal d × d matrix (the Q of a Gaussian matrix's QR, signs fixed by R's diagonal); consumes key. */
export function randomOrthogonal(d: number, key: Key): Float64Array {
  const { q, r } = qr(normalFromKey(key, d * d), d, d);
  for (let j = 0; j < d; j++) if (r[j * d + j] < 0) for (let i = 0; i < d; i++) q[i * d + j] = -q[i * d + j];
  return q;
}

/** x (n × d, float32) times W (d × d) in float64, rounded to float32. */
export function rotateRows(x: Float32Array, n: number, d: number, W: Float64Array, transpose = false): Float32Array<ArrayBuffer> {
  const out = new Float32Array(n * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    row.fill(0);
    for (let a = 0; a < d; a++) {
      const xa = x[i * d + a];
      for (let b = 0; b < d; b++) row[b] += xa * (transpose ? W[b * d + a] : W[a * d + b]);
    }
    for (let b = 0; b < d; b++) out[i * d + b] = row[b];
  }
  return out;
}

/** n rows with labels y ~ Bernoulli(½) and their coordinates (see the module comment); consumes key. */
export function slabData(spec: SlabSpec, key: Key): SlabData {
  const { n, d, k } = spec;
  const width = spec.width ?? 1, margin = spec.margin ?? 0.1;
  const fail = (message: string): never => {
    key.dispose();
    throw new RangeError(`slabs: ${message}`);
  };
  if (!(Number.isInteger(n) && n >= 2 && Number.isInteger(d) && d >= 1)) fail(`expected integers n ≥ 2, d ≥ 1, got n = ${n}, d = ${d}`);
  const corrupt = spec.corruptLinear ?? 0;
  if (!(corrupt >= 0 && corrupt <= 1)) fail(`corruptLinear must be in [0, 1], got ${corrupt}`);
  const l = spec.linear;
  const linearCols = l === true ? [0] : l === false ? [] : typeof l === "number" ? (Number.isInteger(l) && l >= 0 && l <= d ? Array.from({ length: l }, (_, i) => i) : fail(`linear must be a boolean, an integer in [0, ${d}] or a list of columns, got ${l}`)) : [...l];
  if (linearCols.some((c, i) => !(Number.isInteger(c) && c >= 0 && c < d) || linearCols.indexOf(c) !== i)) fail(`linear columns must be distinct integers in [0, ${d}), got [${linearCols.join(", ")}]`);
  if (corrupt > 0 && !linearCols.length) fail("corruptLinear needs a linear coordinate (linear: true)");
  let edges: [number, number][];
  try {
    edges = slabEdges(k, width, margin);
  } catch (e) {
    key.dispose();
    throw e;
  }
  const isLinear = new Set(linearCols);
  const [ky, kc, kr, ...kcols] = splitKey(key, 3 + d);
  const uy = uniformFromKey(ky, n);
  const y = Int32Array.from(uy, (u) => (u < 0.5 ? 0 : 1));
  const x = new Float32Array(n * d);
  for (let col = 0; col < d; col++) {
    const u = uniformFromKey(kcols[col], 3 * n);
    const [a, b, c] = [u.subarray(0, n), u.subarray(n, 2 * n), u.subarray(2 * n)];
    if (isLinear.has(col)) for (let i = 0; i < n; i++) x[i * d + col] = (2 * y[i] - 1) * (margin + (width - margin) * a[i]);
    else slabCoordinate(y, k, edges, a, b, c, x, d, col);
  }
  // exactly round(c·n) rows, the first of a random permutation, get their first linear coordinate inside the margin
  const [kPerm, kVal] = splitKey(kc, 2);
  const count = Math.round(corrupt * n);
  const corrupted = Int32Array.from(permutationFromKey(kPerm, n).subarray(0, count)).sort();
  const uc = uniformFromKey(kVal, n);
  if (count) for (const i of corrupted) x[i * d + linearCols[0]] = -margin + 2 * margin * uc[i];
  let rotation: Float64Array | null = null;
  let xs: Float32Array<ArrayBuffer> = x;
  if (spec.rotate) {
    rotation = randomOrthogonal(d, kr);
    xs = rotateRows(x, n, d, rotation);
  } else kr.dispose();
  return { data: { x: xs, xShape: [n, d], y, numClasses: 2 }, rotation, corrupted };
}
