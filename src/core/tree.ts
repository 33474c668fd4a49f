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

/**
 * The leaves of a tree as `path: [shape] dtype` lines, in the order `treeToHost` / `packHostTree` visit
 * them (does NOT consume: shapes only). A checkpoint is checked against a model with it.
 */
export function treeSignature(t: Tree, path: string): string[] {
  if (isArrayLeaf(t)) return [`${path}: [${t.shape.join(", ")}] ${t.dtype}`];
  if (JsArray.isArray(t)) return t.flatMap((c, i) => treeSignature(c, `${path}[${i}]`));
  return Object.keys(t).flatMap((k) => treeSignature((t as Record<string, Tree>)[k], path ? `${path}.${k}` : k));
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

/**
 * Compact, exact encoding of a host tree for files (checkpoints): each leaf's data as base64 of its
 * little-endian bytes in its dtype, ~4× smaller than decimal JSON for float32 and exact by construction.
 */
export type PackedArray = { shape: number[]; dtype: DType; b64: string };
export type PackedTree = PackedArray | PackedTree[] | { [key: string]: PackedTree };

const TYPED: Record<string, { new (n: number): Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array }> = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  uint32: Uint32Array,
  bool: Uint8Array,
};

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export function packHostTree(h: HostTree): PackedTree {
  if (isHostLeaf(h)) {
    const T = TYPED[h.dtype];
    if (!T) throw new Error(`cannot pack dtype ${h.dtype}`);
    const arr = new T(h.data.length);
    for (let i = 0; i < h.data.length; i++) arr[i] = Number(h.data[i]);
    return { shape: h.shape, dtype: h.dtype, b64: toBase64(new Uint8Array(arr.buffer)) };
  }
  if (JsArray.isArray(h)) return h.map(packHostTree);
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, packHostTree(v)]));
}

export function unpackHostTree(p: PackedTree): HostTree {
  if (typeof p === "object" && p !== null && "b64" in p && "shape" in p) {
    const a = p as PackedArray;
    const T = TYPED[a.dtype];
    if (!T) throw new Error(`cannot unpack dtype ${a.dtype}`);
    const bytes = fromBase64(a.b64);
    const view = new (T as unknown as { new (b: ArrayBuffer): ArrayLike<number> })(bytes.buffer as ArrayBuffer);
    return { shape: a.shape, dtype: a.dtype, data: JsArray.from(view) };
  }
  if (JsArray.isArray(p)) return p.map(unpackHostTree);
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, unpackHostTree(v as PackedTree)]));
}
