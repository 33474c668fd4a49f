/**
 * Training the Untrainable: Introducing Inductive Bias via Representational Alignment (Subramaniam, Mayo, Conwell,
 * Poggio, Katz, Cheung, Barbu; NeurIPS 2025) — "guidance" (specs-23-45.md §16, the laptop reproduction).
 *
 * Claim: a deep fully connected network that overfits Fashion-MNIST stops overfitting when a layer-wise CKA loss
 * aligns its hidden layers to those of a frozen, *untrained* convolutional guide: the guided network's final test
 * loss is ≤ 0.85 × the unguided one's and its accuracy ≥ 1 point higher, and its layers reach CKA ≥ 0.8 with the
 * guide's (the loss acts on the right layers).
 * Set-up (spec §16 §3): target FCN 784 → 8 × 256 (ReLU) → 10 on a seeded 10,000-image Fashion-MNIST subset
 * (standardised pixels), test on 2,000 test images; guide: an untrained CNN conv 3×3 16-32-32-64 (SAME, ReLU, 2×2
 * max pool after conv 2 and conv 4), PyTorch's default init; layer map FCN {1, 3, 6, 8} ↔ CNN {1, 2, 3, 4} (the
 * official code's uniform spread with both ends, train/guidance.ts; the spec says {2, 4, 6, 8}), representations
 * taken before the activations (the official hooks on Linear / Conv2d outputs); loss L = cross-entropy + Σ (1 − CKA) on each minibatch of 256 (linear
 * CKA, measures/cka.ts); Adam 1e-3, 30 epochs (quick: 3,000 images, 50 epochs). The guide's ReLU maps are average-pooled to 7 × 7 (the spec's
 * downsampling, though conv 4's 3,136 features exceed its ≤ 2,048: 784 / 1,568 / 1,568 / 3,136) and computed once (the guide is frozen).
 * Both arms (unguided, guided) run in every seed with the same initialisation and batch order.
 * Criteria: CHECKS below (spec §16 PASS, thresholds marked UNVERIFIED there: a design estimate, declared before
 * any run).
 * Negative control (hparams): the guide replaced by an untrained copy of the target (`guide: "fcn"`: an FCN
 * 8 × 256 at PyTorch's init, its layers {1, 3, 6, 8} ↔ the target's), as the issue names it: the same alignment
 * loss without the convolutional prior. The claim is that the prior helps, so the loss checks should fail; they
 * could pass if alignment to any random network regularised as well.
 * Cost on one core: see `cost`.
 * Run: genlab run guidance --quick
 */
import { numpy as np, type Array as JArray } from "@jax-js/jax";
import { permutationFromKey, roleKeys, splitKey, uniformFromKey, type Key } from "../../src/core/prng.ts";
import { treeDispose } from "../../src/core/tree.ts";
import { takeRows, type Dataset } from "../../src/data/dataset.ts";
import { loadFashionMnist } from "../../src/io/fashionMnist.ts";
import { linearCka } from "../../src/measures/cka.ts";
import { initTorchLinear, mlpSpec, type MlpParams } from "../../src/nn/dense.ts";
import { accuracy, softmaxCrossEntropy } from "../../src/nn/losses.ts";
import { conv3x3Same } from "../../src/nn/cnn.ts";
import { adam } from "../../src/optim/aliases.ts";
import { guidanceLayerMap, guidancePenalty } from "../../src/train/guidance.ts";
import { defineExperiment, fashionMnistNeed, integer, number, oneOf, onlyResults, type CheckDecl, type Point, type RunContext } from "../../src/declare/kit.ts";

const PIXELS = 784;
/** Fashion-MNIST's pixel mean and standard deviation (over the training images, /255). */
const MEAN = 0.286, SD = 0.353;

type ArmResult = {
  test_loss: number[];
  test_acc: number[];
  final_loss: number;
  min_loss: number;
  final_acc: number;
  /** CKA of each mapped target layer with its guide layer at the end (mean over 4 training batches of 256). */
  cka: number[];
  seconds: number;
};
export type GuidanceResults = { guide: string; pairs: [number, number][]; unguided: ArmResult; guided: ArmResult };
type P = Point<Record<string, number | string>, GuidanceResults>;

