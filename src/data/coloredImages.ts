/**
 * Colored MNIST-style environments (Arjovsky et al. 2019, as the Rich Feature Construction code builds them,
 * `TjuJianyu/RFC` `coloredmnist/mydatasets.py`; specs-23-45.md §1), for any grey image set such as Fashion-MNIST:
 *
 *   y = 1[positive(class)], flipped with probability `labelNoise` (0.25: the shape predicts y at 75%)
 *   c = y, flipped with probability e (the environment's colour noise: 0.1, 0.2 in training, 0.9 at test)
 *   x = the image subsampled by 2 (28 → 14), as two channels with channel 1 − c zeroed: [2, 14, 14]
 *
 * so that colour predicts y better than shape in the training environments (90%, 80%) and worse at test (10%).
 * `splitEnvironments` deals a set's rows into disjoint random environments.
 */
import { permutationFromKey, splitKey, uniformFromKey, type Key } from "../core/prng.ts";
import { numRows, rowSize, type Dataset } from "./dataset.ts";

export type ColoredSpec = {
  /** which original classes are y = 1 (e.g. Fashion-MNIST classes 0–4) */
  positive: (cls: number) => boolean;
  labelNoise: number;
  /** colour flip probability e */
  colorFlip: number;
};

/** One coloured environment from rows of a grey image set ([n, h, w] or [n, h·w], square, even side). Consumes key. */
export function coloredEnvironment(ds: Dataset, spec: ColoredSpec, key: Key): Dataset & { colors: Int32Array } {
  const n = numRows(ds);
  const side = Math.round(Math.sqrt(rowSize(ds)));
  if (side * side !== rowSize(ds) || side % 2 !== 0 || ds.x instanceof Int32Array) {
    key.dispose();
    throw new RangeError(`coloredEnvironment: float square images of even side expected, got rows of ${rowSize(ds)} values`);
  }
  for (const [name, p] of [["labelNoise", spec.labelNoise], ["colorFlip", spec.colorFlip]] as const) {
    if (!(p >= 0 && p <= 1)) {
      key.dispose();
      throw new RangeError(`coloredEnvironment: ${name} must be a probability, got ${p}`);
    }
  }
  const [kl, kc] = splitKey(key, 2);
  const ul = uniformFromKey(kl, n);
  const uc = uniformFromKey(kc, n);
  const half = side / 2;
  const px = half * half;
  const x = new Float32Array(n * 2 * px);
  const y = new Int32Array(n);
  const colors = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const clean = spec.positive(ds.y[i]) ? 1 : 0;
    y[i] = ul[i] < spec.labelNoise ? 1 - clean : clean;
    colors[i] = uc[i] < spec.colorFlip ? 1 - y[i] : y[i];
    const base = i * 2 * px + colors[i] * px;
    for (let r = 0; r < half; r++) for (let c = 0; c < half; c++) x[base + r * half + c] = ds.x[i * side * side + 2 * r * side + 2 * c];
  }
  return { x, xShape: [n, 2, half, half], y, numClasses: 2, colors };
}

/** Disjoint random row indices of sizes `sizes` out of n rows. Consumes key. */
export function splitEnvironments(n: number, sizes: readonly number[], key: Key): Int32Array[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  if (sizes.some((s) => !Number.isInteger(s) || s < 1) || total > n) {
    key.dispose();
    throw new RangeError(`splitEnvironments: sizes [${sizes.join(", ")}] need ${total} of the ${n} rows`);
  }
  const perm = permutationFromKey(key, n);
  let o = 0;
  return sizes.map((s) => {
    const part = perm.slice(o, o + s);
    o += s;
    return part;
  });
}
