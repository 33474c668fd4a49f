// Builds genlab's optional native matmul addon (native/, N-API over OpenBLAS) at `npm install`. It never
// fails the install: without OpenBLAS (apt libopenblas-dev), a C compiler or Node's C headers, genlab runs
// on the Wasm kernels, and native/build-status.json says why (genlab --version prints it). Nothing is
// downloaded: node-gyp is npm's own and the headers are the ones this Node ships with.
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const status = (ok, why) => {
  writeFileSync(join(root, "native", "build-status.json"), JSON.stringify({ ok, why, at: new Date().toISOString() }, null, 2) + "\n");
  process.stdout.write(`genlab: native matmul addon ${ok ? "built" : "not built"}: ${why}\n`);
};
try {
  if (process.env.GENLAB_SKIP_NATIVE === "1") {
    status(false, "GENLAB_SKIP_NATIVE=1");
    process.exit(0);
  }
  const nodedir = dirname(dirname(process.execPath));
  if (!existsSync(join(nodedir, "include", "node", "node_api.h"))) {
    status(false, `Node's C headers are not in ${join(nodedir, "include", "node")} (node-gyp would download them; genlab does not)`);
    process.exit(0);
  }
  const header = ["/usr/include/x86_64-linux-gnu/openblas-pthread/cblas.h", "/usr/include/openblas/cblas.h", "/usr/include/cblas.h"].find(existsSync);
  if (!header) {
    status(false, "OpenBLAS's cblas.h was not found (install libopenblas-dev)");
    process.exit(0);
  }
  const npmCli = process.env.npm_execpath;
  const candidates = [npmCli && join(dirname(npmCli), "..", "node_modules", "node-gyp", "bin", "node-gyp.js"), join(nodedir, "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"), join(nodedir, "share", "nodejs", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js")].filter(Boolean);
  const gyp = candidates.find((p) => existsSync(p));
  if (!gyp) {
    status(false, "npm's node-gyp was not found");
    process.exit(0);
  }
  const r = spawnSync(process.execPath, [gyp, "rebuild", `--nodedir=${nodedir}`], { cwd: join(root, "native"), encoding: "utf8", timeout: 300_000 });
  if (r.status !== 0) {
    const last = `${r.stdout ?? ""}\n${r.stderr ?? ""}`.trim().split("\n").filter((l) => /error|Error/.test(l)).slice(-2).join(" | ");
    status(false, `node-gyp failed (${last || `exit ${r.status}`})`);
    process.exit(0);
  }
  status(true, `with ${header}`);
} catch (e) {
  status(false, `the build script failed: ${e.message}`);
}
process.exit(0);
