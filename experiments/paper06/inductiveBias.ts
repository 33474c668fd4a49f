/**
 * Towards exact computation of inductive bias (Boopathy, Yue, Hwang, Iyer, Fiete 2024): the inductive bias a
 * hypothesis space needs to reach test error ε is −ln P(e(θ) ≤ ε), estimated by fitting a scaled non-central χ² to
 * the test errors of sampled hypotheses (src/theory/inductiveBias.ts, the official `utils.py` procedure).
 *
 * Data: Fashion-MNIST, 500 training and 500 test images (seeded subsets) at 7×7, 14×14 and 28×28 (average pooling),
 * one-hot targets, per-element MSE. Hypothesis spaces: the RBF-GP posterior given the training set (σ = the median
 * pairwise distance, noise-free with ridge 1e-6; 10⁴ functions, drawn exactly through the posterior covariance's
 * eigendecomposition), and an MLP of width 256 with three hidden layers (the official `Net` with depth 2: an input
 * layer, two width × width layers), trained by Adam 1e-3 for 30 epochs, batch 50 (the official code takes the batch
 * size as an argument; none is given in the spec), 40 trials from seeded inits and orders.
 * Claim (spec §6): (ii) the kernel space's IB at a normalised target (ε = 0.9 × the GP posterior mean's MSE) is
 * non-decreasing with resolution on every seed — higher-dimensional tasks need more inductive bias; (iii) at the
 * target ε = the 10th percentile of the MLP trials' errors, IB_kernel(ε) − IB_MLP(ε) ≥ 5 nats on every dataset —
 * the network class encodes inductive bias the kernel class lacks. Test (i), the estimator against a known answer,
 * is `genlab calc inductive-bias` (46/50 within ±15%) and a unit test.
 * Criteria: CHECKS below, declared once; (ii) and (iii) are the spec's design estimates following the paper's claims.
 * The 8×8 digits (the spec's fourth dataset) are the separate experiment inductive-bias-digits (an optional package).
 * Negative control (hparams): the MLPs trained on shuffled training labels — the networks' fit to the task removed;
 * the target ε then comes from networks that learnt nothing, and the gap must shrink. (ii) does not involve the MLP
 * and is expected to hold in the control too.
 * Quick size calibrated on seeds 100–102 (see `calibration`): 12 MLP trials of 15 epochs, 2,000 GP functions.
 * Cost on one core: smoke ~10 s, quick 89 s with the control, full 22 min (3 seeds, 40 trials of 30 epochs, 10⁴ functions).
 * Run: genlab run inductive-bias --quick
 */
import { defineExperiment, fashionMnistNeed, firstSeed, integer, number, oneOf, type CheckDecl, type Point, type RunContext } from "../../src/declare/kit.ts";
import { permutationFromKey, roleKeys, splitKey, type Key } from "../../src/core/prng.ts";
import { treeDispose } from "../../src/core/tree.ts";
import { takeRows, type Dataset } from "../../src/data/dataset.ts";
import { loadFashionMnist } from "../../src/io/fashionMnist.ts";
import { applyMlp, initMlp, mlpSpec, type MlpParams } from "../../src/nn/dense.ts";
import { oneHotMse } from "../../src/nn/losses.ts";
import { adam } from "../../src/optim/aliases.ts";
import { predictProbs } from "../../src/scores/pipeline.ts";
import { ncx2LogPdf } from "../../src/core/special.ts";
import { fitNcx2, gpPosteriorErrors, inductiveBias, medianPairwiseDistance, type Ncx2Fit } from "../../src/theory/inductiveBias.ts";

export type IbPointResults = {
  resolution: number;
  d: number;
  labels: string;
  sigma: number;
  kernelErrors: number[];
  kernelMeanError: number;
  nnErrors: number[];
  kernelFit: Ncx2Fit;
  nnFit: Ncx2Fit;
  epsNn: number;
  epsKernel: number;
  ibKernelAtNn: number;
  ibNnAtNn: number;
  ibKernelAtKernel: number;
};
type P = Point<Record<string, number | string>, IbPointResults>;

