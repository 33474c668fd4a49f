import { initDevices } from "../../src/core/jax.ts";
import { smokeTrain } from "./smokeTrain.ts";

const out = document.getElementById("out")!;
try {
  const device = await initDevices("wasm");
  out.textContent = JSON.stringify({ device, logs: await smokeTrain() });
} catch (e) {
  out.textContent = JSON.stringify({ error: String((e as Error).stack ?? e) });
}
