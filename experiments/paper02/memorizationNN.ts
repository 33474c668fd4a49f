/**
 * Does learning require memorization? (Feldman, STOC 2020), in a network: spec §2 (b).
 *
 * Claim: on a long-tailed sample, a network that fits its training set memorises the examples of rare
 * subpopulations: their Feldman–Zhang memorization score mem(i) = P(h(xᵢ) = yᵢ | i ∈ S) − P(h(xᵢ) = yᵢ | i ∉ S)
 * is far higher than that of examples of frequent subpopulations, and a network trained without the
 * singletons pays about τ₁ per singleton it then mislabels.
 * Set-up (spec §2 (b)): 2,000 subpopulations with Zipf(1) frequencies, centres N(0, I₃₂), σ = 0.3, a random
 * label of 10 per subpopulation; n = 2,000 training examples and 10,000 test examples drawn from the mixture;
 * MLP 32-512-512-10, Adam 1e-3, batch 128, 200 epochs (100% train accuracy). Memorization by subset
 * retraining: K models on random 70% subsets (Feldman & Zhang 2020), with each example's standard error.
 * Criteria: CHECKS below, declared once (specs-01-22.md §2 (b) PASS line, a design estimate, not
 * calibrated; fixed before these runs), judged on the means over the seeds (each seed one run, from --seed on).
 * Negative control (run, hparams): a learner that cannot memorise, linear softmax regression on the same data
 * with the same estimator, every seed run again: its singletons' memorization is no higher than the
 * frequent ones' (mem_delta must fail).
 * Cost on one core: smoke ~10 s, quick 44 s measured 2026-12-07 (95 s on OpenBLAS's generic kernels) with the control and the other core idle (126 s with it busy) (2 seeds, K = 12, 30 epochs; the linear control adds a few
 * seconds), full ~16 min (3 seeds, K = 20, 200 epochs).
 * Run: genlab run memorization-longtail --quick
 */
import { keyFromSeed, roleKeys, splitKey } from "../../src/core/prng.ts";
import { treeDispose, type Tree } from "../../src/core/tree.ts";
import { takeRows, type Dataset } from "../../src/data/dataset.ts";
import { longTailMixture, sampleMixture, subpopCounts } from "../../src/data/longTailMixture.ts";
import { adam } from "../../src/optim/aliases.ts";
import { softmaxCrossEntropy } from "../../src/nn/losses.ts";
import { memorizationEstimate, subsetMasks } from "../../src/scores/memorization.ts";
import { parseModelSpec } from "../../src/scores/models.ts";
import { predictProbs } from "../../src/scores/pipeline.ts";
import { tau1 } from "../../src/theory/longTail.ts";
import { defineExperiment, integer, number, string, type CheckDecl, type Point, type RunContext } from "../../src/declare/kit.ts";

export type SeedResult = {
  seed: number;
  train_acc: number;
  test_acc_full: number;
  test_acc_no_singletons: number;
  singleton_examples: number;
  frequent_examples: number;
  mem_singletons: number;
  mem_singletons_se: number;
  mem_frequent: number;
  mem_frequent_se: number;
  mem_delta: number;
  mem_delta_se: number;
  tau1: number;
  errn1: number;
  gap: number;
  prediction: number;
  gap_rel_error: number;
  /** mean mem ± SE by the subpopulation's count in S: [count bucket label, mean, se, examples]. */
  by_count: [string, number, number, number][];
  /** test accuracy of both networks by the test example's subpopulation count in S. */
  test_by_count: [string, number, number, number][];
  median_se: number;
  models: number;
};

/** One seed's run (the seed is the run's, ctx.seed). */
export type MemorizationResults = SeedResult & { model: string };
type P = Point<Record<string, number | string>, MemorizationResults>;

const meanOver = (points: P[], f: (r: MemorizationResults) => number) => {
  if (!points.length) throw new Error("no seed was run");
  return points.reduce((a, p) => a + f(p.results), 0) / points.length;
};

