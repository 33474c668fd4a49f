/**
 * Changing the training data distribution to reduce simplicity bias (Nguyen, Haddad, Gan, Mirzasoleiman,
 * NeurIPS 2024: USEFUL), on its theory's synthetic set-up.
 *
 * Claim: early in training the network's outputs separate the examples whose fast-learnable feature it has
 * already picked up from those that carry only the slow-learnable feature; per class, the 2-means cluster
 * with the higher loss is that slow-learnable group, and upsampling it once before retraining from scratch
 * makes the network learn the slow feature better (higher accuracy on the fast-feature-absent test
 * subpopulation), while upsampling as many random examples does not.
 * Set-up (spec §11 / calibration-b, "as run"): x ∈ R^{4×50}, patch 1 = y·v_e (β_e = 1) for α = 90% of the
 * examples, else noise; patch 2 = 0.2·y·v_a always; patches 3–4 noise N(0, I/50); n = 2,000 train, 20,000
 * test. Two-layer ReLU patch CNN, 20 + 20 filters, init N(0, 0.1²), full-batch GD on the logistic loss,
 * lr 0.1, 500 iterations; t_sep = 50 (10% of the budget). One run per seed (`--seed s` runs s, s + 1, …).
 * Criteria: CHECKS below, declared once (calibration-b.md "Proposed criteria for paper 33 (synthetic)",
 * measured in PyTorch, replacing the spec's design estimate), each a mean over the seeds. The spec's own
 * "purity ≥ 80% and +5 points" is shown in the figure, not judged (calibration: not reached by a faithful
 * implementation).
 * Negative control (the `control` arm of every run): USEFUL with the cluster choice inverted and the size
 * matched — per class, as many examples as USEFUL upsamples, drawn from the lower-loss cluster of the same
 * 2-means — judged by the same checks in USEFUL's place.
 * Cost on one core: smoke ~3 s, quick 41 s measured 2026-12-07 (5 seeds), full the same set-up (quick = full here).
 * Run: genlab run useful-synthetic --quick
 */
import { numpy as np, type Array } from "@jax-js/jax";
import { keyFromSeed, permutationFromKey, roleKeys, uniformFromKey, type Key } from "../../src/core/prng.ts";
import { treeDispose } from "../../src/core/tree.ts";
import type { Dataset } from "../../src/data/dataset.ts";
import { patchFeatureData } from "../../src/data/patchFeatures.ts";
import { logisticLoss, stableSoftplus } from "../../src/nn/losses.ts";
import { applyPatchCnn, initPatchCnn, type PatchCnnParams, type PatchCnnSpec } from "../../src/nn/patchCnn.ts";
import { sgd } from "../../src/optim/aliases.ts";
import type { OptState } from "../../src/optim/transform.ts";
import { upsample, usefulSlowCluster } from "../../src/scores/useful.ts";
import { toDevice } from "../../src/train/loop.ts";
import { defineExperiment, integer, number, oneOf, type CheckDecl, type Point } from "../../src/declare/kit.ts";

export const USEFUL_ARMS = ["gd", "useful", "random", "control"] as const;
type Arm = (typeof USEFUL_ARMS)[number];

type ArmResult = { upsampled: number; purity: number | null; recall: number | null; test_acc: number; absent_test_acc: number; present_test_acc: number };
export type UsefulSyntheticResults = {
  arms: Record<Arm, ArmResult>;
  tsep_train_acc: number;
  absent_fraction_train: number;
  /** Control rows drawn a second time because a class's lower-loss cluster was smaller than its higher-loss one. */
  control_repeats: number;
};

/**
 * The negative control of USEFUL: the cluster choice inverted, the size matched. Per class, as many examples
 * as `slow` (USEFUL's higher-loss cluster) holds of that class, drawn at random from `low` (the lower-loss
 * cluster of the same 2-means); where a class's lower-loss cluster is the smaller, it is cycled through again
 * (counted in `repeats`). Sorted indices; consumes the key.
 */
