/**
 * The one import of an experiment's declaration: `defineExperiment`, the hparam schema helpers, the
 * criteria (checks, gates and claims), chart specs and logging-grid brackets.
 *
 *   import { defineExperiment, integer, number, type Point } from "../../src/declare/kit.ts";
 */
export { defineExperiment, MAIN_PHASE, type Experiment, type ExperimentDecl, type Point, type RunContext, type MetricRow, type Json, type Size, type Verdict, type CheckDecl, type CheckInput, type ResultTable, type Coverage, type Need, type ArrayInfo, type TrainOutcome } from "./experiment.ts";
export { number, integer, oneOf, bool, string, type Infer, type Schema, type Values } from "./schema.ts";
export type { FigureSpec, ChartSpec } from "./charts.ts";
export { firstStepAtLeast, type Bracket } from "./grid.ts";
export { fmtNum } from "./criteria.ts";
export { digitsNeed, fashionMnistNeed } from "./needs.ts";

/** The results of a seed's one point (checks of an experiment without a sweep): an error if there are none or several. */
export function onlyResults<R>(points: { results: R }[]): R {
  if (points.length !== 1) throw new Error(`expected one run per seed, got ${points.length}`);
  return points[0].results;
}

/** The points of the smallest seed: what a figure of one seed draws when the reproduction ran several. */
export function firstSeed<P extends { seed: number }>(points: P[]): P[] {
  const s = Math.min(...points.map((p) => p.seed));
  return points.filter((p) => p.seed === s);
}
