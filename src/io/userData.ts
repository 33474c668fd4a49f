/**
 * A user's own labelled dataset, from the file formats ML people have at hand, checked before anything
 * trains (`genlab scores`, `genlab issues`):
 *
 *   a folder      with an IDX image file and an IDX label file (MNIST-style names: *images*idx* and
 *                 *labels*idx*, gzipped or raw; train-* preferred when several)
 *   .npz          numpy.savez: arrays named by --x-key / --y-key (default x and y)
 *   .npy          the features; labels from --labels (a .npy, IDX or one-label-per-line text file)
 *   .csv[.gz]     one example per row; the label column named by --label-column (a header name or a
 *                 1-based index; default "label" when the header has it, else the last column); the header
 *                 is detected
 *   IDX file      images ([n, h, w] or [n, h, w, c]); labels from --labels
 *
 * Every problem is a `GenlabError` naming the file and what is wrong (x/y length mismatch, a non-numeric cell
 * with its line and column, labels outside 0..C−1 or not integers, NaN/Inf features, an empty file, a
 * truncated gzip, a 2-D label array, …), raised before any output exists.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, extname, join } from "node:path";
import { userError } from "../core/errors.ts";
import { parseNumericCsv } from "../data/csv.ts";
import type { Dataset } from "../data/dataset.ts";
import { gunzipLimited, isGzip } from "../data/gzip.ts";
import { MAX_IDX_BYTES, parseIdx } from "../data/idx.ts";
import { decodeNpy } from "../data/npy.ts";
import { parseNpz } from "../data/npz.ts";

export type Normalize = "auto" | "none" | "standardize" | "scale255";

export type UserDataOptions = {
  /** A separate label file (with a .npy or IDX --data). */
  labels?: string;
  xKey?: string;
  yKey?: string;
  labelColumn?: string;
  header?: boolean | "auto";
  delimiter?: string;
  /** Number of classes (default: the largest label + 1). */
  numClasses?: number;
  /** Classes that must occur in the labels (2 for training a classifier, the default; 1 where nothing is trained). */
  minClassesPresent?: number;
  normalize?: Normalize;
  /** The flag that named the file (in messages). */
  flag?: string;
};

export type UserData = {
  data: Dataset;
  path: string;
  format: "idx" | "npy" | "npz" | "csv";
  /** [channels, height, width] when the examples are images, else null. */
  image: [number, number, number] | null;
  numClasses: number;
  /** What was done to the features, in words. */
  normalization: string;
  /** Column names of a CSV's features (with a header). */
  featureNames: string[] | null;
  /** What a user should know about the labels: the classes inferred, rare and absent labels. */
  labelNotes: string[];
};

/** Most classes genlab trains (the bound of --classes): labels are checked against it before anything is allocated. */
export const MAX_CLASSES = 100_000;

/** `uint8`: integer image data (uint8, not bool), which `auto` scales by 1/255. */
export type Raw = { data: ArrayLike<number>; shape: number[]; uint8: boolean; name: string };
const isByteImage = (a: { data: unknown; bool?: boolean }) => a.data instanceof Uint8Array && !a.bool;

function readLimited(path: string): Uint8Array {
  if (!existsSync(path)) throw userError("missing_file", [path], "no such file");
  const st = statSync(path);
  if (!st.isFile()) throw userError("file", [path], "is not a regular file");
  if (st.size > MAX_IDX_BYTES) throw userError("file", [path], `is ${st.size} bytes, more than the ${MAX_IDX_BYTES}-byte limit genlab reads`);
  const b = readFileSync(path);
  if (b.length === 0) throw userError("file", [path], "is empty (0 bytes)");
  return b;
}

const lowerExt = (p: string) => (p.toLowerCase().endsWith(".gz") ? extname(p.slice(0, -3)).toLowerCase() + ".gz" : extname(p).toLowerCase());

function looksIdx(b: Uint8Array): boolean {
  const h = isGzip(b) ? null : b;
  return h !== null && h.length >= 4 && h[0] === 0 && h[1] === 0 && [0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e].includes(h[2]);
}

function readIdx(path: string): Raw {
  const a = parseIdx(readLimited(path), path);
  return { data: a.data, shape: a.dims, uint8: isByteImage(a), name: path };
}

function readNpy(path: string, bytes = readLimited(path)): Raw {
  const a = decodeNpy(bytes, path);
  return { data: a.data, shape: a.shape, uint8: isByteImage(a), name: path };
}

