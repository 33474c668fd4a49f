/**
 * The universality lens (Feder, Urbanke, Fogel 2025), supervised variant (specs-01-22.md §4, PASS (iv)): the
 * Bayesian mixture learner Q_s(y | x; S) = ∫ w(θ | S) P_θ(y | x) dθ approximated by an ensemble of Langevin
 * chains (src/optim/sgld.ts), against a single gradient-descent solution, for logistic regression on 1,000 random
 * ReLU features of the 8×8 digits 0 and 1 (n = 200 training images).
 *
 * Claim: the ensemble's test log-loss is ≤ the single solution's − 0.02 nats.
 * Criteria: CHECKS below, declared once (specs-01-22.md §4 PASS (iv), a design estimate of the spec's author).
 * The setting is the spec's (16 chains, 2,000 steps, temperature 1) but for the step. The spec leaves open the
 * energy's scale, the prior and the baseline; genlab's choices: U(θ) = Σᵢ −log P_θ(yᵢ | xᵢ) + ‖θ‖²/(2σ_p²) with
 * σ_p = 1 (the posterior at temperature 1), full-batch gradients (the 200 examples are one batch), every chain
 * started at θ = 0, and the single solution is the same dynamics without the noise (T = 0: gradient descent on U
 * with step ε/2, the same steps) — each chain's noise-free twin. With this energy the spec's step ε = 1e-4 leaves
 * the chains far from the posterior after 2,000 steps (configurational temperature 0.13 of 1, and the single
 * solution still at log-loss 0.64; quick size, seed 100): the run is then INCONCLUSIVE (`--set step=1e-4`). ε = 1e-2 is the smallest
 * step of {1e-4, 1e-3, 3e-3, 1e-2, 3e-2} at which the chains reached the posterior (temperature within 1%) in a
 * numpy prototype on seeds 0–2 of its own (not the calibration or reported seeds). The predictive averages the
 * chains' states every 10 steps over the second half of the run.
 * Regime gates: the chains sample the posterior — their configurational temperature (mean θ·∇U / P over the
 * sampled states, = T at equilibrium: src/optim/sgld.ts) is within 5% of T (tightened from 20% after review, before
 * any record: with 1,000 weights and 200 examples, ≥ 800 directions are prior-only and relax within ~2/ε steps, so
 * chains whose data directions had not moved would still read ≈ 0.8) — and the single solution's test
 * log-loss is ≥ 0.02 nats, so that an improvement of 0.02 is possible at all. Otherwise the claim about the
 * Bayesian mixture is not being tested: INCONCLUSIVE.
 * Negative control (hparams): the mixture removed — the predictive of one posterior sample (the last state of one
 * chain) instead of the ensemble's average — judged by the same checks. One posterior draw usually loses to the MAP,
 * so this control can hardly pass; it matters only if the ensemble passes.
 * The comparison is ensemble against MAP (the baseline minimises the same energy, prior included): an unpenalised
 * SGD solution, as the spec may mean, would be overconfident with n = 200 < 1,000 weights and easier to beat.
 * Deviations: trials (fresh features and train/test split each) inside one run, 6 at quick size and 20 at full,
 * where the spec names one run; the test set is the 160 images of 0 and 1 not trained on.
 * Cost on one core: smoke ~8 s, quick ~85 s measured (6 trials; the control reads the same chains), full ~5 min
 * (20 trials).
 * Run: genlab run sgld-ensemble --quick
 */
import { numpy as np, random, type Array as JaxArray } from "@jax-js/jax";
import { defineExperiment, digitsNeed, integer, number, oneOf, type CheckDecl, type Point } from "../../src/declare/kit.ts";
import { keyFromSeed, permutationFromKey, splitKey } from "../../src/core/prng.ts";
import { loadDigits } from "../../src/io/digits.ts";
import { sgld } from "../../src/optim/sgld.ts";

