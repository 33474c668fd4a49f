import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { blockUntilReady, grad, jit, numpy as np, type Array } from "@jax-js/jax";
import { treeDispose, treeRef, type Tree } from "../core/tree.ts";
import { adam, adamw, sgd } from "./aliases.ts";
import { sgld } from "./sgld.ts";
import { keyFromSeed } from "../core/prng.ts";
import { constantSchedule, cosineDecaySchedule, exponentialDecaySchedule, linearSchedule, piecewiseConstantSchedule, scheduleValue, warmupCosineDecaySchedule } from "./schedules.ts";
import { applyUpdates, chain, clipByGlobalNorm, recordUpdateNorm, scale, scaleByLearningRate, type GradientTransformation } from "./transform.ts";

const vec = (a: number[]) => np.array(a);
const read = (x: Array) => globalThis.Array.from(x.dataSync() as Float32Array);

function closeArr(actual: number[], expected: number[], rtol: number, atol: number, what: string) {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]) <= atol + rtol * Math.abs(expected[i]), `${what}[${i}]: expected ${expected[i]}, got ${a}`));
}

/** Apply `opt` for the gradient sequence `grads` from params θ₀; returns the parameter trajectory. */
function trajectory(opt: GradientTransformation, theta0: number[], grads: number[][]): number[][] {
  let params: Tree = { w: vec(theta0) };
  let state = opt.init(treeRef(params));
  const out: number[][] = [];
  for (const g of grads) {
    const [u, s] = opt.update({ w: vec(g) }, state, treeRef(params));
    state = s;
    params = applyUpdates(params, u);
    out.push(read((treeRef(params) as { w: Array }).w));
  }
  treeDispose([params, state]);
  return out;
}

// Float32 arithmetic: hand values agree to ~1e-6 relative.
const RTOL = 1e-5;
const ATOL = 1e-6;

