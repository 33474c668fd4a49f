/**
 * How much of a network's weights are in use (Weight Compander, Cakaj et al. 2023; specs-01-22.md §9 diagnostics):
 * over every weight leaf `w` of a parameter tree (biases and other leaves left out), the largest |w|, the fraction of
 * "dead" weights |w| < 0.01 · max|w|, and a histogram of w. Host side; params are only read.
 */
import type { Array } from "@jax-js/jax";
import { treeDispose, treeRef, type Tree } from "../core/tree.ts";

export type WeightUse = {
  /** number of weights (entries of every `w` leaf) */
  count: number;
  maxAbs: number;
  /** fraction with |w| < deadRatio · max|w| */
  deadFraction: number;
  deadRatio: number;
  histogram: { lo: number; hi: number; counts: number[] };
};

function weightLeaves(t: Tree, out: Array[]): void {
  if (globalThis.Array.isArray(t)) t.forEach((c) => weightLeaves(c, out));
  else if (typeof t === "object" && t !== null && !("shape" in t)) {
    for (const [k, c] of Object.entries(t)) {
      if (k === "w" && typeof c === "object" && c !== null && "shape" in c) out.push(c as Array);
      else weightLeaves(c as Tree, out);
    }
  }
}

export async function weightUse(params: Tree, opts: { deadRatio?: number; bins?: number } = {}): Promise<WeightUse> {
  const deadRatio = opts.deadRatio ?? 0.01;
  const bins = opts.bins ?? 60;
  const leaves: Array[] = [];
  weightLeaves(params, leaves);
  if (leaves.length === 0) throw new RangeError("weightUse: the tree has no weight leaf named w");
  const values: Float32Array[] = [];
  for (const l of leaves) values.push((await treeRef(l).data()) as Float32Array);
  let maxAbs = 0;
  let count = 0;
  for (const v of values) {
    count += v.length;
    for (let i = 0; i < v.length; i++) maxAbs = Math.max(maxAbs, Math.abs(v[i]));
  }
  const cut = deadRatio * maxAbs;
  let dead = 0;
  const lim = maxAbs > 0 ? maxAbs : 1;
  const counts = new globalThis.Array<number>(bins).fill(0);
  for (const v of values) {
    for (let i = 0; i < v.length; i++) {
      if (Math.abs(v[i]) < cut) dead++;
      counts[Math.min(bins - 1, Math.max(0, Math.floor(((v[i] + lim) / (2 * lim)) * bins)))]++;
    }
  }
  return { count, maxAbs, deadFraction: dead / count, deadRatio, histogram: { lo: -lim, hi: lim, counts } };
}

/** The same of a tree that is consumed (e.g. `fromCompander(treeRef(params), spec)`). */
export async function weightUseOf(params: Tree, opts: { deadRatio?: number; bins?: number } = {}): Promise<WeightUse> {
  try {
    return await weightUse(params, opts);
  } finally {
    treeDispose(params);
  }
}
