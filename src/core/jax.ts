/**
 * Device initialisation. On Node 20, import `src/platform/nodeShim.ts` before this module; in a browser
 * nothing is needed. WebGPU is preferred where it exists; Wasm otherwise. The `cpu` device is the float64
 * reference used by gradient checks (STYLE.md: float64 on wasm is float32-accurate for exp/log/tanh).
 */
import { init, defaultDevice, type Device } from "@jax-js/jax";

let initialised: Device[] | null = null;

export async function initDevices(preferred?: Device): Promise<Device> {
  const inNode = typeof process !== "undefined" && !!process.versions?.node;
  if (!initialised) {
    const wanted: Device[] = inNode ? ["wasm", "cpu"] : ["webgpu", "wasm", "cpu"];
    initialised = await init(...wanted);
  }
  const order: Device[] = preferred ? [preferred] : inNode ? ["wasm"] : ["webgpu", "wasm"];
  for (const d of order) {
    if (initialised.includes(d)) {
      defaultDevice(d);
      return d;
    }
  }
  throw new Error(`device ${preferred} is not available here (available: ${initialised.join(", ")})`);
}

export function currentDevice(): Device {
  return defaultDevice();
}

/**
 * The storage padding of layer widths that suits the matmul engine: 4 for jax-js's Wasm kernels (genlab's
 * SIMD matmul kernel needs output widths that are multiples of 4), 1 (none) where genlab's native
 * OpenBLAS path is loaded (globalThis.__genlabBlas, set by src/platform/backend.ts before jax-js loads):
 * OpenBLAS takes any width, and padding would only add copies (pad the input, slice the logits) to
 * every step. Padding is exact either way (nn/dense.ts), so the numbers are the same function.
 */
export function defaultPadTo(): number {
  return nativeMatmul() ? 1 : 4;
}

/** Whether genlab's native OpenBLAS matmul path is loaded (src/platform/backend.ts sets the global before jax-js loads). */
export function nativeMatmul(): boolean {
  return !!(globalThis as { __genlabBlas?: unknown }).__genlabBlas;
}