export function invertedClusterMatched(slow: Int32Array, low: Int32Array, labels: ArrayLike<number>, numClasses: number, key: Key): { idx: Int32Array; repeats: number } {
  const u = uniformFromKey(key, labels.length);
  const out: number[] = [];
  let repeats = 0;
  for (let c = 0; c < numClasses; c++) {
    const want = globalThis.Array.from(slow).filter((i) => labels[i] === c).length;
    if (want === 0) continue;
    const pool = globalThis.Array.from(low).filter((i) => labels[i] === c).sort((a, b) => u[a] - u[b] || a - b);
    if (pool.length === 0) throw new Error(`class ${c}: USEFUL upsamples ${want} examples but its lower-loss cluster is empty`);
    for (let j = 0; j < want; j++) out.push(pool[j % pool.length]);
    repeats += Math.max(0, want - pool.length);
  }
  return { idx: Int32Array.from(out).sort(), repeats };
}

const lossOf = (spec: PatchCnnSpec) => (p: PatchCnnParams, x: Array, y: Array) => {
  const z = applyPatchCnn(spec, p, x);
  return logisticLoss(z.reshape([z.shape[0]]), y.astype(z.dtype));
};

/** Per-example outputs f(x) and logistic losses softplus(−s·f) (host). */
async function outputsAndLosses(spec: PatchCnnSpec, params: PatchCnnParams, data: Dataset): Promise<{ out: Float32Array; loss: Float32Array }> {
  const { x, y } = toDevice(data);
  const z = applyPatchCnn(spec, params, x).reshape([data.xShape[0]]);
  const s = y.astype(z.dtype).mul(2).sub(1);
  const loss = stableSoftplus(z.ref.mul(s).neg());
  return { out: (await z.data()) as Float32Array, loss: (await loss.data()) as Float32Array };
}

async function accuracies(spec: PatchCnnSpec, params: PatchCnnParams, test: Dataset, hasFast: Uint8Array) {
  const { out } = await outputsAndLosses(spec, params, test);
  let all = 0, absent = 0, nAbsent = 0, present = 0;
  for (let i = 0; i < out.length; i++) {
    const ok = (out[i] > 0 ? 1 : 0) === test.y[i] ? 1 : 0;
    all += ok;
    if (hasFast[i]) present += ok;
    else {
      absent += ok;
      nAbsent++;
    }
  }
  return { test_acc: all / out.length, absent_test_acc: absent / nAbsent, present_test_acc: present / (out.length - nAbsent) };
}

type P = Point<Record<string, string | number>, UsefulSyntheticResults>;

/** The arm judged in USEFUL's place: USEFUL itself, or the control (the inverted cluster choice). */
const judged = (arm: "reproduction" | "control"): Arm => (arm === "control" ? "control" : "useful");
const armOf = (r: UsefulSyntheticResults, a: Arm): ArmResult => {
  const x = r.arms?.[a];
  if (!x) throw new Error(`the ${a} arm was not run`);
  return x;
};
const meanOver = (points: P[], f: (r: UsefulSyntheticResults) => number): number => {
  if (points.length === 0) throw new Error("no seeds");
  return points.reduce((s, p) => s + f(p.results), 0) / points.length;
};
const defined = (v: number | null, what: string): number => {
  if (v === null) throw new Error(`${what} is undefined (nothing upsampled, or no absent examples)`);
  return v;
};

