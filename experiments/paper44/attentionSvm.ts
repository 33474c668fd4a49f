/**
 * Transformers as support vector machines (Tarzanagh, Li, Thrampoulidis, Oymak 2023): one-layer softmax
 * cross-attention trained by normalised GD (src/theory/attentionSvm.ts), in the notebook's setting (n = 6
 * sequences, T = 8 tokens, d = 10, unit-sphere tokens, 2,000 steps, η = 0.1), against the attention SVMs.
 *
 * Claim: trained directly in W, the key-query matrix aligns with the Frobenius-norm Att-SVM (corr ≥ 0.99 on ≥ 18
 * of 20 trials); trained as W = QᵀK, it aligns with the nuclear-norm Att-SVM (mean corr ≥ 0.9) and better than
 * with the Frobenius one (on ≥ 8 of 10 trials).
 * Criteria: CHECKS below, declared once (specs-23-45.md §22 PASS, checked in the spec author's numpy port [CHK];
 * the saturation gate a design estimate). α_i is each sequence's most attended token after training.
 * Numerics found while implementing: (1) once the softmax saturates, u_α − f must be summed as
 * Σ s_t′(u_α − u_t′), not subtracted — the plain difference is rounding noise that normalised GD follows (the
 * direction then drifts away: corr 0.99 → 0.41 by 20,000 steps); (2) the nuclear SVM needs FISTA to converge
 * (plain proximal steps left corr at 0.79–0.94; converged: 0.996–0.999).
 * Negative control (hparams): the parametrizations swapped — the W arm trained as QᵀK and the QᵀK arm trained
 * directly in W — judged by the same checks: each SVM's alignment must then weaken.
 * Cost on one core: smoke ~2 s, quick ~60 s with the control (20 W trials, 10 QᵀK trials), full the same.
 * Run: genlab run attention-svm --quick
 */
import { defineExperiment, firstSeed, integer, number, oneOf, type CheckDecl, type Point } from "../../src/declare/kit.ts";
import { keyFromSeed, splitKey } from "../../src/core/prng.ts";
import { attention, attentionData, frobeniusSvm, linearInit, matrixCorrelation, nuclearSvm, svmConstraints, trainKQ, trainW } from "../../src/theory/attentionSvm.ts";

export type SvmPointResults = {
  param: string;
  trainedAs: string;
  /** per trial */
  corr_fro: number[];
  corr_nuc: number[] | null;
  max_attention: number[];
  nuclear_residual: number[] | null;
  /** 1 − corr against the step (mean over the trials), every 100 steps */
  steps: number[];
  gap_fro: number[];
  gap_nuc: number[] | null;
};
type P = Point<Record<string, number | string>, SvmPointResults>;

