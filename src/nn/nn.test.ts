import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DType, lax, numpy as np, random, valueAndGrad, type Array } from "@jax-js/jax";
import { keyFromSeed } from "../core/prng.ts";
import { treeRef, treeDispose, treeToHost, type HostTree, type Tree } from "../core/tree.ts";
import { gradCheck, onCpu, toF64Cpu } from "../../test/util/numeric.ts";
import { ACTIVATIONS, applyActivation } from "./activations.ts";
import { adamw } from "../optim/aliases.ts";
import { applyUpdates } from "../optim/transform.ts";
import { applyCnn, cnnSpec, conv3x3Same, initCnn, type CnnParams } from "./cnn.ts";
import { applyMlp, initMlp, mlpSpec, type MlpParams } from "./dense.ts";
import { applySeq, seqDeviceParams, seqShapes, type SeqNetwork, type SeqParams } from "./sequential.ts";
import { hostForwardLayers } from "../io/modelFiles.ts";
import { applyEmbedding, initEmbedding, type EmbeddingParams } from "./embedding.ts";
import { applyLayerNorm, initLayerNorm, type LayerNormParams } from "./layerNorm.ts";
import { accuracy, logisticLoss, meanSquaredError, oneHotMse, softmaxCrossEntropy } from "./losses.ts";
import { applyRandomFeatures, initRandomFeatures, randomFeaturesSpec, type RandomFeaturesParams } from "./randomFeatures.ts";
import { applyAttention, applyTransformer, initAttention, initTransformer, lastPosition, transformerSpec, type AttentionParams, type TransformerParams } from "./transformer.ts";

// Float64 central differences on the cpu device (STYLE.md). With ε = 1e-5 the expected relative error is
// ~1e-9; 1e-6 leaves room for ill-conditioned directions without letting a wrong gradient through (a
// wrong gradient gives errors of order 1).
const RTOL = 1e-6;

const f64 = (x: Array) => toF64Cpu(x as Tree) as Array;
/** Largest absolute difference between the leaves of two host trees of the same structure. */
function maxAbsDiff(a: HostTree, b: HostTree): number {
  const leaves = (t: HostTree): number[][] => ("data" in t && "shape" in t ? [(t as { data: number[] }).data] : Object.values(t as object).flatMap((v) => leaves(v as HostTree)));
  const la = leaves(a);
  const lb = leaves(b);
  assert.equal(la.length, lb.length);
  return Math.max(...la.map((x, i) => Math.max(...x.map((v, j) => Math.abs(v - lb[i][j])))));
}

function normal(seed: number, shape: number[]): Array {
  return f64(random.normal(keyFromSeed(seed), shape));
}
function ints(values: number[], shape?: number[]): Array {
  return np.array(values, { dtype: DType.Int32, shape: shape ?? [values.length], device: "cpu" });
}

/** A small layer list exercising every kind: 2×9×9 → conv 3×3 stride 2 pads [1,0,1,1] (3 ch, 5×4) → ReLU → max-pool 2 (5×4 → 2×2, floor)  → conv 1×1 (2 ch) → ReLU → flatten → dense 8→3. */
function seqTestNet(): SeqNetwork {
  const vals = (n: number, s: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(1.7 * i + s) * 0.6);
  return {
    input: [2, 9, 9],
    layers: [
      { kind: "conv", shape: [3, 2, 3, 3], strides: [2, 2], pads: [1, 0, 1, 1], w: vals(54, 1), b: vals(3, 2) },
      { kind: "relu" },
      { kind: "maxpool", kernel: [2, 2] },
      { kind: "conv", shape: [2, 3, 1, 1], strides: [1, 1], pads: [0, 0, 0, 0], w: vals(6, 3), b: null },
      { kind: "relu" },
      { kind: "flatten" },
      { kind: "dense", inDim: 8, outDim: 3, w: vals(24, 4), b: vals(3, 5) },
    ],
  };
}

