// Issue 22, deliverable 1: data scores from outputs a user logged in their own loop (`genlab scores
// --dynamics`). Scores from logged logits equal genlab's own dynamics path fed the same network, and a numpy
// reference on a fixture; bad logged inputs are one line naming the file and the epoch, with nothing written.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { numpy as np } from "@jax-js/jax";
import { keyFromSeed } from "../src/core/prng.ts";
import { encodeNpy } from "../src/data/npy.ts";
import { applyMlp, initMlp, mlpSpec } from "../src/nn/dense.ts";
import { dynamicsRow, mlpDynamics, type Dynamics } from "../src/scores/dynamics.ts";
import { dynamicsFromOutputs } from "../src/scores/logged.ts";
import { dynamicsColumns } from "../src/scores/pipeline.ts";
import { genlabHere } from "./util/cliHere.ts";

const PY = "/usr/bin/python3";
const hasNumpy = existsSync(PY) && spawnSync(PY, ["-c", "import numpy"]).status === 0;

/** A deterministic host generator (a fixture, not a random draw of the library). */
function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function fixture(E: number, N: number, C: number, seed = 1) {
  const r = lcg(seed);
  const y = Int32Array.from({ length: N }, () => Math.floor(r() * C));
  // logits that drift towards the label over the epochs, with noise (some examples flip, some never learned)
  const logits = Array.from({ length: E }, (_, e) => Float32Array.from({ length: N * C }, (_, t) => (t % C === y[Math.floor(t / C)] ? (e + 1) * (Math.floor(t / C) % 7 === 0 ? -0.4 : 0.5) : 0) + 2 * (r() - 0.5)));
  return { y, logits };
}

