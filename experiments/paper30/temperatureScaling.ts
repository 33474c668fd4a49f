/**
 * On the Limitations of Temperature Scaling for Distributions with Overlaps (Chidambaram & Ge, ICLR 2024).
 *
 * Claim: with overlapping classes, an interpolating ERM network is badly over-confident, and temperature
 * scaling — the optimal T on a held-out split — fixes much of it but not all, whereas d-Mixup training is
 * calibrated without it; the paper's headline: Mixup beats ERM + TS.
 * Set-ups (calibration-b.md "as run"): (a) 2-class Gaussians x ~ N(μ_y·1, I₃₀₀), μ = (0, 0.1), n = 5,000 (4,000
 * train of which 400 calibrate T, 1,000 test), MLP 300-256-256-2, Adam 1e-3, batch 500, 200 epochs, 3 seeds;
 * (b) Fashion-MNIST, 20,000 training images normalised (x − 0.2860)/0.3530, label-map noise p = 0.4 (a fixed
 * random map c(i) ≠ i; each training label replaced by c(i) with probability p, before the 10% calibration
 * split; the 10k test set clean), MLP 784-512-512-10, Adam 1e-3, batch 500, 30 epochs, 5 seeds. Mixup: d = 2,
 * α = 1. TS: the converged NLL minimiser on the calibration split (and the common one-step LBFGS(lr 0.01) fit,
 * reported).
 * Criterion (calibration-b.md, "Proposed criteria for paper 30", measured in PyTorch): (a) over the seeds, ERM
 * train accuracy 1.0 and raw ERM test ECE ≥ 0.15; T_ERM ≥ 4 and ERM + TS test ECE ≤ 0.08; Mixup raw ECE ≤ 0.5 ×
 * ERM raw ECE in every seed; Mixup's T ≥ 1.2. (b) mean Mixup test NLL ≤ mean ERM + TS test NLL − 0.05, and
 * lower in ≥ 4 of 5 seeds. The headline "ERM + TS ECE ≥ 2 × Mixup ECE" is reported, not gated (calibration:
 * not reproduced with a converged TS).
 * Negative control: Mixup with its labels not mixed (inputs mixed, loss on the first labels): it must fail.
 * Cost on one core: smoke ~10 s, quick ~2 min, full ~10 min.
 * Run: genlab run temperature-scaling --quick
 */
import { random } from "@jax-js/jax";
import { keyFromSeed, permutationFromKey, roleKeys, splitKey, uniformFromKey } from "../../src/core/prng.ts";
import { treeDispose, type Tree } from "../../src/core/tree.ts";
import { takeRows, type Dataset } from "../../src/data/dataset.ts";
import { loadFashionMnist } from "../../src/io/fashionMnist.ts";
import { calibration, fitTemperature, softmaxRows } from "../../src/measures/calibration.ts";
import { softmaxCrossEntropy } from "../../src/nn/losses.ts";
import { adam } from "../../src/optim/aliases.ts";
import { parseModelSpec } from "../../src/scores/models.ts";
import { predictProbs } from "../../src/scores/pipeline.ts";
import { mixup, softCrossEntropy } from "../../src/train/mixup.ts";
import { defineExperiment, type Point, type RunContext, type Verdict } from "../../src/declare/experiment.ts";
import { integer, number, oneOf, string } from "../../src/declare/schema.ts";

export const TS_METHODS = ["erm", "mixup", "mixup_unmixed"] as const;
type Method = (typeof TS_METHODS)[number];
type Cal = { ece: number; nll: number; acc: number; bins?: { confidence: number; accuracy: number; count: number }[] };
export type MethodResult = { train_acc: number; raw: Cal; t_conv: number; ts: Cal; t_official: number; ts_official: Cal };
export type SeedResult = { seed: number; methods: Partial<Record<Method, MethodResult>> };
export type TsResults = { setup: "gaussian" | "fmnist"; seeds: SeedResult[] };

const parseList = (s: string) => s.split(",").map((x) => Number(x.trim())).filter((x) => Number.isInteger(x) && x >= 0);

