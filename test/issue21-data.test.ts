// Issue 21: what hostile probing found in the user-data commands (scores, prune, issues, measure). Each case
// failed on the code before the fix (run against 5e80c9d, 2026-12-06); most fail before any training, so
// they run in this process (genlabHere); the exit status a shell sees and Ctrl-C run as real processes.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { zipSync } from "fflate";
import { parseNumericCsv } from "../src/data/csv.ts";
import { decodeNpy, encodeNpy, type NpyArray } from "../src/data/npy.ts";
import { loadUserData } from "../src/io/userData.ts";
import { encodeSafetensors } from "../src/io/modelFiles.ts";
import { GenlabError } from "../src/core/errors.ts";
import { genlabHere } from "./util/cliHere.ts";

const BIN = resolve(import.meta.dirname, "../bin/genlab.js");
const npz = (arrays: Record<string, NpyArray>) => zipSync(Object.fromEntries(Object.entries(arrays).map(([k, v]) => [`${k}.npy`, encodeNpy(v)])));

function tmp(): { dir: string; f: (name: string, bytes: Uint8Array | string) => string } {
  const dir = mkdtempSync(join(tmpdir(), "genlab-i21-"));
  return {
    dir,
    f: (name, bytes) => {
      const p = join(dir, name);
      writeFileSync(p, bytes);
      return p;
    },
  };
}

/** A small two-class CSV with a header. */
const CSV = "a,b,label\n" + Array.from({ length: 12 }, (_, i) => `${i % 5},${(i * 7) % 3},${i % 2}`).join("\n") + "\n";
const TRAIN = ["--model", "linear", "--epochs", "1", "--batch-size", "4", "--score-epoch", "1"];

/** The command failed as a user error: one ✖ line (or a few), exit 1, nothing on stdout. */
function userFailure(r: { code: number; stdout: string; stderr: string }, pattern: RegExp, what: string) {
  assert.equal(r.code, 1, `${what}: exit 1, got ${r.code}: ${r.stderr}`);
  assert.match(r.stderr, /^✖ /, what);
  assert.match(r.stderr, pattern, what);
  assert.doesNotMatch(r.stderr, /internal error/, what);
}

describe("issue 21: an output never overwrites an input", () => {
  it("scores, issues, prune and measure refuse an --out that is (after symlinks and hard links) an input, before any work", async () => {
    const { dir, f } = tmp();
    const data = f("d.csv", CSV);
    const before = readFileSync(data, "utf8");
    symlinkSync(data, join(dir, "link.csv"));
    linkSync(data, join(dir, "hard.csv"));
    for (const out of [data, join(dir, "link.csv"), join(dir, "hard.csv"), join(dir, ".", "d.csv")]) {
      userFailure(await genlabHere(["scores", "--data", data, ...TRAIN, "--out", out]), /is the input|an input/, `scores --out ${out}`);
      userFailure(await genlabHere(["issues", "--data", data, ...TRAIN, "--out", out]), /is the input|an input/, `issues --out ${out}`);
    }
    const labels = f("y.csv", "0\n1\n0\n1\n");
    const xnpy = f("x.npy", encodeNpy({ data: Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), shape: [4, 2] }));
    userFailure(await genlabHere(["scores", "--data", xnpy, "--labels", labels, ...TRAIN, "--out", join(dir, "y.csv")]), /input/, "scores --out = --labels");
    const s2 = f("scores.npy", "not an npy");
    userFailure(await genlabHere(["prune", "--scores", s2, "--keep", "0.5", "--out", s2]), /input/, "prune --out = --scores");
    userFailure(await genlabHere(["measure", "--model-file", f("m.safetensors", "x"), "--data", data, "--out", data]), /input/, "measure --out = --data");
    assert.equal(readFileSync(data, "utf8"), before, "the input is untouched");
  });
});

describe("issue 21: CSV header detection never eats a data row", () => {
  it("a first row of numbers and NaN is data: the usual error at line 1", async () => {
    const { f } = tmp();
    const h = f("h.csv", "nan,1,0\n1,2,1\n3,4,0\n5,6,1\n");
    userFailure(await genlabHere(["scores", "--data", h, ...TRAIN, "--out", h + ".out.csv"]), /line 1, column 1: "nan" is not a number/, "nan first row");
  });
  it("a first row that is neither clearly a header nor data is refused, naming --header / --no-header", async () => {
    const { f } = tmp();
    const m = f("m.csv", "0,1,label\n1,2,1\n3,4,0\n5,6,1\n");
    userFailure(await genlabHere(["scores", "--data", m, ...TRAIN, "--out", m + ".out.csv"]), /--header.*--no-header|--no-header.*--header/, "mixed first row");
    // and --header reads it as the header
    const d = loadUserData(m, { header: true });
    assert.equal(d.data.xShape[0], 3);
    assert.deepEqual(d.featureNames, ["0", "1"]);
    // a clear header is still detected, and clear data still read in full
    assert.equal(parseNumericCsv("a,b\n1,2\n", "t").header?.join(), "a,b");
    assert.equal(parseNumericCsv("1,2\n3,4\n", "t").rows, 2);
    assert.throws(() => parseNumericCsv("x,1\n1,2\n", "t.csv"), (e: unknown) => e instanceof GenlabError && /--header/.test(e.message));
  });
});

