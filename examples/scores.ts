// genlab's measures in your own jax-js code: EL2N and ghost-norm GraNd of every example of a small MLP.
// Run: npx tsx examples/scores.ts
import "../src/platform/nodeShim.ts";
import { numpy as np, DType } from "@jax-js/jax";
import { applyMlp, el2nFromLogits, initDevices, initMlp, keyFromSeed, mlpGradNorms, mlpSpec, spearman, treeRef, treeDispose } from "../src/index.ts";

await initDevices();
const spec = mlpSpec({ dims: [8, 16, 3], activation: "relu", bias: true });
const params = initMlp(spec, keyFromSeed(0));
const n = 64;
const xs = Float32Array.from({ length: n * 8 }, (_, i) => Math.sin(0.7 * i));
const ys = Int32Array.from({ length: n }, (_, i) => i % 3);
const x = () => np.array(xs, { shape: [n, 8] });
const y = () => np.array(ys, { dtype: DType.Int32 });
const el2n = (await el2nFromLogits(applyMlp(spec, treeRef(params), x()), y()).data()) as Float32Array;
const grand = (await mlpGradNorms(spec, treeRef(params), x(), y()).data()) as Float32Array;
treeDispose(params);
console.log(`EL2N of the first 5 examples: ${Array.from(el2n.slice(0, 5), (v) => v.toFixed(4)).join(" ")}`);
console.log(`GraNd of the first 5 examples: ${Array.from(grand.slice(0, 5), (v) => v.toFixed(4)).join(" ")}`);
console.log(`Spearman(EL2N, GraNd) over ${n} examples: ${spearman(el2n, grand).toFixed(3)}`);
