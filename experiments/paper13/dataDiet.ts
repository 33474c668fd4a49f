/**
 * Deep Learning on a Data Diet (Paul, Ganguli, Dziugaite, NeurIPS 2021) on Fashion-MNIST.
 *
 * Claim: EL2N scores computed early in training (epoch 2) and averaged over runs find the important
 * examples: keeping the highest-scoring half loses less test accuracy than keeping a random half; the
 * highest scores are enriched for mislabeled examples; early and late scores rank examples alike.
 * Pass criterion (calibration-b.md, "Proposed criteria for paper 13"): (i) with 10% flipped labels, ≥ 50% of
 * the top-10% EL2N@2 (run mean) are flipped, AUROC ≥ 0.95, and EL2N@0 top-10% ≤ 0.2; (ii-a) keep 50%:
 * paired mean Δ(EL2N@2 − random) ≥ +0.3 points over the seeds and Δ > 0 in ≥ 4 of 5 (≥ 80% of seeds);
 * (ii-b) keep 30%: acc(EL2N) ≤ acc(random) − 10 points; (iii) Spearman(EL2N@2, EL2N@late) ≥ 0.8 (clean).
 * Negative control: (ii-a) with GraNd at initialisation in place of EL2N@2 must fail (calibration: −5.7).
 * Cost on one core: smoke ~10 s, quick ~2 min, full ~40 min. Run: genlab run data-diet --quick
 *
 * Phases: score (clean), score (noisy), one retrain phase per (method, keep, seed): each resumable.
 * The scores come from the per-example dynamics logger (every example after every epoch of every scoring
 * run, saved as [epochs × examples] arrays `score-clean_runR_<quantity>.npy`); the scores and the flipped-label
 * mask are saved as .npy arrays.
 */
import { DType, numpy as np, type Array } from "@jax-js/jax";
import { keyFromSeed, permutationFromKey, roleKeys, splitKey, type Key } from "../../src/core/prng.ts";
import { treeDispose } from "../../src/core/tree.ts";
import { takeRows, type Dataset } from "../../src/data/dataset.ts";
import { injectLabelNoise } from "../../src/data/noise.ts";
import { loadFashionMnist } from "../../src/io/fashionMnist.ts";
import { applyMlp, initMlp, mlpSpec, type MlpParams, type MlpSpec } from "../../src/nn/dense.ts";
import { accuracy, softmaxCrossEntropy } from "../../src/nn/losses.ts";
import { sgd } from "../../src/optim/aliases.ts";
import { auroc, precisionAtK, spearman, topK } from "../../src/scores/ranking.ts";
import { scoreRuns } from "../../src/scores/runs.ts";
import { defineExperiment, type Point, type RunContext, type Verdict } from "../../src/runner/experiment.ts";
import { integer, number, string } from "../../src/runner/schema.ts";

export const METHODS = ["random", "el2n", "grand", "forgetting", "grand_init"] as const;
type Method = (typeof METHODS)[number];

export type DataDietResults = {
  noise: { el2n_e2_top10: number; el2n_e2_auroc: number; el2n_e0_top10: number; grand_e2_top10: number; grand_e2_auroc: number; flipped: number };
  spearman_el2n_e2_late: number;
  /** acc[method][keep] = test accuracy per seed. */
  acc: Record<string, Record<string, number[]>>;
  keeps: number[];
  seeds: number[];
  full_data_test_acc: number;
};

const parseList = (s: string) => s.split(",").map((x) => Number(x.trim())).filter((x) => Number.isFinite(x));

/** Scores at epochs 0, 2 and the last, averaged over `scoreRuns` runs trained through ctx.train; and their mean test accuracy. */
async function scoreData(ctx: RunContext, tag: string, data: Dataset, test: Dataset, spec: MlpSpec, h: { lr: number; batchSize: number; scoreRuns: number; scoreEpochs: number }, key: Key) {
  let testAcc = 0;
  const s = await scoreRuns({
    spec,
    data,
    runs: h.scoreRuns,
    epochs: h.scoreEpochs,
    at: [0, 2, h.scoreEpochs],
    grandAt: [0, 2],
    key,
    // one training per run; the runner's dynamics logger records every example after every epoch
    trainRun: async (r, params, k, dynamics) => {
      const out = await ctx.train<MlpParams>({ name: `${tag}/run${r}`, params, loss: (p, x, y) => softmaxCrossEntropy(applyMlp(spec, p, x), y, 10), optimizer: sgd(h.lr, { momentum: 0.9 }), train: data, epochs: h.scoreEpochs, batchSize: h.batchSize, key: k, log: { every: 0, perDecade: 0 }, dynamics });
      treeDispose(out.optState);
      ctx.progress(r + 1, h.scoreRuns);
      return { params: out.params, dynamics: out.dynamics! };
    },
    finish: async (_r, params) => {
      testAcc += (await testAccuracy(spec, params, test)) / h.scoreRuns;
    },
  });
  return { el2n_e0: s.el2n.get(0)!, el2n_e2: s.el2n.get(2)!, el2n_late: s.el2n.get(h.scoreEpochs)!, grand_e0: s.grand.get(0)!, grand_e2: s.grand.get(2)!, forgetting: s.forgetting, test_acc: testAcc };
}

