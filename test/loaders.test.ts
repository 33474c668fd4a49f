// The Fashion-MNIST loader on damaged folders (issue 9, finding 6): each problem is one line naming the file.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "fflate";
import { GenlabError, formatIssue } from "../src/core/errors.ts";
import { encodeIdxUint8 } from "../src/data/idx.ts";
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