/** The criteria, once (specs-01-22.md §2 (b) PASS line, a design estimate), on the means over the seeds. */
const CHECKS: CheckDecl<P>[] = [
  {
    id: "mem_delta",
    role: "claim",
    what: "mean over seeds of mean mem(singletons) − mean mem(subpopulations with ≥ 10 samples)",
    cmp: ">=",
    threshold: 0.4,
    source: "specs-01-22.md §2 (b), design estimate",
    over: "all",
    value: ({ points }) => meanOver(points, (r) => r.mem_delta),
  },
  {
    id: "gap_rel_error",
    role: "claim",
    what: "|gap − τ₁·errn₁| / τ₁·errn₁ on the means over seeds (gap: test-accuracy loss of the network trained without singletons)",
    cmp: "<=",
    threshold: 0.3,
    source: "specs-01-22.md §2 (b), design estimate",
    over: "all",
    value: ({ points }) => {
      const pred = meanOver(points, (r) => r.prediction);
      if (!(pred > 0)) throw new Error(`τ₁·errn₁ is ${pred}: no singleton was mislabelled by the network trained without them`);
      return Math.abs(meanOver(points, (r) => r.gap) - pred) / pred;
    },
  },
];
const BUCKETS: [string, number, number][] = [["1", 1, 1], ["2–3", 2, 3], ["4–9", 4, 9], ["≥ 10", 10, Infinity]];
const TEST_BUCKETS: [string, number, number][] = [["unseen", 0, 0], ...BUCKETS];

async function fitModel(ctx: RunContext, name: string, spec: string, data: Dataset, h: { lr: number; batchSize: number; epochs: number }, key: ReturnType<typeof keyFromSeed>, classes: number) {
  const model = parseModelSpec(spec, { inputDim: data.xShape[1], numClasses: classes, image: null });
  const [kInit, kData] = splitKey(key, 2);
  const out = await ctx.train<Tree>({ name, params: model.init(kInit), loss: (p, x, y) => softmaxCrossEntropy(model.apply(p, x), y), optimizer: adam(h.lr), train: data, epochs: h.epochs, batchSize: h.batchSize, key: kData, log: { every: 0, perDecade: 0 } });
  treeDispose(out.optState);
  return { params: out.params, model };
}

const argmaxRows = (p: Float32Array, c: number) => Int32Array.from({ length: p.length / c }, (_, i) => {
  let a = 0;
  for (let j = 1; j < c; j++) if (p[i * c + j] > p[i * c + a]) a = j;
  return a;
});