function gaussians(n: number, d: number, mu: number, key: ReturnType<typeof keyFromSeed>): Dataset {
  const [ky, kx] = splitKey(key, 2);
  const u = uniformFromKey(ky, n);
  const x = Float32Array.from(random.normal(kx, [n, d]).dataSync() as ArrayLike<number>);
  const y = Int32Array.from(u, (v) => (v < 0.5 ? 0 : 1));
  for (let i = 0; i < n; i++) if (y[i] === 1) for (let t = 0; t < d; t++) x[i * d + t] += mu;
  return { x, xShape: [n, d], y, numClasses: 2 };
}

/** The official label-map noise: a fixed random map c(i) ≠ i; each label replaced by c(i) with probability p. */
function labelMapNoise(labels: Int32Array, classes: number, p: number, key: ReturnType<typeof keyFromSeed>): Int32Array {
  const [km, ku] = splitKey(key, 2);
  const perm = permutationFromKey(km, classes);
  // a derangement-like map: c(i) = perm-shifted, never i
  const map = Int32Array.from({ length: classes }, (_, i) => (perm[i] === i ? perm[(i + 1) % classes] : perm[i]));
  for (let i = 0; i < classes; i++) if (map[i] === i) map[i] = (i + 1) % classes;
  const u = uniformFromKey(ku, labels.length);
  return Int32Array.from(labels, (y, i) => (u[i] < p ? map[y] : y));
}

const calOf = (logits: Float32Array, labels: ArrayLike<number>, c: number, t: number, withBins = false): Cal => {
  const r = calibration(softmaxRows(logits, labels.length, c, t), labels, c);
  return { ece: r.ece, nll: r.nll, acc: r.accuracy, ...(withBins ? { bins: r.bins.map((b) => ({ confidence: b.confidence, accuracy: b.accuracy, count: b.count })) } : {}) };
};

async function runMethod(ctx: RunContext, name: string, method: Method, spec: string, train: Dataset, calib: Dataset, test: Dataset, h: { lr: number; batchSize: number; epochs: number }, key: ReturnType<typeof keyFromSeed>, mixSeed: number): Promise<MethodResult> {
  const c = train.numClasses;
  const model = parseModelSpec(spec, { inputDim: train.xShape[1], numClasses: c, image: null });
  const [kInit, kData] = splitKey(key, 2);
  const mixed = method !== "erm";
  const out = await ctx.train<Tree>({
    name,
    params: model.init(kInit),
    loss: mixed ? (p, x, y) => softCrossEntropy(model.apply(p, x), y) : (p, x, y) => softmaxCrossEntropy(model.apply(p, x), y),
    optimizer: adam(h.lr),
    train,
    epochs: h.epochs,
    batchSize: h.batchSize,
    key: kData,
    log: { every: 0, perDecade: 0 },
    ...(mixed ? { batchTransform: mixup({ classes: c, alpha: 1, points: 2, seed: mixSeed, mixLabels: method === "mixup" }) } : {}),
  });
  treeDispose(out.optState);
  const logitsOf = (d: Dataset) => predictProbs(model.apply, out.params, d, 2000, { logits: true });
  const [lt, lc, ls] = [await logitsOf(train), await logitsOf(calib), await logitsOf(test)];
  treeDispose(out.params);
  const conv = fitTemperature(lc, calib.y as Int32Array, c, "converged");
  const off = fitTemperature(lc, calib.y as Int32Array, c, "official");
  return { train_acc: calOf(lt, train.y as Int32Array, c, 1).acc, raw: calOf(ls, test.y as Int32Array, c, 1, true), t_conv: conv.temperature, ts: calOf(ls, test.y as Int32Array, c, conv.temperature, true), t_official: off.temperature, ts_official: calOf(ls, test.y as Int32Array, c, off.temperature) };
}