describe("optimizers against hand-computed updates", () => {
  const theta0 = [1, -2];
  const grads = [
    [0.5, -1],
    [0.25, 2],
    [-1, 0.5],
  ];

  it("SGD: θ ← θ − lr·g", () => {
    const t = trajectory(sgd(0.1), theta0, grads);
    closeArr(t[0], [0.95, -1.9], RTOL, ATOL, "step 1");
    closeArr(t[2], [1 - 0.1 * (0.5 + 0.25 - 1), -2 - 0.1 * (-1 + 2 + 0.5)], RTOL, ATOL, "step 3");
  });

  it("SGD with coupled weight decay: g ← g + wd·θ", () => {
    const t = trajectory(sgd(0.1, { weightDecay: 0.5 }), theta0, grads.slice(0, 1));
    closeArr(t[0], [1 - 0.1 * (0.5 + 0.5 * 1), -2 - 0.1 * (-1 + 0.5 * -2)], RTOL, ATOL, "step 1");
  });

  it("momentum (heavy ball, PyTorch convention b ← μb + g)", () => {
    const mu = 0.9;
    const lr = 0.1;
    const t = trajectory(sgd(lr, { momentum: mu }), theta0, grads);
    let th = theta0.slice();
    let b = [0, 0];
    for (let k = 0; k < 3; k++) {
      b = b.map((bi, i) => mu * bi + grads[k][i]);
      th = th.map((x, i) => x - lr * b[i]);
      closeArr(t[k], th, RTOL, ATOL, `step ${k + 1}`);
    }
  });

  it("Nesterov momentum (PyTorch: update g + μb)", () => {
    const mu = 0.9;
    const lr = 0.1;
    const t = trajectory(sgd(lr, { momentum: mu, nesterov: true }), theta0, grads);
    let th = theta0.slice();
    let b = [0, 0];
    for (let k = 0; k < 3; k++) {
      b = b.map((bi, i) => mu * bi + grads[k][i]);
      th = th.map((x, i) => x - lr * (grads[k][i] + mu * b[i]));
      closeArr(t[k], th, RTOL, ATOL, `step ${k + 1}`);
    }
  });

  const adamRef = (lr: number, b1: number, b2: number, eps: number, wd: number, decoupled: boolean) => {
    let th = theta0.slice();
    let m = [0, 0];
    let v = [0, 0];
    const out: number[][] = [];
    grads.forEach((g0, k) => {
      const g = decoupled ? g0 : g0.map((gi, i) => gi + wd * th[i]);
      m = m.map((mi, i) => b1 * mi + (1 - b1) * g[i]);
      v = v.map((vi, i) => b2 * vi + (1 - b2) * g[i] * g[i]);
      const t = k + 1;
      th = th.map((x, i) => x - lr * ((m[i] / (1 - b1 ** t)) / (Math.sqrt(v[i] / (1 - b2 ** t)) + eps) + (decoupled ? wd * x : 0)));
      out.push(th.slice());
    });
    return out;
  };

  it("Adam (Kingma & Ba Alg. 1)", () => {
    const t = trajectory(adam(0.01, { b1: 0.9, b2: 0.98, eps: 1e-8 }), theta0, grads);
    adamRef(0.01, 0.9, 0.98, 1e-8, 0, false).forEach((e, k) => closeArr(t[k], e, RTOL, ATOL, `step ${k + 1}`));
  });

  it("Adam with coupled L2 (PyTorch Adam(weight_decay))", () => {
    const t = trajectory(adam(0.01, { weightDecay: 0.3 }), theta0, grads);
    adamRef(0.01, 0.9, 0.999, 1e-8, 0.3, false).forEach((e, k) => closeArr(t[k], e, RTOL, ATOL, `step ${k + 1}`));
  });

  it("AdamW with decoupled decay θ ← θ − lr·(adam + wd·θ) (PyTorch AdamW)", () => {
    const t = trajectory(adamw(0.01, { weightDecay: 0.5, b2: 0.98 }), theta0, grads);
    const ref = adamRef(0.01, 0.9, 0.98, 1e-8, 0.5, true);
    ref.forEach((e, k) => closeArr(t[k], e, RTOL, ATOL, `step ${k + 1}`));
    // and it differs from coupled decay
    const coupled = adamRef(0.01, 0.9, 0.98, 1e-8, 0.5, false);
    assert.ok(Math.abs(coupled[2][0] - ref[2][0]) > 1e-4, "Math.abs(coupled[2][0] - ref[2][0]) > 1e-4");
  });

  it("clipByGlobalNorm rescales only when the norm exceeds the bound", () => {
    const t = trajectory(chain(clipByGlobalNorm(1), scaleByLearningRate(1)), [0, 0], [[3, 4], [0.3, 0.4]]);
    closeArr(t[0], [-0.6, -0.8], RTOL, ATOL, "clipped (norm 5 → 1)");
    closeArr(t[1], [-0.9, -1.2], RTOL, ATOL, "unclipped (norm 0.5)");
  });

  it("recordUpdateNorm keeps the update norm in its state", () => {
    const opt = chain(recordUpdateNorm(), scale(-1));
    const params = { w: vec([0, 0]) };
    const state = opt.init(treeRef(params));
    const [u, s] = opt.update({ w: vec([3, 4]) }, state, params);
    assert.equal(((s as Tree[])[0] as { norm: Array }).norm.ref.item(), 5);
    treeDispose([u, s]);
  });

  it("law: chain(scale(a), scale(b)) ≈ scale(a·b)", () => {
    for (const [a, b] of [
      [2, 3],
      [-0.5, 4],
      [1e-3, 7],
    ]) {
      const t1 = trajectory(chain(scale(a), scale(b)), [1, 2], grads);
      const t2 = trajectory(scale(a * b), [1, 2], grads);
      t1.forEach((x, k) => closeArr(x, t2[k], RTOL, ATOL, `a=${a} b=${b} step ${k + 1}`));
    }
  });

  it("ownership: update consumes its inputs, outputs have refCount 1", () => {
    const opt = adamw(0.1);
    const params = { w: vec([1, 2]) };
    const state = opt.init(treeRef(params)) as Tree;
    const g = { w: vec([0.1, 0.2]) };
    const [u, s] = opt.update(g, state, treeRef(params));
    assert.equal(g.w.refCount, 0);
    assert.equal(params.w.refCount, 1);
    assert.equal((u as { w: Array }).w.refCount, 1);
    const next = applyUpdates(params, u);
    assert.equal(params.w.refCount, 0);
    assert.equal((next as { w: Array }).w.refCount, 1);
    treeDispose([next, s]);
  });
});

