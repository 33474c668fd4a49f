/**
 * Multi-domain data for out-of-distribution studies (Domain-Specific Risk Minimization, Zhang et al., KDD 2023;
 * specs-23-45.md §10): each domain is its own Dataset, and a learner that needs the domain of a row gets it from the
 * domain's position in the list, never from the data.
 * - `rotateImages`: images rotated about their centre (bilinear, zeros outside), the "Rotated MNIST" construction
 *   of DomainBed;
 * - `rotatedImageDomains`: disjoint random subsets of one image set, subset k rotated by angle k;
 * - `gaussianBoundaryDomains`: the spec's designed case — 2-D Gaussian classes N(±μ n_k, σ² I) whose optimal
 *   boundary (perpendicular to n_k) is at angle θ_k in domain k, so domains differ both in P(x) (an entropy-based
 *   selector can tell them apart) and in P(y | x) (no single head is optimal for all).
 * - `stackDomains`: B rows of every domain side by side ([n, K, …] inputs, [n, K] labels), so that a shuffled
 *   minibatch of B rows is one minibatch of B examples per domain — the per-domain minibatches of DomainBed.
 */
import { normalFromKey, permutationFromKey, splitKey, uniformFromKey, type Key } from "../core/prng.ts";
import { numRows, rowSize, takeRows, type Dataset } from "./dataset.ts";

/**
 * Rotate n images of h × w (row-major, n·h·w floats) by `degrees` counter-clockwise about the image centre,
 * bilinear interpolation, zero outside the source image. 0° returns a copy.
 */
export function rotateImages(x: Float32Array, n: number, h: number, w: number, degrees: number): Float32Array {
  if (x.length !== n * h * w) throw new RangeError(`rotateImages: expected ${n}·${h}·${w} = ${n * h * w} values, got ${x.length}`);
  if (!Number.isFinite(degrees)) throw new RangeError(`rotateImages: degrees must be finite, got ${degrees}`);
  const out = new Float32Array(x.length);
  if (degrees % 360 === 0) {
    out.set(x);
    return out;
  }
  const t = (degrees * Math.PI) / 180;
  const c = Math.cos(t);
  const s = Math.sin(t);
  const cy = (h - 1) / 2;
  const cx = (w - 1) / 2;
  // inverse map: output pixel (r, q) samples the source at R(−θ)·(q − cx, cy − r) (y up, counter-clockwise)
  const src = new Int32Array(h * w * 4);
  const wts = new Float32Array(h * w * 4);
  for (let r = 0; r < h; r++) {
    for (let q = 0; q < w; q++) {
      const dx = q - cx;
      const dy = cy - r;
      const sx = c * dx + s * dy + cx;
      const sy = cy - (-s * dx + c * dy);
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const o = (r * w + q) * 4;
      const corners: [number, number, number][] = [
        [y0, x0, (1 - fy) * (1 - fx)],
        [y0, x0 + 1, (1 - fy) * fx],
        [y0 + 1, x0, fy * (1 - fx)],
        [y0 + 1, x0 + 1, fy * fx],
      ];
      corners.forEach(([yy, xx, wt], k) => {
        const inside = yy >= 0 && yy < h && xx >= 0 && xx < w;
        src[o + k] = inside ? yy * w + xx : 0;
        wts[o + k] = inside ? wt : 0;
      });
    }
  }
  const px = h * w;
  for (let i = 0; i < n; i++) {
    const base = i * px;
    for (let p = 0; p < px; p++) {
      const o = p * 4;
      out[base + p] = wts[o] * x[base + src[o]] + wts[o + 1] * x[base + src[o + 1]] + wts[o + 2] * x[base + src[o + 2]] + wts[o + 3] * x[base + src[o + 3]];
    }
  }
  return out;
}

/**
 * K disjoint random subsets of `ds` (images [n, h, w], or [n, h·w] rows: square unless `imageShape` says otherwise),
 * `perDomain` rows each, the k-th rotated by angles[k]. Consumes key.
 */
export function rotatedImageDomains(ds: Dataset, angles: readonly number[], perDomain: number, key: Key, imageShape?: [number, number]): Dataset[] {
  const side = Math.round(Math.sqrt(rowSize(ds)));
  const [h, w] = imageShape ?? (ds.xShape.length >= 3 ? [ds.xShape[1], ds.xShape[2]] : [side, side]);
  const n = numRows(ds);
  if (!(h * w === rowSize(ds)) || !Number.isInteger(h) || !Number.isInteger(w)) {
    key.dispose();
    throw new RangeError(`rotatedImageDomains: rows of ${rowSize(ds)} values are not ${h} × ${w} images`);
  }
  if (!Number.isInteger(perDomain) || perDomain < 1 || angles.length * perDomain > n) {
    key.dispose();
    throw new RangeError(`rotatedImageDomains: ${angles.length} domains × ${perDomain} rows need ${angles.length * perDomain} of the ${n} rows`);
  }
  if (ds.x instanceof Int32Array) {
    key.dispose();
    throw new RangeError("rotatedImageDomains: float images expected");
  }
  const perm = permutationFromKey(key, n);
  return angles.map((a, k) => {
    const part = takeRows(ds, perm.subarray(k * perDomain, (k + 1) * perDomain));
    return { ...part, x: rotateImages(part.x as Float32Array, perDomain, h, w, a) };
  });
}

