// Builds genlab's optional native matmul addon (native/) at `npm install`: over OpenBLAS where its headers
// are installed (apt libopenblas-dev), with genlab's own GEMM (native/genlab_gemm.c, compiled for this CPU)
// where they are not or the OpenBLAS build fails. GENLAB_NATIVE_BLAS=own builds the own-GEMM addon even
// where OpenBLAS is installed (what a machine without it gets). It never fails the install: without a C
// compiler or Node's C headers genlab runs on the Wasm kernels, and native/build-status.json says why
// (genlab --version prints it). Nothing is downloaded: node-gyp is npm's own and the headers are the ones
// this Node ships with.
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const status = (ok, why, gemm) => {
  writeFileSync(join(root, "native", "build-status.json"), JSON.stringify({ ok, why, ...(gemm ? { gemm } : {}), at: new Date().toISOString() }, null, 2) + "\n");
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
  const npmCli = process.env.npm_execpath;
  const candidates = [npmCli && join(dirname(npmCli), "..", "node_modules", "node-gyp", "bin", "node-gyp.js"), join(nodedir, "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"), join(nodedir, "share", "nodejs", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js")].filter(Boolean);
  const gyp = candidates.find((p) => existsSync(p));
  if (!gyp) {
    status(false, "npm's node-gyp was not found");
    process.exit(0);
  }
  const build = (blas) => {
    const r = spawnSync(process.execPath, [gyp, "rebuild", `--nodedir=${nodedir}`], { cwd: join(root, "native"), encoding: "utf8", timeout: 300_000, env: { ...process.env, GENLAB_NATIVE_BLAS: blas } });
    if (r.status === 0) return null;
    const last = `${r.stdout ?? ""}\n${r.stderr ?? ""}`.trim().split("\n").filter((l) => /error|Error/.test(l)).slice(-2).join(" | ");
    return `node-gyp failed (${last || `exit ${r.status}`})`;
  };
  const forced = process.env.GENLAB_NATIVE_BLAS === "own";
  const header = forced ? undefined : ["/usr/include/x86_64-linux-gnu/openblas-pthread/cblas.h", "/usr/include/openblas/cblas.h", "/usr/include/cblas.h"].find(existsSync);
  let openblasFailed = "";
  if (header) {
    const failed = build("openblas");
    if (!failed) {
      status(true, `with OpenBLAS (${header}); genlab's own GEMM also built in (GENLAB_GEMM=own)`, "openblas");
      process.exit(0);
    }
    openblasFailed = `; the OpenBLAS build failed: ${failed}`;
  }
  const failed = build("own");
  const without = forced ? "GENLAB_NATIVE_BLAS=own" : header ? "OpenBLAS's build failed" : "OpenBLAS's cblas.h was not found (install libopenblas-dev for OpenBLAS)";
  if (failed) {
    status(false, `${failed}${openblasFailed}`);
    process.exit(0);
  }
  status(true, `with genlab's own GEMM: ${without}${openblasFailed}`, "own");
} catch (e) {
  status(false, `the build script failed: ${e.message}`);
}
process.exit(0);
