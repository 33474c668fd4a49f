// `genlab measure` as a user runs it: a PyTorch MLP saved as safetensors and exported to ONNX, and a small CNN exported to ONNX, by Debian's
// python3-torch / python3-onnx (test/fixtures/make_measure_fixtures.py), measured by genlab, compared with the
// same measures computed by torch/numpy on the same weights (the full Hessian by autograd); unsupported models
// and bad input get one line naming the file and the problem, exit 1, and no output file.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { decodeNpy, encodeNpy } from "../src/data/npy.ts";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { genlabHere } from "./util/cliHere.ts";

const PY = "/usr/bin/python3";
const hasTorch = existsSync(PY) && spawnSync(PY, ["-c", "import torch, onnx, numpy"]).status === 0;
const skip = !hasTorch && "python3-torch / python3-onnx are not installed (.ci/run installs them)";


type Row = { id: string; value: number; se: number | null };

describe("genlab measure on a PyTorch model (safetensors and ONNX)", { skip }, () => {
  let dir = "";
  let ref: Record<string, number> = {};
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "genlab-measure-"));
    const r = spawnSync(PY, [resolve(import.meta.dirname, "fixtures/make_measure_fixtures.py"), dir], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    ref = JSON.parse(readFileSync(join(dir, "reference.json"), "utf8"));
  });

  it("safetensors and ONNX give the same numbers, equal to torch/numpy on the same weights within the stated tolerances", async () => {
    const results: Record<string, Row[]> = {};
    for (const file of ["model.safetensors", "model.onnx"]) {
      const outFile = join(dir, `${file}.json`);
      const r = await genlabHere(["measure", "--model-file", join(dir, file), "--data", join(dir, "data.npz"), "--init", join(dir, "init.safetensors"), "--families", "data,count,norm,curvature", "--out", outFile, "--json"]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      results[file] = JSON.parse(readFileSync(outFile, "utf8")).measures;
    }
    const a = results["model.safetensors"];
    const b = results["model.onnx"];
    assert.deepEqual(a.map((m) => m.id), b.map((m) => m.id), "same measures");
    a.forEach((m, i) => assert.ok(Math.abs(m.value - b[i].value) <= 1e-9 * Math.max(1, Math.abs(m.value)), `${m.id}: safetensors ${m.value} vs onnx ${b[i].value}`));
    const get = (id: string) => a.find((m) => m.id === id)!;
    // deterministic measures: float32 weights, float64 host arithmetic → relative 1e-5 (torch computed in float64 on the float32 weights)
    for (const id of ["param_norm", "fro_dist", "log_prod_of_spec", "path_norm", "train_acc", "margin_q10", "params"]) {
      const diff = Math.abs(get(id).value - ref[id]) / Math.max(1, Math.abs(ref[id]));
      assert.ok(diff <= 1e-5, `${id}: genlab ${get(id).value} vs torch/numpy ${ref[id]} (relative ${diff})`);
    }
    // the loss goes through float32 logits: relative 1e-5
    assert.ok(Math.abs(get("train_loss").value - ref.train_loss) <= 1e-5 * ref.train_loss + 1e-7, `train_loss ${get("train_loss").value} vs ${ref.train_loss}`);
    // Lanczos on float32 HVPs: the top eigenvalues to 1e-3 relative; Hutchinson's trace within 4 of its SEs
    for (const id of ["hessian_eig1", "hessian_eig2"]) assert.ok(Math.abs(get(id).value - ref[id]) <= 1e-3 * Math.abs(ref[id]), `${id}: ${get(id).value} vs torch's eigvalsh ${ref[id]}`);
    const tr = get("hessian_trace");
    assert.ok(Math.abs(tr.value - ref.hessian_trace) <= 4 * tr.se!, `trace ${tr.value} ± ${tr.se} vs exact ${ref.hessian_trace}`);
  });

  it("a PyTorch CNN exported to ONNX (conv, max-pool, flatten, linear): the graph read and checked, its measures equal torch/numpy's", async () => {
    const cref: Record<string, number> = JSON.parse(readFileSync(join(dir, "cnn_reference.json"), "utf8"));
    const outFile = join(dir, "cnn.json");
    const r = await genlabHere(["measure", "--model-file", join(dir, "cnn.onnx"), "--init", join(dir, "cnn_init.onnx"), "--data", join(dir, "cnn_data.npz"), "--families", "data,count,norm,spectra,curvature", "--out", outFile, "--json"]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const j = JSON.parse(readFileSync(outFile, "utf8"));
    assert.match(j.model, /convolutional ReLU network \[1×8×8\]→conv3×3\(4\)→relu→maxpool2×2→conv3×3\(6\)→relu→flatten→dense\(3\) \(337 parameters\)/);
    const rows: Row[] = j.measures;
    const get = (id: string) => {
      const m = rows.find((x) => x.id === id);
      assert.ok(m, `measure ${id} present`);
      return m;
    };
    // spectral norms of the reshaped kernels [c_out, c_in·k·k] (the reference code's convention); path norm by
    // the squared network on an all-ones input; all within relative 1e-5 of float64 torch on the same weights
    for (const id of ["param_norm", "fro_dist", "log_prod_of_spec", "path_norm", "train_acc", "params"]) {
      const diff = Math.abs(get(id).value - cref[id]) / Math.max(1, Math.abs(cref[id]));
      assert.ok(diff <= 1e-5, `${id}: genlab ${get(id).value} vs torch/numpy ${cref[id]} (relative ${diff})`);
    }
    // the margin is a difference of float32 logits: absolute 1e-5
    assert.ok(Math.abs(get("margin_q10").value - cref.margin_q10) <= 1e-5, `margin_q10 ${get("margin_q10").value} vs ${cref.margin_q10}`);
    assert.ok(Math.abs(get("train_loss").value - cref.train_loss) <= 1e-5 * cref.train_loss + 1e-7, `train_loss ${get("train_loss").value} vs ${cref.train_loss}`);
    for (const id of ["hessian_eig1", "hessian_eig2"]) assert.ok(Math.abs(get(id).value - cref[id]) <= 1e-3 * Math.abs(cref[id]), `${id}: ${get(id).value} vs torch's eigvalsh ${cref[id]}`);
    const tr = get("hessian_trace");
    assert.ok(Math.abs(tr.value - cref.hessian_trace) <= 4 * tr.se!, `trace ${tr.value} ± ${tr.se} vs exact ${cref.hessian_trace}`);
    // every layer has a weight spectrum (the conv ones pooled over kernel positions), none silently skipped
    assert.ok(Number.isFinite(get("ww_alpha").value), "ww_alpha measured");
    assert.ok(!j.not_measured.some((m: { family: string }) => m.family === "spectra"), `no layer left out: ${JSON.stringify(j.not_measured)}`);
  });

  it("CSV output that pandas reads; the printed table names the model and what was not measured", async () => {
    const csv = join(dir, "m.csv");
    const r = await genlabHere(["measure", "--model-file", join(dir, "model.safetensors"), "--data", join(dir, "data.npz"), "--families", "norm,spectra", "--out", csv]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /dense ReLU network 10→16→8→3 \(339 parameters\)/);
    assert.match(r.stdout, /ReLU between the layers is assumed/);
    assert.match(r.stdout, /not measured[\s\S]*fro_dist[\s\S]*initialisation is not known/);
    const py = spawnSync(PY, ["-c", `import pandas as pd; d = pd.read_csv(${JSON.stringify(csv)}); print(len(d), d.loc[d.id == "param_norm", "value"].iloc[0])`], { encoding: "utf8" });
    assert.equal(py.status, 0, py.stderr);
    const [rows, pn] = py.stdout.trim().split(" ").map(Number);
    assert.ok(rows >= 20, `rows ${rows}`);
    assert.ok(Math.abs(pn - ref.param_norm) <= 1e-5 * ref.param_norm, `pandas read param_norm ${pn}`);
  });

  it("damaged model files (truncated, bytes flipped): a GenlabError naming the file, or a model that passes the graph check; never another exception", async () => {
    const { denseFromOnnx, denseFromSafetensors } = await import("../src/io/modelFiles.ts");
    const { GenlabError } = await import("../src/core/errors.ts");
    let state = 12345;
    const next = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0), state / 2 ** 32);
    let errors = 0;
    let cases = 0;
    for (const file of ["model.onnx", "cnn.onnx", "model.safetensors"]) {
      const bytes = new Uint8Array(readFileSync(join(dir, file)));
      for (let k = 0; k < 400; k++) {
        const b = bytes.slice(0, k % 4 === 0 ? Math.floor(next() * bytes.length) : bytes.length);
        if (k % 4 !== 0) for (let f = 0; f < 1 + Math.floor(next() * 4); f++) b[Math.floor(next() * b.length)] = Math.floor(next() * 256);
        cases++;
        try {
          if (file.endsWith(".onnx")) denseFromOnnx(b, file);
          else denseFromSafetensors(b, file);
        } catch (e) {
          errors++;
          assert.ok(e instanceof GenlabError, `${file} case ${k}: ${(e as Error).stack}`);
          assert.ok((e as Error).message.length > 0, "a message");
        }
      }
    }
    assert.ok(errors > 0.3 * cases, `most damaged files are refused (${errors} of ${cases})`);
  });

  it("unsupported models and bad input: one line naming the file and the problem, exit 1, nothing written", async () => {
    const outFile = join(dir, "never.csv");
    const cases: [string[], RegExp][] = [
      [["--model-file", join(dir, "sigmoid.onnx"), "--data", join(dir, "data.npz")], /node .*\(Sigmoid\): unsupported operator Sigmoid/],
      [["--model-file", join(dir, "conv.safetensors"), "--data", join(dir, "data.npz")], /tensor conv\.weight has shape \[4, 1, 3, 3\].*convolution is not supported/],
      [["--model-file", join(dir, "data.npz"), "--data", join(dir, "data.npz")], /expected a \.safetensors or \.onnx file/],
      [["--model-file", join(dir, "model.onnx")], /a model file needs its training data: pass --data/],
      [["--model-file", join(dir, "model.onnx"), "--run", "x", "--data", join(dir, "data.npz")], /give exactly one of --run <id> and --model-file <file>/],
      [["--model-file", join(dir, "model.safetensors"), "--data", join(dir, "data.npz"), "--init", join(dir, "conv.safetensors")], /conv\.weight/],
      [["--model-file", join(dir, "model.safetensors"), "--data", join(dir, "data.npz"), "--families", "norm,bogus"], /unknown measure family "bogus"/],
      [["--model-file", join(dir, "missing.onnx"), "--data", join(dir, "data.npz")], /no such model file: .*missing\.onnx/],
      [["--model-file", join(dir, "avgpool.onnx"), "--data", join(dir, "cnn_data.npz")], /unsupported operators Constant, Pad, AveragePool/],
      [["--model-file", join(dir, "cnn.onnx"), "--data", join(dir, "data.npz")], /the data have 10 features per example, the network's input takes 64/],
      [["--model-file", join(dir, "cnn.onnx"), "--data", join(dir, "cnn_data.npz"), "--init", join(dir, "model.onnx")], /the initialisation is 10→16→8→3, the model \[1×8×8\]/],
    ];
    for (const [args, re] of cases) {
      const r = await genlabHere(["measure", ...args, "--out", outFile]);
      assert.equal(r.code, 1, `${args.join(" ")}: exit ${r.code}`);
      assert.match(r.stderr, re, args.join(" "));
      // one line with the problem (commander's flag errors add a "(run with --help for usage)" line)
      assert.ok(r.stderr.trim().split("\n").length <= 2 && re.test(r.stderr.trim().split("\n")[0]), `the first line names the problem: ${r.stderr}`);
      assert.ok(!/\n\s+at /.test(r.stderr), `no stack trace: ${r.stderr}`);
      assert.ok(!existsSync(outFile), "no output file");
    }
  });
});

