/**
 * Host-side datasets: typed arrays and shapes only (no jax-js arrays), so that they cross freely between
 * data generation, the training loop, the runner and the browser. The loop moves them onto the device.
 */
export type Dataset = {
  /** Inputs, row-major, `xShape[0]` rows. Float features or integer tokens. */
  x: Float32Array | Int32Array;
  xShape: number[];
  /** Integer class labels, one per row; or float targets (regression), `yShape` rows. */
  y: Int32Array | Float32Array;
  /** Shape of float targets ([n] or [n, d]); integer labels are always [n]. */
  yShape?: number[];
  /** Number of classes; 0 for regression targets. */
  numClasses: number;
};

export type SplitDataset = { train: Dataset; test: Dataset };

export function numRows(ds: Dataset): number {
  return ds.xShape[0];
}

export function rowSize(ds: Dataset): number {
  return ds.xShape.slice(1).reduce((a, b) => a * b, 1);
}

/** Rows `idx` of a dataset, in that order. */
export function takeRows(ds: Dataset, idx: ArrayLike<number>): Dataset {
  const r = rowSize(ds);
  const n = idx.length;
  const x = ds.x instanceof Int32Array ? new Int32Array(n * r) : new Float32Array(n * r);
  const yr = ds.yShape ? ds.yShape.slice(1).reduce((a, b) => a * b, 1) : 1;
  const y = ds.y instanceof Float32Array ? new Float32Array(n * yr) : new Int32Array(n * yr);
  for (let i = 0; i < n; i++) {
    const j = idx[i];
    x.set(ds.x.subarray(j * r, (j + 1) * r), i * r);
    y.set(ds.y.subarray(j * yr, (j + 1) * yr), i * yr);
  }
  return { x, xShape: [n, ...ds.xShape.slice(1)], y, ...(ds.yShape ? { yShape: [n, ...ds.yShape.slice(1)] } : {}), numClasses: ds.numClasses };
}

/** Counts per class. */
export function classCounts(labels: ArrayLike<number>, numClasses: number): number[] {
  const c = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) c[labels[i]]++;
  return c;
}

/** Round a width up to a multiple of m (SIMD-friendly shapes, see DEPS.md). */
export const padWidth = (n: number, m = 4): number => Math.ceil(n / m) * m;
