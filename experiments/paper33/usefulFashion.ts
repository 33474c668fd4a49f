/**
 * USEFUL (Nguyen, Haddad, Gan, Mirzasoleiman, NeurIPS 2024) on Fashion-MNIST: spec §11's second set-up.
 *
 * Claim: clustering each class's network outputs after t_sep epochs and upsampling the higher-loss cluster
 * once before retraining from scratch lowers the test error of SGD, and does so where upsampling as many
 * random examples does not; the same upsampled data also helps SAM.
 * Set-up (spec §11): Fashion-MNIST, 20,000 training images (the spec's cost-reduced size), the full 10,000
 * test images; MLP 784-256-256-10; SGD lr 0.05 (momentum 0.9), batch 128, 30 epochs; t_sep = 2 epochs; per
 * class 2-means on the 10 logits at t_sep; the cluster with the higher mean cross-entropy is upsampled once.
 * Arms: SGD; SGD + USEFUL; SGD + random upsampling of as many examples (control); the wrong cluster (the
 * lower-loss one, the negative control); SAM (ρ = 0.05, as an optimizer transform) and SAM + USEFUL
 * (reported, not gated).
 * Criterion (spec §11, Fashion-MNIST line, a design estimate; calibration-b has no Fashion-MNIST run):
 * mean test error over the seeds of SGD + USEFUL < that of SGD and < that of SGD + random upsampling.
 * Negative control: the criterion with the lower-loss cluster upsampled in USEFUL's place must fail.
 * Cost on one core: smoke ~10 s, quick ~2 min (5,000 images, 10 epochs, 3 seeds), full ~12 min.
 * Run: genlab run useful-fmnist --quick
 */
import { DType, numpy as np, type Array } from "@jax-js/jax";
import { keyFromSeed, permutationFromKey, roleKeys } from "../../src/core/prng.ts";
import { treeDispose } from "../../src/core/tree.ts";
import { takeRows, type Dataset } from "../../src/data/dataset.ts";
import { loadFashionMnist } from "../../src/io/fashionMnist.ts";
import { applyMlp, initMlp, mlpSpec, type MlpParams, type MlpSpec } from "../../src/nn/dense.ts";
import { accuracy, softmaxCrossEntropy } from "../../src/nn/losses.ts";
import { sgd } from "../../src/optim/aliases.ts";
import { sam } from "../../src/optim/sam.ts";
import { chain, type OptState } from "../../src/optim/transform.ts";
import { predictProbs } from "../../src/scores/pipeline.ts";
import { upsample, usefulSlowCluster } from "../../src/scores/useful.ts";
import { defineExperiment, type RunContext, type Verdict } from "../../src/declare/experiment.ts";
import { integer, number, string } from "../../src/declare/schema.ts";

export const FM_ARMS = ["sgd", "useful", "random", "wrong_cluster", "sam", "sam_useful"] as const;
type Arm = (typeof FM_ARMS)[number];
type ArmResult = { test_error: number; train_size: number; seconds: number };
export type FmSeed = {
  seed: number;
  arms: Partial<Record<Arm, ArmResult>>;
  upsampled: number;
  /** Of the upsampled examples: the fraction misclassified at t_sep, and their mean loss against the others'. */
  upsampled_wrong_at_tsep: number;
  upsampled_mean_loss: number;
  others_mean_loss: number;
  tsep_train_acc: number;
};
export type UsefulFashionResults = { seeds: FmSeed[] };

const parseList = (s: string) => s.split(",").map((x) => Number(x.trim())).filter((x) => Number.isInteger(x) && x >= 0);

async function testError(spec: MlpSpec, params: MlpParams, test: Dataset): Promise<number> {
  const x = np.array(test.x as Float32Array<ArrayBuffer>, { shape: test.xShape });
  const y = np.array(test.y as Int32Array<ArrayBuffer>, { dtype: DType.Int32 });
  return 1 - (await accuracy(applyMlp(spec, params, x), y).data())[0];
}

