/**
 * The Pitfalls of Simplicity Bias in Neural Networks (Shah et al., NeurIPS 2020): simplicity bias hurts
 * in-distribution accuracy (LMŜ-7 against MS-7; specs-23-45.md §23, control (ii), as calibration-b.md measured it).
 *
 * Claim: when the simple feature is noisy — LMŜ-7: one linear coordinate whose value is inside the margin (useless)
 * for 10% of the points, plus 7-slab coordinates that each predict the label perfectly — the SGD-trained FCN stays
 * at the linear coordinate's ≈ 95% test accuracy for the whole budget, although the same network on the slabs alone
 * (MS-7) reaches ≥ 99%.
 * Set-up (calibration-b.md "Paper 45", the d = 20 pair it proposes): d = 20 (LMŜ-7: 1 linear + 19 seven-slabs;
 * MS-7: 20 seven-slabs), width 1, margin 0.1, rotation on, 40,000 train, 10,000 test; FCN 20-300-300-2, SGD lr 0.1,
 * momentum 0.9, weight decay 5e-4, batch 256, 30 epochs. Both arms are trained in every run (per seed).
 * Criteria: CHECKS below (calibration-b.md "Proposed criteria for paper 45"; measured there 0.950 / 0.955 for
 * LMŜ-7, ≤ 0.955 at every epoch; MS-7 1.000 from epoch 10–14).
 * Negative control (hparams): the noise removed from the simple feature (`corruptLinear = 0`: LMS-7 with a clean
 * linear coordinate). The 95% ceiling is the noisy linear coordinate's; with a clean one the network should reach
 * ≈ 100%, so the [0.90, 0.97] checks must fail — unless the ceiling came from the network or the budget rather than
 * from the feature it relies on.
 * Cost on one core: see `cost`.
 * Run: genlab run noisy-simplicity-bias --quick
 */
import { roleKeys } from "../../src/core/prng.ts";
import { randomizedAuc } from "../../src/measures/featureReliance.ts";
import { defineExperiment, integer, number, bool, type CheckDecl, type Point, onlyResults } from "../../src/declare/kit.ts";
import { scoreAccuracy, slabSplit, trainFcn, type FcnSettings } from "./fcn.ts";

type ArmResult = {
  data: string;
  /** Test accuracy after every epoch. */
  test_curve: number[];
  final_test: number;
  max_test: number;
  /** The first epoch whose test accuracy exceeds 0.97 (the plateau left), or null. */
  escape_epoch: number | null;
  final_train: number;
  /** Test AUC with coordinate 0 randomised, and with every other coordinate randomised (exploratory). */
  s_rand_auc: number;
  sc_rand_auc: number;
  seconds: number;
};
export type NoisySbResults = { lms: ArmResult; ms: ArmResult };

type P = Point<Record<string, number | boolean>, NoisySbResults>;

const one = (points: P[]): NoisySbResults => onlyResults(points);

/** The criteria, once (calibration-b.md "Proposed criteria for paper 45 (LMŜ-7 part)", at d = 20). */
const CHECKS: CheckDecl<P>[] = [
  {
    id: "ms_final_test",
    role: "gate",
    what: "MS-7 (slabs only) test accuracy at the end: the slabs are learnable by this network within this budget",
    cmp: ">=",
    threshold: 0.99,
    source: "calibration-b.md 'Proposed criteria for paper 45' (MS-7 ≥ 0.99; measured 1.000 from epoch 10–14)",
    value: ({ points }) => one(points).ms.final_test,
    reach: "calibration-b: MS-7 leaves chance only after 10–14 epochs at d = 20 — the full budget of 30 epochs: genlab run noisy-simplicity-bias",
    gates: ["lms_final_test", "lms_max_test"],
  },
  {
    id: "lms_final_test",
    role: "claim",
    what: "LMŜ-7 (noisy linear + slabs) test accuracy at the end",
    cmp: "in",
    threshold: [0.9, 0.97],
    source: "calibration-b.md 'Proposed criteria for paper 45' (measured 0.950 / 0.955); specs-23-45.md §23 PASS (LMŜ-7 ∈ [0.90, 0.97])",
    value: ({ points }) => one(points).lms.final_test,
  },
  {
    id: "lms_max_test",
    role: "claim",
    what: "LMŜ-7 test accuracy, the highest over all epochs (it never escapes to the slabs)",
    cmp: "<=",
    threshold: 0.97,
    source: "calibration-b.md 'Proposed criteria for paper 45' (max 0.955 over 30 epochs)",
    value: ({ points }) => one(points).lms.max_test,
  },
];

