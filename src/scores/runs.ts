/**
 * Per-example scores averaged over independent training runs (Paul et al. 2021 average EL2N and GraNd over
 * initialisations; the README of their code recommends ≥ 10 runs): each run trains an MLP one epoch at a
 * time through a caller-given `trainEpoch` (so a runner can checkpoint and log it), and scores every
 * example at the requested epochs (0 = initialisation) with EL2N and ghost-norm GraNd, and its
 * correctness after every epoch for forgetting events (Toneva et al. 2019).
 */
import type { Key } from "../core/prng.ts";
import { splitKey } from "../core/prng.ts";
import { treeDispose, treeRef } from "../core/tree.ts";
import type { Dataset } from "../data/dataset.ts";
import { applyMlp, initMlp, type MlpParams, type MlpSpec } from "../nn/dense.ts";
import { correct } from "../nn/losses.ts";
import type { OptState } from "../optim/transform.ts";
import { el2nFromLogits, mlpGradNorms, scoreInBatches } from "./perExample.ts";
import { forgettingScores } from "./ranking.ts";

export type ScoreRunsConfig = {
  spec: MlpSpec;
  data: Dataset;
  runs: number;
  epochs: number;
  /** Epochs after which EL2N is computed (0: at initialisation)… */
  at: number[];
  /** …and GraNd (default: the same epochs). */
  grandAt?: number[];
  /** Consumed: split into one key per run (init, then data order). */
  key: Key;
  /** Train one epoch; consumes params, optState and key; returns the new params and optimizer state. */
  trainEpoch(run: number, epoch: number, params: MlpParams, optState: OptState | undefined, key: Key): Promise<{ params: MlpParams; optState: OptState }>;
  /** Called with each run's final params (consumed), e.g. to measure test accuracy. */
  finish?(run: number, params: MlpParams): Promise<void>;
  onEpoch?(run: number, epoch: number): void;
};

/** Run means of EL2N and GraNd at each epoch of `at`, and of the forgetting score. */
export async function scoreRuns(cfg: ScoreRunsConfig): Promise<{ el2n: Map<number, Float32Array>; grand: Map<number, Float32Array>; forgetting: Float64Array }> {
  const { spec, data, runs, epochs } = cfg;
  const n = data.y.length;
  const classes = data.numClasses;
  const d = { x: data.x as Float32Array<ArrayBuffer>, xShape: data.xShape, y: data.y as Int32Array<ArrayBuffer> };
  const el2n = new Map(cfg.at.map((e) => [e, new Float32Array(n)]));
  const grand = new Map((cfg.grandAt ?? cfg.at).map((e) => [e, new Float32Array(n)]));
  const forgetting = new Float64Array(n);
  const add = (a: Float32Array | Float64Array, b: ArrayLike<number>) => {
    for (let i = 0; i < n; i++) a[i] += b[i] / runs;
  };
  const score = async (e: number, p: MlpParams) => {
    if (el2n.has(e)) add(el2n.get(e)!, await scoreInBatches((x, y) => el2nFromLogits(applyMlp(spec, treeRef(p), x), y, classes), d, 1000));
    if (grand.has(e)) add(grand.get(e)!, await scoreInBatches((x, y) => mlpGradNorms(spec, treeRef(p), x, y), d, 500));
  };
  const keys = splitKey(cfg.key, runs);
  for (let r = 0; r < runs; r++) {
    const [kInit, kData] = splitKey(keys[r], 2);
    let params = initMlp(spec, kInit);
    let opt: OptState | undefined;
    let dataKey = kData;
    const correctByEpoch: Uint8Array[] = [];
    await score(0, params);
    for (let e = 1; e <= epochs; e++) {
      const [k1, k2] = splitKey(dataKey, 2);
      dataKey = k1;
      // One epoch at a time: the optimizer state carries the momentum across epochs.
      ({ params, optState: opt } = await cfg.trainEpoch(r, e, params, opt, k2));
      const c = await scoreInBatches((x, y) => correct(applyMlp(spec, treeRef(params), x), y, classes), d, 1000);
      correctByEpoch.push(Uint8Array.from(c, (v) => (v > 0.5 ? 1 : 0)));
      await score(e, params);
      cfg.onEpoch?.(r, e);
    }
    add(forgetting, forgettingScores(correctByEpoch));
    dataKey.dispose();
    treeDispose(opt ?? []);
    if (cfg.finish) await cfg.finish(r, params);
    else treeDispose(params);
  }
  return { el2n, grand, forgetting };
}