const CHECKS: CheckDecl<P>[] = [
  {
    id: "unguided_overfits",
    role: "gate",
    what: "unguided FCN: final test loss over its minimum over the epochs (it overfits)",
    cmp: ">=",
    threshold: 1.3,
    source: "specs-23-45.md §16 PASS (UNVERIFIED threshold: a design estimate)",
    value: ({ points }) => {
      const u = onlyResults(points).unguided;
      return u.final_loss / u.min_loss;
    },
    reach: "more epochs or fewer images: the quick size (3,000 images, 50 epochs) overfits, genlab run guidance --quick",
    gates: ["loss_ratio", "acc_gain"],
  },
  {
    id: "loss_ratio",
    role: "claim",
    what: "guided final test loss / unguided final test loss",
    cmp: "<=",
    threshold: 0.85,
    source: "specs-23-45.md §16 PASS (UNVERIFIED threshold: a design estimate)",
    value: ({ points }) => {
      const r = onlyResults(points);
      return r.guided.final_loss / r.unguided.final_loss;
    },
  },
  {
    id: "acc_gain",
    role: "claim",
    what: "guided final test accuracy − unguided",
    cmp: ">=",
    threshold: 0.01,
    source: "specs-23-45.md §16 PASS (UNVERIFIED threshold: a design estimate)",
    value: ({ points }) => {
      const r = onlyResults(points);
      return r.guided.final_acc - r.unguided.final_acc;
    },
  },
  {
    id: "min_cka",
    role: "claim",
    what: "guided FCN: the lowest CKA of a mapped layer with its guide layer at the end",
    cmp: ">=",
    threshold: 0.8,
    source: "specs-23-45.md §16 PASS (the mechanical check that the loss acts on the right layers)",
    value: ({ points }) => Math.min(...onlyResults(points).guided.cka),
  },
];

/** PyTorch's default conv/linear init (U(±1/√fan_in) weights and biases), host side. */
function torchUniform(u: Float32Array, fanIn: number): Float32Array {
  const b = 1 / Math.sqrt(fanIn);
  return u.map((v) => (2 * v - 1) * b);
}

/** The untrained CNN guide's convolutions (OIHW kernels, host): conv 3×3 16-32-32-64 SAME, PyTorch's default init. */
type CnnGuide = { w: Float32Array; b: Float32Array; co: number; ci: number }[];

function cnnGuide(key: Key): CnnGuide {
  const chans = [1, 16, 32, 32, 64];
  const keys = splitKey(key, 8);
  return [0, 1, 2, 3].map((i) => {
    const [ci, co] = [chans[i], chans[i + 1]];
    return { w: torchUniform(uniformFromKey(keys[2 * i], co * ci * 9), ci * 9), b: torchUniform(uniformFromKey(keys[2 * i + 1], co), ci * 9), co, ci };
  });
}

/**
 * The guide's four conv outputs (before the ReLU, where the official code hooks its layers) for x [n, 784]:
 * conv → ReLU (→ 2×2 max pool after conv 2 and 4) feeds the next conv. Convolutions by im2col and one matmul
 * (nn/cnn.ts conv3x3Same, the native matmul: 4.8× faster than lax.conv here). Consumes x.
 */
function cnnGuideMaps(g: CnnGuide, x: JArray): JArray[] {
  const n = x.shape[0];
  let h = x.reshape([n, 1, 28, 28]);
  const maps: JArray[] = [];
  g.forEach((c, i) => {
    const w = np.array(c.w as Float32Array<ArrayBuffer>, { shape: [c.co, c.ci, 3, 3] });
    const b = np.array(c.b as Float32Array<ArrayBuffer>, { shape: [1, c.co, 1, 1] });
    const z = conv3x3Same(h, w).add(b);
    maps.push(z.ref);
    h = np.maximum(z, 0);
    if (i === 1 || i === 3) {
      const [, ch, hh, ww] = h.shape;
      h = h.reshape([n, ch, hh / 2, 2, ww / 2, 2]).max([3, 5]);
    }
  });
  h.dispose();
  return maps;
}