describe("genlab measure --run: a fantastic-zoo run's saved model and training set", () => {
  it("measures the run's model on its saved data, with the distance measures from its saved initialisation", async () => {
    const out = mkdtempSync(join(tmpdir(), "genlab-measure-run-"));
    const r0 = await genlabHere(["run", "fantastic-zoo", "--size", "smoke", "--no-control", "--out", out]);
    assert.equal(r0.code, 0, r0.stderr.slice(-1500) + r0.stdout.slice(-1500));
    const runs = await genlabHere(["runs", "--out", out, "--json"]);
    const id = (JSON.parse(runs.stdout) as { id: string }[])[0].id;
    const r = await genlabHere(["measure", "--run", id, "--runs", out, "--families", "data,norm", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.match(j.model, /dense ReLU network 20→(16|32)→4/);
    assert.equal(j.data, "the run's saved training set");
    assert.ok(j.measures.some((m: Row) => m.id === "fro_dist" && m.value > 0), "distance from the saved initialisation measured");
    const bad = await genlabHere(["measure", "--run", "nope", "--runs", out]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /no run "nope"/);
    // issue 21: a tampered run's arrays are validated like a user's file (this failed before: a NaN weight gave
    // null values, y shorter than x silently used half of the rows)
    const arrays = join(out, id, "arrays");
    const names = readdirSync(arrays);
    const yName = join(arrays, names.find((n) => /^data_.*_y\.npy$/.test(n))!);
    const wName = join(arrays, names.find((n) => /^model_.*_w0\.npy$/.test(n) && !n.includes("_init"))!);
    const yBytes = readFileSync(yName);
    const y = decodeNpy(new Uint8Array(yBytes));
    const half = Math.floor(y.shape[0] / 2);
    writeFileSync(yName, encodeNpy({ data: Int32Array.from(y.data).slice(0, half), shape: [half] }));
    const short = await genlabHere(["measure", "--run", id, "--runs", out, "--families", "norm"]);
    assert.equal(short.code, 1, short.stderr);
    assert.match(short.stderr, /^✖ .*labels.*examples/);
    writeFileSync(yName, yBytes);
    const wBytes = readFileSync(wName);
    const w = decodeNpy(new Uint8Array(wBytes));
    const wd = Float32Array.from(w.data);
    wd[0] = NaN;
    writeFileSync(wName, encodeNpy({ data: wd, shape: w.shape }));
    const nan = await genlabHere(["measure", "--run", id, "--runs", out, "--families", "norm"]);
    assert.equal(nan.code, 1, nan.stderr);
    assert.match(nan.stderr, /^✖ .*(NaN|finite)/);
    writeFileSync(wName, wBytes);
  });
});
