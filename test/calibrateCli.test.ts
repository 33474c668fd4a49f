// `genlab calibrate` as a user runs it (issue 22, deliverable 3): calibration metrics of their own logits or
// probabilities with bootstrap intervals, temperature scaling on a held-out split, the reliability diagram;
// every bad input is one ✖ line, exit 1, and nothing written. Where /usr/bin/python3 has numpy, the metrics
// are checked against a numpy computation of the definitions in docs/calibration.md.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeNpy } from "../src/data/npy.ts";
import { hostRng, softmaxRows } from "../src/measures/calibration.ts";
import { fontFile } from "../src/report/render.ts";
import { genlabHere } from "./util/cliHere.ts";

const PY = "/usr/bin/python3";
const hasNumpy = existsSync(PY) && spawnSync(PY, ["-c", "import numpy"]).status === 0;

type Ci = { value: number; lo: number; hi: number };
type Result = {
  input: { kind: string; examples: number; classes: number };
  metrics: Record<string, Ci>;
  reliability: { lo: number; hi: number; count: number }[];
  temperature_scaling: null | { temperature: number; converged: boolean; fit_examples: number; heldout_examples: number; before: Record<string, Ci>; after: Record<string, Ci> };
  notes: string[];
};

/** Logits z of a calibrated model (labels drawn from softmax(z)), seeded. */
function calibratedSample(n: number, c: number, seed: number) {
  const r = hostRng(seed);
  const z = Float64Array.from({ length: n * c }, () => 4 * (r() - 0.5));
  const p = softmaxRows(z, n, c);
  const y = Int32Array.from({ length: n }, (_, i) => {
    const u = r();
    let acc = 0;
    for (let j = 0; j < c; j++) {
      acc += p[i * c + j];
      if (u < acc) return j;
    }
    return c - 1;
  });
  return { z, p, y };
}

