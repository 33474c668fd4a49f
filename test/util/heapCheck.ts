// Child of test/native.test.ts, run with GENLAB_HEAP_CHECK=1: the allocator's guard mode catches a write past a
// buffer's end (at free) and a write into a freed block (at its reuse). Prints one JSON line with the messages.
export {};
const mems: WebAssembly.Memory[] = [];
const Base = WebAssembly.Memory;
(WebAssembly as { Memory: typeof WebAssembly.Memory }).Memory = class extends Base {
  constructor(d: WebAssembly.MemoryDescriptor) {
    super(d);
    mems.push(this);
  }
};
await import("../../src/platform/nodeShim.ts");
const { initDevices } = await import("../../src/core/jax.ts");
await initDevices();
const { s: getBackend } = await import("../../node_modules/@jax-js/jax/dist/backend-CnjgxpXq.js" as string);
const be = getBackend("wasm") as { malloc(n: number, init?: Uint8Array): number; decRef(slot: number): void };
const u8 = () => new Uint8Array(mems[mems.length - 1].buffer);
const find = (byte: number) => {
  const m = u8();
  for (let i = 0; i + 40 <= m.length; i += 64) if (m.subarray(i, i + 40).every((v) => v === byte)) return i;
  throw new Error(`no block of ${byte}s`);
};
const caught: string[] = [];
const s1 = be.malloc(40, new Uint8Array(40).fill(9));
u8()[find(9) + 41] = 1;
try {
  be.decRef(s1);
} catch (e) {
  caught.push((e as Error).message);
}
const s2 = be.malloc(40, new Uint8Array(40).fill(8));
const at = find(8);
be.decRef(s2);
new Float32Array(u8().buffer, at, 1)[0] = 1.5;
try {
  for (let i = 0; i < 70; i++) be.decRef(be.malloc(40));
} catch (e) {
  caught.push((e as Error).message);
}
console.log(JSON.stringify({ caught }));
