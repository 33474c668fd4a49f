/**
 * Pytree helpers over jax-js arrays. Ownership: every helper consumes each tree argument exactly once
 * (take `treeRef(t)` to keep using a tree). Pytrees are plain objects and arrays (use `type`, never
 * class instances: jax-js treats those as leaves).
 */
import { numpy as np, tree, type Array as JArray, type DType } from "@jax-js/jax";

type Array = JArray;
const JsArray = globalThis.Array;

export type Tree = Array | Tree[] | { [key: string]: Tree };

export const treeRef = <T>(t: T): T => tree.ref(t as never) as T;
export const treeDispose = (t: unknown): void => tree.dispose(t as never);
export const treeLeaves = (t: Tree): Array[] => tree.leaves(t as never) as Array[];

export function treeMap<T extends Tree>(fn: (...leaves: Array[]) => Array, t: T, ...rest: T[]): T {
  return tree.map(fn as never, t as never, ...(rest as never[])) as unknown as T;
}

export const treeZerosLike = <T extends Tree>(t: T): T => treeMap((x) => np.zerosLike(x), t);
export const treeAdd = <T extends Tree>(a: T, b: T): T => treeMap((x, y) => x.add(y), a, b);
export const treeSub = <T extends Tree>(a: T, b: T): T => treeMap((x, y) => x.sub(y), a, b);
export const treeScale = <T extends Tree>(t: T, s: number | Array): T => {
  if (typeof s === "number") return treeMap((x) => x.mul(s), t);
  const out = treeMap((x) => x.mul(s.ref), t);
  s.dispose();
  return out;
};

/** Σ over leaves of Σ x·y (consumes both). */
export function treeVdot(a: Tree, b: Tree): Array {
  const la = treeLeaves(a);
  const lb = treeLeaves(b);
  let acc: Array = np.zeros([]);
  for (let i = 0; i < la.length; i++) acc = acc.add(la[i].mul(lb[i]).sum());
  return acc;
}

/** Global L2 norm √(Σ‖leaf‖²), the quantity clipped by `clipByGlobalNorm` (consumes). */
export function treeGlobalNorm(t: Tree): Array {
  let acc: Array = np.zeros([]);
  for (const x of treeLeaves(t)) acc = acc.add(np.square(x).sum());
  return np.sqrt(acc);
}

/** Number of scalars in a tree. Reads shapes only and does NOT consume (metadata, not data). */
export function treeSize(t: Tree): number {
  let n = 0;
  for (const x of tree.leaves(t as never) as Array[]) n += x.size;
  return n;
}

/** A host copy of an array: what crosses from the numeric layers into runner/CLI/web (JSON-safe). */
export type HostArray = { shape: number[]; dtype: DType; data: number[] };
export type HostTree = HostArray | HostTree[] | { [key: string]: HostTree };

function isArrayLeaf(x: unknown): x is Array {
  return typeof x === "object" && x !== null && "aval" in x && "dataSync" in x;
}

/** Copy a tree to the host (consumes it). Float data round-trips exactly (JSON numbers are float64). */
export function treeToHost(t: Tree): HostTree {
  if (isArrayLeaf(t)) {
    const shape = t.shape.slice();
    const dtype = t.dtype;
    return { shape, dtype, data: JsArray.from(t.dataSync() as ArrayLike<number>) };
  }
  if (JsArray.isArray(t)) return t.map((c) => treeToHost(c));
  const out: Record<string, HostTree> = {};
  for (const k of Object.keys(t)) out[k] = treeToHost((t as Record<string, Tree>)[k]);
  return out;
}

function isHostLeaf(x: unknown): x is HostArray {
  return typeof x === "object" && x !== null && "shape" in x && "data" in x && "dtype" in x;
}

export function treeFromHost(h: HostTree): Tree {
  if (isHostLeaf(h)) return np.array(h.data, { shape: h.shape, dtype: h.dtype });
  if (JsArray.isArray(h)) return h.map((c) => treeFromHost(c));
  const out: Record<string, Tree> = {};
  for (const k of Object.keys(h)) out[k] = treeFromHost((h as Record<string, HostTree>)[k]);
  return out;
}