const arm = (points: P[], param: string) => {
  const p = points.find((q) => q.results.param === param);
  if (!p) throw new Error(`the ${param} arm was not run`);
  return p.results;
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const CHECKS: CheckDecl<P>[] = [
  {
    id: "attention_saturated",
    role: "gate",
    what: "smallest (over trials and sequences, both arms) largest softmax probability after training: attention selects one token, the regime where W's norm diverges",
    cmp: ">=",
    threshold: 0.99,
    source: "design estimate (the claim is about the direction of a diverging W)",
    reach: "more steps",
    value: ({ points }) => Math.min(...points.flatMap((p) => p.results.max_attention)),
  },
  {
    id: "w_fro_alignment",
    role: "claim",
    what: "W arm: fraction of trials with corr(W, W^mm_Fro) ≥ 0.99",
    cmp: ">=",
    threshold: 0.9,
    source: "specs-23-45.md §22 PASS: ≥ 18/20 seeds [CHK 0.9958–0.9987]",
    value: ({ points }) => {
      const r = arm(points, "W");
      return r.corr_fro.filter((c) => c >= 0.99).length / r.corr_fro.length;
    },
  },
  {
    id: "kq_nuc_alignment",
    role: "claim",
    what: "QᵀK arm: mean corr(W, W^mm_nuc)",
    cmp: ">=",
    threshold: 0.9,
    source: "specs-23-45.md §22 PASS [CHK mean 0.948]",
    value: ({ points }) => {
      const r = arm(points, "KQ");
      if (!r.corr_nuc) throw new Error("the nuclear SVM was not solved for the QᵀK arm");
      return mean(r.corr_nuc);
    },
  },
  {
    id: "kq_prefers_nuclear",
    role: "claim",
    what: "QᵀK arm: fraction of trials with corr(W, W^mm_nuc) > corr(W, W^mm_Fro)",
    cmp: ">=",
    threshold: 0.8,
    source: "specs-23-45.md §22 PASS: ≥ 8/10 seeds [CHK 10/10]",
    value: ({ points }) => {
      const r = arm(points, "KQ");
      if (!r.corr_nuc) throw new Error("the nuclear SVM was not solved for the QᵀK arm");
      return r.corr_nuc.filter((c, i) => c > r.corr_fro[i]).length / r.corr_nuc.length;
    },
  },
];

export const attentionSvmExperiment = defineExperiment({
  id: "attention-svm",
  paper: 44,
  title: "One-layer attention trained by normalised GD aligns with the attention SVM: Frobenius for W, nuclear for QᵀK",
  claim: (h) => `One-layer softmax cross-attention (n = ${h.n}, T = ${h.T}, d = ${h.d}) trained by ${h.steps} normalised GD steps: in W, corr with the Frobenius Att-SVM ≥ 0.99 on ≥ 90% of trials; as QᵀK, mean corr with the nuclear Att-SVM ≥ 0.9 and above the Frobenius one on ≥ 80% of trials.`,
  coverage: {
    level: "partial",
    covered: ["normalised GD in the W and QᵀK parametrizations", "the Frobenius Att-SVM (exact, dual coordinate ascent) and the nuclear one (penalised, FISTA)", "local convergence in direction"],
    notCovered: ["the global-convergence conditions and the rank study (svm_rank.ipynb)", "self-attention and multi-layer models"],
  },
  deviations: ["the spec's 20 (W) and 10 (QᵀK) seeds are trials inside one run", "the nuclear SVM is the penalised form with ρ = 10³ (margins ≈ 0.999), 20,000 FISTA iterations (the spec: proximal gradient)"],
  criterionSource: "specs-23-45.md §22 PASS, checked in numpy by the spec's author; the gate a design estimate",
  checks: CHECKS,
  negativeControl: { what: "the parametrizations swapped: the W arm trained as QᵀK and the QᵀK arm trained directly in W, judged by the same checks; each SVM's alignment must weaken", hparams: { trainAs: "swapped" } },
  seeds: { smoke: 1, quick: 1, full: 1 },
  dataSource: "generated",
  playFields: ["n", "T", "d", "steps"],
  hparams: {
    param: oneOf(["W", "KQ"], "W", "the arm: W (judged against the Frobenius SVM) or QᵀK (against the nuclear one)"),
    trainAs: oneOf(["own", "swapped"], "own", "own: train in the arm's parametrization; swapped: in the other one (the control)"),
    n: integer(6, "sequences", { min: 1, max: 1000 }),
    T: integer(8, "tokens per sequence", { min: 2, max: 1000 }),
    d: integer(10, "token dimension", { min: 2, max: 200 }),
    steps: integer(2000, "normalised GD steps", { min: 1, max: 1_000_000 }),
    lr: number(0.1, "normalised step η", { min: 0, max: 100, minExclusive: true }),
    lambda: number(2.22e-16, "the QᵀK regulariser λ(‖K‖² + ‖Q‖²) (float64 machine ε, as the official code)", { min: 0, max: 1 }),
    trialsW: integer(20, "trials of the W arm", { min: 1, max: 10000 }),
    trialsKQ: integer(10, "trials of the QᵀK arm", { min: 1, max: 10000 }),
    nuclearIterations: integer(20000, "FISTA iterations of the nuclear SVM", { min: 1, max: 10_000_000 }),
  },
  sizes: { smoke: { steps: 300, trialsW: 2, trialsKQ: 2, nuclearIterations: 2000 }, quick: {} },
  cost: { smoke: "~2 s", quick: "~65 s measured, with the control", full: "~65 s" },
  calibration: {
    seeds: [100, 101, 102],
    outcome:
      "PASS on each seed: W arm 20/20 trials with corr ≥ 0.99 (0.998–0.999 in a 4-seed probe); QᵀK arm mean corr with the nuclear SVM 0.9970, 0.9979, 0.9953, above the Frobenius one on 10/10; every softmax saturated; control FAIL on all three claims",
  },
  sweep: () => [{ param: ["W", "KQ"] }],

  async run(ctx): Promise<SvmPointResults> {
    const h = ctx.hparams;
    const kqTrained = (h.param === "KQ") !== (h.trainAs === "swapped");
    const needNuclear = h.param === "KQ";
    const trials = h.param === "W" ? h.trialsW : h.trialsKQ;
    const out: SvmPointResults = { param: h.param, trainedAs: kqTrained ? "KQ" : "W", corr_fro: [], corr_nuc: needNuclear ? [] : null, max_attention: [], nuclear_residual: needNuclear ? [] : null, steps: [], gap_fro: [], gap_nuc: needNuclear ? [] : null };
    let key = keyFromSeed(ctx.seed);
    const every = 100;
    for (let trial = 0; trial < trials; trial++) {
      const [next, kd, kw, kk, kq] = splitKey(key, 5);
      key = next;
      const data = await attentionData(h.n, h.T, h.d, kd);
      const W0 = await linearInit(h.d, kw);
      const K0 = await linearInit(h.d, kk);
      const Q0 = await linearInit(h.d, kq);
      const run = kqTrained ? trainKQ(data, K0, Q0, { steps: h.steps, lr: h.lr, lambda: h.lambda, every }) : trainW(data, W0, { steps: h.steps, lr: h.lr, every });
      const { A } = svmConstraints(data, run.W);
      const fro = frobeniusSvm(A).W;
      const nuc = needNuclear ? nuclearSvm(A, h.d, { iterations: h.nuclearIterations }) : null;
      out.corr_fro.push(matrixCorrelation(run.W, fro));
      if (nuc) {
        out.corr_nuc!.push(matrixCorrelation(run.W, nuc.W));
        out.nuclear_residual!.push(nuc.change);
      }
      const s = attention(data, run.W);
      for (let i = 0; i < h.n; i++) out.max_attention.push(Math.max(...s.subarray(i * h.T, (i + 1) * h.T)));
      run.trace.forEach((W, j) => {
        out.gap_fro[j] = (out.gap_fro[j] ?? 0) + (1 - matrixCorrelation(W, fro)) / trials;
        if (nuc) out.gap_nuc![j] = (out.gap_nuc![j] ?? 0) + (1 - matrixCorrelation(W, nuc.W)) / trials;
      });
      ctx.progress(trial + 1, trials);
    }
    key.dispose();
    out.steps = out.gap_fro.map((_, j) => Math.min((j + 1) * every, h.steps));
    for (const [j, st] of out.steps.entries()) await ctx.record({ one_minus_corr_fro: out.gap_fro[j], ...(out.gap_nuc ? { one_minus_corr_nuc: out.gap_nuc[j] } : {}) }, { phase: "steps", axis: "step", x: st });
    return out;
  },

  figures(all: P[], v) {
    const ps = firstSeed(all);
    const w = ps.find((p) => p.results.param === "W")?.results;
    const kq = ps.find((p) => p.results.param === "KQ")?.results;
    return [
      {
        name: "attention-svm",
        title: "Normalised GD on one-layer attention: 1 − corr with the attention SVMs against the step (mean over trials)",
        subtitle: `W: ${((v.measured.w_fro_alignment ?? NaN) * 100).toFixed(0)}% of trials with corr ≥ 0.99 (Frobenius); QᵀK: mean corr ${(v.measured.kq_nuc_alignment ?? NaN).toFixed(4)} with the nuclear SVM, above the Frobenius on ${((v.measured.kq_prefers_nuclear ?? NaN) * 100).toFixed(0)}% → ${v.verdict}`,
        panels: [
          {
            kind: "line" as const,
            title: "1 − corr(W_t, W^mm)",
            xLabel: "step (log)",
            yLabel: "1 − correlation (log)",
            xLog: true,
            yLog: true,
            series: [
              ...(w ? [{ name: "W-param vs Frobenius SVM", x: w.steps, y: w.gap_fro.map((g) => Math.max(g, 1e-9)) }] : []),
              ...(kq ? [{ name: "QK-param vs nuclear SVM", x: kq.steps, y: (kq.gap_nuc ?? []).map((g) => Math.max(g, 1e-9)) }, { name: "Frobenius-SVM vs QK-param", x: kq.steps, y: kq.gap_fro.map((g) => Math.max(g, 1e-9)), dashed: true }] : []),
            ],
            width: 520,
          },
          {
            kind: "scatter" as const,
            title: "QᵀK arm, per trial: corr with the nuclear SVM against corr with the Frobenius SVM",
            xLabel: "corr with W^mm_Fro",
            yLabel: "corr with W^mm_nuc",
            series: kq?.corr_nuc ? [{ name: "trials", x: kq.corr_fro, y: kq.corr_nuc }] : [],
            diagonal: true,
            width: 360,
          },
        ],
      },
    ];
  },
});
