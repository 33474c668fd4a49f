/**
 * The per-example dynamics logger: during training, at chosen epochs, every training example's loss,
 * logit margin, correctness, probability of its label, EL2N and gradient norm (scores/perExample.ts
 * `PER_EXAMPLE_QUANTITIES`), measured in large batched passes (ghost norms for MLPs, vmap(grad) in chunks
 * for any other model) with the parameters at the end of that epoch. Every data score of this folder is a
 * function of these [epochs × examples] arrays: EL2N and GraNd (Paul et al. 2021), forgetting events
 * (Toneva et al. 2019), dataset cartography (Swayamdipta et al. 2020), the area under the margin (Pleiss et
 * al. 2020) and the USEFUL clustering inputs (Nguyen et al. 2024).
 *
 * The runner owns the logging (`ctx.train({ …, dynamics })`, runner/context.ts): it hooks the measure into
 * the training loop, keeps the arrays across checkpoints and resumes, and saves them as .npy artifacts
 * `<prefix>_<quantity>` of shape [E, N] with `<prefix>_epochs` [E]. Host side only: typed arrays.
 */
import { jit, type Array } from "@jax-js/jax";
import { treeDispose, type Tree } from "../core/tree.ts";
import { numRows, type Dataset } from "../data/dataset.ts";
import type { MlpParams, MlpSpec } from "../nn/dense.ts";
import type { StepHook } from "../train/loop.ts";
import { genericPerExample, mlpPerExample, perExampleInBatches, type PerExampleLoss, type PerExampleQuantity } from "./perExample.ts";
import { forgettingScores } from "./ranking.ts";

/** Recorded dynamics: `values[q]` is row-major [epochs.length, n]. */
export type Dynamics = { epochs: number[]; n: number; values: Partial<Record<PerExampleQuantity, Float32Array>> };

/** A jit-safe per-example measure: consumes params, x [B, …] and y [B]; returns [B] arrays by quantity. */
export type DynamicsMeasure<P extends Tree> = (params: P, x: Array, y: Array) => Partial<Record<PerExampleQuantity, Array>>;

/** Every quantity of an MLP in one ghost-norm pass (about 2/3 of a training step's FLOPs per row). */
export function mlpDynamics(spec: MlpSpec, opts: { validClasses?: number; loss?: PerExampleLoss } = {}): DynamicsMeasure<MlpParams> {
  return (p, x, y) => mlpPerExample(spec, p, x, y, opts);
}

/** Any classifier `apply(params, x) → logits`: outputs batched, gradient norms by vmap(grad) (chunk the rows). */
export function genericDynamics<P extends Tree>(apply: (p: P, x: Array) => Array, opts: { validClasses?: number } = {}): DynamicsMeasure<P> {
  return (p, x, y) => genericPerExample(apply, p, x, y, opts);
}

/** A measure without the gradient norm (forward pass only), for when GraNd is not wanted. */
export function withoutGradNorm<P extends Tree>(measure: DynamicsMeasure<P>): DynamicsMeasure<P> {
  return (p, x, y) => {
    const r = measure(p, x, y);
    r.grad_norm?.dispose();
    delete r.grad_norm;
    return r;
  };
}

/** jit a measure once (compiled per batch shape) so a whole training run reuses it. */
export function jitMeasure<P extends Tree>(m: DynamicsMeasure<P>): DynamicsMeasure<P> & { dispose(): void } {
  return jit(m as never) as unknown as DynamicsMeasure<P> & { dispose(): void };
}

/** Row `e` (an index into `d.epochs`) of quantity q: a view of N values. */
export function dynamicsRow(d: Dynamics, q: PerExampleQuantity, e: number): Float32Array {
  const v = d.values[q];
  if (!v) throw new RangeError(`dynamics: quantity ${q} was not recorded (have ${Object.keys(d.values).join(", ")})`);
  if (e < 0 || e >= d.epochs.length) throw new RangeError(`dynamics: row ${e} out of range (have ${d.epochs.length} epochs)`);
  return v.subarray(e * d.n, (e + 1) * d.n);
}

/** Row of the given epoch number (throws when that epoch was not logged). */
export function dynamicsAtEpoch(d: Dynamics, q: PerExampleQuantity, epoch: number): Float32Array {
  const e = d.epochs.indexOf(epoch);
  if (e < 0) throw new RangeError(`dynamics: epoch ${epoch} was not logged (logged: ${d.epochs.join(", ")})`);
  return dynamicsRow(d, q, e);
}

/** Indices (into `d.epochs`) of the logged epochs in [from, to]. */
export function epochRows(d: Dynamics, from = -Infinity, to = Infinity): number[] {
  return d.epochs.flatMap((ep, i) => (ep >= from && ep <= to ? [i] : []));
}

/**
 * Per-example mean of quantity q over the given rows (default: every logged epoch after 0). A NaN entry is an
 * example not logged at that epoch (a user's loop that logged a subset: scores/logged.ts) and is skipped; an
 * example logged at none of the rows gets NaN. With every entry logged this is the plain mean.
 */
