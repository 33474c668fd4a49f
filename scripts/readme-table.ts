// Rewrites the README's reproductions table from the registry and docs/results/records.json.
// Run: node --import tsx scripts/readme-table.ts   (--check: exit 1 when the README's table is stale)
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { EXPERIMENTS } from "../experiments/index.ts";
import { PAPERS } from "../experiments/papers.ts";
import { readRecords } from "../src/report/records.ts";
import { readmeTable, withTable } from "../src/report/readmeTable.ts";

const path = resolve(import.meta.dirname, "../README.md");
const have = readFileSync(path, "utf8");
const want = withTable(have, readmeTable(EXPERIMENTS, PAPERS, readRecords()));
if (process.argv.includes("--check")) {
  if (have !== want) {
    console.error("✖ README.md's reproductions table is stale: run node --import tsx scripts/readme-table.ts");
    process.exit(1);
  }
} else if (have !== want) writeFileSync(path, want);