async function testAccuracy(spec: MlpSpec, params: MlpParams, test: Dataset): Promise<number> {
  const x = np.array(test.x as Float32Array<ArrayBuffer>, { shape: test.xShape });
  const y = np.array(test.y as Int32Array<ArrayBuffer>, { dtype: DType.Int32 });
  const acc = accuracy(applyMlp(spec, params, x), y, 10);
  return (await acc.data())[0];
}

export const dataDiet = defineExperiment({
  id: "data-diet",
  paper: 13,
  title: "EL2N, GraNd and forgetting scores: noisy-label enrichment, rank stability and pruning on Fashion-MNIST",
  claim: (h) =>
    `On ${h.trainSize} Fashion-MNIST images, EL2N at epoch 2 (mean of ${h.scoreRuns} runs) puts ≥ 50% flipped labels in its top 10% (AUROC ≥ 0.95) when 10% are flipped, ranks examples like the epoch-${h.scoreEpochs} EL2N (Spearman ≥ 0.8), and keeping its highest-scoring 50% beats a random 50% by ≥ 0.3 points on average over ${parseList(h.seeds).length} paired retraining seeds.`,
  coverage: {
    level: "full",
    covered: ["EL2N and full-parameter GraNd (ghost norms) averaged over runs", "forgetting events as a baseline", "pruning curves over keep-fractions for EL2N, GraNd, forgetting and random, multi-seed", "10%-label-noise enrichment", "early-versus-late rank correlation", "GraNd at initialisation, reported without gating"],
    notCovered: [],
  },
  deviations: [
    "Fashion-MNIST MLP instead of CIFAR-10 ResNet-18 (spec §13's laptop set-up), no augmentation, no lr schedule",
    "quick size: 5,000 training images, one hidden layer of 128, 3 scoring runs of 10 epochs and 10-epoch retraining (calibration: 20,000 images, 784-256-256-10, 5 runs of 20 epochs, 20-epoch retraining)",
    "'late' scores are at the last scoring epoch (10 at quick size) instead of epoch 20",
    "pruning scores come from the clean set, noise detection from a separately scored noisy copy (as in the calibration)",
  ],
  criterionSource: "calibration-b.md 'Proposed criteria for paper 13' (measured in PyTorch), replacing spec §13's (ii) and (iii)",
  negativeControl: {
    what: "(ii-a) with GraNd at initialisation as the score instead of EL2N@2: an uninformative score must not beat random (calibration: Δ −5.7 points)",
    verdict: (points) => pruningVerdict(points[0].results as DataDietResults, "grand_init"),
  },
  dataSource: "file",
  hparams: {
    trainSize: integer(20000, "training images (a fixed random subset of the 60k)", { min: 100, max: 60000 }),
    testSize: integer(10000, "test images", { min: 100, max: 10000 }),
    hidden: string("256,256", "hidden widths of the MLP, comma-separated"),
    lr: number(0.05, "SGD learning rate (momentum 0.9)", { min: 0, max: 10, minExclusive: true }),
    batchSize: integer(128, "minibatch size", { min: 1, max: 60000 }),
    scoreRuns: integer(5, "independent runs the scores are averaged over", { min: 1, max: 50 }),
    scoreEpochs: integer(20, "epochs of each scoring run ('late' scores at the last; must be ≥ 2)", { min: 2, max: 200 }),
    retrainEpochs: integer(20, "epochs of each retraining on a kept subset", { min: 1, max: 200 }),
    keeps: string("0.7,0.5,0.3", "fractions of the training set kept"),
    seeds: string("0,1,2,3,4", "retraining seeds (paired across methods)"),
    noiseFraction: number(0.1, "fraction of labels flipped for the noise test", { min: 0, max: 0.9 }),
  },
  sizes: {
    smoke: { trainSize: 400, testSize: 400, hidden: "32", scoreRuns: 1, scoreEpochs: 2, retrainEpochs: 1, keeps: "0.5", seeds: "0" },
    quick: { trainSize: 5000, testSize: 5000, hidden: "128", scoreRuns: 3, scoreEpochs: 10, retrainEpochs: 8, keeps: "0.7,0.5,0.3", seeds: "0,1,2,3,4" },
  },
  cost: { smoke: "~10 s", quick: "~2 min", full: "~40 min" },

  async run(ctx): Promise<DataDietResults> {
    const h = ctx.hparams;
    const fm = loadFashionMnist();
    const k = roleKeys(ctx.seed, ["subsample", "noise", "score", "noisyScore", "retrain"]);
    const train = takeRows(fm.train, permutationFromKey(k.subsample, fm.train.y.length).subarray(0, h.trainSize));
    const test = takeRows(fm.test, Int32Array.from({ length: h.testSize }, (_, i) => i));
    const spec = mlpSpec({ dims: [784, ...parseList(h.hidden), 10], activation: "relu", bias: true });
    const keeps = parseList(h.keeps);
    const seeds = parseList(h.seeds);
    const noisy = injectLabelNoise(train.y as Int32Array, 10, h.noiseFraction, k.noise, "different");
    const flipped = new Uint8Array(train.y.length);
    for (const i of noisy.corrupted) flipped[i] = 1;
    ctx.saveArray("flipped_mask", flipped);
    // the dashboard's scores page shows the top-ranked examples as images with their labels
    ctx.saveArray("images", Uint8Array.from(train.x, (v) => Math.round(v * 255)), [h.trainSize, 28, 28]);
    ctx.saveArray("labels", Int32Array.from(train.y));

    const clean = await ctx.phase("score-clean", async () => {
      const s = await scoreData(ctx, "score-clean", train, test, spec, h, k.score);
      for (const k of ["el2n_e0", "el2n_e2", "el2n_late", "grand_e0", "grand_e2", "forgetting"] as const) ctx.saveArray(`clean_${k}`, s[k]);
      return { spearman: spearman(s.el2n_e2, s.el2n_late), test_acc: s.test_acc };
    });
    const noise = await ctx.phase("score-noisy", async () => {
      const s = await scoreData(ctx, "score-noisy", { ...train, y: noisy.labels }, test, spec, h, k.noisyScore);
      for (const k of ["el2n_e0", "el2n_e2", "grand_e2"] as const) ctx.saveArray(`noisy_${k}`, s[k]);
      const top = Math.round(0.1 * train.y.length);
      return {
        el2n_e2_top10: precisionAtK(s.el2n_e2, flipped, top),
        el2n_e2_auroc: auroc(s.el2n_e2, flipped),
        el2n_e0_top10: precisionAtK(s.el2n_e0, flipped, top),
        grand_e2_top10: precisionAtK(s.grand_e2, flipped, top),
        grand_e2_auroc: auroc(s.grand_e2, flipped),
        flipped: noisy.corrupted.length,
      };
    });

    const scoreOf: Record<Method, () => ArrayLike<number>> = {
      random: () => new Float32Array(0),
      el2n: () => ctx.loadArray("clean_el2n_e2").data,
      grand: () => ctx.loadArray("clean_grand_e2").data,
      forgetting: () => ctx.loadArray("clean_forgetting").data,
      grand_init: () => ctx.loadArray("clean_grand_e0").data,
    };
    k.retrain.dispose();
    const acc: Record<string, Record<string, number[]>> = {};
    for (const seed of seeds) {
      for (const keep of keeps) {
        const size = Math.round(keep * train.y.length);
        for (const method of METHODS) {
          if (method === "grand_init" && keep !== 0.5) continue; // the control arm, at keep 50% only
          const a = await ctx.phase(`retrain/${method}/keep${keep}/seed${seed}`, async () => {
            // Paired: every method of a seed shares its init and shuffling keys (drawn from the seed);
            // random keeps a random subset of the same size.
            const [kPerm, kInit] = splitKey(keyFromSeed(10_000 * (ctx.seed + 1) + seed), 2);
            const idx = method === "random" ? permutationFromKey(kPerm, train.y.length).subarray(0, size) : (kPerm.dispose(), topK(scoreOf[method](), size));
            const out = await ctx.train<MlpParams>({
              params: initMlp(spec, kInit),
              loss: (p, x, y: Array) => softmaxCrossEntropy(applyMlp(spec, p, x), y, 10),
              optimizer: sgd(h.lr, { momentum: 0.9 }),
              train: takeRows(train, idx),
              epochs: h.retrainEpochs,
              batchSize: h.batchSize,
              key: keyFromSeed(20_000 * (ctx.seed + 1) + seed),
              log: { every: 0, perDecade: 0 },
            });
            treeDispose(out.optState);
            const t = await testAccuracy(spec, out.params, test);
            await ctx.record({ test_acc: t }, { axis: "keep", x: keep });
            return t;
          });
          (acc[method] ??= {})[keep] = [...(acc[method]?.[keep] ?? []), a];
        }
      }
    }
    return { noise, spearman_el2n_e2_late: clean.spearman, acc, keeps, seeds, full_data_test_acc: clean.test_acc };
  },

  verdict(points) {
    const r = points[0].results as DataDietResults;
    const prune = pruningVerdict(r, "el2n");
    const n = r.noise;
    const noiseOk = n.el2n_e2_top10 >= 0.5 && n.el2n_e2_auroc >= 0.95 && n.el2n_e0_top10 <= 0.2;
    const rankOk = r.spearman_el2n_e2_late >= 0.8;
    return {
      verdict: noiseOk && rankOk && prune.verdict === "PASS" ? "PASS" : "FAIL",
      criterion: `(i) noisy top-10% EL2N@2 flipped ≥ 0.5, AUROC ≥ 0.95, EL2N@0 top-10% ≤ 0.2; ${prune.criterion}; (iii) Spearman(EL2N@2, EL2N@late) ≥ 0.8`,
      measured: { el2n_top10_flipped: n.el2n_e2_top10, el2n_auroc: n.el2n_e2_auroc, el2n_init_top10: n.el2n_e0_top10, spearman_e2_late: r.spearman_el2n_e2_late, ...prune.measured, grand_top10_flipped: n.grand_e2_top10 },
    };
  },

  figures(points) {
    const r = points[0].results as DataDietResults;
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = (xs: number[]) => (xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / (xs.length - 1)) : 0);
    const keeps = [...r.keeps].sort((a, b) => a - b);
    const series = METHODS.filter((m) => m !== "grand_init").map((m) => {
      const ys = keeps.map((k) => r.acc[m]?.[k] ?? []);
      return { name: m, x: keeps, y: ys.map(mean), lo: ys.map((v) => mean(v) - sd(v)), hi: ys.map((v) => mean(v) + sd(v)) };
    });
    return [
      {
        name: "data-diet",
        title: "Data Diet on Fashion-MNIST: pruning by score, and noisy-label detection",
        subtitle: `${r.seeds.length} paired seeds, mean ± sd · full-data test accuracy ${r.full_data_test_acc.toFixed(4)} · noisy top-10% flipped: EL2N@2 ${r.noise.el2n_e2_top10.toFixed(3)}, EL2N@0 ${r.noise.el2n_e0_top10.toFixed(3)}, GraNd@2 ${r.noise.grand_e2_top10.toFixed(3)}`,
        panels: [
          { kind: "line", title: "test accuracy vs fraction kept", xLabel: "fraction of the training set kept", yLabel: "test accuracy", series },
          {
            kind: "bar",
            title: "noisy-label detection (10% flipped)",
            xLabel: "score",
            yLabel: "fraction",
            groups: ["top-10% flipped", "AUROC"],
            series: [
              { name: "el2n", values: [r.noise.el2n_e2_top10, r.noise.el2n_e2_auroc] },
              { name: "grand", values: [r.noise.grand_e2_top10, r.noise.grand_e2_auroc] },
              { name: "random", values: [0.1, 0.5] },
            ],
            width: 420,
          },
        ],
      },
    ];
  },
});