export type SgldPointResults = {
  trials: number;
  /** the chains' configurational temperature over the sampled states (mean θ·∇U / P), over T: 1 at equilibrium */
  config_temperature: number;
  /** mean test log-loss (nats) over the trials */
  sgd_logloss: number;
  ensemble_logloss: number;
  sgd_acc: number;
  ensemble_acc: number;
  /** one posterior sample's predictive (the last state of chain 0): the control's read-out of the same chains */
  sample_logloss: number;
  sample_acc: number;
  /** per trial */
  sgd_trials: number[];
  ensemble_trials: number[];
  sample_trials: number[];
  /** the ensemble's and the single solution's test log-loss against the step (mean over trials), every 100 steps */
  curve_steps: number[];
  sgd_curve: number[];
  ensemble_curve: number[];
};
type P = Point<Record<string, number | string>, SgldPointResults>;

const one = (points: P[]) => {
  if (points.length !== 1) throw new Error(`expected one point, got ${points.length}`);
  return points[0].results;
};
/** The predictive the point's hparams ask for: the ensemble's, or one posterior sample's (the control). */
const readOut = (points: P[]) => {
  const r = one(points);
  return points[0].hparams.predictive === "single" ? { logloss: r.sample_logloss, trials: r.sample_trials } : { logloss: r.ensemble_logloss, trials: r.ensemble_trials };
};

const CHECKS: CheckDecl<P>[] = [
  {
    id: "chains_equilibrated",
    role: "gate",
    what: "|configurational temperature / T − 1| over the sampled states (mean θ·∇U / P; = T once the chains sample the posterior)",
    cmp: "<=",
    threshold: 0.05,
    source: "this experiment: an ensemble of chains that have not reached the posterior is not the Bayesian mixture the claim is about (5%: the ≥ 800 prior-only directions of 1,000 relax within ~2/ε steps, so chains whose data directions had not moved at all would still read ≈ 0.8)",
    value: ({ points }) => Math.abs(one(points).config_temperature - 1),
  },
  { id: "room_to_improve", role: "gate", what: "the single solution's test log-loss (nats, mean over trials): an improvement of 0.02 must be possible", cmp: ">=", threshold: 0.02, source: "the claim's own margin (specs-01-22.md §4 PASS (iv))", value: ({ points }) => one(points).sgd_logloss },
  { id: "ensemble_gain", role: "claim", what: "single solution's test log-loss − the SGLD ensemble's (nats, mean over trials)", cmp: ">=", threshold: 0.02, source: "specs-01-22.md §4 PASS (iv) (design estimate)", value: ({ points }) => one(points).sgd_logloss - readOut(points).logloss },
];

/** Mean log-loss and accuracy of predicted P(y = 1) on labels y. */
function scores(p: Float64Array, y: ArrayLike<number>): { logloss: number; acc: number } {
  let ll = 0;
  let ok = 0;
  for (let i = 0; i < p.length; i++) {
    const q = Math.min(1 - 1e-12, Math.max(1e-12, p[i]));
    ll -= y[i] === 1 ? Math.log(q) : Math.log(1 - q);
    if ((p[i] > 0.5 ? 1 : 0) === y[i]) ok++;
  }
  return { logloss: ll / p.length, acc: ok / p.length };
}