export type GaussianBoundarySpec = {
  /** the optimal boundary's angle in each domain, degrees (its normal n_k is at θ_k + 90°) */
  angles: readonly number[];
  /** rows per domain */
  n: number;
  /** class-mean distance from the origin */
  mu: number;
  /** isotropic noise standard deviation */
  sigma: number;
};

/**
 * 2-D binary domains: y ~ Bernoulli(½), x = (2y − 1) μ n_k + σ ε with n_k = (−sin θ_k, cos θ_k), so that the Bayes
 * boundary of domain k is the line through 0 at angle θ_k. Consumes key.
 */
export function gaussianBoundaryDomains(spec: GaussianBoundarySpec, key: Key): Dataset[] {
  const { angles, n, mu, sigma } = spec;
  if (!Number.isInteger(n) || n < 1 || !(mu >= 0) || !(sigma > 0) || angles.length < 1) {
    key.dispose();
    throw new RangeError(`gaussianBoundaryDomains: need n ≥ 1, μ ≥ 0, σ > 0 and at least one angle, got n = ${n}, μ = ${mu}, σ = ${sigma}, ${angles.length} angles`);
  }
  const keys = splitKey(key, 2 * angles.length);
  return angles.map((a, k) => {
    const t = (a * Math.PI) / 180;
    const nx = -Math.sin(t);
    const ny = Math.cos(t);
    const u = uniformFromKey(keys[2 * k], n);
    const e = normalFromKey(keys[2 * k + 1], 2 * n);
    const x = new Float32Array(2 * n);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = u[i] < 0.5 ? 1 : 0;
      const sgn = 2 * y[i] - 1;
      x[2 * i] = sgn * mu * nx + sigma * e[2 * i];
      x[2 * i + 1] = sgn * mu * ny + sigma * e[2 * i + 1];
    }
    return { x, xShape: [n, 2], y, numClasses: 2 };
  });
}

/**
 * Domains side by side: row i of the result holds row i of every domain (inputs [n, K, …], labels [n, K] as a
 * float-free int32 array with yShape), n = the smallest domain (the rest of a larger domain is left out and
 * counted in `dropped`). A uniformly shuffled minibatch of B rows is then B uniformly drawn rows of every domain.
 */
export function stackDomains(domains: readonly Dataset[]): { data: Dataset; dropped: number[] } {
  if (domains.length < 1) throw new RangeError("stackDomains: no domains");
  const r = rowSize(domains[0]);
  const shape = domains[0].xShape.slice(1);
  domains.forEach((d, k) => {
    if (rowSize(d) !== r || d.x instanceof Int32Array !== domains[0].x instanceof Int32Array || d.y instanceof Float32Array) {
      throw new RangeError(`stackDomains: domain ${k} has rows of ${rowSize(d)} values (${d.x.constructor.name}), domain 0 of ${r} (${domains[0].x.constructor.name}); labels must be integers`);
    }
  });
  const n = Math.min(...domains.map(numRows));
  const K = domains.length;
  const x = domains[0].x instanceof Int32Array ? new Int32Array(n * K * r) : new Float32Array(n * K * r);
  const y = new Int32Array(n * K);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < K; k++) {
      x.set(domains[k].x.subarray(i * r, (i + 1) * r), (i * K + k) * r);
      y[i * K + k] = domains[k].y[i];
    }
  }
  return { data: { x, xShape: [n, K, ...shape], y, yShape: [n, K], numClasses: domains[0].numClasses }, dropped: domains.map((d) => numRows(d) - n) };
}

/**
 * The domains' rows pooled and dealt back at random into domains of the same sizes: the domain labels made
 * uninformative (a negative control for methods that use them). Consumes key.
 */
export function shuffleDomainMembership(domains: readonly Dataset[], key: Key): Dataset[] {
  const sizes = domains.map(numRows);
  const total = sizes.reduce((a, b) => a + b, 0);
  const r = rowSize(domains[0]);
  if (domains.some((d) => rowSize(d) !== r)) {
    key.dispose();
    throw new RangeError("shuffleDomainMembership: the domains' rows differ in size");
  }
  const pooled: Dataset = {
    x: domains[0].x instanceof Int32Array ? new Int32Array(total * r) : new Float32Array(total * r),
    xShape: [total, ...domains[0].xShape.slice(1)],
    y: new Int32Array(total),
    numClasses: domains[0].numClasses,
  };
  let o = 0;
  for (const d of domains) {
    pooled.x.set(d.x, o * r);
    pooled.y.set(d.y, o);
    o += numRows(d);
  }
  const perm = permutationFromKey(key, total);
  let s = 0;
  return sizes.map((n) => {
    const part = takeRows(pooled, perm.subarray(s, s + n));
    s += n;
    return part;
  });
}