export const temperatureScaling = defineExperiment({
  id: "temperature-scaling",
  paper: 30,
  title: "ERM, ERM + temperature scaling and Mixup on overlapping classes: 2-class Gaussians and Fashion-MNIST with label-map noise",
  claim: (h) =>
    h.setup === "gaussian"
      ? `On 2-class Gaussians with μ = ${h.mu} in ${h.dim} dimensions, an interpolating ERM MLP is over-confident (ECE ≥ 0.15), the converged T (≥ 4) brings its ECE to ≤ 0.08, and Mixup is calibrated without it (ECE ≤ half ERM's, its own T ≥ 1.2); seeds ${h.seeds}.`
      : `On Fashion-MNIST with ${Math.round(100 * h.noise)}% label-map noise (clean test labels), Mixup's test NLL is ≥ 0.05 below ERM + converged TS on average and lower in ≥ 4/5 seeds (seeds ${h.seeds}).`,
  coverage: {
    level: "partial",
    covered: ["ECE and NLL with 15 bins; the converged TS and the common one-step fit", "d-Mixup (d = 2, α = 1) with the labels-not-mixed control", "2-class Gaussian overlap at μ = 0.1 and Fashion-MNIST label-map noise at p = 0.4"],
    notCovered: ["μ = 0.05 and 0.25 and the K-class overlap (spec (b)), run by --set only", "the CIFAR/SVHN ResNet benchmarks of the paper", "d > 2 mixing in the gated set-ups"],
  },
  deviations: [
    "MLPs instead of ResNets (the spec's substitution; the official Gaussian command uses ResNeXt-50)",
    "Fashion-MNIST: 30 epochs instead of the spec's 60 (calibration-b's budget); ERM is then not yet a full interpolator at p = 0.4",
    "quick size: Gaussians 50 epochs (the unmixed control on 2 seeds); Fashion-MNIST 3,000 images, 10 epochs, 3 seeds",
  ],
  criterionSource: "calibration-b.md 'Proposed criteria for paper 30' (measured in PyTorch), replacing spec §8's (a)/(b) lines",
  negativeControl: { what: "Mixup with the labels not mixed (the same mixed inputs, the loss on the unpermuted labels): must fail", verdict: (points) => judge(points as unknown as P[], "mixup_unmixed") },
  dataSource: "file",
  hparams: {
    setup: oneOf(["gaussian", "fmnist"], "gaussian", "which set-up (a sweep runs both)"),
    mu: number(0.1, "Gaussians: the mean shift of class 1", { min: 0, max: 10 }),
    dim: integer(300, "Gaussians: dimension", { min: 1, max: 10000 }),
    n: integer(5000, "Gaussians: examples (80/20 train/test)", { min: 50, max: 1000000 }),
    trainSize: integer(20000, "Fashion-MNIST: training images", { min: 100, max: 60000 }),
    noise: number(0.4, "Fashion-MNIST: label-map noise probability", { min: 0, max: 1 }),
    model: string("", "the model (default: mlp:256,256 for Gaussians, mlp:512,512 for Fashion-MNIST)"),
    lr: number(1e-3, "Adam learning rate", { min: 0, minExclusive: true, max: 1 }),
    batchSize: integer(500, "minibatch size", { min: 1, max: 100000 }),
    epochs: integer(0, "epochs (0: 200 for Gaussians, 30 for Fashion-MNIST)", { min: 0, max: 10000 }),
    seeds: string("", "seeds (default: 0,1,2 for Gaussians, 0,1,2,3,4 for Fashion-MNIST)"),
  },
  sweep: () => [{ setup: ["gaussian", "fmnist"] }],
  sizes: {
    smoke: { n: 400, dim: 20, trainSize: 500, epochs: 2, seeds: "0", model: "mlp:16", batchSize: 100 },
    quick: { trainSize: 3000, epochs: 0, seeds: "" },
  },
  cost: { smoke: "~10 s", quick: "~2 min", full: "~10 min" },

  async run(ctx): Promise<TsResults> {
    const h = ctx.hparams;
    const gauss = h.setup === "gaussian";
    const quick = ctx.size === "quick";
    const seeds = parseList(h.seeds || (gauss ? "0,1,2" : quick ? "0,1,2" : "0,1,2,3,4"));
    const epochs = h.epochs || (gauss ? (quick ? 50 : 200) : quick ? 10 : 30);
    const spec = h.model || (gauss ? "mlp:256,256" : "mlp:512,512");
    const fm = gauss ? null : loadFashionMnist();
    const out: SeedResult[] = [];
    for (const seed of seeds) {
      const r = await ctx.phase(`seed${seed}`, async () => {
        const k = roleKeys(4243 * (ctx.seed + 1) + seed, ["data", "split", "noise", "erm", "mixup", "unmixed"]);
        let train: Dataset;
        let test: Dataset;
        if (gauss) {
          const all = gaussians(h.n, h.dim, h.mu, k.data);
          const perm = permutationFromKey(k.split, h.n);
          const nTest = Math.round(0.2 * h.n);
          test = takeRows(all, perm.subarray(0, nTest));
          train = takeRows(all, perm.subarray(nTest));
          k.noise.dispose();
        } else {
          const sub = takeRows(fm!.train, permutationFromKey(k.data, fm!.train.y.length).subarray(0, h.trainSize));
          const norm = (d: Dataset): Dataset => ({ ...d, x: Float32Array.from(d.x, (v) => (v - 0.286) / 0.353) });
          train = { ...norm(sub), y: labelMapNoise(sub.y as Int32Array, 10, h.noise, k.noise) };
          test = norm(fm!.test);
          k.split.dispose();
        }
        // 10% of the training set calibrates T (with the training labels, noisy or not)
        const nCal = Math.round(0.1 * train.y.length);
        const calib = takeRows(train, Int32Array.from({ length: nCal }, (_, i) => i));
        const fit = takeRows(train, Int32Array.from({ length: train.y.length - nCal }, (_, i) => nCal + i));
        const res: SeedResult = { seed, methods: {} };
        const h2 = { lr: h.lr, batchSize: Math.min(h.batchSize, fit.y.length), epochs };
        const mixSeed = 7919 * (ctx.seed + 1) + seed;
        res.methods.erm = await runMethod(ctx, `seed${seed}/erm`, "erm", spec, fit, calib, test, h2, k.erm, mixSeed);
        res.methods.mixup = await runMethod(ctx, `seed${seed}/mixup`, "mixup", spec, fit, calib, test, h2, k.mixup, mixSeed);
        // the broken control on the first two seeds (calibration-b ran it on 2–3 seeds)
        if (out.length < 2 || (gauss && !quick)) res.methods.mixup_unmixed = await runMethod(ctx, `seed${seed}/unmixed`, "mixup_unmixed", spec, fit, calib, test, h2, k.unmixed, mixSeed);
        else k.unmixed.dispose();
        return res as never;
      });
      out.push(r as SeedResult);
    }
    return { setup: h.setup, seeds: out };
  },

  verdict: (points) => judge(points as unknown as P[], "mixup"),

  tables(points) {
    const rows: (string | number | null)[][] = [];
    for (const p of points as unknown as P[]) {
      for (const s of p.results.seeds) {
        for (const m of TS_METHODS) {
          const r = s.methods[m];
          if (!r) continue;
          rows.push([p.results.setup, s.seed, m, r.train_acc, r.raw.acc, r.raw.ece, r.raw.nll, r.t_conv, r.ts.ece, r.ts.nll, r.t_official, r.ts_official.ece]);
        }
      }
    }
    return [{ title: "per seed and method (test ECE/NLL; T fitted on the calibration split)", columns: ["set-up", "seed", "method", "train acc", "test acc", "ECE", "NLL", "T (converged)", "ECE after TS", "NLL after TS", "T (one-step)", "ECE after one-step TS"], rows }];
  },

  figures(points) {
    const ps = points as unknown as P[];
    return ps.map((p) => {
      const r = p.results;
      const mean = (f: (s: SeedResult) => number | undefined) => {
        const v = r.seeds.map(f).filter((x): x is number => x !== undefined);
        return v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
      };
      const groups = ["ERM", "ERM + TS", "Mixup", "Mixup + TS", "unmixed"];
      const val = (f: (m: MethodResult) => number) => [mean((s) => s.methods.erm && f(s.methods.erm)), NaN, mean((s) => s.methods.mixup && f(s.methods.mixup)), NaN, mean((s) => s.methods.mixup_unmixed && f(s.methods.mixup_unmixed))];
      const ece = val((m) => m.raw.ece);
      ece[1] = mean((s) => s.methods.erm?.ts.ece);
      ece[3] = mean((s) => s.methods.mixup?.ts.ece);
      const nll = val((m) => m.raw.nll);
      nll[1] = mean((s) => s.methods.erm?.ts.nll);
      nll[3] = mean((s) => s.methods.mixup?.ts.nll);
      return {
        name: `temperature-scaling-${r.setup}`,
        title: `${r.setup === "gaussian" ? "2-class Gaussians" : "Fashion-MNIST with label-map noise"}: calibration by method (mean of ${r.seeds.length} seeds)`,
        panels: [
          { kind: "bar" as const, title: "test ECE (15 bins)", xLabel: "method", yLabel: "ECE", groups, series: [{ name: "ece", values: ece }], width: 420 },
          { kind: "bar" as const, title: "test NLL", xLabel: "method", yLabel: "NLL", groups, series: [{ name: "nll", values: nll }], width: 420 },
          reliability(r.seeds[0]),
        ],
      };
    });
  },
});

