// A small grokking-style training run through the numeric layers only: the same code runs in Node and in
// a browser tab, and must give the same numbers in both (both use jax-js's wasm backend, one thread).
import { keyFromSeed, splitKey } from "../../src/core/prng.ts";
import { treeDispose } from "../../src/core/tree.ts";
import { modularDataset } from "../../src/data/modular.ts";
import { applyMlp, initMlp, mlpSpec } from "../../src/nn/dense.ts";
import { accuracy, softmaxCrossEntropy } from "../../src/nn/losses.ts";
import { adamw } from "../../src/optim/aliases.ts";
import { train, type LogRecord } from "../../src/train/loop.ts";

export async function smokeTrain(): Promise<LogRecord[]> {
  const [kd, ki, ks] = splitKey(keyFromSeed(0), 3);
  const p = 23;
  const data = modularDataset({ p, op: "add", trainFraction: 0.5, corruption: 0, encoding: "onehot" }, kd);
  const spec = mlpSpec({ dims: [data.train.xShape[1], 32, 24], activation: "square", bias: false });
  const logs: LogRecord[] = [];
  const r = await train(initMlp(spec, ki), {
    loss: (pp, x, y) => softmaxCrossEntropy(applyMlp(spec, pp, x), y, p),
    evaluate: (pp, x, y) => {
      const lg = applyMlp(spec, pp, x);
      return { loss: softmaxCrossEntropy(lg.ref, y.ref, p), acc: accuracy(lg, y, p) };
    },
    optimizer: adamw(0.006, { b2: 0.98, weightDecay: 0.5 }),
    train: data.train,
    evalSets: { train: data.train, test: data.test },
    steps: 40,
    batchSize: null,
    key: ks,
    log: { every: 20, perDecade: 0 },
    onLog: (rec) => void logs.push(rec),
  });
  treeDispose(r.params);
  return logs;
}