export const usefulFashion = defineExperiment({
  id: "useful-fmnist",
  paper: 33,
  title: "USEFUL on Fashion-MNIST: SGD + USEFUL vs SGD vs random upsampling (and SAM)",
  claim: (h) => `On ${h.trainSize} Fashion-MNIST images, upsampling once the higher-loss 2-means cluster of each class's logits at epoch ${h.tSep} lowers the mean test error of SGD (${h.epochs} epochs) below both plain SGD and SGD with as many randomly upsampled examples (seeds ${h.seeds}).`,
  coverage: {
    level: "full",
    covered: ["per-class 2-means on early logits, the higher-loss cluster upsampled once, retraining from scratch", "SGD vs SGD + USEFUL vs random upsampling, multi-seed", "SAM as an optimizer transform, with and without USEFUL (reported)", "what the upsampled examples are: misclassified at t_sep, their loss"],
    notCovered: [],
  },
  deviations: [
    "MLP on Fashion-MNIST instead of ResNet-18 on CIFAR-10 (spec §11's laptop set-up), no augmentation (the paper's TrivialAugment runs are out of scope)",
    "SGD with momentum 0.9 (USEFUL's and Data Diet's recipe; the spec says 'SGD lr 0.05')",
    "SAM + USEFUL upsamples the cluster found by the SGD run at t_sep (one clustering per seed)",
    "quick size: 5,000 training and 5,000 test images, 10 epochs; full: 20,000 / 10,000, 30 epochs",
  ],
  criterionSource: "specs-23-45.md §11, Fashion-MNIST PASS line (a design estimate; calibration-b.md has no Fashion-MNIST run)",
  negativeControl: {
    what: "upsampling the lower-loss cluster instead (an arm of every seed): it must not beat both SGD and random upsampling",
    verdict: (points) => judge(points[0].results as unknown as UsefulFashionResults, "wrong_cluster"),
  },
  dataSource: "file",
  hparams: {
    trainSize: integer(20000, "training images (a fixed random subset of the 60k)", { min: 100, max: 60000 }),
    testSize: integer(10000, "test images", { min: 100, max: 10000 }),
    hidden: string("256,256", "hidden widths"),
    lr: number(0.05, "learning rate", { min: 0, minExclusive: true, max: 10 }),
    momentum: number(0.9, "momentum", { min: 0, max: 0.999 }),
    batchSize: integer(128, "minibatch size", { min: 1, max: 60000 }),
    epochs: integer(30, "epochs of every training", { min: 2, max: 1000 }),
    tSep: integer(2, "epoch at which the logits are clustered", { min: 1, max: 1000 }),
    rho: number(0.05, "SAM radius ρ", { min: 0, max: 10 }),
    seeds: string("0,1,2", "retraining seeds (the criterion is judged on their mean)"),
    arms: string(FM_ARMS.join(","), `arms to run, of ${FM_ARMS.join(", ")}`),
  },
  validate: (h) => [
    ...(h.tSep >= h.epochs ? [{ key: "tSep" as const, message: `must be below the ${h.epochs} epochs` }] : []),
    ...(parseList(h.seeds).length === 0 ? [{ key: "seeds" as const, message: "expected a comma-separated list of seeds ≥ 0" }] : []),
    ...h.arms.split(",").map((a) => a.trim()).filter((a) => !(FM_ARMS as readonly string[]).includes(a)).map((a) => ({ key: "arms" as const, message: `unknown arm ${JSON.stringify(a)}; arms: ${FM_ARMS.join(", ")}` })),
  ],
  sizes: {
    smoke: { trainSize: 400, testSize: 400, hidden: "32", epochs: 3, tSep: 1, seeds: "0" },
    quick: { trainSize: 5000, testSize: 5000, epochs: 10, seeds: "0,1,2" },
  },
  cost: { smoke: "~10 s", quick: "~2 min", full: "~12 min" },

  async run(ctx): Promise<UsefulFashionResults> {
    const h = ctx.hparams;
    const fm = loadFashionMnist();
    const ks = roleKeys(ctx.seed, ["subsample"]);
    const train = takeRows(fm.train, permutationFromKey(ks.subsample, fm.train.y.length).subarray(0, h.trainSize));
    const test = takeRows(fm.test, Int32Array.from({ length: h.testSize }, (_, i) => i));
    const spec = mlpSpec({ dims: [784, ...h.hidden.split(",").map(Number), 10] });
    const arms = new Set(h.arms.split(",").map((a) => a.trim()) as Arm[]);
    const seeds: FmSeed[] = [];
    for (const seed of parseList(h.seeds)) seeds.push((await ctx.phase(`seed${seed}`, () => runSeed(ctx, spec, train, test, h, seed, arms))) as FmSeed);
    return { seeds };
  },

  verdict: (points) => judge(points[0].results as unknown as UsefulFashionResults, "useful"),

  figures(points) {
    const r = points[0].results as unknown as UsefulFashionResults;
    const arms = FM_ARMS.filter((a) => r.seeds.every((s) => s.arms[a]));
    const vals = (a: Arm) => r.seeds.map((s) => 100 * s.arms[a]!.test_error);
    const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
    const sd = (xs: number[]) => (xs.length > 1 ? Math.sqrt(xs.reduce((x, y) => x + (y - mean(xs)) ** 2, 0) / (xs.length - 1)) : 0);
    return [
      {
        name: "useful-fmnist",
        title: "USEFUL on Fashion-MNIST: test error by arm",
        subtitle: `mean ± sd over seeds ${r.seeds.map((s) => s.seed).join(", ")}; ${r.seeds[0].upsampled} examples upsampled (seed ${r.seeds[0].seed}), ${(100 * r.seeds[0].upsampled_wrong_at_tsep).toFixed(1)}% of them misclassified at t_sep`,
        panels: [{ kind: "bar", title: "test error (%)", xLabel: "arm", yLabel: "test error (%)", groups: arms, series: [{ name: "test_error", values: arms.map((a) => mean(vals(a))), err: arms.map((a) => sd(vals(a))) }], width: 560 }],
      },
    ];
  },
});

