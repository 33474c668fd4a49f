// Entry point: the Node 20 shim must be evaluated before @jax-js/jax (see src/platform/nodeShim.ts).
import "../platform/nodeShim.ts";

// A closed pipe (`genlab runs | head`, `… --json | true`) ends the process quietly, as `git log | head`
// does: stdout is written only after the work is stored, so nothing is lost. A closed stderr just stops
// the progress lines; the run goes on.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(typeof process.exitCode === "number" ? process.exitCode : 0);
  throw e;
});
process.stderr.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code !== "EPIPE") throw e;
});

const { main } = await import("./main.ts");
const code = await main(process.argv.slice(2));
process.exitCode = code;
