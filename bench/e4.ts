/**
 * E4 of `npm run bench`: a small CNN on Fashion-MNIST for one epoch, genlab's side — genlab's cnn
 * (two [conv 3×3 SAME → ReLU → 2×2 mean pool] stages with 8 and 16 channels, dense 784→64→10), SGD
 * with momentum 0.9 and lr 0.05, batches of 128 in file order (468 steps; the last 96 images dropped),
 * each batch fed from host memory as a training loop does; then the test accuracy on the 10,000 test
 * images (batches of 1,000). Initial weights are each side's own; bench/e4_cnn.py is PyTorch's side.
 * Prints {id, cpu_ms, wall_ms, step_ms, check (test accuracy), train_ms}: cpu and wall of the epoch and
 * the evaluation (jit compilation included), step_ms the median training step after the first 10.
 * E4_STEPS=N trains N steps instead of the epoch (a quicker look, e.g. with --profile).
 *   node --import tsx bench/e4.ts [--profile]
 */
import "../src/platform/nodeShim.ts";
import { DType, jit, numpy as np, profiler, valueAndGrad, type Array } from "@jax-js/jax";
import { printProfile } from "./profile.ts";
import { initDevices } from "../src/core/jax.ts";
import { keyFromSeed } from "../src/core/prng.ts";
import { treeRef, type Tree } from "../src/core/tree.ts";
import { loadFashionMnist } from "../src/io/fashionMnist.ts";
import { applyCnn, cnnSpec, initCnn, type CnnParams } from "../src/nn/cnn.ts";
import { accuracy, softmaxCrossEntropy } from "../src/nn/losses.ts";
import { sgd } from "../src/optim/aliases.ts";
import { applyUpdates, type OptState } from "../src/optim/transform.ts";

const BATCH = 128;
const LR = 0.05;
await initDevices();
const fm = loadFashionMnist();
const spec = cnnSpec({ channels: [8, 16], hidden: 64 });
let params = initCnn(spec, keyFromSeed(4));
const opt = sgd(LR, { momentum: 0.9 });
let state = opt.init(treeRef(params));
const step = jit(((p: CnnParams, s: OptState, xb: Array, yb: Array) => {
  const [l, g] = valueAndGrad((pp: CnnParams) => softmaxCrossEntropy(applyCnn(spec, pp, xb), yb))(treeRef(p) as never);
  const [u, s2] = opt.update(g as Tree, s, treeRef(p));
  return [l, applyUpdates(p, u), s2];
}) as never) as unknown as (p: CnnParams, s: OptState, x: Array, y: Array) => [Array, CnnParams, OptState];
const evalAcc = jit((p: CnnParams, xb: Array, yb: Array) => accuracy(applyCnn(spec, p, xb), yb, 10)) as unknown as (p: CnnParams, x: Array, y: Array) => Array;

const profile = process.argv.includes("--profile");
const n = fm.train.y.length;
const steps = Number(process.env.E4_STEPS ?? 0) || Math.floor(n / BATCH);
const times: number[] = [];
const c0 = process.cpuUsage();
const w0 = performance.now();
const trainX = fm.train.x as Float32Array;
const trainY = fm.train.y as Int32Array;
for (let it = 0; it < steps; it++) {
  if (profile && it === 10) profiler.startTrace();
  const t0 = performance.now();
  const xb = np.array(trainX.slice(it * BATCH * 784, (it + 1) * BATCH * 784), { shape: [BATCH, 784] });
  const yb = np.array(trainY.slice(it * BATCH, (it + 1) * BATCH), { dtype: DType.Int32 });
  const [l, p2, s2] = step(params, state, xb, yb);
  params = p2;
  state = s2;
  await l.data();
  times.push(performance.now() - t0);
}
const trainMs = performance.now() - w0;
if (profile) printProfile("E4", times.slice(10).reduce((a, b) => a + b, 0));
let correct = 0;
const testX = fm.test.x as Float32Array;
const testY = fm.test.y as Int32Array;
for (let s = 0; s < testY.length; s += 1000) {
  const xb = np.array(testX.slice(s * 784, (s + 1000) * 784), { shape: [1000, 784] });
  const yb = np.array(testY.slice(s, s + 1000), { dtype: DType.Int32 });
  correct += (await evalAcc(treeRef(params), xb, yb).data())[0] * 1000;
}
const wall = performance.now() - w0;
const c = process.cpuUsage(c0);
const sorted = times.slice(10).sort((a, b) => a - b);
console.log(JSON.stringify({ id: "E4", cpu_ms: (c.user + c.system) / 1000, wall_ms: wall, step_ms: sorted[sorted.length >> 1], check: correct / testY.length, train_ms: trainMs }));