export function meanOverEpochs(d: Dynamics, q: PerExampleQuantity, rows = epochRows(d, 1)): Float64Array {
  const out = new Float64Array(d.n);
  const count = new Int32Array(d.n);
  if (rows.length === 0) throw new RangeError(`dynamics: no logged epochs to average ${q} over`);
  for (const r of rows) {
    const row = dynamicsRow(d, q, r);
    for (let i = 0; i < d.n; i++) {
      if (Number.isNaN(row[i])) continue;
      out[i] += row[i];
      count[i]++;
    }
  }
  for (let i = 0; i < d.n; i++) out[i] = count[i] ? out[i] / count[i] : NaN;
  return out;
}

/** Append one epoch's measurement (each quantity [N]) to recorded dynamics. */
export function appendEpoch(d: Dynamics, epoch: number, row: Record<string, Float32Array>): Dynamics {
  const values: Dynamics["values"] = {};
  const e = d.epochs.length;
  for (const [q, v] of Object.entries(row) as [PerExampleQuantity, Float32Array][]) {
    if (v.length !== d.n) throw new RangeError(`dynamics: ${q} has ${v.length} values, expected ${d.n}`);
    const prev = d.values[q];
    if (e > 0 && !prev) throw new RangeError(`dynamics: ${q} appeared at epoch ${epoch} but not before`);
    const next = new Float32Array((e + 1) * d.n);
    if (prev) next.set(prev);
    next.set(v, e * d.n);
    values[q] = next;
  }
  return { epochs: [...d.epochs, epoch], n: d.n, values };
}

/** The first `rows` epochs of recorded dynamics (a resume drops epochs logged after its checkpoint). */
export function truncateDynamics(d: Dynamics, rows: number): Dynamics {
  const values: Dynamics["values"] = {};
  for (const [q, v] of Object.entries(d.values) as [PerExampleQuantity, Float32Array][]) values[q] = v.slice(0, rows * d.n);
  return { epochs: d.epochs.slice(0, rows), n: d.n, values };
}

/** Mean of several runs' dynamics (same epochs and n): averages every quantity element-wise. */
export function averageDynamics(runs: Dynamics[]): Dynamics {
  if (runs.length === 0) throw new RangeError("averageDynamics: no runs");
  const [first] = runs;
  for (const r of runs) {
    if (r.n !== first.n || r.epochs.join() !== first.epochs.join()) throw new RangeError("averageDynamics: runs differ in examples or logged epochs");
  }
  const values: Dynamics["values"] = {};
  for (const q of Object.keys(first.values) as PerExampleQuantity[]) {
    const out = new Float32Array(first.values[q]!.length);
    for (const r of runs) {
      const v = r.values[q];
      if (!v) throw new RangeError(`averageDynamics: ${q} missing in a run`);
      for (let i = 0; i < out.length; i++) out[i] += v[i] / runs.length;
    }
    values[q] = out;
  }
  return { epochs: first.epochs.slice(), n: first.n, values };
}

/** Optimizer steps per epoch of the training loop (train/loop.ts: the last incomplete batch is dropped). */
export function stepsPerEpoch(n: number, batchSize: number | null): number {
  return batchSize === null || batchSize >= n ? 1 : Math.floor(n / batchSize);
}

/**
 * A step hook for the training loop (train/loop.ts `stepHooks`) that measures every example of `data` at
 * the end of each of `epochs` (0: before training), and the record so far (`initial`: a resume's).
 * The measure is jitted once for the whole training; `dispose` releases it.
 */
export function dynamicsRecorder<P extends Tree>(opts: { measure: DynamicsMeasure<P>; data: Dataset; epochs: number[]; stepsPerEpoch: number; batch?: number; initial?: Dynamics }) {
  let rec: Dynamics = opts.initial ?? { epochs: [], n: numRows(opts.data), values: {} };
  const stepOf = new Map(opts.epochs.map((e) => [e * opts.stepsPerEpoch, e]));
  const jitted = jitMeasure(opts.measure);
  const hook: StepHook<P> = {
    steps: [...stepOf.keys()],
    run: async (step, params) => {
      try {
        const row = await perExampleInBatches(jitted as never, params, opts.data, opts.batch ?? 1000);
        rec = appendEpoch(rec, stepOf.get(step)!, row);
      } finally {
        treeDispose(params);
      }
    },
  };
  return { hook, dynamics: () => rec, dispose: () => jitted.dispose() };
}

/**
 * Forgetting events (Toneva et al. 2019; ranking.ts `forgettingScores`) from the logged correctness of the
 * epochs after initialisation: transitions correct → incorrect; never learned counts as the maximum.
 */
export function forgettingOf(d: Dynamics, rows = epochRows(d, 1)): Float64Array {
  const byEpoch = rows.map((r) => dynamicsRow(d, "correct", r));
  if (!byEpoch.some((row) => row.some(Number.isNaN))) return forgettingScores(byEpoch.map((row) => Uint8Array.from(row, (v) => (v > 0.5 ? 1 : 0))));
  // Some examples were not logged at some epochs (NaN): each example's events over the epochs it was logged
  // at, in order; never learned = the number of those epochs; logged at none: NaN.
  const out = new Float64Array(d.n);
  for (let i = 0; i < d.n; i++) {
    const seq = byEpoch.map((row) => row[i]).filter((v) => !Number.isNaN(v)).map((v) => (v > 0.5 ? 1 : 0));
    out[i] = seq.length ? forgettingScores(seq.map((v) => Uint8Array.of(v)))[0] : NaN;
  }
  return out;
}
