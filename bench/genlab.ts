/**
 * genlab's side of `npm run bench`: the standard workloads W1–W7, timed in this process. Prints one JSON
 * line per workload: { id, cpu_ms, wall_ms, reps, flops, check }. The thread count comes from
 * JAX_THREADS (0 = one thread, no worker pool), set by bench/run.ts. Shapes and float32 match
 * bench/torch_bench.py exactly; `check` is a computed number (a loss, a mean score, an eigenvalue) printed
 * so both sides can be compared for sanity.
 */
import "../src/platform/nodeShim.ts";
import { DType, grad, jit, jvp, numpy as np, profiler, random, valueAndGrad, vmap, type Array } from "@jax-js/jax";
import { collectProfile, printProfile } from "./profile.ts";
import { defaultPadTo, initDevices } from "../src/core/jax.ts";
import { keyFromSeed, splitKey } from "../src/core/prng.ts";
import { treeDispose, treeRef, treeScale, treeVdot } from "../src/core/tree.ts";
import { applyMlp, initMlp, mlpPaddingMask, mlpSpec, type MlpParams, type MlpSpec } from "../src/nn/dense.ts";
import { softmaxCrossEntropy } from "../src/nn/losses.ts";
import { applyTransformer, initTransformer, lastPosition, transformerSpec, type TransformerParams } from "../src/nn/transformer.ts";
import { sgd } from "../src/optim/aliases.ts";
import { applyUpdates, type GradientTransformation, type OptState } from "../src/optim/transform.ts";
import { topHessianEigenvalue } from "../src/measures/hessian.ts";
import { hessianLinearOperator, hutchinsonTrace, slqDensity, topEigenvalues } from "../src/measures/spectral.ts";
import { el2nFromLogits, mlpGradNorms, scoreInBatches } from "../src/scores/perExample.ts";
import { dynamicsRecorder, mlpDynamics, stepsPerEpoch } from "../src/scores/dynamics.ts";
import { train } from "../src/train/loop.ts";
import type { Tree } from "../src/core/tree.ts";

await initDevices();

/**
 * --baseline reproduces the engine as it was before the performance work (issue 3), for before/after
 * tables: no padding of layer widths, per-example gradient norms by vmap(grad) (in chunks of 588 so the
 * per-example gradients fit in memory), Hessian-vector products by jit(jvp(grad)) (forward-over-reverse).
 * bench/run.ts also sets GENLAB_JAX_MATMUL=0 for it (jax-js's own matmul kernel, without genlab's patch).
 */
const BASELINE = process.argv.includes("--baseline");
const PAD = BASELINE ? 1 : defaultPadTo(); // 4 on the Wasm kernels, 1 (none) on the native backend

type Workload = { id: string; flops: number; reps: number; setup: () => Promise<() => Promise<number>> };

const W7_N = 10000;
const W7_DIMS = [784, 256, 256, 10];
const P = 97;
const N1 = 4704;
const W1_DIMS = [2 * P, 256, P];
const mlpFwdFlops = (n: number, dims: number[]) => dims.slice(1).reduce((a, d, i) => a + 2 * n * dims[i] * d, 0);

/** The W1 data: one-hot [a | b] of 4,704 distinct pairs (a, b) of Z_97 (half the table), label (a+b) mod 97. */
function w1Data(): { x: Array; y: Array } {
  const xs = new Float32Array(N1 * 2 * P);
  const ys = new Int32Array(N1);
  for (let i = 0; i < N1; i++) {
    const a = Math.floor((2 * i) / P) % P;
    const b = (2 * i) % P;
    xs[i * 2 * P + a] = 1;
    xs[i * 2 * P + P + b] = 1;
    ys[i] = (a + b) % P;
  }
  return { x: np.array(xs, { shape: [N1, 2 * P] }), y: np.array(ys, { dtype: DType.Int32 }) };
}

/** A repeatable full-batch training step (jitted forward + backward + update); returns a runner giving the loss. */
function stepper<Pm extends Tree>(params: Pm, loss: (p: Pm, x: Array, y: Array) => Array, opt: GradientTransformation, x: Array, y: Array): () => Promise<number> {
  const step = jit(((p: Pm, s: OptState, xb: Array, yb: Array) => {
    const [l, g] = valueAndGrad((pp: Pm) => loss(pp, xb, yb))(treeRef(p) as never);
    const [u, s2] = opt.update(g as Tree, s, treeRef(p));
    return [l, applyUpdates(p, u), s2];
  }) as never) as unknown as (p: Pm, s: OptState, x: Array, y: Array) => [Array, Pm, OptState];
  let state = opt.init(treeRef(params));
  return async () => {
    const [l, p2, s2] = step(params, state, x.ref, y.ref);
    params = p2;
    state = s2;
    return (await l.data())[0];
  };
}

