// The numeric layers in a real browser: bundle them for the browser, serve them on loopback, run a small
// training in headless Chromium on jax-js's wasm backend, and compare with the same run in Node. The page
// is not cross-origin isolated, so the browser has no SharedArrayBuffer and runs one thread, like Node's
// default: the numbers must agree exactly.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import { resolve } from "node:path";
import { build } from "esbuild";
import { chromium } from "playwright-core";
import { smokeTrain } from "./browser/smokeTrain.ts";

const CHROMIUM = "/usr/bin/chromium";
const HTML = `<!doctype html><html><body><pre id="out">pending</pre><script type="module" src="bundle.js"></script></body></html>`;

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
      // Playwright, waiting in real time for the script to write its result: Chromium's --dump-dom with a
      // virtual-time budget could dump the page before the Wasm module compiled on a loaded machine.
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"] });
      let text = "pending";
      const pageErrors: string[] = [];
      try {
        const page = await browser.newPage();
        page.on("pageerror", (e) => pageErrors.push(e.message));
        await page.goto(`http://127.0.0.1:${port}/index.html`);
        await page.waitForFunction(() => document.getElementById("out")?.textContent !== "pending", undefined, { timeout: 180_000 }).catch(() => undefined);
        text = (await page.textContent("#out")) ?? "";
      } finally {
        await browser.close();
      }
      assert.notEqual(text, "pending", `the page's script did not finish within 180 s; page errors: ${pageErrors.join("; ") || "none"}`);
      const got = JSON.parse(text);
      assert.equal(got.error, undefined, got.error);
      assert.equal(got.device, "wasm");
      assert.deepEqual(got.logs, await smokeTrain());
    } finally {
      server.close();
    }
  });
});