describe("PyTorch's default Linear initialisation", () => {
  it("weights and biases uniform in ±1/√fan_in (mean ≈ 0, variance ≈ 1/(3·fan_in)); deterministic; padded specs refused", async () => {
    const { initTorchLinear } = await import("./dense.ts");
    const spec = mlpSpec({ dims: [400, 300, 2], padTo: 1 });
    const p = initTorchLinear(spec, keyFromSeed(9));
    const w = p.layers[0].w.ref.dataSync() as Float32Array;
    const b = p.layers[1].b!.ref.dataSync() as Float32Array;
    const bound = 1 / Math.sqrt(400);
    assert.ok(w.every((v) => Math.abs(v) <= bound + 1e-7), "weights within ±1/√400");
    assert.ok(b.every((v) => Math.abs(v) <= 1 / Math.sqrt(300) + 1e-7), "layer-2 biases within ±1/√300");
    const mean = w.reduce((a, v) => a + v, 0) / w.length;
    const variance = w.reduce((a, v) => a + v * v, 0) / w.length;
    assert.ok(Math.abs(mean) < 0.02 * bound, `mean ${mean}`);
    assert.ok(Math.abs(variance * 3 * 400 - 1) < 0.02, `variance × 3·fan_in = ${variance * 1200}`);
    const again = initTorchLinear(spec, keyFromSeed(9));
    assert.deepEqual(globalThis.Array.from(again.layers[0].w.ref.dataSync() as Float32Array).slice(0, 20), globalThis.Array.from(w).slice(0, 20), "same key, same weights");
    treeDispose([p, again]);
    assert.throws(() => initTorchLinear(mlpSpec({ dims: [3, 5, 2], padTo: 8 }), keyFromSeed(1)), /unpadded spec/);
  });
});

describe("layer-list networks (nn/sequential.ts)", () => {
  it("shapes, and the device forward pass equals the host (float64) forward pass io/modelFiles uses to check ONNX graphs", async () => {
    const net = seqTestNet();
    assert.deepEqual(seqShapes(net), [[3, 5, 4], [3, 5, 4], [3, 2, 2], [2, 2, 2], [2, 2, 2], [8], [3]]);
    const n = 4;
    const xs = Float32Array.from({ length: n * 162 }, (_, i) => Math.cos(0.31 * i));
    const got = (await applySeq(net, seqDeviceParams(net), np.array(xs).reshape([n, 162])).data()) as Float32Array;
    const want = hostForwardLayers(net, xs, n);
    assert.equal(got.length, n * 3);
    got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) <= 1e-5 * Math.max(1, Math.abs(want[i])), `logit ${i}: device ${v} vs host ${want[i]}`));
    assert.throws(() => seqShapes({ input: [2, 9, 9], layers: [{ kind: "dense", inDim: 162, outDim: 3, w: new Float32Array(486), b: null }] }), /layer 0 \(dense\) takes a vector/);
    assert.throws(() => seqShapes({ ...net, input: [3, 9, 9] }), /layer 0 \(conv\) takes 2 channels but gets 3/);
  });
});

