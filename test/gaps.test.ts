// Tests the mutation run found missing (issue 9, "Tests that can fail"): each fails on a realistic bug that
// the rest of the suite let through (see scripts/mutate.ts and its score in the README).
import { describe, it } from "node:test";
import { judge } from "../src/declare/criteria.ts";
import assert from "node:assert/strict";
import { DType, numpy as np, type Array } from "@jax-js/jax";
import { keyFromSeed, keyToData, roleKeys } from "../src/core/prng.ts";
import { softmaxCrossEntropy } from "../src/nn/losses.ts";
import { topHessianEigenvalue } from "../src/measures/hessian.ts";
import { reportHtml, type ReportExperiment } from "../src/report/html.ts";
import { formatDuration } from "../src/runner/progress.ts";

describe("tests the mutation run asked for", () => {
  it("(a) cross-entropy is stable at logits [[1000, 0]]: finite, ≈ 0 for label 0 and ≈ 1000 for label 1 (max-subtracted log-sum-exp)", () => {
    const ce = (label: number) => softmaxCrossEntropy(np.array([[1000, 0]]), np.array([label], { dtype: DType.Int32 })).item();
    const l0 = ce(0);
    const l1 = ce(1);
    assert.ok(Number.isFinite(l0) && Number.isFinite(l1), `finite: ${l0}, ${l1}`);
    assert.ok(Math.abs(l0) < 1e-4, `label 0: ${l0} ≈ 0`);
    assert.ok(Math.abs(l1 - 1000) < 1e-2, `label 1: ${l1} ≈ 1000`);
  });

  it("(b) power iteration starts from a unit vector: on H = 3·I its first Rayleigh quotient is 3 for any start", async () => {
    // L(θ) = 1.5 ‖θ‖²: H = 3 I, so vᵀHv = 3 for a unit v and 3‖v‖² for an unnormalized one.
    const loss = (p: { a: Array; b: Array }) => np.square(p.a).sum().add(np.square(p.b).sum()).mul(1.5);
    const r = await topHessianEigenvalue(loss, { a: np.ones([7]), b: np.ones([3, 4]) }, { key: keyFromSeed(5), iters: 2 });
    assert.ok(Math.abs(r.history[0] - 3) < 1e-4, `first Rayleigh quotient ${r.history[0]} = 3`);
  });

  it("(c) a failed experiment is FAIL everywhere in the report: summary row, section badge and counts", () => {
    const e: ReportExperiment = {
      id: "made-up",
      paper: 2,
      title: "a made-up reproduction that fails",
      claim: "c",
      coverage: { level: "full", covered: ["all"], notCovered: [] },
      deviations: [],
      criterionSource: "s",
      size: "quick",
      outcome: { seeds: [0], verdict: judge("made-up", [{ id: "x", role: "claim", what: "x", cmp: ">=", threshold: 1, source: "s", value: () => 0.5 }], [{ seed: 0 }], "quick"), control: null, runIds: ["r"], seconds: 1 },
      points: [{ runId: "r", seed: 0, varied: {}, seconds: 1, reused: false, control: false }],
      figures: [],
      command: "genlab run made-up",
      hparams: { x: 1 },
    };
    const papers = [
      { number: 1, title: "P1", paperClass: "A", group: "g" },
      { number: 2, title: "P2", paperClass: "A", group: "g" },
    ];
    const html = reportHtml({ papers, experiments: [e], classMeaning: { A: "a" }, generatedAt: "t", command: "c", versions: {} });
    assert.match(html, /<span class="badge pass">0 PASS<\/span> <span class="badge fail">1 FAIL<\/span> <span class="badge inconclusive">0 INCONCLUSIVE<\/span>/, "counts");
    const row = html.split("\n").find((l) => l.includes('<code>made-up</code>'))!;
    assert.match(row, /<span class="badge fail">FAIL<\/span>/, "summary row");
    assert.doesNotMatch(row, /badge pass/, "no PASS in the row");
    const section = html.slice(html.indexOf('id="paper-2"'));
    assert.match(section, /<span class="badge fail">FAIL<\/span>/, "section badge");
    assert.doesNotMatch(section.slice(0, section.indexOf("</section>")), /badge pass/, "no PASS in the section");
  });

  it("(e) an experiment's roles (data, init, shuffle, …) get distinct keys from one helper", () => {
    const k = roleKeys(3, ["data", "init", "shuffle", "noise"]);
    const datas = Object.values(k).map((key) => keyToData(key).join(","));
    assert.equal(new Set(datas).size, 4, `distinct keys: ${datas.join(" | ")}`);
    assert.throws(() => roleKeys(0, ["data", "data"]), /distinct/);
    // the same seed gives the same keys (determinism), another seed others
    const again = roleKeys(3, ["data", "init", "shuffle", "noise"]);
    assert.deepEqual(Object.values(again).map((key) => keyToData(key).join(",")), datas);
    const other = roleKeys(4, ["data"]);
    assert.notEqual(keyToData(other.data).join(","), datas[0]);
  });

  it("durations round once (found in CI's progress line 'ETA 2m60s'): 179.6 s is 3m00s", () => {
    assert.deepEqual([0.5, 9.96, 59.4, 59.6, 179.6, 3599.6].map(formatDuration), ["0.5s", "10s", "59s", "1m00s", "3m00s", "1h00m"]);
  });
});
