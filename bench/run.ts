/**
 * `npm run bench`: times the standard workloads W1–W6 (W4p: W4 by power iteration) and the end-to-end
 * jobs E1 (the quick grokking reproduction), E2 (the Data Diet quick reproduction's scoring and one
 * retraining) and E1x2 (two seeds of E1: genlab's reproduce --jobs 2 against torch running them one after
 * the other), E3 (a tiny causal Transformer, 200 steps) and E4 (a small CNN, one epoch of Fashion-MNIST) in
 * genlab and in PyTorch (Debian's
 * python3-torch on OpenBLAS) side by side, at 1 and 2 threads, and prints per workload the CPU and wall
 * milliseconds of both, the ratio genlab/torch of CPU time, and achieved GFLOP/s (useful FLOPs of the
 * workload / wall time). `--json` prints the table as JSON on stdout instead. `--baseline` times the
 * genlab engine as it was before the performance work (see bench/genlab.ts). `--threads 1,2`,
 * `--only W1,W3,E2` (W ids, E1, E2, E1x2, E3, E4, E5). E5 (bench/e5.ts, genlab alone, only when named in
 * --only: it runs the whole quick suite, 8–25 minutes a backend) is the runner's own overhead:
 * `genlab reproduce --quick --jobs 1` against the sum of its runs' own times (`--e5-jobs 2` for CI's split).
 *
 * Each side runs in its own process: genlab with JAX_THREADS (0 = no worker pool; 2 = the shim's pool of
 * 2 Wasm threads), torch with torch.set_num_threads and OMP/OPENBLAS_NUM_THREADS, and with
 * the same OpenBLAS kernels: OPENBLAS_CORETYPE as genlab chooses it (the user's, else from the CPU's flags,
 * src/platform/backend.ts) for both sides, OPENBLAS_L2_SIZE unset.
 * genlab is timed on each matmul backend (`--backends wasm,native,native-own`: native-own is the native
 * backend on genlab's own GEMM; default all that the native addon's build offers) against the same torch run.
 * Timing: one or two warm-up runs (compilation happens there), then the median over a fixed number of
 * repetitions (10 for the fast workloads, 3 for W4 and W5; `--rep-scale 0.3` for a quicker look).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { cpuCoreType } from "../src/platform/backend.ts";

/** Both sides on the same OpenBLAS kernels (Debian's 0.3.21 falls back to generic SSE3 ones on CPUs newer than it). */
const KERNELS = process.env.OPENBLAS_CORETYPE || cpuCoreType();
function sameKernels(env: NodeJS.ProcessEnv): void {
  if (KERNELS) env.OPENBLAS_CORETYPE = KERNELS;
  else delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
}

const ROOT = resolve(import.meta.dirname, "..");
const PYTHON = "/usr/bin/python3";
const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  if (i >= 0) return args[i + 1];
  return args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
};
const json = flag("--json");
const baseline = flag("--baseline");
const threadList = (opt("--threads") ?? "1,2").split(",").map(Number);
const only = opt("--only");
const repScale = opt("--rep-scale");
const known = ["--json", "--baseline", "--threads", "--only", "--rep-scale", "--backends"];
// genlab's matmul backends to time (default: both where the native addon built), each against the same torch run.
// "native-own": the native backend on genlab's own GEMM (GENLAB_GEMM=own), what a machine without OpenBLAS runs.
const addonBuilt = existsSync(resolve(import.meta.dirname, "../native/build/Release/genlab_blas.node"));
const withOpenblas = (() => {
  try {
    return JSON.parse(readFileSync(resolve(import.meta.dirname, "../native/build-status.json"), "utf8")).gemm === "openblas";
  } catch {
    return false;
  }
})();
const backends = (opt("--backends") ?? (addonBuilt ? (withOpenblas ? "wasm,native,native-own" : "wasm,native") : "wasm")).split(",").map((b) => b.trim());
if (backends.some((b) => b !== "wasm" && b !== "native" && b !== "native-own")) {
  console.error(`✖ --backends expects a comma-separated list of wasm, native and native-own, got "${opt("--backends")}"`);
  process.exit(2);
}
/** The environment that selects a backend in a genlab child process. */
const backendEnv = (backend: string): NodeJS.ProcessEnv => (backend === "native-own" ? { GENLAB_BACKEND: "native", GENLAB_GEMM: "own" } : { GENLAB_BACKEND: backend, GENLAB_GEMM: "auto" });
for (const a of args) {
  if (a.startsWith("--") && !known.includes(a.split("=")[0])) {
    console.error(`✖ unknown option ${a} → expected one of ${known.join(", ")}`);
    process.exit(2);
  }
}
if (threadList.some((t) => !Number.isInteger(t) || t < 1 || t > 64)) {
  console.error(`✖ --threads expects a comma-separated list of thread counts ≥ 1, got "${opt("--threads")}"`);
  process.exit(2);
}

