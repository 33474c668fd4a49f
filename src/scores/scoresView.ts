/**
 * What the dashboard's scores page draws for a run, computed from the run's .npy arrays (host numbers only,
 * browser-safe): the per-example dynamics a training logged (`<prefix>_epochs`, `<prefix>_<quantity>`, see
 * runner/context.ts) → the data map (cartography confidence × variability, coloured by correctness), a
 * histogram of every score, and the top-ranked examples by a chosen score with their images when the run
 * saved them (an `images` array [n, h, w], values 0–255 or 0–1) and their labels (a `labels` array [n]).
 */
import { maxOf, minOf } from "../core/order.ts";
import type { NpyArray } from "../data/npy.ts";
import { aum } from "./aum.ts";
import { cartography } from "./cartography.ts";
import { dynamicsAtEpoch, forgettingOf, type Dynamics } from "./dynamics.ts";
import { PER_EXAMPLE_QUANTITIES, type PerExampleQuantity } from "./perExample.ts";
import { rankReason } from "./reasons.ts";

/** The scores the page offers, each oriented so that the top of the ranking is the hardest / most suspicious. */
export const VIEW_SCORES: { id: string; doc: string; descending: boolean }[] = [
  { id: "aum", doc: "area under the logit margin (low = suspicious)", descending: false },
  { id: "el2n", doc: "EL2N at an early epoch (high = hard)", descending: true },
  { id: "grand", doc: "GraNd, the gradient norm at an early epoch (high = hard)", descending: true },
  { id: "forgetting", doc: "forgetting events (high = unstable)", descending: true },
  { id: "confidence", doc: "cartography confidence (low = hard)", descending: false },
  { id: "variability", doc: "cartography variability (high = ambiguous)", descending: true },
  { id: "final_loss", doc: "loss at the last logged epoch (high = not fitted)", descending: true },
];

export type ScoresView = {
  prefixes: string[];
  prefix: string;
  n: number;
  epochs: number[];
  /** Every example's point on the data map (subsampled to ≤ mapPoints, evenly). */
  map: { index: number[]; confidence: number[]; variability: number[]; correctness: number[] };
  histograms: { id: string; edges: number[]; counts: number[] }[];
  score: string;
  top: { index: number; label: number | null; values: Record<string, number>; image: number[] | null; reason: string }[];
  imageShape: [number, number] | null;
};

/** Prefixes of the dynamics recorded in a run's arrays (those with epochs, p(label) and correctness). */
export function dynamicsPrefixes(names: string[]): string[] {
  const set = new Set(names);
  return names.filter((n) => n.endsWith("_epochs")).map((n) => n.slice(0, -7)).filter((p) => set.has(`${p}_p_true`) && set.has(`${p}_correct`)).sort();
}

export function dynamicsFromArrays(arrays: Map<string, NpyArray>, prefix: string): Dynamics {
  const ep = arrays.get(`${prefix}_epochs`);
  if (!ep) throw new RangeError(`no dynamics ${prefix}`);
  const epochs = Array.from(ep.data);
  const d: Dynamics = { epochs, n: 0, values: {} };
  for (const q of PER_EXAMPLE_QUANTITIES) {
    const a = arrays.get(`${prefix}_${q}`);
    if (!a) continue;
    if (a.shape.length !== 2 || a.shape[0] !== epochs.length) throw new RangeError(`${prefix}_${q}: expected [${epochs.length}, n], got [${a.shape.join(", ")}]`);
    d.n = a.shape[1];
    d.values[q as PerExampleQuantity] = Float32Array.from(a.data);
  }
  return d;
}

function histogram(v: ArrayLike<number>, bins = 30): { edges: number[]; counts: number[] } {
  const xs = Array.from(v).filter(Number.isFinite);
  if (!xs.length) return { edges: [], counts: [] };
  let lo = minOf(xs);
  let hi = maxOf(xs);
  if (hi === lo) hi = lo + 1;
  const w = (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const x of xs) counts[Math.min(bins - 1, Math.floor((x - lo) / w))]++;
  lo = Number(lo.toPrecision(6));
  return { edges: Array.from({ length: bins + 1 }, (_, i) => lo + i * w), counts };
}