describe("issue 21: prune checks its index column and its file", () => {
  it("−1, 2.5, 1e12 and duplicate indices are refused with the row", async () => {
    const { dir, f } = tmp();
    for (const [bad, pat] of [["-1", /row 2.*-1/], ["2.5", /row 2.*2\.5/], ["1e12", /row 2.*1e\+?12|row 2.*1000000000000/], ["0", /row 2.*duplicate|duplicate.*row 2/]] as const) {
      const s = f(`s${bad}.csv`, `index,label,el2n\n0,1,0.5\n${bad},0,0.2\n2,1,0.9\n`);
      const out = join(dir, `k${bad}.npy`);
      userFailure(await genlabHere(["prune", "--scores", s, "--keep", "1", "--out", out]), pat, `index ${bad}`);
      assert.ok(!existsSync(out), "no output");
    }
  });
  it("a device, a folder or a FIFO as --scores is a one-line error at once, not a hang or 7 GB", async () => {
    const { dir } = tmp();
    const fifo = join(dir, "fifo.csv");
    spawnSync("mkfifo", [fifo]);
    for (const p of ["/dev/zero", "/dev/urandom", dir, fifo]) {
      const t0 = performance.now();
      userFailure(await genlabHere(["prune", "--scores", p, "--keep", "0.5", "--out", join(dir, "k.npy")]), /regular file|not a file|folder/, `prune --scores ${p}`);
      assert.ok(performance.now() - t0 < 2000, `${p}: at once`);
    }
  });
});

describe("issue 21: bounds before allocation", () => {
  it("labels 10⁶, 2·10⁹ and 1e300, a 65536³ MLP and x of shape (5, 0) are one-line errors", async () => {
    const { f } = tmp();
    const x = { data: Float32Array.from({ length: 10 }, (_, i) => i), shape: [5, 2] };
    for (const big of [1e6, 2e9]) {
      const p = f(`big${big}.npz`, npz({ x, y: { data: Float64Array.from([0, 1, big, 1, 0]), shape: [5] } }));
      userFailure(await genlabHere(["scores", "--data", p, ...TRAIN, "--out", p + ".csv"]), /class|label/, `label ${big}`);
    }
    const c = f("e300.csv", "a,label\n1,0\n2,1e300\n3,1\n");
    userFailure(await genlabHere(["scores", "--data", c, ...TRAIN, "--out", c + ".out.csv"]), /1e\+300|class/, "label 1e300");
    const ok = f("ok.csv", CSV);
    userFailure(await genlabHere(["scores", "--data", ok, "--model", "mlp:65536,65536,65536", "--epochs", "1", "--batch-size", "4", "--out", ok + ".out.csv"]), /parameters/, "huge MLP");
    const z = f("z.npz", npz({ x: { data: new Float32Array(0), shape: [5, 0] }, y: { data: Int32Array.from([0, 1, 0, 1, 0]), shape: [5] } }));
    userFailure(await genlabHere(["scores", "--data", z, ...TRAIN, "--out", z + ".csv"]), /feature/, "x (5, 0)");
  });
});

describe("issue 21: outputs are checked before the work and no temporary file is left", () => {
  it("measure --out <folder>.csv, a read-only folder or /proc fail before any measure; nothing left behind", async () => {
    const { dir, f } = tmp();
    mkdirSync(join(dir, "existing.csv"));
    const data = f("d.csv", CSV);
    const model = f("m.safetensors", "not a model");
    for (const out of [join(dir, "existing.csv"), "/proc/genlab-out.csv"]) {
      const r = await genlabHere(["measure", "--model-file", model, "--data", data, "--out", out]);
      userFailure(r, /--out/, `measure --out ${out}`);
      assert.doesNotMatch(r.stderr, /safetensors/, "the output is checked before the model is read");
    }
    assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith(".tmp")), [], "no temporary file");
    if (process.getuid?.() !== 0) {
      const ro = join(dir, "ro");
      mkdirSync(ro);
      chmodSync(ro, 0o555);
      userFailure(await genlabHere(["scores", "--data", data, ...TRAIN, "--out", join(ro, "s.csv")]), /--out/, "read-only folder");
    }
  });
});