type P = Point<Record<string, string | number | boolean>, TsResults>;

/** The reliability diagram of the first seed: accuracy against confidence per bin (non-empty bins), the diagonal perfect. */
function reliability(s: SeedResult) {
  const curve = (name: string, c: Cal | undefined) => {
    const bins = (c?.bins ?? []).filter((b) => b.count > 0);
    return { name, x: bins.map((b) => b.confidence), y: bins.map((b) => b.accuracy) };
  };
  return {
    kind: "scatter" as const,
    title: `reliability diagram (seed ${s.seed}, 15 bins)`,
    xLabel: "confidence",
    yLabel: "accuracy",
    diagonal: true,
    series: [curve("ERM", s.methods.erm?.raw), curve("temperature-scaled ERM", s.methods.erm?.ts), curve("Mixup", s.methods.mixup?.raw)],
    width: 380,
  };
}

function judge(points: P[], arm: "mixup" | "mixup_unmixed"): Verdict {
  const measured: Record<string, number | null> = {};
  let ok = points.length === 2;
  for (const p of points) {
    const r = p.results;
    const seeds = r.seeds.filter((s) => s.methods[arm] && s.methods.erm);
    const mean = (f: (s: SeedResult) => number) => (seeds.length ? seeds.reduce((a, s) => a + f(s), 0) / seeds.length : NaN);
    if (r.setup === "gaussian") {
      const ermTrain = Math.min(...seeds.map((s) => s.methods.erm!.train_acc));
      const ermEce = mean((s) => s.methods.erm!.raw.ece);
      const tErm = mean((s) => s.methods.erm!.t_conv);
      const ermTsEce = mean((s) => s.methods.erm!.ts.ece);
      const ratios = seeds.map((s) => s.methods[arm]!.raw.ece / s.methods.erm!.raw.ece);
      const tMix = mean((s) => s.methods[arm]!.t_conv);
      const mixEce = mean((s) => s.methods[arm]!.raw.ece);
      Object.assign(measured, { a_erm_train_acc_min: ermTrain, a_erm_ece: ermEce, a_t_erm: tErm, a_erm_ts_ece: ermTsEce, a_max_ece_ratio: Math.max(...ratios), a_t_mixup: tMix, a_mixup_ece: mixEce, a_headline_erm_ts_ece_over_mixup: ermTsEce / mixEce });
      ok &&= seeds.length > 0 && ermTrain >= 0.9995 && ermEce >= 0.15 && tErm >= 4 && ermTsEce <= 0.08 && ratios.every((x) => x <= 0.5) && tMix >= 1.2;
    } else {
      const mix = mean((s) => s.methods[arm]!.raw.nll);
      const ermTs = mean((s) => s.methods.erm!.ts.nll);
      const lower = seeds.filter((s) => s.methods[arm]!.raw.nll < s.methods.erm!.ts.nll).length;
      Object.assign(measured, { b_mixup_nll: mix, b_erm_ts_nll: ermTs, b_seeds_lower: lower, b_seeds: seeds.length, b_mixup_ece: mean((s) => s.methods[arm]!.raw.ece), b_erm_ts_ece: mean((s) => s.methods.erm!.ts.ece), b_t_erm: mean((s) => s.methods.erm!.t_conv) });
      ok &&= seeds.length > 0 && mix <= ermTs - 0.05 && lower >= Math.ceil(0.8 * seeds.length);
    }
  }
  return {
    verdict: ok ? "PASS" : "FAIL",
    criterion: `${arm === "mixup" ? "" : "with the labels not mixed: "}(a) ERM train acc 1.0, ERM ECE ≥ 0.15, T_ERM ≥ 4, ERM + TS ECE ≤ 0.08, Mixup ECE ≤ 0.5 × ERM's in every seed, Mixup T ≥ 1.2; (b) mean Mixup NLL ≤ ERM + TS NLL − 0.05 and lower in ≥ 80% of seeds`,
    measured,
  };
}

