/**
 * Domain-Specific Risk Minimization for Out-of-Distribution Generalization (Zhang et al., KDD 2023) on Rotated
 * Fashion-MNIST (specs-23-45.md §10, the laptop reproduction; DomainBed's Rotated MNIST construction).
 *
 * Claim: with one head per source domain and a pooled head on a shared featurizer (the DRM loss), choosing heads by
 * prediction entropy does not hurt the source domains (DRM-select ≥ ERM − 0.5 points on every source domain) and
 * online entropy-weighted steering beats ERM on the unseen target domain (DRM-steer ≥ ERM), means over seeds (the
 * spec); issue 25 adds, on the target: DRM-select within 2 points of the best head and ≥ 5 points above ERM.
 * Set-up (the spec): Fashion-MNIST training images rotated by 0°, 15°, 30°, 45°, 60°, 2,000 disjoint random images
 * per source domain; the 75° domain is the target. Every domain's accuracy is measured on the 10,000 test images
 * rotated by its angle (a first calibration on 400 held-out images per source had a paired noise of ≈ 3 points, six
 * times the spec's 0.5-point source margin); MLP featurizer 784-256-128 (the spec's substitute for the
 * CNN), PyTorch's default init; Adam 1e-3, 3,000 steps of 32 images per source domain; DRM-select per test batch
 * of 64 over all 6 heads; DRM-steer: batches of 64, β = 0.9, γ = 1, one Adam step (lr 1e-3) on the heads per batch,
 * heads kept from batch to batch (the official DRMFull); ERM: one head on the same minibatches pooled (the same training key: same batches, same featurizer init).
 * Negative control (hparams): the domain labels made uninformative (`shuffleDomains`: source rows dealt back at
 * random into five domains of the same size). The target claims should fail without domain-specific heads — unless
 * the gain came from having several heads rather than from the domains.
 * Cost on one core: see `cost`.
 * Run: genlab run drm-rotated-fashion --quick
 */
import { roleKeys } from "../../src/core/prng.ts";
import { takeRows, type Dataset } from "../../src/data/dataset.ts";
import { rotateImages, rotatedImageDomains, shuffleDomainMembership } from "../../src/data/domains.ts";
import { loadFashionMnist } from "../../src/io/fashionMnist.ts";
import { headCount, steerAndAdapt } from "../../src/train/domainHeads.ts";
import { defineExperiment, fashionMnistNeed, integer, number, bool, type CheckDecl, type Point } from "../../src/declare/kit.ts";
import { accuracyOf, chosenHistogram, headsReport, trainHeads } from "./drm.ts";

export type DrmFashionResults = {
  angles: number[];
  target_angle: number;
  /** source domains (the test split rotated by each): DRM-select's and ERM's accuracy per domain */
  source_select: number[];
  source_erm: number[];
  /** target: every DRM head's accuracy (domain heads, then pooled), selection, steering and ERM */
  target_head_acc: number[];
  target_oracle: number;
  target_select: number;
  target_steer: number;
  target_erm: number;
  /** ERM's mean accuracy over the source domains */
  erm_source_mean: number;
  chosen_hist: number[];
  /** rows pseudo-labelled while steering, and the fraction of those that were right */
  steer_pseudo: number;
  steer_pseudo_acc: number | null;
  seconds: { drm: number; erm: number };
};

type P = Point<Record<string, number | boolean>, DrmFashionResults>;

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const meanOf = (points: P[], f: (r: DrmFashionResults) => number) => mean(points.map((p) => f(p.results)));

