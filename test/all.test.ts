// One entry point for every test (DEPS.md: one process is ~5× faster than one per file). The Node 20
// shim must be evaluated before @jax-js/jax.
import "./env.ts"; // GENLAB_BACKEND=wasm unless set: before the shim, which reads it
import "../src/platform/nodeShim.ts";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initDevices } from "../src/core/jax.ts";

// Every temporary folder of the suite (and of the processes it starts) goes under one folder that is
// removed when the suite ends, pass or fail: no genlab-* folders pile up in /tmp.
const suiteTmp = mkdtempSync(join(tmpdir(), "genlab-suite-"));
chmodSync(suiteTmp, 0o1777); // like /tmp: the permission tests run the CLI as another user
process.env.TMPDIR = suiteTmp;
process.on("exit", () => rmSync(suiteTmp, { recursive: true, force: true }));

await initDevices();

const only = process.env.GENLAB_TEST_ONLY;
const files = [
  "../src/core/core.test.ts",
  "../src/nn/nn.test.ts",
  "../src/optim/optim.test.ts",
  "../src/data/data.test.ts",
  "../src/train/train.test.ts",
  "../src/train/mixup.test.ts",
  "../src/measures/measures.test.ts",
  "../src/measures/grokking.test.ts",
  "../src/measures/calibration.test.ts",
  "../src/measures/spectral.test.ts",
  "../src/measures/norms.test.ts",
  "../src/measures/flatness.test.ts",
  "../src/measures/weightSpectra.test.ts",
  "../src/measures/curvature.test.ts",
  "../src/measures/rankCorrelation.test.ts",
  "../src/measures/catalogue.test.ts",
  "../src/scores/scores.test.ts",
  "../src/scores/dataScores.test.ts",
  "./matmul.test.ts",
  "../src/runner/runner.test.ts",
  "./architecture.test.ts",
  "./browser.test.ts",
  "./dashboard.test.ts",
  "./web.test.ts",
  "./cli.test.ts",
  "./dataCli.test.ts",
  "./measureCli.test.ts",
  "./bench.test.ts",
  "./experiments.test.ts",
  "./theory.test.ts",
  "./contract.test.ts",
  "./grokking.test.ts",
  "./gaps.test.ts",
  "./loaders.test.ts",
  "./fuzz.test.ts",
  "./reliability.test.ts",
  "./faults.test.ts",
  "./native.test.ts",
  "./nativeCalls.test.ts",
];
// GENLAB_TEST_ONLY=optim (or a comma-separated list: core,nn,optim) runs the files whose names contain one.
const wanted = only?.split(",").map((x) => x.trim()).filter(Boolean);
for (const f of files) if (!wanted || wanted.some((w) => f.includes(w))) await import(f);