describe("float64 gradient checks (cpu)", () => {
  for (const activation of ACTIVATIONS) {
    for (const parametrization of ["standard", "ntk", "mup"] as const) {
      it(`MLP ${activation} ${parametrization} with softmax cross-entropy`, async () => {
        await onCpu(() => {
          // padTo 1: the finite differences must not cross the ReLU kink at 0 of padded units (see "exact padding").
          const spec = mlpSpec({ dims: [5, 7, 6, 3], activation, parametrization, initScale: 1.3, outputScale: 0.7, padTo: 1 });
          const params = toF64Cpu(initMlp(spec, keyFromSeed(1)));
          const x = normal(2, [4, 5]);
          const y = ints([0, 2, 1, 2]);
          const r = gradCheck((p) => softmaxCrossEntropy(applyMlp(spec, p as MlpParams, x.ref), y.ref), params);
          x.dispose();
          y.dispose();
          assert.ok(r.maxRelErr < RTOL, `relative error ${r.maxRelErr} (${JSON.stringify(r.checks)})`);
        });
      });
    }
  }

  it("MLP with dropout (a fixed key: a fixed mask) and softmax cross-entropy", async () => {
    await onCpu(() => {
      const spec = mlpSpec({ dims: [5, 9, 8, 3], activation: "tanh", padTo: 1 });
      const params = toF64Cpu(initMlp(spec, keyFromSeed(1)));
      const x = normal(2, [4, 5]);
      const y = ints([0, 2, 1, 2]);
      const r = gradCheck((p) => softmaxCrossEntropy(applyMlp(spec, p as MlpParams, x.ref, undefined, undefined, { rate: 0.3, key: keyFromSeed(7) }), y.ref), params);
      x.dispose();
      y.dispose();
      assert.ok(r.maxRelErr < RTOL, `relative error ${r.maxRelErr} (${JSON.stringify(r.checks)})`);
    });
  });

  it("dropout: ≈ p of the entries zeroed, the rest scaled by 1/(1 − p), the mean preserved; rate 0 is the identity", async () => {
    const { dropout } = await import("./dense.ts");
    const out = (await dropout(np.ones([100, 100]), 0.3, keyFromSeed(3)).data()) as Float32Array;
    const zeros = out.filter((v) => v === 0).length / out.length;
    assert.ok(Math.abs(zeros - 0.3) < 4 * Math.sqrt((0.3 * 0.7) / out.length), `zero fraction ${zeros}`);
    assert.ok(out.every((v) => v === 0 || Math.abs(v - 1 / 0.7) < 1e-6), "kept entries scaled by 1/(1 − p)");
    const same = (await dropout(np.ones([4]), 0, keyFromSeed(3)).data()) as Float32Array;
    assert.deepEqual(globalThis.Array.from(same), [1, 1, 1, 1], "rate 0");
    assert.throws(() => dropout(np.ones([2]), 1, keyFromSeed(1)), /dropout rate must be in \[0, 1\)/);
  });

  it("MLP without bias, MSE loss with class padding mask", async () => {
    await onCpu(() => {
      const spec = mlpSpec({ dims: [6, 8, 8], activation: "square", bias: false, padTo: 1 });
      const params = toF64Cpu(initMlp(spec, keyFromSeed(3)));
      const x = normal(4, [5, 6]);
      const y = ints([0, 4, 1, 2, 3]);
      const r = gradCheck((p) => oneHotMse(applyMlp(spec, p as MlpParams, x.ref), y.ref, 5), params);
      treeDispose([x, y]);
      assert.ok(r.maxRelErr < RTOL, `relative error ${r.maxRelErr}`);
    });
  });

  it("logistic loss", async () => {
    await onCpu(() => {
      const spec = mlpSpec({ dims: [3, 4, 1], activation: "tanh", padTo: 1 });
      const params = toF64Cpu(initMlp(spec, keyFromSeed(5)));
      const x = normal(6, [6, 3]);
      const y = np.array([0, 1, 1, 0, 1, 0], { dtype: DType.Float64, device: "cpu" });
      const r = gradCheck((p) => logisticLoss(applyMlp(spec, p as MlpParams, x.ref).reshape([6]), y.ref), params);
      treeDispose([x, y]);
      assert.ok(r.maxRelErr < RTOL, `relative error ${r.maxRelErr}`);
    });
  });

  it("logistic loss stays finite for huge logits (stable softplus) and equals log(1 + e^(−y·z))", async () => {
    const z = np.array([1000, -1000, 0.5, -3], { dtype: DType.Float32 });
    const y = np.array([0, 1, 1, 0], { dtype: DType.Float32 });
    const got = (await logisticLoss(z, y).data())[0];
    const want = (1000 + 1000 + Math.log1p(Math.exp(-0.5)) + Math.log1p(Math.exp(-3))) / 4;
    assert.ok(Math.abs(got - want) < 1e-4 * want, `${got} vs ${want}`);
  });

  for (const how of ["take", "onehot"] as const) {
    it(`embedding (${how})`, async () => {
      await onCpu(() => {
        const params = toF64Cpu(initEmbedding({ vocab: 7, dim: 4, initScale: 1 }, keyFromSeed(7)));
        const ids = ints([0, 3, 3, 6, 1], [5]);
        const w = normal(8, [5, 4]);
        const r = gradCheck((p) => np.sin(applyEmbedding(p as EmbeddingParams, ids.ref, how)).mul(w.ref).sum(), params);
        treeDispose([ids, w]);
        assert.ok(r.maxRelErr < RTOL, `relative error ${r.maxRelErr}`);
      });
    });
  }

  it("layer norm (params and input)", async () => {
    await onCpu(() => {
      const ln = initLayerNorm(6);
      const params = { ln: toF64Cpu({ scale: ln.scale.add(0.3), bias: ln.bias.add(0.1) } as Tree), x: normal(9, [3, 6]) };
      const w = normal(10, [3, 6]);
      const r = gradCheck((p) => {
        const q = p as { ln: LayerNormParams; x: Array };
        return np.square(applyLayerNorm(q.ln, q.x).mul(w.ref)).sum();
      }, params as unknown as Tree);
      w.dispose();
      assert.ok(r.maxRelErr < RTOL, `relative error ${r.maxRelErr}`);
    });
  });

  it("causal multi-head attention", async () => {
    await onCpu(() => {
      const spec = { dModel: 8, heads: 2 };
      const params = { attn: toF64Cpu(initAttention(spec, keyFromSeed(11)) as unknown as Tree), x: normal(12, [2, 3, 8]) };
      const w = normal(13, [2, 3, 8]);
      const r = gradCheck((p) => {
        const q = p as unknown as { attn: AttentionParams; x: Array };
        return applyAttention(spec, q.attn, q.x).mul(w.ref).sum();
      }, params as unknown as Tree);
      w.dispose();
      assert.ok(r.maxRelErr < RTOL, `relative error ${r.maxRelErr}`);
    });
  });

  it("2-layer transformer with cross-entropy on the last position", async () => {
    await onCpu(() => {
      const spec = transformerSpec({ vocab: 6, seqLen: 3, dModel: 8, heads: 2, dMlp: 12, layers: 2, activation: "gelu" });
      const params = toF64Cpu(initTransformer(spec, keyFromSeed(14)) as unknown as Tree);
      const tokens = ints([0, 1, 5, 2, 3, 5, 4, 4, 5], [3, 3]);
      const y = ints([1, 5, 2]);
      const r = gradCheck((p) => softmaxCrossEntropy(lastPosition(applyTransformer(spec, p as unknown as TransformerParams, tokens.ref)), y.ref), params);
      treeDispose([tokens, y]);
      assert.ok(r.maxRelErr < RTOL, `relative error ${r.maxRelErr}`);
    });
  });

  it("conv3x3Same (im2col matmul) equals lax.conv SAME in float64, value and gradient", async () => {
    await onCpu(async () => {
      const x = normal(41, [2, 3, 6, 5]);
      const w = normal(42, [4, 3, 3, 3]);
      const g = normal(43, [2, 4, 6, 5]); // a cotangent: ⟨g, conv(x, w)⟩
      const viaMatmul = (xx: Array, ww: Array) => conv3x3Same(xx, ww).mul(g.ref).sum();
      const viaLax = (xx: Array, ww: Array) => lax.conv(xx, ww, [1, 1], "SAME").mul(g.ref).sum();
      const [va, ga] = valueAndGrad(viaMatmul, { argnums: [0, 1] } as never)(x.ref, w.ref) as unknown as [Array, [Array, Array]];
      const [vb, gb] = valueAndGrad(viaLax, { argnums: [0, 1] } as never)(x.ref, w.ref) as unknown as [Array, [Array, Array]];
      const [a, b] = [(await va.data())[0], (await vb.data())[0]];
      assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `value: ${a} vs ${b}`);
      for (let i = 0; i < 2; i++) {
        const [da, db] = [await ga[i].data(), await gb[i].data()];
        let worst = 0;
        for (let j = 0; j < da.length; j++) worst = Math.max(worst, Math.abs(da[j] - db[j]));
        assert.ok(worst <= 1e-12, `gradient ${i ? "w" : "x"}: max |difference| ${worst}`);
      }
      const y = conv3x3Same(x.ref, w.ref);
      assert.deepEqual(y.shape, [2, 4, 6, 5], "NCHW out");
      treeDispose([x, w, g, y]);
    });
  });

  it("conv net (first block in 2×2-phase order, pool as four phases) equals lax.conv + ReLU + mean pool in float64, value and gradient", async () => {
    await onCpu(async () => {
      const spec = cnnSpec({ height: 8, width: 12, channels: [3, 4], hidden: 5, outDim: 3 });
      const params = toF64Cpu(initCnn(spec, keyFromSeed(17)) as unknown as Tree) as unknown as CnnParams;
      const x = normal(18, [2, 96]);
      const pool = (a: Array) => {
        const [n, c, h, w] = a.shape;
        return a.reshape([n, c, h / 2, 2, w / 2, 2]).mean([3, 5]);
      };
      const block = (a: Array, p: { w: Array; b: Array }) => pool(applyActivation("relu", lax.conv(a, p.w, [1, 1], "SAME").add(p.b.reshape([1, p.b.shape[0], 1, 1]))));
      const reference = (p: CnnParams) => {
        let h = block(x.ref.reshape([2, 1, 8, 12]), p.conv1);
        h = block(h, p.conv2).reshape([2, -1]);
        h = applyActivation("relu", np.matmul(h, p.fc.w).add(p.fc.b));
        return np.square(np.matmul(h, p.out.w).add(p.out.b)).sum();
      };
      const ours = (p: CnnParams) => np.square(applyCnn(spec, p, x.ref)).sum();
      const [va, ga] = valueAndGrad(ours)(treeRef(params as unknown as Tree) as unknown as CnnParams);
      const [vb, gb] = valueAndGrad(reference)(params);
      const [a, b] = [(await va.data())[0], (await vb.data())[0]];
      assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `value: ${a} vs ${b}`);
      const [ha, hb] = [treeToHost(ga as unknown as Tree), treeToHost(gb as unknown as Tree)];
      for (const layer of ["conv1", "conv2", "fc", "out"] as const)
        for (const leaf of ["w", "b"] as const) {
          const [da, db] = [(ha as unknown as Record<string, Record<string, { data: number[] }>>)[layer][leaf].data, (hb as unknown as Record<string, Record<string, { data: number[] }>>)[layer][leaf].data];
          let worst = 0;
          for (let j = 0; j < db.length; j++) worst = Math.max(worst, Math.abs(da[j] - db[j]) / Math.max(1, Math.abs(db[j])));
          assert.ok(worst <= 1e-10, `gradient ${layer}.${leaf}: max relative difference ${worst}`);
        }
      x.dispose();
    });
  });

  it("conv net on 8×8 images", async () => {
    await onCpu(() => {
      const spec = cnnSpec({ height: 8, width: 8, channels: [2, 3], hidden: 5, outDim: 3, activation: "tanh" });
      const params = toF64Cpu(initCnn(spec, keyFromSeed(15)) as unknown as Tree);
      const x = normal(16, [2, 64]);
      const y = ints([2, 0]);
      const r = gradCheck((p) => softmaxCrossEntropy(applyCnn(spec, p as unknown as CnnParams, x.ref), y.ref), params);
      treeDispose([x, y]);
      assert.ok(r.maxRelErr < RTOL, `relative error ${r.maxRelErr}`);
    });
  });

  it("layer list (conv stride 2 with asymmetric padding, max pool in floor mode, conv, dense) with softmax cross-entropy", async () => {
    await onCpu(() => {
      const params = toF64Cpu(seqDeviceParams(seqTestNet()) as unknown as Tree);
      const x = normal(31, [3, 2 * 9 * 9]);
      const y = ints([1, 0, 2]);
      const r = gradCheck((p) => softmaxCrossEntropy(applySeq(seqTestNet(), p as unknown as SeqParams, x.ref), y.ref), params);
      treeDispose([x, y]);
      assert.ok(r.maxRelErr < RTOL, `relative error ${r.maxRelErr}`);
    });
  });

  it("random features: readout gradient, MSE", async () => {
    await onCpu(() => {
      const spec = randomFeaturesSpec({ inputDim: 4, features: 9, outDim: 2, activation: "relu", initScale: 0.5 });
      const { features, params } = initRandomFeatures(spec, keyFromSeed(17));
      const feats = toF64Cpu(features as unknown as Tree) as unknown as typeof features;
      const x = normal(18, [5, 4]);
      const target = normal(19, [5, 2]);
      const r = gradCheck(
        (p) => meanSquaredError(applyRandomFeatures(spec, treeRef(feats), p as unknown as RandomFeaturesParams, x.ref), target.ref),
        toF64Cpu(params as unknown as Tree),
      );
      treeDispose([x, target, feats as unknown as Tree]);
      assert.ok(r.maxRelErr < RTOL, `relative error ${r.maxRelErr}`);
    });
  });

  it("a wrong gradient is caught (the check can fail)", async () => {
    await onCpu(() => {
      // f(θ) = Σ θ·stopGradient(θ) has the value Σ θ² but reports the gradient θ instead of 2θ.
      const r = gradCheck((p) => {
        const x = p as Array;
        return x.ref.mul(lax.stopGradient(x)).sum();
      }, normal(20, [4]));
      assert.ok(r.maxRelErr > 0.3, `expected a large error, got ${r.maxRelErr}`);
    });
  });
});

