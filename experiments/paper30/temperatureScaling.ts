/**
 * On the Limitations of Temperature Scaling for Distributions with Overlaps (Chidambaram & Ge, ICLR 2024).
 *
 * Claim: with overlapping classes, an interpolating ERM network is badly over-confident, and temperature
 * scaling — the optimal T on a held-out split — fixes much of it but not all, whereas d-Mixup training is
 * calibrated without it; the paper's headline: Mixup beats ERM + TS.
 * Set-ups (calibration-b.md "as run"; a sweep runs both, one run per set-up and seed, `--seed s` runs s, s + 1,
 * …): (a) 2-class Gaussians x ~ N(μ_y·1, I₃₀₀), μ = (0, 0.1), n = 5,000 (4,000 train of which 400 calibrate T,
 * 1,000 test), MLP 300-256-256-2, Adam 1e-3, batch 500, 200 epochs; (b) Fashion-MNIST, 20,000 training images
 * normalised (x − 0.2860)/0.3530, label-map noise p = 0.4 (a fixed random map c(i) ≠ i; each training label
 * replaced by c(i) with probability p, before the 10% calibration split; the 10k test set clean), MLP
 * 784-512-512-10, Adam 1e-3, batch 500, 30 epochs. Mixup: d = 2, α = 1. TS: the converged NLL minimiser on the
 * calibration split (and the common one-step LBFGS(lr 0.01) fit, reported).
 * Criteria: CHECKS below, declared once (calibration-b.md "Proposed criteria for paper 30", measured in
 * PyTorch, replacing spec §8's lines). Two gates say the regime the claims are about was reached: ERM
 * interpolates the Gaussians, and on Fashion-MNIST ERM is over-confident (T ≥ 2, spec §8); calibration-b
 * reached (b)'s regime at 20,000 images and 30 epochs, which the quick size (3,000 images, 5 epochs) does
 * not, so quick is INCONCLUSIVE there and the full size is the verdict of record. The headline "ERM + TS ECE
 * ≥ 2 × Mixup ECE" is shown in the figure, not judged (calibration: not reproduced with a converged TS).
 * Negative control (the `mixup_unmixed` arm of every run): Mixup with its labels not mixed (the same mixed
 * inputs, the loss on the first labels), judged by the same checks in Mixup's place.
 * Cost on one core: smoke ~10 s, quick 53 s measured 2026-12-07 (99 s on OpenBLAS's generic kernels) with the other core idle (128 s with it busy; 147 s with Fashion-MNIST
 * at 10 epochs; 5 since: (b)'s gate is reached only beyond the budget — 3,000 images × 30 epochs gave T 2.11–2.19
 * in 3 min 11 s, × 10 gave 1.24, × 5 gives 1.07 — so its arm only measures that, and the
 * Gaussian (a) points are unchanged), full ~14 min. The control is an arm of every run.
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
import { defineExperiment, fashionMnistNeed, integer, number, oneOf, string, type CheckDecl, type CheckInput, type Point, type RunContext } from "../../src/declare/kit.ts";

export const TS_METHODS = ["erm", "mixup", "mixup_unmixed"] as const;
type Method = (typeof TS_METHODS)[number];
type Cal = { ece: number; nll: number; acc: number; bins?: { confidence: number; accuracy: number; count: number }[] };
export type MethodResult = { train_acc: number; raw: Cal; t_conv: number; ts: Cal; t_official: number; ts_official: Cal };
/** One run: one set-up and one seed, every method (the control, mixup_unmixed, included). */
export type TsResults = { setup: "gaussian" | "fmnist"; methods: Record<string, MethodResult> };

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

type P = Point<Record<string, string | number>, TsResults>;
type Setup = TsResults["setup"];

