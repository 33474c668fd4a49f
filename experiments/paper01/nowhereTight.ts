/**
 * Fantastic Generalization Measures are Nowhere to be Found (Gastpar, Nachum, Shafer, Weinberger, ICLR 2024).
 *
 * Claim (testable form, spec §1): in the overparameterized regime no bound B(S, h) on the population loss of
 * h = A(S) is uniformly tight: two (algorithm, distribution) settings can give (S, h) the same law while their
 * population losses differ by about ½, so every (S, h)-bound is off by about ¼ on one of them.
 * Twin demo (theory/tightness.ts; the spec's concretisation — the paper's construction is unverified):
 * X = {0..N−1}, N = 10⁴, n = 200, the class all of {0,1}^X; A_{g₀} interpolates S and answers a random g₀
 * elsewhere; D_ρ labels by g₀ except on a random ρ-fraction of X where an independent f decides (ρ = 0: D₁,
 * L = 0; ρ = 1: D₂, L ≈ 0.49); the auditor evaluates five bounds (train error, VC, PAC-Bayes-kl with a uniform
 * prior, a two-part-code MDL bound, a roughness heuristic) over the grid ρ ∈ {0, ¼, ½, ¾, 1}.
 * Criteria: CHECKS below, declared once (spec §1 PASS lines (a)–(c), 200 draws; (b) is the gate: the two
 * settings' population losses differ by ≈ ½, the regime the claim is about).
 * Negative control (spec: "a broken harness fails (a) if the bound secretly reads D"), run inside every point:
 * a bound that reads D — the error of h on a fresh sample of n points from D plus Hoeffding's √(ln(1/δ)/2n) —
 * evaluated on the same draws as the table bounds and judged by the same checks; it is tight in both cases, so
 * (a) and (c) must fail on it (it would pass them if it did not in fact read D).
 * Network illustration (reported, not gated): MLP 784-512-512-10 on n = 2,000 Fashion-MNIST images with real
 * and with 100% random labels, trained to the same training cross-entropy; every implemented bound or measure
 * on both (the Gaussian PAC-Bayes-kl bound with σ' from Jiang's search, the spectral-margin bound, VC-style
 * √(P/n), worst-case sharpness, path norm).
 * Seeds: one per run (all randomness from the run's seed: --seed s).
 * Cost on one core: smoke ~10 s, quick 30 s measured 2026-12-07, full ~5 min.
 * Run: genlab run nowhere-tight --quick
 */
import { maxOf, minOf } from "../../src/core/order.ts";
import { keyFromSeed, permutationFromKey, roleKeys, splitKey, uniformFromKey } from "../../src/core/prng.ts";
import { treeDispose } from "../../src/core/tree.ts";
import { takeRows, type Dataset } from "../../src/data/dataset.ts";
import { loadFashionMnist } from "../../src/io/fashionMnist.ts";
import { hostNetwork, measureNetwork, type HostDense } from "../../src/measures/catalogue.ts";
import { applyMlp, initMlp, mlpSpec, type MlpParams } from "../../src/nn/dense.ts";
import { accuracy, softmaxCrossEntropy } from "../../src/nn/losses.ts";
import { adam } from "../../src/optim/aliases.ts";
import { gaussianPacBayesBound } from "../../src/theory/pacBayesDiscrete.ts";
import { auditTightness, ksTwoSample, TABLE_BOUNDS, twinDraw, type TableBound, type TableDraw, type TableSample } from "../../src/theory/tightness.ts";
import { defineExperiment, fashionMnistNeed, integer, number, string, type CheckDecl, type CheckInput, type Point } from "../../src/declare/kit.ts";

export type TwinRow = { bound: string; rho: number; mean_bound: number; mean_loss: number; mean_abs_gap: number; max_abs_gap: number };
export type KsRow = { bound: string; ks_d: number; ks_p: number; coupled_max_diff: number; d1_abs_gap: number; d2_abs_gap: number };
export type NetRow = { labels: "real" | "random"; train_acc: number; test_acc: number; steps: number; values: Record<string, number> };
export type NowhereResults = { domain: number; n: number; draws: number; rhos: number[]; grid: TwinRow[]; ks: KsRow[]; control: KsRow | null; loss_d1: number; loss_d2: number; hist: { bound: string; d1: number[]; d2: number[] }[]; net: NetRow[] };

