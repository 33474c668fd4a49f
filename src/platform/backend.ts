// Which engine runs float32 matmuls on Node: "native" (genlab's OpenBLAS addon, native/, built at
// npm install when libopenblas-dev and a compiler are there) or "wasm" (jax-js's Wasm kernels with
// genlab's patch). GENLAB_BACKEND=wasm|native|auto chooses (the CLI's --backend sets it); auto takes
// native when the addon loads. Imported by nodeShim.ts BEFORE @jax-js/jax: the patched backend reads
// globalThis.__genlabBlas when it is created. The choice and the reason are recorded, never guessed:
// `genlab --version` and every run's config.json print them.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";

export type BackendInfo = {
  name: "wasm" | "native";
  requested: string;
  why: string;
  /** OpenBLAS's build (native only). */
  blas?: string;
  /** OpenBLAS threads (native) or wasm worker threads (0: none). */
  threads: number;
  /** A request that cannot be met (GENLAB_BACKEND=native without the addon, or an unknown name). */
  error?: string;
};

type Blas = { sgemm: (...a: unknown[]) => void; setThreads(n: number): void; info(): { config: string; threads: number } };

/** The addon's path (GENLAB_NATIVE_ADDON overrides it: the tests point it nowhere to see an install without it). */
export const ADDON_PATH = process.env.GENLAB_NATIVE_ADDON || resolve(import.meta.dirname, "../../native/build/Release/genlab_blas.node");

function select(): BackendInfo {
  const requested = (process.env.GENLAB_BACKEND ?? "auto").trim() || "auto";
  const threads = Math.max(0, Number(process.env.JAX_THREADS ?? 0) || 0);
  if (!["auto", "wasm", "native"].includes(requested)) return { name: "wasm", requested, threads, why: "an unknown backend was requested", error: `expected GENLAB_BACKEND (or --backend) to be wasm, native or auto, got ${JSON.stringify(requested)}` };
  if (requested === "wasm") return { name: "wasm", requested, threads, why: "GENLAB_BACKEND=wasm" };
  let blas: Blas;
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
    const why = `the native addon is not available${built || ` (${(e as Error).message.split("\n")[0]})`}; install libopenblas-dev and a C compiler, then npm run build:native`;
    if (requested === "native") return { name: "wasm", requested, threads, why, error: `GENLAB_BACKEND=native, but ${why}` };
    return { name: "wasm", requested, threads, why };
  }
  const t = Math.max(1, threads);
  blas.setThreads(t);
  (globalThis as Record<string, unknown>).__genlabBlas = blas;
  return { name: "native", requested, threads: t, why: requested === "native" ? "GENLAB_BACKEND=native" : "the native addon loaded (auto)", blas: blas.info().config };
}

export const BACKEND: BackendInfo = select();

/** One line for --version and logs: `native (OpenBLAS 0.3.21 …, 1 thread): the native addon loaded (auto)`. */
export function describeBackend(b: BackendInfo = BACKEND): string {
  const detail = b.name === "native" ? `${b.blas?.split(" ").slice(0, 2).join(" ")}, ${b.threads} thread${b.threads === 1 ? "" : "s"}` : b.threads ? `${b.threads} worker threads` : "1 thread";
  return `${b.name} (${detail}): ${b.why}`;
}
