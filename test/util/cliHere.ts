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
  process.stdout.write = ((c: string) => ((stdout += c), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string) => ((stderr += c), true)) as typeof process.stderr.write;
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
