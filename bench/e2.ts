/**
 * E2 of `npm run bench`: the Data Diet quick reproduction's scoring and one retraining, genlab's side,
 * with the experiment's own quick hyperparameters and data subset (planExperiment → roleKeys →
 * permutationFromKey, as experiments/paper13/dataDiet.ts does): EL2N at epochs 0, 2 and 10 and
 * ghost-norm GraNd at 0 and 2 averaged over 3 runs of 10 SGD epochs (read off the per-example dynamics
 * logger, which measures every example after every epoch), forgetting events, each run's test
 * accuracy (the experiment's "score-clean" phase), then one retraining on the top 50% by EL2N@2 (one of
 * its "retrain" phases). Exports the subset to <dir> for the PyTorch side (bench/e2_datadiet.py) and
 * prints {id, cpu_ms, wall_ms, score_ms, retrain_ms, check (retrained test accuracy), el2n_mean}.
 *   node --import tsx bench/e2.ts <dir> [--profile]
 */
import "../src/platform/nodeShim.ts";
import { DType, numpy as np, profiler } from "@jax-js/jax";
import { collectProfile, printProfile } from "./profile.ts";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EXPERIMENTS } from "../experiments/index.ts";
import { initDevices } from "../src/core/jax.ts";
import { keyFromSeed, permutationFromKey, roleKeys, splitKey } from "../src/core/prng.ts";
import { treeDispose } from "../src/core/tree.ts";
import { takeRows, type Dataset } from "../src/data/dataset.ts";
import { encodeNpy } from "../src/data/npy.ts";
import { loadFashionMnist } from "../src/io/fashionMnist.ts";
import { applyMlp, initMlp, mlpSpec, type MlpParams, type MlpSpec } from "../src/nn/dense.ts";
import { accuracy, softmaxCrossEntropy } from "../src/nn/losses.ts";
import { sgd } from "../src/optim/aliases.ts";
import { planExperiment } from "../src/runner/run.ts";
import { topK } from "../src/scores/ranking.ts";
import { scoreRuns } from "../src/scores/runs.ts";
import { dynamicsRecorder, stepsPerEpoch } from "../src/scores/dynamics.ts";
import { train } from "../src/train/loop.ts";

await initDevices();
const dir = process.argv[2];
mkdirSync(dir, { recursive: true });
const exp = EXPERIMENTS.find((e) => e.id === "data-diet")!;
const point = planExperiment(exp, "quick", [], [0]).points[0];
const h = point.hparams as { trainSize: number; testSize: number; hidden: string; lr: number; batchSize: number; scoreRuns: number; scoreEpochs: number; retrainEpochs: number };
const KEEP = 0.5;
const fm = loadFashionMnist();
const k = roleKeys(point.seed, ["subsample", "noise", "score", "noisyScore", "retrain"]);
const trainSet = takeRows(fm.train, permutationFromKey(k.subsample, fm.train.y.length).subarray(0, h.trainSize));
const test = takeRows(fm.test, Int32Array.from({ length: h.testSize }, (_, i) => i));
treeDispose([k.noise, k.noisyScore, k.retrain]);
const hidden = h.hidden.split(",").map(Number);
const spec = mlpSpec({ dims: [784, ...hidden, 10], activation: "relu", bias: true });
const save = (name: string, a: { data: Float32Array | Int32Array; shape: number[] }) => writeFileSync(join(dir, `${name}.npy`), encodeNpy(a));
save("x_train", { data: trainSet.x as Float32Array, shape: trainSet.xShape });
save("y_train", { data: trainSet.y as Int32Array, shape: [trainSet.y.length] });
save("x_test", { data: test.x as Float32Array, shape: test.xShape });
save("y_test", { data: test.y as Int32Array, shape: [test.y.length] });
writeFileSync(join(dir, "config.json"), JSON.stringify({ ...h, hidden, keep: KEEP }));

const loss = (p: MlpParams, x: Parameters<typeof applyMlp>[2], y: Parameters<typeof softmaxCrossEntropy>[1]) => softmaxCrossEntropy(applyMlp(spec, p, x), y, 10);
async function testAccuracy(s: MlpSpec, params: MlpParams, t: Dataset): Promise<number> {
  const x = np.array(t.x as Float32Array<ArrayBuffer>, { shape: t.xShape });
  const y = np.array(t.y as Int32Array<ArrayBuffer>, { dtype: DType.Int32 });
  return (await accuracy(applyMlp(s, params, x), y, 10).data())[0];
}

// --profile: per-kernel times on stderr (bench/profile.ts)
const PROFILE = process.argv.includes("--profile");
if (PROFILE) profiler.startTrace();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let runAcc = 0;
const scores = await scoreRuns({
  spec,
  data: trainSet,
  runs: h.scoreRuns,
  epochs: h.scoreEpochs,
  at: [0, 2, h.scoreEpochs],
  grandAt: [0, 2],
  key: k.score,
  trainRun: async (_r, params, key, dyn) => {
    const rec = dynamicsRecorder<MlpParams>({ measure: dyn.measure, data: trainSet, epochs: dyn.epochs, stepsPerEpoch: stepsPerEpoch(trainSet.y.length, h.batchSize), batch: dyn.batch });
    const out = await train(params, { loss, optimizer: sgd(h.lr, { momentum: 0.9 }), train: trainSet, epochs: h.scoreEpochs, batchSize: h.batchSize, key, log: { every: 0, perDecade: 0 }, stepHooks: [rec.hook] });
    rec.dispose();
    treeDispose(out.optState);
    if (PROFILE) collectProfile();
    return { params: out.params, dynamics: rec.dynamics() };
  },
  finish: async (_r, params) => {
    runAcc += (await testAccuracy(spec, params, test)) / h.scoreRuns;
  },
});
const t1 = performance.now();
const el2n2 = scores.el2n.get(2)!;
const [, kInit] = splitKey(keyFromSeed(10_000), 2);
const out = await train(initMlp(spec, kInit), { loss, optimizer: sgd(h.lr, { momentum: 0.9 }), train: takeRows(trainSet, topK(el2n2, Math.round(KEEP * trainSet.y.length))), epochs: h.retrainEpochs, batchSize: h.batchSize, key: keyFromSeed(20_000), log: { every: 0, perDecade: 0 } });
treeDispose(out.optState);
const retrainAcc = await testAccuracy(spec, out.params, test);
const wall = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
if (PROFILE) {
  profiler.stopTrace();
  printProfile("E2", wall);
}
const el2nMean = el2n2.reduce((a, b) => a + b, 0) / el2n2.length;
console.log(JSON.stringify({ id: "E2", cpu_ms: (cpu.user + cpu.system) / 1000, wall_ms: wall, score_ms: t1 - t0, retrain_ms: performance.now() - t1, reps: 1, flops: 0, check: retrainAcc, run_test_acc: runAcc, el2n_mean: el2nMean }));