/** The method judged in Mixup's place: Mixup, or the control (labels not mixed). */
const MIX: Record<"reproduction" | "control", Method> = { reproduction: "mixup", control: "mixup_unmixed" };
const ofSetup = (points: P[], setup: Setup): P[] => {
  const ps = points.filter((p) => p.results.setup === setup);
  if (ps.length === 0) throw new Error(`the ${setup} set-up was not run`);
  return ps;
};
const methodOf = (p: P, m: Method): MethodResult => {
  const r = p.results.methods?.[m];
  if (!r) throw new Error(`the ${m} arm was not run (${p.results.setup}, seed ${p.seed})`);
  return r;
};
const meanOf = (ps: P[], f: (p: P) => number) => ps.reduce((a, p) => a + f(p), 0) / ps.length;
/** The one point of a set-up within a seed's points (per-seed checks). */
const onePoint = (points: P[], setup: Setup): P => {
  const ps = ofSetup(points, setup);
  if (ps.length !== 1) throw new Error(`expected one ${setup} run per seed, got ${ps.length}`);
  return ps[0];
};
const gauss = (i: CheckInput<P>) => ofSetup(i.points, "gaussian");
const fmnist = (i: CheckInput<P>) => ofSetup(i.points, "fmnist");

/** The criteria, once (calibration-b.md "Proposed criteria for paper 30"; TS = the converged NLL minimiser). */
const CHECKS: CheckDecl<P>[] = [
  {
    id: "a_erm_train_acc",
    role: "gate",
    what: "(a) Gaussians: ERM train accuracy (the interpolation regime the claim is about)",
    cmp: ">=",
    threshold: 0.9995,
    source: "calibration-b.md 'Proposed criteria for paper 30' (a) (ERM train acc = 1.0; measured 1.000 ×3)",
    value: (i) => methodOf(onePoint(i.points, "gaussian"), "erm").train_acc,
    reach: "calibration-b: ERM interpolates the Gaussians in 200 epochs (the full size): genlab run temperature-scaling",
    gates: ["a_erm_ece", "a_t_erm", "a_erm_ts_ece", "a_ece_ratio", "a_t_mixup"],
  },
  {
    id: "a_erm_ece",
    role: "claim",
    what: "(a) Gaussians: mean raw ERM test ECE",
    cmp: ">=",
    threshold: 0.15,
    source: "calibration-b.md 'Proposed criteria for paper 30' (a) (measured 0.18–0.21)",
    over: "all",
    value: (i) => meanOf(gauss(i), (p) => methodOf(p, "erm").raw.ece),
  },
  {
    id: "a_t_erm",
    role: "claim",
    what: "(a) Gaussians: mean converged temperature of ERM",
    cmp: ">=",
    threshold: 4,
    source: "calibration-b.md 'Proposed criteria for paper 30' (a) (measured 6.9–9.4)",
    over: "all",
    value: (i) => meanOf(gauss(i), (p) => methodOf(p, "erm").t_conv),
  },
  {
    id: "a_erm_ts_ece",
    role: "claim",
    what: "(a) Gaussians: mean ERM + TS test ECE",
    cmp: "<=",
    threshold: 0.08,
    source: "calibration-b.md 'Proposed criteria for paper 30' (a) (measured 0.024–0.050)",
    over: "all",
    value: (i) => meanOf(gauss(i), (p) => methodOf(p, "erm").ts.ece),
  },
  {
    id: "a_ece_ratio",
    role: "claim",
    what: "(a) Gaussians: raw Mixup ECE / raw ERM ECE (control: labels not mixed)",
    cmp: "<=",
    threshold: 0.5,
    source: "calibration-b.md 'Proposed criteria for paper 30' (a) (per-seed ratios 0.20–0.37)",
    value: (i) => {
      const p = onePoint(i.points, "gaussian");
      return methodOf(p, MIX[i.arm]).raw.ece / methodOf(p, "erm").raw.ece;
    },
  },
  {
    id: "a_t_mixup",
    role: "claim",
    what: "(a) Gaussians: mean converged temperature of Mixup (control: labels not mixed)",
    cmp: ">=",
    threshold: 1.2,
    source: "calibration-b.md 'Proposed criteria for paper 30' (a) (measured 1.45–2.00; labels not mixed 0.74–0.99)",
    over: "all",
    value: (i) => meanOf(gauss(i), (p) => methodOf(p, MIX[i.arm]).t_conv),
  },
  {
    id: "b_t_erm",
    role: "gate",
    what: "(b) Fashion-MNIST: mean converged temperature of ERM on the noisy calibration split (ERM over-confident: the regime TS is about)",
    cmp: ">=",
    threshold: 2,
    source: "specs-23-45.md §8 PASS gate 2 (fitted T ≥ 2); calibration-b.md (b): T 2.81–3.12 at 20,000 images, 30 epochs",
    over: "all",
    value: (i) => meanOf(fmnist(i), (p) => methodOf(p, "erm").t_conv),
    reach: "calibration-b reached it (T 2.8–3.1) and measured the NLL claim passing at 20,000 images, 30 epochs, 5 seeds — the full size: genlab run temperature-scaling (~14 min on one core)",
    gates: ["b_nll_gap", "b_seeds_lower"],
  },
  {
    id: "b_nll_gap",
    role: "claim",
    what: "(b) Fashion-MNIST: mean ERM + TS test NLL − mean Mixup test NLL (control: labels not mixed)",
    cmp: ">=",
    threshold: 0.05,
    source: "calibration-b.md 'Proposed criteria for paper 30' (b) (measured 0.996 − 0.902 = 0.094; labels not mixed fails)",
    over: "all",
    value: (i) => meanOf(fmnist(i), (p) => methodOf(p, "erm").ts.nll) - meanOf(fmnist(i), (p) => methodOf(p, MIX[i.arm]).raw.nll),
  },
  {
    id: "b_seeds_lower",
    role: "claim",
    what: "(b) Fashion-MNIST: fraction of seeds with Mixup test NLL < ERM + TS test NLL (control: labels not mixed)",
    cmp: ">=",
    threshold: 0.8,
    source: "calibration-b.md 'Proposed criteria for paper 30' (b) (≥ 4 of 5; measured 5/5)",
    over: "all",
    value: (i) => {
      const ps = fmnist(i);
      return ps.filter((p) => methodOf(p, MIX[i.arm]).raw.nll < methodOf(p, "erm").ts.nll).length / ps.length;
    },
  },
];

