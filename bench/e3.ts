/**
 * E3 of `npm run bench`: a tiny causal Transformer (d = 64, 2 layers, 4 heads, MLP 256, batch 32,
 * length 48) trained for 200 Adam steps (lr 1e-3) on a synthetic copy task, genlab's side — the size of
 * the sequence papers' models (issue 26). Each sequence is 24 tokens from {1, …, 16}, a separator (17),
 * then the same 24 tokens; the model predicts every next token (48 positions, cross-entropy averaged).
 * The tokens are a fixed integer hash of their index (bench/e3_transformer.py computes the same), so
 * both sides see the same batches; initial weights are each side's own. Every step feeds its batch from
 * host memory, as a training loop does. Prints {id, cpu_ms, wall_ms, step_ms, check (mean loss of the
 * last 10 steps), first_loss}: cpu and wall of all 200 steps (jit compilation included), step_ms the
 * median step after the first 10.
 *   node --import tsx bench/e3.ts [--profile]
 */
import "../src/platform/nodeShim.ts";
import { DType, jit, numpy as np, profiler, valueAndGrad, type Array } from "@jax-js/jax";
import { printProfile } from "./profile.ts";
import { initDevices } from "../src/core/jax.ts";
import { keyFromSeed } from "../src/core/prng.ts";
import { treeRef, type Tree } from "../src/core/tree.ts";
import { softmaxCrossEntropy } from "../src/nn/losses.ts";
import { applyTransformer, initTransformer, transformerSpec, type TransformerParams } from "../src/nn/transformer.ts";
import { adam } from "../src/optim/aliases.ts";
import { applyUpdates, type OptState } from "../src/optim/transform.ts";

const E3 = { steps: 200, batch: 32, half: 24, vocab: 18, dModel: 64, heads: 4, dMlp: 256, layers: 2, lr: 1e-3 };
const T = 2 * E3.half; // model length 48: tokens 0..47 predict 1..48

/** Token j of sequence s (0 ≤ j ≤ 2·half): a hash of (s, j mod (half + 1)) in 1..16, the separator 17 at j = half. */
function e3Token(s: number, j: number): number {
  if (j === E3.half) return 17;
  const i = s * (E3.half + 1) + (j % (E3.half + 1));
  let x = Math.imul(i + 1, 2654435761) >>> 0;
  x = (x ^ (x >>> 16)) >>> 0;
  return (x % 16) + 1;
}

await initDevices();
const spec = transformerSpec({ vocab: E3.vocab, seqLen: T, dModel: E3.dModel, heads: E3.heads, dMlp: E3.dMlp, layers: E3.layers });
let params = initTransformer(spec, keyFromSeed(3));
const opt = adam(E3.lr);
let state = opt.init(treeRef(params));
const step = jit(((p: TransformerParams, s: OptState, xb: Array, yb: Array) => {
  const [l, g] = valueAndGrad((pp: TransformerParams) => softmaxCrossEntropy(applyTransformer(spec, pp, xb).reshape([E3.batch * T, E3.vocab]), yb))(treeRef(p) as never);
  const [u, s2] = opt.update(g as Tree, s, treeRef(p));
  return [l, applyUpdates(p, u), s2];
}) as never) as unknown as (p: TransformerParams, s: OptState, x: Array, y: Array) => [Array, TransformerParams, OptState];

const profile = process.argv.includes("--profile");
const losses: number[] = [];
const times: number[] = [];
const c0 = process.cpuUsage();
const w0 = performance.now();
for (let it = 0; it < E3.steps; it++) {
  if (profile && it === 10) profiler.startTrace();
  const t0 = performance.now();
  const xs = new Int32Array(E3.batch * T);
  const ys = new Int32Array(E3.batch * T);
  for (let b = 0; b < E3.batch; b++)
    for (let j = 0; j < T; j++) {
      xs[b * T + j] = e3Token(it * E3.batch + b, j);
      ys[b * T + j] = e3Token(it * E3.batch + b, j + 1);
    }
  const [l, p2, s2] = step(params, state, np.array(xs, { shape: [E3.batch, T], dtype: DType.Int32 }), np.array(ys, { dtype: DType.Int32 }));
  params = p2;
  state = s2;
  losses.push((await l.data())[0]);
  times.push(performance.now() - t0);
}
const wall = performance.now() - w0;
const c = process.cpuUsage(c0);
if (profile) printProfile("E3", times.slice(10).reduce((a, b) => a + b, 0));
const sorted = times.slice(10).sort((a, b) => a - b);
const last = losses.slice(-10);
console.log(
  JSON.stringify({ id: "E3", cpu_ms: (c.user + c.system) / 1000, wall_ms: wall, step_ms: sorted[sorted.length >> 1], check: last.reduce((a, b) => a + b, 0) / last.length, first_loss: losses[0] }),
);
