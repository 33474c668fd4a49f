// Node 20 shims for @jax-js/jax 0.1.25 (adapted from shared/snippets/node20-shim.ts). Import this module
// BEFORE @jax-js/jax: jax-js creates its wasm backend and worker pool while its module evaluates.
//
// 1. Float16Array: Node 20 has none; jax-js does `data instanceof Float16Array` in np.array().
// 2. navigator: Node 20 has none; plain init() reads navigator.gpu. The pool size comes from
//    navigator.hardwareConcurrency.
// 3. Worker: jax-js's wasm thread pool uses Web Workers made from Blob URLs; this maps them onto
//    worker_threads. genlab defaults to ONE thread (JAX_THREADS=0) so that a seed gives the same
//    numbers on every machine: the pool splits reductions by thread count, which changes float32
//    round-off (quick grokking run, seed 0: final train loss 9.954e-7 with 1 thread, 9.957e-7 with 2).
//    Measured on 2 cores: quick grokking 73 s with 1 thread, 54 s with JAX_THREADS=2; the smoke run
//    2.1 s vs 2.6 s (small models lose to the pool's per-op overhead). Set JAX_THREADS=2 for speed.
import "./backend.ts"; // chooses wasm or native matmuls before jax-js creates its backend
import { Worker as NodeWorker } from "node:worker_threads";
import { resolveObjectURL } from "node:buffer";
import { Float16Array as Float16ArrayPolyfill } from "@petamoriken/float16";

const g = globalThis as Record<string, unknown>;
if (typeof g.Float16Array === "undefined") g.Float16Array = Float16ArrayPolyfill;

const THREADS = Number(process.env.JAX_THREADS ?? 0);
if (typeof g.navigator === "undefined") {
  g.navigator = { hardwareConcurrency: Math.max(1, THREADS), userAgent: `Node.js/${process.version}` };
}

const BOOT = `
const { parentPort, workerData } = require("node:worker_threads");
globalThis.self = globalThis;
globalThis.postMessage = (m) => parentPort.postMessage(m);
parentPort.on("message", (data) => { if (typeof self.onmessage === "function") self.onmessage({ data }); });
(0, eval)(workerData.src);
`;

type Handler = ((ev: { data: unknown }) => void) | null;

class WebWorkerShim {
  // One message per job, exactly one reply: the thread is ref'd only while a reply is pending, so the
  // process neither exits mid-computation nor hangs after the program is done.
  #w: NodeWorker | null = null;
  #queue: unknown[] = [];
  #pending = 0;
  #hold: NodeJS.Timeout;
  onmessage: Handler = null;
  onerror: ((e: Error) => void) | null = null;

  constructor(url: string | URL) {
    const blob = resolveObjectURL(String(url));
    if (!blob) throw new Error(`WebWorkerShim supports blob: URLs only: ${String(url)}`);
    this.#hold = setInterval(() => {}, 1 << 30);
    void blob.text().then((src) => {
      const w = new NodeWorker(BOOT, { eval: true, workerData: { src } });
      this.#w = w;
      w.on("message", (data: unknown) => {
        if (--this.#pending === 0) w.unref();
        this.onmessage?.({ data });
      });
      w.on("error", (e: Error) => this.onerror?.(e));
      for (const m of this.#queue) this.#send(m);
      this.#queue = [];
      clearInterval(this.#hold);
      if (this.#pending === 0) w.unref();
    });
  }
  #send(m: unknown) {
    if (this.#pending++ === 0) this.#w!.ref();
    this.#w!.postMessage(m);
  }
  postMessage(m: unknown) {
    if (this.#w) this.#send(m);
    else this.#queue.push(m);
  }
  terminate() {
    void this.#w?.terminate();
  }
}
if (THREADS > 0 && typeof g.Worker === "undefined") g.Worker = WebWorkerShim;

export const jaxThreads = THREADS;

// 4. Wasm heap probe: jax-js allocates every wasm-device array in one WebAssembly.Memory. Recording the
//    instances lets leak tests (and users) read the heap size; a loop that disposes what it allocates
//    keeps it flat, since the allocator reuses freed blocks.
const memories: WebAssembly.Memory[] = [];
const NativeMemory = WebAssembly.Memory;
class RecordedMemory extends NativeMemory {
  constructor(desc: WebAssembly.MemoryDescriptor) {
    super(desc);
    memories.push(this);
  }
}
(WebAssembly as { Memory: typeof WebAssembly.Memory }).Memory = RecordedMemory;

/** Bytes of wasm memory jax-js has allocated so far (never shrinks; grows when the heap must). */
export function wasmHeapBytes(): number {
  return memories.reduce((a, m) => a + m.buffer.byteLength, 0);
}
