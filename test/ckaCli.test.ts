// `genlab cka` as a user runs it: representations saved as .npy (known answers: a representation against an orthogonal
// rotation and rescaling of itself has CKA 1), and the layers of a safetensors MLP built here (its hidden layer's
// CKA equal to the float64 host value on the same activations), then the PyTorch CNN of `genlab measure`'s fixtures
// as ONNX against its initialisation. Bad input gets one ✖ line naming the flag, exit 1, nothing written.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { qr } from "../src/core/linalg.ts";
import { keyFromSeed, normalFromKey as normal64 } from "../src/core/prng.ts";
import { encodeNpy } from "../src/data/npy.ts";
import { encodeSafetensors } from "../src/io/modelFiles.ts";
import { linearCkaHost } from "../src/measures/cka.ts";
import { genlabHere } from "./util/cliHere.ts";

const normalFromKey = (k: ReturnType<typeof keyFromSeed>, m: number) => Float32Array.from(normal64(k, m));

type Out = { rows: string[]; columns: string[]; examples: number; cka: number[][] };

describe("genlab cka on saved representations and on a user's model", () => {
  let dir = "";
  const n = 300, p = 6, q = 4, h = 5;
  let X: Float32Array, H1: Float64Array;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "genlab-cka-"));
    X = normalFromKey(keyFromSeed(41), n * p);
    const Y = normalFromKey(keyFromSeed(42), n * q);
    const Q = qr(Float64Array.from(normalFromKey(keyFromSeed(43), p * p)), p, p).q;
    const XQ = new Float32Array(n * p);
    for (let i = 0; i < n; i++) for (let c = 0; c < p; c++) for (let t = 0; t < p; t++) XQ[i * p + c] += 2.5 * X[i * p + t] * Q[t * p + c];
    writeFileSync(join(dir, "x.npy"), encodeNpy({ data: X, shape: [n, p] }));
    writeFileSync(join(dir, "xq.npy"), encodeNpy({ data: XQ, shape: [n, p] }));
    writeFileSync(join(dir, "y.npy"), encodeNpy({ data: Y, shape: [n, 2, 2] }));
    writeFileSync(join(dir, "short.npy"), encodeNpy({ data: Y.subarray(0, 10 * q), shape: [10, q] }));
    // an MLP 6 → 5 → 3 (PyTorch layout: weight [out, in])
    const w1 = normalFromKey(keyFromSeed(44), h * p), b1 = normalFromKey(keyFromSeed(45), h);
    const w2 = normalFromKey(keyFromSeed(46), 3 * h), b2 = new Float32Array(3);
    writeFileSync(join(dir, "mlp.safetensors"), encodeSafetensors({ "0.weight": { shape: [h, p], data: w1 }, "0.bias": { shape: [h], data: b1 }, "2.weight": { shape: [3, h], data: w2 }, "2.bias": { shape: [3], data: b2 } }));
    H1 = new Float64Array(n * h);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < h; j++) {
        let s = b1[j];
        for (let t = 0; t < p; t++) s += X[i * p + t] * w1[j * p + t];
        H1[i * h + j] = Math.max(0, s);
      }
  });

  it("--acts: every pair; a representation against its rotation and rescaling is 1; symmetric; CSV long format; [n, 2, 2] flattened", async () => {
    const outFile = join(dir, "acts.csv");
    const r = await genlabHere(["cka", "--acts", join(dir, "x.npy"), "--acts", join(dir, "xq.npy"), "--acts", join(dir, "y.npy"), "--out", outFile, "--json"]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const o: Out = JSON.parse(r.stdout);
    assert.deepEqual(o.rows, ["x.npy", "xq.npy", "y.npy"], "named by file");
    assert.equal(o.examples, n, "every example (fewer than --rows)");
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(o.cka[i][i] - 1) < 1e-5, `diagonal ${i}: ${o.cka[i][i]}`);
    assert.ok(Math.abs(o.cka[0][1] - 1) < 1e-5, `X against 2.5·XQ: ${o.cka[0][1]}`);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) assert.ok(Math.abs(o.cka[i][j] - o.cka[j][i]) < 1e-6, `symmetric at ${i}, ${j}`);
    assert.ok(o.cka[0][2] > 0 && o.cka[0][2] < 0.2, `independent Gaussians: small (${o.cka[0][2]})`);
    const csv = readFileSync(outFile, "utf8").trim().split("\n");
    assert.equal(csv[0], "row,column,cka", "CSV header");
    assert.equal(csv.length, 1 + 9, "one line per pair");
  });

  it("a model's layers on features-only data: input, hidden after ReLU, logits; the hidden layer's CKA with the input equals the host value; --rows", async () => {
    const figure = join(dir, "cka.svg");
    const r = await genlabHere(["cka", "--model-file", join(dir, "mlp.safetensors"), "--data", join(dir, "x.npy"), "--rows", "200", "--figure", figure, "--json"]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const o: Out = JSON.parse(r.stdout);
    assert.deepEqual(o.rows, ["input", "dense 1 → relu (5)", "logits"], "the layers");
    assert.equal(o.examples, 200, "--rows 200");
    const ref = linearCkaHost(X.subarray(0, 200 * p), p, H1.subarray(0, 200 * h), h, 200);
    assert.ok(Math.abs(o.cka[0][1] - ref) < 1e-4, `CKA(input, hidden) ${o.cka[0][1]} vs host float64 ${ref}`);
    assert.ok(readFileSync(figure, "utf8").startsWith("<svg"), "an SVG heatmap");
    const both = JSON.parse((await genlabHere(["cka", "--model-file", join(dir, "mlp.safetensors"), "--against", join(dir, "mlp.safetensors"), "--data", join(dir, "x.npy"), "--json"])).stdout) as Out;
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(both.cka[i][i] - 1) < 1e-5, `a model against itself: diagonal ${i} is 1`);
  });

  it("bad input: one ✖ line naming the flag, exit 1, nothing written", async () => {
    const outFile = join(dir, "never.csv");
    const cases: [string[], RegExp, string][] = [
      [["--acts", join(dir, "x.npy")], /give two or more --acts files/, "--acts"],
      [["--acts", join(dir, "x.npy"), "--acts", join(dir, "short.npy")], /has shape \[10, 4\]; expected \[300, D\]/, "short.npy"],
      [["--acts", join(dir, "x.npy"), "--acts", join(dir, "x.npy")], /two files have this name/, "--acts"],
      [["--acts", join(dir, "x.npy"), "--acts", join(dir, "y.npy"), "--data", join(dir, "x.npy")], /is read with a model/, "--data"],
      [["--model-file", join(dir, "mlp.safetensors"), "--data", join(dir, "y.npy")], /do not chain into a network taking 4 features/, "mlp.safetensors"],
      [["--model-file", join(dir, "mlp.safetensors")], /pass --data/, "--data"],
      [[], /give --acts files .* or a model/, "--acts"],
      [["--acts", join(dir, "x.npy"), "--acts", join(dir, "y.npy"), "--rows", "1"], /an integer in \[2, 100000\]/, "--rows"],
      [["--acts", join(dir, "x.npy"), "--acts", join(dir, "y.npy"), "--labels", join(dir, "x.npy")], /--acts files need no labels/, "--labels"],
      [["--model-file", join(dir, "mlp.safetensors"), "--model", "m", "--data", join(dir, "x.npy")], /give --run/, "--model"],
      [["--model-file", join(dir, "mlp.safetensors"), "--data", join(dir, "x.npy"), "--normalize", "standardize"], /a features-only .npy is used as it is/, "--normalize"],
    ];
    for (const [args, re, flag] of cases) {
      const r = await genlabHere(["cka", ...args, "--out", outFile]);
      assert.equal(r.code, 1, `${args.join(" ")}: exit 1 (got ${r.code}; ${r.stderr})`);
      const lines = r.stderr.trim().split("\n").filter((l) => l !== "(run with --help for usage)");
      assert.equal(lines.length, 1, `${args.join(" ")}: one line, got ${JSON.stringify(r.stderr)}`);
      assert.match(lines[0], /✖/, `${args.join(" ")}: a ✖ line`);
      assert.match(lines[0], re, `${args.join(" ")}: names the problem: ${lines[0]}`);
      assert.ok(lines[0].includes(flag), `${args.join(" ")}: names ${flag}: ${lines[0]}`);
      assert.ok(!existsSync(outFile), `${args.join(" ")}: nothing written`);
    }
  });
});