/** Labels from a .npy, IDX or text file (one integer per line). */
function readLabelFile(path: string): Raw {
  const b = readLimited(path);
  const ext = lowerExt(path);
  if (ext === ".npy") return readNpy(path, b);
  if (looksIdx(b) || (isGzip(b) && !ext.startsWith(".csv") && !ext.startsWith(".txt"))) return readIdx(path);
  const text = new TextDecoder().decode(isGzip(b) ? gunzipLimited(b, path, MAX_IDX_BYTES) : b);
  const t = parseNumericCsv(text, path, { header: "auto" });
  if (t.cols !== 1) throw userError("file", [path], `a label file needs one label per line; it has ${t.cols} columns`);
  return { data: t.values, shape: [t.rows], uint8: false, name: path };
}

function findIdxPair(dir: string): { images: string; labels: string } {
  const files = readdirSync(dir).filter((f) => /idx\d/i.test(f) && statSync(join(dir, f)).isFile());
  const pick = (kind: string) => {
    const c = files.filter((f) => f.toLowerCase().includes(kind)).sort((a, b) => Number(b.startsWith("train")) - Number(a.startsWith("train")) || a.localeCompare(b));
    return c[0] ? join(dir, c[0]) : null;
  };
  const images = pick("images");
  const labels = pick("labels");
  if (!images || !labels) throw userError("missing_file", [dir], `expected an IDX image file (*images*idx*) and an IDX label file (*labels*idx*) in this folder; found ${files.length ? files.join(", ") : "none"}`);
  return { images, labels };
}

/** Labels as int32 class indices, checked, with what a user should know about them. */
function toLabels(y: Raw, n: number, xName: string, numClasses?: number, minPresent = 2): { y: Int32Array; numClasses: number; notes: string[] } {
  if (y.shape.length !== 1) {
    const hint = y.shape.length === 2 && y.shape[1] > 1 ? " (one-hot labels? pass class indices: y.argmax(1))" : y.shape.length === 2 ? " (flatten it: y.ravel())" : "";
    throw userError("file", [y.name], `labels must be a 1-D array [n], got shape [${y.shape.join(", ")}]${hint}`);
  }
  if (y.shape[0] !== n) throw userError("file", [y.name], `has ${y.shape[0]} labels but ${xName} has ${n} examples`);
  const out = new Int32Array(n);
  let max = -1;
  for (let i = 0; i < n; i++) {
    const v = Number(y.data[i]);
    if (!Number.isInteger(v)) throw userError("file", [y.name], `label ${v} at row ${i} is not an integer class index`);
    if (v < 0) throw userError("file", [y.name], `label ${v} at row ${i} is negative; expected class indices 0..C−1`);
    if (numClasses !== undefined && v >= numClasses) throw userError("file", [y.name], `label ${v} at row ${i} is outside 0..${numClasses - 1} (--classes ${numClasses})`);
    if (v >= MAX_CLASSES) throw userError("file", [y.name], `label ${v} at row ${i} is beyond the ${MAX_CLASSES} classes genlab trains; labels are class indices 0..C−1 (map them to 0..C−1 first)`);
    out[i] = v;
    if (v > max) max = v;
  }
  const c = numClasses ?? max + 1;
  const counts = new Int32Array(Math.max(c, 1));
  for (let i = 0; i < n; i++) counts[out[i]]++;
  let present = 0;
  for (const k of counts) if (k > 0) present++;
  if (present < minPresent) throw userError("file", [y.name], `every label is ${max}: a classifier needs at least ${minPresent} classes present in the labels`);
  const notes: string[] = [];
  if (numClasses === undefined) notes.push(`${c} classes inferred from the largest label (${max}); pass --classes K if there are more`);
  const rare = [...counts.keys()].filter((k) => counts[k] === 1);
  const absent = [...counts.keys()].filter((k) => counts[k] === 0);
  const list = (ks: number[], f: (k: number) => string) => ks.slice(0, 10).map(f).join(", ") + (ks.length > 10 ? `, … (${ks.length} in all)` : "");
  if (rare.length) notes.push(`labels with fewer than 2 examples: ${list(rare, (k) => `label ${k}: 1 example`)}`);
  if (absent.length) notes.push(`classes with no example: ${list(absent, String)}`);
  return { y: out, numClasses: c, notes };
}

/** The features' shape, checked before the labels are read (a scalar or an empty dimension has no examples to label). */
function checkFeatureShape(x: Raw): void {
  if (x.shape.length < 2) throw userError("file", [x.name], `features must have shape [n, d] (or [n, h, w] images), got [${x.shape.join(", ")}]${x.shape.length === 0 ? " (a scalar)" : " (a 1-D array: one feature per example? reshape it to [n, 1])"}`);
  if (x.shape[0] === 0) throw userError("file", [x.name], `holds no examples (shape [${x.shape.join(", ")}])`);
  if (x.shape.some((d) => d === 0)) throw userError("file", [x.name], `has no features per example (shape [${x.shape.join(", ")}])`);
}

