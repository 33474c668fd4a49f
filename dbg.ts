import "./src/platform/nodeShim.ts";
import { initDevices } from "./src/core/jax.ts";
import { keyFromSeed, splitKey } from "./src/core/prng.ts";
import { longTailMixture, sampleMixture, subpopCounts } from "./src/data/longTailMixture.ts";
import { applyMlp, initMlp, mlpSpec, type MlpParams } from "./src/nn/dense.ts";
import { accuracy, softmaxCrossEntropy } from "./src/nn/losses.ts";
import { adam } from "./src/optim/aliases.ts";
import { train } from "./src/train/loop.ts";
import { treeDispose } from "./src/core/tree.ts";
await initDevices();
const m = longTailMixture({ N: 2000, zipf: 1, d: 32, sigma: 0.3, classes: 10 }, keyFromSeed(0));
const s = sampleMixture(m, 2000, keyFromSeed(1));
const cnt = subpopCounts(s.subpop, 2000);
let single = 0; for (const i of s.subpop) if (cnt[i] === 1) single++;
console.log("singleton examples", single);
for (const [h, ep] of [[[256, 256], 60], [[512, 512], 60]] as const) {
  const spec = mlpSpec({ dims: [32, ...h, 10] });
  const t0 = performance.now();
  const r = await train(initMlp(spec, keyFromSeed(2)), { loss: (p, x, y) => softmaxCrossEntropy(applyMlp(spec, p, x), y), optimizer: adam(1e-3), train: s.data, epochs: ep, batchSize: 128, key: keyFromSeed(3), log: { every: 150, perDecade: 0 }, evaluate: (p: MlpParams, x, y) => ({ acc: accuracy(applyMlp(spec, p, x), y) }), evalSets: { train: s.data }, onLog: (r) => console.log(h, r.step, r.train_acc) });
  console.log(h, ep, "epochs", ((performance.now() - t0) / 1000).toFixed(1), "s");
  treeDispose([r.params, r.optState]);
}
