#!/usr/bin/env node
// Writes test/durations.json (seconds per test file, what test/all.test.ts balances its shards by) from the TAP
// output of one whole-suite run in one process:
//   GENLAB_TEST_SHARDS=1 node --import tsx --test-reporter=tap test/all.test.ts > tap.txt
//   node scripts/test-durations.mjs tap.txt
// Each top-level test or suite is charged to the file that declares its name.
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "..");
const tap = process.argv[2];
if (!tap) {
  console.error("usage: node scripts/test-durations.mjs <tap output of a whole-suite run>");
  process.exit(2);
}
const find = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? find(join(dir, d.name)) : d.name.endsWith(".test.ts") && d.name !== "all.test.ts" ? [join(dir, d.name)] : []));
const sources = [...find(join(ROOT, "src")), ...find(join(ROOT, "test"))].map((f) => ({ file: relative(ROOT, f), text: readFileSync(f, "utf8") }));
const lines = readFileSync(tap, "utf8").split("\n");
const seconds = {};
const unmatched = [];
for (let i = 0; i < lines.length; i++) {
  const m = /^(?:not )?ok \d+ - (.*)$/.exec(lines[i]);
  if (!m) continue;
  const d = lines.slice(i + 1, i + 6).map((l) => /duration_ms: ([\d.]+)/.exec(l)).find(Boolean);
  if (!d) continue;
  const name = m[1].replace(/\\"/g, '"').replace(/ # SKIP.*$/, "");
  const hit = sources.find((s) => s.text.includes(name.slice(0, 60)));
  if (!hit) unmatched.push(name);
  else seconds[hit.file] = Math.round(((seconds[hit.file] ?? 0) + Number(d[1]) / 1000) * 10) / 10;
}
const sorted = Object.fromEntries(Object.entries(seconds).sort(([a], [b]) => a.localeCompare(b)));
writeFileSync(join(ROOT, "test/durations.json"), JSON.stringify(sorted, null, 1) + "\n");
const total = Object.values(seconds).reduce((a, b) => a + b, 0);
console.log(`test/durations.json: ${Object.keys(sorted).length} files, ${total.toFixed(0)} s in all${unmatched.length ? `; not matched to a file: ${unmatched.join("; ")}` : ""}`);
