/**
 * In-browser runs of the quick grokking reproduction: the experiment's own `run`, `verdict` and
 * `figures` (experiments/paper27/grokkingModular.ts) with a RunContext that keeps everything in the
 * page. Loaded lazily so the runs list does not pay for jax-js.
 */
import { initDevices } from "../src/core/jax.ts";
import { coerceValue, defaults, parseValues, type Values } from "../src/runner/schema.ts";
import type { RunContext } from "../src/runner/experiment.ts";
import type { LogRecord } from "../src/train/loop.ts";
import { grokkingModular as exp } from "../experiments/paper27/grokkingModular.ts";

/** The hparams shown in the form (all others keep their quick-size values; any hparam may be in the URL). */
export const PLAY_FIELDS = ["p", "op", "trainFraction", "hidden", "lr", "weightDecay", "steps", "seed"];

export const fieldDoc = (k: string) => (k === "seed" ? "random seed" : (exp.hparams[k]?.doc ?? ""));

export function defaultOf(k: string): string | number | boolean {
  if (k === "seed") return 0;
  return { ...defaults(exp.hparams), ...exp.sizes.quick }[k];
}

/** URL/form strings → validated hparams + seed (quick-size defaults for what is missing). */
export function resolvePlayConfig(raw: Record<string, string>): { ok: true; value: Values } | { ok: false; error: string } {
  const base: Record<string, unknown> = { ...defaults(exp.hparams), ...exp.sizes.quick };
  const problems: string[] = [];
  let seed = 0;
  for (const [k, v] of Object.entries(raw)) {
    if (k === "autorun") continue;
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

export type PlayOutcome = { verdict: string; seconds: number; device: string; figures: string[]; results: unknown };

export async function runInBrowser(
  cfg: Values,
  cb: { onLog(rec: LogRecord): void; onProgress(step: number, total: number, device: string): void; shouldStop(): boolean },
): Promise<PlayOutcome> {
  const device = await initDevices();
  const { seed, ...hparams } = cfg;
  const history: LogRecord[] = [];
  const settings = { ...defaults(exp.settings), checkpointEvery: 0 };
  let lastUi = 0;
  const ctx: RunContext = {
    experiment: exp.id,
    hparams,
    settings,
    seed: Number(seed),
    size: "quick",
    log: async (rec) => {
      history.push(rec);
      cb.onLog(rec);
    },
    history: () => history,
    progress: (step, total) => {
      const now = performance.now();
      if (now - lastUi > 100 || step === total) {
        lastUi = now;
        cb.onProgress(step, total, device);
      }
    },
    saveCheckpoint: async () => {},
    shouldStop: cb.shouldStop,
  };
  const t0 = performance.now();
  const results = await exp.run(ctx);
  const verdict = exp.verdict(results, hparams);
  const figures = exp.figures(results, history, hparams, document).map((f) => f.svg);
  return { verdict: verdict.verdict, seconds: (performance.now() - t0) / 1000, device, figures, results };
}
