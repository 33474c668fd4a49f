// Property-based fuzzing (fast-check, fixed seeds so that a failure reproduces) of every reader of
// user-supplied or disk-damaged input: IDX (raw and gzipped), .npy, `--set`, checkpoints and the run store.
// Each mutated input must parse or give a GenlabError naming the file (or key), never another exception,
// never a hang, never a partial output.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import fc from "fast-check";
import { gzipSync, zipSync } from "fflate";
import { parseNumericCsv } from "../src/data/csv.ts";
import { gunzipLimited } from "../src/data/gzip.ts";
import { parseNpz } from "../src/data/npz.ts";
import { loadUserData } from "../src/io/userData.ts";
import { EXPERIMENTS } from "../experiments/index.ts";
import { GenlabError } from "../src/core/errors.ts";
import { packHostTree, unpackHostTree } from "../src/core/tree.ts";
import { encodeIdxUint8, parseIdx } from "../src/data/idx.ts";
import { decodeNpy, encodeNpy } from "../src/data/npy.ts";
import { resolveConfig } from "../src/declare/plan.ts";
import { resumeRun } from "../src/runner/run.ts";
import { RunStore } from "../src/runner/store.ts";
import { checkResumeMatches, parseCheckpoint } from "../src/train/checkpoint.ts";
import { faultProbe } from "./util/faultProbe.ts";
import { genlabHere } from "./util/cliHere.ts";
import { READERS } from "./util/userReaders.ts";
import { firstRowKind } from "../src/data/csv.ts";
import { encodeSafetensors } from "../src/io/modelFiles.ts";

function writeBase(dir: string, file: string, bytes: Uint8Array): string {
  writeFileSync(join(dir, file), bytes);
  return file;
}
const statSafe = (p: string) => {
  try {
    return statSync(p);
  } catch {
    return null;
  }
};

/** Fuzz cases run, by reader (the closing note and the README quote the totals). */
export const FUZZ_CASES: Record<string, number> = {};

const SLOW_MS = 2000;

/** Run `fn`; it must return or throw a GenlabError whose first issue names `name`; and finish in time. */
function expectCleanly(fn: () => unknown, name: string): boolean {
  const t0 = performance.now();
  try {
    fn();
    return true;
  } catch (e) {
    if (!(e instanceof GenlabError)) throw new Error(`not a GenlabError: ${(e as Error)?.stack ?? e}`);
    assert.equal(String(e.issues[0].path[0]), name, `the error names ${name}: ${e.message}`);
    assert.ok(!/\n\s+at /.test(e.message), "no stack in the message");
    return false;
  } finally {
    assert.ok(performance.now() - t0 < SLOW_MS, `took ${(performance.now() - t0).toFixed(0)} ms`);
  }
}

/** Byte mutations: flips, overwrites, a cut, inserted or appended bytes. */
const byteMutation = fc.record({
  sets: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
  cut: fc.option(fc.nat(), { nil: undefined }),
  insert: fc.option(fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 12 })), { nil: undefined }),
  tail: fc.uint8Array({ maxLength: 8 }),
});

function mutate(base: Uint8Array, m: { sets: [number, number][]; cut?: number; insert?: [number, Uint8Array]; tail: Uint8Array }): Uint8Array {
  let b = Uint8Array.from(base);
  for (const [i, v] of m.sets) if (b.length) b[i % b.length] = v;
  if (m.insert) {
    const at = m.insert[0] % (b.length + 1);
    b = Uint8Array.from([...b.subarray(0, at), ...m.insert[1], ...b.subarray(at)]);
  }
  if (m.cut !== undefined) b = b.subarray(0, m.cut % (b.length + 1));
  return m.tail.length ? Uint8Array.from([...b, ...m.tail]) : b;
}

function count(reader: string, n: number) {
  FUZZ_CASES[reader] = (FUZZ_CASES[reader] ?? 0) + n;
}

