/**
 * Benchmark: label-error detection by every data score against confident learning, on Fashion-MNIST with
 * injected noise (symmetric 10 / 20 / 40 %, and structured: 20 % of each class flipped to its confusable
 * partner). Every score comes from the same trainings (one full-data run logged by the per-example dynamics
 * logger; a 5-fold cross-fit for confident learning's out-of-sample probabilities), so the comparison is on
 * the same data and models.
 *
 * Metrics, per method and condition: AUROC of the score against the injected-noise mask; lift at K = the
 * number of flipped labels (precision of the top K over the noise rate); precision of the flags when every
 * score flags as many examples as confident learning does (CL's own flags: precision, recall, F1).
 * Methods (direction: higher = more suspicious): EL2N@2 and GraNd@2 (Paul et al. 2021), forgetting events
 * (Toneva et al. 2019), −AUM (Pleiss et al. 2020), −cartography confidence and variability (Swayamdipta et
 * al. 2020), the memorization proxy, and 1 − self-confidence (confident learning's score; its flags are
 * prune_by_noise_rate). A random score is the floor.
 * Criteria: CHECKS below, declared once — validity checks of the benchmark itself (fixed before the runs, a
 * design choice): in every condition the baseline works (confident learning's AUROC ≥ 0.85, its flags'
 * precision ≥ 0.5).
 * Negative control, measured inside every point: the same checks on the random score (uniform scores drawn
 * from the seed, run through the same metrics, flagging as many examples as confident learning): it carries no
 * information about the noise, so it must fail.
 * Seeds: one per run (all randomness from the run's seed: --seed s).
 * Cost on one core: smoke ~10 s, quick ~1 min (3,000 images, 8 epochs), full ~8 min (10,000, 15 epochs).
 * Run: genlab run label-noise-bench --quick
 */
import { roleKeys, permutationFromKey, uniformFromKey } from "../../src/core/prng.ts";
import { takeRows } from "../../src/data/dataset.ts";
import { FASHION_MNIST_PARTNERS, injectLabelNoise, injectStructuredNoise } from "../../src/data/noise.ts";
import { loadFashionMnist } from "../../src/io/fashionMnist.ts";
import { auroc, flagMetrics, liftAtK, precisionAtK } from "../../src/scores/ranking.ts";
import { parseModelSpec } from "../../src/scores/models.ts";
import { runScoreJob } from "../../src/scores/pipeline.ts";
import { defineExperiment, fashionMnistNeed, integer, number, string, type CheckDecl, type CheckInput, type Point, type ResultTable } from "../../src/declare/kit.ts";

/** Methods and how their score is oriented (sign: +1 higher = more suspicious). */
export const NOISE_METHODS: { name: string; column: string; sign: 1 | -1 }[] = [
  { name: "confident learning (1 − p̂_y)", column: "cl_self_confidence", sign: -1 },
  { name: "EL2N@2", column: "el2n", sign: 1 },
  { name: "GraNd@2", column: "grand", sign: 1 },
  { name: "forgetting", column: "forgetting", sign: 1 },
  { name: "AUM (−)", column: "aum", sign: -1 },
  { name: "cartography confidence (−)", column: "cartography_confidence", sign: -1 },
  { name: "cartography variability", column: "cartography_variability", sign: 1 },
  { name: "memorization proxy", column: "memorization_proxy", sign: 1 },
  { name: "random", column: "random", sign: 1 },
];

type MethodResult = { name: string; auroc: number; lift: number; precision_at_cl: number };
export type NoiseBenchResults = { condition: string; noisy: number; n: number; cl_flagged: number; cl_flags: { precision: number; recall: number; f1: number }; methods: MethodResult[]; oos_accuracy: number };

export const CONDITIONS = ["symmetric:0.1", "symmetric:0.2", "symmetric:0.4", "structured:0.2"] as const;