describe("losses and metrics (known answers)", () => {
  it("cross-entropy of uniform logits is log C; padding mask leaves it unchanged", () => {
    const logits = np.zeros([3, 8]);
    const y = np.array([0, 1, 4], { dtype: DType.Int32 });
    assert.ok(Math.abs(softmaxCrossEntropy(logits.ref, y.ref).item() - Math.log(8)) < 1e-6, "Math.abs(softmaxCrossEntropy(logits.ref, y.ref).item() - Math.log(8)) < 1e-6");
    // With 5 valid classes of 8 the padded columns carry no mass: log 5.
    assert.ok(Math.abs(softmaxCrossEntropy(logits, y, 5).item() - Math.log(5)) < 1e-6, "Math.abs(softmaxCrossEntropy(logits, y, 5).item() - Math.log(5)) < 1e-6");
  });

  it("MSE against one-hot targets matches the hand value", () => {
    const pred = np.array([[1, 0, 0, 9], [0, 0, 0, 9]]);
    const y = np.array([0, 2], { dtype: DType.Int32 });
    // Valid classes 3: errors (0,0,0) and (0,0,-1) → 1 / (2·3).
    assert.ok(Math.abs(oneHotMse(pred, y, 3).item() - 1 / 6) < 1e-7, "Math.abs(oneHotMse(pred, y, 3).item() - 1 / 6) < 1e-7");
  });

  it("accuracy ignores padded logits", () => {
    const logits = np.array([[0, 1, 0, 50], [2, 0, 0, 50]]);
    const y = np.array([1, 0], { dtype: DType.Int32 });
    assert.equal(accuracy(logits.ref, y.ref, 3).item(), 1);
    assert.equal(accuracy(logits, y).item(), 0);
  });
});