describe("schedules", () => {
  it("values at known steps", () => {
    const cases: [string, ReturnType<typeof constantSchedule>, number, number][] = [
      ["constant", constantSchedule(0.3), 17, 0.3],
      ["linear mid", linearSchedule(1, 0, 10), 5, 0.5],
      ["linear after", linearSchedule(1, 0, 10), 20, 0],
      ["cosine start", cosineDecaySchedule(2, 100), 0, 2],
      ["cosine mid", cosineDecaySchedule(2, 100), 50, 1],
      ["cosine end alpha", cosineDecaySchedule(2, 100, 0.1), 100, 0.2],
      ["exponential", exponentialDecaySchedule(1, 10, 0.5), 20, 0.25],
      ["piecewise before", piecewiseConstantSchedule(1, [10, 20], [0.1, 0.5]), 9, 1],
      ["piecewise between", piecewiseConstantSchedule(1, [10, 20], [0.1, 0.5]), 10, 0.1],
      ["piecewise after", piecewiseConstantSchedule(1, [10, 20], [0.1, 0.5]), 25, 0.05],
      ["warmup half", warmupCosineDecaySchedule(1, 10, 110), 5, 0.5],
      ["warmup peak", warmupCosineDecaySchedule(1, 10, 110), 10, 1],
      ["warmup cosine mid", warmupCosineDecaySchedule(1, 10, 110), 60, 0.5],
    ];
    for (const [name, sch, step, expected] of cases) {
      const v = scheduleValue(sch, step);
      assert.ok(Math.abs(v - expected) <= 1e-5 + 1e-5 * Math.abs(expected), `${name}: expected ${expected}, got ${v}`);
    }
  });

  it("a schedule drives the learning rate step by step", () => {
    const t = trajectory(scaleByLearningRate(linearSchedule(1, 0, 4)), [0], [[1], [1], [1]]);
    // lr(0) = 1, lr(1) = 0.75, lr(2) = 0.5
    closeArr(t.map((x) => x[0]), [-1, -1.75, -2.25], RTOL, ATOL, "trajectory");
  });
});

describe("convergence", () => {
  // jax-js is lazy: without a sync every few dozen steps the pending work grows without bound (STYLE.md).
  const run = async (opt: GradientTransformation, f: (w: Array) => Array, w0: number[], steps: number) => {
    let params: Tree = { w: vec(w0) };
    let state = opt.init(treeRef(params));
    const step = jit((p: Tree, s: Tree) => {
      const g = grad((q: { w: Array }) => f(q.w))(treeRef(p) as never) as Tree;
      const [u, s2] = opt.update(g, s, treeRef(p));
      return [applyUpdates(p, u), s2];
    });
    for (let i = 0; i < steps; i++) {
      [params, state] = step(params, state) as [Tree, Tree];
      if (i % 25 === 0) await blockUntilReady(params);
    }
    const w = read((params as { w: Array }).w);
    treeDispose(state);
    step.dispose();
    return w;
  };
  // Ill-conditioned quadratic ½(w₀² + 10 w₁²), minimum at 0.
  const quad = (w: Array) => np.square(w).mul(np.array([0.5, 5])).sum();
  // Rosenbrock (1 − x)² + 100 (y − x²)², minimum at (1, 1).
  const rosen = (w: Array) => {
    const x = w.ref.slice(0);
    const y = w.slice(1);
    return np.square(x.ref.mul(-1).add(1)).add(np.square(y.sub(np.square(x))).mul(100));
  };

  for (const [name, opt] of [
    ["sgd", sgd(0.09)],
    ["momentum", sgd(0.02, { momentum: 0.9 })],
    ["nesterov", sgd(0.02, { momentum: 0.9, nesterov: true })],
    ["adam", adam(0.05)],
    ["adamw (wd 0)", adamw(0.05, { weightDecay: 0 })],
  ] as const) {
    it(`${name} minimises an ill-conditioned quadratic to |w| < 1e-3`, async () => {
      const w = await run(opt, quad, [3, -2], 300);
      assert.ok(Math.hypot(w[0], w[1]) < 1e-3, `${name}: w = ${w}`);
    });
  }

  it("adam solves Rosenbrock to within 1e-2 of (1, 1)", async () => {
    const w = await run(adam(0.02), rosen, [-1.2, 1], 4000);
    assert.ok(Math.hypot(w[0] - 1, w[1] - 1) < 1e-2, `w = ${w}`);
  });

  it("nesterov momentum with clipping solves Rosenbrock to within 1e-2 of (1, 1)", async () => {
    const w = await run(chain(clipByGlobalNorm(10), sgd(5e-4, { momentum: 0.95, nesterov: true })), rosen, [-1.2, 1], 20000);
    assert.ok(Math.hypot(w[0] - 1, w[1] - 1) < 1e-2, `w = ${w}`);
  });
});

