/**
 * Shared by paper 32's reproductions (drmSynthetic.ts, drmRotatedFashion.ts): training a DRM model (K domain heads
 * and a pooled head on one MLP featurizer) or an ERM model (one head) on one minibatch per source domain, Adam, as
 * the official DomainBed/AdaNPC code; and what both experiments read off a trained model. Host side: only typed
 * arrays and numbers leave this file.
 */
import type { Array as JArray } from "@jax-js/jax";
import { splitKey, type Key } from "../../src/core/prng.ts";
import { treeDispose } from "../../src/core/tree.ts";
import type { Dataset } from "../../src/data/dataset.ts";
import { stackDomains } from "../../src/data/domains.ts";
import { mlpSpec } from "../../src/nn/dense.ts";
import { adam } from "../../src/optim/aliases.ts";
import { domainHeadLogits, drmLoss, headCount, headPredictions, initDomainHeads, selectHeadsByEntropy, type DomainHeadsParams, type DomainHeadsSpec } from "../../src/train/domainHeads.ts";
import type { RunContext } from "../../src/declare/kit.ts";

export type HeadsSettings = { hidden: number[]; lr: number; batchPerDomain: number; steps: number };

export type TrainedHeads = { spec: DomainHeadsSpec; params: DomainHeadsParams; seconds: number; finalLoss: number; dispose: () => void };

/**
 * Train on the source domains for `steps` Adam steps, each on `batchPerDomain` rows of every domain (shuffled
 * epochs over the domains stacked side by side). `drm`: K domain heads + pooled head and the DRM loss; otherwise
 * ERM, one head on the same minibatches pooled. Consumes key.
 */
export async function trainHeads(ctx: RunContext, name: string, sources: Dataset[], classes: number, drm: boolean, s: HeadsSettings, key: Key): Promise<TrainedHeads> {
  const K = sources.length;
  const d = sources[0].xShape.slice(1).reduce((a, b) => a * b, 1);
  const spec: DomainHeadsSpec = { featurizer: mlpSpec({ dims: [d, ...s.hidden], activation: "relu", padTo: 1 }), domains: drm ? K : 0, classes };
  const stacked = stackDomains(sources).data;
  const flat = { ...stacked, xShape: [stacked.xShape[0], K, d] };
  const [kInit, kData] = splitKey(key, 2);
  const out = await ctx.train<DomainHeadsParams>({
    name,
    params: initDomainHeads(spec, kInit),
    loss: (p, x: JArray, y: JArray) => (drm ? drmLoss(spec, p, x, y) : drmLoss(spec, p, x.reshape([-1, d]), y.reshape([-1]))),
    optimizer: adam(s.lr),
    train: flat,
    steps: s.steps,
    batchSize: s.batchPerDomain,
    key: kData,
    log: { every: Math.max(1, Math.floor(s.steps / 10)), perDecade: 0 },
    progressKeys: [],
  });
  treeDispose(out.optState);
  const params = out.params;
  return { spec, params, seconds: out.seconds, finalLoss: out.history.at(-1)?.batch_loss ?? NaN, dispose: () => treeDispose(params) };
}

/** Logits of every head of a trained model on a dataset: [n, heads, C]. */
export async function logitsOn(m: TrainedHeads, ds: Dataset): Promise<Float32Array> {
  return domainHeadLogits(m.spec, m.params, ds.x as Float32Array, ds.y.length);
}

export const accuracyOf = (pred: ArrayLike<number>, y: ArrayLike<number>): number => {
  let ok = 0;
  for (let i = 0; i < y.length; i++) ok += pred[i] === y[i] ? 1 : 0;
  return ok / y.length;
};

/** What a DRM model does on one evaluation set: every head's accuracy and min-entropy selection in batches. */
export type HeadsReport = {
  /** accuracy of every head (domain heads, then the pooled head) */
  head_acc: number[];
  /** accuracy of DRM-select (min mean entropy per batch over all heads) */
  select_acc: number;
  /** the head chosen for each batch */
  chosen: number[];
};

export async function headsReport(m: TrainedHeads, ds: Dataset, batch: number): Promise<HeadsReport> {
  const n = ds.y.length;
  const H = headCount(m.spec);
  const C = m.spec.classes;
  const lg = await logitsOn(m, ds);
  const sel = selectHeadsByEntropy(lg, n, H, C, batch);
  return {
    head_acc: Array.from({ length: H }, (_, j) => accuracyOf(headPredictions(lg, n, H, C, j), ds.y)),
    select_acc: accuracyOf(sel.predictions, ds.y),
    chosen: sel.chosen,
  };
}

/** Counts of each head among the chosen ones. */
export function chosenHistogram(chosen: number[], heads: number): number[] {
  const h = new Array<number>(heads).fill(0);
  for (const c of chosen) h[c]++;
  return h;
}