/** Features [n, …] → float32 [n, d] (images NHWC → channels first), checked for NaN/Inf, normalised. */
function toFeatures(x: Raw, normalize: Normalize): { x: Float32Array; d: number; image: [number, number, number] | null; normalization: string } {
  checkFeatureShape(x);
  const n = x.shape[0];
  let image: [number, number, number] | null = null;
  if (x.shape.length === 3) image = [1, x.shape[1], x.shape[2]];
  else if (x.shape.length === 4) {
    const [, a, b, c] = x.shape;
    image = [1, 3, 4].includes(c) ? [c, a, b] : [a, b, c]; // NHWC (numpy) or NCHW
  } else if (x.shape.length > 4) throw userError("file", [x.name], `features have ${x.shape.length} dimensions [${x.shape.join(", ")}]; expected 2 (tabular), 3 or 4 (images)`);
  const d = x.shape.slice(1).reduce((a, b) => a * b, 1);
  const nhwc = x.shape.length === 4 && image !== null && image[0] === x.shape[3] && image[0] > 1;
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < d; t++) {
      const v = Number(x.data[i * d + t]);
      if (!Number.isFinite(v)) throw userError("file", [x.name], `feature ${t} of row ${i} is ${v}; NaN and infinite features cannot be trained on (impute or drop them)`);
      if (nhwc) {
        // t indexes (h, w, c) → (c, h, w)
        const c = t % image![0];
        const hw = Math.floor(t / image![0]);
        out[i * d + c * image![1] * image![2] + hw] = v;
      } else out[i * d + t] = v;
    }
  }
  const mode = normalize === "auto" ? (x.uint8 ? "scale255" : image ? "none" : "standardize") : normalize;
  if (mode === "scale255") for (let i = 0; i < out.length; i++) out[i] /= 255;
  else if (mode === "standardize") {
    for (let t = 0; t < d; t++) {
      let s = 0;
      let q = 0;
      for (let i = 0; i < n; i++) {
        const v = out[i * d + t];
        s += v;
        q += v * v;
      }
      const m = s / n;
      const sd = Math.sqrt(Math.max(0, q / n - m * m));
      for (let i = 0; i < n; i++) out[i * d + t] = sd > 1e-12 ? (out[i * d + t] - m) / sd : 0;
    }
  }
  const normalization = mode === "scale255" ? "uint8 values divided by 255" : mode === "standardize" ? "each feature standardised to mean 0, sd 1 (constant features set to 0)" : "none";
  return { x: out, d, image, normalization };
}

/** Labels alone (a .npy, IDX or one-per-line text file; `n` examples when given), checked as `loadUserData` checks them. */
export function loadLabels(path: string, opts: { n?: number; numClasses?: number; minClassesPresent?: number; examplesName?: string; flag?: string } = {}): { y: Int32Array; numClasses: number; notes: string[] } {
  if (!existsSync(path)) throw userError("missing_file", [opts.flag ?? "--labels"], `no such file: ${path}`);
  const raw = readLabelFile(path);
  return toLabels(raw, opts.n ?? raw.shape[0], opts.examplesName ?? "the data", opts.numClasses, opts.minClassesPresent ?? 2);
}