export const noisySimplicityBias = defineExperiment({
  id: "noisy-simplicity-bias",
  paper: 45,
  title: "LMŜ-7: simplicity bias caps test accuracy at the noisy linear feature's 95%, while the slabs alone give 100%",
  claim: (h) =>
    `An FCN ${h.d}-${h.width}×${h.depth}-2 trained by SGD (momentum ${h.momentum}) for ${h.epochs} epochs on LMŜ-7 (d = ${h.d}: a linear coordinate inside the margin for ${Math.round(h.corruptLinear * 100)}% of the points, ${h.d - 1} fully predictive 7-slabs) ends in [0.90, 0.97] test accuracy and never exceeds 0.97, while the same network on MS-7 (${h.d} 7-slabs) reaches ≥ 0.99.`,
  coverage: {
    level: "partial",
    covered: [
      "the LMŜ-7 / MS-7 pair at d = 20 (calibration-b's proposed set-up), both trained in every run, test accuracy after every epoch",
      "the randomised AUC of both networks (which coordinates they use), reported, not judged",
    ],
    notCovered: [
      "the spec's d = 50 (calibration-b: MS-7 stays at chance there with 40,000 points — no control; kept out), including calibration-b's reported observation LMŜ-7 (d = 50) ∈ [0.90, 0.97] (0.948 there): not run",
      "depth 1 and widths 100/200 (the paper's other FCNs)",
      "ensembles and adversarial training",
    ],
  },
  deviations: [
    "d = 20 instead of the spec's 50 (calibration-b.md: at d = 50 MS-7 is not learned at all, at d = 10 LMŜ-7 escapes the plateau; 20 is also the official get_lms_data default)",
    "weight decay on the biases too (as PyTorch's SGD given all parameters)",
    "rotation on for every seed (calibration-b measured one run with and one without)",
    "the corrupted rows are exactly round(0.1·n), chosen by a random permutation (the official code)",
  ],
  criterionSource: "calibration-b.md 'Proposed criteria for paper 45 (LMŜ-7 part)', measured there in PyTorch at d = 20",
  checks: CHECKS,
  negativeControl: {
    what: "the noise removed from the simple feature: corruptLinear = 0 (LMS-7 with a clean linear coordinate; MS-7 unchanged). The 95% ceiling is the noisy linear coordinate's, so with a clean one the network should reach ≈ 100% and lms_final_test / lms_max_test must fail; they would pass only if the ceiling came from the network or the budget",
    hparams: { corruptLinear: 0 },
  },
  seeds: { smoke: 1, quick: 1, full: 5 },
  dataSource: "generated",
  playFields: ["d", "nTrain", "width", "epochs", "corruptLinear"],
  hparams: {
    d: integer(20, "input dimension", { min: 2, max: 2000 }),
    corruptLinear: number(0.1, "fraction of points whose linear coordinate is drawn inside the margin", { min: 0, max: 1 }),
    rotate: bool(true, "apply a random orthogonal rotation to the inputs"),
    nTrain: integer(40000, "training points", { min: 10, max: 10_000_000 }),
    nTest: integer(10000, "test points", { min: 10, max: 10_000_000 }),
    width: integer(300, "hidden width", { min: 1, max: 100000 }),
    depth: integer(2, "hidden layers", { min: 1, max: 20 }),
    lr: number(0.1, "SGD learning rate", { min: 0, max: 100, minExclusive: true }),
    momentum: number(0.9, "SGD momentum", { min: 0, max: 1, maxExclusive: true }),
    weightDecay: number(5e-4, "weight decay", { min: 0, max: 1 }),
    batchSize: integer(256, "minibatch size", { min: 1, max: 1_000_000 }),
    epochs: integer(30, "epochs", { min: 1, max: 10000 }),
  },
  validate: (h) => (h.batchSize <= h.nTrain ? [] : [{ key: "batchSize" as const, message: `the batch (${h.batchSize}) is larger than the training set (${h.nTrain})` }]),
  sizes: {
    smoke: { d: 6, nTrain: 2000, nTest: 1000, width: 32, epochs: 2 },
    quick: {},
  },
  cost: { smoke: "~3 s", quick: "~65 s measured, with the control (1 seed)", full: "~5 min of one core (5 seeds + 5 control runs, two 30-epoch trainings each)" },
  calibration: {
    seeds: [100, 101, 102, 103],
    outcome:
      "quick = full but for the number of seeds (30 epochs; 20 would end before the window where the plateau can end): seeds 102 and 103 PASS (LMŜ-7 0.952 and 0.958, never above), seeds 100 and 101 FAIL — LMŜ-7 leaves the plateau at epoch 30 (0.972, 0.980); MS-7 1.000 from epoch 9–13 on each; the control (a clean linear coordinate) FAILs both claims on each (1.000 from epoch 1). At d = 20 the plateau lasts about 25–30 epochs here; calibration-b's two PyTorch runs stayed on it for 30: the verdict of record is judged on seeds 0–4 as measured",
  },

  async run(ctx): Promise<NoisySbResults> {
    const h = ctx.hparams;
    const k = roleKeys(ctx.seed, ["lmsData", "lmsTrain", "lmsProbe", "msData", "msTrain", "msProbe"]);
    const f: FcnSettings = { width: h.width, depth: h.depth, lr: h.lr, momentum: h.momentum, weightDecay: h.weightDecay, batchSize: h.batchSize, epochs: h.epochs };
    const arm = async (name: "lms" | "ms"): Promise<ArmResult> =>
      ctx.phase(name, async () => {
        const linear = name === "lms";
        const split = slabSplit({ d: h.d, k: 7, linear, corruptLinear: linear ? h.corruptLinear : 0, rotate: h.rotate }, h.nTrain, h.nTest, linear ? k.lmsData : k.msData);
        // test accuracy after every epoch; train accuracy once, at the end (a 40,000-row pass per epoch costs a third of the training)
        const net = await trainFcn(ctx, name, split, f, { test: split.test }, linear ? k.lmsTrain : k.msTrain);
        try {
          const cols = Array.from({ length: h.d - 1 }, (_, j) => j + 1);
          const r = await randomizedAuc({ score: net.score, x: split.test.x as Float32Array, y: split.test.y, d: h.d, groups: [{ name: "S", columns: [0] }, { name: "Sc", columns: cols }], rotation: split.rotation, key: linear ? k.lmsProbe : k.msProbe });
          const test = net.history.map((r) => r.test_acc);
          return {
            data: linear ? (h.corruptLinear > 0 ? "LMŜ-7" : "LMS-7") : "MS-7",
            test_curve: test,
            final_test: test[test.length - 1],
            max_test: Math.max(...test),
            escape_epoch: test.findIndex((a) => a > 0.97) + 1 || null,
            final_train: scoreAccuracy(await net.score(split.train.x as Float32Array, h.nTrain), split.train.y),
            s_rand_auc: r.groups[0].auc,
            sc_rand_auc: r.groups[1].auc,
            seconds: net.seconds,
          };
        } finally {
          net.dispose();
        }
      });
    const lms = await arm("lms");
    const ms = await arm("ms");
    return { lms, ms };
  },

  figures(points: P[], v) {
    const ps = points.slice(0, 5);
    const curve = (which: "lms" | "ms") => ({
      kind: "line" as const,
      title: ps[0]?.results[which].data ?? which,
      xLabel: "epoch",
      yLabel: `test accuracy — ${ps[0]?.results[which].data ?? which}`,
      yDomain: [0.4, 1.01] as [number, number],
      series: ps.map((p) => ({ name: `seed ${p.seed}`, x: p.results[which].test_curve.map((_, i) => i + 1), y: p.results[which].test_curve })),
      width: 340,
    });
    const r = (f: (x: NoisySbResults) => number) => ps.map((p) => f(p.results).toFixed(3)).join(", ");
    return [
      {
        name: "noisy-simplicity-bias",
        title: "Simplicity bias hurts in-distribution accuracy: noisy linear + slabs vs slabs alone",
        subtitle: `final test ${ps[0]?.results.lms.data ?? "LMŜ-7"} ${r((x) => x.lms.final_test)}; MS-7 ${r((x) => x.ms.final_test)} → ${v.verdict}`,
        panels: [curve("lms"), curve("ms")],
      },
    ];
  },
});