export const temperatureScaling = defineExperiment({
  id: "temperature-scaling",
  paper: 30,
  title: "ERM, ERM + temperature scaling and Mixup on overlapping classes: 2-class Gaussians and Fashion-MNIST with label-map noise",
  claim: (h) =>
    `On 2-class Gaussians (μ = ${h.mu}, ${h.dim} dimensions) an interpolating ERM MLP is over-confident (ECE ≥ 0.15), the converged T (≥ 4) brings its ECE to ≤ 0.08, and Mixup is calibrated without it (ECE ≤ half ERM's, its own T ≥ 1.2); on Fashion-MNIST with ${Math.round(100 * h.noise)}% label-map noise (clean test labels), where ERM is over-confident (T ≥ 2), Mixup's test NLL is ≥ 0.05 below ERM + converged TS on average and lower in ≥ 80% of the seeds.`,
  coverage: {
    level: "partial",
    covered: ["ECE and NLL with 15 bins; the converged TS and the common one-step fit", "d-Mixup (d = 2, α = 1) with the labels-not-mixed control", "2-class Gaussian overlap at μ = 0.1 and Fashion-MNIST label-map noise at p = 0.4"],
    notCovered: ["μ = 0.05 and 0.25 and the K-class overlap (spec (b)), run by --set only", "the CIFAR/SVHN ResNet benchmarks of the paper", "d > 2 mixing in the gated set-ups", "the headline 'ERM + TS ECE ≥ 2 × Mixup ECE' (shown, not judged: calibration-b does not reproduce it with a converged TS)"],
  },
  deviations: [
    "MLPs instead of ResNets (the spec's substitution; the official Gaussian command uses ResNeXt-50)",
    "Fashion-MNIST: 30 epochs instead of the spec's 60 (calibration-b's budget); ERM is then not yet a full interpolator at p = 0.4",
    "the labels-not-mixed control is run on every seed of both set-ups (calibration-b: 2–3 seeds)",
    "5 seeds at full size for both set-ups (calibration-b: 3 for the Gaussians, 5 for Fashion-MNIST)",
    "quick size: Gaussians 50 epochs; Fashion-MNIST 3,000 images, 5 epochs; 3 seeds",
  ],
  criterionSource: "calibration-b.md 'Proposed criteria for paper 30' (measured in PyTorch), replacing spec §8's (a)/(b) lines; the (b) regime gate from spec §8 gate 2",
  checks: CHECKS,
  negativeControl: {
    what: "the mixup_unmixed arm of every run: Mixup with the labels not mixed (the same mixed inputs, the loss on the unpermuted labels), judged in Mixup's place by every check (calibration-b: its T is 0.74–0.99 on the Gaussians, and its NLL loses to ERM + TS on Fashion-MNIST)",
    inRun: true,
  },
  needs: [fashionMnistNeed((h) => h.setup === "fmnist")],
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
    epochs: integer(0, "epochs (0: 200 for Gaussians, 30 for Fashion-MNIST; at quick size 50 and 5)", { min: 0, max: 10000 }),
  },
  sweep: () => [{ setup: ["gaussian", "fmnist"] }],
  sizes: {
    smoke: { n: 400, dim: 20, trainSize: 500, epochs: 2, model: "mlp:16", batchSize: 100 },
    quick: { trainSize: 3000, epochs: 0 },
  },
  seeds: { smoke: 1, quick: 3, full: 5 },
  cost: { smoke: "~10 s", quick: "~53 s measured, with the control", full: "~14 min" },
  calibration: { seeds: [100, 101, 102], outcome: "INCONCLUSIVE on seeds 100–102: the Gaussian claims (a) PASS on each; Fashion-MNIST ERM's temperature stays at 1.24 < 2 (gate (b)) at 3,000 images and 10 epochs, 1.07 at 5 epochs (2026-12-06, the quick size since), so (b) is not judged: the full size is the verdict of record" },

  async run(ctx): Promise<TsResults> {
    const h = ctx.hparams;
    const gauss = h.setup === "gaussian";
    const quick = ctx.size === "quick";
    const epochs = h.epochs || (gauss ? (quick ? 50 : 200) : quick ? 5 : 30);
    const spec = h.model || (gauss ? "mlp:256,256" : "mlp:512,512");
    // every key from the run's seed (4243 + seed: the seeds of the earlier multi-seed runs give the same numbers)
    const k = roleKeys(4243 + ctx.seed, ["data", "split", "noise", "erm", "mixup", "unmixed"]);
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
      const fm = loadFashionMnist();
      const sub = takeRows(fm.train, permutationFromKey(k.data, fm.train.y.length).subarray(0, h.trainSize));
      const norm = (d: Dataset): Dataset => ({ ...d, x: Float32Array.from(d.x, (v) => (v - 0.286) / 0.353) });
      train = { ...norm(sub), y: labelMapNoise(sub.y as Int32Array, 10, h.noise, k.noise) };
      test = norm(fm.test);
      k.split.dispose();
    }
    // 10% of the training set calibrates T (with the training labels, noisy or not)
    const nCal = Math.round(0.1 * train.y.length);
    const calib = takeRows(train, Int32Array.from({ length: nCal }, (_, i) => i));
    const fit = takeRows(train, Int32Array.from({ length: train.y.length - nCal }, (_, i) => nCal + i));
    const h2 = { lr: h.lr, batchSize: Math.min(h.batchSize, fit.y.length), epochs };
    const mixSeed = 7919 + ctx.seed;
    const methods: Record<string, MethodResult> = {};
    for (const [m, key] of [["erm", k.erm], ["mixup", k.mixup], ["mixup_unmixed", k.unmixed]] as const) {
      methods[m] = await ctx.phase(m, () => runMethod(ctx, m === "mixup_unmixed" ? "unmixed" : m, m, spec, fit, calib, test, h2, key, mixSeed));
    }
    return { setup: h.setup, methods };
  },

  tables(points: P[]) {
    const rows: (string | number | null)[][] = [];
    for (const p of points) {
      for (const m of TS_METHODS) {
        const r = p.results.methods[m];
        if (!r) continue;
        rows.push([p.results.setup, p.seed, m, r.train_acc, r.raw.acc, r.raw.ece, r.raw.nll, r.t_conv, r.ts.ece, r.ts.nll, r.t_official, r.ts_official.ece]);
      }
    }
    return [{ title: "per seed and method (test ECE/NLL; T fitted on the calibration split)", columns: ["set-up", "seed", "method", "train acc", "test acc", "ECE", "NLL", "T (converged)", "ECE after TS", "NLL after TS", "T (one-step)", "ECE after one-step TS"], rows }];
  },

  figures(points: P[], v) {
    return (["gaussian", "fmnist"] as const).flatMap((setup) => {
      const ps = points.filter((p) => p.results.setup === setup);
      if (ps.length === 0) return [];
      const mean = (f: (p: P) => number | undefined) => {
        const xs = ps.map(f).filter((x): x is number => x !== undefined);
        return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
      };
      const m = (p: P, k: Method) => p.results.methods[k];
      const groups = ["ERM", "ERM + TS", "Mixup", "Mixup + TS", "unmixed (control)"];
      const ece = [mean((p) => m(p, "erm")?.raw.ece), mean((p) => m(p, "erm")?.ts.ece), mean((p) => m(p, "mixup")?.raw.ece), mean((p) => m(p, "mixup")?.ts.ece), mean((p) => m(p, "mixup_unmixed")?.raw.ece)];
      const nll = [mean((p) => m(p, "erm")?.raw.nll), mean((p) => m(p, "erm")?.ts.nll), mean((p) => m(p, "mixup")?.raw.nll), mean((p) => m(p, "mixup")?.ts.nll), mean((p) => m(p, "mixup_unmixed")?.raw.nll)];
      const headline = ece[1] / ece[2];
      return [
        {
          name: `temperature-scaling-${setup}`,
          title: `${setup === "gaussian" ? "2-class Gaussians" : "Fashion-MNIST with label-map noise"}: calibration by method (mean of ${ps.length} seeds)`,
          subtitle: `headline ERM + TS ECE / Mixup ECE = ${headline.toFixed(2)} (paper: ≥ 2; shown, not judged) → ${v.verdict}`,
          panels: [
            { kind: "bar" as const, title: "test ECE (15 bins)", xLabel: "method", yLabel: "ECE", groups, series: [{ name: "ece", values: ece }], width: 420 },
            { kind: "bar" as const, title: "test NLL", xLabel: "method", yLabel: "NLL", groups, series: [{ name: "nll", values: nll }], width: 420 },
            reliability(ps[0]),
          ],
        },
      ];
    });
  },
});

/** The reliability diagram of one run: accuracy against confidence per bin (non-empty bins), the diagonal perfect. */
function reliability(p: P) {
  const curve = (name: string, c: Cal | undefined) => {
    const bins = (c?.bins ?? []).filter((b) => b.count > 0);
    return { name, x: bins.map((b) => b.confidence), y: bins.map((b) => b.accuracy) };
  };
  const ms = p.results.methods;
  return {
    kind: "scatter" as const,
    title: `reliability diagram (seed ${p.seed}, 15 bins)`,
    xLabel: "confidence",
    yLabel: "accuracy",
    diagonal: true,
    series: [curve("ERM", ms.erm?.raw), curve("temperature-scaled ERM", ms.erm?.ts), curve("Mixup", ms.mixup?.raw)],
    width: 380,
  };
}