/**
 * The bound that reads D (the control): h's error on a fresh sample from D plus Hoeffding — it looks up each
 * draw's fresh-sample error through a side table keyed by the sample object, i.e. it secretly reads D.
 */
function cheatingBound(fresh: Map<TableSample, number>, n: number): TableBound {
  return { id: "reads_D", doc: "h's error on a fresh sample of D (the broken harness)", fn: (s) => Math.min(1, fresh.get(s)! + Math.sqrt(Math.log(1 / 0.05) / (2 * n))) };
}

type P = Point<Record<string, string | number | boolean>, NowhereResults>;

/** The one point of a seed (the experiment has no sweep). */
function resultsOf(points: P[]): NowhereResults {
  if (points.length !== 1) throw new Error(`expected one point per seed, got ${points.length}`);
  return points[0].results;
}

/** The bounds a check judges: the table bounds, or (the control) the bound that reads D. */
function boundRows({ points, arm }: CheckInput<P>): KsRow[] {
  const r = resultsOf(points);
  if (arm === "control") {
    if (!r.control) throw new Error("the control (the bound that reads D) was not evaluated");
    return [r.control];
  }
  if (!r.ks.length) throw new Error("no table bound was evaluated");
  return r.ks;
}

/** The criteria, once (specs-01-22.md §1 PASS lines, over `draws` draws per setting). */
const CHECKS: CheckDecl<P>[] = [
  {
    id: "loss_gap",
    role: "gate",
    what: "|mean L_D₂ − mean L_D₁| (independent draws): the twin settings' population losses differ by ≈ ½",
    cmp: ">=",
    threshold: 0.45,
    source: "specs-01-22.md §1 PASS (b)",
    reach: "L_D₂ = ½(1 − |S|/|X|) needs n ≪ |X| and an interpolating algorithm; the quick and full sizes (|X| = 10⁴, n = 200) give ≈ 0.49: genlab run nowhere-tight --quick",
    value: (input) => {
      const r = resultsOf(input.points);
      return Math.abs(r.loss_d2 - r.loss_d1);
    },
  },
  {
    id: "ks_p_min",
    role: "claim",
    what: "two-sample KS p of B under D₁ vs D₂ (independent draws), smallest over the bounds",
    cmp: ">",
    threshold: 0.01,
    source: "specs-01-22.md §1 PASS (a)",
    value: (input) => Math.min(...boundRows(input).map((k) => k.ks_p)),
  },
  {
    id: "coupled_max_diff",
    role: "claim",
    what: "largest |B(D₁) − B(D₂)| on coupled draws, over the bounds (identical values: 0)",
    cmp: "<=",
    threshold: 0,
    source: "specs-01-22.md §1 PASS (a) (a coupling of (g₀, f) makes the laws identical draw by draw)",
    value: (input) => Math.max(...boundRows(input).map((k) => k.coupled_max_diff)),
  },
  {
    id: "worst_abs_gap_min",
    role: "claim",
    what: "max over D₁, D₂ of mean |B − L|, smallest over the bounds",
    cmp: ">=",
    threshold: 0.2,
    source: "specs-01-22.md §1 PASS (c)",
    value: (input) => Math.min(...boundRows(input).map((k) => Math.max(k.d1_abs_gap, k.d2_abs_gap))),
  },
];

