// Issue 21, the run store, model files and the dashboard: overlapping safetensors tensors, merge changing its
// sources, FIFO stores that hang, a refused resume that leaves a store behind, and non-ASCII tokens. Each case
// failed on the code before its fix; each user error is one ✖ line and exit 1 (never 70, never a hang).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { GenlabError } from "../src/core/errors.ts";
import { denseFromSafetensors, encodeSafetensors } from "../src/io/modelFiles.ts";
import { RunStore } from "../src/runner/store.ts";
import { createDashboardServer, listen, readInside } from "../src/server/serve.ts";
import { genlabHere } from "./util/cliHere.ts";

const BIN = resolve(import.meta.dirname, "../bin/genlab.js");

type Result = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

/** The CLI in a child process, killed after `timeoutMs` (a hang is a failure, not a stuck suite). */
function genlab(args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Result> {
  return new Promise((done) => {
    const c = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, FORCE_COLOR: "0", ...opts.env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    c.stdout.on("data", (d) => (stdout += d));
    c.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => c.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
    c.on("close", (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr });
    });
  });
}

/** A refused command: exit 1 (a user error, not 70, not killed), one ✖ line matching `re`. */
function refused(r: Result, re: RegExp, what: string): void {
  assert.equal(r.signal, null, `${what}: hung (killed after the time limit)`);
  assert.equal(r.code, 1, `${what}: exit ${r.code}: ${r.stderr}`);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `${what}: one line: ${r.stderr}`);
  assert.match(lines[0], /^✖ /, what);
  assert.match(lines[0], re, what);
}

const tmp = (tag: string) => mkdtempSync(join(tmpdir(), `genlab-i21-${tag}-`));

// ------------------------------------------------------------------------------------ 1. safetensors

const f32 = (n: number, s: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(s + 0.7 * i));
const MLP = { "0.weight": { shape: [4, 2], data: f32(8, 1) }, "0.bias": { shape: [4], data: f32(4, 2) }, "1.weight": { shape: [2, 4], data: f32(8, 3) }, "1.bias": { shape: [2], data: f32(2, 4) } };
type Header = Record<string, { dtype: string; shape: number[]; data_offsets: unknown }>;

/** The MLP's safetensors file with its header edited (the data bytes kept, `extra` zero bytes appended). */
function edited(edit: (h: Header) => void, extra = 0): Uint8Array {
  const good = encodeSafetensors(MLP);
  const n = Number(new DataView(good.buffer).getBigUint64(0, true));
  const h = JSON.parse(new TextDecoder().decode(good.subarray(8, 8 + n))) as Header;
  edit(h);
  let json = JSON.stringify(h);
  while ((8 + json.length) % 8) json += " "; // keep the data aligned, as writers do
  const data = good.subarray(8 + n);
  const out = new Uint8Array(8 + json.length + data.length + extra);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(new TextEncoder().encode(json), 8);
  out.set(data, 8 + json.length);
  return out;
}

const refusedModel = (bytes: Uint8Array, tensor: string, re: RegExp, what: string) =>
  assert.throws(
    () => denseFromSafetensors(bytes, "m.safetensors"),
    (e: unknown) => {
      assert.ok(e instanceof GenlabError, `${what}: ${(e as Error).stack}`);
      assert.deepEqual(e.issues[0].path, ["m.safetensors", tensor], `${what}: names the file and the tensor`);
      assert.match(e.message, re, what);
      return true;
    },
    what,
  );

