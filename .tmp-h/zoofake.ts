import "/work/main/src/platform/nodeShim.ts";
const { fantasticZoo } = await import("/work/main/experiments/benchmarks/fantasticZoo.ts");
const { judge, checkLines } = await import("/work/main/src/declare/criteria.ts");
let s = 1;
const rnd = () => ((s = (s * 16807) % 2147483647) / 2147483647);
const pts = [];
for (let i = 0; i < 32; i++) {
  const gap = 0.1 + 0.3 * rnd();
  const hp = { width: [16, 64][i % 2], depth: [1, 2][(i >> 1) % 2], lr: [0.05, 0.2][(i >> 2) % 2], batchSize: [32, 128][(i >> 3) % 2], weightDecay: 0, dropout: [0, 0.25][(i >> 4) % 2], noise: 0 };
  pts.push({ runId: `r${i}`, seed: 3, hparams: { task: "synthetic", ...hp }, results: { task: "synthetic", reached: true, steps: 10, train_acc: 1, test_acc: 1 - gap, gap, seconds: 1, measures: { good: gap + 0.05 * rnd(), bad: rnd() }, se: {}, families: { good: "norm", bad: "norm" }, cost: {}, not_measured: [] }, metrics: [], arrays: [], dir: "" });
}
for (const arm of ["reproduction", "control"] as const) {
  const v = judge(fantasticZoo.id, fantasticZoo.checks, pts as never, "quick", arm);
  console.log(arm, v.verdict); for (const l of checkLines(v)) console.log("  " + l);
}
try { judge(fantasticZoo.id, fantasticZoo.checks, pts as never, "full"); } catch (e) { console.log("full:", (e as Error).message); }