/** Average-pool NCHW maps by k (H, W divisible) and flatten: [n, C·(H/k)·(W/k)]. Consumes x. */
function poolFlat(x: JArray, k: number): JArray {
  const [n, c, h, w] = x.shape;
  return x.reshape([n, c, h / k, k, w / k, k]).mean([3, 5]).reshape([n, -1]);
}

/**
 * The FCN's logits for x, and (when `pre` is given) each hidden layer's output before its ReLU — the output of its
 * Linear module, where the official code hooks the representations (the logit layer excluded): pre[l − 1] is hidden
 * layer l's. Consumes params and x.
 */
function fcnForward(p: MlpParams, x: JArray, pre?: JArray[]): JArray {
  let h = x;
  p.layers.forEach((l, i) => {
    const z = np.matmul(h, l.w).add(l.b!);
    if (i < p.layers.length - 1) {
      if (pre) pre.push(z.ref);
      h = np.maximum(z, 0);
    } else h = z;
  });
  return h;
}

/**
 * The guide's representations of every row of `images` (n × 784, standardised), host float32, one block per guide
 * layer (before its activation): the CNN's four conv maps pooled to 7 × 7, or an FCN guide's hidden layers. In chunks
 * of 500 rows.
 */
async function guideRepresentations(guide: { kind: "cnn"; convs: CnnGuide } | { kind: "fcn"; params: MlpParams; layers: number[] }, images: Float32Array, n: number): Promise<{ blocks: Float32Array[]; widths: number[] }> {
  const chunks: Float32Array[][] = [];
  for (let s = 0; s < n; s += 500) {
    const e = Math.min(n, s + 500);
    const x = np.array(images.subarray(s * PIXELS, e * PIXELS) as Float32Array<ArrayBuffer>, { shape: [e - s, PIXELS] });
    let reps: JArray[];
    if (guide.kind === "cnn") reps = cnnGuideMaps(guide.convs, x).map((a, i) => poolFlat(a, i < 2 ? 4 : 2));
    else {
      const pre: JArray[] = [];
      fcnForward({ layers: guide.params.layers.map((l) => ({ w: l.w.ref, b: l.b?.ref })) }, x, pre).dispose();
      reps = guide.layers.map((l) => pre[l - 1].ref);
      for (const a of pre) a.dispose();
    }
    chunks.push(await Promise.all(reps.map(async (r) => (await r.data()) as Float32Array)));
  }
  const widths = chunks[0].map((c) => c.length / Math.min(500, n));
  const blocks = widths.map((w, i) => {
    const out = new Float32Array(n * w);
    let o = 0;
    for (const ch of chunks) {
      out.set(ch[i], o);
      o += ch[i].length;
    }
    return out;
  });
  return { blocks, widths };
}

/** Rows [image | guide block 1 | … | guide block G]: the guide's representations travel with their images through the minibatches. */
function withGuide(images: Float32Array, n: number, rep: { blocks: Float32Array[]; widths: number[] }, y: Int32Array): Dataset {
  const width = PIXELS + rep.widths.reduce((a, b) => a + b, 0);
  const x = new Float32Array(n * width);
  for (let i = 0; i < n; i++) {
    x.set(images.subarray(i * PIXELS, (i + 1) * PIXELS), i * width);
    let o = PIXELS;
    rep.blocks.forEach((b, k) => {
      const w = rep.widths[k];
      x.set(b.subarray(i * w, (i + 1) * w), i * width + o);
      o += w;
    });
  }
  return { x, xShape: [n, width], y, numClasses: 10 };
}

type Hp = { depth: number; width: number; lr: number; batchSize: number; epochs: number; guideWeight: number };

