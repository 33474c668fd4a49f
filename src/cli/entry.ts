// Entry point: the Node 20 shim must be evaluated before @jax-js/jax (see src/platform/nodeShim.ts).
import "../platform/nodeShim.ts";
const { main } = await import("./main.ts");
const code = await main(process.argv.slice(2));
process.exitCode = code;