describe("issue 22: scores from logged outputs", () => {
  it("equal genlab's own dynamics path on the same network, epoch by epoch (loss, margin, correct, p_true, EL2N and every score column)", async () => {
    const [N, D, C, E] = [64, 6, 3, 4];
    const spec = mlpSpec({ dims: [D, 8, C], activation: "relu", bias: true });
    const r = lcg(7);
    const xHost = Float32Array.from({ length: N * D }, () => 2 * r() - 1);
    const y = Int32Array.from({ length: N }, (_, i) => i % C);
    const measure = mlpDynamics(spec);
    const own: Dynamics = { epochs: [], n: N, values: { loss: new Float32Array(E * N), margin: new Float32Array(E * N), correct: new Float32Array(E * N), p_true: new Float32Array(E * N), el2n: new Float32Array(E * N) } };
    const logged: Float32Array[] = [];
    for (let e = 0; e < E; e++) {
      // a different network at each "epoch" (the parameters a training loop would have)
      const params = initMlp(spec, keyFromSeed(100 + e));
      const q = measure(params, np.array(xHost).reshape([N, D]), np.array(y));
      for (const k of ["loss", "margin", "correct", "p_true", "el2n"] as const) own.values[k]!.set((await q[k]!.data()) as Float32Array, e * N);
      q.grad_norm?.dispose();
      own.epochs.push(e + 1);
      const p2 = initMlp(spec, keyFromSeed(100 + e));
      logged.push((await applyMlp(spec, p2, np.array(xHost).reshape([N, D])).data()) as Float32Array);
    }
    const { dynamics, clipped } = await dynamicsFromOutputs(logged, [1, 2, 3, 4], N, C, y, "logits");
    assert.equal(clipped, 0);
    let maxDiff = 0;
    for (const k of ["loss", "margin", "correct", "p_true", "el2n"] as const) {
      for (let e = 0; e < E; e++) {
        const a = dynamicsRow(own, k, e);
        const b = dynamicsRow(dynamics, k, e);
        for (let i = 0; i < N; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
      }
    }
    process.stderr.write(`# logged logits vs genlab's own dynamics path: max |Δ| ${maxDiff.toExponential(2)}\n`);
    assert.ok(maxDiff < 1e-5, `max |Δ| over every quantity ${maxDiff}`);
    const want = new Set(["el2n", "forgetting", "aum", "cartography", "margin", "loss"] as const);
    const a = dynamicsColumns([own], want, 2, E).columns;
    const b = dynamicsColumns([dynamics], want, 2, E).columns;
    assert.deepEqual(a.map((c) => c.name), b.map((c) => c.name));
    for (const [j, c] of a.entries()) for (let i = 0; i < N; i++) assert.ok(Math.abs(Number(c.values[i]) - Number(b[j].values[i])) < 1e-5, `${c.name}[${i}]`);
  });

  it("probabilities: the same scores as their logits (margins are log-probability differences), clipped margins counted", async () => {
    const { y, logits } = fixture(3, 50, 4);
    const probs = logits.map((z) => {
      const p = new Float32Array(z.length);
      for (let i = 0; i < 50; i++) {
        let m = -Infinity;
        for (let k = 0; k < 4; k++) m = Math.max(m, z[i * 4 + k]);
        let s = 0;
        for (let k = 0; k < 4; k++) s += Math.exp(z[i * 4 + k] - m);
        for (let k = 0; k < 4; k++) p[i * 4 + k] = Math.exp(z[i * 4 + k] - m) / s;
      }
      return p;
    });
    const a = await dynamicsFromOutputs(logits, [1, 2, 3], 50, 4, y, "logits");
    const b = await dynamicsFromOutputs(probs, [1, 2, 3], 50, 4, y, "probs");
    assert.equal(b.clipped, 0);
    for (const k of ["loss", "margin", "p_true", "el2n"] as const) for (let t = 0; t < 150; t++) assert.ok(Math.abs(a.dynamics.values[k]![t] - b.dynamics.values[k]![t]) < 1e-4, `${k}[${t}]`);
    const under = probs.map((p) => p.slice());
    under[0][0 * 4 + ((y[0] + 1) % 4)] = 0;
    assert.equal((await dynamicsFromOutputs(under, [1, 2, 3], 50, 4, y, "probs")).clipped, 1);
  });

  it("genlab scores --dynamics (a folder of per-epoch .npy files, and one [E, N, C] .npy) agrees with numpy", { skip: hasNumpy ? false : "needs /usr/bin/python3 with numpy" }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "genlab-logged-"));
    const [E, N, C] = [5, 200, 4];
    const { y, logits } = fixture(E, N, C, 3);
    mkdirSync(join(dir, "logits"));
    logits.forEach((z, e) => writeFileSync(join(dir, "logits", `epoch_${String(e + 1).padStart(4, "0")}.npy`), encodeNpy({ data: z, shape: [N, C] })));
    const all = new Float32Array(E * N * C);
    logits.forEach((z, e) => all.set(z, e * N * C));
    writeFileSync(join(dir, "all.npy"), encodeNpy({ data: all, shape: [E, N, C] }));
    writeFileSync(join(dir, "y.npy"), encodeNpy({ data: y, shape: [N] }));
    const scores = "el2n,forgetting,aum,cartography,margin,loss";
    const r1 = await genlabHere(["scores", "--dynamics", join(dir, "logits"), "--labels", join(dir, "y.npy"), "--scores", scores, "--out", join(dir, "s1.csv")]);
    assert.equal(r1.code, 0, r1.stderr);
    const r2 = await genlabHere(["scores", "--dynamics", join(dir, "all.npy"), "--labels", join(dir, "y.npy"), "--scores", scores, "--out", join(dir, "s2.csv")]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(readFileSync(join(dir, "s1.csv"), "utf8"), readFileSync(join(dir, "s2.csv"), "utf8"), "both layouts give the same scores");
    const code = `
import numpy as np, csv
z = np.load(${JSON.stringify(join(dir, "all.npy"))}).astype(np.float64); y = np.load(${JSON.stringify(join(dir, "y.npy"))})
E, N, C = z.shape; oh = np.eye(C)[y]
zs = z - z.max(-1, keepdims=True); p = np.exp(zs) / np.exp(zs).sum(-1, keepdims=True)
el2n = np.sqrt(((p - oh) ** 2).sum(-1))            # [E, N]
zt = (z * oh).sum(-1); zo = np.where(oh > 0, -np.inf, z).max(-1); margin = zt - zo
correct = (z.argmax(-1) == y)
pt = (p * oh).sum(-1); loss = -np.log(pt)
forget = np.array([(c[:-1] & ~c[1:]).sum() if c.any() else E for c in correct.T])
ref = {"el2n": el2n[1], "aum": margin.mean(0), "forgetting": forget, "cartography_confidence": pt.mean(0), "cartography_variability": pt.std(0), "cartography_correctness": correct.mean(0), "margin": margin[-1], "loss": loss[-1]}
rows = list(csv.DictReader(open(${JSON.stringify(join(dir, "s1.csv"))})))
print(max(abs(float(r[k]) - ref[k][i]) for k in ref for i, r in enumerate(rows)))
`;
    const py = spawnSync(PY, ["-c", code], { encoding: "utf8" });
    assert.equal(py.status, 0, py.stderr);
    const maxDiff = Number(py.stdout.trim());
    process.stderr.write(`# genlab scores --dynamics vs numpy (float64): max |Δ| ${maxDiff.toExponential(2)}\n`);
    assert.ok(maxDiff < 1e-4, `max |genlab − numpy| over every score and example: ${maxDiff}`);
  });

  it("bad logged inputs: one line naming the file and the epoch, nothing written", async () => {
    const dir = mkdtempSync(join(tmpdir(), "genlab-logged-bad-"));
    const [N, C] = [10, 3];
    const y = Int32Array.from({ length: N }, (_, i) => i % C);
    writeFileSync(join(dir, "y.npy"), encodeNpy({ data: y, shape: [N] }));
    const z = (n = N, c = C, f = (t: number) => Math.sin(t)) => Float32Array.from({ length: n * c }, (_, t) => f(t));
    const folder = (name: string, arrays: { data: Float32Array; shape: number[] }[]) => {
      mkdirSync(join(dir, name));
      arrays.forEach((a, e) => writeFileSync(join(dir, name, `epoch_${e + 1}.npy`), encodeNpy(a)));
      return join(dir, name);
    };
    const probs = (t: number) => (t % C === 0 ? 0.5 : 0.25);
    const nan = z();
    nan[7] = NaN;
    const cases: [string, string[], RegExp][] = [
      ["shapes differ across epochs", ["--dynamics", folder("ragged", [{ data: z(), shape: [N, C] }, { data: z(N, C + 1), shape: [N, C + 1] }])], /epoch 2 has shape \[10, 4\], epoch 1 \[10, 3\]/],
      ["N differs from the labels", ["--dynamics", folder("short", [{ data: z(N - 1), shape: [N - 1, C] }])], /logs 9 examples per epoch, the labels have 10/],
      ["NaN", ["--dynamics", folder("nan", [{ data: z(), shape: [N, C] }, { data: nan, shape: [N, C] }])], /epoch 2, row 2, class 1 is NaN/],
      ["fewer classes than the labels", ["--dynamics", folder("c2", [{ data: z(N, 2), shape: [N, 2] }])], /logs 2 classes, the labels go up to 2/],
      ["logits declared as probabilities", ["--dynamics", folder("logits-as-probs", [{ data: z(), shape: [N, C] }]), "--outputs", "probs"], /epoch 1, row 0 .*not a probability vector \(logits\? pass --outputs logits\)/],
      ["probabilities that do not sum to 1 after a first epoch that does", ["--dynamics", folder("sum", [{ data: z(N, C, probs), shape: [N, C] }, { data: z(N, C, () => 0.3), shape: [N, C] }])], /epoch 2, row 0 sums to 0\.9/],
      ["GraNd from logged outputs", ["--dynamics", folder("ok", [{ data: z(), shape: [N, C] }]), "--scores", "el2n,grand"], /GraNd needs the model's per-example gradients/],
      ["no labels", ["--dynamics", join(dir, "ok")], /--dynamics needs the examples' labels/],
    ];
    for (const [what, args, pat] of cases) {
      const out = join(dir, "s.csv");
      const r = await genlabHere(["scores", ...args, ...(args.includes("--labels") || what === "no labels" ? [] : ["--labels", join(dir, "y.npy")]), "--out", out]);
      assert.equal(r.code, 1, `${what}: ${r.stderr}`);
      assert.match(r.stderr, /^✖ /, what);
      assert.match(r.stderr, pat, what);
      assert.ok(!existsSync(out), `${what}: nothing written`);
    }
  });
});

describe("issue 22: genlab issues --pred-probs (your own out-of-sample probabilities, nothing trained)", () => {
  it("label issues from the probabilities (the library's count), near-duplicates from --features, the dynamics types from --dynamics; inputs missing for a type asked for are named", async () => {
    const dir = mkdtempSync(join(tmpdir(), "genlab-predprobs-"));
    const [N, C] = [300, 3];
    const r = lcg(11);
    const truth = Int32Array.from({ length: N }, (_, i) => i % C);
    const flipped = new Set(Array.from({ length: 15 }, (_, k) => k * 20 + 1));
    const y = Int32Array.from(truth, (t, i) => (flipped.has(i) ? (t + 1) % C : t));
    const p = new Float32Array(N * C);
    for (let i = 0; i < N; i++) {
      const conf = 0.7 + 0.25 * r();
      for (let k = 0; k < C; k++) p[i * C + k] = k === truth[i] ? conf : (1 - conf) / (C - 1);
    }
    writeFileSync(join(dir, "p.npy"), encodeNpy({ data: p, shape: [N, C] }));
    writeFileSync(join(dir, "y.npy"), encodeNpy({ data: y, shape: [N] }));
    const feats = Float32Array.from({ length: N * 5 }, () => r());
    feats.set(feats.subarray(0, 5), 5 * 5); // row 5 is a copy of row 0
    writeFileSync(join(dir, "f.npy"), encodeNpy({ data: feats, shape: [N, 5] }));
    const E = 4;
    const z = new Float32Array(E * N * C);
    for (let e = 0; e < E; e++) for (let i = 0; i < N; i++) for (let k = 0; k < C; k++) z[(e * N + i) * C + k] = (k === y[i] ? (flipped.has(i) ? 0.2 * e : e) : 0) + r();
    writeFileSync(join(dir, "z.npy"), encodeNpy({ data: z, shape: [E, N, C] }));
    const out = join(dir, "i.csv");
    const res = await genlabHere(["issues", "--pred-probs", join(dir, "p.npy"), "--labels", join(dir, "y.npy"), "--features", join(dir, "f.npy"), "--dynamics", join(dir, "z.npy"), "--out", out]);
    assert.equal(res.code, 0, res.stderr);
    for (const t of ["label", "near_duplicate", "memorized", "hard_to_learn", "ambiguous"]) assert.match(res.stdout, new RegExp(`-+ ${t} issues -+`), t);
    const text = readFileSync(out, "utf8").trim().split("\n");
    const head = text[0].split(",");
    const rows = text.slice(1).map((l) => l.split(",").map(Number));
    const col = (name: string) => rows.map((row) => row[head.indexOf(name)]);
    const { findLabelIssues } = await import("../src/scores/confidentLearning.ts");
    const lib = findLabelIssues(y, { data: p, n: N, c: C });
    assert.deepEqual(col("is_label_issue"), Array.from(lib), "the CLI flags exactly what the library flags");
    const caught = [...flipped].filter((i) => col("is_label_issue")[i] === 1).length;
    assert.ok(caught >= 13, `${caught} of 15 flipped labels flagged`);
    assert.equal(col("is_near_duplicate_issue")[5], 1, "the copied row is a near-duplicate");
    assert.equal(col("is_near_duplicate_issue")[0], 1, "and so is its original");
    // only the probabilities: the label audit alone; a type whose input is missing is named
    const only = await genlabHere(["issues", "--pred-probs", join(dir, "p.npy"), "--labels", join(dir, "y.npy"), "--out", join(dir, "j.csv")]);
    assert.equal(only.code, 0, only.stderr);
    assert.doesNotMatch(only.stdout, /near_duplicate issues/);
    const ask = await genlabHere(["issues", "--pred-probs", join(dir, "p.npy"), "--labels", join(dir, "y.npy"), "--types", "label,outlier,hard_to_learn", "--out", join(dir, "k.csv")]);
    assert.equal(ask.code, 1, ask.stderr);
    assert.match(ask.stderr, /outlier needs --features .*; hard_to_learn needs --dynamics/);
  });

  it("bad predictions: a binary vector (orientation), logits, a row count that differs — one line, nothing written", async () => {
    const dir = mkdtempSync(join(tmpdir(), "genlab-predprobs-bad-"));
    const y = Int32Array.from({ length: 10 }, (_, i) => i % 2);
    writeFileSync(join(dir, "y.npy"), encodeNpy({ data: y, shape: [10] }));
    const cases: [string, { data: Float32Array; shape: number[] }, RegExp][] = [
      ["a binary vector", { data: new Float32Array(10).fill(0.3), shape: [10] }, /leaves the class it belongs to ambiguous; pass \[N, 2\]/],
      ["logits", { data: Float32Array.from({ length: 20 }, (_, t) => t - 5), shape: [10, 2] }, /row 0 holds -5 .*logits\? apply a softmax first/],
      ["too few rows", { data: new Float32Array(18).fill(0.5), shape: [9, 2] }, /has 9 rows, the labels 10/],
    ];
    for (const [what, arr, pat] of cases) {
      writeFileSync(join(dir, "p.npy"), encodeNpy(arr));
      const out = join(dir, "o.csv");
      const r = await genlabHere(["issues", "--pred-probs", join(dir, "p.npy"), "--labels", join(dir, "y.npy"), "--out", out]);
      assert.equal(r.code, 1, `${what}: ${r.stderr}`);
      assert.match(r.stderr, pat, what);
      assert.ok(!existsSync(out), `${what}: nothing written`);
    }
  });
});

describe("issue 22: why an example is flagged", () => {
  it("each flagged example carries its reason (score, value, rule, confused class), in the CSV, the JSON and the report; none for the others; counts agree", async () => {
    const dir = mkdtempSync(join(tmpdir(), "genlab-why-"));
    const [N, C] = [120, 3];
    const truth = Int32Array.from({ length: N }, (_, i) => i % C);
    const y = Int32Array.from(truth, (t, i) => (i % 20 === 1 ? (t + 1) % C : t));
    const p = new Float32Array(N * C);
    for (let i = 0; i < N; i++) for (let k = 0; k < C; k++) p[i * C + k] = k === truth[i] ? 0.9 : 0.05;
    writeFileSync(join(dir, "p.npy"), encodeNpy({ data: p, shape: [N, C] }));
    writeFileSync(join(dir, "y.npy"), encodeNpy({ data: y, shape: [N] }));
    const out = join(dir, "i.csv");
    const r = await genlabHere(["issues", "--pred-probs", join(dir, "p.npy"), "--labels", join(dir, "y.npy"), "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /why: p\(given 2\) = 0\.050 out of sample; confused with 1 \(p = 0\.900, class 1's confident threshold/);
    const lines = readFileSync(out, "utf8").trim().split("\n");
    const head = lines[0].split(",");
    assert.equal(head[head.length - 1], "reason");
    const flagCol = head.indexOf("is_label_issue");
    let flagged = 0;
    for (const l of lines.slice(1)) {
      const cells = l.split(",");
      const isFlag = cells[flagCol] === "1";
      flagged += Number(isFlag);
      assert.equal(/,"?label: p\(given \d\) = /.test(l), isFlag, `a reason exactly when flagged: ${l}`);
    }
    assert.equal(flagged, 6, "the 6 flipped labels");
    // the library's flags, the CLI's CSV and its summary count agree
    const { findLabelIssues } = await import("../src/scores/confidentLearning.ts");
    assert.equal(findLabelIssues(y, { data: p, n: N, c: C }).reduce((a, b) => a + b, 0), flagged, "library = CLI");
    assert.match(r.stdout, /Number of examples with this issue: 6/);
  });
});

describe("issue 22: cost before work", () => {
  it("scores prints the job's sizes, memory and arithmetic before it starts, and refuses a job that will not fit in memory, saying what to do", async () => {
    const dir = mkdtempSync(join(tmpdir(), "genlab-plan-"));
    const csv = join(dir, "d.csv");
    writeFileSync(csv, "a,b,label\n" + Array.from({ length: 20000 }, (_, i) => `${i % 7},${i % 3},${i % 2}`).join("\n") + "\n");
    const out = join(dir, "s.csv");
    const big = await genlabHere(["scores", "--data", csv, "--model", "linear", "--epochs", "10000", "--runs", "100", "--out", out]);
    assert.equal(big.code, 1, big.stderr);
    assert.match(big.stderr, /genlab scores: 20000 examples × 2 features, 6 parameters; 100 training\(s\) × 10000 epochs/);
    assert.match(big.stderr, /✖ this job needs about \d+(\.\d)? GB of memory \(the logged dynamics alone .*log the outputs in your own loop and pass them with --dynamics/);
    assert.ok(!existsSync(out), "nothing written");
    const small = await genlabHere(["scores", "--data", csv, "--model", "linear", "--epochs", "1", "--batch-size", "500", "--score-epoch", "1", "--scores", "el2n", "--out", out]);
    assert.equal(small.code, 0, small.stderr);
    assert.match(small.stderr, /1 training\(s\) × 1 epochs ≈ [\d.]+ GFLOP, 40 steps; time ≈ \d+ s \(cost model, \w+ backend, one core of the reference machine\); memory ≈ \d+ MB/);
  });
});

describe("issue 22: a loop that logged a subset of the examples each epoch (--dynamics-index)", () => {
  it("each example's scores use the epochs it was logged at: equal to scoring its own logged epochs alone; never-logged examples are empty", async () => {
    const dir = mkdtempSync(join(tmpdir(), "genlab-index-"));
    const [E, N, C] = [4, 30, 3];
    const { y, logits } = fixture(E, N, C, 5);
    // epoch e logs the examples i with (i + e) % 3 !== 0, shuffled; example 29 is never logged
    mkdirSync(join(dir, "out"));
    mkdirSync(join(dir, "idx"));
    const loggedAt: number[][] = Array.from({ length: N }, () => []);
    for (let e = 0; e < E; e++) {
      const idx = Array.from({ length: N - 1 }, (_, i) => i).filter((i) => (i + e) % 3 !== 0).reverse();
      idx.forEach((i) => loggedAt[i].push(e));
      const rows = new Float32Array(idx.length * C);
      idx.forEach((i, r) => rows.set(logits[e].subarray(i * C, (i + 1) * C), r * C));
      writeFileSync(join(dir, "out", `epoch_${e + 1}.npy`), encodeNpy({ data: rows, shape: [idx.length, C] }));
      writeFileSync(join(dir, "idx", `epoch_${e + 1}.npy`), encodeNpy({ data: Int32Array.from(idx), shape: [idx.length] }));
    }
    writeFileSync(join(dir, "y.npy"), encodeNpy({ data: y, shape: [N] }));
    const out = join(dir, "s.csv");
    const r = await genlabHere(["scores", "--dynamics", join(dir, "out"), "--dynamics-index", join(dir, "idx"), "--labels", join(dir, "y.npy"), "--scores", "forgetting,aum,cartography,loss", "--out", out, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const lines = readFileSync(out, "utf8").trim().split("\n");
    const head = lines[0].split(",");
    const rows = lines.slice(1).map((l) => l.split(","));
    // reference: example i scored on its own logged epochs, through the same functions
    for (const i of [0, 1, 2, 5, 28]) {
      const mine = loggedAt[i].map((e) => Float32Array.from(logits[e].subarray(i * C, (i + 1) * C)));
      const ref = await dynamicsFromOutputs(mine, loggedAt[i].map((e) => e + 1), 1, C, Int32Array.of(y[i]), "logits");
      const cols = dynamicsColumns([ref.dynamics], new Set(["forgetting", "aum", "cartography"] as const), 1, loggedAt[i][loggedAt[i].length - 1] + 1).columns;
      for (const c of cols) assert.ok(Math.abs(Number(rows[i][head.indexOf(c.name)]) - Number(c.values[0])) < 1e-6, `example ${i}, ${c.name}: ${rows[i][head.indexOf(c.name)]} vs ${c.values[0]}`);
    }
    assert.equal(rows[29][head.indexOf("aum")], "", "never logged: no AUM");
    assert.match(r.stdout, /\d+ of 120 \(example, epoch\) pairs logged/);
    // an index that names an example twice, or one out of range: one line naming the file and the epoch
    writeFileSync(join(dir, "idx", "epoch_2.npy"), encodeNpy({ data: Int32Array.from({ length: 19 }, () => 3), shape: [19] }));
    const bad = await genlabHere(["scores", "--dynamics", join(dir, "out"), "--dynamics-index", join(dir, "idx"), "--labels", join(dir, "y.npy"), "--out", join(dir, "t.csv")]);
    assert.equal(bad.code, 1, bad.stderr);
    assert.match(bad.stderr, /epoch 2, row 1: example 3 logged twice in one epoch/);
  });
});

describe("issue 22: why an example ranks at the top of a score", () => {
  it("scores gives the top-k examples of each score their rank, value and the rule that applies — the same words in the CSV, the JSON and the dashboard's scores page", async () => {
    const dir = mkdtempSync(join(tmpdir(), "genlab-top-"));
    const [E, N, C] = [4, 40, 3];
    const { y, logits } = fixture(E, N, C, 9);
    const all = new Float32Array(E * N * C);
    logits.forEach((z, e) => all.set(z, e * N * C));
    writeFileSync(join(dir, "z.npy"), encodeNpy({ data: all, shape: [E, N, C] }));
    writeFileSync(join(dir, "y.npy"), encodeNpy({ data: y, shape: [N] }));
    const r = await genlabHere(["scores", "--dynamics", join(dir, "z.npy"), "--labels", join(dir, "y.npy"), "--scores", "aum", "--top", "3", "--out", join(dir, "s.csv"), "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { top: { index: number; reason: string }[] };
    assert.equal(j.top.length, 3, "the top 3 by AUM");
    assert.match(j.top[0].reason, /^rank \d of 40 by aum \(-?[\d.]+( < 0: on average another class's logit beats the label's)?\)$/);
    // the dashboard's view of the same dynamics ranks the same examples with the same words
    const { scoresView } = await import("../src/scores/scoresView.ts");
    const { dynamics } = await dynamicsFromOutputs(logits, [1, 2, 3, 4], N, C, y, "logits");
    const arrays = new Map<string, { data: Float32Array | Int32Array; shape: number[] }>([["dyn_epochs", { data: Int32Array.from([1, 2, 3, 4]), shape: [4] }]]);
    for (const [q, v] of Object.entries(dynamics.values)) arrays.set(`dyn_${q}`, { data: v!, shape: [E, N] });
    const view = scoresView(arrays as never, { score: "aum", top: 3 })!;
    assert.deepEqual(view.top.map((t) => t.index).sort(), j.top.map((t) => t.index).sort(), "the same top examples");
    for (const t of view.top) assert.equal(t.reason.replace(/\(([-\d.]+)/, "(v"), j.top.find((x) => x.index === t.index)!.reason.replace(/\(([-\d.]+)/, "(v"), "the same reason");
  });
});

describe("issue 22: long audits resume", () => {
  it("a job resumed from the finished trainings of an interrupted one gives exactly the uninterrupted result", async () => {
    const { runScoreJob } = await import("../src/scores/pipeline.ts");
    const { parseModelSpec } = await import("../src/scores/models.ts");
    const r = lcg(21);
    const [N, D, C] = [96, 5, 3];
    const y = Int32Array.from({ length: N }, (_, i) => i % C);
    const x = Float32Array.from({ length: N * D }, (_, t) => 2 * r() - 1 + (t % D === y[Math.floor(t / D)] ? 1 : 0));
    const data = { x, xShape: [N, D], y, numClasses: C };
    const model = parseModelSpec("mlp:8", { inputDim: D, numClasses: C, image: null });
    const job = { model, data, scores: ["el2n", "aum", "forgetting", "cl", "memorization"] as ("el2n" | "aum" | "forgetting" | "cl" | "memorization")[], recipe: { epochs: 3, batchSize: 16, lr: 0.1, optimizer: "sgd" as const, momentum: 0.9, weightDecay: 0 }, runs: 2, folds: 2, memRuns: 3, scoreEpoch: 2, seed: 4 };
    const store = new Map<string, Float32Array>();
    const full = await runScoreJob({ ...job, cache: { get: (k) => store.get(k) ?? null, put: (k, v) => void store.set(k, v.slice()) } });
    assert.deepEqual([...store.keys()].filter((k) => !k.includes("_")).sort(), ["fold0", "fold1", "memorization0", "memorization1", "memorization2"], "every training kept");
    // an interruption after the first dynamics run, the first fold and two memorization models
    const partial = new Map([...store].filter(([k]) => k.startsWith("dynamics0_") || k === "fold0" || k === "memorization0" || k === "memorization1"));
    let trained = 0;
    const resumed = await runScoreJob({ ...job, cache: { get: (k) => partial.get(k) ?? null, put: (k, v) => void (trained++, partial.set(k, v)) }, onProgress: () => {} });
    assert.ok(trained > 0, "the missing trainings ran");
    for (const [j, c] of full.columns.entries()) assert.deepEqual(Array.from(resumed.columns[j].values), Array.from(c.values), `${c.name}: identical`);
  });
});

describe("issue 22: the partial folder of a resumable job", () => {
  it("is removed once the output is written, and a folder of that name that is not genlab's is refused, untouched", async () => {
    const dir = mkdtempSync(join(tmpdir(), "genlab-partial-"));
    const csv = join(dir, "d.csv");
    writeFileSync(csv, "a,b,label\n" + Array.from({ length: 40 }, (_, i) => `${Math.sin(i)},${Math.cos(i)},${i % 2}`).join("\n") + "\n");
    const args = ["scores", "--data", csv, "--model", "linear", "--epochs", "2", "--batch-size", "8", "--scores", "el2n,aum", "--out", join(dir, "s.csv")];
    const ok = await genlabHere(args);
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok(!existsSync(join(dir, "s.csv.partial")), "no partial folder after the output");
    mkdirSync(join(dir, "t.csv.partial"));
    writeFileSync(join(dir, "t.csv.partial", "mine.txt"), "a user's file");
    const refused = await genlabHere([...args.slice(0, -1), join(dir, "t.csv")]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /t\.csv\.partial exists and is not a genlab partial folder/);
    assert.equal(readFileSync(join(dir, "t.csv.partial", "mine.txt"), "utf8"), "a user's file");
  });
});

describe("issue 22: logged dynamics against genlab's own training", () => {
  it("a real training: the logger's dynamics and the logits logged at the same steps give the same scores", async () => {
    const { train } = await import("../src/train/loop.ts");
    const { sgd } = await import("../src/optim/aliases.ts");
    const { softmaxCrossEntropy } = await import("../src/nn/losses.ts");
    const { dynamicsRecorder, stepsPerEpoch } = await import("../src/scores/dynamics.ts");
    const { splitKey } = await import("../src/core/prng.ts");
    const [N, D, C, E, B] = [80, 4, 3, 5, 16];
    const r = lcg(33);
    const y = Int32Array.from({ length: N }, (_, i) => (i % 9 === 0 ? (i + 1) % C : i % C));
    const x = Float32Array.from({ length: N * D }, (_, t) => 2 * r() - 1 + (t % D === y[Math.floor(t / D)] ? 1.5 : 0));
    const data = { x, xShape: [N, D], y, numClasses: C };
    const spec = mlpSpec({ dims: [D, 12, C], activation: "relu", bias: true });
    const spe = stepsPerEpoch(N, B);
    const epochs = Array.from({ length: E }, (_, e) => e + 1);
    const rec = dynamicsRecorder({ measure: mlpDynamics(spec), data, epochs, stepsPerEpoch: spe });
    const logged: Float32Array[] = [];
    const logitsHook = {
      steps: epochs.map((e) => e * spe),
      run: async (_step: number, params: ReturnType<typeof initMlp>) => {
        logged.push((await applyMlp(spec, params, np.array(x).reshape([N, D])).data()) as Float32Array);
      },
    };
    const [kInit, kData] = splitKey(keyFromSeed(8), 2);
    const res = await train(initMlp(spec, kInit), { loss: (p, xb, yb) => softmaxCrossEntropy(applyMlp(spec, p, xb), yb), optimizer: sgd(0.2, { momentum: 0.9 }), train: data, epochs: E, batchSize: B, key: kData, log: { every: 0, perDecade: 0 }, stepHooks: [rec.hook, logitsHook] });
    const { treeDispose } = await import("../src/core/tree.ts");
    treeDispose(res.optState);
    treeDispose(res.params);
    rec.dispose();
    assert.equal(logged.length, E, "logits logged at every epoch");
    const own = rec.dynamics();
    const { dynamics } = await dynamicsFromOutputs(logged, epochs, N, C, y, "logits");
    const want = new Set(["el2n", "forgetting", "aum", "cartography", "margin", "loss"] as const);
    const a = dynamicsColumns([own], want, 2, E).columns;
    const b = dynamicsColumns([dynamics], want, 2, E).columns;
    let maxDiff = 0;
    for (const [j, c] of a.entries()) for (let i = 0; i < N; i++) maxDiff = Math.max(maxDiff, Math.abs(Number(c.values[i]) - Number(b[j].values[i])));
    process.stderr.write(`# a trained MLP: genlab's logger vs the logged logits, every score: max |Δ| ${maxDiff.toExponential(2)}\n`);
    assert.ok(maxDiff < 1e-5, `max |Δ| ${maxDiff}`);
  });
});