describe("embedding by take and by one-hot matmul (float32)", () => {
  it("the same rows bit for bit, and the same table gradient to float32 round-off", async () => {
    const params = initEmbedding({ vocab: 99, dim: 128, initScale: 1 }, keyFromSeed(21));
    const ids = np.array(Int32Array.from({ length: 512 * 3 }, (_, i) => (i * 37 + 5) % 99), { shape: [512, 3], dtype: DType.Int32 });
    const w = random.normal(keyFromSeed(22), [512, 3, 128]);
    const rows = async (how: "take" | "onehot") => (await applyEmbedding(treeRef(params), ids.ref, how).data()) as Float32Array;
    assert.deepEqual([...new Uint32Array((await rows("onehot")).buffer)], [...new Uint32Array((await rows("take")).buffer)]);
    const g = async (how: "take" | "onehot") => {
      const [, gr] = valueAndGrad((p: EmbeddingParams) => applyEmbedding(p, ids.ref, how).mul(w.ref).sum())(treeRef(params));
      return (await (gr as EmbeddingParams).table.data()) as Float32Array;
    };
    const [a, b] = [await g("take"), await g("onehot")];
    let err = 0;
    for (let i = 0; i < a.length; i++) err = Math.max(err, Math.abs(a[i] - b[i]));
    assert.ok(err < 1e-5, `max |Δ| ${err}`);
    treeDispose([params, ids, w]);
  });
});

