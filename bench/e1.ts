/**
 * E1 of `npm run bench`: the quick grokking reproduction end to end, genlab's side. Exports the run's
 * exact data split and initial weights (the experiment's own code: roleKeys → modularDataset, initMlp)
 * and log steps to <dir> for the PyTorch side (bench/e1_grokking.py), then runs the reproduction (no
 * control) in this process and prints {id, cpu_ms, wall_ms, check, train_step_99, test_step_95}.
 *   node --import tsx bench/e1.ts <dir> [--profile]
 */
import "../src/platform/nodeShim.ts";
import { profiler } from "@jax-js/jax";
import { printProfile } from "./profile.ts";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EXPERIMENTS } from "../experiments/index.ts";
import { initDevices } from "../src/core/jax.ts";
import { roleKeys } from "../src/core/prng.ts";
import { encodeNpy } from "../src/data/npy.ts";
import { modularDataset } from "../src/data/modular.ts";
import { initMlp, mlpSpec } from "../src/nn/dense.ts";
import { planExperiment, runPoint } from "../src/runner/run.ts";
import { logSteps } from "../src/train/schedule.ts";

await initDevices();
const dir = process.argv[2];
mkdirSync(dir, { recursive: true });
const exp = EXPERIMENTS.find((e) => e.id === "grokking-modular")!;
const spec = planExperiment(exp, "quick", [], [0]).points[0];
const h = spec.hparams as { p: number; op: "add"; trainFraction: number; corruption: number; hidden: number; steps: number; logEvery: number; perDecade: number; lr: number; weightDecay: number; b1: number; b2: number };
const k = roleKeys(spec.seed, ["data", "init", "shuffle"]);
k.shuffle.dispose();
const data = modularDataset({ p: h.p, op: h.op, trainFraction: h.trainFraction, corruption: h.corruption, encoding: "onehot" }, k.data);
const params = initMlp(mlpSpec({ dims: [data.train.xShape[1], h.hidden, h.p], activation: "square", bias: false }), k.init);
const save = (name: string, a: { data: Float32Array | Int32Array; shape: number[] }) => writeFileSync(join(dir, `${name}.npy`), encodeNpy(a));
save("x_train", { data: data.train.x as Float32Array, shape: data.train.xShape });
save("y_train", { data: data.train.y as Int32Array, shape: [data.train.y.length] });
save("x_test", { data: data.test.x as Float32Array, shape: data.test.xShape });
save("y_test", { data: data.test.y as Int32Array, shape: [data.test.y.length] });
for (const [i, l] of params.layers.entries()) save(`w${i + 1}`, { data: (await l.w.data()) as Float32Array, shape: l.w.shape });
writeFileSync(join(dir, "config.json"), JSON.stringify({ ...h, log_steps: logSteps(h.steps, { every: h.logEvery, perDecade: h.perDecade }) }));

// --profile: per-kernel times on stderr (bench/profile.ts; Node keeps every measure until the end)
const PROFILE = process.argv.includes("--profile");
if (PROFILE) profiler.startTrace();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const s = await runPoint(EXPERIMENTS, spec, { outDir: join(dir, "runs"), quiet: true, force: true });
const wall = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
if (PROFILE) {
  profiler.stopTrace();
  printProfile("E1", wall);
}
const r = s.results as { train_step_99: { hi: number | null }; test_step_95: { hi: number | null } };
console.log(JSON.stringify({ id: "E1", cpu_ms: (cpu.user + cpu.system) / 1000, wall_ms: wall, reps: 1, flops: 0, check: r.test_step_95.hi, train_step_99: r.train_step_99.hi, test_step_95: r.test_step_95.hi }));