const byResolution = (points: P[]) => {
  const ps = [...points].sort((a, b) => a.results.resolution - b.results.resolution);
  if (ps.length < 2) throw new Error(`the resolution trend needs ≥ 2 resolutions, ran ${ps.length}`);
  return ps.map((p) => p.results);
};

/** Claim (iii), shared with inductive-bias-digits: the kernel class needs ≥ 5 nats more than the MLP class. */
export const NN_BIAS_GAP: CheckDecl<P> = {
    id: "nn_bias_gap",
    role: "claim",
    what: "min over datasets of IB_kernel(ε) − IB_MLP(ε), ε = the 10th percentile of the MLP trials' errors (nats)",
    cmp: ">=",
    threshold: 5,
    source: "specs-01-22.md §6 PASS (iii) (design estimate)",
    value: ({ points }) => Math.min(...points.map((p) => p.results.ibKernelAtNn - p.results.ibNnAtNn)),
  };

const CHECKS: CheckDecl<P>[] = [
  {
    id: "kernel_ib_resolution",
    role: "claim",
    what: "min over consecutive resolutions of ΔIB_kernel at ε = 0.9 × the GP mean's MSE (non-decreasing with resolution)",
    cmp: ">=",
    threshold: 0,
    source: "specs-01-22.md §6 PASS (ii) (design estimate)",
    value: ({ points }) => {
      const r = byResolution(points);
      return Math.min(...r.slice(1).map((q, i) => q.ibKernelAtKernel - r[i].ibKernelAtKernel));
    },
  },
  NN_BIAS_GAP,
];

/** Average-pool 28×28 images (rows of 784) to r×r (r divides 28). */
export function poolImages(x: ArrayLike<number>, n: number, r: number): Float64Array {
  const b = 28 / r;
  if (!Number.isInteger(b)) throw new RangeError(`poolImages: ${r} does not divide 28`);
  const out = new Float64Array(n * r * r);
  for (let i = 0; i < n; i++)
    for (let p = 0; p < 28; p++) for (let q = 0; q < 28; q++) out[i * r * r + Math.floor(p / b) * r + Math.floor(q / b)] += x[i * 784 + p * 28 + q] / (b * b);
  return out;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  const pos = q * (s.length - 1), lo = Math.floor(pos);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (pos - lo);
};


/** The hypothesis spaces' settings, shared with inductive-bias-digits (the spec's §6 sizes). */
export const IB_SPACE_HPARAMS = {
  nTrain: integer(500, "training images", { min: 10, max: 60000 }),
  nTest: integer(500, "test images", { min: 10, max: 10000 }),
  trials: integer(40, "MLP trials (inits and data orders)", { min: 3, max: 10000 }),
  epochs: integer(30, "MLP epochs", { min: 1, max: 1000 }),
  width: integer(256, "MLP width", { min: 1, max: 8192 }),
  lr: number(1e-3, "Adam learning rate", { min: 0, max: 1, minExclusive: true }),
  batchSize: integer(50, "MLP batch size", { min: 1, max: 60000 }),
  gpSamples: integer(10000, "functions drawn from the GP posterior", { min: 3, max: 1_000_000 }),
  labels: oneOf(["true", "shuffled"], "true", "true: the MLPs learn the task; shuffled: their training labels permuted (the control)"),
};

/** The spec's smaller sizes of the hypothesis spaces (smoke) and the calibrated quick size (12 trials of 15 epochs, 2,000 GP functions). */
export const IB_SIZES = {
  smoke: { nTrain: 60, nTest: 60, trials: 4, epochs: 2, width: 16, gpSamples: 60 },
  quick: { trials: 12, epochs: 15, gpSamples: 2000 },
};

