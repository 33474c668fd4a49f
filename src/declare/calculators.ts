/**
 * Theory calculators callable on their own (`genlab calc <id> --set key=value …`, `genlab calc --list`): each
 * declares its parameters with the experiments' schema (declare/schema.ts: the same fields, bounds, coercion of
 * `--set` strings and error messages), a unit per parameter and per output, and the paper it implements. A
 * required parameter has no default (`required`). A calculator whose numerics did not converge reports its
 * residual and fails (a `not_converged` error); it never returns a silently wrong number.
 */
import { GenlabError, type ErrorIssue } from "../core/errors.ts";
import { krrRisk, powerLawTask, rfRisk } from "../theory/eigenframework.ts";
import { linearTheory, linearTheoryAsymptote, logTimes, overtrainingOf } from "../theory/linearDynamics.ts";
import { robustMatrixSensing, smallInit, subgradientMethod } from "../theory/matrixSensing.ts";
import { inductiveBiasComplexity } from "../theory/taskDifficulty.ts";
import { attentionData, frobeniusSvm, linearInit, matrixCorrelation, nuclearSvm, svmConstraints, trainKQ, trainW } from "../theory/attentionSvm.ts";
import { ktLog2Prob, markovSource, mixtureLog2Prob, resolvabilityBound, sampleMarkov, sourceLog2Prob } from "../theory/universalMixture.ts";
import { bayesOf, drawFactorModel, excessRisk, olsExcessTheory, olsOnFeatures, pretrainPca, ridgePath, sampleFactorModel, subspaceError } from "../theory/pretraining.ts";
import { linearizedScoreCurve } from "../theory/scoreMatching.ts";
import { featureLearningIndex, isStable, lrWidthExponent } from "../theory/abcParametrization.ts";
import { doublingSizes, tailExponent, teacherStudentCurve } from "../theory/convKernels.ts";
import { fitNcx2, inductiveBias, ncx2FromNormals, ncx2Quantile } from "../theory/inductiveBias.ts";
import { normalFromKey } from "../core/prng.ts";
import { keyFromSeed, splitKey } from "../core/prng.ts";
import { coerceValue, describeField, integer, number, parseValues, unknownKeyIssue, type NumberField, type Schema } from "./schema.ts";

/** A calculator parameter: a schema field, its unit ("" for a pure number) and whether it must be given. */
type Param = { field: NumberField; unit: string; required?: boolean };
export type Calculator = {
  doc: string;
  /** The seed paper's number (README's table). */
  paper: number;
  params: Record<string, Param>;
  outputs: Record<string, { doc: string; unit: string }>;
  /** Returns every declared output, and `residual` when `converged` is false. */
  compute(p: Record<string, number>): Computed | Promise<Computed>;
};
type Computed = { values: Record<string, number>; converged?: boolean; residual?: number };

const p = (field: NumberField, unit = "", required = false): Param => ({ field, unit, ...(required ? { required } : {}) });

const TASK: Record<string, Param> = {
  modes: p(integer(3000, "number of eigenmodes M", { min: 1, max: 1_000_000 })),
  alpha: p(number(1.2, "eigenvalue exponent: λᵢ = i^(−alpha)", { min: 0, max: 10 })),
  beta: p(number(1.4, "target exponent: vᵢ² ∝ i^(−beta)", { min: 0, max: 10 })),
  noise: p(number(0, "label noise variance σ²", { min: 0, max: 1e6 }), "target units²"),
  ridge: p(number(0, "ridge δ (0: ridgeless)", { min: 0, max: 1e12 })),
};

