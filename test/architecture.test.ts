// The architecture rules of STYLE.md, checked: imports point backwards along the data flow, and the
// numeric layers bundle for a browser (no node: modules), so they can run unchanged in a tab.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { build } from "esbuild";

const ROOT = resolve(import.meta.dirname, "..");
const NUMERIC = ["core", "nn", "optim", "data", "train", "measures"];
// What each layer may import from (besides itself). experiments/ sits between train/ and runner/.
const ALLOWED: Record<string, string[]> = {
  platform: [],
  core: [],
  nn: ["core"],
  optim: ["core"],
  data: ["core"],
  train: ["core", "nn", "optim", "data"],
  measures: ["core", "nn"],
  runner: ["core", "nn", "optim", "data", "train", "measures", "report", "io"],
  report: ["core"],
  io: ["core", "data"],
  server: ["core", "runner"],
  cli: ["core", "runner", "report", "io", "platform", "experiments", "server"],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") && !p.endsWith(".test.ts") ? [p] : [];
  });
}

function layerOf(path: string): string | null {
  const rel = relative(ROOT, path).split("/");
  if (rel[0] === "experiments") return "experiments";
  return rel[0] === "src" ? rel[1] : null;
}

describe("architecture", () => {
  it("imports point backwards along core ← nn, optim, data ← train ← runner ← report, cli", () => {
    const bad: string[] = [];
    for (const f of files(join(ROOT, "src"))) {
      const from = layerOf(f)!;
      for (const m of readFileSync(f, "utf8").matchAll(/^(?:import|export)[^"']*from\s+["'](\.[^"']+)["']/gm)) {
        const to = layerOf(resolve(f, "..", m[1]));
        if (to && to !== from && !(ALLOWED[from] ?? []).includes(to)) bad.push(`${relative(ROOT, f)} imports ${to}/ (${m[1]})`);
      }
    }
    assert.deepEqual(bad, []);
  });

  it("the numeric layers bundle for the browser with no node: imports", async () => {
    const entry = NUMERIC.flatMap((d) => files(join(ROOT, "src", d))).map((f) => `export * as m${Math.abs(hash(f))} from ${JSON.stringify(f)};`).join("\n");
    const out = await build({ stdin: { contents: entry, resolveDir: ROOT, loader: "ts" }, bundle: true, platform: "browser", format: "esm", write: false, logLevel: "silent", metafile: true });
    const inputs = Object.keys(out.metafile!.inputs);
    assert.deepEqual(inputs.filter((i) => i.startsWith("node:") || /^(fs|path|os|child_process)$/.test(i)), []);
    assert.ok(inputs.some((i) => i.includes("@jax-js/jax")));
  });
});

function hash(s: string): number {
  let h = 0;
  for (const c of s) h = (h * 31 + c.charCodeAt(0)) | 0;
  return h;
}