export const sgldEnsemble = defineExperiment({
  id: "sgld-ensemble",
  paper: 4,
  title: "A Langevin ensemble as the Bayesian mixture learner: test log-loss against a single gradient-descent solution (digits 0 vs 1)",
  claim: (h) => `On logistic regression over ${h.features} random ReLU features of the 8×8 digits 0 and 1 (n = ${h.n}, prior N(0, ${h.prior}²)), the posterior predictive of ${h.chains} Langevin chains (step ${h.step}, ${h.steps} steps, temperature ${h.temperature}) has a test log-loss ≥ 0.02 nats below the single solution's (gradient descent on the same posterior energy: the MAP).`,
  coverage: {
    level: "partial",
    covered: ["(iv): an SGLD ensemble's posterior predictive against a single solution, on the spec's task and settings"],
    notCovered: ["deep networks (the paper's link to flat minima and distillation is qualitative)", "minibatch gradient noise (the 200 examples are one batch)"],
  },
  deviations: ["the step ε = 1e-2, not the spec's 1e-4, under which the chains do not reach the posterior in 2,000 steps with this energy (see the header)", "the energy's scale, the prior (σ_p = 1) and the baseline (the noise-free twin of a chain) are genlab's reading of an open spec", "trials (fresh features and split) inside one run: 6 at quick size, 20 at full"],
  criterionSource: "specs-01-22.md §4 PASS (iv) (a design estimate)",
  checks: CHECKS,
  negativeControl: { what: "one posterior sample (the last state of one chain) in place of the ensemble's average, judged by the same checks (the same chains: the control reads them out differently)", hparams: { predictive: "single" } },
  computes: (h) => ({ ...h, predictive: "ensemble" }),
  needs: [digitsNeed()],
  seeds: { smoke: 1, quick: 1, full: 1 },
  dataSource: "file",
  playFields: ["chains", "step", "steps", "temperature", "prior"],
  hparams: {
    predictive: oneOf(["ensemble", "single"], "ensemble", "ensemble: the mean over chains and samples (the mixture); single: one chain's last state (the control)"),
    features: integer(1000, "random ReLU features", { min: 1, max: 100000 }),
    n: integer(200, "training images (the rest of the 0s and 1s are the test set)", { min: 2, max: 300 }),
    chains: integer(16, "Langevin chains", { min: 1, max: 1024 }),
    step: number(1e-2, "ε (the spec's 1e-4 leaves the chains far from the posterior: configurational temperature 0.13)", { min: 0, max: 10, minExclusive: true }),
    steps: integer(2000, "steps per chain", { min: 2, max: 1_000_000 }),
    temperature: number(1, "T (1: the posterior)", { min: 0, max: 100 }),
    prior: number(1, "σ_p: the prior N(0, σ_p² I) on the weights", { min: 0, max: 1000, minExclusive: true }),
    trials: integer(20, "independent features and train/test splits", { min: 1, max: 1000 }),
  },
  sizes: { smoke: { trials: 2, steps: 200 }, quick: { trials: 6 } },
  cost: { smoke: "~8 s", quick: "~85 s measured, with the control", full: "~5 min" },
  calibration: {
    seeds: [100, 101, 102],
    outcome: "quick (6 trials): FAIL on each seed, both gates passing — gain −0.0010, −0.0015, +0.0002 nats (needs ≥ 0.02): the ensemble's predictive and the single solution's are within 0.002 nats (single ≈ 0.40 nats, accuracy 100%); configurational temperature 0.998, 0.998, 1.000 (gate: within 5%); at the spec's step 1e-4 (seed 100) INCONCLUSIVE, temperature 0.13; 73–88 s alone. A numpy prototype with priors σ_p = 3 and 10 found the same (the ensemble 0.002–0.014 nats worse)",
  },

  async run(ctx): Promise<SgldPointResults> {
    const h = ctx.hparams;
    const digits = loadDigits();
    const rows = Array.from(digits.y).flatMap((v, i) => (v === 0 || v === 1 ? [i] : []));
    if (h.n >= rows.length) throw new Error(`n = ${h.n} leaves no test images (${rows.length} images of 0 and 1)`);
    const D = h.features;
    const every = 10;
    const burnIn = Math.floor(h.steps / 2);
    const curveEvery = every * Math.max(1, Math.floor(h.steps / 20 / every)); // a multiple of the sampling interval
    const curveSteps = Array.from({ length: Math.floor(h.steps / curveEvery) }, (_, i) => (i + 1) * curveEvery);
    const sgdTrials: number[] = [];
    const ensTrials: number[] = [];
    let sgdAcc = 0;
    let tconf = 0;
    const sampleTrials: number[] = [];
    let sampleAcc = 0;
    let ensAcc = 0;
    const sgdCurve = new Float64Array(curveSteps.length);
    const ensCurve = new Float64Array(curveSteps.length);
    let key = keyFromSeed(ctx.seed);
    for (let t = 0; t < h.trials; t++) {
      const [next, kp, kw, kb, kc] = splitKey(key, 5);
      key = next;
      const perm = permutationFromKey(kp, rows.length);
      const tr = Array.from(perm.subarray(0, h.n), (i) => rows[i]);
      const te = Array.from(perm.subarray(h.n), (i) => rows[i]);
      // φ(x) = ReLU(Wx + b)/√D, W ~ N(0, 1/64), b ~ N(0, 1): x's pixels in [0, 1].
      const W = random.normal(kw, [64, D]).mul(1 / 8);
      const b = random.normal(kb, [D]);
      const feats = (idx: number[]) => np.maximum(np.matmul(np.array(Float32Array.from(idx.flatMap((i) => Array.from(digits.x.subarray(i * 64, (i + 1) * 64)))), { shape: [idx.length, 64] }), W.ref).add(b.ref), 0).mul(1 / Math.sqrt(D));
      const Ftr = feats(tr);
      const Fte = feats(te);
      W.dispose();
      b.dispose();
      const ytr = np.array(Float32Array.from(tr, (i) => digits.y[i]), { shape: [1, tr.length] });
      const yte = Int32Array.from(te, (i) => digits.y[i]);
      // U(θ) = Σᵢ softplus(−sᵢ·zᵢ) + ‖θ‖²/(2σ_p²), z = θΦᵀ, s = 2y − 1; summed over chains (rows of θ).
      const energy = (th: JaxArray, F: JaxArray, yy: JaxArray) => {
        const z = np.matmul(th.ref, F.transpose()); // C × n
        const s = yy.mul(2).sub(1);
        const nll = np.logaddexp(np.zeros(z.shape), z.mul(s).mul(-1)).sum();
        return nll.add(th.ref.mul(th).sum().mul(1 / (2 * h.prior ** 2)));
      };
      const probs = async (th: JaxArray) => {
        const z = (await np.matmul(th, Fte.ref.transpose()).data()) as Float32Array; // C × nTest
        return Float64Array.from(z, (v) => 1 / (1 + Math.exp(-v)));
      };
      const nTe = te.length;
      // The single solution: T = 0 from θ = 0, the same steps; its curve sampled every curveEvery steps.
      const sgdAt: number[] = [];
      const { theta: sgdFinal } = await sgld({
        energy,
        data: () => [Ftr.ref, ytr.ref],
        init: np.zeros([1, D]),
        step: h.step,
        steps: h.steps,
        temperature: 0,
        burnIn: 0,
        every: curveEvery,
        key: keyFromSeed(0),
        sample: async (th) => {
          sgdAt.push(scores(await probs(th), yte).logloss);
        },
      });
      const sgd = scores(await probs(sgdFinal), yte);
      // The chains: a running mean of their predictions (every `every` steps), restarted after burn-in — at the
      // end it is the ensemble's predictive over the second half; before, the curve's running estimate.
      const ensAt: number[] = [];
      const running = new Float64Array(nTe);
      let runCount = 0;
      let restarted = false;
      const { theta: last, configTemperature } = await sgld({
        energy,
        data: () => [Ftr.ref, ytr.ref],
        init: np.zeros([h.chains, D]),
        step: h.step,
        steps: h.steps,
        temperature: h.temperature,
        burnIn: 0, // every state from the start goes to the curve; the ensemble and the diagnostic use the second half
        diagnosticFrom: burnIn,
        every,
        key: kc,
        sample: async (th, step) => {
          const p = await probs(th);
          const C = p.length / nTe;
          if (step > burnIn && !restarted) {
            restarted = true;
            running.fill(0);
            runCount = 0;
          }
          if (step % every === 0) {
            for (let c = 0; c < C; c++) for (let i = 0; i < nTe; i++) running[i] += p[c * nTe + i];
            runCount += C;
          }
          if (step % curveEvery === 0) ensAt.push(scores(Float64Array.from(running, (v) => v / runCount), yte).logloss);
        },
      });
      const lastP = await probs(last);
      Ftr.dispose();
      Fte.dispose();
      ytr.dispose();
      const ens = scores(Float64Array.from(running, (v) => v / runCount), yte);
      const one = scores(lastP.subarray(0, nTe), yte);
      sampleTrials.push(one.logloss);
      sampleAcc += one.acc / h.trials;
      tconf += configTemperature / h.trials;
      sgdTrials.push(sgd.logloss);
      ensTrials.push(ens.logloss);
      sgdAcc += sgd.acc / h.trials;
      ensAcc += ens.acc / h.trials;
      for (let i = 0; i < curveSteps.length; i++) {
        sgdCurve[i] += (sgdAt[i] ?? NaN) / h.trials;
        ensCurve[i] += (ensAt[i] ?? NaN) / h.trials;
      }
      await ctx.record({ sgd_logloss: sgd.logloss, ensemble_logloss: ens.logloss }, { phase: "trials", axis: "trial", x: t });
      ctx.progress(t + 1, h.trials);
    }
    key.dispose();
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    return { trials: h.trials, sample_logloss: mean(sampleTrials), sample_acc: sampleAcc, sample_trials: sampleTrials, config_temperature: tconf / h.temperature, sgd_logloss: mean(sgdTrials), ensemble_logloss: mean(ensTrials), sgd_acc: sgdAcc, ensemble_acc: ensAcc, sgd_trials: sgdTrials, ensemble_trials: ensTrials, curve_steps: curveSteps, sgd_curve: Array.from(sgdCurve), ensemble_curve: Array.from(ensCurve) };
  },

  figures(all: P[], v) {
    const r = all[0]?.results;
    if (!r) return [];
    return [
      {
        name: "sgld-ensemble",
        title: "Test log-loss of the Langevin ensemble's predictive and of a single gradient-descent solution",
        subtitle: `${r.trials} trials, configurational temperature ${r.config_temperature.toFixed(3)} (1 at equilibrium): single solution ${r.sgd_logloss.toFixed(4)} nats (accuracy ${(100 * r.sgd_acc).toFixed(1)}%), ensemble ${r.ensemble_logloss.toFixed(4)} (${(100 * r.ensemble_acc).toFixed(1)}%), one posterior sample ${r.sample_logloss.toFixed(4)}; gain ${(v.measured.ensemble_gain ?? NaN).toFixed(4)} (≥ 0.02) → ${v.verdict}`,
        panels: [
          {
            kind: "line" as const,
            title: "test log-loss against the step (mean over trials; the ensemble: running mean of the chains' predictions)",
            xLabel: "step",
            yLabel: "test log-loss (nats, log)",
            yLog: true,
            series: [
              { name: "single solution (T = 0)", x: r.curve_steps, y: r.sgd_curve },
              { name: "ensemble of chains", x: r.curve_steps, y: r.ensemble_curve },
            ],
            width: 520,
          },
          {
            kind: "line" as const,
            title: "per trial: the ensemble's against the single solution's log-loss (below the diagonal: the ensemble wins)",
            xLabel: "single solution (nats)",
            yLabel: "ensemble (nats)",
            series: [
              { name: "trials", x: r.sgd_trials, y: r.ensemble_trials, dots: true },
              { name: "diagonal", x: [Math.min(...r.sgd_trials, ...r.ensemble_trials), Math.max(...r.sgd_trials, ...r.ensemble_trials)], y: [Math.min(...r.sgd_trials, ...r.ensemble_trials), Math.max(...r.sgd_trials, ...r.ensemble_trials)], dashed: true },
            ],
            width: 380,
          },
        ],
      },
    ];
  },
});
