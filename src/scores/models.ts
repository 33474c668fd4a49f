/**
 * Classifiers named by a short spec, for the commands that train on a user's data (`genlab scores`,
 * `genlab issues`) and for experiments that want "a model" without caring which:
 *
 *   linear                  multinomial logistic regression (an MLP without hidden layers)
 *   mlp[:h1,h2,…]           ReLU MLP (default mlp:256,256: Data Diet's Fashion-MNIST network)
 *   cnn[:c1,c2,hidden]      two conv 3×3 → ReLU → 2×2 mean-pool stages and a dense head (images whose
 *                           height and width are multiples of 4; default cnn:8,16,64)
 *
 * Each comes with its per-example measure for the dynamics logger: ghost norms for the dense models, and
 * vmap(grad) in row chunks sized so that a chunk's per-example gradients fit in 64 MiB for the conv net.
 */
import type { Array } from "@jax-js/jax";
import { userError } from "../core/errors.ts";
import type { Key } from "../core/prng.ts";
import type { Tree } from "../core/tree.ts";
import { applyCnn, cnnSpec, initCnn, type CnnParams } from "../nn/cnn.ts";
import { applyMlp, initMlp, mlpSpec, type MlpParams } from "../nn/dense.ts";
import { genericDynamics, mlpDynamics, type DynamicsMeasure } from "./dynamics.ts";
import { maxRowsForParams } from "./perExample.ts";

export type ClassifierModel = {
  /** The spec in canonical form ("mlp:256,256"). */
  spec: string;
  describe: string;
  numParams: number;
  init(key: Key): Tree;
  /** logits [N, C]; consumes params and x. */
  apply(params: Tree, x: Array): Array;
  measure: DynamicsMeasure<Tree>;
  /** Rows per batch of the per-example measure (bounded memory for vmap). */
  measureBatch: number;
};

const SYNTAX = "mlp[:h1,h2,…], linear or cnn[:c1,c2,hidden]";

/** Most parameters a model genlab trains on a user's data may have (200 MB of float32, four copies with the optimizer's state and gradients). */
export const MAX_MODEL_PARAMS = 50_000_000;

function checkParams(spec: string, numParams: number, inputDim: number, numClasses: number, flag: string): void {
  if (numParams > MAX_MODEL_PARAMS) throw userError("bad_flag", [flag], `${spec} on ${inputDim} features and ${numClasses} classes has ${numParams.toLocaleString("en")} parameters, more than the ${MAX_MODEL_PARAMS.toLocaleString("en")} genlab trains; choose smaller widths`);
}

export function parseModelSpec(text: string, shape: { inputDim: number; numClasses: number; image: [number, number, number] | null }, flag = "--model"): ClassifierModel {
  const m = /^(linear|mlp|cnn)(?::([0-9]+(?:,[0-9]+)*))?$/.exec(text.trim());
  if (!m) throw userError("bad_flag", [flag], `unknown model ${JSON.stringify(text)}; expected ${SYNTAX}`);
  const kind = m[1];
  const nums = m[2] ? m[2].split(",").map(Number) : [];
  if (nums.some((v) => v < 1 || v > 65536)) throw userError("bad_flag", [flag], `widths must be in 1..65536, got ${m[2]}`);
  const { inputDim, numClasses, image } = shape;
  if (kind === "cnn") {
    if (!image) throw userError("bad_flag", [flag], "cnn needs image data ([n, h, w] or [n, h, w, c] arrays, or IDX images); this data is tabular: use mlp or linear");
    const [c, h, w] = image;
    if (h % 4 || w % 4) throw userError("bad_flag", [flag], `cnn needs image height and width that are multiples of 4, got ${h}×${w}: use mlp`);
    if (nums.length !== 0 && nums.length !== 3) throw userError("bad_flag", [flag], `cnn takes three numbers (c1,c2,hidden), got ${m[2]}`);
    const [c1, c2, hidden] = nums.length ? nums : [8, 16, 64];
    const spec = cnnSpec({ inChannels: c, height: h, width: w, channels: [c1, c2], hidden, outDim: numClasses });
    const numParams = c1 * c * 9 + c1 + c2 * c1 * 9 + c2 + (c2 * (h / 4) * (w / 4)) * hidden + hidden + hidden * numClasses + numClasses;
    checkParams(`cnn:${c1},${c2},${hidden}`, numParams, inputDim, numClasses, flag);
    const apply = (p: Tree, x: Array) => applyCnn(spec, p as CnnParams, x);
    return {
      spec: `cnn:${c1},${c2},${hidden}`,
      describe: `conv net ${c}×${h}×${w} → conv ${c1} → conv ${c2} → ${hidden} → ${numClasses} (${numParams.toLocaleString("en")} parameters; per-example gradients by vmap)`,
      numParams,
      init: (key) => initCnn(spec, key),
      apply,
      measure: genericDynamics(apply),
      measureBatch: Math.min(256, maxRowsForParams(numParams)),
    };
  }
  if (kind === "linear" && nums.length) throw userError("bad_flag", [flag], "linear takes no widths");
  const hidden = kind === "linear" ? [] : nums.length ? nums : [256, 256];
  const dims = [inputDim, ...hidden, numClasses];
  const spec = mlpSpec({ dims, activation: "relu", bias: true });
  const numParams = dims.slice(1).reduce((a, d, i) => a + dims[i] * d + d, 0);
  checkParams(kind === "linear" ? "linear" : `mlp:${hidden.join(",")}`, numParams, inputDim, numClasses, flag);
  return {
    spec: kind === "linear" ? "linear" : `mlp:${hidden.join(",")}`,
    describe: `${kind === "linear" ? "linear" : "ReLU MLP"} ${dims.join("→")} (${numParams.toLocaleString("en")} parameters; per-example gradients by ghost norms)`,
    numParams,
    init: (key) => initMlp(spec, key),
    apply: (p, x) => applyMlp(spec, p as MlpParams, x),
    measure: mlpDynamics(spec) as DynamicsMeasure<Tree>,
    measureBatch: 2000,
  };
}
