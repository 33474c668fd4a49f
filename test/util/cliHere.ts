/**
 * The CLI in this process (its `main`, exactly what bin/genlab.js runs), capturing stdout and stderr: the
 * bad-input cases fail before any training, so a process start each (~3 s of tsx and jax-js loading) would
 * only cost time. The CLI's text is captured at its source (src/io/console.ts), never by replacing
 * process.stdout.write: the test runner's reporter writes to the same stream at any moment, and its lines
 * ("# Subtest: …") once ended up inside a captured --json output.
 */
import { captureConsole } from "../../src/io/console.ts";

export async function genlabHere(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { main } = await import("../../src/cli/main.ts");
  let stdout = "";
  let stderr = "";
  const release = captureConsole({ out: (s) => (stdout += s), err: (s) => (stderr += s) });
  const before = process.exitCode;
  process.exitCode = 0;
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    release();
    process.exitCode = before;
  }
}