/** (ii-a) keep 50%: paired Δ(score − random) ≥ +0.3 points on average and > 0 in ≥ 80% of seeds; (ii-b) keep 30%: ≤ −10 points. */
export function pruningVerdict(r: DataDietResults, method: Method): Verdict {
  const d = (keep: number) => (r.acc[method]?.[keep] ?? []).map((a, i) => 100 * (a - (r.acc.random?.[keep]?.[i] ?? NaN)));
  const d50 = d(0.5);
  const mean50 = d50.length ? d50.reduce((a, b) => a + b, 0) / d50.length : null;
  const positive = d50.filter((x) => x > 0).length;
  const hasKeep30 = r.keeps.includes(0.3);
  const d30 = hasKeep30 && method !== "grand_init" ? d(0.3) : [];
  const mean30 = d30.length ? d30.reduce((a, b) => a + b, 0) / d30.length : null;
  const okA = mean50 !== null && mean50 >= 0.3 && positive >= Math.ceil(0.8 * d50.length);
  const okB = method === "grand_init" || !hasKeep30 || (mean30 !== null && mean30 <= -10);
  return {
    verdict: okA && okB ? "PASS" : "FAIL",
    criterion: `(ii-a) keep 50%: paired mean Δ(${method} − random) ≥ +0.3 points and Δ > 0 in ≥ 80% of seeds${method === "grand_init" ? "" : "; (ii-b) keep 30%: Δ ≤ −10 points"}`,
    measured: { delta_keep50_points: mean50, seeds_positive_keep50: positive, seeds: d50.length, ...(method === "grand_init" ? {} : { delta_keep30_points: mean30 }) },
  };
}

export type { Point };