const CHECKS: CheckDecl<P>[] = [
  {
    id: "erm_source_acc",
    role: "gate",
    what: "ERM's mean accuracy on the source domains (rotated test images): the sources are learned",
    cmp: ">=",
    threshold: 0.75,
    source: "design estimate (an MLP reaches ≈ 0.80–0.85 on 8,000 Fashion-MNIST images)",
    value: ({ points }) => points[0].results.erm_source_mean,
  },
  {
    id: "target_shift",
    role: "gate",
    what: "ERM's mean source accuracy − its target accuracy: the held-out rotation is a distribution shift for ERM",
    cmp: ">=",
    threshold: 0.02,
    source: "design estimate (the regime the claim is about: a target on which ERM loses accuracy)",
    value: ({ points }) => points[0].results.erm_source_mean - points[0].results.target_erm,
    reach: "a target further from the sources (--set targetAngle=…)",
  },
  {
    id: "source_select_vs_erm",
    role: "claim",
    what: "min over source domains of the mean over seeds of DRM-select − ERM (rotated test images)",
    cmp: ">=",
    threshold: -0.005,
    source: "specs-23-45.md §10 PASS (Rotated Fashion-MNIST: DRM-select ≥ ERM − 0.5 points on every source domain, mean of 3 seeds; UNVERIFIED)",
    over: "all",
    value: ({ points }) => Math.min(...points[0].results.source_select.map((_, j) => meanOf(points, (r) => r.source_select[j] - r.source_erm[j]))),
  },
  {
    id: "target_steer_vs_erm",
    role: "claim",
    what: "target: mean over seeds of DRM-steer − ERM",
    cmp: ">=",
    threshold: 0,
    source: "specs-23-45.md §10 PASS (Rotated Fashion-MNIST: DRM-steer ≥ ERM on the target, mean of 3 seeds; UNVERIFIED)",
    over: "all",
    value: ({ points }) => meanOf(points, (r) => r.target_steer - r.target_erm),
  },
  {
    id: "target_select_vs_oracle",
    role: "claim",
    what: "target: mean over seeds of DRM-select − the best head",
    cmp: ">=",
    threshold: -0.02,
    source: "issue 25, row 32 (DRM's selection within 2 points of the oracle head on the held-out domain; a design estimate)",
    over: "all",
    value: ({ points }) => meanOf(points, (r) => r.target_select - r.target_oracle),
  },
  {
    id: "target_select_vs_erm",
    role: "claim",
    what: "target: mean over seeds of DRM-select − ERM",
    cmp: ">=",
    threshold: 0.05,
    source: "issue 25, row 32 (≥ 5 points above ERM on the held-out domain; a design estimate)",
    over: "all",
    value: ({ points }) => meanOf(points, (r) => r.target_select - r.target_erm),
  },
];