describe("fuzzing every reader", () => {
  const idx = encodeIdxUint8([3, 4, 2], Uint8Array.from({ length: 24 }, (_, i) => i * 7));
  const idx1 = encodeIdxUint8([5], Uint8Array.from([1, 2, 3, 4, 5]));

  it("IDX, raw: 3,000 mutated files", () => {
    const runs = 3000;
    fc.assert(
      fc.property(fc.oneof(fc.tuple(fc.constantFrom(idx, idx1), byteMutation).map(([b, m]) => mutate(b, m)), fc.uint8Array({ maxLength: 64 })), (bytes) => {
        let parsed: ReturnType<typeof parseIdx> | null = null;
        const ok = expectCleanly(() => (parsed = parseIdx(bytes, "x.idx", { maxBytes: 1 << 20 })), "x.idx");
        if (ok) assert.equal(parsed!.data.length, parsed!.dims.reduce((a: number, b: number) => a * b, 1));
      }),
      { seed: 9001, numRuns: runs },
    );
    count("idx", runs);
  });

  it("IDX, gzipped: 1,500 mutated streams (and the 4.7 MB bomb that inflated to 1 GB)", () => {
    const runs = 1500;
    fc.assert(
      fc.property(fc.constantFrom(idx, idx1), byteMutation, fc.boolean(), byteMutation, (raw, m1, mutateRaw, m2) => {
        const gz = mutate(gzipSync(mutateRaw ? mutate(raw, m1) : raw), m2);
        expectCleanly(() => parseIdx(gz, "x.gz", { maxBytes: 1 << 20 }), "x.gz");
      }),
      { seed: 9002, numRuns: runs },
    );
    count("idx.gz", runs);
    // a header that declares 1 image of 2×2 followed by 50 MB of zeros: refused while inflating
    const bomb = new Uint8Array(16 + 50_000_000);
    bomb.set(encodeIdxUint8([1, 2, 2], new Uint8Array(4)).subarray(0, 16));
    const gz = gzipSync(bomb, { level: 9 });
    assert.ok(gz.length < 100_000, `${gz.length} bytes compressed`);
    // the message is raised by the streaming inflate as it passes the declared 20 bytes: refused early, by
    // construction (no timing assertion: a loaded machine would make one flaky)
    assert.throws(() => parseIdx(gz, "bomb.gz"), (e: unknown) => e instanceof GenlabError && /inflates to more than the 20 bytes its IDX header declares/.test(e.message));
    // garbage after the gzip stream
    assert.throws(() => parseIdx(Uint8Array.from([...gzipSync(idx), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), "tail.gz"), /has bytes after its gzip stream/);
    // two concatenated gzip members are one stream (gzip(1) semantics): the IDX size check then decides
    assert.throws(() => parseIdx(Uint8Array.from([...gzipSync(idx), ...gzipSync(idx)]), "two.gz"), /inflates to more than the 40 bytes/);
  });

  it("IDX headers that declare zero images, 0-pixel images or more than the limit", () => {
    assert.throws(() => parseIdx(encodeIdxUint8([0, 28, 28], new Uint8Array(0)), "z.idx"), /holds no values: dims \[0, 28, 28\]/);
    assert.throws(() => parseIdx(encodeIdxUint8([10, 0, 28], new Uint8Array(0)), "z.idx"), /holds no values: dims \[10, 0, 28\]/);
    assert.throws(() => parseIdx(encodeIdxUint8([70000, 1000, 1000], new Uint8Array(0)), "big.idx"), /declares 70000000016 bytes, more than the 1073741824-byte limit/);
  });

  it(".npy: 3,000 mutated files", () => {
    const bases = [encodeNpy({ data: Float32Array.from([1, 2, 3, 4, 5, 6]), shape: [2, 3] }), encodeNpy({ data: Int32Array.from([7, 8]), shape: [2] }), encodeNpy({ data: new Float64Array(0), shape: [0, 4] })];
    const runs = 3000;
    const headerText = fc.tuple(fc.constantFrom(...bases), fc.string({ maxLength: 30 }), fc.nat()).map(([b, str, at]) => {
      const text = new TextDecoder().decode(b.subarray(10, 10 + new DataView(b.buffer).getUint16(8, true)));
      const i = at % text.length;
      const t2 = (text.slice(0, i) + str + text.slice(i + str.length)).slice(0, text.length);
      const out = Uint8Array.from(b);
      out.set(new TextEncoder().encode(t2).subarray(0, text.length), 10);
      return out;
    });
    fc.assert(
      fc.property(fc.oneof(fc.tuple(fc.constantFrom(...bases), byteMutation).map(([b, m]) => mutate(b, m)), headerText, fc.uint8Array({ maxLength: 80 })), (bytes) => {
        let a: ReturnType<typeof decodeNpy> | null = null;
        if (expectCleanly(() => (a = decodeNpy(bytes, "a.npy")), "a.npy")) assert.equal(a!.data.length, a!.shape.reduce((x: number, y: number) => x * y, 1));
      }),
      { seed: 9003, numRuns: runs },
    );
    count("npy", runs);
  });

  it("--set: 3,000 lists of pairs, for every experiment", () => {
    const keys = [...new Set(EXPERIMENTS.flatMap((e) => [...Object.keys(e.hparams), ...Object.keys(e.settings)]))];
    const value = fc.oneof(fc.string({ maxLength: 12 }), fc.double().map(String), fc.integer().map(String), fc.constantFrom("", " ", "NaN", "Infinity", "-0", "1e999", "0x10", "true", "false", "null", "add", "relu"));
    const pair = fc.oneof(fc.string({ maxLength: 20 }), fc.tuple(fc.constantFrom(...keys), value).map(([k, v]) => `${k}=${v}`), fc.tuple(fc.string({ maxLength: 8 }), value).map(([k, v]) => `${k}=${v}`));
    const runs = 3000;
    fc.assert(
      fc.property(fc.constantFrom(...EXPERIMENTS), fc.constantFrom("smoke", "quick", "full"), fc.array(pair, { maxLength: 5 }), (exp, size, set) => {
        const t0 = performance.now();
        try {
          const { hparams, settings } = resolveConfig(exp, size as "smoke", set);
          for (const k of Object.keys(hparams)) assert.ok(k in exp.hparams, `hparam ${k} is declared`);
          for (const k of Object.keys(settings)) assert.ok(k in exp.settings, `setting ${k} is declared`);
          for (const v of Object.values(hparams)) assert.ok(typeof v !== "number" || Number.isFinite(v), `finite numbers only: ${v}`);
        } catch (e) {
          if (!(e instanceof GenlabError)) throw e;
          for (const i of e.issues) assert.ok(["--set", "hparams", "settings"].includes(String(i.path[0])), `names the flag or key: ${JSON.stringify(i.path)}`);
        }
        assert.ok(performance.now() - t0 < SLOW_MS, "no hang");
      }),
      { seed: 9004, numRuns: runs },
    );
    count("--set", runs);
  });

  // A real checkpoint of a small model: params {w: [4, 8], b: [8]}, an Adam-like state, shuffling state.
  const leaf = (shape: number[], f = 0.5) => ({ shape, dtype: "float32" as const, data: Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i * f) });
  const ck = { step: 12, params: packHostTree({ w: leaf([4, 8]), b: leaf([8]) } as never), optState: packHostTree([{ mu: { w: leaf([4, 8], 0.1), b: leaf([8], 0.1) } }, { count: { shape: [], dtype: "int32", data: [12] } }] as never), data: { key: [1, 2], perm: [3, 0, 2, 1, 4, 5], offset: 2 } };
  const ckText = JSON.stringify(ck);
  const want = { params: ["params.w: [4, 8] float32", "params.b: [8] float32"], optState: ["optState[0].mu.w: [4, 8] float32", "optState[0].mu.b: [8] float32", "optState[1].count: [] int32"], totalSteps: 20, n: 6, fullBatch: false };

  it("checkpoints: 3,000 mutated files (text and structure), checked on their own and against the model", () => {
    assert.doesNotThrow(() => checkResumeMatches(parseCheckpoint(ckText, "ck.json"), "ck.json", want), "the unmutated checkpoint passes");
    const paths: (string | number)[][] = [];
    const walk = (v: unknown, p: (string | number)[]) => {
      paths.push(p);
      if (Array.isArray(v)) v.forEach((c, i) => walk(c, [...p, i]));
      else if (v && typeof v === "object") for (const [k, c] of Object.entries(v)) walk(c, [...p, k]);
    };
    walk(ck, []);
    const structural = fc.tuple(fc.constantFrom(...paths), fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined), fc.constantFrom(-1, 1.5, 2 ** 53, "AAAA", [8, 4], [], null, "float64", 1e308))).map(([path, v]) => {
      const copy = JSON.parse(ckText);
      if (path.length === 0) return JSON.stringify(v ?? null);
      let o = copy;
      for (const k of path.slice(0, -1)) o = o[k];
      if (v === undefined) delete o[path.at(-1)!];
      else o[path.at(-1)!] = v;
      return JSON.stringify(copy);
    });
    const textual = byteMutation.map((m) => new TextDecoder().decode(mutate(new TextEncoder().encode(ckText), m)));
    const runs = 3000;
    fc.assert(
      fc.property(fc.oneof(structural, textual, fc.string({ maxLength: 40 })), (text) => {
        let parsed: ReturnType<typeof parseCheckpoint> | null = null;
        const ok = expectCleanly(() => checkResumeMatches((parsed = parseCheckpoint(text, "ck.json")), "ck.json", want), "ck.json");
        if (!ok) return;
        // what passes is safe to use: every leaf decodes to exactly its shape's number of values
        const leaves = (t: unknown): { shape: number[]; data: number[] }[] => (Array.isArray(t) ? t.flatMap(leaves) : t && typeof t === "object" && "data" in t ? [t as { shape: number[]; data: number[] }] : t && typeof t === "object" ? Object.values(t).flatMap(leaves) : []);
        for (const k of ["params", "optState"] as const)
          for (const l of leaves(unpackHostTree(parsed![k]))) assert.equal(l.data.length, l.shape.reduce((a, b) => a * b, 1), `a ${k} leaf of shape [${l.shape}]`);
      }),
      { seed: 9005, numRuns: runs },
    );
    count("checkpoint", runs);
  });

  it("run stores: 400 damaged SQLite files, opened read-only and read as the CLI does", () => {
    const dir = mkdtempSync(join(tmpdir(), "genlab-fuzz-"));
    try {
      const good = join(dir, "good.db");
      const s = new RunStore(good);
      for (let i = 0; i < 20; i++) {
        s.insertRun({ id: `run-${i}`, experiment: "exp", paper: 1, size: "smoke", seed: i, hparams_hash: "h", hparams: `{"i":${i}}`, settings: "{}", started_at: `2026-12-01T00:00:${String(i).padStart(2, "0")}Z`, dir: `/tmp/run-${i}`, genlab_version: "0", jax_version: "0", device: "wasm" });
        for (let x = 0; x < 30; x++) s.appendMetrics(`run-${i}`, { phase: "main", axis: "step", x, values: { loss: 1 / (x + 1), acc: x / 30 } });
        s.finishRun(`run-${i}`, { status: "finished", verdict: "PASS", seconds: 1, summary: JSON.stringify({ measured: { a: i } }) });
      }
      s.close(); // checkpoints the WAL into the file
      const bytes = new Uint8Array(readFileSync(good));
      const runs = 400;
      let i = 0;
      const pageMutation = fc.record({
        // overwrite bytes inside random pages (4 KiB), sometimes the header page
        sets: fc.array(fc.tuple(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 40 }),
        cut: fc.option(fc.nat({ max: bytes.length }), { nil: undefined }),
        insert: fc.constant(undefined),
        tail: fc.uint8Array({ maxLength: 4 }),
      });
      fc.assert(
        fc.property(pageMutation, (m) => {
          const path = join(dir, `m${i++}.db`);
          writeFileSync(path, mutate(bytes, m));
          expectCleanly(() => {
            const st = new RunStore(path, { readonly: true });
            try {
              for (const r of st.listRuns()) {
                st.getRun(r.id);
                st.metricRows(r.id);
              }
              st.finishedSeeds("exp", "smoke");
            } finally {
              st.close();
            }
          }, path);
          rmSync(path, { force: true });
        }),
        { seed: 9006, numRuns: runs },
      );
      count("store", runs);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("resume on 60 damaged checkpoints of a real interrupted run: a GenlabError naming the file and an untouched folder and store, or a correct finish", async () => {
    const out = mkdtempSync(join(tmpdir(), "genlab-fuzz-resume-"));
    try {
      const killed = spawnSync(process.execPath, ["--import", "tsx", resolve(import.meta.dirname, "util/faultProbe.ts"), "run", out], { env: { ...process.env, GENLAB_FAULT: "checkpoint:8" }, encoding: "utf8" });
      assert.equal(killed.signal, "SIGKILL", killed.stderr);
      const id = readdirSync(out).find((d) => d.startsWith("fault-probe-"))!;
      const ckPath = join(out, id, "checkpoint.json");
      // snapshot every file (the folder and the store), to compare and to restore after each case
      const files = (d: string): string[] => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? files(join(d, f)) : [join(d, f)]));
      {
        const st = new RunStore(join(out, "genlab.db")); // marks the killed run interrupted, checkpoints the WAL
        st.close();
      }
      const snapshot = new Map(files(out).map((f) => [f, readFileSync(f)]));
      const good = readFileSync(ckPath, "utf8");
      const parsed = JSON.parse(good);
      const leafPaths = ["params.layers.0.w", "params.layers.1.b", "optState"].map((p) => p.split("."));
      const cases = fc.sample(
        fc.oneof(
          byteMutation.map((m) => new TextDecoder().decode(mutate(new TextEncoder().encode(good), m))),
          fc.tuple(fc.constantFrom(...leafPaths), fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom({ shape: [8, 4], dtype: "float32", b64: "" }))).map(([path, v]) => {
            const c = JSON.parse(good);
            let o = c;
            for (const k of path.slice(0, -1)) o = o[k];
            o[path.at(-1)!] = v;
            return JSON.stringify(c);
          }),
          fc.constantFrom(JSON.stringify({ ...parsed, step: parsed.step + 1000 }), JSON.stringify({ ...parsed, data: { ...parsed.data, perm: null } })),
        ),
        { seed: 9007, numRuns: 60 },
      );
      let finishedCases = 0;
      for (const text of cases) {
        writeFileSync(ckPath, text);
        const before = new Map(files(out).map((f) => [f, readFileSync(f)]));
        try {
          const s = await resumeRun([faultProbe], id, { outDir: out, quiet: true });
          assert.equal(s.status, "finished");
          finishedCases++;
        } catch (e) {
          if (!(e instanceof GenlabError)) throw e;
          assert.equal(e.issues[0].path[0], ckPath, e.message);
          for (const [f, b] of before) if (!f.includes("genlab.db")) assert.ok(Buffer.compare(readFileSync(f), b) === 0, `${f} untouched`);
          const st = new RunStore(join(out, "genlab.db"), { readonly: true });
          try {
            assert.equal(st.getRun(id)?.status, "interrupted", "still resumable");
          } finally {
            st.close();
          }
        }
        // restore the interrupted run exactly
        for (const f of files(out)) if (!snapshot.has(f)) rmSync(f, { force: true });
        for (const [f, b] of snapshot) writeFileSync(f, b);
      }
      count("resume", cases.length);
      assert.ok(finishedCases < cases.length, "most damaged checkpoints are refused");
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("CSV: 2,000 mutated tables (quotes, ragged rows, non-numbers, gzipped), each a table or one error naming the file", () => {
    const base = "a,b,label\n0.5,1e-3,1\n-2,3,0\n\"4\",5,2\n";
    const runs = 2000;
    fc.assert(
      fc.property(fc.oneof(fc.tuple(fc.constant(new TextEncoder().encode(base)), byteMutation).map(([b, m]) => mutate(b, m)), fc.string({ maxLength: 60 }).map((t) => new TextEncoder().encode(t))), fc.boolean(), (bytes, gz) => {
        const text = new TextDecoder().decode(bytes);
        let t: ReturnType<typeof parseNumericCsv> | null = null;
        if (expectCleanly(() => (t = parseNumericCsv(text, "t.csv")), "t.csv")) {
          assert.equal(t!.values.length, t!.rows * t!.cols);
          assert.ok(t!.values.every((v: number) => Number.isFinite(v)), "every parsed cell is finite");
        }
        if (gz) expectCleanly(() => gunzipLimited(mutate(gzipSync(bytes), { sets: [[bytes.length % 7, 0]], tail: new Uint8Array(0) }), "t.csv.gz", 1 << 16), "t.csv.gz");
      }),
      { seed: 9007, numRuns: runs },
    );
    count("csv", runs);
  });

  it(".npz: 1,000 mutated archives (stored and deflated), and a zip bomb refused by its declared size", () => {
    const x = encodeNpy({ data: Float32Array.from([1, 2, 3, 4]), shape: [2, 2] });
    const y = encodeNpy({ data: Int32Array.from([0, 1]), shape: [2] });
    const bases = [zipSync({ "x.npy": x, "y.npy": y }, { level: 0 }), zipSync({ "x.npy": x, "y.npy": y }, { level: 6 })];
    const runs = 1000;
    fc.assert(
      fc.property(fc.constantFrom(...bases), byteMutation, (b, m) => {
        let a: ReturnType<typeof parseNpz> | null = null;
        if (expectCleanly(() => (a = parseNpz(mutate(b, m), "d.npz")), "d.npz")) for (const v of Object.values(a!)) assert.equal(v.data.length, v.shape.reduce((p: number, q: number) => p * q, 1));
      }),
      { seed: 9008, numRuns: runs },
    );
    count("npz", runs);
    // a member that declares 2 GiB (local header offset 22, central directory entry offset 24): refused before inflating
    const bomb = zipSync({ "x.npy": x }, { level: 0 });
    const dv = new DataView(bomb.buffer);
    dv.setUint32(22, 0x7fffffff, true);
    const cdAt = bomb.length - 22 - (46 + 5);
    assert.equal(dv.getUint32(cdAt, true), 0x02014b50, "the central directory entry");
    dv.setUint32(cdAt + 24, 0x7fffffff, true);
    // refused by the declared size, before inflating (the message names the limit the declaration passes)
    assert.throws(() => parseNpz(bomb, "bomb.npz"), /inflates past the 1073741824-byte limit/);
  });

  it("user data files end to end: 300 mutated .npz / CSV / .npy files through loadUserData, each loads or gives one error naming a file or flag", () => {
    const dir = mkdtempSync(join(tmpdir(), "genlab-fuzz-data-"));
    try {
      const x = encodeNpy({ data: Uint8Array.from({ length: 4 * 16 }, (_, i) => i), shape: [4, 4, 4] });
      const y = encodeNpy({ data: Int32Array.from([0, 1, 1, 0]), shape: [4] });
      const bases: [string, Uint8Array][] = [
        ["d.npz", zipSync({ "x.npy": x, "y.npy": y })],
        ["d.csv", new TextEncoder().encode("f1,f2,label\n1,2,0\n3,4,1\n5,6,1\n")],
        ["d.npy", x],
      ];
      writeFileSync(join(dir, "labels.npy"), y);
      const runs = 300;
      let loaded = 0;
      fc.assert(
        fc.property(fc.constantFrom(...bases), byteMutation, ([name, b], m) => {
          const path = join(dir, name);
          writeFileSync(path, mutate(b, m));
          const t0 = performance.now();
          try {
            const d = loadUserData(path, { labels: name === "d.npy" ? join(dir, "labels.npy") : undefined });
            assert.equal(d.data.x.length, d.data.xShape[0] * d.data.xShape[1]);
            assert.ok(Array.from(d.data.x).every(Number.isFinite), "loaded features are finite");
            loaded++;
          } catch (e) {
            if (!(e instanceof GenlabError)) throw new Error(`not a GenlabError: ${(e as Error)?.stack ?? e}`);
            const where = String(e.issues[0].path[0]);
            assert.ok(where.startsWith(dir) || where.startsWith("--"), `names a file or flag: ${e.message}`);
          }
          assert.ok(performance.now() - t0 < SLOW_MS, `took ${(performance.now() - t0).toFixed(0)} ms`);
        }),
        { seed: 9009, numRuns: runs },
      );
      assert.ok(loaded > 0, "some mutations still load");
      count("user-data", runs);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the CSV reader, as a property: 1,000 random numeric tables written with and without a header, quoting, a BOM, CRLF — read back exactly (same rows, same order)", () => {
    const name = fc.stringMatching(/^[a-z_]([a-z0-9_ ]{0,6}[a-z0-9_])?$/).filter((n) => firstRowKind([n]) === "header");
    const cell = fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => (Object.is(v, -0) ? 0 : v));
    const table = fc.integer({ min: 1, max: 6 }).chain((cols) =>
      fc.record({
        header: fc.option(fc.uniqueArray(name, { minLength: cols, maxLength: cols }), { nil: null }),
        rows: fc.array(fc.array(cell, { minLength: cols, maxLength: cols }), { minLength: 1, maxLength: 20 }),
        quote: fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
        bom: fc.boolean(),
        crlf: fc.boolean(),
        finalNewline: fc.boolean(),
        delimiter: fc.constantFrom(",", ";", "\t"),
        told: fc.boolean(),
      }),
    );
    const runs = 1000;
    fc.assert(
      fc.property(table, (t) => {
        let k = 0;
        const q = (s: string) => (t.quote[k++ % t.quote.length] ? `"${s}"` : s);
        const lines = [...(t.header ? [t.header.map(q).join(t.delimiter)] : []), ...t.rows.map((r) => r.map((v) => q(String(v))).join(t.delimiter))];
        const text = (t.bom ? "\ufeff" : "") + lines.join(t.crlf ? "\r\n" : "\n") + (t.finalNewline ? "\n" : "");
        const got = parseNumericCsv(text, "t.csv", { delimiter: t.delimiter, header: t.told ? t.header !== null : "auto" });
        assert.deepEqual(got.header, t.header);
        assert.equal(got.rows, t.rows.length, "no row dropped or added");
        assert.deepEqual(Array.from(got.values), t.rows.flat(), "same values, same order");
      }),
      { seed: 9010, numRuns: runs },
    );
    count("csv-roundtrip", runs);
  });

  describe("every reader of the user-data commands (scores, issues, prune, measure)", () => {
    const side = mkdtempSync(join(tmpdir(), "genlab-fuzz-readers-"));
    const x = encodeNpy({ data: Uint8Array.from({ length: 4 * 16 }, (_, i) => i * 3), shape: [4, 4, 4] });
    const y = encodeNpy({ data: Int32Array.from([0, 1, 1, 0]), shape: [4] });
    writeFileSync(join(side, "labels.npy"), y);
    writeFileSync(join(side, "x.npy"), x);
    writeFileSync(join(side, "lo.npy"), encodeNpy({ data: Float32Array.from({ length: 2 * 3 * 3 }, (_, i) => Math.cos(i)), shape: [2, 3, 3] }));
    const csv = "f1,f2,label\n1,2,0\n3,4,1\n5,6,1\n";
    const w = (shape: number[]) => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i + 1)) });
    const bases: Record<string, Uint8Array> = {
      csv: new TextEncoder().encode(csv),
      "csv.gz": gzipSync(new TextEncoder().encode(csv)),
      tsv: new TextEncoder().encode(csv.replace(/,/g, "\t")),
      npz: zipSync({ "x.npy": x, "y.npy": y }),
      "npy+labels": x,
      "labels.txt": new TextEncoder().encode("0\n1\n1\n0\n"),
      "labels.npy": y,
      idx: encodeIdxUint8([4, 4, 4], Uint8Array.from({ length: 64 }, (_, i) => i)),
      "prune-scores": new TextEncoder().encode("index,label,el2n,aum\n0,1,0.5,0.1\n1,0,0.2,0.3\n2,1,0.9,-1\n"),
      "logged-dynamics": encodeNpy({ data: Float32Array.from({ length: 2 * 4 * 3 }, (_, i) => Math.sin(i)), shape: [2, 4, 3] }),
      "dynamics-index": encodeNpy({ data: Int32Array.from([0, 1, 2, 3, 2, 1]), shape: [2, 3] }),
      "pred-probs": encodeNpy({ data: Float32Array.from([0.9, 0.1, 0.2, 0.8, 0.5, 0.5, 1, 0]), shape: [4, 2] }),
      "calibrate-logits": encodeNpy({ data: Float32Array.from([2, -1, 0.5, 0.3, -2, 1, 0, 0]), shape: [4, 2] }),
      safetensors: encodeSafetensors({ "0.weight": w([3, 4]), "0.bias": w([3]), "2.weight": w([2, 3]), "2.bias": w([2]) }),
      onnx: Uint8Array.from([0x08, 0x07, 0x12, 0x05, 0x67, 0x65, 0x6e, 0x6c, 0x61]),
    };
    after(() => rmSync(side, { recursive: true, force: true }));

    it("each: 200 mutated files in this process — what reads is shape-consistent, what does not is a GenlabError naming the file or a flag, in time", () => {
      for (const [ri, r] of READERS.entries()) {
        assert.ok(r.name in bases, `a base file for ${r.name}`);
        // every base reads, but the ONNX one (a valid ONNX file needs torch to write: test/measureCli.test.ts has those)
        if (r.name !== "onnx") assert.doesNotThrow(() => r.read(join(side, writeBase(side, r.file, bases[r.name])), side), `the base ${r.name} reads`);
        const runs = 200;
        fc.assert(
          fc.property(byteMutation, (m) => {
            const path = join(side, r.file);
            writeFileSync(path, mutate(bases[r.name], m));
            const t0 = performance.now();
            try {
              const got = r.read(path, side);
              assert.ok(got.rows >= 1 && got.cols >= 1, `${r.name}: a usable shape`);
            } catch (e) {
              if (!(e instanceof GenlabError)) throw new Error(`${r.name}: not a GenlabError: ${(e as Error)?.stack ?? e}`);
              const where = String(e.issues[0].path[0]);
              assert.ok(where.startsWith(side) || where.startsWith("--"), `${r.name}: names a file or flag: ${e.message}`);
              assert.ok(!/\n\s+at /.test(e.message), "no stack in the message");
            }
            assert.ok(performance.now() - t0 < SLOW_MS, `${r.name}: took ${(performance.now() - t0).toFixed(0)} ms`);
          }),
          { seed: 9100 + ri, numRuns: runs },
        );
        count(`reader:${r.name}`, runs);
      }
    });

    it("each, in a child process: a FIFO, /dev/zero, /dev/urandom, a folder, sizes declared past every limit and 30 mutated files — none hangs (10 s a case), none grows past 1.5 GB", () => {
      const dir = mkdtempSync(join(tmpdir(), "genlab-fuzz-child-"));
      try {
        spawnSync("mkfifo", [join(dir, "fifo")]);
        mkdirSync(join(dir, "folder"));
        const huge = (shape: string) => {
          const h = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape}), }`.padEnd(118) + "\n";
          return Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, h.length, 0, ...new TextEncoder().encode(h), 0, 0, 0, 0]);
        };
        const specials: [string, Uint8Array][] = [
          ["huge.npy", huge("100000, 100000")],
          ["wide.csv", new TextEncoder().encode("1,".repeat(200_000) + "0\n" + "1,".repeat(200_000) + "1\n")],
          ["biglabel.csv", new TextEncoder().encode("a,label\n1,0\n2,2e9\n3,1e300\n")],
          ["hugeidx-idx3-ubyte", Uint8Array.from([0, 0, 8, 3, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0x7f, 0xff, 0, 0, 0x7f, 0xff, 1, 2, 3])],
        ];
        for (const [n, b] of specials) writeFileSync(join(dir, n), b);
        const cases: { reader: string; path: string; side: string }[] = [];
        const rng = fc.sample(byteMutation, { seed: 9200, numRuns: 30 * READERS.length });
        for (const [ri, r] of READERS.entries()) {
          for (const p of [join(dir, "fifo"), "/dev/zero", "/dev/urandom", join(dir, "folder"), ...specials.map(([n]) => join(dir, n))]) cases.push({ reader: r.name, path: p, side });
          for (let k = 0; k < 30; k++) {
            const p = join(dir, `${ri}-${k}-${r.file}`);
            writeFileSync(p, mutate(bases[r.name], rng[ri * 30 + k]));
            cases.push({ reader: r.name, path: p, side });
          }
        }
        const child = spawnSync(process.execPath, ["--import", "tsx", resolve(import.meta.dirname, "util/fuzzChild.ts"), JSON.stringify(cases)], { encoding: "utf8", timeout: 240_000, maxBuffer: 1 << 26, env: { ...process.env, NODE_OPTIONS: "" } });
        const lines = child.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as { path: string; reader: string; outcome: string; where: string; ms: number; rssMB: number });
        const next = cases[lines.length];
        assert.equal(child.status, 0, `the child ended (${child.signal ?? child.status}) at case ${lines.length}: ${next ? `${next.reader} ${next.path}` : ""} ${child.stderr.slice(-500)}`);
        assert.equal(lines.length, cases.length, "every case reported");
        let prev = 0;
        for (const l of lines) {
          assert.doesNotMatch(l.outcome, /^crash/, `${l.reader} ${l.path}: ${l.outcome}`);
          if (l.outcome === "error") assert.ok(l.where.startsWith("/") || l.where.startsWith("--"), `${l.reader} ${l.path}: the error names a file or flag (${l.where})`);
          assert.ok(l.ms < 10_000, `${l.reader} ${l.path}: ${l.ms} ms`);
          assert.ok(l.rssMB < 1536, `${l.reader} ${l.path}: peak memory ${l.rssMB} MB (was ${prev} MB before it)`);
          prev = l.rssMB;
        }
        count("child-readers", cases.length);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("end to end: 80 mutated score files through genlab prune and 30 mutated CSVs through genlab scores — an error leaves no output file", async () => {
      const dir = mkdtempSync(join(tmpdir(), "genlab-fuzz-e2e-"));
      try {
        const prune = fc.sample(byteMutation, { seed: 9300, numRuns: 80 });
        for (const [k, m] of prune.entries()) {
          const input = join(dir, `s${k}.csv`);
          const out = join(dir, `k${k}.npy`);
          writeFileSync(input, mutate(bases["prune-scores"], m));
          const r = await genlabHere(["prune", "--scores", input, "--keep", "0.5", "--out", out]);
          if (r.code === 0) assert.equal(decodeNpy(new Uint8Array(readFileSync(out))).shape.length, 1, "kept indices as a 1-D array");
          else {
            assert.equal(r.code, 1, r.stderr);
            assert.match(r.stderr, /^✖ /, "a one-line user error");
            assert.ok(!statSafe(out), `prune left ${out} after: ${r.stderr}`);
          }
        }
        count("e2e-prune", prune.length);
        const scores = fc.sample(byteMutation, { seed: 9301, numRuns: 30 });
        for (const [k, m] of scores.entries()) {
          const input = join(dir, `d${k}.csv`);
          const out = join(dir, `o${k}.csv`);
          writeFileSync(input, mutate(new TextEncoder().encode("f1,f2,label\n" + Array.from({ length: 8 }, (_, i) => `${i},${(i * 3) % 5},${i % 2}`).join("\n") + "\n"), m));
          const r = await genlabHere(["scores", "--data", input, "--model", "linear", "--epochs", "1", "--batch-size", "2", "--score-epoch", "1", "--scores", "el2n", "--out", out]);
          if (r.code !== 0) {
            assert.equal(r.code, 1, r.stderr);
            assert.ok(!statSafe(out), `scores left ${out} after: ${r.stderr}`);
          }
        }
        count("e2e-scores", scores.length);
        assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith(".tmp")), [], "no temporary file left");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  it("in all: thousands of fuzz cases", () => {
    const total = Object.values(FUZZ_CASES).reduce((a, b) => a + b, 0);
    process.stderr.write(`# fuzz cases: ${JSON.stringify(FUZZ_CASES)} = ${total}\n`);
    assert.ok(total >= 10_000, `${total} cases`);
  });
});