/** The criteria, once (calibration-b.md "Proposed criteria for paper 33 (synthetic)"): means over the seeds. */
const CHECKS: CheckDecl<P>[] = [
  {
    id: "purity",
    role: "claim",
    what: "mean purity of the upsampled cluster (fraction lacking the fast feature; control: the inverted cluster)",
    cmp: ">=",
    threshold: 0.7,
    source: "calibration-b.md 'Proposed criteria for paper 33 (synthetic)' (measured 0.783, base rate 0.11)",
    over: "all",
    value: ({ points, arm }) => meanOver(points, (r) => defined(armOf(r, judged(arm)).purity, "purity")),
  },
  {
    id: "recall",
    role: "claim",
    what: "mean recall of the fast-feature-absent training examples by the upsampled cluster (control: the inverted cluster)",
    cmp: ">=",
    threshold: 0.9,
    source: "calibration-b.md 'Proposed criteria for paper 33 (synthetic)' (measured 0.97)",
    over: "all",
    value: ({ points, arm }) => meanOver(points, (r) => defined(armOf(r, judged(arm)).recall, "recall")),
  },
  {
    id: "absent_gain",
    role: "claim",
    what: "mean absent-subpopulation test accuracy gain of USEFUL over GD, in points (control: the inverted cluster)",
    cmp: ">=",
    threshold: 1.5,
    source: "calibration-b.md 'Proposed criteria for paper 33 (synthetic)' (measured +2.4, min +1.6)",
    over: "all",
    value: ({ points, arm }) => 100 * meanOver(points, (r) => armOf(r, judged(arm)).absent_test_acc - armOf(r, "gd").absent_test_acc),
  },
  {
    id: "random_gain",
    role: "claim",
    what: "mean absent-subpopulation gain of random upsampling (as many examples) over GD, in points",
    cmp: "<=",
    threshold: 0.7,
    source: "calibration-b.md 'Proposed criteria for paper 33 (synthetic)' (measured +0.16, max +0.55)",
    over: "all",
    value: ({ points }) => 100 * meanOver(points, (r) => armOf(r, "random").absent_test_acc - armOf(r, "gd").absent_test_acc),
  },
];