export const drmRotatedFashion = defineExperiment({
  id: "drm-rotated-fashion",
  paper: 32,
  title: "DRM on Rotated Fashion-MNIST: domain heads, entropy selection and steering against ERM on a held-out rotation",
  claim: (h) =>
    `Trained on Fashion-MNIST rotated by ${ANGLES.filter((_, j) => j !== h.targetDomain).join("°, ")}° (${h.perDomain.toLocaleString("en")} images each), a DRM model (MLP featurizer, one head per domain and a pooled one) keeps the sources (DRM-select ≥ ERM − 0.5 points on each), and on the held-out ${ANGLES[h.targetDomain]}° domain DRM-steer ≥ ERM, DRM-select within 2 points of its best head and ≥ 5 points above ERM (means over seeds).`,
  coverage: {
    level: "partial",
    covered: [
      "the DRM loss (one minibatch per source domain), min-entropy selection per test batch over all heads, entropy-weighted steering with online pseudo-label updates of the heads (the official DRMFull, label mode 'drm')",
      "ERM trained on the same minibatches; the best head on the target as the oracle; accuracy on every source domain (the test split under its rotation)",
    ],
    notCovered: ["the CNN featurizer of the spec's first plan (the spec's own cost note replaces it by an MLP)", "the DomainBed benchmarks with ImageNet-pretrained ResNet-50 (PACS, VLCS, OfficeHome, TerraIncognita, DomainNet)", "the official test-time hyper-parameter grid (α, β, γ, steps chosen by the best test accuracy: an oracle selection)"],
  },
  deviations: [
    "MLP featurizer 784-256-128 instead of the 2-conv CNN (the spec's cost note: the CNN needs ≈ 48 min a run)",
    "steering: the confidence is max p of the mixture (weights normalised over all six heads, summed over the five domain heads, as the official code); the official code then takes a second softmax of p, under which no image of 10 classes could reach β = 0.9",
    "γ = 1 and one Adam step per batch with the training lr (α = 1): the official code has no defaults (it reports the best of a grid on the test domain); the spec's β = 0.9 and batch 64",
    "one seeded draw of 2,000 training images per source domain; accuracies on the whole test split rotated by each domain's angle (DomainBed holds out 20% of each domain: 400 images here, too noisy for a 0.5-point margin); no model selection on validation data (the last step is evaluated)",
  ],
  criterionSource: "specs-23-45.md §10 PASS (Rotated Fashion-MNIST part, UNVERIFIED thresholds) and issue 25 row 32 (the target criteria), declared before any run",
  checks: CHECKS,
  negativeControl: {
    what: "domain labels made uninformative (shuffleDomains: the source images dealt back at random into five domains of the same size), DRM otherwise unchanged: the target claims should fail; they would pass only if the gain came from several heads rather than from domain-specific ones. Calibration: the control fails only target_select_vs_erm, as the reproduction does — at this size it cannot tell domain-specific heads from several heads",
    hparams: { shuffleDomains: true },
  },
  seeds: { smoke: 1, quick: 1, full: 3 },
  needs: [fashionMnistNeed()],
  dataSource: "file",
  playFields: ["targetDomain", "steps", "perDomain"],
  hparams: {
    targetDomain: integer(5, "which rotation (0°, 15°, …, 75°) is the held-out target", { min: 0, max: 5 }),
    perDomain: integer(2000, "images per rotation (disjoint random subsets of the training split)", { min: 50, max: 10000 }),
    nTest: integer(10000, "test images (the first of the test split), rotated for every domain's accuracy", { min: 64, max: 10000 }),
    width: integer(256, "featurizer hidden width", { min: 4, max: 4096 }),
    features: integer(128, "feature width", { min: 2, max: 4096 }),
    lr: number(1e-3, "Adam learning rate", { min: 0, max: 1, minExclusive: true }),
    batchPerDomain: integer(32, "images of every source domain per step", { min: 1, max: 10000 }),
    steps: integer(3000, "Adam steps", { min: 1, max: 1_000_000 }),
    testBatch: integer(64, "test images per selection / steering batch", { min: 1, max: 10000 }),
    beta: number(0.9, "steering: pseudo-label confidence threshold β", { min: 0, max: 1.1 }),
    gamma: number(1, "steering: entropy exponent γ (< 0: each image's argmin-entropy head)", { min: -10, max: 10 }),
    shuffleDomains: bool(false, "deal the source images into domains at random (the negative control)"),
  },
  validate: (h) => (h.batchPerDomain <= h.perDomain ? [] : [{ key: "batchPerDomain" as const, message: `is larger than a source domain's training images (${h.perDomain})` }]),
  sizes: {
    smoke: { perDomain: 100, nTest: 200, width: 16, features: 8, steps: 10, testBatch: 16 },
    quick: {},
  },
  cost: { smoke: "~5 s", quick: "~65–75 s measured, with the control (1 seed)", full: "~3.5 min of one core (3 seeds and the control)" },
  calibration: {
    seeds: [100, 101, 102],
    outcome:
      "quick = full but for the number of seeds (1). FAIL on each seed, gates reached (ERM 0.81 on the sources, 0.28–0.41 on 75°: an MLP does not carry rotations over). Sources: DRM-select − ERM at worst −0.85, −0.78, −0.88 points (one domain each; the others within ±1.3) < −0.5. Target: DRM-select − ERM +5.1, +1.9, −0.5 points; DRM-select − best head −3.6, −2.4, −4.4 (the 60° head is best); DRM-steer − ERM +3.7, −1.0, −4.7 (339–474 of the 10,000 images pseudo-labelled, 49–64% of them right). The control (shuffled domain labels) fails source_select_vs_erm and target_select_vs_erm on each. Earlier versions: 400 held-out images per source (paired noise ≈ 3 points, replaced by the rotated test split); ERM and DRM from separate keys and steering weights normalised over the domain heads only (both changed to the official/paired form before these numbers)",
  },

  async run(ctx): Promise<DrmFashionResults> {
    const h = ctx.hparams;
    const fm = loadFashionMnist();
    const roles = ["domains", "shuffle", "train"] as const;
    const k = roleKeys(ctx.seed, roles);
    k.train.dispose();
    // ERM and DRM from one training key: the same minibatches in the same order, and the same featurizer init
    const trainKey = () => {
      const r = roleKeys(ctx.seed, roles);
      r.domains.dispose();
      r.shuffle.dispose();
      return r.train;
    };
    const sourceAngles = ANGLES.filter((_, j) => j !== h.targetDomain);
    let train = rotatedImageDomains(fm.train, sourceAngles, h.perDomain, k.domains, [28, 28]);
    if (h.shuffleDomains) train = shuffleDomainMembership(train, k.shuffle);
    else k.shuffle.dispose();
    // every domain is evaluated on the whole test split under its rotation (10,000 images, the same for both models:
    // the test-sampling noise of the difference is ≈ 0.4 points; the training noise of a seed remains, hence the means over seeds)
    const testSet = takeRows(fm.test, Int32Array.from({ length: Math.min(h.nTest, fm.test.y.length) }, (_, i) => i));
    const rotatedTest = (a: number): Dataset => ({ ...testSet, x: rotateImages(testSet.x as Float32Array, testSet.y.length, 28, 28, a) });
    const sourceTests = sourceAngles.map(rotatedTest);
    const target = rotatedTest(ANGLES[h.targetDomain]);
    const settings = { hidden: [h.width, h.features], lr: h.lr, batchPerDomain: h.batchPerDomain, steps: h.steps };
    const erm = await ctx.phase("erm", async () => {
      const m = await trainHeads(ctx, "erm", train, 10, false, settings, trainKey());
      try {
        const src = await Promise.all(sourceTests.map(async (d) => (await headsReport(m, d, h.testBatch)).head_acc[0]));
        return { source: src, target: (await headsReport(m, target, h.testBatch)).head_acc[0], seconds: m.seconds };
      } finally {
        m.dispose();
      }
    });
    const drm = await ctx.phase("drm", async () => {
      const m = await trainHeads(ctx, "drm", train, 10, true, settings, trainKey());
      try {
        const src = await Promise.all(sourceTests.map(async (d) => (await headsReport(m, d, h.testBatch)).select_acc));
        const t = await headsReport(m, target, h.testBatch);
        const steer = await steerAndAdapt(m.spec, m.params, target.x as Float32Array, target.y.length, { batch: h.testBatch, beta: h.beta, gamma: h.gamma, lr: h.lr, steps: 1 }, target.y);
        return {
          source: src,
          headAcc: t.head_acc,
          select: t.select_acc,
          chosen: chosenHistogram(t.chosen, headCount(m.spec)),
          steer: accuracyOf(steer.predictions, target.y),
          pseudo: steer.pseudoLabelled,
          pseudoAcc: pseudoAccuracy(steer.pseudoCorrect, steer.pseudoLabelled),
          seconds: m.seconds,
        };
      } finally {
        m.dispose();
      }
    });
    return {
      angles: ANGLES.filter((_, j) => j !== h.targetDomain),
      target_angle: ANGLES[h.targetDomain],
      source_select: drm.source,
      source_erm: erm.source,
      target_head_acc: drm.headAcc,
      target_oracle: Math.max(...drm.headAcc),
      target_select: drm.select,
      target_steer: drm.steer,
      target_erm: erm.target,
      erm_source_mean: mean(erm.source),
      chosen_hist: drm.chosen,
      steer_pseudo: drm.pseudo,
      steer_pseudo_acc: drm.pseudoAcc,
      seconds: { drm: drm.seconds, erm: erm.seconds },
    };
  },

  figures(points: P[], v) {
    const ps = points.slice(0, 5);
    const first = ps[0]?.results;
    const target = {
      kind: "bar" as const,
      title: `target (${first?.target_angle ?? "?"}°) accuracy`,
      xLabel: "seed",
      yLabel: "accuracy on the held-out rotation",
      groups: ps.map((p) => `seed ${p.seed}`),
      series: [
        { name: "ERM", values: ps.map((p) => p.results.target_erm) },
        { name: "DRM pooled head", values: ps.map((p) => p.results.target_head_acc.at(-1) ?? NaN) },
        { name: "DRM-select", values: ps.map((p) => p.results.target_select) },
        { name: "DRM-steer", values: ps.map((p) => p.results.target_steer) },
        { name: "best head (oracle)", values: ps.map((p) => p.results.target_oracle) },
      ],
      width: 420,
    };
    const sources = first
      ? {
          kind: "bar" as const,
          title: `source domains, rotated test images (seed ${ps[0].seed})`,
          xLabel: "rotation",
          yLabel: "accuracy",
          groups: first.angles.map((a) => `${a}°`),
          series: [
            { name: "ERM", values: first.source_erm },
            { name: "DRM-select", values: first.source_select },
          ],
          width: 380,
        }
      : null;
    const hist = first
      ? {
          kind: "bar" as const,
          title: `head chosen per target batch (seed ${ps[0].seed})`,
          xLabel: "head",
          yLabel: "test batches",
          groups: [...first.angles.map((a) => `${a}°`), "pooled"],
          series: [{ name: "chosen", values: first.chosen_hist }],
          width: 380,
        }
      : null;
    return [{ name: "drm-rotated-fashion", title: "DRM on Rotated Fashion-MNIST: sources and the held-out rotation", subtitle: v.verdict, panels: [target, ...(sources ? [sources] : []), ...(hist ? [hist] : [])] }];
  },
});

const ANGLES = [0, 15, 30, 45, 60, 75];

/** Fraction of the pseudo-labels that were right (null: none was made); the count must exist, labels were given. */
function pseudoAccuracy(correct: number | null, labelled: number): number | null {
  if (labelled === 0) return null;
  if (correct === null) throw new Error("drm-rotated-fashion: steering was given the target labels but counted no correct pseudo-labels");
  return correct / labelled;
}
