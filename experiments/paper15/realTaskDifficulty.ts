/**
 * Model-agnostic measure of generalization difficulty (Boopathy et al. 2023) on real data: the inductive bias
 * complexity Ĩ of the 8×8 digits and of Fashion-MNIST, with R, the intrinsic dimension m and the class resolution
 * δ estimated from the data as the official `classification_task_difficulty` does (src/theory/taskDifficulty.ts,
 * `datasetDifficultyInputs`; FieteLab/inductive-bias-complexity task_difficulty.py, read 2026-12-07: R = max‖x‖,
 * m = round(MLE with k = 5, `intrinsic_dim`), δ = the smallest distance ≥ 1 between classes in a sample,
 * `sample_delta` — the official default is the extreme-value estimate `evt_delta`; pixels in [0, 1]).
 *
 * Claim: at the same ε, Ĩ(digits) < Ĩ(Fashion-MNIST) — the measure ranks the 8×8 digits as the easier task.
 * Criteria: CHECKS below, declared once (specs-01-22.md §15 PASS (iv)).
 * Regime gate: both tasks' hypothesis space outgrows the data constraint (dim Θ_q > 0), so Ĩ is a number of bits
 * at all (the formula goes negative otherwise).
 * Negative control (hparams): the easy task's structure removed — the digits' pixels replaced by N(0, σ²) noise
 * with the digits' n, dimension, labels and mean norm — judged by the same check: a measure that reads the data
 * (not only n and the dimension) must then rank the noise task as the harder one.
 * What the control found: it PASSES. At quick size (seed 100) the noise task has m̂ = 34.6 (digits 8.1,
 * Fashion-MNIST 14.8) but δ = 3.14 (digits 1.18, Fashion-MNIST 2.03), R = 5.0, and Ĩ = 1.1e7 bits — below the
 * digits' 3.2e10 and Fashion-MNIST's 3.1e19. Points scattered in 64 dimensions are far apart, so the closest pair
 * of different classes is far too, and the formula's frequency cut-off 2πR/δ (which enters as a power m) falls.
 * Ĩ thus ranks unlearnable noise as the easiest of the three: the ordering (iv) holds, but it rests on R/δ as much
 * as on m, and (iv) alone is weak evidence that Ĩ reads a task's difficulty. Reported as found.
 * Each task uses its own training set size n (digits 1,797, Fashion-MNIST 60,000), as the official code; the
 * value at the digits' n for both is reported beside it (n hardly matters: dim Θ ≫ n·D).
 * Cost on one core: smoke ~10 s, quick ~15 s measured (1,000 queries, δ from 5,000 points, with the control), full ~2 min
 * (the official 10,000 queries and 30,000 points).
 * Run: genlab run task-difficulty-real --quick
 */
import { random } from "@jax-js/jax";
import { defineExperiment, digitsNeed, fashionMnistNeed, integer, number, oneOf, type CheckDecl, type Point } from "../../src/declare/kit.ts";
import { keyFromSeed, splitKey } from "../../src/core/prng.ts";
import { loadDigits } from "../../src/io/digits.ts";
import { loadFashionMnist } from "../../src/io/fashionMnist.ts";
import { classificationDifficulty, datasetDifficultyInputs, type DatasetInputs } from "../../src/theory/taskDifficulty.ts";

type Task = DatasetInputs & { name: string; n: number; dim: number; bits: number; dimThetaQ: number; bitsAtEasyN: number };
export type RealDifficultyResults = { error: number; easy: Task; hard: Task };
type P = Point<Record<string, number | string>, RealDifficultyResults>;

const one = (points: P[]) => {
  if (points.length !== 1) throw new Error(`expected one point, got ${points.length}`);
  return points[0].results;
};