async function runSeed(ctx: RunContext, spec: MlpSpec, train: Dataset, test: Dataset, h: { lr: number; momentum: number; batchSize: number; epochs: number; tSep: number; rho: number }, seed: number, arms: Set<Arm>): Promise<FmSeed> {
  // Paired: every arm of a seed starts from the same init; data order keys per arm.
  const base = 31337 * (ctx.seed + 1) + seed;
  const k = roleKeys(base, ["cluster", "random", "wrongCluster"]);
  const initKey = () => keyFromSeed(base + 1);
  const dataKey = (arm: string) => keyFromSeed(base + 2 + FM_ARMS.indexOf(arm as Arm) + (arm === "tsep" ? 100 : 0));
  const loss = (p: MlpParams, x: Array, y: Array) => softmaxCrossEntropy(applyMlp(spec, p, x), y, 10);
  const opt = (useSam: boolean) => (useSam ? chain(sam(h.rho), sgd(h.lr, { momentum: h.momentum })) : sgd(h.lr, { momentum: h.momentum }));
  const result: FmSeed = { seed, arms: {}, upsampled: 0, upsampled_wrong_at_tsep: 0, upsampled_mean_loss: 0, others_mean_loss: 0, tsep_train_acc: 0 };
  const fit = async (arm: Arm | "tsep", data: Dataset, epochs: number, useSam: boolean, params = initMlp(spec, initKey()), optState?: OptState) => {
    const t0 = performance.now();
    const out = await ctx.train<MlpParams>({ name: `seed${seed}/${arm}`, params, optState, loss, optimizer: opt(useSam), train: data, epochs, batchSize: h.batchSize, key: dataKey(arm), log: { every: 0, perDecade: 0 } });
    return { ...out, seconds: (performance.now() - t0) / 1000 };
  };
  // SGD to t_sep: the outputs that USEFUL clusters; then on to the end (the SGD arm)
  const early = await fit("tsep", train, h.tSep, false);
  const apply = (p: unknown, x: Array) => applyMlp(spec, p as MlpParams, x);
  const probs = await predictProbs(apply as never, early.params as never, train);
  const logits = await predictProbs(apply as never, early.params as never, train, 2000, { logits: true });
  const lossVals = new Float32Array(train.y.length);
  let correctAtTsep = 0;
  for (let i = 0; i < train.y.length; i++) {
    let a = 0;
    for (let j = 1; j < 10; j++) if (probs[i * 10 + j] > probs[i * 10 + a]) a = j;
    lossVals[i] = -Math.log(Math.max(probs[i * 10 + train.y[i]], 1e-30));
    if (a === train.y[i]) correctAtTsep++;
  }
  result.tsep_train_acc = correctAtTsep / train.y.length;
  const slow = usefulSlowCluster(logits, 10, lossVals, train.y, 10, k.cluster);
  const wrong = usefulSlowCluster(logits, 10, lossVals, train.y, 10, k.wrongCluster, { higher: false });
  const rand = Int32Array.from(permutationFromKey(k.random, train.y.length).subarray(0, slow.length)).sort();
  const inSlow = new Uint8Array(train.y.length);
  for (const i of slow) inSlow[i] = 1;
  let wrongCount = 0;
  let lossIn = 0;
  let lossOut = 0;
  for (let i = 0; i < train.y.length; i++) {
    let a = 0;
    for (let j = 1; j < 10; j++) if (probs[i * 10 + j] > probs[i * 10 + a]) a = j;
    if (inSlow[i]) {
      lossIn += lossVals[i];
      if (a !== train.y[i]) wrongCount++;
    } else lossOut += lossVals[i];
  }
  result.upsampled = slow.length;
  result.upsampled_wrong_at_tsep = slow.length ? wrongCount / slow.length : 0;
  result.upsampled_mean_loss = slow.length ? lossIn / slow.length : 0;
  result.others_mean_loss = lossOut / Math.max(1, train.y.length - slow.length);
  const record = async (arm: Arm, out: { params: MlpParams; optState: unknown; seconds: number }, size: number) => {
    treeDispose(out.optState);
    result.arms[arm] = { test_error: await testError(spec, out.params, test), train_size: size, seconds: out.seconds };
    await ctx.record({ test_error: result.arms[arm]!.test_error }, { axis: "arm", x: FM_ARMS.indexOf(arm) });
  };
  if (arms.has("sgd")) await record("sgd", await fit("sgd", train, h.epochs - h.tSep, false, early.params, early.optState), train.y.length);
  else treeDispose([early.params, early.optState]);
  const upsets: [Arm, Int32Array, boolean][] = [["useful", slow, false], ["random", rand, false], ["wrong_cluster", wrong, false], ["sam_useful", slow, true]];
  if (arms.has("sam")) await record("sam", await fit("sam", train, h.epochs, true), train.y.length);
  for (const [arm, idx, useSam] of upsets) {
    if (!arms.has(arm)) continue;
    const data = upsample(train, idx, 1);
    await record(arm, await fit(arm, data, h.epochs, useSam), data.y.length);
  }
  return result;
}