export const memorizationLongTail = defineExperiment({
  id: "memorization-longtail",
  paper: 2,
  title: "Memorization of a long tail in a network: Feldman–Zhang scores of rare vs frequent subpopulations, and the cost of not fitting singletons",
  claim: (h) =>
    `On ${h.n} examples from ${h.N} Zipf(${h.zipf}) subpopulations with random labels, a ${h.model} network fits the singletons only by memorising them: mean mem(singletons) − mean mem(subpopulations with ≥ 10 samples) ≥ 0.4 (K = ${h.memModels} subset models), and a network trained without the singletons loses τ₁·errn₁ ± 30% of test accuracy (means over the seeds).`,
  coverage: {
    level: "full",
    covered: ["the NN analog of spec §2 (b): memorization scores by subset retraining with standard errors, by subpopulation frequency", "the test-error gap of a network trained without singletons against τ₁·errn₁", "test accuracy per frequency bucket"],
    notCovered: [],
  },
  deviations: [
    "quick size: 2 seeds, K = 12 subset models, 30 epochs (100% train accuracy is reached by epoch ~20 here); full: 3 seeds, K = 20, 200 epochs as the spec",
    "the spec's 'trained to 100% train accuracy' is a fixed epoch budget; the train accuracy reached is reported",
    "memorization uses 0/1 correctness as Feldman & Zhang; models with fewer than 2 on a side give no SE for that example (reported, not dropped from the means)",
  ],
  criterionSource: "specs-01-22.md §2 (b) PASS line (a design estimate, not calibrated), unchanged",
  checks: CHECKS,
  negativeControl: {
    what: "a learner that cannot memorise: linear softmax regression on the same data, with the same estimator, every seed run again (singletons' memorization must not exceed the frequent ones' by 0.4: mem_delta must fail)",
    hparams: { model: "linear" },
  },
  seeds: { smoke: 1, quick: 2, full: 3 },
  dataSource: "generated",
  hparams: {
    N: integer(2000, "subpopulations", { min: 10, max: 100000 }),
    zipf: number(1, "Zipf exponent of the subpopulation frequencies", { min: 0, max: 5 }),
    d: integer(32, "input dimension", { min: 1, max: 4096 }),
    sigma: number(0.3, "within-subpopulation noise", { min: 0, max: 10 }),
    classes: integer(10, "classes", { min: 2, max: 1000 }),
    n: integer(2000, "training examples", { min: 50, max: 100000 }),
    nTest: integer(10000, "test examples", { min: 100, max: 200000 }),
    model: string("mlp:512,512", "the network: mlp:h1,h2 or linear"),
    lr: number(1e-3, "Adam learning rate", { min: 0, minExclusive: true, max: 1 }),
    batchSize: integer(128, "minibatch size", { min: 1, max: 100000 }),
    epochs: integer(200, "epochs of every training", { min: 1, max: 5000 }),
    memModels: integer(20, "subset models K of the memorization estimate", { min: 2, max: 1000 }),
    memFraction: number(0.7, "subset fraction (Feldman & Zhang: 0.7)", { min: 0.05, max: 0.95 }),
  },
  validate: (h) => [
    ...(!/^(linear|mlp(:[0-9]+(,[0-9]+)*)?)$/.test(h.model) ? [{ key: "model" as const, message: "expected linear or mlp:h1,h2,…" }] : []),
    ...(h.batchSize > h.n ? [{ key: "batchSize" as const, message: `${h.batchSize} exceeds the ${h.n} training examples` }] : []),
  ],
  sizes: {
    smoke: { N: 200, n: 200, nTest: 500, model: "mlp:32", epochs: 5, memModels: 4, batchSize: 50 },
    quick: { epochs: 30, memModels: 12 },
  },
  cost: { smoke: "~10 s", quick: "~44 s measured, with the control", full: "~16 min" },
  calibration: { seeds: [100, 101, 102], outcome: "PASS over seeds 100–102 (mean Δmem and the gap's relative error within their thresholds; ~80 s a seed)" },

  async run(ctx): Promise<MemorizationResults> {
    const h = ctx.hparams;
    const seed = ctx.seed;
    // Key 1000 + seed: the same numbers as the former in-run seed list, whose seed s (under --seed 0) used 1000·(0 + 1) + s.
    const r = await ctx.phase(`seed${seed}`, async () => {
      const k = roleKeys(1000 + seed, ["mixture", "train", "test", "full", "noSingleton", "masks", "subsets"]);
      const mix = longTailMixture({ N: h.N, zipf: h.zipf, d: h.d, sigma: h.sigma, classes: h.classes }, k.mixture);
      const tr = sampleMixture(mix, h.n, k.train);
      const te = sampleMixture(mix, h.nTest, k.test);
      const counts = subpopCounts(tr.subpop, h.N);
      const cnt = Int32Array.from(tr.subpop, (j) => counts[j]);
      const c = h.classes;
      const accOn = (probs: Float32Array, labels: Int32Array, rows?: number[]) => {
        const pred = argmaxRows(probs, c);
        const idx = rows ?? Array.from({ length: labels.length }, (_, i) => i);
        return idx.length ? idx.filter((i) => pred[i] === labels[i]).length / idx.length : NaN;
      };
      // the full network and the one trained without singletons
      const full = await fitModel(ctx, `seed${seed}/full`, h.model, tr.data, h, k.full, c);
      const pTrainFull = await predictProbs(full.model.apply, full.params, tr.data);
      const pTestFull = await predictProbs(full.model.apply, full.params, te.data);
      treeDispose(full.params);
      const singles = Array.from({ length: h.n }, (_, i) => i).filter((i) => cnt[i] === 1);
      const kept = Array.from({ length: h.n }, (_, i) => i).filter((i) => cnt[i] !== 1);
      const ns = await fitModel(ctx, `seed${seed}/no-singletons`, h.model, takeRows(tr.data, kept), h, k.noSingleton, c);
      const pTestNs = await predictProbs(ns.model.apply, ns.params, te.data);
      const pSingleNs = await predictProbs(ns.model.apply, ns.params, takeRows(tr.data, singles));
      treeDispose(ns.params);
      const predSingle = argmaxRows(pSingleNs, c);
      const errn1 = singles.filter((i, r) => predSingle[r] !== tr.data.y[i]).length;
      const testY = te.data.y as Int32Array;
      const gap = accOn(pTestFull, testY) - accOn(pTestNs, testY);
      const t1 = tau1(mix.freqs, h.n);
      // memorization by subset retraining
      const masks = subsetMasks(h.n, h.memModels, h.memFraction, k.masks);
      const subKeys = splitKey(k.subsets, h.memModels);
      const outcomes: Float32Array[] = [];
      for (let m = 0; m < h.memModels; m++) {
        const idx: number[] = [];
        for (let i = 0; i < h.n; i++) if (masks[m][i]) idx.push(i);
        const f = await fitModel(ctx, `seed${seed}/subset${m}`, h.model, takeRows(tr.data, idx), h, subKeys[m], c);
        const pred = argmaxRows(await predictProbs(f.model.apply, f.params, tr.data), c);
        treeDispose(f.params);
        outcomes.push(Float32Array.from({ length: h.n }, (_, i) => (pred[i] === tr.data.y[i] ? 1 : 0)));
        ctx.progress(m + 1, h.memModels);
      }
      const est = memorizationEstimate(masks, outcomes);
      ctx.saveArray(`seed${seed}_memorization`, est.value, [h.n]);
      ctx.saveArray(`seed${seed}_memorization_se`, est.se, [h.n]);
      ctx.saveArray(`seed${seed}_subpop_count`, cnt, [h.n]);
      const group = (lo: number, hi: number): [number, number, number] => {
        const rows = Array.from({ length: h.n }, (_, i) => i).filter((i) => cnt[i] >= lo && cnt[i] <= hi && Number.isFinite(est.value[i]));
        if (!rows.length) return [NaN, NaN, 0];
        const mean = rows.reduce((a, i) => a + est.value[i], 0) / rows.length;
        // SE of a mean of independent estimates; examples without an SE count with the Bernoulli bound √(1/(4K_in) + 1/(4K_out))
        const v = rows.reduce((a, i) => a + (Number.isFinite(est.se[i]) ? est.se[i] ** 2 : 0.25 / Math.max(1, est.kIn[i]) + 0.25 / Math.max(1, est.kOut[i])), 0);
        return [mean, Math.sqrt(v) / rows.length, rows.length];
      };
      const [ms, mss] = group(1, 1);
      const [mf, mfs, nf] = group(10, Infinity);
      const testCnt = Int32Array.from(te.subpop, (j) => counts[j]);
      const ses = Array.from(est.se).filter(Number.isFinite).sort((a, b) => a - b);
      const res: SeedResult = {
        seed,
        train_acc: accOn(pTrainFull, tr.data.y as Int32Array),
        test_acc_full: accOn(pTestFull, testY),
        test_acc_no_singletons: accOn(pTestNs, testY),
        singleton_examples: singles.length,
        frequent_examples: nf,
        mem_singletons: ms,
        mem_singletons_se: mss,
        mem_frequent: mf,
        mem_frequent_se: mfs,
        mem_delta: ms - mf,
        mem_delta_se: Math.hypot(mss, mfs),
        tau1: t1,
        errn1,
        gap,
        prediction: t1 * errn1,
        gap_rel_error: Math.abs(gap - t1 * errn1) / (t1 * errn1),
        by_count: BUCKETS.map(([label, lo, hi]) => [label, ...group(lo, hi)] as [string, number, number, number]),
        test_by_count: TEST_BUCKETS.map(([label, lo, hi]) => {
          const rows = Array.from({ length: h.nTest }, (_, i) => i).filter((i) => testCnt[i] >= lo && testCnt[i] <= hi);
          return [label, accOn(pTestFull, testY, rows), accOn(pTestNs, testY, rows), rows.length] as [string, number, number, number];
        }),
        median_se: ses.length ? ses[Math.floor(ses.length / 2)] : NaN,
        models: h.memModels,
      };
      return res;
    });
    return { ...(r as SeedResult), model: h.model };
  },

  figures(points: P[]) {
    const runs = [...points].sort((a, b) => a.seed - b.seed).map((p) => p.results);
    const s0 = runs[0];
    return [
      {
        name: "memorization",
        title: `Memorization of a long tail (${s0.model}): Feldman–Zhang scores by subpopulation frequency`,
        subtitle: `mean ± SE over the examples of each bucket (error bars from the estimator's per-example standard errors); seeds ${runs.map((s) => s.seed).join(", ")}; ${s0.models} subset models`,
        panels: [
          {
            kind: "bar",
            title: "mean memorization by the subpopulation's count in the training sample",
            xLabel: "samples of the example's subpopulation in S",
            yLabel: "mem(i)",
            groups: BUCKETS.map((b) => b[0]),
            series: runs.map((s) => ({ name: `seed${s.seed}`, values: s.by_count.map((b) => b[1]), err: s.by_count.map((b) => b[2]) })),
            width: 460,
          },
          {
            kind: "bar",
            title: "test accuracy by the subpopulation's count in S",
            xLabel: "samples of the test example's subpopulation in S",
            yLabel: "test accuracy",
            groups: TEST_BUCKETS.map((b) => b[0]),
            series: [
              { name: "full network", values: s0.test_by_count.map((b) => b[1]) },
              { name: "trained without singletons", values: s0.test_by_count.map((b) => b[2]) },
            ],
            width: 460,
          },
        ],
      },
    ];
  },
});