/** The negative control of both paper-6 experiments. */
export const IB_CONTROL = { what: "the MLPs trained on shuffled training labels (their fit to the task removed): the target ε comes from networks that learnt nothing, so the kernel class's excess inductive bias must shrink", hparams: { labels: "shuffled" } } as const;

/** The hypothesis spaces' settings a measurement reads (both paper-6 experiments declare them alike). */
export type IbSettings = { nTrain: number; nTest: number; trials: number; epochs: number; width: number; lr: number; batchSize: number; gpSamples: number; labels: string };

/**
 * One dataset's measurement: the RBF-GP posterior's errors (10 classes, one-hot MSE) and `trials` MLPs' errors,
 * their ncx2 fits, and the inductive biases at the MLPs' 10th-percentile error and at 0.9 × the GP mean's error.
 * `labels: "shuffled"` trains the MLPs on permuted training labels (the control).
 */
export async function measureInductiveBias(
  ctx: RunContext,
  h: IbSettings,
  data: { xtr: Float64Array; ytr: number[]; xte: Float64Array; yte: number[]; d: number; resolution: number },
  k: { gp: Key; init: Key; order: Key; shuffle: Key },
): Promise<IbPointResults> {
  const { xtr, ytr, xte, yte, d } = data;
  const r = data.resolution;
  const sigma = medianPairwiseDistance(xtr, h.nTrain, d);
  const gp = gpPosteriorErrors({ xTrain: xtr, yTrain: ytr, nTrain: h.nTrain, xTest: xte, yTest: yte, nTest: h.nTest, d, classes: 10, sigma, ridge: 1e-6, samples: h.gpSamples }, k.gp);
  const perm = permutationFromKey(k.shuffle, h.nTrain);
  const trainLabels = h.labels === "shuffled" ? Array.from(perm, (i) => ytr[i]) : ytr;
  const train: Dataset = { x: Float32Array.from(xtr), xShape: [h.nTrain, d], y: Int32Array.from(trainLabels), numClasses: 10 };
  const test: Dataset = { x: Float32Array.from(xte), xShape: [h.nTest, d], y: Int32Array.from(yte), numClasses: 10 };
  const spec = mlpSpec({ dims: [d, h.width, h.width, h.width, 10] });
  const initKeys = splitKey(k.init, h.trials), orderKeys = splitKey(k.order, h.trials);
  const nnErrors: number[] = [];
  for (let t = 0; t < h.trials; t++) {
    const out = await ctx.train<MlpParams>({ name: `trial ${t}`, params: initMlp(spec, initKeys[t]), loss: (p, x, y) => oneHotMse(applyMlp(spec, p, x), y), optimizer: adam(h.lr), train, epochs: h.epochs, batchSize: Math.min(h.batchSize, h.nTrain), key: orderKeys[t], log: { every: 0, perDecade: 0 } });
    const f = await predictProbs((p, x) => applyMlp(spec, p as MlpParams, x), out.params, test, 2000, { logits: true });
    treeDispose([out.params, out.optState]);
    let e = 0;
    for (let i = 0; i < h.nTest; i++) for (let c = 0; c < 10; c++) e += (f[i * 10 + c] - (c === yte[i] ? 1 : 0)) ** 2;
    nnErrors.push(e / (h.nTest * 10));
    ctx.progress(t + 1, h.trials);
  }
  const kernelFit = fitNcx2(gp.errors), nnFit = fitNcx2(nnErrors);
  const epsNn = quantile(nnErrors, 0.1), epsKernel = 0.9 * gp.meanError;
  return {
    resolution: r,
    d,
    labels: h.labels,
    sigma,
    kernelErrors: Array.from(gp.errors.subarray(0, 2000)),
    kernelMeanError: gp.meanError,
    nnErrors,
    kernelFit,
    nnFit,
    epsNn,
    epsKernel,
    ibKernelAtNn: inductiveBias(epsNn, kernelFit).nats,
    ibNnAtNn: inductiveBias(epsNn, nnFit).nats,
    ibKernelAtKernel: inductiveBias(epsKernel, kernelFit).nats,
  };
}

