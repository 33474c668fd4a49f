// Which engine runs float32 matmuls on Node: "native" (genlab's addon, native/, built at npm install
// where a C compiler is there: over OpenBLAS where libopenblas-dev is installed, else with genlab's own
// GEMM compiled for the CPU) or "wasm" (jax-js's Wasm kernels with genlab's patch).
// GENLAB_BACKEND=wasm|native|auto chooses (the CLI's --backend sets it); auto takes native when the
// addon loads. GENLAB_GEMM=own|openblas|auto chooses the native GEMM (auto: OpenBLAS where linked). Imported by nodeShim.ts BEFORE @jax-js/jax: the patched backend reads
// globalThis.__genlabBlas when it is created. The choice and the reason are recorded, never guessed:
// `genlab --version` and every run's config.json print them.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";

export type BackendInfo = {
  name: "wasm" | "native";
  requested: string;
  why: string;
  /** The native GEMM's build: OpenBLAS's config string, or genlab-gemm's ISA and tile (native only). */
  blas?: string;
  /** Which GEMM the native backend calls: OpenBLAS or genlab's own (native/genlab_gemm.c). */
  gemm?: "openblas" | "own";
  /** OpenBLAS's kernel family when genlab chose it, and why (native only; see chooseCoreType). */
  coretype?: { name: string; why: string };
  /** OpenBLAS threads (native) or wasm worker threads (0: none). */
  threads: number;
  /** A request that cannot be met (GENLAB_BACKEND=native without the addon, or an unknown name). */
  error?: string;
  /** The setting the error is about, when it is not GENLAB_BACKEND. */
  errorAt?: "GENLAB_GEMM";
};

type Blas = {
  sgemm: (...a: unknown[]) => void;
  setThreads(n: number): void;
  setGemm(name: "own" | "openblas"): boolean;
  info(): { config: string; threads: number; gemm: "own" | "openblas"; openblas: boolean };
};

/** The addon's path (GENLAB_NATIVE_ADDON overrides it: the tests point it nowhere to see an install without it). */
export const ADDON_PATH = process.env.GENLAB_NATIVE_ADDON || resolve(import.meta.dirname, "../../native/build/Release/genlab_blas.node");

/**
 * OpenBLAS's kernel family for this CPU, from its feature flags (Linux's /proc/cpuinfo), or null to leave
 * the choice to OpenBLAS. Why: Debian's OpenBLAS 0.3.21 (DYNAMIC_ARCH) does not know CPUs newer than it
 * and falls back to its generic SSE3 kernels ("Prescott") on them. Measured 2026-12-06 on the Xeon of
 * these machines (family 6, model 207, AVX-512 with BF16), one thread, ms per sgemm:
 *
 * | M×K×N | Prescott (OpenBLAS's own choice) | SkylakeX | Cooperlake |
 * |---|---|---|---|
 * | 60×8000×64 | 2.20 | 0.83 | 0.88 |
 * | 64×60×8000, A transposed | 2.35 | 0.76 | 0.64 |
 * | 500×8000×64 | 19.0 | 6.37 | 6.21 |
 * | 1024×1024×1024 | 91.1 | 21.0 | 17.2 |
 *
 * "Cooperlake" needs AVX512-BF16 besides AVX512F/BW/DQ/VL/CD ("SkylakeX"); "Haswell" AVX2 and FMA.
 * Every one of them is a kernel OpenBLAS ships and picks itself on the CPUs it knows; a user's
 * OPENBLAS_CORETYPE is always kept.
 */
export function chooseCoreType(flags: ReadonlySet<string>): string | null {
  const avx512 = ["avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"].every((f) => flags.has(f));
  if (avx512 && flags.has("avx512_bf16")) return "Cooperlake";
  if (avx512) return "SkylakeX";
  if (flags.has("avx2") && flags.has("fma")) return "Haswell";
  return null;
}

/** chooseCoreType for this machine's CPU (Linux's /proc/cpuinfo flags), or null where they cannot be read. */
export function cpuCoreType(): string | null {
  if (process.platform !== "linux") return null;
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8").split("\n").find((l) => /^flags\s*:/.test(l));
    return line ? chooseCoreType(new Set(line.slice(line.indexOf(":") + 1).trim().split(/\s+/))) : null;
  } catch {
    return null;
  }
}

/** Sets OPENBLAS_CORETYPE before OpenBLAS loads (it reads it once, when the library loads). */
function setCoreType(): BackendInfo["coretype"] {
  const set = process.env.OPENBLAS_CORETYPE;
  // GENLAB_CORETYPE_CHOSEN: a parent genlab chose it (a --jobs worker inherits its environment)
  const name = set && process.env.GENLAB_CORETYPE_CHOSEN !== set ? null : cpuCoreType();
  if (set && name !== set) return { name: set, why: "OPENBLAS_CORETYPE set by the user" };
  if (!name) return undefined;
  process.env.OPENBLAS_CORETYPE = name;
  process.env.GENLAB_CORETYPE_CHOSEN = name;
  return { name, why: `chosen by genlab from the CPU's flags (${name === "Haswell" ? "AVX2 + FMA" : name === "SkylakeX" ? "AVX-512" : "AVX-512 with BF16"}); set OPENBLAS_CORETYPE to choose another` };
}