export const CALCULATORS: Record<string, Calculator> = {
  "rf-risk": {
    doc: "random-feature ridge regression test risk on a power-law task (Simon et al. 2023, eigenframework)",
    paper: 16,
    params: { ...TASK, n: p(integer(0, "training samples", { min: 1, max: 1e9 }), "samples", true), k: p(integer(0, "random features", { min: 1, max: 1e9 }), "features", true) },
    outputs: {
      test_mse: { doc: "expected test MSE", unit: "target units²" },
      kappa: { doc: "the effective regularisation κ", unit: "" },
      gamma: { doc: "the feature-side constant γ", unit: "" },
      e0: { doc: "the overfitting coefficient E₀", unit: "" },
    },
    compute(v) {
      const r = rfRisk(powerLawTask(v.modes, v.alpha, v.beta, v.noise), v.n, v.k, v.ridge);
      return { values: { test_mse: r.test, kappa: r.kappa, gamma: r.gamma, e0: r.e0 } };
    },
  },
  "krr-risk": {
    doc: "kernel ridge regression (k → ∞) test and train risk on a power-law task (Simon et al. 2023)",
    paper: 16,
    params: { ...TASK, n: p(integer(0, "training samples", { min: 1, max: 1e9 }), "samples", true) },
    outputs: {
      test_mse: { doc: "expected test MSE", unit: "target units²" },
      train_mse: { doc: "expected train MSE", unit: "target units²" },
      fitting_ratio: { doc: "train / test MSE", unit: "" },
      kappa: { doc: "the effective regularisation κ", unit: "" },
      e0: { doc: "the overfitting coefficient E₀", unit: "" },
    },
    compute(v) {
      const r = krrRisk(powerLawTask(v.modes, v.alpha, v.beta, v.noise), v.n, v.ridge);
      return { values: { test_mse: r.test, train_mse: r.train, fitting_ratio: r.train / r.test, kappa: r.kappa, e0: r.e0 } };
    },
  },
  "linear-dynamics": {
    doc: "linear teacher–student gradient flow averaged over the Marchenko–Pastur spectrum: test and train error at time t, the converged error, overtraining and the early-stopping time (Advani & Saxe 2017)",
    paper: 5,
    params: {
      ratio: p(number(1, "N/P, parameters over samples", { min: 0.01, max: 100 })),
      snr: p(number(5, "signal-to-noise ratio σ_w̄²/σ_ε², with σ_w̄² + σ_ε² = 1", { min: 0, max: 1e6, minExclusive: true })),
      init: p(number(0, "initial weight variance σ₀²", { min: 0, max: 100 }), "per-weight variance"),
      t: p(number(10, "gradient-flow time (learning rate × steps on ½‖y − Xw‖²)", { min: 0, max: 1e9 }), "time"),
      tMax: p(number(1e4, "end of the log time grid over which overtraining and t* are read (from 0.1)", { min: 0.2, max: 1e9 }), "time"),
    },
    outputs: {
      test_error: { doc: "E_g(t) = ‖w(t) − w̄‖²/N + σ_ε²", unit: "output variance" },
      train_error: { doc: "E_train(t) = ‖y − Xw(t)‖²/P", unit: "output variance" },
      test_error_converged: { doc: "E_g(∞) in closed form (∞ at N = P with noise)", unit: "output variance" },
      frozen_term: { doc: "(1 − P/N)₊σ₀²: what the initial weights add to E_g(∞)", unit: "output variance" },
      overtraining: { doc: "E_g(tMax) − min E_g over 201 log-spaced times in [0.1, tMax]", unit: "output variance" },
      t_star: { doc: "the time of that minimum (optimal early stopping)", unit: "time" },
      test_error_min: { doc: "E_g(t*)", unit: "output variance" },
    },
    compute(v) {
      const s = { alpha: 1 / v.ratio, snr: v.snr, init: v.init };
      const times = logTimes(0.1, v.tMax, 201);
      const grid = linearTheory(s, times);
      const at = linearTheory(s, [v.t]);
      const i = grid.test.indexOf(Math.min(...grid.test));
      const residual = Math.max(grid.error, at.error);
      const scale = Math.max(1e-300, Math.min(...grid.test));
      return {
        values: {
          test_error: at.test[0],
          train_error: at.train[0],
          test_error_converged: linearTheoryAsymptote(s),
          frozen_term: Math.max(0, 1 - s.alpha) * v.init,
          overtraining: overtrainingOf(grid.test),
          t_star: times[i],
          test_error_min: grid.test[i],
        },
        converged: residual <= 1e-8 * scale,
        residual,
      };
    },
  },
  "subgradient-recovery": {
    doc: "robust low-rank matrix recovery: draws an ℓ₁ matrix-sensing problem with outliers and runs the sub-gradient method from U₀ = αB with steps η₀ρᵗ; the relative error of UUᵀ (Ma & Fattahi 2022)",
    paper: 22,
    params: {
      d: p(integer(20, "matrix size d", { min: 2, max: 200 })),
      r: p(integer(3, "true rank r", { min: 1, max: 200 })),
      rank: p(integer(20, "search rank r′ (≥ r: over-parameterised)", { min: 1, max: 200 })),
      m: p(integer(1200, "symmetric Gaussian measurements m", { min: 1, max: 100000 }), "measurements"),
      alpha: p(number(1e-6, "initial scale α (B ~ N(0, 1))", { min: 0, max: 10, minExclusive: true })),
      outliers: p(number(0.2, "fraction p of measurements with an outlier", { min: 0, max: 1, maxExclusive: true })),
      outlierScale: p(number(10, "outlier standard deviation", { min: 0, max: 1e6 }), "y units"),
      eta0: p(number(0.5, "initial step η₀", { min: 0, max: 100, minExclusive: true })),
      rho: p(number(0.99, "step decay ρ", { min: 0, max: 1, minExclusive: true })),
      iterations: p(integer(1000, "iterations T", { min: 1, max: 1_000_000 })),
      seed: p(integer(0, "seed of the problem and of B", { min: 0, max: 2 ** 31 - 1 })),
    },
    outputs: {
      final_error: { doc: "‖UUᵀ − X*‖_F / ‖X*‖_F after T iterations (∞ if the iterates diverged)", unit: "relative" },
      min_error: { doc: "the smallest relative error logged (every 10 iterations)", unit: "relative" },
    },
    async compute(v) {
      if (v.r > v.d || v.rank > v.d) throw new RangeError(`expected r, r′ ≤ d = ${v.d}, got r = ${v.r}, r′ = ${v.rank}`);
      const [kp, ki] = splitKey(keyFromSeed(v.seed), 2);
      const problem = await robustMatrixSensing({ d: v.d, r: v.r, m: v.m, outlierFraction: v.outliers, outlierScale: v.outlierScale }, kp);
      const run = subgradientMethod(problem, await smallInit(v.d, v.rank, v.alpha, ki), v.rank, { eta0: v.eta0, rho: v.rho, iterations: v.iterations });
      return { values: { final_error: run.final, min_error: Math.min(...run.errors) } };
    },
  },
  "pretrain-advantage": {
    doc: "unsupervised pretraining on a factor model x = Bz + ε: PCA on m unlabeled samples then OLS on n labels, against ridge on raw inputs with an oracle ridge; exact excess risks averaged over draws, and the OLS theory R*·r/(n − r − 1) (Ge et al. 2023)",
    paper: 19,
    params: {
      d: p(integer(200, "input dimension d", { min: 2, max: 2000 })),
      r: p(integer(5, "latent dimension r", { min: 1, max: 200 })),
      scale: p(number(0.3, "loadings B ~ scale·N(0, 1)", { min: 0, max: 100, minExclusive: true })),
      noise: p(number(0.1, "label noise standard deviation σ", { min: 0, max: 100 }), "y units"),
      m: p(integer(1000, "unlabeled samples", { min: 2, max: 1_000_000 }), "samples"),
      n: p(integer(50, "labeled samples (> r + 1)", { min: 3, max: 100000 }), "samples"),
      trials: p(integer(20, "independent draws of (B, θ, data) averaged", { min: 1, max: 10000 })),
      seed: p(integer(0, "seed of the draws", { min: 0, max: 2 ** 31 - 1 })),
    },
    outputs: {
      pretrained_excess: { doc: "excess risk of PCA + OLS, mean over the draws", unit: "y units²" },
      ridge_excess: { doc: "excess risk of the best ridge on raw inputs (30 ridges in [1e-3, 1e4]), mean over the draws", unit: "y units²" },
      ratio: { doc: "pretrained / ridge", unit: "" },
      theory_excess: { doc: "R*·r/(n − r − 1): the pretrained excess risk when PCA is exact (m → ∞)", unit: "y units²" },
      bayes_risk: { doc: "R* = σ² + θᵀ(I + BᵀB)⁻¹θ, mean over the draws", unit: "y units²" },
      subspace_sin2: { doc: "mean sin² of the principal angles between the PCA subspace and col(B)", unit: "" },
    },
    async compute(v) {
      if (2 * v.r > v.d) throw new RangeError(`expected 2r ≤ d = ${v.d}, got r = ${v.r}`);
      if (!(v.n > v.r + 1)) throw new RangeError(`expected n > r + 1 = ${v.r + 1}, got n = ${v.n}`);
      const ridges = Array.from({ length: 30 }, (_, i) => 10 ** (-3 + (7 * i) / 29));
      const acc = { pre: 0, ridge: 0, theory: 0, bayes: 0, sub: 0 };
      let key = keyFromSeed(v.seed);
      for (let t = 0; t < v.trials; t++) {
        const [next, kf, ku, kl] = splitKey(key, 4);
        key = next;
        const f = await drawFactorModel({ d: v.d, r: v.r, scale: v.scale, noise: v.noise, labels: "latent" }, kf);
        const b = bayesOf(f);
        const V = await pretrainPca(f, v.m, ku);
        const { x, y } = await sampleFactorModel(f, v.n, kl);
        const beta = olsOnFeatures(V, x, y, v.n, v.d, v.r);
        if (!beta) throw new RangeError(`OLS on the pretrained features is rank-deficient at n = ${v.n}`);
        acc.pre += excessRisk(b.sigma, b.beta, beta) / v.trials;
        acc.ridge += Math.min(...ridgePath(x, y, v.n, v.d, ridges).map((rb) => excessRisk(b.sigma, b.beta, rb))) / v.trials;
        acc.theory += olsExcessTheory(b.risk, v.r, v.n) / v.trials;
        acc.bayes += b.risk / v.trials;
        acc.sub += subspaceError(f, V) / v.trials;
      }
      key.dispose();
      return { values: { pretrained_excess: acc.pre, ridge_excess: acc.ridge, ratio: acc.pre / acc.ridge, theory_excess: acc.theory, bayes_risk: acc.bayes, subspace_sin2: acc.sub } };
    },
  },
  "task-difficulty": {
    doc: "inductive bias complexity Ĩ: the bits needed to pick a well-generalizing hypothesis among those fitting the data, the official formula (Boopathy et al. 2023); for classification D = classes − 1, prodD = classes, B = 1",
    paper: 15,
    params: {
      error: p(number(0.01, "desired error rate ε", { min: 0, max: 1, minExclusive: true })),
      n: p(integer(60000, "training set size", { min: 1, max: 1e15 }), "samples"),
      m: p(number(14, "intrinsic dimension of the data", { min: 0, max: 1000, minExclusive: true })),
      R: p(number(17.179045827183984, "maximum norm of the inputs", { min: 0, max: 1e9, minExclusive: true }), "input units"),
      delta: p(number(2.3987084824335305, "spatial resolution δ: the minimum distance between classes", { min: 0, max: 1e9, minExclusive: true }), "input units"),
      prodD: p(number(10, "number of combinations of discrete features (classes)", { min: 1, max: 1e9 })),
      D: p(number(9, "output dimension (classes − 1)", { min: 0, max: 1e9, minExclusive: true })),
      B: p(number(1, "bound on the output's ∞-norm", { min: 0, max: 1e9, minExclusive: true })),
    },
    outputs: {
      bits: { doc: "Ĩ = dim Θ_q × log-ratio", unit: "bits" },
      eigenfunctions: { doc: "E = C(m + K, m) + C(m + K − 1, m), the eigenfunctions below the frequency cut-off K", unit: "" },
      dim_theta_q: { doc: "dim Θ − n·D: the hypothesis dimensions the training data leave free", unit: "" },
      log2_ratio: { doc: "bits per free dimension", unit: "bits" },
      K: { doc: "frequency cut-off for M = 2πR/δ", unit: "" },
    },
    compute(v) {
      const r = inductiveBiasComplexity({ error: v.error, n: v.n, m: v.m, R: v.R, prodD: v.prodD, delta: v.delta, D: v.D, B: v.B });
      return { values: { bits: r.bits, eigenfunctions: r.eigenfunctions, dim_theta_q: r.dimThetaQ, log2_ratio: r.log2Ratio, K: r.K } };
    },
  },
  "universal-mixture": {
    doc: "a Bayesian mixture over binary Markov orders 0…K (KT per order, uniform prior) on sequences of an order-1 source: its regret, the oracle KT's, and the index-of-resolvability bound inf_ε [nε + log₂(1/w_ε)] with w_ε by Monte Carlo over the prior (Feder, Urbanke, Fogel 2025)",
    paper: 4,
    params: {
      p0: p(number(0.2, "P(1 | previous symbol 0) of the order-1 source", { min: 0, max: 1, minExclusive: true, maxExclusive: true })),
      p1: p(number(0.7, "P(1 | previous symbol 1)", { min: 0, max: 1, minExclusive: true, maxExclusive: true })),
      n: p(integer(2000, "sequence length", { min: 1, max: 10_000_000 }), "symbols"),
      maxOrder: p(integer(10, "largest order K of the class", { min: 1, max: 14 })),
      trials: p(integer(20, "sequences averaged", { min: 1, max: 100000 })),
      priorSamples: p(integer(100000, "prior samples for w_ε", { min: 100, max: 10_000_000 })),
      seed: p(integer(0, "seed of the sequences and prior samples", { min: 0, max: 2 ** 31 - 1 })),
    },
    outputs: {
      mixture_regret: { doc: "log₂ P_θ₀(xⁿ)/Q_mix(xⁿ), mean over the sequences", unit: "bits" },
      oracle_regret: { doc: "the same for the KT estimator of the true order", unit: "bits" },
      bound: { doc: "inf_ε [nε + log₂(1/w_ε)]", unit: "bits" },
      epsilon: { doc: "the minimising KL radius ε", unit: "bits/symbol" },
    },
    async compute(v) {
      const src = markovSource(1, [v.p0, v.p1]);
      const prior = Array(v.maxOrder + 1).fill(1 / (v.maxOrder + 1));
      let key = keyFromSeed(v.seed);
      let mix = 0;
      let orc = 0;
      for (let t = 0; t < v.trials; t++) {
        const [next, kx] = splitKey(key, 2);
        key = next;
        const x = await sampleMarkov(src, v.n, kx);
        const truth = sourceLog2Prob(src, x)[v.n - 1];
        mix += (truth - mixtureLog2Prob(x, prior)[v.n - 1]) / v.trials;
        orc += (truth - ktLog2Prob(x, 1)[v.n - 1]) / v.trials;
      }
      const b = await resolvabilityBound(src, prior, v.n, v.priorSamples, key);
      return { values: { mixture_regret: mix, oracle_regret: orc, bound: b.bound, epsilon: b.epsilon } };
    },
  },
  "attention-svm": {
    doc: "one-layer softmax cross-attention on a seeded random task, trained by normalised GD in W and as QᵀK, against the Frobenius and nuclear attention SVMs: the correlations of the trained directions with each (Tarzanagh et al. 2023)",
    paper: 44,
    params: {
      n: p(integer(6, "sequences", { min: 1, max: 1000 })),
      T: p(integer(8, "tokens per sequence", { min: 2, max: 1000 })),
      d: p(integer(10, "token dimension", { min: 2, max: 100 })),
      steps: p(integer(2000, "normalised GD steps", { min: 1, max: 1_000_000 })),
      lr: p(number(0.1, "normalised step η", { min: 0, max: 100, minExclusive: true })),
      seed: p(integer(0, "seed of the task and the initialisations", { min: 0, max: 2 ** 31 - 1 })),
    },
    outputs: {
      w_corr_fro: { doc: "W-parametrized GD: corr with the Frobenius Att-SVM", unit: "" },
      kq_corr_nuc: { doc: "QᵀK-parametrized GD: corr with the nuclear Att-SVM", unit: "" },
      kq_corr_fro: { doc: "QᵀK-parametrized GD: corr with the Frobenius Att-SVM", unit: "" },
      nuclear_residual: { doc: "relative change of the nuclear SVM's last FISTA iteration", unit: "" },
    },
    async compute(v) {
      const [kd, kw, kk, kq] = splitKey(keyFromSeed(v.seed), 4);
      const data = await attentionData(v.n, v.T, v.d, kd);
      const w = trainW(data, await linearInit(v.d, kw), { steps: v.steps, lr: v.lr });
      const kqRun = trainKQ(data, await linearInit(v.d, kk), await linearInit(v.d, kq), { steps: v.steps, lr: v.lr, lambda: 2.22e-16 });
      const A = svmConstraints(data, kqRun.W).A;
      const nuc = nuclearSvm(A, v.d);
      return { values: { w_corr_fro: matrixCorrelation(w.W, frobeniusSvm(svmConstraints(data, w.W).A).W), kq_corr_nuc: matrixCorrelation(kqRun.W, nuc.W), kq_corr_fro: matrixCorrelation(kqRun.W, frobeniusSvm(A).W), nuclear_residual: nuc.change } };
    },
  },
  "abc-parametrization": {
    doc: "Theorem 3.3 of Tensor Programs IV for an abc-parametrization of an MLP with L hidden layers (input layer a₁, b₁; hidden layers a, b; readout a_out, b_out; learning-rate exponent c): stable or not, and the feature-learning index r (r = 0: features evolve at infinite width; the form of r is unverified beyond μP, NTK and SP), and the width exponent of the largest stable learning rate (μP's learning-rate transfer: 0) (Yang & Hu 2021)",
    paper: 36,
    params: {
      L: p(integer(2, "hidden layers", { min: 1, max: 100 })),
      a1: p(number(-0.5, "input layer's multiplier exponent a₁ (μP −½, NTK 0, SP 0)", { min: -10, max: 10 })),
      b1: p(number(0.5, "input layer's init exponent b₁ (μP ½, NTK 0, SP 0)", { min: -10, max: 10 })),
      a: p(number(0, "hidden layers' a (μP 0, NTK ½, SP 0)", { min: -10, max: 10 })),
      b: p(number(0.5, "hidden layers' b (μP ½, NTK 0, SP ½)", { min: -10, max: 10 })),
      aOut: p(number(0.5, "readout's a (μP ½, NTK ½, SP 0)", { min: -10, max: 10 })),
      bOut: p(number(0.5, "readout's b (μP ½, NTK 0, SP ½)", { min: -10, max: 10 })),
      c: p(number(0, "learning-rate exponent c (rate η·n^{−c})", { min: -10, max: 10 })),
    },
    outputs: {
      stable: { doc: "1 if Thm 3.3's stability conditions hold, else 0", unit: "" },
      r: { doc: "feature-learning index r (0: feature learning; > 0: kernel regime)", unit: "" },
      lr_width_exponent: { doc: "s: the largest stable learning rate scales like n^{−s} (the smallest extra learning-rate exponent that makes it stable; 0 for μP, 1 for SP with c = 0; NaN if none up to 4 does)", unit: "" },
    },
    async compute(v) {
      const abc = { a: [v.a1, ...Array(v.L - 1).fill(v.a), v.aOut], b: [v.b1, ...Array(v.L - 1).fill(v.b), v.bOut], c: v.c };
      return { values: { stable: isStable(abc) ? 1 : 0, r: featureLearningIndex(abc), lr_width_exponent: lrWidthExponent(abc) } };
    },
  },
  "cnn-learning-curve": {
    doc: "teacher–student ridgeless regression with the NTK of a wide hierarchical CNN (d = 8, patches of 2, student filters 2, 2, 2) on a Gaussian-field teacher of a given spatial scale: test MSE at P = 64 … maxP and the fitted exponent β (ε ~ P^{−β}) (Cagnetta, Favero, Wyart 2023)",
    paper: 40,
    params: {
      teacherLevels: p(integer(1, "teacher's scale: 1 local (filters 2), 2 meta-patch (2, 2), 3 global (2, 2, 2)", { min: 1, max: 3 })),
      maxP: p(integer(1024, "largest training set (P doubles from 64)", { min: 128, max: 8192 })),
      test: p(integer(512, "test points", { min: 16, max: 8192 })),
      seed: p(integer(0, "seed of the inputs and the teacher", { min: 0, max: 2 ** 31 - 1 })),
    },
    outputs: {
      beta: { doc: "learning-curve exponent fitted on P ≥ 256 (the last two P when maxP < 512)", unit: "" },
      mse_max_p: { doc: "test MSE at the largest P", unit: "" },
    },
    async compute(v) {
      const Ps = doublingSizes(v.maxP);
      const mse = await teacherStudentCurve({ d: 8, s1: 2, teacher: Array(v.teacherLevels).fill(2), student: [2, 2, 2], Ps, test: v.test, ridge: 1e-10 }, keyFromSeed(v.seed));
      return { values: { beta: tailExponent(Ps, mse).beta, mse_max_p: mse[mse.length - 1] } };
    },
  },
  "inductive-bias": {
    doc: "the inductive-bias estimator checked against a known answer: K errors drawn from a scaled non-central χ², refitted by maximum likelihood (location 0, as the official code), IB = −ln P(e ≤ ε) at the true q-quantile ε against the exact −ln q, over repeats (Boopathy et al. 2024; spec §6 test (i))",
    paper: 6,
    params: {
      df: p(integer(50, "degrees of freedom of the drawn errors", { min: 1, max: 10000 })),
      nc: p(number(20, "non-centrality", { min: 0, max: 1e6 })),
      scale: p(number(0.01, "scale", { min: 0, max: 1e6, minExclusive: true })),
      q: p(number(0.01, "target quantile (ε is the true q-quantile)", { min: 0, max: 1, minExclusive: true, maxExclusive: true })),
      K: p(integer(100, "errors per repeat (sampled hypotheses)", { min: 3, max: 100000 })),
      repeats: p(integer(50, "repeats", { min: 1, max: 10000 })),
      seed: p(integer(0, "seed of the draws", { min: 0, max: 2 ** 31 - 1 })),
    },
    outputs: {
      true_ib: { doc: "−ln q", unit: "nats" },
      median_ib: { doc: "median estimated IB over the repeats", unit: "nats" },
      within_15pct: { doc: "fraction of repeats within ±15% of the true IB (spec: ≥ 0.9)", unit: "" },
      epsilon: { doc: "the target error ε (the true q-quantile)", unit: "" },
    },
    async compute(v) {
      const eps = ncx2Quantile(v.q, v.df, v.nc, v.scale);
      const truth = -Math.log(v.q);
      const ibs: number[] = [];
      for (const [r, k] of splitKey(keyFromSeed(v.seed), v.repeats + 1).entries()) {
        if (r === v.repeats) {
          k.dispose();
          break;
        }
        ibs.push(inductiveBias(eps, fitNcx2(ncx2FromNormals(normalFromKey(k, v.K * v.df), v.df, v.nc, v.scale))).nats);
      }
      const sorted = [...ibs].sort((a, b) => a - b);
      return { values: { true_ib: truth, median_ib: sorted[Math.floor(sorted.length / 2)], within_15pct: ibs.filter((x) => Math.abs(x - truth) <= 0.15 * truth).length / ibs.length, epsilon: eps } };
    },
  },
  "score-ntk": {
    doc: "denoising score matching with noisy labels on the 4-Gaussian square mixture, solved exactly for a two-layer ReLU network's linearisation (empirical NTK at a seeded init) trained by GD: where the true-score error is smallest and how far it rises by the last step (Han, Razaviyayn, Xu 2024)",
    paper: 43,
    params: {
      n: p(integer(32, "clean samples (8 noisy labels each; the kernel is 16n × 16n)", { min: 1, max: 256 })),
      width: p(integer(1024, "hidden width of the network whose NTK is used (even)", { min: 2, max: 16384 })),
      lr: p(number(2, "GD step size on (1/N) Σ ‖g − y‖²", { min: 0, max: 100, minExclusive: true })),
      steps: p(integer(10000, "GD steps", { min: 1, max: 100_000_000 })),
      evalSamples: p(integer(256, "fresh samples × 8 for the true-score error", { min: 1, max: 100_000 })),
      seed: p(integer(0, "seed of the data and the initialisation", { min: 0, max: 2 ** 31 - 1 })),
    },
    outputs: {
      t_star: { doc: "GD step of the smallest weighted score error E‖g − σ_t∇log p_t‖² (on a ×1.25 grid)", unit: "steps" },
      error_min: { doc: "the smallest weighted score error", unit: "" },
      late_over_min: { doc: "score error at the last step / the minimum (> 1: overfitting the label noise)", unit: "" },
      dsm_constant: { doc: "the irreducible DSM constant C (held-out DSM loss = score error + C)", unit: "" },
      stability: { doc: "2η λ_max(Θ)/N (GD on the linearised model diverges at ≥ 2)", unit: "" },
    },
    async compute(v) {
      const r = await linearizedScoreCurve({ n: v.n, width: v.width, lr: v.lr, steps: v.steps, evalSamples: v.evalSamples }, keyFromSeed(v.seed));
      return { values: { t_star: r.tStar, error_min: r.errorMin, late_over_min: r.lateRatio, dsm_constant: r.dsmConstant, stability: r.stability } };
    },
  },
};

