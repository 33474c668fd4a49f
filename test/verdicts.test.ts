// The verdict contract (src/declare/criteria.ts): criteria as data, gates and claims, PASS / FAIL /
// INCONCLUSIVE, a missing value as an error, per-seed checks, controls judged by the same checks and able to
// pass, and seeds that are the user's.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GenlabError } from "../src/core/errors.ts";
import { checkLines, criterionText, holds, judge, type CheckDecl } from "../src/declare/criteria.ts";
import { defineExperiment, integer, number, type Point } from "../src/declare/kit.ts";
import { runExperiment } from "../src/runner/run.ts";
import { experimentStatus, reportHtml, type ReportExperiment } from "../src/report/html.ts";

type R = { acc: number; regime: number; ctl?: number | null };
const pt = (seed: number, results: R): Point<Record<string, number>, R> => ({ runId: `r${seed}`, hparams: {}, seed, results, metrics: [], arrays: [], dir: "" });

const CHECKS: CheckDecl<Point<Record<string, number>, R>>[] = [
  { id: "regime", role: "gate", what: "train accuracy", cmp: ">=", threshold: 0.99, source: "design estimate", value: ({ points }) => points[0].results.regime, reach: "train longer: genlab run x" },
  { id: "acc", role: "claim", what: "test accuracy", cmp: ">=", threshold: 0.9, source: "spec §1", value: ({ points, arm }) => (arm === "control" ? points[0].results.ctl : points[0].results.acc) },
  { id: "band", role: "claim", what: "test accuracy band", cmp: "in", threshold: [0, 1], source: "spec §1", sizes: ["full"], value: ({ points }) => points[0].results.acc },
];

