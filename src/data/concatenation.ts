/**
 * Concatenated blocks, the MNIST-CIFAR construction of "The Pitfalls of Simplicity Bias" (Shah et al., NeurIPS 2020)
 * for any labelled image or feature sources: a binary label y and, per block, an example of that block's class pair
 * chosen by y (an "informative" block) or independently of y (an uninformative one), the blocks' rows concatenated
 * (for images of one width: stacked vertically). Each informative block alone predicts y as well as its class pair
 * can be told apart; the feature-reliance probe (measures/featureReliance.ts) then randomises one block's columns to
 * see which the model uses. The MNIST-CIFAR pair is MNIST 0/1 (simple) over CIFAR-10 automobile/truck (complex);
 * genlab's analog uses two Fashion-MNIST class pairs (experiments/paper45/fashionConcatenation.ts).
 * Host side: typed arrays only. Deterministic from the key.
 */
import { splitKey, uniformFromKey, type Key } from "../core/prng.ts";
import { rowSize, type Dataset } from "./dataset.ts";

export type BlockSpec = {
  /** A labelled source (rows of any size; a block's row size is the source's). */
  source: Dataset;
  /** The source classes standing for y = 0 and y = 1. */
  pair: readonly [number, number];
  /** Whether the block's class follows y (default true); false draws it from the pair independently of y. */
  informative?: boolean;
  name: string;
};

export type Concatenation = {
  data: Dataset;
  /** Each block's columns in the concatenated rows (the groups to randomise). */
  blocks: { name: string; columns: number[] }[];
  /** Per block, the source row each example took. */
  sourceRows: Int32Array[];
};

/**
 * n rows: y ~ Bernoulli(½); block b takes a uniformly drawn row of its source whose class is pair[y] (or pair[z] with
 * z an independent fair bit when not informative). Rows are drawn with replacement from the class's rows. Throws a
 * RangeError naming the block when a class of its pair has no row. Consumes the key.
 */
export function concatenatedBlocks(blocks: BlockSpec[], n: number, key: Key): Concatenation {
  if (!(Number.isInteger(n) && n >= 1)) {
    key.dispose();
    throw new RangeError(`concatenation: n must be a positive integer, got ${n}`);
  }
  const byClass = blocks.map((b) => {
    const rows = b.pair.map((c) => {
      const idx: number[] = [];
      for (let i = 0; i < b.source.y.length; i++) if (b.source.y[i] === c) idx.push(i);
      return Int32Array.from(idx);
    });
    rows.forEach((r, j) => {
      if (!r.length) {
        key.dispose();
        throw new RangeError(`concatenation: block "${b.name}" has no row of class ${b.pair[j]} in its source`);
      }
    });
    return rows;
  });
  const [ky, ...kb] = splitKey(key, 1 + blocks.length);
  const y = Int32Array.from(uniformFromKey(ky, n), (u) => (u < 0.5 ? 0 : 1));
  const sizes = blocks.map((b) => rowSize(b.source));
  const width = sizes.reduce((a, s) => a + s, 0);
  const x = new Float32Array(n * width);
  const sourceRows: Int32Array[] = [];
  const groups: Concatenation["blocks"] = [];
  let offset = 0;
  blocks.forEach((b, bi) => {
    const u = uniformFromKey(kb[bi], 2 * n);
    const size = sizes[bi];
    const picked = new Int32Array(n);
    const src = b.source.x;
    for (let i = 0; i < n; i++) {
      const cls = b.informative === false ? (u[n + i] < 0.5 ? 0 : 1) : y[i];
      const pool = byClass[bi][cls];
      const r = pool[Math.min(pool.length - 1, Math.floor(u[i] * pool.length))];
      picked[i] = r;
      for (let j = 0; j < size; j++) x[i * width + offset + j] = src[r * size + j];
    }
    sourceRows.push(picked);
    groups.push({ name: b.name, columns: Array.from({ length: size }, (_, j) => offset + j) });
    offset += size;
  });
  return { data: { x, xShape: [n, width], y, numClasses: 2 }, blocks: groups, sourceRows };
}