async function trainArm(ctx: RunContext, name: "unguided" | "guided", h: Hp, train: Dataset, test: Dataset, pairs: [number, number][], widths: number[], initKey: Key, dataKey: Key): Promise<ArmResult> {
  const spec = mlpSpec({ dims: [PIXELS, ...Array.from({ length: h.depth }, () => h.width), 10], activation: "relu", padTo: 1 });
  const offsets = widths.map((_, k) => PIXELS + widths.slice(0, k).reduce((a, b) => a + b, 0));
  const image = (x: JArray) => (x.shape[1] === PIXELS ? x : x.slice([], [0, PIXELS]));
  const guided = name === "guided";
  const forward = (p: MlpParams, x: JArray, pre?: JArray[]) => fcnForward(p, image(x), pre);
  const out = await ctx.train<MlpParams>({
    name,
    params: initTorchLinear(spec, initKey),
    loss: (p, x, y) => {
      if (!guided) return softmaxCrossEntropy(forward(p, x), y);
      const acts: JArray[] = [];
      const logits = forward(p, x.ref, acts);
      // acts[t − 1]: hidden layer t's output before its ReLU
      const target = pairs.map(([t]) => acts[t - 1].ref);
      const guide = pairs.map((_, k) => x.ref.slice([], [offsets[k], offsets[k] + widths[k]]));
      for (const a of acts) a.dispose();
      x.dispose();
      return softmaxCrossEntropy(logits, y).add(guidancePenalty(target, guide).mul(h.guideWeight));
    },
    evaluate: (p, x, y) => {
      const lg = forward(p, x);
      return { loss: softmaxCrossEntropy(lg.ref, y.ref), acc: accuracy(lg, y) };
    },
    evalSets: { test },
    optimizer: adam(h.lr),
    train,
    epochs: h.epochs,
    batchSize: h.batchSize,
    key: dataKey,
    log: { every: Math.floor(train.y.length / h.batchSize), perDecade: 0 },
    progressKeys: ["test_loss", "test_acc"],
  });
  treeDispose(out.optState);
  // CKA of each mapped layer with its guide layer at the end, on the first four training batches (of the training batch size: CKA depends on n)
  const cka = pairs.map(() => 0);
  const bs = h.batchSize;
  const batches = Math.min(4, Math.floor(train.y.length / bs));
  for (let b = 0; b < batches; b++) {
    const rows = takeRows(train, Int32Array.from({ length: bs }, (_, i) => b * bs + i));
    const x = np.array(rows.x as Float32Array<ArrayBuffer>, { shape: rows.xShape });
    const acts: JArray[] = [];
    forward({ layers: out.params.layers.map((l) => ({ w: l.w.ref, b: l.b?.ref })) }, x.ref, acts).dispose();
    for (const [k, [t]] of pairs.entries()) cka[k] += ((await linearCka(acts[t - 1].ref, x.ref.slice([], [offsets[k], offsets[k] + widths[k]])).data()) as Float32Array)[0] / batches;
    for (const a of acts) a.dispose();
    x.dispose();
  }
  treeDispose(out.params);
  const hist = out.history.filter((r) => r.step > 0);
  const loss = hist.map((r) => r.test_loss), acc = hist.map((r) => r.test_acc);
  return { test_loss: loss, test_acc: acc, final_loss: loss[loss.length - 1], min_loss: Math.min(...loss), final_acc: acc[acc.length - 1], cka, seconds: out.seconds };
}