describe("shapes", () => {
  it("conv net maps 28×28 images (flat or NCHW) to 10 logits", () => {
    const spec = cnnSpec();
    const params = initCnn(spec, keyFromSeed(40));
    const x = random.uniform(keyFromSeed(41), [3, 784]);
    const y = applyCnn(spec, params, x);
    assert.deepEqual(y.shape, [3, 10]);
    y.dispose();
  });

  it("transformer maps [B, T] tokens to [B, T, outDim] logits", () => {
    const spec = transformerSpec({ vocab: 99, seqLen: 3, dModel: 16, heads: 4, outDim: 97 });
    const y = applyTransformer(spec, initTransformer(spec, keyFromSeed(42)), np.array([[1, 2, 98], [3, 4, 98]], { dtype: DType.Int32 }));
    assert.deepEqual(y.shape, [2, 3, 97]);
    const last = lastPosition(y);
    assert.deepEqual(last.shape, [2, 97]);
    last.dispose();
  });
});

describe("exact padding of layer widths", () => {
  it("every activation maps 0 to 0 (padded hidden units stay silent)", () => {
    for (const a of ACTIVATIONS) assert.ok((applyActivation(a, np.zeros([4])).js() as number[]).every((v) => v === 0), `${a}(0) ≠ 0`);
  });

  /** The unpadded view of a padded parameter tree: slice every leaf to the unpadded leaf's shape. */
  const unpadLike = (padded: MlpParams, like: MlpParams): MlpParams => ({
    layers: padded.layers.map((l, i) => {
      const w = l.w.slice([0, like.layers[i].w.shape[0]], [0, like.layers[i].w.shape[1]]);
      return l.b ? { w, b: l.b.slice([0, like.layers[i].b!.shape[0]]) } : { w };
    }),
  });
  const padRest = (padded: MlpParams, like: MlpParams): number =>
    padded.layers.reduce((acc, l, i) => {
      const full = np.square(l.w.ref).sum().item() + (l.b ? np.square(l.b.ref).sum().item() : 0);
      const lw = like.layers[i];
      const inner = np.square(l.w.ref.slice([0, lw.w.shape[0]], [0, lw.w.shape[1]])).sum().item() + (l.b ? np.square(l.b.ref.slice([0, lw.b!.shape[0]])).sum().item() : 0);
      return acc + (full - inner);
    }, 0);

  for (const activation of ACTIVATIONS) {
    it(`${activation}: padded (5→7→6→3 stored 8→8→8→4) and unpadded MLPs give the same loss and gradients; padded entries get exactly 0`, async () => {
      await onCpu(() => {
        const base = { dims: [5, 7, 6, 3], activation, initScale: 1.3, outputScale: 0.7 };
        const sp = mlpSpec({ ...base, padTo: 4 });
        const su = mlpSpec({ ...base, padTo: 1 });
        const pp = toF64Cpu(initMlp(sp, keyFromSeed(1)));
        const pu = toF64Cpu(initMlp(su, keyFromSeed(1)));
        assert.deepEqual(pp.layers[0].w.shape, [8, 8]);
        // Same draws: the padded init is the unpadded one plus zeros.
        assert.deepEqual(unpadLike(treeRef(pp), pu).layers[1].w.js(), pu.layers[1].w.ref.js());
        const x = normal(2, [4, 5]);
        const y = ints([0, 2, 1, 2]);
        const f = (spec: typeof sp) => (p: MlpParams) => softmaxCrossEntropy(applyMlp(spec, p, x.ref), y.ref);
        const [lp, gp] = valueAndGrad(f(sp))(treeRef(pp));
        const [lu, gu] = valueAndGrad(f(su))(treeRef(pu));
        assert.ok(Math.abs(lp.item() - lu.item()) <= 1e-13, "loss");
        assert.equal(padRest(treeRef(gp), pu), 0, "gradient on padded entries");
        const a = treeToHost(unpadLike(gp, pu));
        const b = treeToHost(gu);
        assert.ok(maxAbsDiff(a, b) <= 1e-13, `gradients differ by ${maxAbsDiff(a, b)}`);
        treeDispose([pp, pu, x, y]);
      });
    });
  }

  it("20 AdamW steps with weight decay (float32, wasm): padded and unpadded losses agree to round-off, padding stays 0", async () => {
    const base = { dims: [13, 30, 10], activation: "relu" as const };
    const x = random.normal(keyFromSeed(40), [64, 13]);
    const y = np.arange(64).mul(7).mod(10).astype(DType.Int32);
    const losses: number[][] = [];
    let finalPadded: MlpParams | null = null;
    for (const padTo of [4, 1]) {
      const spec = mlpSpec({ ...base, padTo });
      const opt = adamw(0.01, { weightDecay: 0.1 });
      let params = initMlp(spec, keyFromSeed(42));
      let state = opt.init(treeRef(params));
      const out: number[] = [];
      for (let s = 0; s < 20; s++) {
        const [l, g] = valueAndGrad((p: MlpParams) => softmaxCrossEntropy(applyMlp(spec, p, x.ref), y.ref))(treeRef(params));
        out.push(l.item());
        const [u, s2] = opt.update(g, state, treeRef(params));
        params = applyUpdates(params, u) as MlpParams;
        state = s2;
      }
      losses.push(out);
      treeDispose(state);
      if (padTo === 4) finalPadded = params;
      else {
        assert.equal(padRest(finalPadded!, params), 0, "padded parameters stayed exactly 0");
        treeDispose([finalPadded!, params]);
      }
    }
    treeDispose([x, y]);
    for (let s = 0; s < 20; s++) assert.ok(Math.abs(losses[0][s] - losses[1][s]) <= 1e-5 * Math.abs(losses[1][s]), `step ${s}: ${losses[0][s]} vs ${losses[1][s]}`);
    assert.ok(losses[0][19] < losses[0][0], "it trains");
  });
});

