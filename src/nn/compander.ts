/**
 * Weight Compander (Cakaj, Mehnert, Yang, IJCNN 2023, arXiv:2306.16993; the formula read from the authors' PDF,
 * §III-A, Eq. 1–4 — no official code exists): every weight is stored as v and used as
 *
 *   w = Ψ(v) = a · arctan(v / b),   a, b > 0,
 *
 * so |w| < aπ/2 and ∂w/∂v = a / (b (1 + v²/b²)) is largest near 0 (small weights move faster: the "compander").
 * Initialisation v = b · tan(w₀ / a) (Eq. 4) makes Ψ(v) equal the usual initial weights w₀. Biases (and
 * normalisation parameters) are not reparameterised. (a, b) are fixed hyper-parameters shared by every layer, or
 * learned per layer ("learnable WC, fine": the paper's better variant, started at a = 0.5, b = 1).
 *
 * Works on any model whose layers are objects with a weight leaf `w` (dense and conv layers alike): `toCompander`
 * replaces each `w` by its `v` (and per-layer `ca`, `cb` when learned), `fromCompander` gives back the effective
 * parameters that the model's apply function takes — differentiably, inside the loss.
 */
import { numpy as np, type Array } from "@jax-js/jax";
import { treeDispose, type Tree } from "../core/tree.ts";

export type CompanderSpec = {
  a: number;
  b: number;
  /** "none": a and b fixed for the network; "layer": one learnable (a, b) per layer, started at (a, b) */
  learn: "none" | "layer";
};

type Layer = { [key: string]: Tree };

function isLayer(t: Tree, key: string): t is Layer {
  return typeof t === "object" && t !== null && !globalThis.Array.isArray(t) && !("shape" in t) && key in t;
}

/** Map every layer object (an object holding `key`) of a tree, other leaves kept. */
function mapLayers(t: Tree, key: string, fn: (layer: Layer) => Layer): Tree {
  if (isLayer(t, key)) return fn(t);
  if (globalThis.Array.isArray(t)) return t.map((c) => mapLayers(c, key, fn));
  if (typeof t === "object" && t !== null && !("shape" in t)) return Object.fromEntries(Object.entries(t).map(([k, c]) => [k, mapLayers(c as Tree, key, fn)])) as Tree;
  return t;
}

function checkSpec(s: CompanderSpec): void {
  if (!(s.a > 0) || !(s.b > 0)) throw new RangeError(`compander: a and b must be > 0, got a = ${s.a}, b = ${s.b}`);
}

/**
 * Weight Compander parameters from ordinary ones: each layer's `w` becomes v = b · tan(w / a) (Ψ(v) = w exactly up
 * to rounding), with learnable scalars `ca`, `cb` per layer when `learn` is "layer". Every |w| must be < aπ/2.
 * Consumes params.
 */
export function toCompander(params: Tree, spec: CompanderSpec): Tree {
  checkSpec(spec);
  const bound = (spec.a * Math.PI) / 2;
  let tooLarge: number | null = null;
  const out = mapLayers(params, "w", (layer) => {
    const { w, ...rest } = layer as { w: Array } & Layer;
    const m = np.abs(w.ref).max().item();
    if (m >= bound) tooLarge = Math.max(tooLarge ?? 0, m);
    const v = np.tan(w.mul(1 / spec.a)).mul(spec.b);
    return spec.learn === "layer" ? { v, ...rest, ca: np.array(spec.a), cb: np.array(spec.b) } : { v, ...rest };
  });
  if (tooLarge !== null) {
    treeDispose(out);
    throw new RangeError(`compander: an initial weight |w| = ${tooLarge} is not below aπ/2 = ${bound}: no v has Ψ(v) = w (raise a)`);
  }
  return out;
}

/** The effective parameters w = a · arctan(v / b) (per-layer ca, cb when present). Consumes params; differentiable. */
export function fromCompander(params: Tree, spec: CompanderSpec): Tree {
  checkSpec(spec);
  return mapLayers(params, "v", (layer) => {
    const { v, ca, cb, ...rest } = layer as { v: Array; ca?: Array; cb?: Array } & Layer;
    const w = ca && cb ? np.arctan(v.div(cb)).mul(ca) : np.arctan(v.mul(1 / spec.b)).mul(spec.a);
    return { w, ...rest };
  });
}

/** The leaves a weight decay acts on, as the paper: fixed (a, b): the effective weights Ψ(v) and the biases; learned: v and the biases (never a, b). Consumes params. */
export function companderDecayTree(params: Tree, spec: CompanderSpec): Tree {
  if (spec.learn === "none") return fromCompander(params, spec);
  return mapLayers(params, "v", (layer) => {
    const { ca, cb, ...rest } = layer as { ca?: Array; cb?: Array } & Layer;
    treeDispose([ca ?? [], cb ?? []]);
    return rest;
  });
}