function mlpLoss(spec: MlpSpec) {
  return (p: MlpParams, x: Array, y: Array) => softmaxCrossEntropy(applyMlp(spec, p, x), y);
}

/** Untimed reference values printed beside a workload's check (W4: the converged top eigenvalue, Lanczos with 40 products). */
const reference: Record<string, number> = {};

const workloads: Workload[] = [
  {
    id: "W1",
    flops: 3 * mlpFwdFlops(N1, W1_DIMS),
    reps: 10,
    async setup() {
      const spec = mlpSpec({ dims: W1_DIMS, activation: "relu", padTo: PAD });
      const { x, y } = w1Data();
      return stepper(initMlp(spec, keyFromSeed(0)), mlpLoss(spec), sgd(0.1), x, y);
    },
  },
  {
    id: "W2",
    // per token: QKV + out projections 4·2d², MLP 2·2·d·4d, unembed 2·d·V (last position only); attention
    // 2·2·T·d per token; ×3 for forward + backward.
    flops: 3 * 512 * (3 * (8 * 128 * 128 + 4 * 128 * 512 + 4 * 3 * 128) + 2 * 128 * 99),
    reps: 10,
    async setup() {
      const spec = transformerSpec({ vocab: 99, seqLen: 3, dModel: 128, heads: 4, dMlp: 512, layers: 1, padTo: PAD });
      const toks = new Int32Array(512 * 3);
      const ys = new Int32Array(512);
      for (let i = 0; i < 512; i++) {
        const a = (i * 37) % 97;
        const b = (i * 11 + 5) % 97;
        toks.set([a, b, 97], 3 * i);
        ys[i] = (a + b) % 97;
      }
      const x = np.array(toks, { shape: [512, 3], dtype: DType.Int32 });
      const y = np.array(ys, { dtype: DType.Int32 });
      const loss = (p: TransformerParams, xb: Array, yb: Array) => softmaxCrossEntropy(lastPosition(applyTransformer(spec, p, xb)), yb);
      return stepper(initTransformer(spec, keyFromSeed(1)), loss, sgd(0.05), x, y);
    },
  },
  {
    id: "W3",
    // forward + backpropagation of the errors δ (no weight-gradient products)
    flops: mlpFwdFlops(N1, W1_DIMS) + 2 * N1 * 256 * P,
    reps: 10,
    async setup() {
      const spec = mlpSpec({ dims: W1_DIMS, activation: "relu", padTo: PAD });
      const params = initMlp(spec, keyFromSeed(0));
      const { x, y } = w1Data();
      if (BASELINE) {
        const chunk = 588;
        const one = (p: MlpParams, xi: Array, yi: Array) => softmaxCrossEntropy(applyMlp(spec, p, xi.reshape([1, -1])), yi.reshape([1]));
        const f = jit(((p: MlpParams, xb: Array, yb: Array) => {
          const perExample = vmap(grad(one) as never, [null, 0, 0] as never) as unknown as (p: MlpParams, x: Array, y: Array) => MlpParams;
          const g = perExample(p, xb, yb);
          return np.sqrt(g.layers.map((l) => np.square(l.w).sum([1, 2]).add(np.square(l.b!).sum(1))).reduce((a, b) => a.add(b)));
        }) as never) as unknown as (p: MlpParams, x: Array, y: Array) => Array;
        return async () => {
          let total = 0;
          for (let s = 0; s < N1; s += chunk) total += (await f(treeRef(params), x.ref.slice([s, s + chunk]), y.ref.slice([s, s + chunk])).sum().data())[0];
          return total / N1;
        };
      }
      const f = jit(((p: MlpParams, xb: Array, yb: Array) => mlpGradNorms(spec, p, xb, yb)) as never) as unknown as (p: MlpParams, x: Array, y: Array) => Array;
      return async () => {
        const norms = f(treeRef(params), x.ref, y.ref);
        return (await norms.mean().data())[0];
      };
    },
  },
  ...(["W4", "W4p"] as const).map((id) => ({
    id,
    // W4: the top eigenvalue by Lanczos from 10 Hessian-vector products (more accurate than 20 power
    // iterations: both errors against a converged reference are printed); W4p: 20 power iterations, the
    // same algorithm as the torch side. Each: linearize (one forward + backward) + products (≈ 2 gradient costs each).
    flops: 3 * mlpFwdFlops(N1, W1_DIMS) + (id === "W4" ? 10 : 20) * 6 * mlpFwdFlops(N1, W1_DIMS),
    reps: 3,
    async setup() {
      const spec = mlpSpec({ dims: W1_DIMS, activation: "relu", padTo: PAD });
      const params = initMlp(spec, keyFromSeed(0));
      const mask = mlpPaddingMask(spec, params);
      const { x, y } = w1Data();
      const loss = (p: MlpParams) => softmaxCrossEntropy(applyMlp(spec, p, x.ref), y.ref);
      if (BASELINE) {
        const hvp = jit(((p: MlpParams, v: MlpParams) => (jvp(grad(loss) as never, [p] as never, [v] as never) as unknown as [Tree, Tree])[1]) as never) as unknown as (p: MlpParams, v: MlpParams) => MlpParams;
        return async () => {
          const [kv] = splitKey(keyFromSeed(2), 1);
          const ks = splitKey(kv, 4);
          let i = 0;
          let v = { layers: params.layers.map((l) => ({ w: random.normal(ks[i++], l.w.shape), b: random.normal(ks[i++], l.b!.shape) })) } as MlpParams;
          let lambda = 0;
          for (let it = 0; it < 20; it++) {
            const w = hvp(treeRef(params), treeRef(v));
            const vv = treeVdot(treeRef(v), treeRef(v));
            lambda = (await treeVdot(v, treeRef(w)).div(vv).data())[0];
            v = treeScale(w, np.reciprocal(np.sqrt(treeVdot(treeRef(w), treeRef(w)))));
          }
          treeDispose(v);
          return lambda;
        };
      }
      if (id === "W4") reference.W4 = (await topHessianEigenvalue(loss, treeRef(params), { key: keyFromSeed(2), iters: 40, mask })).eigenvalue;
      const opts = id === "W4" ? { iters: 10, method: "lanczos" as const } : { iters: 20, method: "power" as const };
      return async () => (await topHessianEigenvalue(loss, treeRef(params), { key: keyFromSeed(2), mask, ...opts })).eigenvalue;
    },
  })),
  // W8 / W8p / W9 / W10: the Hessian quantities of the measure catalogue on the W1 network (PyHessian's three):
  // the top 5 eigenvalues by Lanczos (30 products; W8p: power iteration with deflation, 20 products each,
  // PyHessian's algorithm, as on the torch side), the trace by Hutchinson (50 Rademacher probes) and the
  // spectral density by stochastic Lanczos quadrature (3 runs × 30 steps). Costs in W1 steps ≈ gradients.
  ...(["W8", "W8p", "W9", "W10"] as const).map((id) => ({
    id,
    flops: 3 * mlpFwdFlops(N1, W1_DIMS) + ({ W8: 30, W8p: 100, W9: 50, W10: 90 } as const)[id] * 6 * mlpFwdFlops(N1, W1_DIMS),
    reps: 3,
    async setup() {
      const spec = mlpSpec({ dims: W1_DIMS, activation: "relu", padTo: PAD });
      const params = initMlp(spec, keyFromSeed(0));
      const mask = mlpPaddingMask(spec, params);
      const { x, y } = w1Data();
      const loss = (p: MlpParams) => softmaxCrossEntropy(applyMlp(spec, p, x.ref), y.ref);
      return async () => {
        const op = hessianLinearOperator(loss, treeRef(params), mask);
        try {
          if (id === "W8") return (await topEigenvalues(op, 5, { key: keyFromSeed(2), method: "lanczos", steps: 30 })).values[4];
          if (id === "W8p") return (await topEigenvalues(op, 5, { key: keyFromSeed(2), method: "power", iters: 20, tol: 0 })).values[4];
          if (id === "W9") return (await hutchinsonTrace(op, 50, keyFromSeed(3))).estimate;
          return (await slqDensity(op, { key: keyFromSeed(4), runs: 3, steps: 30 })).trace;
        } finally {
          op.dispose();
        }
      };
    },
  })),
  {
    id: "W5",
    flops: mlpFwdFlops(60000, [784, 256, 10]),
    reps: 3,
    async setup() {
      const spec = mlpSpec({ dims: [784, 256, 10], activation: "relu", padTo: PAD });
      const params = initMlp(spec, keyFromSeed(3));
      const n = 60000;
      const [kx] = splitKey(keyFromSeed(4), 1);
      const x = (await random.uniform(kx, [n, 784]).data()) as Float32Array<ArrayBuffer>;
      const y = Int32Array.from({ length: n }, (_, i) => i % 10);
      const score = (xb: Array, yb: Array) => el2nFromLogits(applyMlp(spec, treeRef(params), xb), yb);
      return async () => {
        const s = await scoreInBatches(score, { x, xShape: [n, 784], y }, 10000);
        return s.reduce((a, v) => a + v, 0) / n;
      };
    },
  },
  // W7t / W7: two epochs of minibatch SGD (momentum 0.9, batch 128) of a 784-256-256-10 MLP on 10,000
  // examples, without (W7t) and with (W7) the per-example dynamics logger measuring every example's loss,
  // margin, correctness, p(label), EL2N and ghost-norm gradient norm at the end of each epoch. W7 / W7t is the
  // logger's overhead (the target: ≤ 1.5×); torch_bench.py does the same logging in PyTorch.
  ...(["W7t", "W7"] as const).map((id) => ({
    id,
    flops: 2 * 3 * mlpFwdFlops(W7_N, W7_DIMS) + (id === "W7" ? 2 * (mlpFwdFlops(W7_N, W7_DIMS) + 2 * W7_N * (256 * 256 + 256 * 10)) : 0),
    reps: 3,
    async setup() {
      const spec = mlpSpec({ dims: W7_DIMS, activation: "relu", padTo: PAD });
      const [kx] = splitKey(keyFromSeed(7), 1);
      const x = (await random.uniform(kx, [W7_N, 784]).data()) as Float32Array;
      const data = { x, xShape: [W7_N, 784], y: Int32Array.from({ length: W7_N }, (_, i) => (i * 7) % 10), numClasses: 10 };
      const spe = stepsPerEpoch(W7_N, 128);
      return async () => {
        const rec = id === "W7" ? dynamicsRecorder<MlpParams>({ measure: mlpDynamics(spec), data, epochs: [1, 2], stepsPerEpoch: spe, batch: 2000 }) : null;
        const r = await train(initMlp(spec, keyFromSeed(8)), { loss: (p, xb, yb) => softmaxCrossEntropy(applyMlp(spec, p, xb), yb), optimizer: sgd(0.05, { momentum: 0.9 }), train: data, epochs: 2, batchSize: 128, key: keyFromSeed(9), log: { every: 0, perDecade: 0 }, stepHooks: rec ? [rec.hook] : [] });
        rec?.dispose();
        treeDispose([r.params, r.optState]);
        if (!rec) return 0;
        const d = rec.dynamics();
        return d.values.grad_norm!.reduce((a, v) => a + v, 0) / d.values.grad_norm!.length;
      };
    },
  })),
  {
    id: "W6",
    flops: 2 * 1024 ** 3,
    reps: 10,
    async setup() {
      const [ka, kb] = splitKey(keyFromSeed(5), 2);
      const a = random.normal(ka, [1024, 1024]);
      const b = random.normal(kb, [1024, 1024]);
      const mm = jit((u: Array, v: Array) => np.matmul(u, v));
      return async () => (await mm(a.ref, b.ref).slice([0, 1], [0, 1]).data())[0];
    },
  },
];

/** Median of the repetitions: robust to the odd slow repetition on a shared machine. */
function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** --profile: time every kernel of the timed repetitions (bench/profile.ts), printed per workload on stderr. */
const PROFILE = process.argv.includes("--profile");

const only = (process.argv.find((a) => a.startsWith("--only="))?.slice(7) ?? "").split(",").filter(Boolean);
const repScale = Number(process.argv.find((a) => a.startsWith("--rep-scale="))?.slice(12) ?? 1);
for (const w of workloads) {
  if (only.length && !only.includes(w.id)) continue;
  const run = await w.setup();
  const reps = Math.max(1, Math.round(w.reps * repScale));
  await run(); // compiles
  if (w.reps > 3) await run();
  let check = 0;
  const cpu: number[] = [];
  const wall: number[] = [];
  if (PROFILE) profiler.startTrace();
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    check = await run();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    if (PROFILE) collectProfile();
  }
  if (PROFILE) {
    profiler.stopTrace();
    printProfile(w.id, wall.reduce((a, b) => a + b, 0));
  }
  console.log(JSON.stringify({ id: w.id, cpu_ms: median(cpu), wall_ms: median(wall), reps, flops: w.flops, check, ...(w.id in reference ? { reference: reference[w.id] } : {}) }));
}