export const inductiveBiasExperiment = defineExperiment({
  id: "inductive-bias",
  paper: 6,
  title: "Inductive bias as −ln P(error ≤ ε): more for higher-resolution tasks, and the MLP class encodes it",
  claim: () => "On Fashion-MNIST at 7×7, 14×14 and 28×28 (500 train, 500 test, one-hot MSE), the RBF-GP posterior's inductive bias at ε = 0.9 × its mean's error does not decrease with resolution, and at the MLPs' 10th-percentile error the kernel class needs ≥ 5 nats more than the MLP class.",
  coverage: {
    level: "partial",
    covered: ["the ncx2 MLE estimator and its known-answer test (i) (calculator and unit test)", "the kernel (RBF-GP posterior) and MLP hypothesis spaces on Fashion-MNIST at three resolutions", "claims (ii) and (iii)"],
    notCovered: ["8×8 digits (the separate experiment inductive-bias-digits)", "the paper's RL and meta-learning (Omniglot) experiments", "the paper's figure values (unverified)"],
  },
  deviations: ["the GP posterior is exact (Cholesky and an eigendecomposition) instead of the official Adam fits", "batch size 50 (an argument of the official code)", "the quick size: fewer MLP trials and epochs, 2,000 GP functions"],
  criterionSource: "specs-01-22.md §6 PASS (ii), (iii): design estimates following the paper's claims",
  checks: CHECKS,
  negativeControl: IB_CONTROL,
  seeds: { smoke: 1, quick: 1, full: 3 },
  needs: [fashionMnistNeed()],
  dataSource: "file",
  playFields: ["trials", "epochs"],
  hparams: {
    resolution: integer(28, "image side after average pooling (divides 28)", { min: 1, max: 28 }),
    ...IB_SPACE_HPARAMS,
  },
  validate: (h) => (28 % h.resolution === 0 ? [] : [{ key: "resolution" as const, message: "must divide 28 (1, 2, 4, 7, 14 or 28)" }]),
  sizes: IB_SIZES,
  cost: { smoke: "~10 s", quick: "89 s measured alone, with the control", full: "22 min measured (--jobs 1, on a loaded machine)" },
  calibration: {
    seeds: [100, 101, 102],
    outcome:
      "quick: PASS on each seed — IB_kernel at 0.9 × the GP mean's error rises with resolution (7×7, 14×14, 28×28: 106, 211, 625 nats on seed 100; smallest step 104, 95, 103 nats), and the kernel–MLP gap at the MLPs' 10th-percentile error is ≥ 544 nats on every dataset (IB_MLP 1.7–2.6 nats, as a 10th percentile must give). The control FAILs nn_bias_gap on each seed: networks trained on shuffled labels reach only ε ≈ 0.10, where IB_kernel is 0–0.4 nats (480 at 7×7 on seed 101). The kernel IBs of hundreds of nats are the fitted ncx2's far tail: the GP class essentially never reaches the MLPs' errors",
  },
  sweep: (size) => [{ resolution: size === "smoke" ? [7, 14] : [7, 14, 28] }],

  async run(ctx): Promise<IbPointResults> {
    const h = ctx.hparams;
    const fm = loadFashionMnist();
    // the same images at every resolution of a seed: the subsets' keys do not depend on the resolution
    const k = roleKeys(ctx.seed, ["train", "test", "gp", "init", "order", "shuffle"]);
    const trIdx = permutationFromKey(k.train, fm.train.y.length).subarray(0, h.nTrain);
    const teIdx = permutationFromKey(k.test, fm.test.y.length).subarray(0, h.nTest);
    const r = h.resolution, d = r * r;
    const xtr = poolImages(takeRows(fm.train, trIdx).x, h.nTrain, r), xte = poolImages(takeRows(fm.test, teIdx).x, h.nTest, r);
    const ytr = Array.from(trIdx, (i) => fm.train.y[i]), yte = Array.from(teIdx, (i) => fm.test.y[i]);
    const res = await measureInductiveBias(ctx, h, { xtr, ytr, xte, yte, d, resolution: r }, k);
    await ctx.record({ ib_kernel_at_nn: res.ibKernelAtNn, ib_nn_at_nn: res.ibNnAtNn, ib_kernel_at_kernel: res.ibKernelAtKernel, eps_nn: res.epsNn, eps_kernel: res.epsKernel }, { phase: "estimate", axis: "resolution", x: r });
    return res;
  },

  figures(all: P[], v) {
    const ps = firstSeed(all).sort((a, b) => a.results.resolution - b.results.resolution);
    const dims = ps.map((p) => p.results.d);
    const top = ps[ps.length - 1]?.results;
    const series = (name: string, f: (r: IbPointResults) => number) => {
      const ys = dims.map((d) => all.filter((p) => p.results.d === d).map((p) => f(p.results)));
      return { name, x: dims, y: ys.map((y) => y.reduce((a, b) => a + b, 0) / y.length), lo: ys.map((y) => Math.min(...y)), hi: ys.map((y) => Math.max(...y)), dots: true };
    };
    return [
      {
        name: "inductive-bias",
        title: `Inductive bias (nats) of an RBF-GP and an MLP class on Fashion-MNIST (${ps[0]?.results.labels ?? "?"} labels)`,
        subtitle: `mean and range over seeds ${[...new Set(all.map((p) => p.seed))].join(", ")} → ${v.verdict}`,
        columns: 3,
        panels: [
          {
            kind: "line" as const,
            title: "inductive bias against input dimension",
            xLabel: "input dimension d (log)",
            yLabel: "IB (nats, log)",
            xLog: true,
            yLog: true,
            series: [series("kernel at the MLP's 10th-percentile ε", (r) => r.ibKernelAtNn), series("MLP at its 10th-percentile ε", (r) => r.ibNnAtNn), series("GP at 0.9 × its mean's error", (r) => r.ibKernelAtKernel)],
            width: 520,
          },
          ...(top ? [histogramPanel(`GP posterior errors at ${top.resolution}×${top.resolution} and the fitted ncx2`, top.kernelErrors, top.kernelFit), histogramPanel(`MLP trial errors at ${top.resolution}×${top.resolution} and the fitted ncx2`, top.nnErrors, top.nnFit)] : []),
        ],
      },
    ];
  },
});