function select(): BackendInfo {
  const requested = (process.env.GENLAB_BACKEND ?? "auto").trim() || "auto";
  const threads = Math.max(0, Number(process.env.JAX_THREADS ?? 0) || 0);
  if (!["auto", "wasm", "native"].includes(requested)) return { name: "wasm", requested, threads, why: "an unknown backend was requested", error: `expected GENLAB_BACKEND (or --backend) to be wasm, native or auto, got ${JSON.stringify(requested)}` };
  if (requested === "wasm") return { name: "wasm", requested, threads, why: "GENLAB_BACKEND=wasm" };
  const gemm = (process.env.GENLAB_GEMM ?? "auto").trim() || "auto";
  if (!["auto", "own", "openblas"].includes(gemm)) return { name: "wasm", requested, threads, why: "an unknown GEMM was requested", error: `expected GENLAB_GEMM to be own, openblas or auto, got ${JSON.stringify(gemm)}`, errorAt: "GENLAB_GEMM" };
  let blas: Blas;
  const coretype = setCoreType();
  try {
    blas = createRequire(import.meta.url)(ADDON_PATH) as Blas;
  } catch (e) {
    let built = "";
    try {
      const st = JSON.parse(readFileSync(resolve(import.meta.dirname, "../../native/build-status.json"), "utf8")) as { ok: boolean; why: string };
      if (!st.ok) built = `: ${st.why}`;
    } catch {
      built = ": it was never built";
    }
    const why = `the native addon is not available${built || ` (${(e as Error).message.split("\n")[0]})`}; install a C compiler (and libopenblas-dev for OpenBLAS), then npm run build:native`;
    if (requested === "native") return { name: "wasm", requested, threads, why, error: `GENLAB_BACKEND=native, but ${why}` };
    return { name: "wasm", requested, threads, why };
  }
  if (gemm !== "auto" && !blas.setGemm(gemm as "own" | "openblas")) {
    const why = `GENLAB_GEMM=${gemm}, but the native addon was built without OpenBLAS (install libopenblas-dev, then npm run build:native)`;
    return { name: "wasm", requested, threads, why, error: why, errorAt: "GENLAB_GEMM" };
  }
  blas.setThreads(Math.max(1, threads));
  (globalThis as Record<string, unknown>).__genlabBlas = blas;
  const info = blas.info();
  const why = requested === "native" ? "GENLAB_BACKEND=native" : "the native addon loaded (auto)";
  const own = info.gemm === "own" ? (gemm === "own" ? "; GENLAB_GEMM=own" : "; genlab's own GEMM (the addon was built without OpenBLAS)") : "";
  return { name: "native", requested, threads: info.threads, why: why + own, blas: info.config, gemm: info.gemm, ...(coretype && info.gemm === "openblas" ? { coretype } : {}) };
}

export const BACKEND: BackendInfo = select();

// GENLAB_HEAP_CHECK=1: jax-js's allocator (patched) guards every wasm-heap buffer and poisons freed ones, so an
// out-of-bounds write or a write after free throws where it happens (slower; for debugging, docs/jax-js-notes.md)
if (process.env.GENLAB_HEAP_CHECK === "1") (globalThis as Record<string, unknown>).__genlabHeapCheck = true;

/** The kernel family in OpenBLAS's config string ("OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64"). */
function coreName(config: string | undefined): string {
  const words = (config ?? "").split(" ");
  const i = words.findIndex((w) => w.startsWith("MAX_THREADS"));
  return i > 0 && !/^[A-Z_]+$/.test(words[i - 1]) ? words[i - 1] : "";
}

/** One line for --version and logs: `native (OpenBLAS 0.3.21 SkylakeX, 1 thread): the native addon loaded (auto); kernels …`. */
export function describeBackend(b: BackendInfo = BACKEND): string {
  const blas = b.gemm === "own" ? (b.blas ?? "genlab-gemm") : [...(b.blas?.split(" ").slice(0, 2) ?? []), coreName(b.blas)].filter(Boolean).join(" ");
  const detail = b.name === "native" ? `${blas}, ${b.threads} thread${b.threads === 1 ? "" : "s"}` : b.threads ? `${b.threads} worker threads` : "1 thread";
  const kernels = b.name === "native" && b.coretype ? `; OpenBLAS kernels ${b.coretype.name}: ${b.coretype.why}` : "";
  return `${b.name} (${detail}): ${b.why}${kernels}`;
}