describe("parametrizations", () => {
  it("standard, NTK and μP give the same hidden pre-activation scale at init; μP's output is 1/√n smaller", () => {
    const width = 512;
    const x = random.normal(keyFromSeed(30), [64, 16]);
    const outStd: Record<string, number> = {};
    for (const parametrization of ["standard", "ntk", "mup"] as const) {
      const spec = mlpSpec({ dims: [16, width, width, 1], activation: "relu", parametrization });
      const y = applyMlp(spec, initMlp(spec, keyFromSeed(31)), x.ref);
      outStd[parametrization] = Math.sqrt(np.square(y).mean().item());
    }
    x.dispose();
    // Standard and NTK differ only in where the 1/√fan-in sits: same forward function in distribution.
    // Output std of one unit-variance readout ≈ 1 (±25% for 64 samples of one random network).
    assert.ok(outStd.standard > 0.5 && outStd.standard < 2, `standard ${outStd.standard}`);
    assert.ok(outStd.ntk > 0.5 && outStd.ntk < 2, `ntk ${outStd.ntk}`);
    const ratio = outStd.mup / outStd.standard;
    assert.ok(ratio > 0.5 / Math.sqrt(width) && ratio < 2 / Math.sqrt(width), `μP/standard output ratio ${ratio}, expected ≈ ${1 / Math.sqrt(width)}`);
  });

  it("init scale and output multiplier α scale the output linearly (identity activation)", () => {
    const x = random.normal(keyFromSeed(32), [8, 5]);
    const base = mlpSpec({ dims: [5, 6, 2], activation: "identity", bias: false });
    const y1 = applyMlp(base, initMlp(base, keyFromSeed(33)), x.ref).js() as number[][];
    const scaled = { ...base, initScale: 2, outputScale: 3 };
    const y2 = applyMlp(scaled, initMlp(scaled, keyFromSeed(33)), x).js() as number[][];
    // Two layers each scaled by 2, output by 3: factor 12.
    for (let i = 0; i < 8; i++) for (let j = 0; j < 2; j++) assert.ok(Math.abs(y2[i][j] - 12 * y1[i][j]) <= 1e-4 * Math.max(1, Math.abs(y2[i][j])), "Math.abs(y2[i][j] - 12 * y1[i][j]) <= 1e-4 * Math.max(1, Math.abs(y2[i][j]))");
  });

  it("same key → same params; different keys → different params", () => {
    const spec = mlpSpec({ dims: [3, 4, 2] });
    const a = initMlp(spec, keyFromSeed(1)).layers[0].w.js() as number[][];
    const b = initMlp(spec, keyFromSeed(1)).layers[0].w.js() as number[][];
    const c = initMlp(spec, keyFromSeed(2)).layers[0].w.js() as number[][];
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });
});