/** An error histogram (as a density) with the fitted scaled ncx2 density over it. */
export function histogramPanel(title: string, errors: number[], fit: Ncx2Fit) {
  const lo = Math.min(...errors), hi = Math.max(...errors), bins = Math.max(5, Math.min(30, Math.round(Math.sqrt(errors.length))));
  const w = (hi - lo) / bins || 1;
  const counts = new Array(bins).fill(0);
  for (const e of errors) counts[Math.min(bins - 1, Math.floor((e - lo) / w))]++;
  const centres = counts.map((_, i) => lo + (i + 0.5) * w);
  const grid = Array.from({ length: 80 }, (_, i) => lo - w + ((hi - lo + 2 * w) * i) / 79).filter((x) => x > 0);
  return {
    kind: "line" as const,
    title,
    xLabel: "test MSE",
    yLabel: "density",
    series: [
      { name: "histogram of the errors", x: centres, y: counts.map((c) => c / (errors.length * w)), dots: true },
      { name: `ncx2 fit (df ${fit.df.toPrecision(3)}, nc ${fit.nc.toPrecision(3)}, scale ${fit.scale.toPrecision(3)})`, x: grid, y: grid.map((x) => Math.exp(ncx2LogPdf(x / fit.scale, fit.df, fit.nc)) / fit.scale) },
    ],
    width: 420,
  };
}