export function scoresView(arrays: Map<string, NpyArray>, opts: { prefix?: string; score?: string; top?: number; mapPoints?: number } = {}): ScoresView | null {
  const prefixes = dynamicsPrefixes([...arrays.keys()]);
  if (!prefixes.length) return null;
  const prefix = opts.prefix && prefixes.includes(opts.prefix) ? opts.prefix : prefixes[0];
  const d = dynamicsFromArrays(arrays, prefix);
  const n = d.n;
  const last = d.epochs[d.epochs.length - 1];
  const early = d.epochs.includes(2) ? 2 : d.epochs.find((e) => e >= 1) ?? last;
  const after0 = d.epochs.some((e) => e >= 1);
  const cart = after0 ? cartography(d) : null;
  const scores: Record<string, ArrayLike<number>> = {};
  if (d.values.margin && after0) scores.aum = aum(d);
  if (d.values.el2n) scores.el2n = dynamicsAtEpoch(d, "el2n", early);
  if (d.values.grad_norm) scores.grand = dynamicsAtEpoch(d, "grad_norm", early);
  if (after0) scores.forgetting = forgettingOf(d);
  if (cart) {
    scores.confidence = cart.confidence;
    scores.variability = cart.variability;
  }
  if (d.values.loss) scores.final_loss = dynamicsAtEpoch(d, "loss", last);
  const available = VIEW_SCORES.filter((s) => s.id in scores);
  const chosen = available.find((s) => s.id === opts.score) ?? available[0];
  const step = Math.max(1, Math.ceil(n / (opts.mapPoints ?? 4000)));
  const index = Array.from({ length: Math.ceil(n / step) }, (_, i) => i * step);
  const round = (x: number) => Number(x.toFixed(4));
  const images = arrays.get("images");
  const hasImages = !!images && images.shape[0] === n && (images.shape.length === 3 || images.shape.length === 2);
  const side = hasImages ? (images!.shape.length === 3 ? [images!.shape[1], images!.shape[2]] : [Math.round(Math.sqrt(images!.shape[1])), Math.round(Math.sqrt(images!.shape[1]))]) : null;
  const labels = arrays.get("labels");
  const order = chosen ? Array.from({ length: n }, (_, i) => i).sort((a, b) => (chosen.descending ? Number(scores[chosen.id][b]) - Number(scores[chosen.id][a]) : Number(scores[chosen.id][a]) - Number(scores[chosen.id][b])) || a - b) : [];
  const pix = side ? side[0] * side[1] : 0;
  return {
    prefixes,
    prefix,
    n,
    epochs: d.epochs,
    map: cart ? { index, confidence: index.map((i) => round(cart.confidence[i])), variability: index.map((i) => round(cart.variability[i])), correctness: index.map((i) => round(cart.correctness[i])) } : { index: [], confidence: [], variability: [], correctness: [] },
    histograms: available.map((s) => ({ id: s.id, ...histogram(scores[s.id]) })),
    score: chosen?.id ?? "",
    top: order.slice(0, opts.top ?? 24).map((i, r) => ({
      index: i,
      reason: rankReason(chosen!.id === "confidence" ? "cartography_confidence" : chosen!.id === "variability" ? "cartography_variability" : chosen!.id, Number(scores[chosen!.id][i]), r + 1, n),
      label: labels && labels.shape[0] === n ? Number(labels.data[i]) : null,
      values: Object.fromEntries(available.map((s) => [s.id, round(Number(scores[s.id][i]))])),
      image: side && pix * n === images!.data.length ? Array.from(images!.data.subarray(i * pix, (i + 1) * pix), (v) => Number(v)) : null,
    })),
    imageShape: side as [number, number] | null,
  };
}