/** The calculator's parameters as a schema (required ones checked separately, since a schema field has a default). */
const schemaOf = (c: Calculator): Schema => Object.fromEntries(Object.entries(c.params).map(([k, q]) => [k, q.field]));

/** One line per parameter for `genlab calc --list`: name, unit, default or "required", range, doc. */
export function describeCalculator(id: string): { id: string; paper: number; doc: string; params: string[]; outputs: string[] } {
  const c = calculatorOf(id);
  return {
    id,
    paper: c.paper,
    doc: c.doc,
    params: Object.entries(c.params).map(([k, q]) => `${k}${q.unit ? ` [${q.unit}]` : ""}: ${q.required ? "required" : `default ${q.field.default}`}, ${describeField(q.field)} — ${q.field.doc}`),
    outputs: Object.entries(c.outputs).map(([k, o]) => `${k}${o.unit ? ` [${o.unit}]` : ""} — ${o.doc}`),
  };
}

/** The calculator of that id, or the one-line error listing the valid ids. */
export function calculatorOf(id: string): Calculator {
  const calc = CALCULATORS[id];
  if (!calc) throw new GenlabError({ code: "unknown_calculator", path: ["<calculator>"], message: `unknown calculator ${JSON.stringify(id)}; valid calculators: ${Object.keys(CALCULATORS).join(", ")}` });
  return calc;
}