describe("issue 21: safetensors offsets must tile the data region", () => {
  it("a file whose tensors tile the data (in any header order) is read", () => {
    const net = denseFromSafetensors(encodeSafetensors(MLP), "m.safetensors").net;
    assert.deepEqual(net, { dims: [2, 4, 2], weights: weightsInOut(), biases: [MLP["0.bias"].data, MLP["1.bias"].data] });
    const reordered = edited((h) => {
      const copy = { ...h };
      for (const k of Object.keys(h)) delete h[k];
      for (const k of Object.keys(copy).reverse()) h[k] = copy[k];
    });
    assert.deepEqual(denseFromSafetensors(reordered, "m.safetensors").net, net);
  });

  it("overlap, gap, trailing or missing bytes, a length that is not prod(shape)·dtype size, bad offsets: a GenlabError naming the file and the tensor", () => {
    // the issue's case: every tensor at [0, size] (they all read the first bytes: other weights, other norms)
    refusedModel(edited((h) => Object.values(h).forEach((t) => (t.data_offsets = [0, (t.data_offsets as number[])[1] - (t.data_offsets as number[])[0]]))), "0.bias", /tensor 0\.bias \(bytes 0–16\) overlaps tensor 1\.bias \(bytes 0–8\)/, "overlap");
    // 1.bias moved 8 bytes on: a gap before it, and it ends past the data region
    refusedModel(edited((h) => (h["1.bias"].data_offsets = [(h["1.bias"].data_offsets as number[])[0] + 8, (h["1.bias"].data_offsets as number[])[1] + 8]), 8), "1.bias", /gap/, "gap");
    refusedModel(edited((h) => (h["1.bias"].data_offsets = [(h["1.bias"].data_offsets as number[])[0] + 8, (h["1.bias"].data_offsets as number[])[1] + 8])), "1.bias", /gap|past the end/, "gap and past the end");
    refusedModel(edited(() => {}, 8), "1.bias", /8 bytes after the last tensor/, "trailing bytes");
    refusedModel(edited((h) => (h["1.bias"].dtype = "F64")), "1.bias", /8 bytes.*shape \[2\] of F64 needs 16/, "byte length ≠ prod(shape)·8");
    refusedModel(edited((h) => (h["1.bias"].shape = [3])), "1.bias", /8 bytes.*shape \[3\] of F32 needs 12/, "byte length ≠ prod(shape)·4");
    refusedModel(edited((h) => ((h["1.bias"].shape = [3]), (h["1.bias"].data_offsets = [80, 92]))), "1.bias", /ends at byte 92, past the end of the data region \(88 bytes\)/, "past the end");
    for (const bad of [[8, 0], [-8, 0], [0.5, 8], ["0", "8"], [0], null, [0, 2 ** 60]]) refusedModel(edited((h) => (h["0.bias"].data_offsets = bad)), "0.bias", /data_offsets/, `offsets ${JSON.stringify(bad)}`);
  });

  it("genlab measure refuses the overlapping file with one line naming it and the tensor, and writes nothing", async () => {
    const dir = tmp("st");
    try {
      writeFileSync(join(dir, "d.csv"), "a,b,label\n" + Array.from({ length: 20 }, (_, i) => `${Math.sin(i).toFixed(3)},${Math.cos(i).toFixed(3)},${i % 2}`).join("\n") + "\n");
      writeFileSync(join(dir, "good.safetensors"), encodeSafetensors(MLP));
      writeFileSync(join(dir, "overlap.safetensors"), edited((h) => Object.values(h).forEach((t) => (t.data_offsets = [0, (t.data_offsets as number[])[1] - (t.data_offsets as number[])[0]]))));
      const good = await genlabHere(["measure", "--model-file", join(dir, "good.safetensors"), "--data", join(dir, "d.csv"), "--families", "norm", "--json"]);
      assert.equal(good.code, 0, good.stderr);
      const out = join(dir, "m.json");
      const bad = await genlabHere(["measure", "--model-file", join(dir, "overlap.safetensors"), "--data", join(dir, "d.csv"), "--families", "norm", "--out", out]);
      refused({ ...bad, signal: null }, /tensor 0\.bias .*overlaps tensor 1\.bias.*→ at .*overlap\.safetensors\.0\.bias/, "measure");
      assert.ok(!existsSync(out), "no output");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** The MLP's weights as genlab holds them: [in, out] (the file's are PyTorch's [out, in]). */
function weightsInOut(): Float32Array[] {
  const t = (a: Float32Array, rows: number, cols: number) => Float32Array.from({ length: rows * cols }, (_, k) => a[(k % rows) * cols + Math.floor(k / rows)]);
  return [t(MLP["0.weight"].data, 4, 2), t(MLP["1.weight"].data, 2, 4)];
}

// ------------------------------------------------------------------------------------ 2. merge

/** A store with finished runs `ids` (one metric row each). */
function makeStore(path: string, ids: string[]): void {
  const s = new RunStore(path);
  try {
    for (const id of ids) {
      s.insertRun({ id, experiment: "exp", paper: 1, size: "smoke", seed: 0, hparams_hash: id, hparams: "{}", settings: "{}", started_at: "2026-12-01T00:00:00Z", dir: `/nowhere/${id}`, genlab_version: "0", jax_version: "0", device: "wasm" });
      s.appendMetrics(id, { phase: "main", axis: "step", x: 1, values: { loss: 0.5 } });
      s.finishRun(id, { status: "finished", verdict: "PASS", seconds: 1, summary: "{}" });
    }
  } finally {
    s.close();
  }
}

/** What a source must keep: its bytes and its modification time. */
const fingerprint = (p: string) => ({ sha256: createHash("sha256").update(readFileSync(p)).digest("hex"), mtime: statSync(p).mtimeMs });
const userVersion = (p: string) => {
  const db = new Database(p, { readonly: true });
  try {
    return db.pragma("user_version", { simple: true });
  } finally {
    db.close();
  }
};

describe("issue 21: genlab merge never changes its sources, and a refused merge leaves the target as it was", () => {
  it("an older-schema (v2) source is read without being upgraded; both sources keep their bytes and mtime", async () => {
    const dir = tmp("merge");
    try {
      const [v2, v3, into] = [join(dir, "v2.db"), join(dir, "v3.db"), join(dir, "all.db")];
      makeStore(v2, ["a"]);
      makeStore(v3, ["b"]);
      const db = new Database(v2);
      db.exec("ALTER TABLE runs DROP COLUMN pid_start; PRAGMA user_version = 2;");
      db.close();
      const before = [fingerprint(v2), fingerprint(v3)];
      const r = await genlab(["merge", v2, v3, "--into", into]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /v2\.db: 1 run added/);
      assert.deepEqual([fingerprint(v2), fingerprint(v3)], before, "the sources are unchanged");
      assert.equal(userVersion(v2), 2, "the v2 source is still v2");
      const all = new RunStore(into, { readonly: true });
      try {
        assert.deepEqual(all.listRuns().map((x) => x.id).sort(), ["a", "b"]);
        assert.deepEqual(all.metricRows("a"), [{ phase: "main", axis: "step", x: 1, values: { loss: 0.5 } }]);
      } finally {
        all.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a source with an unknown column (or merged into itself through a link) is one line naming it; a new target is not created, an existing one is unchanged", async () => {
    const dir = tmp("merge");
    try {
      const [good, odd, fresh, existing] = [join(dir, "good.db"), join(dir, "odd.db"), join(dir, "fresh.db"), join(dir, "existing.db")];
      makeStore(good, ["a"]);
      makeStore(odd, ["b"]);
      makeStore(existing, ["c"]);
      const db = new Database(odd);
      db.exec("ALTER TABLE runs ADD COLUMN flavour TEXT; UPDATE runs SET flavour = 'x';");
      db.close();
      symlinkSync(good, join(dir, "link.db"));
      const before = [fingerprint(good), fingerprint(odd), fingerprint(existing)];
      const [a, b, c] = await Promise.all([
        genlab(["merge", good, odd, "--into", fresh]),
        genlab(["merge", good, odd, "--into", existing]),
        genlab(["merge", join(dir, "link.db"), "--into", good]),
      ]);
      refused(a, /odd\.db/, "unknown column, new target");
      assert.match(a.stderr, /flavour/, "names the column");
      assert.ok(!existsSync(fresh), "no target left behind");
      refused(b, /odd\.db/, "unknown column, existing target");
      refused(c, /itself/, "a link to the target");
      assert.deepEqual([fingerprint(good), fingerprint(odd), fingerprint(existing)], before, "sources and the existing target unchanged");
      assert.deepEqual(readdirSync(dir).filter((f) => /tmp|fresh/.test(f)), [], "no temporary file left");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ------------------------------------------------------------------------------------ 3. FIFOs and folders

describe("issue 21: a store or file that is a FIFO, a folder or a device is one line, never a hang", () => {
  it("runs, show, report, serve, resume, merge (source and --into): --store must be a regular file", async () => {
    const dir = tmp("fifo");
    try {
      // one FIFO per case: a process that opens one for writing would let another's reader through
      let n = 0;
      const fifo = () => {
        const p = join(dir, `pipe${n++}.db`);
        execFileSync("mkfifo", [p]);
        return p;
      };
      mkdirSync(join(dir, "folder.db"));
      makeStore(join(dir, "ok.db"), ["a"]);
      const cases: [string, string[]][] = [
        ["runs FIFO", ["runs", "--store", fifo()]],
        ["runs folder", ["runs", "--store", join(dir, "folder.db")]],
        ["runs device", ["runs", "--store", "/dev/zero"]],
        ["show FIFO", ["show", "a", "--store", fifo()]],
        ["report FIFO", ["report", "--store", fifo(), "--report", join(dir, "rep")]],
        ["serve FIFO", ["serve", "--store", fifo(), "--port", "0"]],
        ["resume FIFO", ["resume", "a", "--store", fifo()]],
        ["merge FIFO source", ["merge", fifo(), "--into", join(dir, "m.db")]],
        ["merge into FIFO", ["merge", join(dir, "ok.db"), "--into", fifo()]],
      ];
      const results = await Promise.all(cases.map(([, args]) => genlab(args, { timeoutMs: 45_000 })));
      cases.forEach(([what, args], i) => refused(results[i], /not a regular file|is a FIFO|is a folder|is a device/, `${what}: genlab ${args.join(" ")}`));
      assert.ok(!existsSync(join(dir, "m.db")) && !existsSync(join(dir, "rep")), "nothing written");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("show: a run folder's summary.json that is a FIFO is skipped with a note (the store's copy is shown), not read", async () => {
    const dir = tmp("fifo");
    try {
      const store = join(dir, "s.db");
      const s = new RunStore(store);
      s.insertRun({ id: "r1", experiment: "exp", paper: 1, size: "smoke", seed: 0, hparams_hash: "h", hparams: "{}", settings: "{}", started_at: "2026-12-01T00:00:00Z", dir, genlab_version: "0", jax_version: "0", device: "wasm" });
      s.finishRun("r1", { status: "finished", seconds: 1, summary: null });
      s.close();
      execFileSync("mkfifo", [join(dir, "summary.json")]);
      const r = await genlab(["show", "r1", "--store", store], { timeoutMs: 45_000 });
      assert.equal(r.signal, null, "hung on the FIFO");
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /summary\.json is a FIFO \(named pipe\), not a regular file/);
      assert.match(r.stdout, /r1/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the dashboard reads no file beyond its size bound (checked before reading)", () => {
    const dir = tmp("size");
    try {
      writeFileSync(join(dir, "big.svg"), "x".repeat(4096));
      assert.equal(readInside(dir, dir, "big.svg", 4096)?.length, 4096);
      assert.ok(readInside(dir, dir, "big.svg", 4095) === null, "a file over the bound is not read");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ------------------------------------------------------------------------------------ 4. refused resume

describe("issue 21: a refused command leaves nothing behind", () => {
  it("resume of an unknown run with a new --out or --store creates no folder and no store", async () => {
    const dir = tmp("resume");
    try {
      const [a, b] = await Promise.all([genlab(["resume", "nope", "--out", join(dir, "newdir")]), genlab(["resume", "nope", "--store", join(dir, "new2", "x.db")])]);
      refused(a, /no run "nope"/, "resume --out");
      refused(b, /no run "nope"/, "resume --store");
      assert.deepEqual(readdirSync(dir), [], "nothing created");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ------------------------------------------------------------------------------------ 5. tokens

/** A request sent as raw bytes (any header bytes, UTF-8 included): the response's status. */
function rawStatus(port: number, target: string, headers: string[]): Promise<number> {
  return new Promise((done, fail) => {
    const sock = connect(port, "127.0.0.1", () => sock.end(Buffer.from([`GET ${target} HTTP/1.1`, `Host: 127.0.0.1:${port}`, "Connection: close", ...headers, "", ""].join("\r\n"), "utf8")));
    let text = "";
    sock.on("data", (d) => (text += d.toString("latin1")));
    sock.on("end", () => done(Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1] ?? 0)));
    sock.on("error", fail);
  });
}

describe("issue 21: the dashboard's token check", () => {
  it("a wrong token of any characters is 401, never 500 (a 32-character non-ASCII one included)", async () => {
    const dir = tmp("token");
    try {
      const storePath = join(dir, "s.db");
      makeStore(storePath, ["a"]);
      mkdirSync(join(dir, "dist"));
      writeFileSync(join(dir, "dist", "index.html"), "<p>ok</p>");
      const token = "A".repeat(32);
      const { server, store } = createDashboardServer({ port: 0, host: "0.0.0.0", storePath, assetsDir: join(dir, "dist"), token });
      const port = await listen(server, 0, "0.0.0.0");
      try {
        const odd = ["é".repeat(32), "😀".repeat(16), "A".repeat(31) + "é", "\u0000".repeat(32), "A".repeat(33), "Ａ".repeat(32)];
        for (const t of odd) {
          assert.equal(await rawStatus(port, `/api/runs?token=${encodeURIComponent(t)}`, []), 401, `query ${JSON.stringify(t)}`);
          if (!t.includes("\u0000")) {
            assert.equal(await rawStatus(port, "/api/runs", [`Authorization: Bearer ${t}`]), 401, `Bearer ${JSON.stringify(t)}`);
            assert.equal(await rawStatus(port, "/api/runs", [`Cookie: genlab_token=${t}`]), 401, `cookie ${JSON.stringify(t)}`);
          }
        }
        assert.equal(await rawStatus(port, "/api/runs?token=%FF%FE", []), 401, "bytes that are not UTF-8");
        assert.equal(await rawStatus(port, `/api/runs?token=${token}`, []), 200, "the right token still works");
      } finally {
        server.close();
        server.closeAllConnections();
        store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("genlab serve refuses a GENLAB_TOKEN that cannot travel in the printed URL and the cookie (non-ASCII, ';', spaces)", async () => {
    const dir = tmp("token");
    try {
      makeStore(join(dir, "s.db"), ["a"]);
      const results = await Promise.all(["é".repeat(20), "abcdefghijklmnop;q", "abcdefgh ijklmnopq"].map((t) => genlab(["serve", "--store", join(dir, "s.db"), "--host", "0.0.0.0", "--port", "0"], { env: { GENLAB_TOKEN: t }, timeoutMs: 45_000 })));
      results.forEach((r, i) => refused(r, /GENLAB_TOKEN/, `token ${i}`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
