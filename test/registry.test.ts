// The registry is found by folder: experiments/index.ts is generated (scripts/registry.mjs) and must not be
// stale; an experiment's folder number is its paper, checked against its declaration, PAPERS and
// PAPER_SPECS; the README's reproductions table is generated from the registry and the verdicts of record.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { BENCHMARKS, BY_FOLDER, EXPERIMENTS } from "../experiments/index.ts";
import { PAPERS } from "../experiments/papers.ts";
import { PAPER_SPECS } from "../experiments/paperSpecs.ts";
import { TOUR } from "../experiments/tour.ts";
import { readRecords } from "../src/report/records.ts";
import { readmeTable, withTable } from "../src/report/readmeTable.ts";

const ROOT = resolve(import.meta.dirname, "..");

describe("registry and README", () => {
  it("experiments/index.ts is what scripts/registry.mjs generates from the folders", async () => {
    const { registrySource } = (await import(join(ROOT, "scripts/registry.mjs"))) as { registrySource: () => string };
    assert.equal(readFileSync(join(ROOT, "experiments/index.ts"), "utf8"), registrySource(), "stale: run node scripts/registry.mjs");
  });

  it("each reproduction's folder number is its paper, which PAPERS and PAPER_SPECS know; ids are unique", () => {
    for (const [e, folder] of BY_FOLDER) {
      assert.equal(e.paper, folder, `${e.id}: paper ${e.paper} in experiments/paper${String(folder).padStart(2, "0")}/`);
      assert.ok(PAPERS.some((p) => p.number === e.paper), `${e.id}: paper ${e.paper} in PAPERS`);
      assert.notEqual(e.kind, "benchmark", `${e.id}: a benchmark lives in experiments/benchmarks/`);
    }
    for (const b of BENCHMARKS) assert.equal(b.kind, "benchmark", `${b.id}: experiments/benchmarks/ holds benchmarks`);
    assert.deepEqual(PAPERS.map((p) => p.number), PAPERS.map((_, i) => i + 1), "PAPERS in seed order 1…45");
    for (const n of Object.keys(PAPER_SPECS).map(Number)) assert.ok(PAPERS.some((p) => p.number === n), `PAPER_SPECS ${n} is a paper`);
    assert.equal(new Set(EXPERIMENTS.map((e) => e.id)).size, EXPERIMENTS.length);
    for (const id of TOUR) assert.ok(EXPERIMENTS.some((e) => e.id === id && e.dataSource === "generated"), `tour: ${id} is an experiment on generated data`);
  });

  it("the README's reproductions table is generated (node --import tsx scripts/readme-table.ts) and not stale", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    assert.equal(readme, withTable(readme, readmeTable(EXPERIMENTS, PAPERS, readRecords())), "stale: run node --import tsx scripts/readme-table.ts");
    assert.ok(readme.split("\n").length < 220, "the README is a front door (details live in docs/)");
  });
});
