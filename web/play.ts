/**
 * In-browser runs of any registered experiment whose data is generated in the page: the experiment's own
 * `run`, `verdict` and `figures`, through the runner's run-context contract (src/runner/context.ts) with a
 * sink that keeps everything in memory. Loaded lazily so the runs list does not pay for jax-js.
 */
import { initDevices } from "../src/core/jax.ts";
import { createRunContext } from "../src/runner/context.ts";
import type { Experiment, Json, MetricRow, Point } from "../src/declare/experiment.ts";
import { planExperiment } from "../src/declare/plan.ts";
import { judge } from "../src/declare/criteria.ts";
import { seedsOf } from "../src/declare/experiment.ts";
import { coerceValue, defaults, parseValues, type Values } from "../src/declare/schema.ts";
import { figureSvg } from "../src/report/plot.ts";
import { EXPERIMENTS } from "../experiments/index.ts";

/** Experiments a page can run: those whose data is generated (no files to read). */
export const PLAYABLE: readonly Experiment[] = EXPERIMENTS.filter((e) => e.dataSource === "generated");

export function playable(id: string | undefined): Experiment {
  return PLAYABLE.find((e) => e.id === id) ?? PLAYABLE.find((e) => e.id === "grokking-modular") ?? PLAYABLE[0];
}

/** The hparams shown in the form: the experiment's own list, else all of them. */
export const playFields = (exp: Experiment) => [...(exp.playFields ?? Object.keys(exp.hparams)), "seed"];

export const fieldDoc = (exp: Experiment, k: string) => (k === "seed" ? "random seed" : (exp.hparams[k]?.doc ?? ""));

/** The size whose defaults fill what the URL leaves out: `size=smoke` or quick (the default). */
export const playSize = (raw: Record<string, string>): "smoke" | "quick" => (raw.size === "smoke" ? "smoke" : "quick");

export function defaultOf(exp: Experiment, k: string, size: "smoke" | "quick" = "quick"): string | number | boolean {
  if (k === "seed") return 0;
  return { ...defaults(exp.hparams), ...exp.sizes[size] }[k];
}

/** URL/form strings → validated hparams + seed (the size's defaults for what is missing). */
export function resolvePlayConfig(exp: Experiment, raw: Record<string, string>): { ok: true; value: Values } | { ok: false; error: string } {
  const base: Record<string, unknown> = { ...defaults(exp.hparams), ...exp.sizes[playSize(raw)] };
  const problems: string[] = [];
  let seed = 0;
  for (const [k, v] of Object.entries(raw)) {
    if (k === "autorun" || k === "exp" || k === "size") continue;
    if (k === "seed") {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) problems.push(`seed: expected an integer in [0, 4294967295], got "${v}"`);
      else seed = n;
      continue;
    }
    const f = exp.hparams[k];
    if (!f) {
      problems.push(`${k}: not a parameter of ${exp.id}`);
      continue;
    }
    base[k] = coerceValue(f, v);
  }
  const r = parseValues(exp.hparams, base);
  if (!r.ok) problems.push(...r.issues.map((i) => `${i.path.join(".")}: ${i.message}`));
  if (problems.length || !r.ok) return { ok: false, error: problems.join("; ") };
  return { ok: true, value: { ...r.value, seed } };
}

export type PlayOutcome = { verdict: string; seconds: number; device: string; figures: string[]; results: Json[] };

/** Run the experiment's points (a sweep runs every point) in the page, then its verdict and figures. */
export async function runInBrowser(
  exp: Experiment,
  cfg: Values,
  size: "smoke" | "quick",
  cb: { onLog(rec: { step: number } & Record<string, number>): void; onProgress(step: number, total: number, device: string): void; shouldStop(): boolean },
): Promise<PlayOutcome> {
  const device = await initDevices();
  const { seed, ...hparams } = cfg;
  const set = Object.entries(hparams).map(([k, v]) => `${k}=${v}`);
  const { points } = planExperiment(exp, size, set, seedsOf(exp, size, Number(seed)));
  const t0 = performance.now();
  const done: Point[] = [];
  let lastUi = 0;
  for (const spec of points) {
    const metrics: MetricRow[] = [];
    const arrays = new Map<string, { data: Float32Array | Float64Array | Int32Array | Uint8Array; shape: number[] }>();
    const ctx = createRunContext({
      experiment: exp.id,
      hparams: spec.hparams,
      settings: { ...defaults(exp.settings), checkpointEvery: 0 },
      seed: spec.seed,
      size,
      metrics,
      done: {},
      shouldStop: cb.shouldStop,
      onProgress: (step, total) => {
        const now = performance.now();
        if (now - lastUi > 100 || step === total) {
          lastUi = now;
          cb.onProgress(step, total, device);
        }
      },
      sink: {
        writeRow: (row) => {
          if (row.axis === "step") cb.onLog({ step: row.x, ...row.values });
        },
        readCheckpoint: () => undefined,
        writeCheckpoint: () => {},
        phaseDone: () => {},
        saveArray: (name, data, shape) => void arrays.set(name, { data, shape }),
        loadArray: (name) => {
          const a = arrays.get(name);
          if (!a) throw new RangeError(`no array ${name}`);
          return a;
        },
      },
    });
    const results = await exp.run(ctx);
    done.push({ runId: `browser-${done.length}`, hparams: spec.hparams, seed: spec.seed, results, metrics, arrays: [], dir: "" });
  }
  const verdict = judge(exp.id, exp.checks, done, size);
  const figures = exp.figures(done, verdict).map((f) => figureSvg(f, document));
  return { verdict: verdict.verdict, seconds: (performance.now() - t0) / 1000, device, figures, results: done.map((d) => d.results) };
}
