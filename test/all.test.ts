// One entry point for every test (DEPS.md: one process is ~5× faster than one per file). The Node 20
// shim must be evaluated before @jax-js/jax.
import "./env.ts"; // GENLAB_BACKEND=wasm unless set: before the shim, which reads it
import "../src/platform/nodeShim.ts";
import { chmodSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { initDevices } from "../src/core/jax.ts";

// Every temporary folder of the suite (and of the processes it starts) goes under one folder that is
// removed when the suite ends, pass or fail: no genlab-* folders pile up in /tmp.
const suiteTmp = mkdtempSync(join(tmpdir(), "genlab-suite-"));
chmodSync(suiteTmp, 0o1777); // like /tmp: the permission tests run the CLI as another user
process.env.TMPDIR = suiteTmp;
process.on("exit", () => rmSync(suiteTmp, { recursive: true, force: true }));

await initDevices();

const only = process.env.GENLAB_TEST_ONLY;
// Every *.test.ts under src/ and test/ is discovered (a new test file cannot be left out of npm test):
// the library's unit tests first (in layer order), then the integration tests of test/, by name.
const ROOT = join(import.meta.dirname, "..");
const LAYERS = ["core", "nn", "optim", "data", "train", "measures", "scores", "theory", "io", "declare", "runner", "report", "server", "cli"];
const find = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? find(join(dir, d.name)) : d.name.endsWith(".test.ts") && d.name !== "all.test.ts" ? [join(dir, d.name)] : []));
const layer = (f: string) => {
  const i = LAYERS.indexOf(relative(join(ROOT, "src"), f).split("/")[0]);
  return i < 0 ? LAYERS.length : i;
};
const files = [...find(join(ROOT, "src")).sort((a, b) => layer(a) - layer(b) || a.localeCompare(b)), ...find(join(ROOT, "test")).sort()];
// GENLAB_TEST_ONLY=optim (or a comma-separated list: core,nn,optim) runs the files whose names contain one.
const wanted = only?.split(",").map((x) => x.trim()).filter(Boolean);
for (const f of files) if (!wanted || wanted.some((w) => f.includes(w))) await import(f);
