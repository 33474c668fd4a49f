// `genlab reliance` as a user runs it: a model saved as safetensors whose logits read one known input column (built
// here, so the answer is known), on .npy data with labels; then, where python3-torch made them, the PyTorch MLP
// and CNN of `genlab measure`'s fixtures as ONNX. Bad input gets one ✖ line naming the flag, exit 1, no output file.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { keyFromSeed } from "../src/core/prng.ts";
import { encodeNpy } from "../src/data/npy.ts";
import { randomOrthogonal, rotateRows, slabData } from "../src/data/slabs.ts";
import { encodeSafetensors } from "../src/io/modelFiles.ts";
import { genlabHere } from "./util/cliHere.ts";

type Out = { auc: number; accuracy: number; classes: number; groups: { group: string; columns: number[]; auc: number; auc_sd: number | null; accuracy: number }[] };

describe("genlab reliance on a user's model and data", () => {
  let dir = "";
  const n = 2000, d = 6;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "genlab-reliance-"));
    // LMS-5 rows (column 0 linear, the rest 5-slabs), unrotated and rotated by a known W
    const s = slabData({ n, d, k: 5, linear: true }, keyFromSeed(11));
    const x = s.data.x as Float32Array;
    writeFileSync(join(dir, "x.npy"), encodeNpy({ data: x, shape: [n, d] }));
    writeFileSync(join(dir, "y.npy"), encodeNpy({ data: Int32Array.from(s.data.y), shape: [n] }));
    const W = randomOrthogonal(d, keyFromSeed(12));
    writeFileSync(join(dir, "xr.npy"), encodeNpy({ data: rotateRows(x, n, d, W), shape: [n, d] }));
    writeFileSync(join(dir, "W.npy"), encodeNpy({ data: W, shape: [d, d] }));
    writeFileSync(join(dir, "W5.npy"), encodeNpy({ data: randomOrthogonal(5, keyFromSeed(13)), shape: [5, 5] }));
    writeFileSync(join(dir, "notW.npy"), encodeNpy({ data: Float64Array.from(W, (v, i) => v + (i === 0 ? 0.1 : 0)), shape: [d, d] }));
    // a linear model reading column 0 only: l₁ − l₀ = 10·x₀ (PyTorch's Linear stores weight [out, in])
    const w = new Float32Array(2 * d);
    w[0 * d + 0] = -5;
    w[1 * d + 0] = 5;
    writeFileSync(join(dir, "linear.safetensors"), encodeSafetensors({ "fc.weight": { shape: [2, d], data: w }, "fc.bias": { shape: [2], data: new Float32Array(2) } }));
    // the same model for rotated inputs: x₀[0] = Σ_t x[t]·W[0, t]
    const wr = new Float32Array(2 * d);
    for (let t = 0; t < d; t++) {
      wr[t] = -5 * W[t];
      wr[d + t] = 5 * W[t];
    }
    writeFileSync(join(dir, "rotated.safetensors"), encodeSafetensors({ "fc.weight": { shape: [2, d], data: wr }, "fc.bias": { shape: [2], data: new Float32Array(2) } }));
  });

  const run = (args: string[]) => genlabHere(["reliance", "--data", join(dir, "x.npy"), "--labels", join(dir, "y.npy"), ...args]);

  it("a model that reads column 0 only: randomising it drops the AUC to ≈ 0.5, randomising the others changes nothing; --each, repeats and the CSV", async () => {
    const outFile = join(dir, "rel.csv");
    const r = await run(["--model-file", join(dir, "linear.safetensors"), "--group", "S=0", "--group", "Sc=1-5", "--each", "--repeats", "3", "--out", outFile, "--json"]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const o: Out = JSON.parse(r.stdout);
    assert.equal(o.auc, 1, "the linear coordinate separates the classes");
    assert.equal(o.accuracy, 1, "and classifies every row");
    const g = Object.fromEntries(o.groups.map((x) => [x.group, x]));
    assert.ok(Math.abs(g.S.auc - 0.5) < 0.04, `S-randomised AUC ${g.S.auc} ≈ 0.5`);
    assert.ok(g.S.auc_sd !== null && g.S.auc_sd > 0, `three permutations give a spread (${g.S.auc_sd})`);
    assert.equal(g.Sc.auc, 1, "columns the model ignores: AUC unchanged");
    assert.equal(g.Sc.auc_sd, 0, "and no spread");
    assert.deepEqual(o.groups.map((x) => x.group), ["S", "Sc", "x0", "x1", "x2", "x3", "x4", "x5"], "declared groups, then --each's");
    for (const c of ["x1", "x2", "x3", "x4", "x5"]) assert.equal(g[c].auc, 1, `${c} ignored`);
    assert.ok(Math.abs(g.x0.auc - 0.5) < 0.04, `x0 alone: ${g.x0.auc}`);
    const csv = readFileSync(outFile, "utf8").trim().split("\n");
    assert.equal(csv[0], "group,columns,n_columns,auc,auc_sd,auc_drop,accuracy,accuracy_sd", "CSV header");
    assert.equal(csv.length, 1 + 1 + 8, "a row for the unchanged data and one per group");
    assert.ok(csv[2].startsWith("S,0,1,"), `the S row: ${csv[2]}`);
  });

  it("rotated data: groups are columns of x₀ = xWᵀ with --rotation, as the paper's slab data", async () => {
    const args = ["--data", join(dir, "xr.npy"), "--labels", join(dir, "y.npy"), "--model-file", join(dir, "rotated.safetensors"), "--group", "S=0", "--group", "Sc=1-5", "--repeats", "1", "--json"];
    const r = await genlabHere(["reliance", ...args, "--rotation", join(dir, "W.npy")]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const o: Out = JSON.parse(r.stdout);
    assert.ok(o.auc > 0.9999, `AUC ${o.auc}`);
    assert.ok(Math.abs(o.groups[0].auc - 0.5) < 0.04, `S-randomised ${o.groups[0].auc}`);
    assert.ok(o.groups[1].auc > 0.9999, `Sᶜ-randomised ${o.groups[1].auc}: unchanged up to the float32 round trip`);
    // without the rotation, column 0 of x is a mix of every x₀ column: randomising Sc now hurts
    const plain = JSON.parse((await genlabHere(["reliance", ...args])).stdout) as Out;
    assert.ok(plain.groups[1].auc < 0.99, `without --rotation the groups are columns of x: Sc-randomised ${plain.groups[1].auc}`);
  });

  it("bad input: one ✖ line naming the flag, exit 1, no output file", async () => {
    const outFile = join(dir, "never.csv");
    // [args, the message, the flag (or file) it names]
    const cases: [string[], RegExp, string][] = [
      [["--model-file", join(dir, "linear.safetensors")], /no feature group/, "--group"],
      [["--model-file", join(dir, "linear.safetensors"), "--group", "S=0", "--group", "T=6"], /column 6 is outside the data's 6 columns/, "T"],
      [["--model-file", join(dir, "linear.safetensors"), "--group", "S=0", "--group", "S=1"], /two groups have this name/, "S"],
      [["--model-file", join(dir, "linear.safetensors"), "--group", "S"], /expected name=columns/, "--group"],
      [["--model-file", join(dir, "linear.safetensors"), "--group", "S=3-1"], /runs backwards/, "--group"],
      [["--model-file", join(dir, "linear.safetensors"), "--group", "S=0,0"], /listed twice/, "--group"],
      [["--model-file", join(dir, "linear.safetensors"), "--group", "x0=0", "--each"], /two groups have this name \(--each names/, "x0"],
      [["--model-file", join(dir, "linear.safetensors"), "--group", "S=0-99999999"], /beyond 16777215/, "--group"],
      [["--model-file", join(dir, "linear.safetensors"), "--group", "S=0", "--rotation", join(dir, "notW.npy")], /not orthogonal/, "--rotation"],
      [["--model-file", join(dir, "linear.safetensors"), "--group", "S=0", "--rotation", join(dir, "W5.npy")], /shape \[5, 5\], expected \[6, 6\]/, "--rotation"],
      [["--model-file", join(dir, "linear.safetensors"), "--group", "S=0", "--rotation", join(dir, "y.npy")], /more than the 4384-byte limit/, "--rotation"],
      [["--group", "S=0"], /exactly one of --run <id> and --model-file <file>/, "--model-file"],
      [["--model-file", join(dir, "linear.safetensors"), "--group", "S=0", "--repeats", "0"], /an integer in \[1, 1000\]/, "--repeats"],
    ];
    for (const [args, re, flag] of cases) {
      const r = await run([...args, "--out", outFile]);
      assert.equal(r.code, 1, `${args.join(" ")}: exit 1 (got ${r.code}; ${r.stderr})`);
      // one line (a flag commander rejects adds its usual "(run with --help for usage)")
      const lines = r.stderr.trim().split("\n").filter((l) => l !== "(run with --help for usage)");
      assert.equal(lines.length, 1, `${args.join(" ")}: one line, got ${JSON.stringify(r.stderr)}`);
      assert.match(lines[0], /✖/, `${args.join(" ")}: a ✖ line`);
      assert.match(lines[0], re, `${args.join(" ")}: names the problem`);
      assert.ok(lines[0].includes(flag), `${args.join(" ")}: names ${flag}: ${lines[0]}`);
      assert.ok(!existsSync(outFile), `${args.join(" ")}: nothing written`);
    }
  });
});

const PY = "/usr/bin/python3";
const hasTorch = existsSync(PY) && spawnSync(PY, ["-c", "import torch, onnx, numpy"]).status === 0;

describe("genlab reliance on PyTorch models exported to ONNX", { skip: !hasTorch && "python3-torch / python3-onnx are not installed (.ci/run installs them)" }, () => {
  it("the MLP and the CNN of genlab measure's fixtures: accuracy equals genlab measure's train accuracy; every column group evaluated", async () => {
    const dir = mkdtempSync(join(tmpdir(), "genlab-reliance-onnx-"));
    const r0 = spawnSync(PY, [resolve(import.meta.dirname, "fixtures/make_measure_fixtures.py"), dir], { encoding: "utf8" });
    assert.equal(r0.status, 0, r0.stderr);
    for (const [model, data] of [["model.onnx", "data.npz"], ["cnn.onnx", "cnn_data.npz"]]) {
      const m = await genlabHere(["measure", "--model-file", join(dir, model), "--data", join(dir, data), "--families", "data", "--json"]);
      assert.equal(m.code, 0, m.stderr);
      const trainAcc = (JSON.parse(m.stdout).measures as { id: string; value: number }[]).find((v) => v.id === "train_acc")!.value;
      const r = await genlabHere(["reliance", "--model-file", join(dir, model), "--data", join(dir, data), "--group", "first=0", "--group", "rest=1-9", "--repeats", "2", "--json"]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const o: Out = JSON.parse(r.stdout);
      assert.ok(Math.abs(o.accuracy - trainAcc) < 1e-9, `${model}: reliance's accuracy ${o.accuracy} = measure's train_acc ${trainAcc}`);
      assert.equal(o.groups.length, 2, `${model}: both groups`);
      for (const g of o.groups) assert.ok(g.auc >= 0 && g.auc <= 1 && g.accuracy >= 0 && g.accuracy <= 1, `${model} ${g.group}: AUC ${g.auc}, accuracy ${g.accuracy} in [0, 1]`);
    }
  });
});
