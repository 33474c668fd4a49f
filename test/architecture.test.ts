// The architecture rules of STYLE.md, checked: imports point backwards along the data flow, and the
// numeric layers bundle for a browser (no node: modules), so they can run unchanged in a tab.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { build } from "esbuild";

const ROOT = resolve(import.meta.dirname, "..");
const NUMERIC = ["core", "nn", "optim", "data", "train", "measures", "scores", "theory"];
const LIBRARY = ["core", "nn", "optim", "data", "train", "measures", "scores", "theory", "io"];
// STYLE.md: core ← nn, optim, data ← train ← measures, scores, theory ← runner ← report, cli, web.
// What each layer may import from (besides itself).
const ALLOWED: Record<string, string[]> = {
  platform: [],
  core: [],
  nn: ["core"],
  optim: ["core"],
  data: ["core"],
  train: ["core", "nn", "optim", "data"],
  measures: ["core", "nn", "optim", "data", "train"],
  scores: ["core", "nn", "optim", "data", "train"],
  theory: ["core", "nn", "optim", "data", "train"],
  io: ["core", "data"],
  runner: LIBRARY,
  report: [...LIBRARY, "runner"],
  server: ["core", "runner"],
  cli: [...LIBRARY, "runner", "report", "platform", "experiments", "server"],
  // the public library entry (src/index.ts): the library and the declaration API
  "index.ts": [...LIBRARY, "runner:experiment.ts", "runner:schema.ts", "runner:charts.ts"],
  // experiments import the library and only the runner's declaration types and helpers
  experiments: [...LIBRARY, "runner:experiment.ts", "runner:schema.ts", "runner:grid.ts", "runner:charts.ts"],
  // the dashboard: the runner's contract (context, plan, schema, types), report's drawing, the registry — not train/
  web: ["core", "runner:context.ts", "runner:plan.ts", "runner:schema.ts", "runner:experiment.ts", "runner:charts.ts", "report:plot.ts", "server:serve.ts", "experiments"],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") && !p.endsWith(".test.ts") ? [p] : [];
  });
}

function layerOf(path: string): string | null {
  const rel = relative(ROOT, path).split("/");
  if (rel[0] === "experiments" || rel[0] === "web") return rel[0];
  return rel[0] === "src" ? rel[1] : null;
}

/** Every relative import of a file: static, re-exports, `import type`, and dynamic `import("…")`. */
function importsOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)[^"';]*?from\s+["'](\.[^"']+)["']/gm)) out.push(m[1]);
  for (const m of text.matchAll(/^import\s+["'](\.[^"']+)["']/gm)) out.push(m[1]);
  for (const m of text.matchAll(/import\(\s*["'](\.[^"']+)["']\s*\)/g)) out.push(m[1]);
  return out;
}

function violations(): string[] {
  const bad: string[] = [];
  for (const f of [...files(join(ROOT, "src")), ...files(join(ROOT, "experiments")), ...files(join(ROOT, "web"))]) {
    const from = layerOf(f)!;
    for (const spec of importsOf(readFileSync(f, "utf8"))) {
      const target = resolve(f, "..", spec);
      const to = layerOf(target);
      if (!to || to === from) continue;
      const allowed = ALLOWED[from] ?? [];
      const file = target.split("/").pop();
      if (!allowed.includes(to) && !allowed.includes(`${to}:${file}`)) bad.push(`${relative(ROOT, f)} imports ${to}/${file}`);
    }
  }
  return bad;
}

describe("architecture", () => {
  it("imports point backwards along core ← nn, optim, data ← train ← measures, scores, theory ← runner ← report, cli, web (src/, experiments/, web/, dynamic imports)", () => {
    assert.deepEqual(violations(), []);
  });

  it("the scan sees a violation (a dynamic import of the runner from train/)", () => {
    const probe = importsOf(`const x = await import("../runner/run.ts");\nimport type { A } from "../report/html.ts";`);
    assert.ok(probe.includes("../runner/run.ts") && probe.includes("../report/html.ts"), "probe.includes(\"../runner/run.ts\") && probe.includes(\"../report/html.ts\")");
  });

  it("the numeric layers bundle for the browser with no node: imports", async () => {
    const entry = NUMERIC.flatMap((d) => files(join(ROOT, "src", d))).map((f) => `export * as m${Math.abs(hash(f))} from ${JSON.stringify(f)};`).join("\n");
    const out = await build({ stdin: { contents: entry, resolveDir: ROOT, loader: "ts" }, bundle: true, platform: "browser", format: "esm", write: false, logLevel: "silent", metafile: true });
    const inputs = Object.keys(out.metafile!.inputs);
    assert.deepEqual(inputs.filter((i) => i.startsWith("node:") || /^(fs|path|os|child_process)$/.test(i)), []);
    assert.ok(inputs.some((i) => i.includes("@jax-js/jax")), "inputs.some((i) => i.includes(\"@jax-js/jax\"))");
  });
});

function hash(s: string): number {
  let h = 0;
  for (const c of s) h = (h * 31 + c.charCodeAt(0)) | 0;
  return h;
}
