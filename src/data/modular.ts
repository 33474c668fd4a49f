/**
 * Modular arithmetic datasets (Power et al. 2022, "Grokking"; Doshi et al. 2024, "To grok or not to
 * grok"): all pairs (a, b) of residues mod a prime p labelled by a binary operation, a random fraction
 * for training, optionally a fraction ξ of training labels corrupted.
 */
import { permutationFromKey, splitKey, type Key } from "../core/prng.ts";
import { padWidth, type Dataset } from "./dataset.ts";
import { injectLabelNoise } from "./noise.ts";

export type ModularOp = "add" | "sub" | "mul" | "div" | "x2xyy2";
export const MODULAR_OPS: readonly ModularOp[] = ["add", "sub", "mul", "div", "x2xyy2"];

export type ModularSpec = {
  p: number;
  op: ModularOp;
  /** Fraction of all pairs used for training, in (0, 1). */
  trainFraction: number;
  /** ξ: fraction of training labels replaced by uniform random labels. */
  corruption: number;
  /**
   * "onehot": x = [onehot(a) | onehot(b)], each block padded with zero columns to a multiple of 4 (exact:
   * padded columns are always 0). "hot": the same rows given by the column positions of their two ones,
   * [a, w + b] (int32 [n, 2]; an MLP takes them by row gather, src/nn/dense.ts). "tokens": x = [a, b, p]
   * (p is the "=" token; vocab p + 1).
   */
  encoding: "onehot" | "tokens" | "hot";
};

export type ModularData = {
  train: Dataset;
  test: Dataset;
  /** Row indices (into train) whose labels were corrupted, and their true labels. */
  corrupted: Int32Array;
  trueTrainLabels: Int32Array;
  /** Operands of each train / test row. */
  trainPairs: Int32Array;
  testPairs: Int32Array;
};

export function isPrime(p: number): boolean {
  if (!Number.isInteger(p) || p < 2) return false;
  for (let d = 2; d * d <= p; d++) if (p % d === 0) return false;
  return true;
}

function modPow(b: number, e: number, m: number): number {
  let r = 1;
  b %= m;
  while (e > 0) {
    if (e & 1) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1;
  }
  return r;
}

export function modularLabel(op: ModularOp, a: number, b: number, p: number): number {
  switch (op) {
    case "add":
      return (a + b) % p;
    case "sub":
      return (((a - b) % p) + p) % p;
    case "mul":
      return (a * b) % p;
    case "div":
      return (a * modPow(b, p - 2, p)) % p; // Fermat inverse; p prime, b ≠ 0
    case "x2xyy2":
      return (a * a + a * b + b * b) % p;
  }
}

function encode(pairs: Int32Array, p: number, encoding: ModularSpec["encoding"]): { x: Float32Array | Int32Array; xShape: number[] } {
  const n = pairs.length / 2;
  if (encoding === "tokens") {
    const x = new Int32Array(n * 3);
    for (let i = 0; i < n; i++) {
      x[3 * i] = pairs[2 * i];
      x[3 * i + 1] = pairs[2 * i + 1];
      x[3 * i + 2] = p;
    }
    return { x, xShape: [n, 3] };
  }
  const w = padWidth(p);
  if (encoding === "hot") {
    // the one-hot rows below, given by the positions of their two ones (an MLP embeds them by row gather)
    const x = new Int32Array(n * 2);
    for (let i = 0; i < n; i++) {
      x[2 * i] = pairs[2 * i];
      x[2 * i + 1] = w + pairs[2 * i + 1];
    }
    return { x, xShape: [n, 2] };
  }
  const x = new Float32Array(n * 2 * w);
  for (let i = 0; i < n; i++) {
    x[i * 2 * w + pairs[2 * i]] = 1;
    x[i * 2 * w + w + pairs[2 * i + 1]] = 1;
  }
  return { x, xShape: [n, 2 * w] };
}

/** Train and test sizes of a split of all pairs (b ≠ 0 for div): what `modularDataset` will draw. */
export function modularSplitSizes(p: number, op: ModularSpec["op"], trainFraction: number): { train: number; test: number } {
  const total = p * (op === "div" ? p - 1 : p);
  const train = Math.floor(trainFraction * total);
  return { train, test: total - train };
}

