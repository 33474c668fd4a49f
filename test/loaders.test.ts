// The Fashion-MNIST loader on damaged folders (issue 9, finding 6): each problem is one line naming the file.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "fflate";
import { GenlabError, formatIssue } from "../src/core/errors.ts";
import { encodeIdxUint8 } from "../src/data/idx.ts";
import { DEFAULT_DIGITS_FILE, digitsAvailable, loadDigits } from "../src/io/digits.ts";
import { loadFashionMnist } from "../src/io/fashionMnist.ts";

function idxFloat32(dims: number[], n: number): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + 4 * n);
  out[2] = 0x0d;
  out[3] = dims.length;
  const dv = new DataView(out.buffer);
  dims.forEach((d, i) => dv.setUint32(4 + 4 * i, d, false));
  return out;
}

function folder(files: Record<string, Uint8Array | "dir">): string {
  const d = mkdtempSync(join(tmpdir(), "genlab-fm-"));
  for (const [name, data] of Object.entries(files)) {
    if (data === "dir") mkdirSync(join(d, name));
    else writeFileSync(join(d, name), data);
  }
  return d;
}

const images = (n: number, h: number, w: number) => gzipSync(encodeIdxUint8([n, h, w], new Uint8Array(n * h * w).fill(3)));
const labels = (n: number) => gzipSync(encodeIdxUint8([n], new Uint8Array(n).fill(1)));
const good = (over: Record<string, Uint8Array | "dir"> = {}) =>
  folder({ "train-images-idx3-ubyte.gz": images(4, 2, 2), "train-labels-idx1-ubyte.gz": labels(4), "t10k-images-idx3-ubyte.gz": images(2, 2, 2), "t10k-labels-idx1-ubyte.gz": labels(2), ...over });

function message(dir: string): string {
  try {
    loadFashionMnist(dir);
    return "loaded";
  } catch (e) {
    if (!(e instanceof GenlabError)) throw e;
    return formatIssue(e.issues[0]).replace(dir, "<dir>");
  }
}

describe("Fashion-MNIST loader on damaged folders", () => {
  it("loads a good folder; refuses zero images, 0-pixel images, train/test of different sizes, a directory, float32 images, a file for the folder", () => {
    const dirs: string[] = [];
    const check = (d: string, expected: string) => {
      dirs.push(d);
      assert.equal(message(d), expected);
    };
    try {
      check(good(), "loaded");
      check(good({ "train-images-idx3-ubyte.gz": images(0, 28, 28), "train-labels-idx1-ubyte.gz": labels(1) }), "✖ holds no values: dims [0, 28, 28] (an empty or damaged file) → at <dir>/train-images-idx3-ubyte.gz");
      check(good({ "train-images-idx3-ubyte.gz": images(4, 0, 28) }), "✖ holds no values: dims [4, 0, 28] (an empty or damaged file) → at <dir>/train-images-idx3-ubyte.gz");
      check(good({ "t10k-images-idx3-ubyte.gz": images(2, 3, 3) }), "✖ test images have 9 pixels, the training images 4: train and test must have the same image size → at <dir>/t10k-images-idx3-ubyte");
      check(good({ "train-labels-idx1-ubyte.gz": "dir" }), "✖ is not a regular file (a directory?); expected an IDX file → at <dir>/train-labels-idx1-ubyte.gz");
      check(good({ "train-images-idx3-ubyte.gz": gzipSync(idxFloat32([4, 2, 2], 16)) }), "✖ expected uint8 images, got float32 → at <dir>/train-images-idx3-ubyte.gz");
      const file = join(mkdtempSync(join(tmpdir(), "genlab-fm-")), "not-a-dir");
      writeFileSync(file, "x");
      dirs.push(join(file, ".."));
      assert.equal(message(file), "✖ is not a directory; expected the folder holding the four Fashion-MNIST IDX files → at <dir>");
    } finally {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  });
});

describe("8×8 digits loader (python3-sklearn's digits.csv.gz)", () => {
  const row = (px: number, label: number) => [...Array(64).fill(px), label].join(",");
  const file = (name: string, data: string | Uint8Array) => {
    const p = join(mkdtempSync(join(tmpdir(), "genlab-digits-")), name);
    writeFileSync(p, data);
    return p;
  };
  const msg = (p: string) => {
    try {
      const d = loadDigits(p);
      return `loaded ${d.xShape.join("×")}`;
    } catch (e) {
      if (!(e instanceof GenlabError)) throw e;
      return formatIssue(e.issues[0]).replace(p, "<file>");
    }
  };

  it("loads gzipped and plain CSVs (pixels / 16, labels); refuses a short row, a pixel above 16, a label above 9, a damaged gzip, an empty file, a folder", () => {
    const good = `${row(16, 3)}\n${row(8, 9)}\n`;
    const gz = file("digits.csv.gz", gzipSync(new TextEncoder().encode(good)));
    const d = loadDigits(gz);
    assert.deepEqual([d.xShape, Array.from(d.y), d.x[0], d.x[64]], [[2, 64], [3, 9], 1, 0.5], "values as in the file");
    assert.equal(msg(file("digits.csv", good)), "loaded 2×64");
    assert.equal(msg(file("d.csv", `${row(1, 3)}\n1,2,3\n`)), "✖ row 2 has 3 fields; expected 64 pixel counts and a label → at <file>");
    assert.equal(msg(file("d.csv", `${row(17, 3)}\n`)), '✖ row 1, field 1 is "17"; expected an integer in 0…16 (a pixel count) → at <file>');
    assert.equal(msg(file("d.csv", `${row(1, 10)}\n`)), '✖ row 1, field 65 is "10"; expected an integer in 0…9 (the label) → at <file>');
    assert.match(msg(file("d.csv.gz", new Uint8Array([0x1f, 0x8b, 1, 2, 3]))), /^✖ is not a readable gzip file/);
    assert.equal(msg(file("d.csv", "")), "✖ is empty; expected rows of 64 pixel counts and a label → at <file>");
    assert.equal(msg(mkdtempSync(join(tmpdir(), "genlab-digits-"))), "✖ is not a regular file; expected the digits CSV (digits.csv.gz) → at <file>");
  });

  it("Debian's file, where python3-sklearn is installed: 1,797 digits, about 180 of each class", (t) => {
    if (!digitsAvailable(DEFAULT_DIGITS_FILE)) return t.skip("python3-sklearn is not installed");
    const d = loadDigits(DEFAULT_DIGITS_FILE);
    const counts = Array.from({ length: 10 }, (_, k) => d.y.filter((v) => v === k).length);
    assert.equal(d.xShape[0], 1797, "rows");
    assert.ok(counts.every((c) => c >= 170 && c <= 190), `class counts ${counts}`);
  });
});