export const usefulSynthetic = defineExperiment({
  id: "useful-synthetic",
  paper: 33,
  title: "USEFUL on the simplicity-bias patch data: the upsampled cluster is the slow-learnable one, and it helps the fast-feature-absent examples",
  claim: (h) =>
    `On patch data with a fast feature in ${Math.round(100 * h.alpha)}% of ${h.n} examples, 2-means on the outputs at iteration ${h.tSep} finds the examples without the fast feature (purity ≥ 0.7, recall ≥ 0.9), and upsampling them once lifts absent-subpopulation test accuracy by ≥ 1.5 points over GD while random upsampling gains ≤ 0.7 (means over the seeds).`,
  coverage: {
    level: "partial",
    covered: ["the synthetic mechanism: per-class 2-means on early outputs, the higher-loss cluster, upsampling once and retraining from scratch", "purity and recall of the upsampled cluster", "GD vs USEFUL vs random upsampling on the absent subpopulation"],
    notCovered: ["the ⟨w, v_e⟩ / ⟨w, v_a⟩ alignment curves of the spec's plot", "SAM on the synthetic data (SAM is run on Fashion-MNIST, useful-fmnist)", "the cubic activation (calibration: the slow feature is never learned within these budgets)"],
  },
  deviations: [
    "patch construction is the spec's own (the paper's exact patch data is unverified), as calibrated in calibration-b",
    "t_sep = 10% of the budget (calibration-b) instead of the spec's 'first step with train accuracy > 0.9α', which gives purity ≈ 0.2",
    "ReLU activation (calibration-b: cubic never learns β_a = 0.2 here)",
    "the negative control is size-matched per class (calibration-b's broken variant upsampled the whole lower-loss cluster, ~1,737 examples: −2.8 points)",
  ],
  criterionSource: "calibration-b.md 'Proposed criteria for paper 33 (synthetic)' (measured in PyTorch), replacing spec §11's design estimate",
  checks: CHECKS,
  negativeControl: {
    what: "the control arm of every run: USEFUL with the cluster choice inverted at matched size — per class, as many examples as USEFUL upsamples, drawn at random from the lower-loss cluster of the same 2-means — judged in USEFUL's place by every check (purity, recall, absent-subpopulation gain)",
    inRun: true,
  },
  dataSource: "generated",
  hparams: {
    n: integer(2000, "training examples", { min: 20, max: 100000 }),
    nTest: integer(20000, "test examples", { min: 100, max: 1000000 }),
    d: integer(50, "patch dimension", { min: 2, max: 4096 }),
    patches: integer(4, "patches per example", { min: 2, max: 64 }),
    alpha: number(0.9, "fraction of examples carrying the fast feature", { min: 0, max: 1 }),
    betaFast: number(1, "fast feature strength β_e", { min: 0, max: 100 }),
    betaSlow: number(0.2, "slow feature strength β_a", { min: 0, max: 100 }),
    filters: integer(20, "filters per sign", { min: 1, max: 4096 }),
    activation: oneOf(["relu", "cube"], "relu", "filter activation"),
    initStd: number(0.1, "init std of the filters", { min: 0, max: 10 }),
    lr: number(0.1, "GD learning rate", { min: 0, minExclusive: true, max: 100 }),
    iterations: integer(500, "full-batch GD iterations of every training", { min: 2, max: 1000000 }),
    tSep: integer(50, "iteration at which the outputs are clustered", { min: 1, max: 1000000 }),
  },
  validate: (h) => [...(h.tSep >= h.iterations ? [{ key: "tSep" as const, message: `must be below the ${h.iterations} iterations` }] : [])],
  sizes: { smoke: { n: 200, nTest: 1000, iterations: 20, tSep: 5 }, quick: {} },
  seeds: { smoke: 1, quick: 5, full: 5 },
  cost: { smoke: "~3 s", quick: "~41 s measured, with the control", full: "~40 s" },
  calibration: { seeds: [100, 101, 102], outcome: "PASS over seeds 100–102 (purity, recall, gain over absent examples, random gain within thresholds)" },

  async run(ctx): Promise<UsefulSyntheticResults> {
    const h = ctx.hparams;
    const spec: PatchCnnSpec = { patches: h.patches, d: h.d, filters: h.filters, activation: h.activation, initStd: h.initStd };
    // every key from the run's seed (7919 + seed: the seeds 0–4 of the earlier multi-seed runs give the same numbers)
    const k = roleKeys(7919 + ctx.seed, ["train", "test", "init", "cluster", "random", "control"]);
    const pspec = { patches: h.patches, d: h.d, alpha: h.alpha, betaFast: h.betaFast, betaSlow: h.betaSlow, sigma: 1 };
    const tr = patchFeatureData({ ...pspec, n: h.n }, k.train);
    const te = patchFeatureData({ ...pspec, n: h.nTest }, k.test);
    const init = initPatchCnn(spec, k.init);
    const initHost = { w: await init.w.ref.data(), u: await init.u.ref.data() };
    treeDispose(init);
    const freshInit = (): PatchCnnParams => ({ w: np.array(initHost.w as Float32Array<ArrayBuffer>, { shape: [spec.d, spec.filters] }), u: np.array(initHost.u as Float32Array<ArrayBuffer>, { shape: [spec.d, spec.filters] }) });
    const loss = lossOf(spec);
    const gd = async (name: string, data: Dataset, steps: number, params = freshInit(), optState?: OptState) =>
      ctx.train<PatchCnnParams>({ name, params, optState, loss, optimizer: sgd(h.lr), train: data, steps, batchSize: null, key: keyFromSeed(0) /* full batch: unused */, log: { every: 0, perDecade: 0 } });
    // GD to t_sep, cluster its outputs, then continue GD to the end (full batch: this is the plain GD arm)
    const early = await gd("gd-tsep", tr.data, h.tSep);
    const { out, loss: l } = await outputsAndLosses(spec, { w: early.params.w.ref, u: early.params.u.ref }, tr.data);
    let tsepCorrect = 0;
    for (let i = 0; i < h.n; i++) tsepCorrect += (out[i] > 0 ? 1 : 0) === tr.data.y[i] ? 1 : 0;
    const rest = await gd("gd", tr.data, h.iterations - h.tSep, early.params, early.optState);
    treeDispose(rest.optState);
    const arms = {} as Record<Arm, ArmResult>;
    arms.gd = { upsampled: 0, purity: null, recall: null, ...(await accuracies(spec, rest.params, te.data, te.hasFast)) };
    const absentTrain = globalThis.Array.from(tr.hasFast).filter((v) => !v).length;
    const describe = (idx: Int32Array) => {
      const hits = globalThis.Array.from(idx).filter((i) => !tr.hasFast[i]).length;
      return { upsampled: idx.length, purity: idx.length ? hits / idx.length : null, recall: absentTrain ? hits / absentTrain : null };
    };
    // USEFUL's higher-loss cluster, and the lower-loss cluster of the same 2-means (the same key twice)
    const slow = usefulSlowCluster(out, 1, l, tr.data.y, 2, k.cluster.ref);
    const low = usefulSlowCluster(out, 1, l, tr.data.y, 2, k.cluster, { higher: false });
    const control = invertedClusterMatched(slow, low, tr.data.y, 2, k.control);
    const rand = Int32Array.from(permutationFromKey(k.random, h.n).subarray(0, slow.length)).sort();
    for (const [arm, idx] of [["useful", slow], ["random", rand], ["control", control.idx]] as const) {
      const o = await gd(arm, upsample(tr.data, idx, 1), h.iterations);
      treeDispose(o.optState);
      arms[arm] = { ...describe(idx), ...(await accuracies(spec, o.params, te.data, te.hasFast)) };
    }
    return { arms, tsep_train_acc: tsepCorrect / h.n, absent_fraction_train: absentTrain / h.n, control_repeats: control.repeats };
  },

  figures(points: P[], v) {
    const rs = points.map((p) => p.results);
    const mean = (f: (r: UsefulSyntheticResults) => number) => rs.reduce((a, r) => a + f(r), 0) / rs.length;
    const sd = (f: (r: UsefulSyntheticResults) => number) => {
      const m = mean(f);
      return rs.length > 1 ? Math.sqrt(rs.reduce((a, r) => a + (f(r) - m) ** 2, 0) / (rs.length - 1)) : 0;
    };
    const arms = USEFUL_ARMS;
    const purity = mean((r) => r.arms.useful.purity ?? NaN);
    const gain = 100 * mean((r) => r.arms.useful.absent_test_acc - r.arms.gd.absent_test_acc);
    return [
      {
        name: "useful-synthetic",
        title: "USEFUL on simplicity-bias patch data",
        subtitle: `mean ± sd over ${rs.length} seeds (${points.map((p) => p.seed).join(", ")}); purity = fraction of the upsampled examples lacking the fast feature; control = the lower-loss cluster at matched size · spec's design estimate (purity ≥ 0.8: ${purity.toFixed(3)}, gain ≥ +5 points: ${gain.toFixed(2)}) shown, not judged → ${v.verdict}`,
        panels: [
          { kind: "bar", title: "test accuracy on the fast-feature-absent subpopulation", xLabel: "arm", yLabel: "accuracy", groups: [...arms], series: [{ name: "absent", values: arms.map((a) => mean((r) => r.arms[a].absent_test_acc)), err: arms.map((a) => sd((r) => r.arms[a].absent_test_acc)) }], width: 420 },
          { kind: "bar", title: "the upsampled examples", xLabel: "arm", yLabel: "fraction", groups: ["purity", "recall"], series: (["useful", "random", "control"] as const).map((a) => ({ name: a, values: [mean((r) => r.arms[a].purity ?? NaN), mean((r) => r.arms[a].recall ?? NaN)] })), width: 420 },
        ],
      },
    ];
  },
});