describe("verdicts: criteria as data", () => {
  it("PASS when every gate and claim holds; FAIL when a claim misses; INCONCLUSIVE when a gate misses (with its value and reach)", () => {
    assert.equal(judge("x", CHECKS, [pt(0, { acc: 0.95, regime: 1 })], "quick").verdict, "PASS");
    const fail = judge("x", CHECKS, [pt(0, { acc: 0.85, regime: 1 })], "quick");
    assert.equal(fail.verdict, "FAIL");
    assert.deepEqual(fail.checks.map((c) => [c.id, c.ok]), [["regime", true], ["acc", false]]);
    assert.ok(Math.abs(fail.checks[1].margin + 0.05) < 1e-12, "margin = value − threshold");
    const inc = judge("x", CHECKS, [pt(0, { acc: 0.85, regime: 0.5 })], "quick");
    assert.equal(inc.verdict, "INCONCLUSIVE", "a gate missed outranks a claim missed: the regime was not reached");
    assert.match(inc.reason ?? "", /train accuracy = 0\.5 \(needs ≥ 0\.99\); train longer: genlab run x/);
  });

  it("a value equal to the threshold up to float rounding meets ≥, ≤ and ∈, never > or <", () => {
    const v = 0.8125 - 0.8175; // −0.005000000000000004: two images of 400 below
    assert.ok(v < -0.005, "the float difference really is below the threshold's bits");
    assert.ok(holds(">=", -0.005, v), "≥ −0.005 holds for a tie");
    assert.ok(holds("<=", -0.005 - 1e-18, -0.005), "≤ holds for a tie");
    assert.ok(holds("in", [-0.005, 0], v), "∈ holds at the lower end");
    assert.ok(!holds(">", -0.005, v), "> is not met by a tie");
    assert.ok(!holds("<", v, -0.005), "< is not met by a tie");
    assert.ok(!holds(">=", -0.005, -0.0050001), "a real miss still misses");
    assert.ok(!holds(">=", 5, -Infinity) && !holds("<=", 5, Infinity) && !holds(">=", 5, NaN), "infinities and NaN are never ties");
  });

  it("a check applies only at its sizes, and the criterion text is generated from the checks", () => {
    assert.equal(judge("x", CHECKS, [pt(0, { acc: 0.95, regime: 1 })], "full").checks.length, 3);
    assert.match(criterionText(CHECKS, "quick"), /^gates \(regime reached\): train accuracy ≥ 0\.99 \(every seed\) \[design estimate\]\. claims: test accuracy ≥ 0\.9 \(every seed\) \[spec §1\]$/);
    assert.doesNotMatch(criterionText(CHECKS, "quick"), /band/);
  });

  it("a missing value is an error naming the check and the seed, never a pass (null, undefined, NaN, a thrown lookup)", () => {
    for (const bad of [null, undefined, NaN]) {
      assert.throws(
        () => judge("x", CHECKS, [pt(0, { acc: 0.95, regime: 1 }), pt(3, { acc: bad as number, regime: 1 })], "quick"),
        (e: unknown) => e instanceof GenlabError && /check acc \(test accuracy\) has no value on seed 3/.test(e.message),
      );
    }
    const throwing: CheckDecl<Point<Record<string, number>, R>>[] = [{ ...CHECKS[1], value: () => { throw new Error("the random arm was not run"); } }];
    assert.throws(() => judge("x", throwing, [pt(0, { acc: 1, regime: 1 })], "quick"), /computing check acc on seed 0 failed: the random arm was not run/);
  });

  it("per-seed checks must hold on every seed: the worst seed is judged, per-seed values and mean ± sd are reported", () => {
    const v = judge("x", CHECKS, [pt(5, { acc: 0.95, regime: 1 }), pt(6, { acc: 0.89, regime: 1 })], "quick");
    assert.equal(v.verdict, "FAIL");
    const acc = v.checks.find((c) => c.id === "acc")!;
    assert.equal(acc.value, 0.89);
    assert.deepEqual(acc.perSeed.map((s) => [s.seed, s.ok]), [[5, true], [6, false]]);
    assert.ok(Math.abs(acc.mean - 0.92) < 1e-12 && acc.sd !== null, "mean and sd over seeds");
    assert.deepEqual(v.seeds, [5, 6]);
    assert.equal(v.measured["acc@s6"], 0.89);
    assert.match(checkLines(v)[1], /^✗ claim acc: test accuracy = 0\.89 ≥ 0\.9 \(margin -0\.01\) \(seeds 5: 0\.95, 6: 0\.89✗; mean 0\.92 ± /);
  });

  it("declarations are checked: duplicate ids, a threshold of the wrong shape, no source, no claim", () => {
    const base = { id: "bad", paper: 1, title: "t", claim: () => "c", coverage: { level: "full" as const, covered: [], notCovered: [] }, deviations: [], criterionSource: "s", dataSource: "generated" as const, hparams: { a: number(1, "a") }, sizes: { smoke: {}, quick: {} }, cost: { smoke: "", quick: "", full: "" }, run: async () => ({ v: 1 }), figures: () => [] };
    const c = { id: "v", role: "claim" as const, what: "v", cmp: ">=" as const, threshold: 1, source: "s", value: () => 1 };
    assert.throws(() => defineExperiment({ ...base, checks: [c, c] }), /declared twice/);
    assert.throws(() => defineExperiment({ ...base, checks: [{ ...c, cmp: "in", threshold: 1 }] }), /does not fit "in"/);
    assert.throws(() => defineExperiment({ ...base, checks: [{ ...c, source: " " }] }), /no source/);
    assert.throws(() => defineExperiment({ ...base, checks: [{ ...c, role: "gate" }] }), /no claim/);
  });
});

// A tiny experiment with a control run inside each point (inRun) that can pass, and two seeds.
const tiny = defineExperiment({
  id: "tiny",
  paper: 1,
  title: "tiny",
  claim: () => "the treated arm beats the control arm",
  coverage: { level: "full", covered: ["all"], notCovered: [] },
  deviations: [],
  criterionSource: "this test",
  negativeControl: { what: "the ingredient removed (an arm run inside each point)", inRun: true },
  seeds: { smoke: 2 },
  dataSource: "generated",
  hparams: { controlPasses: integer(0, "1: the control arm also gains (a criterion that does not discriminate)", { min: 0, max: 1 }) },
  sizes: { smoke: {}, quick: {} },
  cost: { smoke: "0 s", quick: "0 s", full: "0 s" },
  run: async (ctx) => ({ gain: 1 + ctx.seed, control_gain: ctx.hparams.controlPasses ? 1 : -1, seed: ctx.seed }),
  // after run: Point<H, R> is inferred from run's result (left-to-right inference), no casts
  checks: [{ id: "gain", role: "claim", what: "gain over 0", cmp: ">", threshold: 0, source: "this test", value: ({ points, arm }) => (arm === "control" ? points[0].results.control_gain : points[0].results.gain) }],
  figures: () => [],
});

describe("controls and seeds", () => {
  it("--seed s runs seeds s, s+1, … (the declared count); the verdict and run ids show them", async () => {
    const out = mkdtempSync(join(tmpdir(), "genlab-verdicts-"));
    const o = await runExperiment([tiny], { experiment: "tiny", seed: 7, size: "smoke", set: [], outDir: out, quiet: true });
    assert.deepEqual(o.seeds, [7, 8]);
    assert.deepEqual(o.points.map((p) => p.seed), [7, 8]);
    assert.deepEqual(o.verdict?.seeds, [7, 8]);
    assert.equal(o.verdict?.verdict, "PASS");
    const three = await runExperiment([tiny], { experiment: "tiny", seed: 7, seedCount: 3, size: "smoke", set: [], outDir: out, quiet: true });
    assert.deepEqual(three.seeds, [7, 8, 9]);
  });

  it("a control is judged by the same checks, says which it fails, and can pass (then it is flagged)", async () => {
    const out = mkdtempSync(join(tmpdir(), "genlab-verdicts-"));
    const ok = await runExperiment([tiny], { experiment: "tiny", seed: 0, size: "smoke", set: [], outDir: out, quiet: true });
    assert.equal(ok.control?.verdict?.verdict, "FAIL");
    assert.deepEqual(ok.control?.failed, ["gain"]);
    const bad = await runExperiment([tiny], { experiment: "tiny", seed: 0, size: "smoke", set: ["controlPasses=1"], outDir: out, quiet: true });
    assert.equal(bad.control?.verdict?.verdict, "PASS", "a control that could pass, passes when the criterion does not discriminate");
    const html = reportHtml({ papers: [{ number: 1, title: "P", paperClass: "A", group: "g" }], experiments: [entry(bad)], classMeaning: { A: "a" }, generatedAt: "t", command: "c", versions: {} });
    assert.match(html, /the control passes every check: the criteria do not discriminate here/);
  });

  it("a check with a missing value makes the outcome an ERROR (reported apart), not a verdict", async () => {
    const broken = defineExperiment({ ...tiny, id: "tiny-broken", checks: [{ id: "gain", role: "claim", what: "gain", cmp: ">", threshold: 0, source: "t", value: () => null }], negativeControl: undefined } as never);
    const o = await runExperiment([broken], { experiment: "tiny-broken", seed: 0, size: "smoke", set: [], outDir: mkdtempSync(join(tmpdir(), "genlab-verdicts-")), quiet: true });
    assert.equal(o.verdict, null);
    assert.match(o.error ?? "", /check gain \(gain\) has no value on seed 0/);
    assert.equal(experimentStatus(entry(o)).verdict, "ERROR");
  });
});

function entry(o: Awaited<ReturnType<typeof runExperiment>>): ReportExperiment {
  return {
    id: o.experiment, paper: 1, title: "t", claim: "c", coverage: { level: "full", covered: [], notCovered: [] }, deviations: [], criterionSource: "s", size: o.size,
    outcome: { seeds: o.seeds, verdict: o.verdict, control: o.control ? { what: o.control.what, verdict: o.control.verdict, failed: o.control.failed, inRun: o.control.inRun } : null, ...(o.error ? { error: o.error } : {}), runIds: [], seconds: 0 },
    points: [], figures: [], command: "", hparams: {},
  };
}

describe("gate scope", () => {
  type Q = Point<Record<string, number>, { size: number; noise: number; prune: number }>;
  const checks: CheckDecl<Q>[] = [
    { id: "big_enough", role: "gate", what: "training images", cmp: ">=", threshold: 20000, source: "calibration", gates: ["prune_gain"], value: ({ points }) => points[0].results.size },
    { id: "noise_found", role: "claim", what: "flipped labels in the top 10%", cmp: ">=", threshold: 0.5, source: "spec", value: ({ points }) => points[0].results.noise },
    { id: "prune_gain", role: "claim", what: "keep-50% gain", cmp: ">=", threshold: 0.3, source: "spec", value: ({ points }) => points[0].results.prune },
  ];
  const q = (r: { size: number; noise: number; prune: number }): Q => ({ runId: "r", hparams: {}, seed: 0, results: r, metrics: [], arrays: [], dir: "" });
  it("a missed gate leaves only its claims unjudged: INCONCLUSIVE when the others hold, FAIL when one outside its scope misses", () => {
    const inc = judge("x", checks, [q({ size: 5000, noise: 0.9, prune: -1 })], "quick");
    assert.equal(inc.verdict, "INCONCLUSIVE");
    assert.deepEqual(inc.checks.find((c) => c.id === "prune_gain")?.gatedBy, ["big_enough"]);
    assert.equal(inc.checks.find((c) => c.id === "noise_found")?.gatedBy, undefined);
    assert.equal(judge("x", checks, [q({ size: 5000, noise: 0.1, prune: -1 })], "quick").verdict, "FAIL", "a claim the gate does not cover is judged");
    assert.equal(judge("x", checks, [q({ size: 30000, noise: 0.9, prune: -1 })], "quick").verdict, "FAIL");
    assert.equal(judge("x", checks, [q({ size: 30000, noise: 0.9, prune: 1 })], "quick").verdict, "PASS");
  });
});
