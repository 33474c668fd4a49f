import { permutationFromKey, splitKey, uniformFromKey, type Key } from "../core/prng.ts";

export type LabelNoiseMode = "uniform" | "different";

/**
 * Corrupt a fraction of labels. The ⌊fraction·n⌋ corrupted rows are a uniformly random subset; each
 * gets a label uniform on all classes ("uniform": may equal the truth, as in Doshi et al. 2024) or
 * uniform on the other classes ("different"). Returns the new labels and the corrupted row indices
 * (sorted). Consumes the key.
 */
export function injectLabelNoise(
  labels: Int32Array,
  numClasses: number,
  fraction: number,
  key: Key,
  mode: LabelNoiseMode = "uniform",
): { labels: Int32Array; corrupted: Int32Array } {
  if (!(fraction >= 0 && fraction <= 1)) throw new RangeError(`noise fraction must be in [0, 1], got ${fraction}`);
  const n = labels.length;
  const m = Math.floor(fraction * n);
  const [kPick, kLabel] = splitKey(key, 2);
  const rows = permutationFromKey(kPick, n).slice(0, m).sort();
  const u = uniformFromKey(kLabel, Math.max(1, m));
  const out = Int32Array.from(labels);
  rows.forEach((r, i) => {
    if (mode === "uniform") out[r] = Math.min(numClasses - 1, Math.floor(u[i] * numClasses));
    else {
      const k = Math.min(numClasses - 2, Math.floor(u[i] * (numClasses - 1)));
      out[r] = k >= labels[r] ? k + 1 : k;
    }
  });
  return { labels: out, corrupted: rows };
}

/**
 * Stratified subsample: `perClass` rows of every class (or all of a class that has fewer), drawn
 * uniformly without replacement; returned sorted by class then draw order. Consumes the key.
 */
export function stratifiedSubsample(labels: Int32Array, numClasses: number, perClass: number, key: Key): Int32Array {
  const perm = permutationFromKey(key, labels.length);
  const taken = new Array<number>(numClasses).fill(0);
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (const i of perm) {
    const c = labels[i];
    if (taken[c] < perClass) {
      byClass[c].push(i);
      taken[c]++;
    }
  }
  return Int32Array.from(byClass.flat());
}

/**
 * Class-dependent ("structured") label noise (the asymmetric noise of Patrini et al. 2017): in every class c,
 * ⌊fraction · n_c⌋ rows drawn uniformly get the label `partner[c]` (a fixed, usually confusable class).
 * Returns the new labels and the corrupted row indices (sorted). Consumes the key.
 */
export function injectStructuredNoise(labels: Int32Array, partner: readonly number[], fraction: number, key: Key): { labels: Int32Array; corrupted: Int32Array } {
  if (!(fraction >= 0 && fraction <= 1)) {
    key.dispose();
    throw new RangeError(`noise fraction must be in [0, 1], got ${fraction}`);
  }
  const perm = permutationFromKey(key, labels.length);
  const byClass = new Map<number, number[]>();
  for (const i of perm) byClass.set(labels[i], [...(byClass.get(labels[i]) ?? []), i]);
  const out = Int32Array.from(labels);
  const rows: number[] = [];
  for (const [c, idx] of byClass) {
    if (partner[c] === undefined || partner[c] === c) continue;
    for (const i of idx.slice(0, Math.floor(fraction * idx.length))) {
      out[i] = partner[c];
      rows.push(i);
    }
  }
  return { labels: out, corrupted: Int32Array.from(rows).sort() };
}

/** Fashion-MNIST's confusable partner of each class (T-shirt↔Shirt, Pullover↔Coat, Sandal↔Sneaker, …). */
export const FASHION_MNIST_PARTNERS = [6, 3, 4, 0, 2, 7, 0, 9, 6, 7] as const;
