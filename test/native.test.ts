// The native matmul backend (native/ + the jax-js patch): the numeric tests and every matmul layout of
// test/matmul.test.ts run again with GENLAB_BACKEND=native in a child process, with a check that the
// matmuls really went to OpenBLAS; same seed, same bits on the native backend at 1 and 2 threads;
// native and wasm agree to float32 round-off; a request for native that cannot be met is one line.
// Skipped, saying so, where the addon did not build (no libopenblas-dev or compiler).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ADDON_PATH, chooseCoreType } from "../src/platform/backend.ts";

const ROOT = resolve(import.meta.dirname, "..");
const BIN = resolve(ROOT, "bin/genlab.js");
const built = existsSync(ADDON_PATH);
const NUMERIC = "core.test,nn.test,optim.test,data.test,train.test,measures.test,scores.test,matmul.test,nativeCalls";

const run = (args: string[], env: Record<string, string>) => spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8", env: { ...process.env, ...env }, timeout: 600_000 });

describe("native matmul backend", { skip: built ? false : `the addon did not build here (${ADDON_PATH} missing): see native/build-status.json` }, () => {
  it("the numeric tests and every matmul layout pass on it, and the matmuls go to OpenBLAS", () => {
    const r = run(["--import", "tsx", "test/all.test.ts"], { GENLAB_BACKEND: "native", GENLAB_TEST_ONLY: NUMERIC });
    const pass = Number(/^# pass (\d+)/m.exec(r.stdout)?.[1] ?? 0);
    const fail = Number(/^# fail (\d+)/m.exec(r.stdout)?.[1] ?? -1);
    assert.equal(fail, 0, `failing on native:\n${r.stdout.split("\n").filter((l) => /not ok/.test(l)).join("\n")}\n${r.stderr.slice(-2000)}`);
    assert.ok(pass > 50, `${pass} tests passed on native`);
  });

  it("same seed, same bits on the native backend, at 1 and at 2 OpenBLAS threads; within float32 round-off of wasm", () => {
    const hash = (backend: string, threads: string) => {
      const r = run(["--import", "tsx", "test/util/matmulHash.ts"], { GENLAB_BACKEND: backend, JAX_THREADS: threads });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim();
    };
    const n1 = hash("native", "0");
    assert.equal(hash("native", "0"), n1, "native, 1 thread, twice");
    const n2 = hash("native", "2");
    assert.equal(hash("native", "2"), n2, "native, 2 threads, twice");
    const smoke = (backend: string) => {
      const r = run([BIN, "run", "grokking-modular", "--size", "smoke", "--no-control", "--json", "--force", "--out", resolve(process.env.TMPDIR ?? "/tmp", `native-${backend}`)], { GENLAB_BACKEND: backend });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as { results: { final_train_loss: number; final_test_acc: number; train_seconds: number }; device: string };
    };
    const [a, b, w] = [smoke("native"), smoke("native"), smoke("wasm")];
    assert.deepEqual(a.results, { ...b.results, train_seconds: a.results.train_seconds }, "a run on native: same numbers twice");
    assert.equal(a.device, "wasm+openblas");
    assert.equal(w.device, "wasm");
    const rel = Math.abs(a.results.final_train_loss - w.results.final_train_loss) / w.results.final_train_loss;
    assert.ok(rel < 1e-3, `native and wasm agree to round-off after 40 steps: ${a.results.final_train_loss} vs ${w.results.final_train_loss}`);
  });

  it("genlab --version names the backend and why; an unknown or unmet request is one line", () => {
    const v = run([BIN, "--version"], { GENLAB_BACKEND: "native", OPENBLAS_CORETYPE: "" });
    assert.match(v.stdout, /^\d+\.\d+\.\d+\nmatmul backend: native \(OpenBLAS [\d.]+( \w+)?, 1 thread\): GENLAB_BACKEND=native(; OpenBLAS kernels \w+: chosen by genlab from the CPU's flags .*)?\n$/);
    // a user's OPENBLAS_CORETYPE is kept, and OpenBLAS runs those kernels
    const user = run([BIN, "--version"], { GENLAB_BACKEND: "native", OPENBLAS_CORETYPE: "Haswell", GENLAB_CORETYPE_CHOSEN: "" });
    assert.match(user.stdout, /matmul backend: native \(OpenBLAS [\d.]+ Haswell, 1 thread\): GENLAB_BACKEND=native; OpenBLAS kernels Haswell: OPENBLAS_CORETYPE set by the user\n$/);
    assert.match(run([BIN, "--backend", "wasm", "--version"], {}).stdout, /matmul backend: wasm \(1 thread\): GENLAB_BACKEND=wasm/);
    const bad = run([BIN, "list", "--backend", "gpu"], {});
    assert.equal(bad.status, 1);
    assert.equal(bad.stderr, '✖ expected GENLAB_BACKEND (or --backend) to be wasm, native or auto, got "gpu" → at --backend\n');
  });

  it("a run interrupted on one backend resumes only on that backend (its layer padding and round-off are that backend's)", () => {
    const out = resolve(process.env.TMPDIR ?? "/tmp", "native-resume");
    const k = run([BIN, "run", "grokking-modular", "--size", "smoke", "--no-control", "--set", "checkpointEvery=10", "--set", "steps=60", "--out", out], { GENLAB_BACKEND: "wasm", GENLAB_FAULT: "checkpoint:2" });
    assert.equal(k.signal, "SIGKILL", k.stderr);
    const id = JSON.parse(run([BIN, "runs", "--out", out, "--json"], {}).stdout)[0].id as string;
    const wrong = run([BIN, "resume", id, "--out", out, "--force"], { GENLAB_BACKEND: "native" });
    assert.equal(wrong.status, 1, wrong.stderr);
    assert.equal(wrong.stderr, `✖ run ${id} started on the wasm backend and this process runs native; resume it with --backend wasm (or GENLAB_BACKEND=wasm) → at --backend\n`);
    const right = run([BIN, "resume", id, "--out", out, "--force"], { GENLAB_BACKEND: "wasm" });
    assert.equal(right.status, 0, right.stderr);
  });
});

describe("the native backend on genlab's own GEMM (GENLAB_GEMM=own: what a machine without OpenBLAS runs)", { skip: built ? false : `the addon did not build here (${ADDON_PATH} missing)` }, () => {
  it("the numeric tests and every matmul layout pass on it; runs record wasm+genlab-gemm, same numbers twice, round-off from OpenBLAS", () => {
    const r = run(["--import", "tsx", "test/all.test.ts"], { GENLAB_BACKEND: "native", GENLAB_GEMM: "own", GENLAB_TEST_ONLY: NUMERIC });
    const pass = Number(/^# pass (\d+)/m.exec(r.stdout)?.[1] ?? 0);
    const fail = Number(/^# fail (\d+)/m.exec(r.stdout)?.[1] ?? -1);
    assert.equal(fail, 0, `failing on the own GEMM:\n${r.stdout.split("\n").filter((l) => /not ok/.test(l)).join("\n")}\n${r.stderr.slice(-2000)}`);
    assert.ok(pass > 50, `${pass} tests passed on the own GEMM`);
    const v = run([BIN, "--version"], { GENLAB_BACKEND: "native", GENLAB_GEMM: "own" });
    assert.match(v.stdout, /matmul backend: native \(genlab-gemm (avx512|avx2|vec128) \d+x\d+, 1 thread\): GENLAB_BACKEND=native; GENLAB_GEMM=own\n$/);
    const smoke = (gemm: string) => {
      const r = run([BIN, "run", "grokking-modular", "--size", "smoke", "--no-control", "--json", "--force", "--out", resolve(process.env.TMPDIR ?? "/tmp", `native-gemm-${gemm}`)], { GENLAB_BACKEND: "native", GENLAB_GEMM: gemm });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as { results: { final_train_loss: number; train_seconds: number }; device: string; dir: string };
    };
    const [a, b] = [smoke("own"), smoke("own")];
    assert.equal(a.device, "wasm+genlab-gemm");
    assert.deepEqual(a.results, { ...b.results, train_seconds: a.results.train_seconds }, "same numbers twice on the own GEMM");
    assert.equal(JSON.parse(readFileSync(resolve(a.dir, "config.json"), "utf8")).backend.gemm, "own", "config.json records the GEMM");
    if (JSON.parse(readFileSync(resolve(ROOT, "native/build-status.json"), "utf8")).gemm === "openblas") {
      const o = smoke("openblas");
      const rel = Math.abs(a.results.final_train_loss - o.results.final_train_loss) / o.results.final_train_loss;
      assert.ok(rel < 1e-3, `own GEMM and OpenBLAS agree to round-off after 40 steps: ${a.results.final_train_loss} vs ${o.results.final_train_loss}`);
    }
  });

  it("a run started on one GEMM resumes only on that GEMM", () => {
    const out = resolve(process.env.TMPDIR ?? "/tmp", "native-gemm-resume");
    const k = run([BIN, "run", "grokking-modular", "--size", "smoke", "--no-control", "--set", "checkpointEvery=10", "--set", "steps=60", "--out", out], { GENLAB_BACKEND: "native", GENLAB_GEMM: "own", GENLAB_FAULT: "checkpoint:2" });
    assert.equal(k.signal, "SIGKILL", k.stderr);
    const id = JSON.parse(run([BIN, "runs", "--out", out, "--json"], {}).stdout)[0].id as string;
    if (JSON.parse(readFileSync(resolve(ROOT, "native/build-status.json"), "utf8")).gemm === "openblas") {
      const wrong = run([BIN, "resume", id, "--out", out, "--force"], { GENLAB_BACKEND: "native", GENLAB_GEMM: "openblas" });
      assert.equal(wrong.status, 1, wrong.stderr);
      assert.equal(wrong.stderr, `✖ run ${id} started on the native backend with genlab's own GEMM and this process uses OpenBLAS; resume it with GENLAB_GEMM=own → at GENLAB_GEMM\n`);
    }
    const right = run([BIN, "resume", id, "--out", out, "--force"], { GENLAB_BACKEND: "native", GENLAB_GEMM: "own" });
    assert.equal(right.status, 0, right.stderr);
  });
});

describe("fused kernels with the wasm heap past 2 GiB (pointers ≥ 2³¹)", () => {
  // CI's score-estimation NaN and the corrupted full-size records of paper 43: a signed `ptr >> 2` in the native
  // path's epilogues once a worker's heap had grown past 2 GiB (test/util/highHeap.ts)
  const backends: [string, Record<string, string>][] = [["wasm", { GENLAB_BACKEND: "wasm" }], ...(built ? ([["native", { GENLAB_BACKEND: "native" }], ["native, own GEMM", { GENLAB_BACKEND: "native", GENLAB_GEMM: "own" }]] as [string, Record<string, string>][]) : [])];
  for (const [name, env] of backends)
    it(`${name}: every fused pattern (row, column and matrix epilogues, a post-op, an A expression, batched) within float32 round-off`, () => {
      const r = run(["--import", "tsx", "test/util/highHeap.ts"], env);
      assert.equal(r.status, 0, `the child failed: ${r.stderr.slice(-2000)}`);
      const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { heapGiB: number; worst: Record<string, number | null> };
      assert.ok(out.heapGiB >= 2, `the heap reached ${out.heapGiB} GiB (expected ≥ 2: every array above 2³¹)`);
      for (const [pattern, e] of Object.entries(out.worst)) assert.ok(e !== null && e < 1e-5, `${pattern}: worst error ${e} against the float64 reference (atol 1e-5)`);
    });
});

describe("GENLAB_HEAP_CHECK=1: the allocator's guard mode (a debugging aid for memory faults)", () => {
  it("catches a write past a buffer's end and a write into a freed block, naming the buffer", () => {
    const r = run(["--import", "tsx", "test/util/heapCheck.ts"], { GENLAB_HEAP_CHECK: "1", GENLAB_BACKEND: "wasm" });
    assert.equal(r.status, 0, r.stderr.slice(-2000));
    const { caught } = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { caught: string[] };
    assert.match(caught[0] ?? "", /genlab heap check: at free: the 40-byte buffer at \d+ was written past its end \(byte 41\)/);
    assert.match(caught[1] ?? "", /genlab heap check: the freed \d+-byte block at \d+ was written after it was freed \(float 0 = 1\.5\)/);
  });
});

describe("npm install on a machine without OpenBLAS", () => {
  it("builds the addon with genlab's own GEMM, and genlab runs on it by default", { skip: built ? false : "no addon built here (no compiler or Node headers)" }, () => {
    // the install's own script, in a copy of native/ and scripts/, as on a machine where cblas.h is absent
    const dir = mkdtempSync(join(tmpdir(), "genlab-own-build-"));
    try {
      cpSync(resolve(ROOT, "scripts/build-native.mjs"), join(dir, "scripts/build-native.mjs"));
      for (const f of ["binding.gyp", "genlab_blas.c", "genlab_gemm.c"]) cpSync(resolve(ROOT, "native", f), join(dir, "native", f));
      const b = run([join(dir, "scripts/build-native.mjs")], { GENLAB_NATIVE_BLAS: "own" });
      assert.equal(b.status, 0, b.stderr);
      const st = JSON.parse(readFileSync(join(dir, "native/build-status.json"), "utf8"));
      assert.equal(st.ok, true, b.stdout);
      assert.equal(st.gemm, "own");
      assert.match(st.why, /^with genlab's own GEMM: GENLAB_NATIVE_BLAS=own$/);
      const addon = join(dir, "native/build/Release/genlab_blas.node");
      const v = run([BIN, "--version"], { GENLAB_NATIVE_ADDON: addon, GENLAB_BACKEND: "auto", GENLAB_GEMM: "" });
      assert.match(v.stdout, /matmul backend: native \(genlab-gemm (avx512|avx2|vec128) \d+x\d+, 1 thread\): the native addon loaded \(auto\); genlab's own GEMM \(the addon was built without OpenBLAS\)\n$/);
      const bad = run([BIN, "list"], { GENLAB_NATIVE_ADDON: addon, GENLAB_BACKEND: "auto", GENLAB_GEMM: "openblas" });
      assert.equal(bad.status, 1);
      assert.equal(bad.stderr, "✖ GENLAB_GEMM=openblas, but the native addon was built without OpenBLAS (install libopenblas-dev, then npm run build:native) → at GENLAB_GEMM\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("OpenBLAS's kernels from the CPU's flags", () => {
  it("AVX-512 with BF16 → Cooperlake, AVX-512 → SkylakeX, AVX2 + FMA → Haswell, else OpenBLAS's own choice", () => {
    const avx512 = ["avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"];
    assert.equal(chooseCoreType(new Set([...avx512, "avx512_bf16"])), "Cooperlake");
    assert.equal(chooseCoreType(new Set(avx512)), "SkylakeX");
    assert.equal(chooseCoreType(new Set(avx512.filter((f) => f !== "avx512vl"))), "Haswell");
    assert.equal(chooseCoreType(new Set(["avx2", "fma"])), "Haswell");
    assert.equal(chooseCoreType(new Set(["avx2", "sse4_2"])), null);
    assert.equal(chooseCoreType(new Set()), null);
  });
});

describe("an install without the native addon", () => {
  it("runs on the Wasm kernels and says why; a request for native is one line, exit 1", () => {
    const env = { GENLAB_NATIVE_ADDON: "/nonexistent/genlab_blas.node", GENLAB_BACKEND: "auto" };
    const v = run([BIN, "--version"], env);
    assert.equal(v.status, 0, v.stderr);
    assert.match(v.stdout, /matmul backend: wasm \(1 thread\): the native addon is not available.*npm run build:native\n$/);
    const bad = run([BIN, "--backend", "native", "list"], { GENLAB_NATIVE_ADDON: "/nonexistent/genlab_blas.node" });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^✖ GENLAB_BACKEND=native, but the native addon is not available.* → at --backend\n$/);
    const r = run([BIN, "run", "grokking-modular", "--size", "smoke", "--no-control", "--json", "--out", resolve(process.env.TMPDIR ?? "/tmp", "no-addon")], env);
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.device, "wasm");
    const config = JSON.parse(readFileSync(resolve(s.dir, "config.json"), "utf8"));
    assert.equal(config.backend.name, "wasm");
    assert.match(config.backend.why, /the native addon is not available/);
  });
});