/** Build the dataset. Consumes the key: one part orders the pairs, the other draws corruptions. */
export function modularDataset(spec: ModularSpec, key: Key): ModularData {
  const { p, op } = spec;
  if (!isPrime(p)) throw new RangeError(`p must be a prime, got ${p}`);
  const all: number[] = [];
  for (let a = 0; a < p; a++) for (let b = op === "div" ? 1 : 0; b < p; b++) all.push(a, b);
  const total = all.length / 2;
  const nTrain = Math.floor(spec.trainFraction * total);
  if (nTrain < 1 || nTrain >= total) throw new RangeError(`trainFraction ${spec.trainFraction} leaves an empty train or test split for p = ${p}`);
  const [kSplit, kNoise] = splitKey(key, 2);
  const order = permutationFromKey(kSplit, total);
  const pick = (from: number, to: number) => {
    const out = new Int32Array((to - from) * 2);
    for (let i = from; i < to; i++) {
      out[2 * (i - from)] = all[2 * order[i]];
      out[2 * (i - from) + 1] = all[2 * order[i] + 1];
    }
    return out;
  };
  const trainPairs = pick(0, nTrain);
  const testPairs = pick(nTrain, total);
  const labels = (pairs: Int32Array) => Int32Array.from({ length: pairs.length / 2 }, (_, i) => modularLabel(op, pairs[2 * i], pairs[2 * i + 1], p));
  const trueTrainLabels = labels(trainPairs);
  const { labels: yTrain, corrupted } = spec.corruption > 0 ? injectLabelNoise(trueTrainLabels, p, spec.corruption, kNoise) : (kNoise.dispose(), { labels: trueTrainLabels.slice(), corrupted: new Int32Array(0) });
  return {
    train: { ...encode(trainPairs, p, spec.encoding), y: yTrain, numClasses: p },
    test: { ...encode(testPairs, p, spec.encoding), y: labels(testPairs), numClasses: p },
    corrupted,
    trueTrainLabels,
    trainPairs,
    testPairs,
  };
}

export type MultiOpData = {
  train: Dataset;
  test: Dataset;
  /** Operation index (into `ops`) of each train / test row: the data groups. */
  trainGroup: Int32Array;
  testGroup: Int32Array;
  ops: ModularOp[];
};

/**
 * a∘b mod p for several operations at once, one data group per operation (Li, Fan, Zhou 2025's
 * groups of different difficulty): x = [onehot(a) | onehot(b) | onehot(op)], label a∘b mod p. All pairs of
 * every operation (b ≠ 0 for div) are split at random, `trainFraction` for training. Consumes the key.
 */
export function multiOpModular(spec: { p: number; ops: ModularOp[]; trainFraction: number }, key: Key): MultiOpData {
  const { p, ops } = spec;
  if (!isPrime(p)) {
    key.dispose();
    throw new RangeError(`p must be a prime, got ${p}`);
  }
  const rows: [number, number, number][] = [];
  ops.forEach((op, g) => {
    for (let a = 0; a < p; a++) for (let b = op === "div" ? 1 : 0; b < p; b++) rows.push([a, b, g]);
  });
  const order = permutationFromKey(key, rows.length);
  const nTrain = Math.floor(spec.trainFraction * rows.length);
  const width = 2 * p + ops.length;
  const build = (idx: ArrayLike<number>): { ds: Dataset; group: Int32Array } => {
    const n = idx.length;
    const x = new Float32Array(n * width);
    const y = new Int32Array(n);
    const group = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const [a, b, g] = rows[idx[i]];
      x[i * width + a] = 1;
      x[i * width + p + b] = 1;
      x[i * width + 2 * p + g] = 1;
      y[i] = modularLabel(ops[g], a, b, p);
      group[i] = g;
    }
    return { ds: { x, xShape: [n, width], y, numClasses: p }, group };
  };
  const tr = build(order.subarray(0, nTrain));
  const te = build(order.subarray(nTrain));
  return { train: tr.ds, test: te.ds, trainGroup: tr.group, testGroup: te.group, ops };
}
