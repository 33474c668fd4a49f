/**
 * Planning, browser-safe: `--set` pairs into validated hparams and settings, and an experiment's points
 * (its sweep or one run per seed, then its negative control's) with their hashes.
 */
import { GenlabError, type ErrorIssue } from "../core/errors.ts";
import { hashConfig } from "../core/hash.ts";
import { expandSweep, type Experiment, type Size } from "./experiment.ts";
import { coerceValue, parseValues, unknownKeyIssue, type Values } from "./schema.ts";

/** A planned run: everything that identifies it. */
export type PointSpec = { experiment: string; size: Size; seed: number; hparams: Values; settings: Values; role: "point" | "control"; set: string[] };

/** Split `--set` pairs into hparams and settings and validate both (all problems reported at once). */
export function resolveConfig(exp: Experiment, size: Size, set: string[], extra: Values = {}): { hparams: Values; settings: Values } {
  const issues: ErrorIssue[] = [];
  const h: Record<string, unknown> = { ...(size === "full" ? {} : exp.sizes[size]) };
  const s: Record<string, unknown> = {};
  for (const pair of set) {
    const eq = pair.indexOf("=");
    if (eq <= 0) {
      issues.push({ code: "invalid_flag", path: ["--set"], message: `expected key=value, got ${JSON.stringify(pair)}` });
      continue;
    }
    const key = pair.slice(0, eq).trim();
    const raw = pair.slice(eq + 1);
    if (key in exp.hparams) h[key] = coerceValue(exp.hparams[key], raw);
    else if (key in exp.settings) s[key] = coerceValue(exp.settings[key], raw);
    else issues.push(unknownKeyIssue(key, [...Object.keys(exp.hparams), ...Object.keys(exp.settings)], ["--set", key]));
  }
  Object.assign(h, extra);
  const hp = parseValues(exp.hparams, h, ["hparams"]);
  const st = parseValues(exp.settings, s, ["settings"]);
  if (!hp.ok) issues.push(...hp.issues);
  else if (exp.validate) for (const { key, message } of exp.validate(hp.value)) issues.push({ code: "invalid_config", path: ["hparams", key], message });
  if (!st.ok) issues.push(...st.issues);
  if (issues.length || !hp.ok || !st.ok) throw new GenlabError(issues);
  return { hparams: hp.value, settings: st.value };
}

/**
 * The points of an experiment at a size for the given seeds (see `seedsOf`): its sweep grid (or one run) per
 * seed, then its negative control's points (the same grid with the control's hparams). Unknown sweep keys
 * are errors.
 */
export function planExperiment(exp: Experiment, size: Size, set: string[], seeds: readonly number[]): { points: PointSpec[]; control: PointSpec[] } {
  const base = resolveConfig(exp, size, set);
  const grids = exp.sweep ? exp.sweep(size, base.hparams) : [{}];
  for (const g of grids)
    for (const k of Object.keys(g)) if (k !== "seeds" && !(k in exp.hparams)) throw new GenlabError(unknownKeyIssue(k, Object.keys(exp.hparams), [exp.id, "sweep", k]));
  const expand = (extra: Values, role: PointSpec["role"]) =>
    expandSweep(grids, seeds).map(({ set: over, seed }) => {
      const { hparams, settings } = resolveConfig(exp, size, set, { ...over, ...extra });
      return { experiment: exp.id, size, seed, hparams, settings, role, set };
    });
  // A control run inside each point (inRun) adds no points; a control by hparams re-runs every point without the ingredient.
  const control = exp.negativeControl?.hparams;
  return { points: expand({}, "point"), control: control ? expand(control as Values, "control") : [] };
}

export const hparamsHashOf = (experiment: string, hparams: Values) => hashConfig({ experiment, hparams });

/**
 * The identity of the run a point needs: the hash of the hparams it computes with (`computes`, when the
 * experiment declares one), so equivalent points share one run in the store.
 */
export const runHashOf = (exp: Pick<Experiment, "id" | "computes">, hparams: Values) => hparamsHashOf(exp.id, exp.computes ? exp.computes(hparams) : hparams);

