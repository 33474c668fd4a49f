/**
 * Theory calculators callable on their own (`genlab calc <id> --set key=value …`): each declares its
 * parameters (default, range, doc) and returns named outputs. Missing or bad parameters are errors that
 * name the key and what was expected.
 */
import { GenlabError, type ErrorIssue } from "../core/errors.ts";
import { krrRisk, powerLawTask, rfRisk } from "./eigenframework.ts";

type Param = { doc: string; default?: number; min: number; max: number; integer?: boolean };
export type Calculator = { doc: string; params: Record<string, Param>; compute(p: Record<string, number>): Record<string, number> };

const TASK: Record<string, Param> = {
  modes: { doc: "number of eigenmodes M", default: 3000, min: 1, max: 1_000_000, integer: true },
  alpha: { doc: "eigenvalue exponent: λᵢ = i^(−alpha)", default: 1.2, min: 0, max: 10 },
  beta: { doc: "target exponent: vᵢ² ∝ i^(−beta)", default: 1.4, min: 0, max: 10 },
  noise: { doc: "label noise variance σ²", default: 0, min: 0, max: 1e6 },
  ridge: { doc: "ridge δ (0: ridgeless)", default: 0, min: 0, max: 1e12 },
};

export const CALCULATORS: Record<string, Calculator> = {
  "rf-risk": {
    doc: "random-feature ridge regression test risk on a power-law task (Simon et al. 2023, eigenframework)",
    params: { ...TASK, n: { doc: "training samples", min: 1, max: 1e9, integer: true }, k: { doc: "random features", min: 1, max: 1e9, integer: true } },
    compute(p) {
      const r = rfRisk(powerLawTask(p.modes, p.alpha, p.beta, p.noise), p.n, p.k, p.ridge);
      return { test_mse: r.test, kappa: r.kappa, gamma: r.gamma, e0: r.e0 };
    },
  },
  "krr-risk": {
    doc: "kernel ridge regression (k → ∞) test and train risk on a power-law task (Simon et al. 2023)",
    params: { ...TASK, n: { doc: "training samples", min: 1, max: 1e9, integer: true } },
    compute(p) {
      const r = krrRisk(powerLawTask(p.modes, p.alpha, p.beta, p.noise), p.n, p.ridge);
      return { test_mse: r.test, train_mse: r.train, fitting_ratio: r.train / r.test, kappa: r.kappa, e0: r.e0 };
    },
  },
};

export function runCalculator(id: string, set: string[]): { calculator: string; inputs: Record<string, number>; outputs: Record<string, number> } {
  const calc = CALCULATORS[id];
  if (!calc) throw new GenlabError({ code: "unknown_calculator", path: ["<calculator>"], message: `unknown calculator ${JSON.stringify(id)}; valid calculators: ${Object.keys(CALCULATORS).join(", ")}` });
  const issues: ErrorIssue[] = [];
  const given: Record<string, number> = {};
  for (const pair of set) {
    const eq = pair.indexOf("=");
    const key = eq > 0 ? pair.slice(0, eq).trim() : "";
    if (!key) {
      issues.push({ code: "invalid_flag", path: ["--set"], message: `expected key=value, got ${JSON.stringify(pair)}` });
      continue;
    }
    const f = calc.params[key];
    if (!f) {
      issues.push({ code: "unknown_key", path: ["--set", key], message: `unknown parameter ${JSON.stringify(key)}; parameters of ${id}: ${Object.keys(calc.params).join(", ")}` });
      continue;
    }
    const raw = pair.slice(eq + 1).trim();
    const v = raw === "" ? NaN : Number(raw);
    const kind = f.integer ? "an integer" : "a number";
    if (!Number.isFinite(v) || (f.integer && !Number.isInteger(v)) || v < f.min || v > f.max) issues.push({ code: "out_of_range", path: ["--set", key], message: `expected ${kind} in [${f.min}, ${f.max}] (${f.doc}), got ${JSON.stringify(raw)}` });
    else given[key] = v;
  }
  const inputs: Record<string, number> = {};
  for (const [k, f] of Object.entries(calc.params)) {
    if (k in given) inputs[k] = given[k];
    else if (f.default !== undefined) inputs[k] = f.default;
    else if (!issues.some((i) => i.path[1] === k)) issues.push({ code: "missing_key", path: ["--set", k], message: `missing parameter ${k} (${f.doc}); give it as --set ${k}=…` });
  }
  if (issues.length) throw new GenlabError(issues);
  try {
    return { calculator: id, inputs, outputs: calc.compute(inputs) };
  } catch (e) {
    if (e instanceof RangeError) throw new GenlabError({ code: "invalid_value", path: ["--set"], message: e.message });
    throw e;
  }
}