const CHECKS: CheckDecl<P>[] = [
  { id: "hypothesis_space", role: "gate", what: "the smaller dim Θ_q of the two tasks (must be > 0: the hypothesis space outgrows the n·D data constraints)", cmp: ">", threshold: 0, source: "the formula: Ĩ = dim Θ_q × log-ratio is a number of bits only for dim Θ_q > 0", value: ({ points }) => { const r = one(points); return Math.min(r.easy.dimThetaQ, r.hard.dimThetaQ); } },
  { id: "digits_easier", role: "claim", what: "log₁₀ Ĩ(Fashion-MNIST) − log₁₀ Ĩ(8×8 digits) at the same ε", cmp: ">", threshold: 0, source: "specs-01-22.md §15 PASS (iv)", value: ({ points }) => { const r = one(points); return Math.log10(r.hard.bits) - Math.log10(r.easy.bits); } },
];

export const realTaskDifficulty = defineExperiment({
  id: "task-difficulty-real",
  paper: 15,
  title: "Inductive bias complexity of real tasks: the 8×8 digits against Fashion-MNIST",
  claim: (h) => `With R, m and δ estimated from the data as the official code does, the inductive bias complexity at ε = ${h.error} ranks the 8×8 digits below Fashion-MNIST: Ĩ(digits) < Ĩ(Fashion-MNIST).`,
  coverage: {
    level: "partial",
    covered: ["claim (iv): Ĩ of the 8×8 digits and Fashion-MNIST with data-estimated R, m and δ", "the sample-δ estimator"],
    notCovered: ["the extreme-value-theory δ (`evt_delta`)", "MNIST, SVHN, CIFAR-10 and ImageNet from data (their official constants are checked in task-difficulty)"],
  },
  deviations: ["the quick size estimates m from 1,000 query points and δ from 5,000 (the official and the full size: 10,000 and 30,000)", "δ is the official `sample_delta`, not its default `evt_delta` (extreme-value theory); a sample's minimum overestimates δ on Fashion-MNIST (5,000 or 30,000 of 60,000 points) while the digits use every point — a bias that lowers Ĩ(Fashion-MNIST), against the claim", "exact duplicate images (squared distance ≤ 1e-5 of the norms' sum in float32) are skipped as nearest neighbours (the official code would take log 0); their count is reported"],
  criterionSource: "specs-01-22.md §15 PASS (iv)",
  checks: CHECKS,
  negativeControl: { what: "the digits' pixels replaced by Gaussian noise with the digits' n, dimension, labels and mean norm, judged by the same check: the measure must then rank the noise task above Fashion-MNIST", hparams: { easy: "gaussian" } },
  needs: [digitsNeed(), fashionMnistNeed()],
  seeds: { smoke: 1, quick: 1, full: 1 },
  dataSource: "file",
  playFields: ["error", "queries", "deltaSample"],
  hparams: {
    easy: oneOf(["digits", "gaussian"], "digits", "digits: the 8×8 digits; gaussian: noise in their place (the control)"),
    error: number(0.01, "desired error rate ε (the same for both tasks)", { min: 0, max: 1, minExclusive: true, maxExclusive: true }),
    k: integer(5, "neighbours of the MLE intrinsic dimension", { min: 2, max: 100 }),
    queries: integer(10000, "query points of the intrinsic-dimension estimate (per task; all when fewer)", { min: 10, max: 100000 }),
    deltaSample: integer(30000, "points of the sample δ (per task; all when fewer)", { min: 10, max: 100000 }),
  },
  sizes: { smoke: { queries: 200, deltaSample: 1000 }, quick: { queries: 1000, deltaSample: 5000 } },
  cost: { smoke: "~10 s", quick: "~15 s measured, with the control", full: "~2 min" },
  calibration: {
    seeds: [100, 101, 102],
    outcome: "quick (1,000 queries, δ from 5,000 points): PASS on each seed; log₁₀ Ĩ(Fashion-MNIST) − log₁₀ Ĩ(digits) 8.99, 8.70, 8.00; the control (Gaussian noise for the digits) PASSES on each, which is a finding about Ĩ (see the header), not a fault of the control; 13–19 s alone",
  },

  async run(ctx): Promise<RealDifficultyResults> {
    const h = ctx.hparams;
    const [ke, kh, kn] = splitKey(keyFromSeed(ctx.seed), 3);
    const digits = loadDigits();
    let easyX = digits.x as Float32Array<ArrayBuffer>;
    const nE = digits.xShape[0];
    if (h.easy === "gaussian") {
      let norm = 0;
      for (let i = 0; i < nE; i++) {
        let s = 0;
        for (let t = 0; t < 64; t++) s += easyX[i * 64 + t] ** 2;
        norm += Math.sqrt(s) / nE;
      }
      const z = (await random.normal(kn, [nE, 64]).data()) as Float32Array<ArrayBuffer>;
      easyX = Float32Array.from(z, (v) => (v * norm) / 8);
    } else kn.dispose();
    const fm = loadFashionMnist().train;
    const task = async (name: string, X: Float32Array<ArrayBuffer>, y: ArrayLike<number>, n: number, dim: number, key: typeof ke): Promise<Task> => {
      const inp = await datasetDifficultyInputs(X, y, n, dim, { k: h.k, queries: h.queries, deltaSample: h.deltaSample }, key);
      const d = classificationDifficulty({ error: h.error, n, m: inp.m, R: inp.R, classes: inp.classes, delta: inp.delta });
      const atEasy = classificationDifficulty({ error: h.error, n: nE, m: inp.m, R: inp.R, classes: inp.classes, delta: inp.delta });
      ctx.progress(name === "easy" ? 1 : 2, 2);
      return { ...inp, name: name === "easy" ? (h.easy === "digits" ? "8×8 digits" : "Gaussian noise (digits' n, labels, norm)") : "Fashion-MNIST", n, dim, bits: d.bits, dimThetaQ: d.dimThetaQ, bitsAtEasyN: atEasy.bits };
    };
    const easy = await task("easy", easyX, digits.y, nE, 64, ke);
    const hard = await task("hard", fm.x as Float32Array<ArrayBuffer>, fm.y, fm.xShape[0], fm.xShape[1], kh);
    for (const [i, t] of [easy, hard].entries()) await ctx.record({ log10_bits: Math.log10(t.bits), m: t.m, m_raw: t.mRaw, delta: t.delta, R: t.R }, { phase: "tasks", axis: "task", x: i });
    return { error: h.error, easy, hard };
  },

  figures(all: P[], v) {
    const r = all[0]?.results;
    if (!r) return [];
    const tasks = [r.easy, r.hard];
    return [
      {
        name: "task-difficulty-real",
        title: `Inductive bias complexity at ε = ${r.error}: ${r.easy.name} against Fashion-MNIST`,
        subtitle: tasks.map((t) => `${t.name}: n = ${t.n}, m̂ = ${t.mRaw.toFixed(2)} → ${t.m}, R = ${t.R.toFixed(2)}, δ = ${t.delta.toFixed(3)}, Ĩ = ${t.bits.toExponential(3)} bits`).join("; ") + ` → ${v.verdict}`,
        panels: [
          {
            kind: "line" as const,
            title: "log₁₀ Ĩ (bits) against ε, each task at its own n (solid) and at the digits' n (dashed)",
            xLabel: "log₁₀ ε",
            yLabel: "log₁₀ Ĩ (bits)",
            series: tasks.flatMap((t) => {
              const eps = [-4, -3, -2, -1];
              const at = (n: number) => eps.map((e) => Math.log10(classificationDifficulty({ error: 10 ** e, n, m: t.m, R: t.R, classes: t.classes, delta: t.delta }).bits));
              return [
                { name: `${t.name} (n = ${t.n})`, x: eps, y: at(t.n), dots: true },
                { name: `${t.name} at n = ${r.easy.n}`, x: eps, y: at(r.easy.n), dashed: true },
              ];
            }),
            width: 560,
          },
        ],
      },
    ];
  },
});