describe("issue 21: odd but legal input", () => {
  it("the classes inferred are said, rare labels named, --classes fixes the count", async () => {
    const { f } = tmp();
    const p = f("five.csv", "a,label\n" + Array.from({ length: 12 }, (_, i) => `${i},${i === 3 ? 5 : i % 2}`).join("\n") + "\n");
    const r = await genlabHere(["scores", "--data", p, ...TRAIN, "--scores", "el2n", "--score-epoch", "1", "--out", p + ".out.csv"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /6 classes/);
    assert.match(r.stdout, /inferred/);
    assert.match(r.stdout, /label 5: 1 example/);
    const k = await genlabHere(["scores", "--data", p, ...TRAIN, "--scores", "el2n", "--score-epoch", "1", "--classes", "2", "--out", p + ".out2.csv"]);
    userFailure(k, /label 5 at row 3 is outside 0..1/, "--classes 2");
  });
  it("all labels equal, 0 rows and a scalar .npy give clear messages", async () => {
    const { f } = tmp();
    const x = { data: Float32Array.from({ length: 10 }, (_, i) => i), shape: [5, 2] };
    const same = f("same.npz", npz({ x, y: { data: Int32Array.from([1, 1, 1, 1, 1]), shape: [5] } }));
    userFailure(await genlabHere(["scores", "--data", same, ...TRAIN, "--out", same + ".csv"]), /every label is 1|only one class|single class \(1\)/, "all labels 1");
    const zero = f("zero.npz", npz({ x: { data: new Float32Array(0), shape: [0, 2] }, y: { data: new Int32Array(0), shape: [0] } }));
    const r0 = await genlabHere(["scores", "--data", zero, ...TRAIN, "--out", zero + ".csv"]);
    userFailure(r0, /no examples/, "0 rows");
    const scalar = f("scalar.npy", encodeNpy({ data: Float32Array.from([3]), shape: [] }));
    const labels = f("l.txt", "0\n1\n");
    const rs = await genlabHere(["scores", "--data", scalar, "--labels", labels, ...TRAIN, "--out", scalar + ".csv"]);
    userFailure(rs, /shape \[\]|scalar|\[n, d\]/, "scalar");
    assert.doesNotMatch(rs.stderr, /undefined/);
  });
  it("boolean features are not divided by 255", () => {
    const { f } = tmp();
    const boolNpy = encodeNpy({ data: Uint8Array.from([1, 0, 0, 1, 1, 1, 0, 0]), shape: [4, 2] });
    // turn the dtype into |b1 (same length: '|u1' → '|b1')
    const text = new TextDecoder("latin1").decode(boolNpy).replace("'|u1'", "'|b1'");
    const bytes = Uint8Array.from(text, (ch) => ch.charCodeAt(0));
    assert.equal(decodeNpy(bytes).data[0], 1);
    const p = f("b.npy", bytes);
    const y = f("by.txt", "0\n1\n0\n1\n");
    const d = loadUserData(p, { labels: y });
    assert.doesNotMatch(d.normalization, /255/);
  });
  it("measure takes data where only one class occurs: it trains nothing, so it measures what it can", async () => {
    const { f } = tmp();
    const w = (shape: number[]) => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i + 1)) });
    const model = f("m.safetensors", encodeSafetensors({ "0.weight": w([4, 3]), "0.bias": w([4]), "2.weight": w([2, 4]), "2.bias": w([2]) }));
    const data = f("one.csv", "a,b,c,label\n" + Array.from({ length: 40 }, (_, i) => `${Math.sin(i)},${Math.cos(i)},${i % 3},0`).join("\n") + "\n");
    // the result read from --out (this process's stdout also carries the test runner's own messages)
    const r = await genlabHere(["measure", "--model-file", model, "--data", data, "--subset", "20", "--out", data + ".json"]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(readFileSync(data + ".json", "utf8")) as { measures: { id: string; value: number | null }[]; not_measured: unknown[] };
    assert.ok(j.measures.length > 0, "some measures");
    for (const m of j.measures) assert.ok(m.value === null || Number.isFinite(m.value), `${m.id}: a number or said not measured`);
  });
  it("--delimiter takes one character that is not a quote or a line break", async () => {
    const { f } = tmp();
    const p = f("d.csv", CSV);
    for (const bad of ["ab", "", '"', "\n", "\r"]) userFailure(await genlabHere(["scores", "--data", p, ...TRAIN, "--delimiter", bad, "--out", p + ".o.csv"]), /--delimiter/, `--delimiter ${JSON.stringify(bad)}`);
  });
});

describe("issue 21: Ctrl-C", () => {
  it("scores stopped by SIGINT exits 130 and writes nothing", async () => {
    const { dir, f } = tmp();
    const data = f("d.csv", "a,b,label\n" + Array.from({ length: 400 }, (_, i) => `${Math.sin(i)},${Math.cos(i)},${i % 2}`).join("\n") + "\n");
    const out = join(dir, "s.csv");
    const child = spawn(process.execPath, [BIN, "scores", "--data", data, "--model", "mlp:16", "--epochs", "2000", "--batch-size", "8", "--out", out], { env: { ...process.env, FORCE_COLOR: "0" } });
    let stderr = "";
    const code = await new Promise<number | null>((res) => {
      let sent = false;
      child.stderr.on("data", (b) => {
        stderr += b;
        if (!sent && /ETA/.test(stderr)) {
          sent = true;
          child.kill("SIGINT");
        }
      });
      child.on("exit", (c) => res(c));
    });
    assert.equal(code, 130, stderr);
    assert.ok(!existsSync(out), "no output");
  });
});
