/**
 * The CLI in this process (its `main`, exactly what bin/genlab.js runs), capturing stdout and stderr: the
 * bad-input cases fail before any training, so a process start each (~3 s of tsx and jax-js loading) would
 * only cost time.
 */
export async function genlabHere(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { main } = await import("../../src/cli/main.ts");
  let stdout = "";
  let stderr = "";
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  // Only text is the CLI's: the test runner's own messages to its parent go through this process's stdout as
  // serialized bytes, and swallowing them lost other tests' results (and put binary into `stdout`).
  process.stdout.write = ((c: string | Uint8Array, ...rest: unknown[]) => (typeof c === "string" ? ((stdout += c), true) : (ow as (...a: unknown[]) => boolean)(c, ...rest))) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array, ...rest: unknown[]) => (typeof c === "string" ? ((stderr += c), true) : (ew as (...a: unknown[]) => boolean)(c, ...rest))) as typeof process.stderr.write;
  const before = process.exitCode;
  process.exitCode = 0;
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
    process.exitCode = before;
  }
}