export function loadUserData(path: string, opts: UserDataOptions = {}): UserData {
  const flag = opts.flag ?? "--data";
  if (!existsSync(path)) throw userError("missing_file", [flag], `no such file or folder: ${path}`);
  const normalize = opts.normalize ?? "auto";
  let x: Raw;
  let y: Raw;
  let format: UserData["format"];
  let featureNames: string[] | null = null;
  if (statSync(path).isDirectory()) {
    const pair = findIdxPair(path);
    x = readIdx(pair.images);
    y = opts.labels ? readLabelFile(opts.labels) : readIdx(pair.labels);
    format = "idx";
  } else {
    const bytes = readLimited(path);
    const ext = lowerExt(path);
    if (ext === ".npz") {
      const arrays = parseNpz(bytes, path);
      const xKey = opts.xKey ?? "x";
      const yKey = opts.yKey ?? "y";
      const names = Object.keys(arrays).join(", ");
      if (!arrays[xKey]) throw userError("file", [path], `has no array "${xKey}" (it has: ${names}); name the features with --x-key`);
      if (!opts.labels && !arrays[yKey]) throw userError("file", [path], `has no array "${yKey}" (it has: ${names}); name the labels with --y-key or give --labels`);
      x = { data: arrays[xKey].data, shape: arrays[xKey].shape, uint8: isByteImage(arrays[xKey]), name: `${path}:${xKey}` };
      y = opts.labels ? readLabelFile(opts.labels) : { data: arrays[yKey].data, shape: arrays[yKey].shape, uint8: false, name: `${path}:${yKey}` };
      format = "npz";
    } else if (ext === ".npy") {
      x = readNpy(path, bytes);
      if (!opts.labels) throw userError("missing_flag", ["--labels"], `${basename(path)} holds only features: give the labels with --labels <file> (.npy, IDX or one per line), or save both with numpy.savez(x=…, y=…)`);
      y = readLabelFile(opts.labels);
      format = "npy";
    } else if (ext === ".csv" || ext === ".csv.gz" || ext === ".txt" || ext === ".tsv") {
      const text = new TextDecoder().decode(isGzip(bytes) ? gunzipLimited(bytes, path, MAX_IDX_BYTES) : bytes);
      const t = parseNumericCsv(text, path, { header: opts.header ?? "auto", delimiter: opts.delimiter ?? (ext === ".tsv" ? "\t" : ",") });
      let col: number;
      if (opts.labels) col = -1;
      else if (opts.labelColumn !== undefined) {
        const byName = t.header ? t.header.indexOf(opts.labelColumn) : -1;
        const byIndex = /^[1-9][0-9]*$/.test(opts.labelColumn) ? Number(opts.labelColumn) - 1 : -1;
        col = byName >= 0 ? byName : byIndex;
        if (col < 0 || col >= t.cols) throw userError("bad_flag", ["--label-column"], `no column ${JSON.stringify(opts.labelColumn)} in ${path}${t.header ? ` (columns: ${t.header.join(", ")})` : ` (${t.cols} columns, no header: give a 1-based index)`}`);
      } else col = t.header?.includes("label") ? t.header.indexOf("label") : t.cols - 1;
      const feat = t.cols - (col >= 0 ? 1 : 0);
      if (feat < 1) throw userError("file", [path], "has no feature columns besides the label");
      const xs = new Float64Array(t.rows * feat);
      const ys = new Float64Array(t.rows);
      for (let i = 0; i < t.rows; i++) {
        let o = 0;
        for (let j = 0; j < t.cols; j++) {
          if (j === col) ys[i] = t.values[i * t.cols + j];
          else xs[i * feat + o++] = t.values[i * t.cols + j];
        }
      }
      x = { data: xs, shape: [t.rows, feat], uint8: false, name: path };
      const labelName = col >= 0 ? `${path} (label column ${t.header ? `"${t.header[col]}"` : col + 1})` : "";
      y = col >= 0 ? { data: ys, shape: [t.rows], uint8: false, name: labelName } : readLabelFile(opts.labels!);
      if (t.header) featureNames = t.header.filter((_, j) => j !== col);
      format = "csv";
    } else if (looksIdx(bytes) || isGzip(bytes)) {
      x = readIdx(path);
      if (!opts.labels) throw userError("missing_flag", ["--labels"], `${basename(path)} is an IDX image file: give its label file with --labels (or pass the folder holding both)`);
      y = readLabelFile(opts.labels);
      format = "idx";
    } else throw userError("file", [flag], `${path}: unrecognised format; expected a folder of IDX files, .npz, .npy (with --labels), .csv[.gz] or an IDX file`);
  }
  const d = datasetFromRaw(x, y, { numClasses: opts.numClasses, normalize, minClassesPresent: opts.minClassesPresent });
  return { ...d, path, format, featureNames };
}

/** Features and labels (a user's file, or a run's saved arrays) → a checked dataset, as `loadUserData` makes it. */
export function datasetFromRaw(x: Raw, y: Raw, opts: { numClasses?: number; normalize?: Normalize; minClassesPresent?: number } = {}): Pick<UserData, "data" | "image" | "numClasses" | "normalization" | "labelNotes"> {
  checkFeatureShape(x);
  const n = x.shape[0];
  const labels = toLabels(y, n, x.name, opts.numClasses, opts.minClassesPresent ?? 2);
  const f = toFeatures(x, opts.normalize ?? "auto");
  return { data: { x: f.x, xShape: [n, f.d], y: labels.y, numClasses: labels.numClasses }, image: f.image, numClasses: labels.numClasses, normalization: f.normalization, labelNotes: labels.notes };
}