function judge(r: UsefulFashionResults, arm: "useful" | "wrong_cluster"): Verdict {
  const mean = (a: Arm) => {
    const xs = r.seeds.map((s) => s.arms[a]?.test_error).filter((v): v is number => v !== undefined);
    return xs.length === r.seeds.length ? xs.reduce((x, y) => x + y, 0) / xs.length : null;
  };
  const sgdErr = mean("sgd");
  const armErr = mean(arm);
  const randErr = mean("random");
  const ok = sgdErr !== null && armErr !== null && randErr !== null && armErr < sgdErr && armErr < randErr;
  const per = r.seeds.filter((s) => s.arms[arm] && s.arms.sgd && s.arms[arm]!.test_error < s.arms.sgd.test_error).length;
  return {
    verdict: ok ? "PASS" : "FAIL",
    criterion: `mean test error over seeds ${r.seeds.map((s) => s.seed).join(", ")}: SGD + ${arm === "useful" ? "USEFUL" : "the lower-loss cluster upsampled"} < SGD and < SGD + random upsampling`,
    measured: {
      [`test_error_${arm}`]: armErr,
      test_error_sgd: sgdErr,
      test_error_random: randErr,
      [`seeds_${arm}_below_sgd`]: per,
      test_error_sam: mean("sam"),
      test_error_sam_useful: mean("sam_useful"),
      upsampled_fraction: r.seeds.reduce((a, s) => a + s.upsampled, 0) / r.seeds.length / Math.max(1, r.seeds[0].arms.sgd?.train_size ?? 1),
      upsampled_wrong_at_tsep: r.seeds.reduce((a, s) => a + s.upsampled_wrong_at_tsep, 0) / r.seeds.length,
    },
  };
}

