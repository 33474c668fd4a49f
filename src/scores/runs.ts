/**
 * Per-example scores averaged over independent training runs (Paul et al. 2021 average EL2N and GraNd over
 * initialisations; the README of their code recommends ≥ 10 runs), all read off the per-example dynamics
 * logger (scores/dynamics.ts): each run trains an MLP for `epochs` epochs through a caller-given `trainRun`
 * (so a runner can checkpoint, resume and save the logged arrays), logging every example after every epoch
 * (and at initialisation); EL2N and ghost-norm GraNd are read at the requested epochs and forgetting events
 * (Toneva et al. 2019) are counted from the logged correctness.
 */
import type { Key } from "../core/prng.ts";
import { splitKey } from "../core/prng.ts";
import { treeDispose } from "../core/tree.ts";
import type { Dataset } from "../data/dataset.ts";
import { initMlp, type MlpParams, type MlpSpec } from "../nn/dense.ts";
import { dynamicsAtEpoch, forgettingOf, mlpDynamics, type Dynamics, type DynamicsMeasure } from "./dynamics.ts";

export type ScoreRunsConfig = {
  spec: MlpSpec;
  data: Dataset;
  runs: number;
  epochs: number;
  /** Epochs after which EL2N is read (0: at initialisation)… */
  at: number[];
  /** …and GraNd (default: the same epochs). */
  grandAt?: number[];
  /** Consumed: split into one key per run (init, then data order). */
  key: Key;
  /**
   * Train run `run` for `epochs` epochs from `params` with data-order key `key` (both consumed), logging every
   * example at the end of each of `dynamics.epochs` with `dynamics.measure` (ctx.train's `dynamics` option, or
   * the loop's `dynamicsRecorder`). Returns the final params and what was logged.
   */
  trainRun(run: number, params: MlpParams, key: Key, dynamics: { measure: DynamicsMeasure<MlpParams>; epochs: number[]; batch: number }): Promise<{ params: MlpParams; dynamics: Dynamics }>;
  /** Called with each run's final params (consumed), e.g. to measure test accuracy. */
  finish?(run: number, params: MlpParams): Promise<void>;
};

/** Run means of EL2N and GraNd at each epoch of `at`, and of the forgetting score. */
export async function scoreRuns(cfg: ScoreRunsConfig): Promise<{ el2n: Map<number, Float32Array>; grand: Map<number, Float32Array>; forgetting: Float64Array; dynamics: Dynamics[] }> {
  const { spec, data, runs, epochs } = cfg;
  const n = data.y.length;
  const el2n = new Map(cfg.at.map((e) => [e, new Float32Array(n)]));
  const grand = new Map((cfg.grandAt ?? cfg.at).map((e) => [e, new Float32Array(n)]));
  const forgetting = new Float64Array(n);
  const add = (a: Float32Array | Float64Array, b: ArrayLike<number>) => {
    for (let i = 0; i < n; i++) a[i] += b[i] / runs;
  };
  const keys = splitKey(cfg.key, runs);
  const all: Dynamics[] = [];
  const measure = mlpDynamics(spec, { validClasses: data.numClasses });
  for (let r = 0; r < runs; r++) {
    const [kInit, kData] = splitKey(keys[r], 2);
    const out = await cfg.trainRun(r, initMlp(spec, kInit), kData, { measure, epochs: Array.from({ length: epochs + 1 }, (_, e) => e), batch: 1000 });
    const d = out.dynamics;
    for (const [e, acc] of el2n) add(acc, dynamicsAtEpoch(d, "el2n", e));
    for (const [e, acc] of grand) add(acc, dynamicsAtEpoch(d, "grad_norm", e));
    add(forgetting, forgettingOf(d));
    all.push(d);
    if (cfg.finish) await cfg.finish(r, out.params);
    else treeDispose(out.params);
  }
  return { el2n, grand, forgetting, dynamics: all };
}
