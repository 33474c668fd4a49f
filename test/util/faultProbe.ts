/**
 * A tiny experiment with every kind of state a run writes (two trainings with minibatch shuffling and
 * checkpoints, a phase with records on an axis and an array artifact, a summary), for the kill tests and
 * the checkpoint fuzzing. Also runnable as a child process:
 *   node --import tsx test/util/faultProbe.ts run <out>          → prints the summary JSON
 *   node --import tsx test/util/faultProbe.ts resume <out> <id>  → prints the summary JSON
 * with GENLAB_FAULT=<point>:<n> to SIGKILL itself at a write (src/runner/fault.ts).
 */
import { numpy as np, type Array } from "@jax-js/jax";
import { roleKeys } from "../../src/core/prng.ts";
import { treeDispose } from "../../src/core/tree.ts";
import { applyMlp, initMlp, mlpSpec, type MlpParams } from "../../src/nn/dense.ts";
import { adam } from "../../src/optim/aliases.ts";
import { defineExperiment } from "../../src/declare/experiment.ts";
import { integer } from "../../src/declare/schema.ts";

export const faultProbe = defineExperiment({
  id: "fault-probe",
  paper: 16,
  title: "a probe for fault injection",
  claim: () => "survives kills",
  coverage: { level: "full", covered: ["run state"], notCovered: [] },
  deviations: ["not a paper"],
  criterionSource: "this test",
  dataSource: "generated",
  hparams: {
    steps: integer(24, "steps of each training", { min: 1, max: 1000 }),
  },
  sizes: { smoke: {}, quick: {} },
  cost: { smoke: "1 s", quick: "1 s", full: "1 s" },
  async run(ctx) {
    const n = 24;
    const x = Float32Array.from({ length: n * 4 }, (_, i) => Math.sin(i * 1.3));
    const y = Float32Array.from({ length: n }, (_, i) => x[4 * i] - x[4 * i + 1] + 0.5 * x[4 * i + 2]);
    const data = { x, xShape: [n, 4], y, yShape: [n, 1], numClasses: 0 };
    const spec = mlpSpec({ dims: [4, 8, 1], activation: "tanh", bias: true });
    const k = roleKeys(ctx.seed, ["init", "pre", "main"]);
    const loss = (p: MlpParams, xb: Array, yb: Array) => np.square(applyMlp(spec, p, xb).sub(yb)).mean();
    const evaluate = (p: MlpParams, xb: Array, yb: Array) => ({ mse: np.square(applyMlp(spec, p, xb).sub(yb)).mean() });
    const pre = await ctx.train<MlpParams>({ name: "pre", params: initMlp(spec, k.init), loss, evaluate, evalSets: { train: data }, optimizer: adam(0.02), train: data, steps: ctx.hparams.steps, batchSize: 5, key: k.pre, log: { every: 3, perDecade: 0 }, progressKeys: ["train_mse"] });
    const scored = await ctx.phase("score", async () => {
      const s = Float32Array.from({ length: n }, (_, i) => Math.abs(y[i]) * (1 + pre.history.at(-1)!.train_mse));
      for (let w = 1; w <= 4; w++) await ctx.record({ value: s[w] * w }, { axis: "width", x: w });
      ctx.saveArray("scores", s);
      return s.reduce((a, b) => a + b, 0);
    });
    const main = await ctx.train<MlpParams>({ params: pre.params, optState: pre.optState, loss, evaluate, evalSets: { train: data }, optimizer: adam(0.02), train: data, steps: ctx.hparams.steps, batchSize: 7, key: k.main, log: { every: 2, perDecade: 0 }, progressKeys: ["train_mse"] });
    treeDispose([main.params, main.optState]);
    return { scored, pre_mse: pre.history.at(-1)!.train_mse, final_mse: main.history.at(-1)!.train_mse };
  },
  checks: [{ id: "final_over_pre_mse", role: "claim", what: "final / pre-training MSE", cmp: "<", threshold: 1, source: "this test", value: ({ points }) => points[0].results.final_mse / points[0].results.pre_mse }],
  figures: () => [],
});

if (process.argv[1]?.endsWith("faultProbe.ts")) {
  await import("../../src/platform/nodeShim.ts");
  const { runPoint, resumeRun, planExperiment } = await import("../../src/runner/run.ts");
  const { reportError } = await import("../../src/cli/main.ts");
  const [cmd, out, id] = process.argv.slice(2);
  try {
    const opts = { outDir: out, quiet: true };
    const s = cmd === "run" ? await runPoint([faultProbe], planExperiment(faultProbe, "smoke", ["checkpointEvery=4"], [0]).points[0], { ...opts, force: true }) : await resumeRun([faultProbe], id, opts);
    process.stdout.write(JSON.stringify(s) + "\n");
  } catch (e) {
    process.exitCode = reportError(e);
  }
}
