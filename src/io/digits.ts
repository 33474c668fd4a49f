/**
 * The 8×8 handwritten digits (UCI "Optical Recognition of Handwritten Digits", as scikit-learn's `load_digits`):
 * Debian's `python3-sklearn` installs them as one CSV, /usr/lib/python3/dist-packages/sklearn/datasets/data/
 * digits.csv.gz — 1,797 rows of 64 pixel counts in 0…16 and the label 0…9 (gzipped or not; GENLAB_DIGITS_FILE
 * points elsewhere). There is no official train/test split: experiments draw their own from a key.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { userError } from "../core/errors.ts";
import type { Dataset } from "../data/dataset.ts";

export const DEFAULT_DIGITS_FILE = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz";
/** The file is 57 KB gzipped, 0.3 MB plain: anything past these limits is not the digits. */
const MAX_GZ_BYTES = 4 << 20;
const MAX_CSV_BYTES = 16 << 20;
const PIXELS = 64;

/** Where the digits are looked for: $GENLAB_DIGITS_FILE, else Debian's python3-sklearn. */
export function digitsFile(): string {
  return process.env.GENLAB_DIGITS_FILE || DEFAULT_DIGITS_FILE;
}

export function digitsAvailable(file = digitsFile()): boolean {
  return existsSync(file) && statSync(file).isFile();
}

/** Every row, in the file's order: pixels scaled to [0, 1] (count / 16) as 64 features, labels 0…9. */
export function loadDigits(file = digitsFile()): Dataset {
  if (!existsSync(file)) {
    const hint = file === DEFAULT_DIGITS_FILE ? " Install it with: sudo apt-get install python3-sklearn (or set GENLAB_DIGITS_FILE to a digits.csv[.gz])" : "";
    throw userError("missing_file", [file], `8×8 digits file not found.${hint}`);
  }
  const st = statSync(file);
  if (!st.isFile()) throw userError("file", [file], "is not a regular file; expected the digits CSV (digits.csv.gz)");
  if (st.size > MAX_GZ_BYTES) throw userError("file", [file], `is ${st.size} bytes, more than the ${MAX_GZ_BYTES}-byte limit for the digits CSV`);
  const raw = readFileSync(file);
  let text: string;
  if (raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      text = gunzipSync(raw, { maxOutputLength: MAX_CSV_BYTES }).toString("utf8");
    } catch (e) {
      throw userError("file", [file], `is not a readable gzip file (${(e as Error).message})`);
    }
  } else text = raw.toString("utf8");
  const lines = text.split("\n").filter((l, i, all) => l.trim() !== "" || i < all.length - 1);
  if (lines.length === 0) throw userError("file", [file], "is empty; expected rows of 64 pixel counts and a label");
  const n = lines.length;
  const x = new Float32Array(n * PIXELS);
  const y = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const f = lines[r].split(",");
    if (f.length !== PIXELS + 1) throw userError("file", [file], `row ${r + 1} has ${f.length} fields; expected ${PIXELS} pixel counts and a label`);
    for (let c = 0; c <= PIXELS; c++) {
      const v = Number(f[c]);
      const hi = c < PIXELS ? 16 : 9;
      if (!Number.isInteger(v) || v < 0 || v > hi || f[c].trim() === "") throw userError("file", [file], `row ${r + 1}, field ${c + 1} is ${JSON.stringify(f[c])}; expected an integer in 0…${hi} (${c < PIXELS ? "a pixel count" : "the label"})`);
      if (c < PIXELS) x[r * PIXELS + c] = v / 16;
      else y[r] = v;
    }
  }
  return { x, xShape: [n, PIXELS], y, numClasses: 10 };
}
