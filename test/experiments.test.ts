// Every registered experiment at its smoke size, the whole path: data, training (or simulation), phases,
// array artifacts, the verdict and its negative control, figures (SVG and PNG); and its declaration
// against experiments/papers.ts. Adding a reproduction to experiments/index.ts adds it here.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EXPERIMENTS } from "../experiments/index.ts";
import { PAPERS } from "../experiments/papers.ts";
import { decodeNpy } from "../src/data/npy.ts";
import { writeFigureFiles } from "../src/report/figures.ts";
import { SIZES } from "../src/declare/experiment.ts";
import { openStore, planExperiment, pointOf, resolveConfig, runExperiment } from "../src/runner/run.ts";
import { judge } from "../src/declare/criteria.ts";

describe("every registered experiment", () => {
  it("ids are unique and each names a paper of the literature", () => {
    assert.equal(new Set(EXPERIMENTS.map((e) => e.id)).size, EXPERIMENTS.length);
    for (const e of EXPERIMENTS) assert.ok(PAPERS.some((p) => p.number === e.paper), `${e.id}: paper ${e.paper} is not in experiments/papers.ts`);
  });

  for (const exp of EXPERIMENTS) {
    describe(exp.id, () => {
      it("declares its scope, coverage, deviations, criterion source and a negative control", () => {
        assert.ok(exp.title.length > 10, "title (the reproduction's scope)");
        assert.ok(exp.coverage.covered.length > 0, "what is covered");
        if (exp.coverage.level === "partial") assert.ok(exp.coverage.notCovered.length > 0, "a partial reproduction says what it does not cover");
        assert.ok(exp.deviations.length > 0, "deviations from the paper");
        assert.ok(exp.criterionSource.length > 5, "the criterion's source");
        const nc = exp.negativeControl;
        assert.ok(nc && (nc.inRun || (nc.hparams && Object.keys(nc.hparams).length > 0)), "a negative control that is run: hparams that remove the ingredient, or an arm run inside each point");
        if (nc?.hparams) for (const [k, v] of Object.entries(nc.hparams)) assert.notEqual(resolveConfig(exp, "full", []).hparams[k], v, `the control changes ${k}`);
        assert.ok(exp.checks.some((c) => c.role === "claim"), "at least one claim");
        for (const c of exp.checks) assert.ok(c.source.trim().length > 3, `${c.id}: a source`);
        for (const size of SIZES) {
          const { hparams } = resolveConfig(exp, size, []);
          const claim = exp.claim(hparams);
          assert.doesNotMatch(claim, /undefined|NaN|\[object/, `${size}: claim computed from the hparams`);
          assert.ok(planExperiment(exp, size, [], [0]).points.length >= 1, "planExperiment(exp, size, [], [0]).points.length >= 1");
        }
        assert.ok(exp.cost.quick && exp.cost.smoke && exp.cost.full, "exp.cost.quick && exp.cost.smoke && exp.cost.full");
      });

      it("runs at smoke size end to end: verdict, control, arrays, figures", async () => {
        const out = mkdtempSync(join(tmpdir(), `genlab-${exp.id}-`));
        const t0 = performance.now();
        const o = await runExperiment(EXPERIMENTS, { experiment: exp.id, seed: 0, size: "smoke", set: [], outDir: out, quiet: true });
        console.log(`# ${exp.id} smoke: ${o.verdict?.verdict} ${JSON.stringify(o.verdict?.measured)} · control ${o.control?.verdict?.verdict} (fails ${o.control?.failed.join(", ")}) · ${((performance.now() - t0) / 1000).toFixed(1)} s`);
        assert.ok(o.points.every((p) => p.status === "finished"), "o.points.every((p) => p.status === \"finished\")");
        assert.equal(o.error, undefined, "no check is missing a value (on the reproduction or its control)");
        assert.ok(o.verdict && ["PASS", "FAIL", "INCONCLUSIVE"].includes(o.verdict.verdict), "a verdict");
        assert.ok(o.verdict.checks.length > 0, "checks judged");
        assert.deepEqual(o.verdict.seeds, o.seeds);
        assert.ok(o.control?.verdict, "the control's verdict is computed by the same checks");
        for (const p of o.points) {
          assert.ok(existsSync(join(p.dir, "summary.json")), "existsSync(join(p.dir, \"summary.json\"))");
          for (const a of p.arrays) {
            const arr = decodeNpy(readFileSync(join(p.dir, a.file)));
            assert.deepEqual(arr.shape, a.shape, a.name);
          }
          const summary = readFileSync(join(p.dir, "summary.json"), "utf8");
          assert.ok(summary.length < 200_000, "arrays never go inline into summary.json");
        }
        assert.ok(o.figures.length > 0, "figures");
        // the figures and the checks also take several seeds (the smoke points again as another seed: no training)
        const store = openStore(out);
        const pts = o.points.map((p) => pointOf(p, store.metricRows(p.run_id)));
        store.close();
        const two = [...pts, ...pts.map((p) => ({ ...p, seed: p.seed + 1000, runId: `${p.runId}-copy` }))];
        const v2 = judge(exp.id, exp.checks, two, "smoke");
        assert.deepEqual(v2.seeds, [...o.seeds, ...o.seeds.map((s) => s + 1000)], "judged per seed");
        assert.ok(exp.figures(two, v2).length > 0, "figures of a two-seed reproduction");
        const files = writeFigureFiles(join(out, "figures"), o.figures);
        for (const f of files) assert.ok(readFileSync(f).length > 1000, f);
      });
    });
  }
});