describe("the USEFUL patch CNN (nn/patchCnn.ts)", () => {
  for (const activation of ["relu", "cube"] as const) {
    it(`${activation}: float64 gradient check of the logistic loss; equals the double sum Σ_j Σ_p σ(w_j·x_p) − σ(u_j·x_p)`, async () => {
      const { applyPatchCnn, initPatchCnn } = await import("./patchCnn.ts");
      await onCpu(() => {
        const spec = { patches: 3, d: 4, filters: 5, activation, initStd: 0.7 };
        const params = toF64Cpu(initPatchCnn(spec, keyFromSeed(8)));
        const x = normal(9, [6, 12]);
        const y = np.array([0, 1, 1, 0, 1, 0], { dtype: DType.Float64, device: "cpu" });
        const z = (applyPatchCnn(spec, treeRef(params), x.ref).js() as number[][]).map((r) => r[0]);
        const xs = x.ref.js() as number[][];
        const w = params.w.ref.js() as number[][];
        const u = params.u.ref.js() as number[][];
        const sig = (v: number) => (activation === "cube" ? v ** 3 : Math.max(0, v));
        for (let i = 0; i < 6; i++) {
          let f = 0;
          for (let p = 0; p < 3; p++)
            for (let j = 0; j < 5; j++) {
              let a = 0;
              let b = 0;
              for (let t = 0; t < 4; t++) {
                a += w[t][j] * xs[i][p * 4 + t];
                b += u[t][j] * xs[i][p * 4 + t];
              }
              f += sig(a) - sig(b);
            }
          assert.ok(Math.abs(z[i] - f) < 1e-12, `row ${i}: ${z[i]} vs ${f}`);
        }
        const r = gradCheck((pp) => logisticLoss(applyPatchCnn(spec, pp as never, x.ref).reshape([6]), y.ref), params);
        treeDispose([x, y]);
        assert.ok(r.maxRelErr < RTOL, `relative error ${r.maxRelErr}`);
      });
    });
  }
});