export async function runCalculator(id: string, set: string[]): Promise<{ calculator: string; paper: number; inputs: Record<string, number>; outputs: Record<string, number>; units: Record<string, string>; residual?: number }> {
  const calc = calculatorOf(id);
  const issues: ErrorIssue[] = [];
  const given: Record<string, unknown> = {};
  for (const pair of set) {
    const eq = pair.indexOf("=");
    const key = eq > 0 ? pair.slice(0, eq).trim() : "";
    if (!key) {
      issues.push({ code: "invalid_flag", path: ["--set"], message: `expected key=value, got ${JSON.stringify(pair)}` });
      continue;
    }
    const q = calc.params[key];
    if (!q) {
      issues.push(unknownKeyIssue(key, Object.keys(calc.params), ["--set", key]));
      continue;
    }
    given[key] = coerceValue(q.field, pair.slice(eq + 1));
  }
  for (const [k, q] of Object.entries(calc.params))
    if (q.required && !(k in given) && !issues.some((i) => i.path[1] === k)) issues.push({ code: "missing_key", path: ["--set", k], message: `missing parameter ${k} (${q.field.doc}); give it as --set ${k}=…` });
  const known = Object.fromEntries(Object.entries(given).filter(([k]) => !issues.some((i) => i.path[1] === k)));
  const parsed = parseValues(schemaOf(calc), known, ["--set"]);
  if (!parsed.ok) issues.push(...parsed.issues.filter((i) => !calc.params[String(i.path[1])]?.required || String(i.path[1]) in given));
  if (issues.length || !parsed.ok) throw new GenlabError(issues);
  const inputs = parsed.value as Record<string, number>;
  let r: ReturnType<Calculator["compute"]>;
  try {
    r = await calc.compute(inputs);
  } catch (e) {
    if (e instanceof RangeError) throw new GenlabError({ code: "invalid_value", path: ["--set"], message: e.message });
    throw e;
  }
  if (r.converged === false) throw new GenlabError({ code: "not_converged", path: [id], message: `the calculation did not converge: residual ${r.residual?.toExponential(3)} (${Object.entries(inputs).map(([k, v]) => `${k}=${v}`).join(", ")})` });
  const units = Object.fromEntries([...Object.entries(calc.params).map(([k, q]) => [k, q.unit]), ...Object.entries(calc.outputs).map(([k, o]) => [k, o.unit])]);
  return { calculator: id, paper: calc.paper, inputs, outputs: r.values, units, ...(r.residual !== undefined ? { residual: r.residual } : {}) };
}