const log = (s: string) => process.stderr.write(s + "\n");

/** Runs in a run store written by `genlab reproduce` (its genlab.db), or null when unreadable. */
function runCount(out: string): number | null {
  const r = spawnSync(process.execPath, ["bin/genlab.js", "runs", "--out", out, "--json"], { cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0) return null;
  try {
    const v = JSON.parse(r.stdout);
    return Array.isArray(v) ? v.length : null;
  } catch {
    return r.stdout.split("\n").filter((l) => l.trim().startsWith("{")).length || null;
  }
}

function torchReady(): string | null {
  const r = spawnSync(PYTHON, ["-c", "import torch"], { encoding: "utf8" });
  if (r.error || r.status !== 0)
    return `PyTorch is not importable by ${PYTHON}. Install the anchor with:\n  sudo apt-get update && sudo apt-get install -y python3-torch libopenblas0-pthread`;
  return null;
}

type Line = { id: string; cpu_ms: number; wall_ms: number; reps: number; flops?: number; check: number; reference?: number };

function runLines(cmd: string, argv: string[], env: NodeJS.ProcessEnv, what: string): { lines: Line[]; meta: Record<string, unknown> } {
  const r = spawnSync(cmd, argv, { cwd: ROOT, env, encoding: "utf8", maxBuffer: 1 << 24 });
  if (r.status !== 0) {
    log(r.stderr.trim().split("\n").slice(-8).join("\n"));
    throw new Error(`${what} failed (exit ${r.status})`);
  }
  const lines: Line[] = [];
  let meta: Record<string, unknown> = {};
  for (const l of r.stdout.split("\n").filter(Boolean)) {
    const o = JSON.parse(l);
    if (o.id) lines.push(o);
    else meta = o;
  }
  return { lines, meta };
}

const missing = torchReady();
if (missing) {
  console.error(`✖ ${missing}`);
  process.exit(1);
}

const onlyList = only ? only.split(",").map((x) => x.trim()) : null;
const wantE1x2 = !onlyList || onlyList.includes("E1x2");
const wantE1 = !onlyList || onlyList.includes("E1") || wantE1x2; // E1x2's torch side reads E1's exported split
const wantE2 = !onlyList || onlyList.includes("E2");
// E3 / E4: training jobs of the sizes users run (a tiny causal Transformer, a small CNN on Fashion-MNIST),
// each side its own script printing {cpu_ms, wall_ms, step_ms, check}.
const TRAIN_JOBS = [
  { id: "E3", genlab: "bench/e3.ts", torch: "bench/e3_transformer.py", name: "tiny causal Transformer, 200 Adam steps (d 64, 2 layers, 4 heads, batch 32, length 48)", check: "mean loss of the last 10 steps" },
  { id: "E4", genlab: "bench/e4.ts", torch: "bench/e4_cnn.py", name: "small CNN on Fashion-MNIST, one epoch (2 conv layers, batch 128) + test accuracy", check: "test accuracy" },
].filter((j) => !onlyList || onlyList.includes(j.id));
const wantE5 = !!onlyList?.includes("E5");
const e5Jobs = opt("--e5-jobs") ?? "1";
type E5Line = { jobs: number; wall_ms: number; parts_ms: number; runs: number; overhead_ms: number; overhead_frac: number; verdicts: Record<string, number> };
const e5: ({ side: string } & E5Line)[] = [];
const wOnly = onlyList?.filter((x) => !["E1", "E2", "E1x2", "E3", "E4", "E5"].includes(x));
const wantW = !onlyList || (wOnly?.length ?? 0) > 0;
const extra = [...(wOnly?.length ? [`--only=${wOnly.join(",")}`] : []), ...(repScale ? [`--rep-scale=${repScale}`] : [])];
type Row = { id: string; backend: string; threads: number; genlab_cpu_ms: number; genlab_wall_ms: number; torch_cpu_ms: number; torch_wall_ms: number; ratio_cpu: number; ratio_wall: number; genlab_gflops: number; torch_gflops: number; genlab_check: number; torch_check: number; reference?: number };
const rows: Row[] = [];
type E1Line = { cpu_ms: number; wall_ms: number; train_step_99: number | null; test_step_95: number | null };
const e1: ({ side: string; threads: number } & E1Line)[] = [];
type E2Line = { cpu_ms: number; wall_ms: number; score_ms: number; retrain_ms: number; check: number; run_test_acc: number };
const e2: ({ side: string; threads: number } & E2Line)[] = [];
const e1x2: { side: string; wall_ms: number; runs: number }[] = [];
type JobLine = { cpu_ms: number; wall_ms: number; step_ms: number; check: number };
const jobs: ({ id: string; side: string; threads: number } & JobLine)[] = [];
let blas = "";
for (const threads of threadList) {
  log(`threads ${threads}: torch…`);
  const tenv: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) };
  sameKernels(tenv);
  const t = wantW ? runLines(PYTHON, ["bench/torch_bench.py", `--threads=${threads}`, ...extra], tenv, "the torch benchmark") : { lines: [], meta: {} };
  blas = String(t.meta.blas ?? blas);
  // E1: the quick grokking reproduction end to end; both sides train from the same exported split and init.
  if (wantE1 && !baseline) {
    const dir = mkdtempSync(join(tmpdir(), "genlab-e1-"));
    try {
      for (const backend of backends) {
        log(`threads ${threads}: E1 (quick grokking) on genlab ${backend}…`);
        const env: NodeJS.ProcessEnv = { ...process.env, ...backendEnv(backend), JAX_THREADS: String(threads === 1 ? 0 : threads) };
        sameKernels(env);
        const g = runLines(process.execPath, ["--import", "tsx", "bench/e1.ts", dir], env, "E1 on genlab");
        e1.push({ side: `genlab ${backend}`, threads, ...(g.lines[0] as unknown as E1Line) });
      }
      log(`threads ${threads}: E1 on torch…`);
      const te = runLines(PYTHON, ["bench/e1_grokking.py", dir, `--threads=${threads}`], tenv, "E1 on torch");
      e1.push({ side: "torch", threads, ...(te.lines[0] as unknown as E1Line) });
      // E1×2: two seeds. genlab: `reproduce --jobs 2 --no-control` (one single-threaded worker per core,
      // the report written at the end); torch: the E1 script twice,
      // one after the other, at one thread each (wall time of both, process start-up included).
      if (wantE1x2 && threads === 1) {
        for (const backend of backends) {
          log(`E1×2: genlab reproduce --jobs 2 of two seeds on ${backend}…`);
          const out = join(dir, `reproduce-${backend}`);
          const env: NodeJS.ProcessEnv = { ...process.env, ...backendEnv(backend) };
          sameKernels(env);
          delete env.JAX_THREADS;
          const t0 = performance.now();
          const r = spawnSync(process.execPath, ["bin/genlab.js", "reproduce", "--quick", "--only", "grokking-modular", "--seeds", "2", "--jobs", "2", "--no-control", "--out", out, "--report", join(out, "report"), "--json"], { cwd: ROOT, env, encoding: "utf8", maxBuffer: 1 << 24 });
          const wall = performance.now() - t0;
          if (r.status !== 0) throw new Error(`genlab reproduce failed (exit ${r.status}): ${r.stderr.trim().split("\n").slice(-4).join(" | ")}`);
          e1x2.push({ side: `genlab ${backend}`, wall_ms: wall, runs: runCount(out) ?? NaN });
        }
        log("E1×2: torch, two runs one after the other…");
        const t0 = performance.now();
        for (let i = 0; i < 2; i++) runLines(PYTHON, ["bench/e1_grokking.py", dir, "--threads=1"], tenv, "E1 on torch");
        e1x2.push({ side: "torch", wall_ms: performance.now() - t0, runs: 2 });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  // E2: the Data Diet quick reproduction's scoring (3 runs × 10 epochs, EL2N, GraNd, forgetting) and one retraining.
  if (wantE2 && !baseline) {
    const dir = mkdtempSync(join(tmpdir(), "genlab-e2-"));
    try {
      for (const backend of backends) {
        log(`threads ${threads}: E2 (Data Diet scoring + one retraining) on genlab ${backend}…`);
        const env: NodeJS.ProcessEnv = { ...process.env, ...backendEnv(backend), JAX_THREADS: String(threads === 1 ? 0 : threads) };
        sameKernels(env);
        const g = runLines(process.execPath, ["--import", "tsx", "bench/e2.ts", dir], env, "E2 on genlab");
        e2.push({ side: `genlab ${backend}`, threads, ...(g.lines[0] as unknown as E2Line) });
      }
      log(`threads ${threads}: E2 on torch…`);
      const te = runLines(PYTHON, ["bench/e2_datadiet.py", dir, `--threads=${threads}`], tenv, "E2 on torch");
      e2.push({ side: "torch", threads, ...(te.lines[0] as unknown as E2Line) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (wantE5 && !baseline && threads === threadList[0])
    for (const backend of backends) {
      log(`E5 (the whole quick suite, --jobs ${e5Jobs}, against the sum of its runs) on genlab ${backend}…`);
      const env: NodeJS.ProcessEnv = { ...process.env, ...backendEnv(backend), E5_JOBS: e5Jobs };
      sameKernels(env);
      e5.push({ side: `genlab ${backend}`, ...(runLines(process.execPath, ["--import", "tsx", "bench/e5.ts"], env, "E5").lines[0] as unknown as E5Line) });
    }
  if (!baseline)
    for (const j of TRAIN_JOBS) {
      for (const backend of backends) {
        log(`threads ${threads}: ${j.id} on genlab ${backend}…`);
        const env: NodeJS.ProcessEnv = { ...process.env, ...backendEnv(backend), JAX_THREADS: String(threads === 1 ? 0 : threads) };
        sameKernels(env);
        jobs.push({ id: j.id, side: `genlab ${backend}`, threads, ...(runLines(process.execPath, ["--import", "tsx", j.genlab], env, `${j.id} on genlab`).lines[0] as unknown as JobLine) });
      }
      log(`threads ${threads}: ${j.id} on torch…`);
      jobs.push({ id: j.id, side: "torch", threads, ...(runLines(PYTHON, [j.torch, `--threads=${threads}`], tenv, `${j.id} on torch`).lines[0] as unknown as JobLine) });
    }
  if (!wantW) continue;
  for (const backend of baseline ? ["wasm"] : backends) {
    log(`threads ${threads}: genlab on ${backend}${baseline ? " (baseline engine)" : ""}…`);
    // --baseline is the engine before the performance work: also without the patched matmul kernel.
    // JAX_THREADS: the wasm worker pool's threads, or OpenBLAS's on the native backend.
    const env: NodeJS.ProcessEnv = { ...process.env, ...backendEnv(backend), JAX_THREADS: String(threads === 1 ? 0 : threads), ...(baseline ? { GENLAB_JAX_MATMUL: "0" } : {}) };
    sameKernels(env);
    const g = runLines(process.execPath, ["--import", "tsx", "bench/genlab.ts", ...(baseline ? ["--baseline"] : []), ...extra], env, "the genlab benchmark");
    for (const gl of g.lines) {
      const tl = t.lines.find((l) => l.id === gl.id);
      if (!tl) continue;
      const flops = gl.flops ?? 0;
      rows.push({
        id: gl.id,
        backend,
        threads,
        genlab_cpu_ms: gl.cpu_ms,
        genlab_wall_ms: gl.wall_ms,
        torch_cpu_ms: tl.cpu_ms,
        torch_wall_ms: tl.wall_ms,
        ratio_cpu: gl.cpu_ms / tl.cpu_ms,
        ratio_wall: gl.wall_ms / tl.wall_ms,
        genlab_gflops: flops / gl.wall_ms / 1e6,
        torch_gflops: flops / tl.wall_ms / 1e6,
        genlab_check: gl.check,
        torch_check: tl.check,
        ...(gl.reference !== undefined ? { reference: gl.reference } : {}),
      });
    }
  }
}
// W0: the Wasm SIMD128 arithmetic ceiling of this CPU (bench/wasmPeak.ts), without and with relaxed FMA.
const peak = (fma: boolean): number => {
  const r = spawnSync(process.execPath, ["--import", "tsx", "bench/wasmPeak.ts", ...(fma ? ["--fma"] : [])], { cwd: ROOT, encoding: "utf8" });
  return r.status === 0 ? JSON.parse(r.stdout).gflops : NaN;
};
log("Wasm SIMD128 ceiling…");
const ceiling = { mulAdd: peak(false), fma: peak(true) };
if (blas && blas !== "openblas") log(`! torch is using ${blas}, not OpenBLAS: install libopenblas0-pthread for a fair anchor`);

const W1 = (threads: number, backend: string) => rows.find((r) => r.id === "W1" && r.threads === threads && r.backend === backend);
if (json) {
  const out: object[] = rows.map((r) => ({ ...r, w1_steps: W1(r.threads, r.backend) ? r.genlab_cpu_ms / W1(r.threads, r.backend)!.genlab_cpu_ms : null }));
  out.push({ id: "W0", threads: 1, wasm_simd128_peak_gflops: ceiling.mulAdd, wasm_relaxed_fma_peak_gflops: ceiling.fma });
  for (const r of e2) out.push({ id: "E2", ...r, ratio_cpu_vs_torch: r.side === "torch" ? 1 : r.cpu_ms / (e2.find((x) => x.side === "torch" && x.threads === r.threads)?.cpu_ms ?? NaN) });
  for (const r of e1x2) out.push({ id: "E1x2", ...r, ratio_wall_vs_torch: r.wall_ms / (e1x2.find((x) => x.side === "torch")?.wall_ms ?? NaN) });
  for (const r of jobs) out.push({ ...r, ratio_cpu_vs_torch: r.cpu_ms / (jobs.find((x) => x.id === r.id && x.side === "torch" && x.threads === r.threads)?.cpu_ms ?? NaN) });
  for (const r of e5) out.push({ id: "E5", ...r });
  for (const r of e1) out.push({ id: "E1", ...r, ratio_cpu_vs_torch: r.side === "torch" ? 1 : r.cpu_ms / (e1.find((x) => x.side === "torch" && x.threads === r.threads)?.cpu_ms ?? NaN) });
  console.log(JSON.stringify(out, null, 1));
} else {
  const NAMES: Record<string, string> = {
    W1: "MLP step, mod-97, 4704×(194→256→97)",
    W2: "transformer step, B=512, d128",
    W3: "GraNd, 4704 examples of W1",
    W4: "top Hessian eig (genlab Lanczos 10 HVPs, torch power 20)",
    W4p: "top Hessian eig, 20 power iters both",
    W5: "EL2N, 60k × 784-256-10",
    W6: "matmul 1024³",
    W7t: "2 epochs SGD, 10k × 784-256-256-10",
    W7: "W7t + per-example logger every epoch",
    W8: "Hessian top-5 eigenvalues, Lanczos 30 HVPs (W1 net)",
    W8p: "Hessian top-5, power + deflation 5×20 HVPs (PyHessian)",
    W9: "Hessian trace, Hutchinson 50 probes",
    W10: "Hessian density, SLQ 3 runs × 30 steps",
  };
  const head = ["workload", "backend", "thr", "genlab cpu ms", "wall ms", "torch cpu ms", "wall ms", "ratio cpu", "ratio wall", "genlab GFLOP/s", "torch GFLOP/s", "W1 steps"];
  const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
  const body = rows.map((r) => [
    `${r.id} ${NAMES[r.id] ?? ""}`,
    r.backend,
    String(r.threads),
    fmt(r.genlab_cpu_ms),
    fmt(r.genlab_wall_ms),
    fmt(r.torch_cpu_ms),
    fmt(r.torch_wall_ms),
    `${r.ratio_cpu.toFixed(2)}×`,
    `${r.ratio_wall.toFixed(2)}×`,
    fmt(r.genlab_gflops),
    fmt(r.torch_gflops),
    W1(r.threads, r.backend) ? fmt(r.genlab_cpu_ms / W1(r.threads, r.backend)!.genlab_cpu_ms) : "",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (c: string[]) => c.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join("  ");
  console.log(`genlab${baseline ? " (baseline engine)" : ""} vs PyTorch (${blas || "?"}), ratio = genlab / torch, W1 steps = genlab CPU time in units of one genlab W1 step`);
  console.log(line(head));
  for (const b of body) console.log(line(b));
  for (const r of e1) {
    const torch = e1.find((x) => x.side === "torch" && x.threads === r.threads);
    const ratio = (k: "cpu_ms" | "wall_ms") => (torch && r.side !== "torch" ? ` (${(r[k] / torch[k]).toFixed(2)}× torch)` : "");
    console.log(`E1 quick grokking end to end, ${r.side}, ${r.threads} thread${r.threads > 1 ? "s" : ""}: cpu ${(r.cpu_ms / 1000).toFixed(1)} s${ratio("cpu_ms")}, wall ${(r.wall_ms / 1000).toFixed(1)} s${ratio("wall_ms")}; train 99% at step ${r.train_step_99}, test 95% at step ${r.test_step_95}`);
  }
  for (const r of e2) {
    const torch = e2.find((x) => x.side === "torch" && x.threads === r.threads);
    const ratio = (k: "cpu_ms" | "wall_ms") => (torch && r.side !== "torch" ? ` (${(r[k] / torch[k]).toFixed(2)}× torch)` : "");
    console.log(`E2 Data Diet scoring + one retraining, ${r.side}, ${r.threads} thread${r.threads > 1 ? "s" : ""}: cpu ${(r.cpu_ms / 1000).toFixed(1)} s${ratio("cpu_ms")}, wall ${(r.wall_ms / 1000).toFixed(1)} s${ratio("wall_ms")} (scoring ${(r.score_ms / 1000).toFixed(1)} s, retraining ${(r.retrain_ms / 1000).toFixed(1)} s); scoring runs' test accuracy ${r.run_test_acc.toFixed(4)}, retrained on the top 50% by EL2N ${r.check.toFixed(4)}`);
  }
  for (const r of jobs) {
    const j = TRAIN_JOBS.find((x) => x.id === r.id)!;
    const torch = jobs.find((x) => x.id === r.id && x.side === "torch" && x.threads === r.threads);
    const ratio = (k: "cpu_ms" | "wall_ms" | "step_ms") => (torch && r.side !== "torch" ? ` (${(r[k] / torch[k]).toFixed(2)}× torch)` : "");
    console.log(`${r.id} ${j.name}, ${r.side}, ${r.threads} thread${r.threads > 1 ? "s" : ""}: cpu ${(r.cpu_ms / 1000).toFixed(1)} s${ratio("cpu_ms")}, wall ${(r.wall_ms / 1000).toFixed(1)} s${ratio("wall_ms")}, step ${r.step_ms.toFixed(2)} ms${ratio("step_ms")}; ${j.check} ${r.check.toFixed(4)}`);
  }
  for (const r of e5)
    console.log(
      `E5 the runner's overhead, ${r.side}: reproduce --quick --jobs ${r.jobs}, wall ${(r.wall_ms / 1000).toFixed(1)} s; its ${r.runs} runs' own times sum to ${(r.parts_ms / 1000).toFixed(1)} s${r.jobs > 1 ? ` (÷ ${r.jobs} = ${(r.parts_ms / r.jobs / 1000).toFixed(1)} s, a perfect split)` : ""} → overhead ${(r.overhead_ms / 1000).toFixed(1)} s (${(100 * r.overhead_frac).toFixed(1)}% of the wall); verdicts ${Object.entries(r.verdicts).map(([k, v]) => `${v} ${k}`).join(", ")}`,
    );
  const torch2 = e1x2.find((x) => x.side === "torch");
  for (const r of e1x2.filter((x) => x.side !== "torch"))
    console.log(`E1×2 two seeds of the quick grokking reproduction: ${r.side} reproduce --jobs 2, wall ${(r.wall_ms / 1000).toFixed(1)} s for ${r.runs} runs (2 seeds, --no-control); torch, 2 runs one after the other at 1 thread, wall ${torch2 ? (torch2.wall_ms / 1000).toFixed(1) : "?"} s → ${torch2 ? (r.wall_ms / torch2.wall_ms).toFixed(2) : "?"}× torch's wall time`);
  // Both genlab rows run on the same network from the same start vector; torch's network has its own
  // random weights, so its eigenvalue is a sanity check, not comparable.
  for (const r of rows.filter((x) => x.id === "W4" && x.reference !== undefined)) {
    const p = rows.find((x) => x.id === "W4p" && x.backend === r.backend && x.threads === r.threads);
    const err = (v: number) => `${((100 * Math.abs(v - r.reference!)) / Math.abs(r.reference!)).toFixed(1)}%`;
    console.log(`W4 eigenvalue, ${r.backend} ${r.threads} thr: Lanczos from 10 products ${r.genlab_check.toPrecision(5)} (error ${err(r.genlab_check)})${p ? `, power iteration from 20 ${p.genlab_check.toPrecision(5)} (error ${err(p.genlab_check)})` : ""}, against ${r.reference!.toPrecision(6)} (Lanczos, 40 products, untimed; genlab's network and start vector; torch's own network: ${r.torch_check.toPrecision(5)} after 20 power iterations)`);
  }
  // W7 / W7t: the per-example logger's cost as a fraction of plain training, on each side
  for (const r of rows.filter((x) => x.id === "W7")) {
    const t = rows.find((x) => x.id === "W7t" && x.backend === r.backend && x.threads === r.threads);
    if (t) console.log(`W7 per-example logger (every example, every epoch), ${r.backend} ${r.threads} thr: training + logging / training alone = genlab ${(r.genlab_cpu_ms / t.genlab_cpu_ms).toFixed(2)}× (CPU), torch ${(r.torch_cpu_ms / t.torch_cpu_ms).toFixed(2)}×; target ≤ 1.5×`);
  }
  console.log(
    `W0 Wasm SIMD128 ceiling of this CPU, one thread, registers only: ${ceiling.mulAdd.toFixed(1)} GFLOP/s with f32x4 mul+add, ${ceiling.fma.toFixed(1)} with relaxed FMA (Node 20 needs a V8 flag for it; letting jax-js use it measured within noise).`,
  );
}
