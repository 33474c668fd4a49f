/**
 * Calibrates the cost model of `genlab scores` / `genlab issues` (SCORE_COSTS in src/scores/pipeline.ts):
 * runs `genlab scores` on synthetic data of several sizes (step-bound, arithmetic-bound, dispatch-bound, the
 * cross-fit, memorization subsets, GraNd), reads each job's measured seconds from its --json, and fits
 * seconds ≈ fixed + GFLOP / gflops + steps · stepMs + evaluations · evalMs by least squares. Prints the fit and each
 * job's estimate against its measurement. One thread; run on a quiet machine.
 *
 *   node --import tsx scripts/score-costs.ts [--backend native|wasm]
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeNpy } from "../src/data/npy.ts";
import { parseModelSpec } from "../src/scores/models.ts";
import { planScoreJob, type ScoreId } from "../src/scores/pipeline.ts";

const backend = (process.argv.includes("--backend") ? process.argv[process.argv.indexOf("--backend") + 1] : "native") as "native" | "wasm";
type Job = { n: number; d: number; model: string; epochs: number; batch: number; scores: ScoreId[]; folds?: number; memRuns?: number };
const JOBS: Job[] = [
  { n: 5000, d: 100, model: "mlp:64", epochs: 3, batch: 128, scores: ["el2n", "forgetting", "aum"] },
  { n: 10000, d: 100, model: "mlp:64", epochs: 20, batch: 128, scores: ["el2n", "forgetting", "aum"] },
  { n: 10000, d: 100, model: "mlp:64", epochs: 20, batch: 1000, scores: ["el2n", "forgetting", "aum"] },
  { n: 6000, d: 50, model: "mlp:32", epochs: 10, batch: 32, scores: ["forgetting", "aum"] },
  { n: 10000, d: 784, model: "mlp:256", epochs: 6, batch: 256, scores: ["el2n", "forgetting"] },
  { n: 20000, d: 784, model: "mlp:512", epochs: 3, batch: 512, scores: ["el2n"] },
  { n: 10000, d: 100, model: "mlp:128", epochs: 6, batch: 128, scores: ["cl"], folds: 5 },
  { n: 6000, d: 100, model: "mlp:64", epochs: 5, batch: 128, scores: ["memorization"], memRuns: 8 },
  { n: 4000, d: 784, model: "mlp:256", epochs: 4, batch: 128, scores: ["grand"] },
];

/** A deterministic host generator (synthetic inputs, not a random draw of the library). */
function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const dir = mkdtempSync(join(tmpdir(), "genlab-costs-"));
const rows: { job: Job; gflop: number; steps: number; evaluations: number; seconds: number }[] = [];
try {
  for (const job of JOBS) {
    const r = lcg(job.n + job.d);
    const y = Int32Array.from({ length: job.n }, () => Math.floor(r() * 10));
    const x = Float32Array.from({ length: job.n * job.d }, (_, t) => r() - 0.5 + (t % job.d === y[Math.floor(t / job.d)] ? 1 : 0));
    writeFileSync(join(dir, "x.npy"), encodeNpy({ data: x, shape: [job.n, job.d] }));
    writeFileSync(join(dir, "y.npy"), encodeNpy({ data: y, shape: [job.n] }));
    const args = ["bin/genlab.js", "scores", "--data", join(dir, "x.npy"), "--labels", join(dir, "y.npy"), "--model", job.model, "--epochs", String(job.epochs), "--batch-size", String(job.batch), "--scores", job.scores.join(","), "--out", join(dir, "s.csv"), "--json", ...(job.folds ? ["--folds", String(job.folds)] : []), ...(job.memRuns ? ["--mem-runs", String(job.memRuns)] : [])];
    const out = execFileSync("node", args, { env: { ...process.env, GENLAB_BACKEND: backend }, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const seconds = (JSON.parse(out) as { seconds: number }).seconds;
    const model = parseModelSpec(job.model, { inputDim: job.d, numClasses: 10, image: null });
    const plan = planScoreJob({ model, data: { x, xShape: [job.n, job.d], y, numClasses: 10 }, scores: job.scores, recipe: { epochs: job.epochs, batchSize: job.batch, lr: 0.05, optimizer: "sgd", momentum: 0.9, weightDecay: 0 }, runs: 1, memRuns: job.memRuns, folds: job.folds }, backend);
    rows.push({ job, gflop: plan.gflop, steps: plan.steps, evaluations: plan.evaluations, seconds });
    process.stderr.write(`${job.model} n ${job.n} E ${job.epochs} B ${job.batch} ${job.scores.join(",")}: ${seconds.toFixed(2)} s (plan ${plan.seconds.toFixed(2)} s)\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// least squares for seconds = fixed + gflop / gflops + steps · stepMs + evaluations · evalMs (normal equations)
const feats = rows.map((r) => [1, r.gflop, r.steps / 1000, r.evaluations / 1000]);
const m = feats[0].length;
const A = feats[0].map((_, i) => feats[0].map((__, j) => feats.reduce((s, f) => s + f[i] * f[j], 0)));
const v = feats[0].map((_, i) => feats.reduce((s, f, k) => s + f[i] * rows[k].seconds, 0));
for (let i = 0; i < m; i++) {
  for (let k = i + 1; k < m; k++) {
    const f = A[k][i] / A[i][i];
    for (let j = i; j < m; j++) A[k][j] -= f * A[i][j];
    v[k] -= f * v[i];
  }
}
const coef = new Array<number>(m).fill(0);
for (let i = m - 1; i >= 0; i--) coef[i] = (v[i] - A[i].slice(i + 1).reduce((s, a, j) => s + a * coef[i + 1 + j], 0)) / A[i][i];
console.log(`backend ${backend}: fixedS ${coef[0].toFixed(2)}, gflops ${(1 / coef[1]).toFixed(1)}, stepMs ${coef[2].toFixed(2)}, evalMs ${coef[3].toFixed(2)}`);
for (const [k, r] of rows.entries()) {
  const est = feats[k].reduce((s, f, i) => s + f * coef[i], 0);
  console.log(`  ${r.job.model.padEnd(8)} n ${String(r.job.n).padStart(5)} B ${String(r.job.batch).padStart(4)} ${r.job.scores.join(",").padEnd(20)} measured ${r.seconds.toFixed(2).padStart(6)} s  fit ${est.toFixed(2).padStart(6)} s  ratio ${(est / r.seconds).toFixed(2)}`);
}