export const nowhereTight = defineExperiment({
  id: "nowhere-tight",
  paper: 1,
  title: "No (S, h) bound is uniformly tight: the twin-distribution demonstration, and every implemented bound on a network with real vs random labels",
  claim: (h) => `With X of size ${h.domain} and n = ${h.n}, D₁ and D₂ give (S, h) the same law while L_D differs by ≈ 0.49: every (S, h)-bound is off by ≥ 0.2 on one of them (${h.draws} draws).`,
  coverage: {
    level: "partial",
    covered: ["the twin-distribution argument (the spec's construction) with a tightness auditor over a grid of five settings", "five table bounds and a bound that reads D as the broken-harness control", "the network illustration: real vs random labels with every implemented bound (reported)"],
    notCovered: ["the paper's theorems' constants (unverified) and its type-2 bounds B(S, A)'s accuracy trade-off"],
  },
  deviations: [
    "the twin construction is the spec's concretisation, not the paper's own",
    "the twin bounds are the five table bounds (train error, VC, PAC-Bayes-kl with a uniform prior, MDL, roughness): the spectral-margin bound and Jiang's sharpness need a network, so they appear only in the network illustration",
    "network illustration: trained by Adam (lr 10⁻³, batch 100) until the training cross-entropy reaches 0.01 or 100 epochs (spec: 50 epochs); at quick size 1,000 images, MLP 784-256-256-10, at most 60 epochs",
  ],
  criterionSource: "specs-01-22.md §1 PASS lines (a)–(c); the negative control is the spec's broken harness (a bound that reads D)",
  checks: CHECKS,
  negativeControl: {
    what: "a bound that reads D (h's error on a fresh sample of n points from D + Hoeffding), evaluated inside every point on the same draws as the table bounds: it is tight in both cases, so (a) (KS p, coupled identity) and (c) must fail on it",
    inRun: true,
  },
  needs: [fashionMnistNeed((h) => Number(h.netTrain) > 0)],
  dataSource: "file",
  hparams: {
    domain: integer(10000, "|X|", { min: 10, max: 1000000 }),
    n: integer(200, "training sample size", { min: 1, max: 100000 }),
    draws: integer(200, "draws per setting", { min: 10, max: 100000 }),
    rhos: string("0,0.25,0.5,0.75,1", "the grid of ρ (fraction of X labelled by the independent f)"),
    netTrain: integer(2000, "network illustration: training images (0 skips it)", { min: 0, max: 60000 }),
    netWidth: integer(512, "network illustration: hidden width (two layers)", { min: 1, max: 4096 }),
    netEpochs: integer(100, "network illustration: most epochs (stops earlier at the loss criterion)", { min: 1, max: 10000 }),
    netLoss: number(0.01, "network illustration: the training cross-entropy both networks are trained to", { min: 0, max: 10 }),
    netLr: number(1e-3, "network illustration: Adam learning rate", { min: 0, minExclusive: true, max: 1 }),
  },
  sizes: {
    smoke: { domain: 500, n: 50, draws: 40, netTrain: 100, netWidth: 16, netEpochs: 3 },
    quick: { netTrain: 1000, netWidth: 256, netEpochs: 60 },
  },
  cost: { smoke: "~10 s", quick: "~30 s measured, with the control", full: "~5 min" },
  calibration: { seeds: [100, 101, 102], outcome: "PASS on each of seeds 100–102 (loss gap ≥ 0.45, every bound's KS p > 0.01, coupled draws identical; ~110 s a seed)" },
  seeds: { smoke: 1, quick: 1, full: 1 },

  async run(ctx): Promise<NowhereResults> {
    const h = ctx.hparams;
    const rhos = h.rhos.split(",").map(Number).filter((r) => Number.isFinite(r) && r >= 0 && r <= 1);
    if (!rhos.includes(0) || !rhos.includes(1)) throw new RangeError(`nowhere-tight: rhos must include 0 (D₁) and 1 (D₂), got ${h.rhos}`);
    const k = roleKeys(1009 * (ctx.seed + 1), ["coupled", "d1", "d2", "fresh", "net"]);
    const twin = await ctx.phase("twin", async () => {
      // coupled draws: one call per draw gives every ρ's (S, h, L), with (S, h) identical across ρ
      const coupled = splitKey(k.coupled, h.draws).map((key) => twinDraw(h.domain, h.n, rhos, key));
      const perSetting = rhos.map((_, j) => coupled.map((d) => d[j]));
      // independent draws for D₁ and D₂ (the KS test of (a))
      const indep1 = splitKey(k.d1, h.draws).map((key) => twinDraw(h.domain, h.n, [0], key)[0]);
      const indep2 = splitKey(k.d2, h.draws).map((key) => twinDraw(h.domain, h.n, [1], key)[0]);
      // the control: each draw's fresh-sample error of h under its own distribution (D₁: label = h off S∩R… = exact loss sampling)
      const freshKeys = splitKey(k.fresh, 2);
      const fresh = new Map<TableSample, number>();
      const all = [...perSetting.flat(), ...indep1, ...indep2];
      // a fresh sample's error: n Bernoulli(L) indicators (x uniform on X: the error indicator has mean L exactly)
      const u1 = uniformFromKey(freshKeys[0], all.length * h.n);
      freshKeys[1].dispose();
      all.forEach((d, i) => {
        let e = 0;
        for (let t = 0; t < h.n; t++) if (u1[i * h.n + t] < d.loss) e++;
        fresh.set(d.s, e / h.n);
      });
      const bounds = [...TABLE_BOUNDS, cheatingBound(fresh, h.n)];
      const audit = auditTightness(bounds, rhos.map(String), perSetting, h.domain);
      const grid: TwinRow[] = audit.rows.map((g) => ({ bound: g.id, rho: Number(g.setting), mean_bound: g.meanBound, mean_loss: g.meanLoss, mean_abs_gap: g.meanAbsGap, max_abs_gap: g.maxAbsGap }));
      const ks: KsRow[] = [];
      const hist: { bound: string; d1: number[]; d2: number[] }[] = [];
      for (const b of bounds) {
        const f = (d: TableDraw) => b.fn(d.s, d.h, h.domain);
        const c0 = perSetting[rhos.indexOf(0)].map(f);
        const c1 = perSetting[rhos.indexOf(1)].map(f);
        const v1 = indep1.map(f);
        const v2 = indep2.map(f);
        const t = ksTwoSample(v1, v2);
        const absGap = (vals: number[], ds: TableDraw[]) => vals.reduce((a, v, i) => a + Math.abs(v - ds[i].loss), 0) / vals.length;
        ks.push({ bound: b.id, ks_d: t.d, ks_p: t.p, coupled_max_diff: maxOf(c0.map((v, i) => Math.abs(v - c1[i]))), d1_abs_gap: absGap(v1, indep1), d2_abs_gap: absGap(v2, indep2) });
        hist.push({ bound: b.id, d1: v1, d2: v2 });
      }
      const meanLoss = (ds: TableDraw[]) => ds.reduce((a, d) => a + d.loss, 0) / ds.length;
      const control = ks.find((r) => r.bound === "reads_D") ?? null;
      await ctx.record({ loss_d1: meanLoss(indep1), loss_d2: meanLoss(indep2) }, { axis: "draws", x: h.draws });
      return { grid, ks: ks.filter((r) => r.bound !== "reads_D"), control, loss_d1: meanLoss(indep1), loss_d2: meanLoss(indep2), hist };
    });

    const net: NetRow[] = [];
    if (h.netTrain > 0) {
      const fm = loadFashionMnist();
      const [kSub, kLab, kInit, kData, kMeas] = splitKey(k.net, 5);
      const idx = permutationFromKey(kSub, fm.train.y.length).subarray(0, h.netTrain);
      const base = takeRows(fm.train, idx);
      const train: Dataset = { ...base, x: Float32Array.from(base.x, (v) => (v - 0.286) / 0.353), xShape: [h.netTrain, 784] };
      const test: Dataset = { ...takeRows(fm.test, Int32Array.from({ length: 2000 }, (_, i) => i)), xShape: [2000, 784] };
      test.x = Float32Array.from(test.x, (v) => (v - 0.286) / 0.353);
      const u = uniformFromKey(kLab, h.netTrain);
      const randomLabels = Int32Array.from(u, (v) => Math.min(9, Math.floor(v * 10)));
      const spec = mlpSpec({ dims: [784, h.netWidth, h.netWidth, 10], activation: "relu", padTo: 1 });
      const [kInitR, kInitZ] = splitKey(kInit, 2);
      const [kDataR, kDataZ] = splitKey(kData, 2);
      const [kMeasR, kMeasZ] = splitKey(kMeas, 2);
      for (const [labels, keys] of [["real", [kInitR, kDataR, kMeasR]], ["random", [kInitZ, kDataZ, kMeasZ]]] as const) {
        const row = await ctx.phase(`net-${labels}`, async () => {
          const ds: Dataset = labels === "real" ? train : { ...train, y: randomLabels };
          const init = initMlp(spec, keys[0]);
          const initHost = await hostNetwork(spec, init);
          const out = await ctx.train<MlpParams>({
            name: `net-${labels}`,
            params: init,
            loss: (p, x, y) => softmaxCrossEntropy(applyMlp(spec, p, x), y),
            evaluate: (p, x, y) => {
              const lg = applyMlp(spec, p, x);
              return { loss: softmaxCrossEntropy(lg.ref, y.ref), acc: accuracy(lg, y) };
            },
            evalSets: { train: ds },
            optimizer: adam(h.netLr),
            train: ds,
            epochs: h.netEpochs,
            batchSize: Math.min(100, h.netTrain),
            key: keys[1],
            log: { every: Math.max(1, Math.floor(h.netTrain / 100)), perDecade: 0 },
            stopWhen: (r) => (r.train_loss as number) <= h.netLoss,
            progressKeys: ["train_loss", "train_acc"],
          });
          treeDispose(out.optState);
          const host: HostDense = await hostNetwork(spec, out.params);
          const testAcc = await (async () => {
            // the "data" family is one deterministic forward pass: its key is never drawn from
            const m = await measureNetwork(host, test, keyFromSeed(0), { families: ["data"] });
            return m.values.find((v) => v.id === "train_acc")!.value;
          })();
          treeDispose(out.params);
          const res = await measureNetwork(host, ds, keys[2], { init: initHost, families: ["data", "count", "norm", "flatness"], subset: Math.min(1000, h.netTrain), searchDepth: 12, sigmaSamples: 5 });
          const v = Object.fromEntries(res.values.map((m) => [m.id, m.value]));
          // the Gaussian PAC-Bayes-kl bound at σ' (grid: the 2^12 dyadic points of the depth-12 bisection)
          let distSq = 0;
          host.weights.forEach((w, i) => w.forEach((x, j) => (distSq += (x - initHost.weights[i][j]) ** 2)));
          host.biases.forEach((b, i) => b?.forEach((x, j) => (distSq += (x - (initHost.biases[i]?.[j] ?? 0)) ** 2)));
          const rQ = Math.min(1, 1 - v.train_acc + 0.1);
          const pb = gaussianPacBayesBound({ empiricalRiskQ: rQ, n: h.netTrain, distSq, sigma: v.pacbayes_sigma, gridSize: 2 ** 12 });
          const values = { ...v, pac_bayes_kl_bound: pb.bound, pac_bayes_kl_nats: pb.kl, vc_sqrt_p_over_n: 1 - v.train_acc + Math.sqrt(v.params / h.netTrain) };
          return { labels, train_acc: v.train_acc, test_acc: testAcc, steps: out.criterionStep ?? out.steps, values };
        });
        net.push(row as NetRow);
      }
    } else k.net.dispose();
    return { domain: h.domain, n: h.n, draws: h.draws, rhos, ...(twin as Omit<NowhereResults, "domain" | "n" | "draws" | "rhos" | "net">), net };
  },

  tables(points) {
    const r = points[0].results;
    const netIds = ["pac_bayes_kl_bound", "pac_bayes_kl_nats", "spectral_margin_bound", "vc_sqrt_p_over_n", "sharpness_flatness", "path_norm", "log_prod_of_spec", "fro_dist", "pacbayes_sigma"];
    return [
      { title: "per bound: D₁ vs D₂ (independent draws) and the coupled identity", columns: ["bound", "KS D", "KS p", "coupled max |ΔB|", "mean |B − L| under D₁", "mean |B − L| under D₂"], rows: [...r.ks, ...(r.control ? [r.control] : [])].map((k) => [k.bound, k.ks_d, k.ks_p, k.coupled_max_diff, k.d1_abs_gap, k.d2_abs_gap]) },
      { title: "the auditor's grid: mean bound, mean loss and mean |gap| per setting ρ", columns: ["bound", "ρ", "mean B", "mean L", "mean |B − L|", "max |B − L|"], rows: r.grid.map((g) => [g.bound, g.rho, g.mean_bound, g.mean_loss, g.mean_abs_gap, g.max_abs_gap]) },
      ...(r.net.length ? [{ title: "network illustration (Fashion-MNIST, real vs random labels, trained to the same training loss)", columns: ["measure", ...r.net.map((x) => `${x.labels} labels`)], rows: [["train acc", ...r.net.map((x) => x.train_acc)], ["test acc", ...r.net.map((x) => x.test_acc)], ["steps", ...r.net.map((x) => x.steps)], ...netIds.map((id) => [id, ...r.net.map((x) => x.values[id] ?? null)])] }] : []),
    ];
  },

  figures(points) {
    const r = points[0].results;
    const bins = 20;
    const histPanel = (b: { bound: string; d1: number[]; d2: number[] }) => {
      const lo = Math.min(minOf(b.d1), minOf(b.d2));
      const hi = Math.max(maxOf(b.d1), maxOf(b.d2));
      const w = (hi - lo) / bins || 1;
      const count = (v: number[]) => globalThis.Array.from({ length: bins }, (_, i) => v.filter((x) => Math.min(bins - 1, Math.floor((x - lo) / w)) === i).length / v.length);
      return { kind: "bar" as const, title: `${b.bound}: B(S, h) under D₁ and D₂ (L = ${r.loss_d1.toFixed(2)} / ${r.loss_d2.toFixed(2)})`, xLabel: "B", yLabel: "fraction of draws", groups: globalThis.Array.from({ length: bins }, (_, i) => (lo + (i + 0.5) * w).toPrecision(3)), series: [{ name: "D₁", values: count(b.d1) }, { name: "D₂", values: count(b.d2) }], width: 360 };
    };
    const figs = [
      { name: "nowhere-tight-twins", title: `Twin distributions: every (S, h) bound has one law under D₁ (L = ${r.loss_d1.toFixed(3)}) and D₂ (L = ${r.loss_d2.toFixed(3)})`, panels: r.hist.filter((b) => b.bound !== "train_error").map(histPanel) },
      {
        name: "nowhere-tight-grid",
        title: "The auditor's grid: mean |B − L| against ρ",
        panels: [{ kind: "line" as const, title: "mean |B − L| per setting", xLabel: "ρ (fraction of X labelled independently of g₀)", yLabel: "mean |B − L|", series: [...new Set(r.grid.map((g) => g.bound))].map((b) => ({ name: b, x: r.grid.filter((g) => g.bound === b).map((g) => g.rho), y: r.grid.filter((g) => g.bound === b).map((g) => g.mean_abs_gap) })) }],
      },
    ];
    if (r.net.length) {
      const ids = ["pac_bayes_kl_bound", "vc_sqrt_p_over_n", "spectral_margin_bound", "sharpness_flatness", "path_norm"];
      figs.push({
        name: "nowhere-tight-network",
        title: "Network illustration: real vs random labels",
        panels: [
          { kind: "bar" as const, title: "errors and the PAC-Bayes-kl bound", xLabel: "", yLabel: "error", groups: ["train error", "test error", "PAC-Bayes-kl bound"], series: r.net.map((x) => ({ name: `${x.labels} labels`, values: [1 - x.train_acc, 1 - x.test_acc, x.values.pac_bayes_kl_bound] })), width: 420 },
          { kind: "bar" as const, title: "log₁₀ of each bound / measure", xLabel: "", yLabel: "log₁₀ value", groups: ids, series: r.net.map((x) => ({ name: `${x.labels} labels`, values: ids.map((id) => Math.log10(Math.abs(x.values[id] ?? NaN))) })), width: 520 },
        ],
      });
    }
    return figs;
  },
});