const PY = "/usr/bin/python3";
const hasTorch = existsSync(PY) && spawnSync(PY, ["-c", "import torch, onnx, numpy"]).status === 0;

describe("genlab cka on a PyTorch CNN exported to ONNX", { skip: !hasTorch && "python3-torch / python3-onnx are not installed (.ci/run installs them)" }, () => {
  it("the CNN against its initialisation: every layer (input, conv → relu, logits), the input against itself 1, values in [0, 1]", async () => {
    const dir = mkdtempSync(join(tmpdir(), "genlab-cka-onnx-"));
    const r0 = spawnSync(PY, [resolve(import.meta.dirname, "fixtures/make_measure_fixtures.py"), dir], { encoding: "utf8" });
    assert.equal(r0.status, 0, r0.stderr);
    const r = await genlabHere(["cka", "--model-file", join(dir, "cnn.onnx"), "--against", join(dir, "cnn_init.onnx"), "--data", join(dir, "cnn_data.npz"), "--json"]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const o: Out = JSON.parse(r.stdout);
    assert.deepEqual(o.rows, ["input", "conv 1 → relu", "conv 2 → relu", "logits"], "the CNN's representations");
    assert.ok(Math.abs(o.cka[0][0] - 1) < 1e-5, "the same input on both sides");
    for (const row of o.cka) for (const v of row) assert.ok(v >= -1e-6 && v <= 1 + 1e-6, `CKA ${v} in [0, 1]`);
  });
});