describe("genlab calibrate", () => {
  let dir = "";
  const f = (name: string) => join(dir, name);
  const npy = (name: string, data: Float32Array | Float64Array | Int32Array, shape: number[]) => writeFileSync(f(name), encodeNpy({ data, shape }));
  const run = async (args: string[]) => {
    const r = await genlabHere(["calibrate", ...args]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    return r;
  };
  const json = async (args: string[]): Promise<Result> => JSON.parse((await run([...args, "--json"])).stdout);

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "genlab-calibrate-"));
    // the hand case: confidences 0.6, 0.6, 0.9, 0.9; correct 1, 0, 1, 1
    npy("hand_p.npy", Float64Array.of(0.6, 0.4, 0.4, 0.6, 0.9, 0.1, 0.1, 0.9), [4, 2]);
    writeFileSync(f("hand_y.txt"), "0\n0\n0\n1\n");
    // confidences of exactly 1 (one right, one wrong); the other class's probabilities are exactly 0
    npy("edge_p.npy", Float64Array.of(1, 0, 0, 1), [2, 2]);
    npy("edge_y.npy", Int32Array.of(0, 0), [2]);
    // a calibrated model's logits, doubled: temperature scaling should find T ≈ 2
    const s = calibratedSample(20000, 4, 1);
    npy("hot_z.npy", Float32Array.from(s.z, (v) => 2 * v), [20000, 4]);
    npy("hot_y.npy", s.y, [20000]);
    npy("hot_p.npy", softmaxRows(Float32Array.from(s.z, (v) => 2 * v), 20000, 4), [20000, 4]);
  });

  it("the hand case: ECE and every variant as computed by hand (4 bins), labels from a text file", async () => {
    const j = await json(["--pred-probs", f("hand_p.npy"), "--labels", f("hand_y.txt"), "--bins", "4", "--bootstrap", "0"]);
    const m = (k: string) => j.metrics[k].value;
    // equal width: [0.5, 0.75) holds 0.6, 0.6 (accuracy 1/2: gap 0.1), [0.75, 1] holds 0.9, 0.9 (accuracy 1: gap 0.1)
    assert.ok(Math.abs(m("ece") - 0.1) <= 1e-12, `ece ${m("ece")}`);
    assert.ok(Math.abs(m("mce") - 0.1) <= 1e-12, `mce ${m("mce")}`);
    // equal mass (one example a bin): (0.4 + 0.6 + 0.1 + 0.1)/4; classwise: each class (0.4 + 0.6 + 0.1 + 0.1)/4
    assert.ok(Math.abs(m("adaptive_ece") - 0.3) <= 1e-12 && Math.abs(m("classwise_ece") - 0.3) <= 1e-12, `adaptive ${m("adaptive_ece")} classwise ${m("classwise_ece")}`);
    assert.ok(Math.abs(m("brier") - 0.27) <= 1e-12, `brier ${m("brier")}`);
    assert.ok(Math.abs(m("nll") + (Math.log(0.6) + Math.log(0.4) + 2 * Math.log(0.9)) / 4) <= 1e-12, `nll ${m("nll")}`);
    assert.deepEqual(j.reliability.map((b) => b.count), [0, 0, 2, 2]);
    assert.equal(j.temperature_scaling, null);
    assert.ok(j.notes.some((n) => /no temperature scaling: it needs logits/.test(n)), "says why there is no temperature scaling");
    const text = await run(["--pred-probs", f("hand_p.npy"), "--labels", f("hand_y.txt"), "--bins", "4", "--bootstrap", "0"]);
    assert.match(text.stdout, /no temperature scaling: it needs logits \(pass them with --logits\)/);
    assert.match(text.stdout, /ece\s+0\.1000/);
  });

  it("bin edges: a confidence of exactly 1 is in the last bin (no extra bin), probabilities of exactly 0 in the first", async () => {
    const j = await json(["--pred-probs", f("edge_p.npy"), "--labels", f("edge_y.npy"), "--bins", "10", "--bootstrap", "0"]);
    assert.equal(j.reliability.length, 10);
    assert.equal(j.reliability[9].count, 2);
    assert.equal(j.reliability[9].hi, 1);
    assert.ok(Math.abs(j.metrics.ece.value - 0.5) <= 1e-12, `ece ${j.metrics.ece.value}`);
    // class 0's p = 0 (label 0: a hit) sits in bin 0 with gap 1; class 1's p = 0 (a miss) in bin 0 with gap 0
    assert.ok(Math.abs(j.metrics.classwise_ece.value - 0.5) <= 1e-12, `classwise ${j.metrics.classwise_ece.value}`);
  });

  it("temperature scaling recovers T ≈ 2 on 2× a calibrated model's logits and brings the held-out ECE down", async () => {
    const j = await json(["--logits", f("hot_z.npy"), "--labels", f("hot_y.npy"), "--bootstrap", "100"]);
    const t = j.temperature_scaling!;
    assert.ok(t.converged, "fitted to convergence");
    // 10,000 fit examples: the MLE of T has a relative sd of ~1% here; the brief's bound is 5%
    assert.ok(Math.abs(t.temperature - 2) <= 0.05 * 2, `T ${t.temperature}`);
    assert.equal(t.fit_examples + t.heldout_examples, 20000);
    assert.ok(Math.abs(t.heldout_examples - 10000) <= 4, `held out ${t.heldout_examples} (stratified rounding per class)`);
    assert.ok(t.before.ece.value > 0.1 && t.after.ece.value < 0.03, `held-out ECE ${t.before.ece.value} → ${t.after.ece.value}`);
    assert.ok(t.after.nll.value < t.before.nll.value, "NLL improves");
    assert.equal(t.after.accuracy.value, t.before.accuracy.value, "a temperature never changes the argmax");
    process.stdout.write(`# T recovered: ${t.temperature}; held-out ECE ${t.before.ece.value} → ${t.after.ece.value}\n`);
  });

  it("bootstrap intervals: deterministic for a seed, another seed moves them, and they hold the estimate of a miscalibrated model", async () => {
    const args = ["--logits", f("hot_z.npy"), "--labels", f("hot_y.npy"), "--bootstrap", "200"];
    const a = await json([...args, "--seed", "3"]);
    const b = await json([...args, "--seed", "3"]);
    const c = await json([...args, "--seed", "4"]);
    assert.deepEqual(a.metrics, b.metrics);
    assert.deepEqual(a.temperature_scaling, b.temperature_scaling);
    assert.notEqual(a.metrics.ece.lo, c.metrics.ece.lo);
    for (const [k, m] of Object.entries(a.metrics)) assert.ok(m.lo <= m.value && m.value <= m.hi, `${k}: ${m.value} in [${m.lo}, ${m.hi}]`);
    for (const [k, m] of Object.entries(a.temperature_scaling!.before)) assert.ok(m.lo <= m.value && m.value <= m.hi, `held-out before ${k}: ${m.value} in [${m.lo}, ${m.hi}]`);
  });

  it("CSV and JSON outputs, an SVG and a PNG reliability diagram", async () => {
    const csv = f("calib.csv");
    const svg = f("rel.svg");
    const r = await run(["--logits", f("hot_z.npy"), "--labels", f("hot_y.npy"), "--bootstrap", "50", "--out", csv, "--figure", svg]);
    assert.match(r.stdout, /T = 2\.0\d+ fitted to convergence/);
    assert.match(r.stdout, /reliability bins \(held-out \d+, after T = /);
    const lines = readFileSync(csv, "utf8").trim().split("\n");
    assert.equal(lines[0], "set,metric,value,ci_lo,ci_hi");
    assert.equal(lines.length, 1 + 3 * 9 + 1, "9 metrics × (all, held-out before, after) and T");
    assert.match(lines[lines.length - 1], /^fit,temperature,2\.0\d+,,$/);
    const s = readFileSync(svg, "utf8");
    assert.match(s, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(s, /after T = 2\.0\d\d: ECE/);
    if (fontFile()) {
      await run(["--pred-probs", f("hot_p.npy"), "--labels", f("hot_y.npy"), "--bootstrap", "0", "--figure", f("rel.png"), "--out", f("calib.json")]);
      assert.deepEqual([...readFileSync(f("rel.png")).subarray(1, 4)], [0x50, 0x4e, 0x47], "a PNG");
      assert.equal(JSON.parse(readFileSync(f("calib.json"), "utf8")).input.kind, "probabilities");
    }
  });

  it("ECE (top-label, adaptive, classwise), MCE, L2 and debiased L2 ECE, Brier and NLL equal a numpy computation of the definitions", { skip: !hasNumpy && "/usr/bin/python3 has no numpy" }, async () => {
    const j = await json(["--logits", f("hot_z.npy"), "--labels", f("hot_y.npy"), "--bootstrap", "0", "--bins", "15"]);
    const py = `
import json, sys, numpy as np
z = np.load(sys.argv[1]).astype(np.float64); y = np.load(sys.argv[2]); B = 15
n, C = z.shape
m = z.max(1, keepdims=True); lse = m[:, 0] + np.log(np.exp(z - m).sum(1))
p = np.exp(z - lse[:, None])
conf = p.max(1); pred = p.argmax(1); ok = (pred == y).astype(float)
def binned(v, hit, idx, nb):
    e = 0.0; g = []
    for b in range(nb):
        s = idx == b
        if s.any(): e += s.mean() * abs(hit[s].mean() - v[s].mean()); g.append(abs(hit[s].mean() - v[s].mean()))
    return e, max(g)
wbin = lambda v: np.minimum(np.floor(v * B), B - 1).astype(int)
ece, mce = binned(conf, ok, wbin(conf), B)
order = np.lexsort((np.arange(n), conf)); rank = np.empty(n, int); rank[order] = np.arange(n)
ada, _ = binned(conf, ok, (rank * B) // n, B)
cw = np.mean([binned(p[:, k], (y == k).astype(float), wbin(p[:, k]), B)[0] for k in range(C)])
onehot = np.eye(C)[y]
# the L2 calibration error and its debiased version (Kumar et al. 2019): per bin (acc − conf)² − acc(1 − acc)/(n_b − 1)
l2 = 0.0; l2d = 0.0
for b in range(B):
    s = wbin(conf) == b
    if not s.any(): continue
    a, c = ok[s].mean(), conf[s].mean()
    l2 += s.mean() * (a - c) ** 2
    if s.sum() >= 2: l2d += s.mean() * ((a - c) ** 2 - a * (1 - a) / (s.sum() - 1))
print(json.dumps({"l2_ece": l2 ** 0.5, "l2_ece_debiased": max(l2d, 0) ** 0.5, "ece": ece, "mce": mce, "adaptive_ece": ada, "classwise_ece": cw, "brier": ((p - onehot) ** 2).sum(1).mean(), "nll": (lse - z[np.arange(n), y]).mean(), "accuracy": ok.mean()}))
`;
    const r = spawnSync(PY, ["-c", py, f("hot_z.npy"), f("hot_y.npy")], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const ref: Record<string, number> = JSON.parse(r.stdout);
    const diffs: string[] = [];
    for (const [k, v] of Object.entries(ref)) {
      const d = Math.abs(j.metrics[k].value - v);
      diffs.push(`${k} ${d.toExponential(1)}`);
      // the same float64 arithmetic in another order: agreement to rounding (1e-12 absolute on values ≤ 2)
      assert.ok(d <= 1e-12, `${k}: genlab ${j.metrics[k].value} vs numpy ${v}`);
    }
    process.stdout.write(`# |genlab − numpy|: ${diffs.join(", ")}\n`);
  });

  it("every bad input: exit 1, one ✖ line naming the problem, nothing written", async () => {
    npy("nan_z.npy", Float64Array.of(0, 1, 2, 3, NaN, 1, 0, 0), [4, 2]);
    npy("inf_p.npy", Float64Array.of(0.5, 0.5, Infinity, 0, 0.5, 0.5, 0.5, 0.5), [4, 2]);
    npy("sum_p.npy", Float64Array.of(0.5, 0.5, 0.5, 0.6, 0.5, 0.5, 0.5, 0.5), [4, 2]);
    npy("bin_p.npy", Float64Array.of(0.1, 0.7, 0.4, 0.9), [4]);
    npy("bin1_p.npy", Float64Array.of(0.1, 0.7, 0.4, 0.9), [4, 1]);
    npy("three.npy", Float64Array.of(0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5), [2, 2, 2]);
    npy("y5.npy", Int32Array.of(0, 0, 1, 1, 0), [5]);
    npy("y_range.npy", Int32Array.of(0, 2, 1, 1), [4]);
    npy("y_float.npy", Float64Array.of(0, 0.5, 1, 1), [4]);
    npy("y_onehot.npy", Float64Array.of(1, 0, 0, 1, 1, 0, 0, 1), [4, 2]);
    npy("two_z.npy", Float64Array.of(0, 1, 1, 0), [2, 2]);
    npy("two_y.npy", Int32Array.of(0, 1), [2]);
    writeFileSync(f("bad_y.txt"), "0\n1\nabc\n0\n");
    writeFileSync(f("labels.csv"), "0\n0\n0\n1\n");
    writeFileSync(f("z.txt"), "1 2\n");
    const outFile = f("never.json");
    const figFile = f("never.svg");
    const P = ["--pred-probs", f("hand_p.npy")];
    const cases: [string[], RegExp][] = [
      [["--labels", f("hand_y.txt")], /give exactly one of --logits <file> and --pred-probs <file>/],
      [[...P, "--logits", f("hot_z.npy"), "--labels", f("hand_y.txt")], /give exactly one of --logits/],
      [[...P], /pass the labels with --labels/],
      [[...P, "--labels", f("y5.npy")], /has 5 labels, .*hand_p\.npy \(--pred-probs\) has 4 rows/],
      [[...P, "--labels", f("y_range.npy")], /row 1 has label 2; expected an integer class in 0\.\.1/],
      [[...P, "--labels", f("y_float.npy")], /row 1 has label 0\.5; expected an integer class/],
      [[...P, "--labels", f("y_onehot.npy")], /shape \[4, 2\]; expected \[N\] integer labels \(class indices, not one-hot\)/],
      [[...P, "--labels", f("bad_y.txt")], /line 3 is "abc"; expected one integer label a line/],
      [["--logits", f("nan_z.npy"), "--labels", f("hand_y.txt")], /row 2 \(column 0\) is NaN; every logit must be finite/],
      [["--pred-probs", f("inf_p.npy"), "--labels", f("hand_y.txt")], /row 1 \(column 0\) is Infinity/],
      [["--pred-probs", f("hot_z.npy"), "--labels", f("hot_y.npy")], /row 0 has -?[0-9.e-]+ in column \d, outside \[0, 1\]: these look like logits; pass them with --logits/],
      [["--pred-probs", f("sum_p.npy"), "--labels", f("hand_y.txt")], /row 1 sums to 1\.1, not 1 ± 0\.001: .*pass logits with --logits/],
      [["--pred-probs", f("bin_p.npy"), "--labels", f("hand_y.txt")], /shape \[4\]: one probability per example does not say which class it is for; pass \[N, 2\] with column 1 = p\(class 1\)/],
      [["--pred-probs", f("bin1_p.npy"), "--labels", f("hand_y.txt")], /shape \[4, 1\]: one probability per example/],
      [["--logits", f("bin_p.npy"), "--labels", f("hand_y.txt")], /one logit per example does not say which class it is for/],
      [["--pred-probs", f("three.npy"), "--labels", f("hand_y.txt")], /shape \[2, 2, 2\]; expected \[N, C\]/],
      [["--logits", f("z.txt"), "--labels", f("hand_y.txt")], /expected a \.npy file/],
      [["--logits", f("missing.npy"), "--labels", f("hand_y.txt")], /no such predictions file: .*missing\.npy/],
      [["--logits", f("two_z.npy"), "--labels", f("two_y.npy"), "--holdout", "0.1"], /--holdout 0\.1 of 2 examples leaves 2 to fit T and 0 to evaluate it/],
      [[...P, "--labels", f("hand_y.txt"), "--out", f("calib.txt")], /expected a file ending in \.json or \.csv/],
      [[...P, "--labels", f("labels.csv"), "--out", f("labels.csv")], /is the input .*--labels.*never overwrites an input/],
      [[...P, "--labels", f("hand_y.txt"), "--out", join(dir, "nope", "c.json")], /the folder .*nope does not exist/],
      [[...P, "--labels", f("hand_y.txt"), "--figure", f("rel.pdf")], /expected a file ending in \.svg or \.png/],
      [[...P, "--labels", f("hand_y.txt"), "--holdout", "1.5"], /--holdout.*expected a fraction in \(0, 1\)/],
      [[...P, "--labels", f("hand_y.txt"), "--bins", "0"], /--bins.*expected an integer in \[1, 1000\]/],
      [[...P, "--labels", f("hand_y.txt"), "--bootstrap", "1e3"], /--bootstrap.*expected an integer/],
    ];
    for (const [args, re] of cases) {
      const withOut = args.includes("--out") ? args : [...args, "--out", outFile];
      const full = withOut.includes("--figure") ? withOut : [...withOut, "--figure", figFile];
      const r = await genlabHere(["calibrate", ...full]);
      const lines = r.stderr.trim().split("\n");
      assert.equal(r.code, 1, `${args.join(" ")}: exit ${r.code}, ${r.stderr}`);
      assert.match(lines[0], /^✖ /, `${args.join(" ")}: ${r.stderr}`);
      assert.match(lines[0], re, args.join(" "));
      // one line; commander's flag-value errors add "(run with --help for usage)"
      assert.ok(lines.length === 1 || (lines.length === 2 && lines[1] === "(run with --help for usage)"), `one line: ${r.stderr}`);
      assert.equal(r.stdout, "", `nothing on stdout: ${r.stdout}`);
      assert.ok(!existsSync(outFile) && !existsSync(figFile), `${args.join(" ")}: nothing written`);
    }
    assert.equal(readFileSync(f("labels.csv"), "utf8"), "0\n0\n0\n1\n", "the input is untouched");
  });
});