export const guidanceExperiment = defineExperiment({
  id: "guidance",
  paper: 38,
  title: "Guidance: aligning a deep FCN's layers to an untrained CNN's (CKA) stops it overfitting Fashion-MNIST",
  claim: (h) =>
    `An FCN 784-${h.width}×${h.depth}-10 trained with Adam for ${h.epochs} epochs on ${h.nTrain.toLocaleString("en")} Fashion-MNIST images overfits (final test loss ≥ 1.3 × its minimum); with the layer-wise loss Σ(1 − CKA) toward an untrained ${h.guide === "cnn" ? "CNN" : "FCN"} guide its final test loss is ≤ 0.85 × the unguided one's, its accuracy ≥ 1 point higher, and every mapped layer reaches CKA ≥ 0.8 with the guide.`,
  coverage: {
    level: "partial",
    covered: ["the guidance loss with linear CKA on minibatches of 256 and the official code's layer map and hook points", "an untrained CNN guiding a deep FCN on Fashion-MNIST (the spec's laptop set-up), with and without guidance from the same initialisation", "per-layer CKA to the guide at the end"],
    notCovered: [
      "a trained guide and guidance for the first 300 steps only (the spec's other arms)",
      "ImageNet, ResNet guides, deep ConvNets, RNNs guided by Transformers (the paper's scale)",
      "CKA to the guide per layer over training (only at the end)",
    ],
  },
  deviations: [
    "the guide's conv maps average-pooled to 7 × 7 before CKA (the spec's downsampling idea; conv 4's 3,136 features exceed its ≤ 2,048; the paper aligns full maps)",
    "the guide's representations computed once for the training subset (it is frozen) and carried with the images",
    "a seeded 10,000-image training subset and the first 2,000 test images; pixels standardised with Fashion-MNIST's mean and sd",
    "guidance weight 1 (the spec's L_task + Σ(1 − CKA))",
    "quick size 3,000 images and 50 epochs (20 epochs did not overfit: the gate failed); the full size is the spec's 10,000 images and 30 epochs",
    "minibatches of 256 (the spec, from a second-hand note; the official code's default is 64)",
    "the layer map and hook points follow the official code (FCN 1, 3, 6, 8, before the activations), not the spec's 2, 4, 6, 8",
  ],
  criterionSource: "specs-23-45.md §16 PASS: thresholds marked UNVERIFIED there (a design estimate), declared before any run",
  checks: CHECKS,
  negativeControl: {
    what: "the guide replaced by an untrained copy of the target (an FCN 8 × 256 at PyTorch's init; layers 1, 3, 6, 8 ↔ the target's): the same alignment loss without the convolutional prior. If the prior is what helps, loss_ratio and acc_gain fail; they would pass if aligning to any random network regularised as well",
    hparams: { guide: "fcn" },
  },
  seeds: { smoke: 1, quick: 1, full: 3 },
  needs: [fashionMnistNeed()],
  dataSource: "file",
  playFields: ["nTrain", "epochs", "guide", "guideWeight"],
  hparams: {
    guide: oneOf(["cnn", "fcn"] as const, "cnn", "the untrained guide: the CNN (the claim), or a copy of the target FCN (the control)"),
    nTrain: integer(10000, "training images (a seeded subset)", { min: 256, max: 60000 }),
    nTest: integer(2000, "test images (the first of the test split)", { min: 10, max: 10000 }),
    depth: integer(8, "hidden layers of the target FCN", { min: 4, max: 64 }),
    width: integer(256, "hidden width of the target FCN", { min: 8, max: 4096 }),
    lr: number(1e-3, "Adam learning rate", { min: 0, max: 1, minExclusive: true }),
    batchSize: integer(256, "minibatch size (CKA is computed on each minibatch)", { min: 16, max: 4096 }),
    epochs: integer(30, "epochs", { min: 1, max: 1000 }),
    guideWeight: number(1, "weight λ of Σ(1 − CKA)", { min: 0, max: 100 }),
  },
  validate: (h) => (h.batchSize <= h.nTrain ? [] : [{ key: "batchSize" as const, message: `the batch (${h.batchSize}) is larger than the training set (${h.nTrain})` }]),
  sizes: {
    smoke: { nTrain: 256, nTest: 100, depth: 4, width: 16, epochs: 1, batchSize: 128 },
    quick: { nTrain: 3000, epochs: 50 },
  },
  cost: { smoke: "~15 s (mostly compilation)", quick: "~93 s measured, with the control", full: "~4 min of one core a seed with the control (3 seeds)" },
  calibration: {
    seeds: [100, 101, 102],
    outcome:
      "quick (3,000 images, 50 epochs): FAIL on each seed with the gate reached — the unguided FCN overfits (final/min test loss 1.57, 1.43, 1.50); the guided one aligns (CKA to the guide 0.93–0.998 on every mapped layer, against 0.36–0.94 unguided) but its final test loss is 1.19, 1.11, 1.02 × the unguided one's and its accuracy −0.016, −0.007, +0.012. The control (an untrained FCN as guide) FAILs loss_ratio and acc_gain too (1.13, 1.31, 1.06). 20 epochs did not overfit (1.00–1.10: INCONCLUSIVE), hence 50 at the quick size. A check on the smallest per-layer CKA gain (guided − unguided ≥ 0.1) was tried on these seeds and removed: the first mapped layer is a linear map of the same pixels on both sides, with CKA 0.89–0.94 unguided, so the check could not see the loss's effect; min_cka separates the arms here (unguided minimum 0.36–0.41 < 0.8)",
  },

  async run(ctx): Promise<GuidanceResults> {
    const h = ctx.hparams;
    const fm = loadFashionMnist();
    const k = roleKeys(ctx.seed, ["subset", "guide", "init", "data"]);
    const idx = permutationFromKey(k.subset, fm.train.y.length).subarray(0, h.nTrain);
    const std = (d: Dataset) => Float32Array.from(d.x as Float32Array, (v) => (v - MEAN) / SD);
    const trainImg = takeRows(fm.train, idx);
    const images = std(trainImg);
    const testBase = takeRows(fm.test, Int32Array.from({ length: h.nTest }, (_, i) => i));
    const test: Dataset = { x: std(testBase), xShape: [h.nTest, PIXELS], y: testBase.y, numClasses: 10 };
    let pairs: [number, number][];
    let rep: { blocks: Float32Array[]; widths: number[] };
    if (h.guide === "cnn") {
      pairs = guidanceLayerMap(h.depth, 4);
      rep = await guideRepresentations({ kind: "cnn", convs: cnnGuide(k.guide) }, images, h.nTrain);
    } else {
      // an untrained copy of the target: the same architecture at PyTorch's init, its layers paired with the target's
      pairs = guidanceLayerMap(h.depth, 4).map(([t]) => [t, t]);
      const spec = mlpSpec({ dims: [PIXELS, ...Array.from({ length: h.depth }, () => h.width), 10], activation: "relu", padTo: 1 });
      const params = initTorchLinear(spec, k.guide);
      try {
        rep = await guideRepresentations({ kind: "fcn", params, layers: pairs.map(([, g]) => g) }, images, h.nTrain);
      } finally {
        treeDispose(params);
      }
    }
    const train = withGuide(images, h.nTrain, rep, trainImg.y as Int32Array);
    const [i1, i2] = [k.init, k.data];
    // both arms from the same initialisation and batch order: the keys are copied by re-deriving them
    const arm = (name: "unguided" | "guided") =>
      ctx.phase(name, () => {
        const r = roleKeys(ctx.seed, ["subset", "guide", "init", "data"]);
        r.subset.dispose();
        r.guide.dispose();
        return trainArm(ctx, name, h, train, test, pairs, rep.widths, r.init, r.data);
      });
    i1.dispose();
    i2.dispose();
    const unguided = await arm("unguided");
    const guided = await arm("guided");
    return { guide: h.guide, pairs, unguided, guided };
  },

  figures(points: P[], v) {
    const ps = points.slice(0, 3);
    const curve = (what: "test_loss" | "test_acc") => ({
      kind: "line" as const,
      title: what === "test_loss" ? "test loss" : "test accuracy",
      xLabel: "epoch",
      yLabel: what === "test_loss" ? "test cross-entropy" : "test accuracy",
      series: ps.flatMap((p) => [
        { name: `unguided s${p.seed}`, x: p.results.unguided[what].map((_, i) => i + 1), y: p.results.unguided[what] },
        { name: `guided s${p.seed}`, x: p.results.guided[what].map((_, i) => i + 1), y: p.results.guided[what] },
      ]),
      width: 360,
    });
    const first = ps[0]?.results;
    const cka = first
      ? {
          kind: "bar" as const,
          title: `CKA to the ${first.guide.toUpperCase()} guide at the end (seed ${ps[0].seed})`,
          xLabel: "target layer ↔ guide layer",
          yLabel: "linear CKA",
          groups: first.pairs.map(([t, g]) => `${t} ↔ ${g}`),
          series: [
            { name: "unguided", values: first.unguided.cka },
            { name: "guided", values: first.guided.cka },
          ],
          width: 360,
        }
      : null;
    return [{ name: "guidance", title: "Guidance by an untrained network: test loss, accuracy and alignment", subtitle: v.verdict, panels: [curve("test_loss"), curve("test_acc"), ...(cka ? [cka] : [])] }];
  },
});
