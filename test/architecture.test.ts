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
  // the declaration room: what an experiment declares (schema, defineExperiment, criteria, charts, grids, registry, plan)
  declare: [...LIBRARY],
  runner: [...LIBRARY, "declare", "platform:backend.ts"],
  report: [...LIBRARY, "declare", "runner", "server:serve.ts"],
  server: ["core", "declare", "runner"],
  cli: [...LIBRARY, "declare", "runner", "report", "platform", "experiments", "server"],
  // the public library entry (src/index.ts): the library and the declaration API
  "index.ts": [...LIBRARY, "declare"],
  // experiments import the library and the declaration room (never the runner)
  experiments: [...LIBRARY, "declare:kit.ts"],
  // the dashboard: the runner's contract (context, plan, schema, types), report's drawing, the registry — not train/
  web: ["core", "declare", "runner:context.ts", "report:plot.ts", "server:serve.ts", "experiments"],
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

describe("test hygiene", () => {
  it("every assert.ok has a message (a bare one makes node:assert read and parse the source to build its message: 128 s once)", () => {
    const files: string[] = [];
    const walk = (d: string) => {
      for (const f of readdirSync(d)) {
        const p = join(d, f);
        if (f === "node_modules" || f.startsWith(".")) continue;
        if (statSync(p).isDirectory()) walk(p);
        else if (f.endsWith(".test.ts")) files.push(p);
      }
    };
    walk(join(ROOT, "src"));
    walk(join(ROOT, "test"));
    const bare: string[] = [];
    for (const f of files) {
      readFileSync(f, "utf8")
        .split("\n")
        .forEach((line, i) => {
          const m = /assert\.ok\((.*)\);\s*$/.exec(line);
          if (!m) return;
          let depth = 0;
          let quote: string | null = null;
          let comma = false;
          for (const [j, ch] of [...m[1]].entries()) {
            if (quote) {
              if (ch === quote && m[1][j - 1] !== "\\") quote = null;
            } else if (`"'\``.includes(ch)) quote = ch;
            else if ("([{".includes(ch)) depth++;
            else if (")]}".includes(ch)) depth--;
            else if (ch === "," && depth === 0) comma = true;
          }
          if (!comma) bare.push(`${relative(ROOT, f)}:${i + 1}`);
        });
    }
    assert.deepEqual(bare, [], "assert.ok without a message");
  });
});
