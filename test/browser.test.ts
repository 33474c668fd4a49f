// The numeric layers in a real browser: bundle them for the browser, serve them on loopback, run a small
// training in headless Chromium on jax-js's wasm backend, and compare with the same run in Node. The page
// is not cross-origin isolated, so the browser has no SharedArrayBuffer and runs one thread, like Node's
// default: the numbers must agree exactly.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { smokeTrain } from "./browser/smokeTrain.ts";

const CHROMIUM = "/usr/bin/chromium";
const HTML = `<!doctype html><html><body><pre id="out">pending</pre><script type="module" src="bundle.js"></script></body></html>`;

function dumpDom(url: string): Promise<string> {
  const args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", `--user-data-dir=${mkdtempSync(join(tmpdir(), "chromium-"))}`, "--virtual-time-budget=30000", "--dump-dom", url];
  return new Promise((done, fail) => {
    const child = spawn(CHROMIUM, args, { stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
    child.stdout.on("data", (d) => (out += d));
    child.on("error", fail);
    child.on("exit", () => {
      clearTimeout(timer);
      done(out);
    });
  });
}

describe("numeric layers in a browser", { skip: !existsSync(CHROMIUM) && "Debian chromium is not installed (.ci/run installs it)" }, () => {
  it("train in headless Chromium (wasm) and get Node's numbers exactly", async () => {
    const bundle = await build({ entryPoints: [resolve(import.meta.dirname, "browser/entry.ts")], bundle: true, platform: "browser", format: "esm", write: false, logLevel: "silent" });
    const js = bundle.outputFiles[0].contents;
    const server = createServer((req, res) => {
      if (req.url === "/" || req.url === "/index.html") res.writeHead(200, { "content-type": "text/html" }).end(HTML);
      else if (req.url === "/bundle.js") res.writeHead(200, { "content-type": "text/javascript" }).end(js);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      const dom = await dumpDom(`http://127.0.0.1:${port}/index.html`);
      const m = /<pre id="out">([\s\S]*?)<\/pre>/.exec(dom);
      assert.ok(m, `no output element in ${dom.slice(0, 300)}`);
      const text = m[1].replace(/&quot;/g, '"').replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">");
      assert.notEqual(text, "pending", "the page's script did not finish");
      const got = JSON.parse(text);
      assert.equal(got.error, undefined, got.error);
      assert.equal(got.device, "wasm");
      assert.deepEqual(got.logs, await smokeTrain());
    } finally {
      server.close();
    }
  });
});
