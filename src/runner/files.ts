/** Atomic file writes: write a temporary sibling, then rename, so no reader sees a half-written file. */
import { mkdirSync, renameSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { createRequire } from "node:module";

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    // never a temporary file left behind (a full disk, a folder named like the output)
    try {
      rmSync(tmp, { force: true });
    } catch {
      // not ours to remove (a folder of that name)
    }
    throw e;
  }
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}

const require = createRequire(import.meta.url);

export function genlabVersion(): string {
  const pkg = JSON.parse(readFileSync(resolve(dirname(new URL(import.meta.url).pathname), "../../package.json"), "utf8"));
  return pkg.version as string;
}

export function jaxVersion(): string {
  // The package's "exports" hides package.json: walk up from its entry point.
  const entry = require.resolve("@jax-js/jax");
  const pkg = JSON.parse(readFileSync(join(dirname(entry), "..", "package.json"), "utf8"));
  return pkg.version as string;
}
