#!/usr/bin/env node
// Runs the TypeScript CLI through tsx's loader (no build step: `npm ci` is enough).
// `--backend wasm|native|auto` (anywhere on the line) must be known before jax-js loads: it becomes
// GENLAB_BACKEND here (src/platform/backend.ts reads it; worker processes inherit it).
const i = process.argv.findIndex((a) => a === "--backend" || a.startsWith("--backend="));
if (i >= 2) {
  const a = process.argv[i];
  const value = a.includes("=") ? a.slice(a.indexOf("=") + 1) : process.argv[i + 1];
  process.argv.splice(i, a.includes("=") ? 1 : 2);
  process.env.GENLAB_BACKEND = value ?? "";
  process.env.GENLAB_BACKEND_FROM_FLAG = "1";
}
import("tsx/esm/api").then(({ register }) => {
  register();
  return import("../src/cli/entry.ts");
});
