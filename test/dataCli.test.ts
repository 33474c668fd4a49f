// genlab scores / prune / issues as a user runs them, in separate processes on real files: every bad input is
// one line naming the file and the problem with exit 1 and no output file; the outputs are read back by
// numpy and pandas (Debian's python3-numpy and python3-pandas, installed by .ci/run).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gzipSync, zipSync } from "fflate";
import { encodeIdxUint8 } from "../src/data/idx.ts";
import { encodeNpy, type NpyArray } from "../src/data/npy.ts";
import { genlabHere } from "./util/cliHere.ts";

const BIN = resolve(import.meta.dirname, "../bin/genlab.js");
const PY = "/usr/bin/python3";
const hasPandas = existsSync(PY) && spawnSync(PY, ["-c", "import numpy, pandas"]).status === 0;

function genlab(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, FORCE_COLOR: "0" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// genlabHere: the CLI in this process (test/util/cliHere.ts); a few cases also run as real processes below.

function python(code: string): string {
  const r = spawnSync(PY, ["-c", code], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

const npz = (arrays: Record<string, NpyArray>) => zipSync(Object.fromEntries(Object.entries(arrays).map(([k, v]) => [`${k}.npy`, encodeNpy(v)])));

/** A small separable image set: class c has a bright 2×2 block at position c; `flip` rows get a wrong label. */
function images(n: number, side = 8, classes = 4, flip: number[] = []) {
  const x = new Uint8Array(n * side * side);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    y[i] = flip.includes(i) ? (c + 1) % classes : c;
    for (let t = 0; t < side * side; t++) x[i * side * side + t] = ((i * 31 + t * 17) % 40) + (Math.floor(t / side) >> 1 === c && (t % side) >> 1 === c ? 200 : 0);
  }
  return { x, y };
}

describe("genlab scores / prune / issues: bad input", () => {
  it("one line naming the file and the problem, exit 1, no output file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "genlab-data-bad-"));
    const f = (name: string, bytes: Uint8Array | string) => {
      const p = join(dir, name);
      writeFileSync(p, bytes);
      return p;
    };
    const x54 = { data: Float32Array.from({ length: 20 }, (_, i) => i), shape: [5, 4] };
    const good = f("good.npz", npz({ x: x54, y: { data: Int32Array.from([0, 1, 0, 1, 0]), shape: [5] } }));
    const gz = gzipSync(new TextEncoder().encode("a,b,label\n1,2,0\n3,4,1\n".repeat(50)));
    const cases: [string, string[], string][] = [
      ["x/y length mismatch", ["--data", f("len.npz", npz({ x: x54, y: { data: Int32Array.from([0, 1, 0, 1]), shape: [4] } }))], `✖ has 4 labels but ${dir}/len.npz:x has 5 examples → at ${dir}/len.npz:y\n`],
      ["a non-numeric cell", ["--data", f("cell.csv", "a,b,label\n1,2,0\n3,abc,1\n")], `✖ line 3, column 2 "b": "abc" is not a number → at ${dir}/cell.csv\n`],
      ["an empty cell", ["--data", f("empty-cell.csv", "1,2,0\n3,,1\n")], `✖ line 2, column 2: an empty cell → at ${dir}/empty-cell.csv\n`],
      ["a ragged row", ["--data", f("ragged.csv", "a,b,label\n1,2,0\n3,1\n")], `✖ line 3 has 2 cells, expected 3 (as the header) → at ${dir}/ragged.csv\n`],
      ["a label ≥ --classes", ["--data", f("big.npz", npz({ x: x54, y: { data: Int32Array.from([0, 1, 2, 1, 0]), shape: [5] } })), "--classes", "2"], `✖ label 2 at row 2 is outside 0..1 (--classes 2) → at ${dir}/big.npz:y\n`],
      ["non-integer labels", ["--data", f("frac.npz", npz({ x: x54, y: { data: Float32Array.from([0, 1, 0.5, 1, 0]), shape: [5] } }))], `✖ label 0.5 at row 2 is not an integer class index → at ${dir}/frac.npz:y\n`],
      ["negative labels", ["--data", f("neg.npz", npz({ x: x54, y: { data: Int32Array.from([0, 1, -1, 1, 0]), shape: [5] } }))], `✖ label -1 at row 2 is negative; expected class indices 0..C−1 → at ${dir}/neg.npz:y\n`],
      ["NaN features", ["--data", f("nan.npz", npz({ x: { data: Float32Array.from({ length: 20 }, (_, i) => (i === 6 ? NaN : i)), shape: [5, 4] }, y: { data: Int32Array.from([0, 1, 0, 1, 0]), shape: [5] } }))], `✖ feature 2 of row 1 is NaN; NaN and infinite features cannot be trained on (impute or drop them) → at ${dir}/nan.npz:x\n`],
      ["infinite features", ["--data", f("inf.npz", npz({ x: { data: Float64Array.from({ length: 20 }, (_, i) => (i === 19 ? -Infinity : i)), shape: [5, 4] }, y: { data: Int32Array.from([0, 1, 0, 1, 0]), shape: [5] } }))], `✖ feature 3 of row 4 is -Infinity; NaN and infinite features cannot be trained on (impute or drop them) → at ${dir}/inf.npz:x\n`],
      ["an empty file", ["--data", f("empty.csv", "")], `✖ is empty (0 bytes) → at ${dir}/empty.csv\n`],
      ["a truncated gzip", ["--data", f("cut.csv.gz", gz.subarray(0, gz.length - 30))], `✖ is not a valid gzip file (truncated or corrupt?) → at ${dir}/cut.csv.gz\n`],
      ["a 2-D label array", ["--data", f("onehot.npz", npz({ x: x54, y: { data: new Float32Array(10), shape: [5, 2] } }))], `✖ labels must be a 1-D array [n], got shape [5, 2] (one-hot labels? pass class indices: y.argmax(1)) → at ${dir}/onehot.npz:y\n`],
      ["a missing labels array", ["--data", f("nolab.npz", npz({ x: x54 }))], `✖ has no array "y" (it has: x); name the labels with --y-key or give --labels → at ${dir}/nolab.npz\n`],
      ["features without labels", ["--data", f("x.npy", encodeNpy(x54))], "✖ x.npy holds only features: give the labels with --labels <file> (.npy, IDX or one per line), or save both with numpy.savez(x=…, y=…) → at --labels\n"],
      ["a missing file", ["--data", join(dir, "nope.npz")], `✖ no such file or folder: ${dir}/nope.npz → at --data\n`],
      ["an unknown model", ["--data", good, "--model", "resnet"], '✖ unknown model "resnet"; expected mlp[:h1,h2,…], linear or cnn[:c1,c2,hidden] → at --model\n'],
      ["cnn on tabular data", ["--data", good, "--model", "cnn"], "✖ cnn needs image data ([n, h, w] or [n, h, w, c] arrays, or IDX images); this data is tabular: use mlp or linear → at --model\n"],
      ["a batch larger than the data", ["--data", good, "--batch-size", "64"], "✖ 64 is larger than the 5 examples → at --batch-size\n"],
    ];
    for (const [i, [what, args, stderr]] of cases.entries()) {
      const out = join(dir, "scores.csv");
      // two of them as real processes (the exit status a shell sees), the rest in this process
      const r = i < 2 ? genlab(["scores", ...args, "--out", out]) : await genlabHere(["scores", ...args, "--out", out]);
      assert.equal(r.stderr, stderr, what);
      assert.equal(r.code, 1, what);
      assert.equal(r.stdout, "", what);
      assert.ok(!existsSync(out), `${what}: no output file`);
    }
    const more: [string[], string][] = [
      [["scores", "--data", good, "--scores", "el2n,bogus", "--out", join(dir, "s.csv")], "✖ option '--scores <list>' argument 'el2n,bogus' is invalid. unknown score \"bogus\"; expected a comma-separated list of el2n, grand, forgetting, aum, cartography, margin, loss, cl, memorization\n(run with --help for usage)\n"],
      [["scores", "--data", good, "--out", join(dir, "no-such-folder", "s.csv")], `✖ ${join(dir, "no-such-folder", "s.csv")}: the folder ${join(dir, "no-such-folder")} does not exist → at --out\n`],
      [["scores", "--data", good, "--out", join(dir, "s.txt")], `✖ ${join(dir, "s.txt")}: expected a file ending in .csv or .npz → at --out\n`],
      [["prune", "--scores", f("s.csv", "index,label,el2n\n0,1,0.5\n1,0,0.2\n"), "--keep", "1.5", "--out", join(dir, "k.npy")], "✖ option '--keep <f>' argument '1.5' is invalid. expected a number in (0, 1], got \"1.5\"\n(run with --help for usage)\n"],
      [["prune", "--scores", join(dir, "s.csv"), "--score", "aum", "--keep", "0.5", "--out", join(dir, "k.npy")], `✖ no column "aum" in ${dir}/s.csv (columns: index, label, el2n) → at --score\n`],
      [["issues", "--data", good, "--types", "label,typo", "--out", join(dir, "i.csv")], "✖ option '--types <list>' argument 'label,typo' is invalid. unknown issue type \"typo\"; expected a comma-separated list of label, near_duplicate, outlier, memorized, hard_to_learn, ambiguous\n(run with --help for usage)\n"],
    ];
    for (const [args, stderr] of more) {
      const r = await genlabHere(args);
      assert.equal(r.stderr, stderr, args.join(" "));
      assert.equal(r.code, 1, args.join(" "));
    }
    assert.deepEqual(readdirSync(dir).filter((n) => /^(scores|s|k|i)\.(csv|npz|npy|txt)$/.test(n) && n !== "s.csv"), [], "nothing written");
  });
});

describe("genlab scores / prune / issues on real files", { skip: hasPandas ? false : "needs /usr/bin/python3 with numpy and pandas (apt-get install python3-numpy python3-pandas)" }, () => {
  it("scores from an .npz (every score, memorization with its SE) → pandas; .npz output → numpy; prune → numpy; the raw dynamics as [E, N] arrays", () => {
    const dir = mkdtempSync(join(tmpdir(), "genlab-data-"));
    const n = 120;
    const { x, y } = images(n, 8, 4, [3, 50, 77]);
    const data = join(dir, "d.npz");
    writeFileSync(data, npz({ x: { data: x, shape: [n, 8, 8] }, y: { data: y, shape: [n] } }));
    const csv = join(dir, "scores.csv");
    const r = genlab(["scores", "--data", data, "--model", "mlp:32", "--epochs", "4", "--batch-size", "16", "--mem-runs", "4", "--folds", "3", "--scores", "el2n,grand,forgetting,aum,cartography,cl,memorization", "--out", csv, "--save-dynamics", join(dir, "dyn")]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /genlab scores .*ETA/, "progress with an ETA on stderr");
    const cols = python(`import pandas as pd; d = pd.read_csv(${JSON.stringify(csv)}); print(len(d)); print(','.join(d.columns)); print(int(d.memorization_se.notna().sum()))`).split("\n");
    assert.equal(cols[0], String(n));
    assert.equal(cols[1], "index,label,el2n,grand,forgetting,aum,cartography_confidence,cartography_variability,cartography_correctness,cl_self_confidence,cl_label_issue,memorization_proxy,memorization,memorization_se,memorization_k_in,memorization_k_out,reason");
    assert.ok(Number(cols[2]) > 0, "standard errors where both sides have ≥ 2 models");
    assert.equal(python(`import numpy as np; a = np.load(${JSON.stringify(join(dir, "dyn", "run0_grad_norm.npy"))}); print(a.shape, a.dtype)`), `(5, ${n}) float32`);
    const npzOut = join(dir, "scores.npz");
    assert.equal(genlab(["scores", "--data", data, "--model", "linear", "--epochs", "2", "--batch-size", "16", "--scores", "el2n,aum", "--out", npzOut]).code, 0);
    assert.equal(python(`import numpy as np; z = np.load(${JSON.stringify(npzOut)}); print(sorted(z.files), z['el2n'].shape, z['index'].dtype)`), `['aum', 'el2n', 'index', 'label'] (${n},) int32`);
    const kept = join(dir, "kept.npy");
    const p = genlab(["prune", "--scores", csv, "--keep", "0.5", "--offset", "2", "--out", kept]);
    assert.equal(p.code, 0, p.stderr);
    const check = python(`import numpy as np, pandas as pd; k = np.load(${JSON.stringify(kept)}); d = pd.read_csv(${JSON.stringify(csv)}); s = d.el2n.values; o = np.argsort(-s, kind='stable'); print(len(k), sorted(k.tolist()) == sorted(o[2:62].tolist()))`);
    assert.equal(check, "60 True", "keep-max after the offset, as numpy computes it");
  });

  it("a conv net on images (per-example gradients by vmap) from an IDX folder; issues → pandas with Datalab's columns and a printed report", () => {
    const dir = mkdtempSync(join(tmpdir(), "genlab-data-"));
    const n = 96;
    const flip = [5, 40, 71];
    const { x, y } = images(n, 8, 4, flip);
    mkdirSync(join(dir, "idx"));
    writeFileSync(join(dir, "idx", "train-images-idx3-ubyte.gz"), gzipSync(encodeIdxUint8([n, 8, 8], x)));
    writeFileSync(join(dir, "idx", "train-labels-idx1-ubyte"), encodeIdxUint8([n], Uint8Array.from(y)));
    const s = genlab(["scores", "--data", join(dir, "idx"), "--model", "cnn:4,4,16", "--epochs", "2", "--batch-size", "16", "--scores", "grand,el2n", "--out", join(dir, "cnn.csv")]);
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /conv net 1×8×8/);
    const out = join(dir, "issues.csv");
    const r = genlab(["issues", "--data", join(dir, "idx"), "--model", "mlp:32", "--epochs", "6", "--batch-size", "16", "--folds", "3", "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Here is a summary of the issues found in your data/);
    for (const t of ["label", "near_duplicate", "memorized", "hard_to_learn", "ambiguous"]) assert.match(r.stdout, new RegExp(`-+ ${t} issues -+`));
    const cols = python(`import pandas as pd; d = pd.read_csv(${JSON.stringify(out)}); print(len(d)); print(' '.join(c for c in d.columns if c.startswith('is_'))); print(d.label_score.between(0, 1).all())`).split("\n");
    assert.deepEqual(cols, [String(n), "is_label_issue is_near_duplicate_issue is_outlier_issue is_memorized_issue is_hard_to_learn_issue is_ambiguous_issue", "True"]);
  });

  it("a CSV with a header and a named label column", () => {
    const dir = mkdtempSync(join(tmpdir(), "genlab-data-"));
    const rows = ["f1,cls,f2"];
    for (let i = 0; i < 80; i++) rows.push(`${Math.sin(i)},${i % 2},${(i % 2) * 3 + Math.cos(i)}`);
    writeFileSync(join(dir, "t.csv"), rows.join("\n") + "\n");
    const r = genlab(["scores", "--data", join(dir, "t.csv"), "--label-column", "cls", "--model", "linear", "--epochs", "3", "--batch-size", "8", "--scores", "aum,cartography", "--out", join(dir, "s.csv"), "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.examples, 80);
    assert.equal(j.classes, 2);
    assert.equal(python(`import pandas as pd; print(list(pd.read_csv(${JSON.stringify(join(dir, "s.csv"))}).columns))`), "['index', 'label', 'aum', 'cartography_confidence', 'cartography_variability', 'cartography_correctness', 'reason']");
  });
});
