/**
 * genlab's public library entry: models, optimizers, training, measures, scores, theory, and the
 * experiment declaration API. Import it from your own jax-js code:
 *
 *   import "genlab/node-shim";               // Node 20 only, before jax-js
 *   import { initMlp, applyMlp, el2nFromLogits, mlpGradNorms } from "genlab";
 *
 * Everything here follows jax-js ownership: each function consumes its array arguments once.
 */
export * from "./core/prng.ts";
export * from "./core/tree.ts";
export * from "./core/linalg.ts";
export { initDevices } from "./core/jax.ts";
export { GenlabError, DivergenceError, type ErrorIssue } from "./core/errors.ts";
export * from "./nn/dense.ts";
export * from "./nn/losses.ts";
export * from "./nn/activations.ts";
export * from "./nn/randomFeatures.ts";
export * from "./optim/transform.ts";
export * from "./optim/aliases.ts";
export * from "./data/dataset.ts";
export * from "./data/modular.ts";
export * from "./data/noise.ts";
export * from "./data/npy.ts";
export { train, type TrainConfig, type TrainResult, type LogRecord } from "./train/loop.ts";
export * from "./train/monitors.ts";
export * from "./measures/hessian.ts";
export * from "./scores/perExample.ts";
export * from "./scores/ranking.ts";
export * from "./theory/eigenframework.ts";
export * from "./theory/rfSimulation.ts";
export { defineExperiment, type Experiment, type RunContext, type Point, type Verdict } from "./declare/experiment.ts";
export { number, integer, oneOf, bool, string, type Infer } from "./declare/schema.ts";
export type { FigureSpec, ChartSpec } from "./declare/charts.ts";
// Memorization and grokking (issue 11)
export * from "./nn/twoLayer.ts";
export * from "./nn/moe.ts";
export * from "./optim/robust.ts";
export * from "./data/xorClusters.ts";
export * from "./data/gaussianClusters.ts";
export * from "./data/teacher.ts";
export * from "./data/knowledgeGraph.ts";
export * from "./measures/fourier.ts";
export * from "./measures/pruning.ts";
export * from "./measures/phases.ts";
export * from "./scores/coherence.ts";
export * from "./core/order.ts";
export * from "./measures/alignment.ts";
export * from "./measures/pathway.ts";
export * from "./theory/longTail.ts";
export * from "./theory/kernelGd.ts";
// Data-centric generalization (issue 12): the per-example dynamics logger, every data score, their uses
export * from "./scores/dynamics.ts";
export * from "./scores/cartography.ts";
export * from "./scores/aum.ts";
export * from "./scores/memorization.ts";
export * from "./scores/confidentLearning.ts";
export * from "./scores/selection.ts";
export * from "./scores/useful.ts";
export * from "./scores/nearDuplicates.ts";
export * from "./scores/models.ts";
export { runScoreJob, predictProbs, stratifiedFolds, SCORE_IDS, type ScoreJob, type ScoreResult, type ScoreId, type TrainRecipe } from "./scores/pipeline.ts";
export * from "./scores/issues.ts";
export * from "./optim/sam.ts";
export * from "./nn/patchCnn.ts";
export * from "./data/patchFeatures.ts";
export * from "./data/longTailMixture.ts";
export * from "./data/csv.ts";
export * from "./data/npz.ts";
export { injectStructuredNoise, FASHION_MNIST_PARTNERS } from "./data/noise.ts";