describe("sharpness-aware minimisation (optim/sam.ts)", () => {
  it("a SAM step on a quadratic equals θ − lr·A(θ + ρ·Aθ/‖Aθ‖) (hand-computed); the gradient is taken on the same batch", async () => {
    const { sam } = await import("./sam.ts");
    const { train } = await import("../train/loop.ts");
    const { keyFromSeed } = await import("../core/prng.ts");
    const a = [2, 0.5];
    const theta0 = [1, -2];
    const rho = 0.1;
    const lr = 0.05;
    // L(θ) = ½ Σ a_k θ_k² · mean(x): the batch enters the loss, so a different batch would change the gradient
    const data = { x: Float32Array.from([1, 1, 1, 1]), xShape: [4, 1], y: Int32Array.from([0, 0, 0, 0]), numClasses: 1 };
    const r = await train({ w: np.array(theta0) } as Tree, {
      loss: (p, x, y) => {
        y.dispose();
        return np.square((p as { w: Array }).w).mul(np.array(a)).sum().mul(0.5).mul(x.mean());
      },
      optimizer: chain(sam(rho), scaleByLearningRate(lr)),
      train: data,
      steps: 1,
      batchSize: null,
      key: keyFromSeed(0),
      log: { every: 0, perDecade: 0 },
      jit: false,
    });
    const g = theta0.map((t, k) => a[k] * t);
    const norm = Math.hypot(...g);
    const expected = theta0.map((t, k) => t - lr * a[k] * (t + (rho * g[k]) / norm));
    const got = (r.params as { w: Array }).w.js() as number[];
    for (let k = 0; k < 2; k++) assert.ok(Math.abs(got[k] - expected[k]) < 1e-6, `θ[${k}] ${got[k]} vs ${expected[k]}`);
    treeDispose(r.optState);
    assert.throws(() => chain(scaleByLearningRate(lr), sam(rho)), /sam\(\) must come first/);
  });

  it("adaptive SAM scales the perturbation by |θ|² (ASAM)", async () => {
    const { sam } = await import("./sam.ts");
    const t = sam(1, { adaptive: true });
    const eps = t.perturbation!({ w: np.array([3, 4]) }, { w: np.array([1, 2]) }) as { w: Array };
    // T g = [3, 8], ‖T g‖ = √73; ε = T² g / ‖T g‖ = [3, 16] / √73
    const e = eps.w.js() as number[];
    assert.ok(Math.abs(e[0] - 3 / Math.sqrt(73)) < 1e-6 && Math.abs(e[1] - 16 / Math.sqrt(73)) < 1e-6, `ε ${e}`);
  });
});

describe("SGLD (src/optim/sgld.ts)", () => {
  it("samples a Gaussian posterior: 64 chains' mean and variance match N(μ, A⁻¹) and T·A⁻¹; T = 0 is gradient descent to μ", async () => {
    const a = [1, 4];
    const energy = (th: Array) => {
      const r = th.sub(np.array([1, -2]));
      return r.ref.mul(r).mul(np.array(a)).sum().mul(0.5);
    };
    const C = 64;
    const sums = [0, 0];
    const sq = [0, 0];
    let count = 0;
    for (const T of [1, 0.25]) {
      sums.fill(0);
      sq.fill(0);
      count = 0;
      const { theta: last, configTemperature } = await sgld({
        energy,
        init: np.zeros([C, 2]),
        step: 0.02,
        steps: 3000,
        temperature: T,
        burnIn: 500,
        every: 5,
        key: keyFromSeed(11),
        sample: async (th) => {
          const v = (await th.data()) as Float32Array;
          for (let c = 0; c < C; c++)
            for (let j = 0; j < 2; j++) {
              sums[j] += v[c * 2 + j];
              sq[j] += v[c * 2 + j] ** 2;
            }
          count += C;
        },
      });
      last.dispose();
      // E[θ·∇U]/P = T at equilibrium; θ·∇U = (θ − μ)ᵀA(θ − μ) + μᵀA(θ − μ), so here T·(1 + 0) = T up to ε's bias
      assert.ok(Math.abs(configTemperature / T - 1) < 0.1, `T = ${T}: configurational temperature ${configTemperature}`);
      for (let j = 0; j < 2; j++) {
        const m = sums[j] / count;
        const v = sq[j] / count - m * m;
        const want = T / a[j];
        // ε = 0.02 biases the variance by O(ε·a) (≤ 4%); the samples are correlated, so the tolerances are loose in absolute terms
        assert.ok(Math.abs(m - [1, -2][j]) < 0.05, `T = ${T}, mean ${j}: ${m}`);
        assert.ok(Math.abs(v / want - 1) < 0.1, `T = ${T}, variance ${j}: ${v} against ${want}`);
      }
    }
    const gd = (await (await sgld({ energy, init: np.zeros([1, 2]), step: 0.2, steps: 200, temperature: 0, key: keyFromSeed(1) })).theta.data()) as Float32Array;
    assert.ok(Math.abs(gd[0] - 1) < 1e-4 && Math.abs(gd[1] + 2) < 1e-4, `T = 0 converges to μ: ${[...gd].join(", ")}`);
  });
});
