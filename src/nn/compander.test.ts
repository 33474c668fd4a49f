import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DType, numpy as np } from "@jax-js/jax";
import { keyFromSeed, normalFromKey } from "../core/prng.ts";
import { treeDispose, treeLeaves, treeRef, type Tree } from "../core/tree.ts";
import { weightUse } from "../measures/weightUse.ts";
import { applyCnn, cnnSpec, initCnn } from "./cnn.ts";
import { applyMlp, initTorchLinear, mlpSpec, type MlpParams } from "./dense.ts";
import { companderDecayTree, fromCompander, toCompander, type CompanderSpec } from "./compander.ts";
import { gradCheck, onCpu, toF64Cpu } from "../../test/util/numeric.ts";

const maxDiff = async (a: Tree, b: Tree) => {
  const la = treeLeaves(a);
  const lb = treeLeaves(b);
  let m = 0;
  for (let i = 0; i < la.length; i++) {
    const [x, y] = [(await la[i].ref.data()) as Float32Array, (await lb[i].ref.data()) as Float32Array];
    for (let j = 0; j < x.length; j++) m = Math.max(m, Math.abs(x[j] - y[j]));
  }
  return m;
};

describe("Weight Compander (nn/compander.ts)", () => {
  const fixed: CompanderSpec = { a: 0.7, b: 0.8, learn: "none" };

  it("Ψ(v) = a·arctan(v/b) starts at the usual initial weights (v = b·tan(w₀/a)), for dense and conv layers alike", async () => {
    const spec = mlpSpec({ dims: [5, 7, 3], padTo: 1 });
    const p = initTorchLinear(spec, keyFromSeed(1));
    const back = fromCompander(toCompander(treeRef(p), fixed), fixed);
    const d = await maxDiff(p, back);
    assert.ok(d < 1e-6, `MLP round trip: ${d}`);
    // the CNN's Gaussian init reaches |w| ≈ 1.5 at these widths: a = 2 keeps it below aπ/2
    const wide: CompanderSpec = { a: 2, b: 0.8, learn: "none" };
    const c = initCnn(cnnSpec({ channels: [2, 3], hidden: 4 }), keyFromSeed(2));
    const cb = fromCompander(toCompander(treeRef(c), wide), wide);
    assert.ok((await maxDiff(c, cb)) < 1e-6, "CNN round trip (conv OIHW kernels and dense layers)");
    const wc = toCompander(treeRef(c), wide) as Record<string, { v?: unknown; w?: unknown; b?: unknown }>;
    assert.ok("v" in wc.conv1 && !("w" in wc.conv1) && "b" in wc.conv1, "the weight is stored as v, the bias unchanged");
    const x = np.array(Float32Array.from(normalFromKey(keyFromSeed(3), 2 * 784)), { shape: [2, 784] });
    const y0 = (await applyCnn(cnnSpec({ channels: [2, 3], hidden: 4 }), treeRef(c), x.ref).data()) as Float32Array;
    const y1 = (await applyCnn(cnnSpec({ channels: [2, 3], hidden: 4 }), fromCompander(wc as Tree, wide) as never, x).data()) as Float32Array;
    for (let i = 0; i < y0.length; i++) assert.ok(Math.abs(y0[i] - y1[i]) < 1e-4, `CNN output ${i}: ${y0[i]} vs ${y1[i]}`);
    treeDispose([p, back, c, cb]);
  });

  it("the effective weights stay below aπ/2 however large v grows, and a too-large initial weight is refused", async () => {
    const big = { layers: [{ v: np.array([1e6, -1e6, 3, 0]), b: np.zeros([4]) }] };
    const w = fromCompander(big, fixed) as MlpParams;
    const vals = (await w.layers[0].w.ref.data()) as Float32Array;
    for (const v of vals) assert.ok(Math.abs(v) < (0.7 * Math.PI) / 2 + 1e-6, `|w| = ${Math.abs(v)} < aπ/2`);
    close(vals[3], 0, 0, "Ψ(0) = 0");
    treeDispose(w);
    assert.throws(() => toCompander({ layers: [{ w: np.array([2]) }] }, { a: 1, b: 1, learn: "none" }), /initial weight \|w\| = 2 is not below aπ\/2/);
  });

  it("learnable (a, b) per layer: two scalars a layer, left out of the weight decay; fixed (a, b): decay on Ψ(v)", () => {
    const learn: CompanderSpec = { a: 0.5, b: 1, learn: "layer" };
    const p = toCompander(initTorchLinear(mlpSpec({ dims: [5, 4, 2], padTo: 1 }), keyFromSeed(4)), learn) as unknown as { layers: Record<string, { shape: number[] }>[] };
    assert.deepEqual(Object.keys(p.layers[0]).sort(), ["b", "ca", "cb", "v"]);
    assert.deepEqual(p.layers[1].ca.shape, [], "a scalar");
    const decay = companderDecayTree(p as unknown as Tree, learn) as { layers: Record<string, unknown>[] };
    assert.deepEqual(Object.keys(decay.layers[0]).sort(), ["b", "v"]);
    treeDispose(decay as unknown as Tree);
    const q = toCompander(initTorchLinear(mlpSpec({ dims: [5, 2], padTo: 1 }), keyFromSeed(5)), fixed);
    const dq = companderDecayTree(q, fixed) as { layers: Record<string, unknown>[] };
    assert.deepEqual(Object.keys(dq.layers[0]).sort(), ["b", "w"], "fixed: the effective weights");
    treeDispose(dq as unknown as Tree);
  });

  it("a loss through the compander (fixed, and learned a, b) passes a float64 finite-difference gradient check", async () => {
    await onCpu(() => {
      const spec = mlpSpec({ dims: [3, 4, 2], activation: "tanh", padTo: 1 });
      const x = np.array(globalThis.Array.from(normalFromKey(keyFromSeed(6), 5 * 3)), { shape: [5, 3], dtype: DType.Float64, device: "cpu" });
      for (const s of [fixed, { a: 0.5, b: 1, learn: "layer" } as CompanderSpec]) {
        const p = toF64Cpu(toCompander(initTorchLinear(spec, keyFromSeed(7)), s));
        const r = gradCheck((q) => np.square(applyMlp(spec, fromCompander(q, s) as MlpParams, x.ref)).sum(), p);
        assert.ok(r.maxRelErr < 1e-6, `${s.learn}: relative error ${r.maxRelErr} (${JSON.stringify(r.checks)})`);
      }
      x.dispose();
    });
  });
});

describe("weight use (measures/weightUse.ts)", () => {
  it("max |w|, the dead fraction |w| < 0.01·max|w| over every weight leaf (biases left out), and a histogram", async () => {
    const p = { layers: [{ w: np.array([1, -0.005, 0.5, 0]), b: np.array([0, 0, 0, 0]) }, { w: np.array([-2, 0.01]) }] };
    const u = await weightUse(p as unknown as Tree);
    assert.equal(u.count, 6);
    assert.equal(u.maxAbs, 2);
    close(u.deadFraction, 3 / 6, 1e-12, "−0.005, 0 and 0.01 are below 0.02");
    assert.equal(u.histogram.counts.reduce((a, b) => a + b, 0), 6);
    treeDispose(p);
  });
});

function close(a: number, b: number, tol: number, what: string) {
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tol ${tol})`);
}
