/**
 * Fashion-MNIST (Xiao et al. 2017) from IDX files: Debian's `dataset-fashion-mnist` installs them in
 * /usr/share/datasets/fashion-mnist; any directory holding the four files (gzipped or not) works.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { userError } from "../core/errors.ts";
import type { Dataset, SplitDataset } from "../data/dataset.ts";
import { MAX_IDX_BYTES, parseIdx } from "../data/idx.ts";

export const DEFAULT_FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";
export const FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

function findFile(dir: string, base: string): string {
  for (const name of [`${base}.gz`, base]) {
    const p = join(dir, name);
    if (!existsSync(p)) continue;
    if (!statSync(p).isFile()) throw userError("file", [p], "is not a regular file (a directory?); expected an IDX file");
    return p;
  }
  const hint = dir === DEFAULT_FASHION_MNIST_DIR ? " Install it with: sudo apt-get install dataset-fashion-mnist (or pass the directory that holds the IDX files)." : "";
  throw userError("missing_file", [join(dir, `${base}.gz`)], `Fashion-MNIST file not found (looked for ${base}.gz and ${base}).${hint}`);
}

function loadSplit(dir: string, prefix: "train" | "t10k"): Dataset {
  const imgPath = findFile(dir, `${prefix}-images-idx3-ubyte`);
  const lblPath = findFile(dir, `${prefix}-labels-idx1-ubyte`);
  const img = parseIdx(readUserFile(imgPath), imgPath);
  const lbl = parseIdx(readUserFile(lblPath), lblPath);
  if (!(img.data instanceof Uint8Array)) throw userError("file", [imgPath], `expected uint8 images, got ${idxTypeName(img.data)}`);
  if (img.dims.length !== 3) throw userError("file", [imgPath], `expected images [n, rows, cols], got ${img.dims.length} dims [${img.dims.join(", ")}]`);
  if (!(lbl.data instanceof Uint8Array)) throw userError("file", [lblPath], `expected uint8 labels, got ${idxTypeName(lbl.data)}`);
  if (lbl.dims.length !== 1) throw userError("file", [lblPath], `expected labels [n], got ${lbl.dims.length} dims [${lbl.dims.join(", ")}]`);
  const [n, h, w] = img.dims;
  if (lbl.dims[0] !== n) throw userError("file", [lblPath], `has ${lbl.dims[0]} labels but ${imgPath} has ${n} images`);
  const y = Int32Array.from(lbl.data);
  const bad = y.findIndex((v) => v > 9);
  if (bad >= 0) throw userError("file", [lblPath], `label ${y[bad]} at row ${bad} is outside 0..9`);
  const x = new Float32Array(n * h * w);
  for (let i = 0; i < x.length; i++) x[i] = img.data[i] / 255;
  return { x, xShape: [n, h * w], y, numClasses: 10 };
}

const idxTypeName = (d: ArrayBufferView) => d.constructor.name.replace("Array", "").toLowerCase();

/** Read a data file, refusing one larger than genlab would parse before reading it into memory. */
function readUserFile(path: string): Uint8Array {
  const size = statSync(path).size;
  if (size > MAX_IDX_BYTES) throw userError("file", [path], `is ${size} bytes, more than the ${MAX_IDX_BYTES}-byte limit genlab reads`);
  return readFileSync(path);
}

/** Images as float32 in [0, 1], flattened to 784 features; labels 0..9. */
/** Where Fashion-MNIST is looked for: $GENLAB_FASHION_MNIST_DIR, else Debian's folder. */
export function fashionMnistDir(): string {
  return process.env.GENLAB_FASHION_MNIST_DIR || DEFAULT_FASHION_MNIST_DIR;
}

/** Whether the four IDX files (gzipped or not) are in `dir`: what `reproduce` checks before it plans a run that needs them. */
export function fashionMnistAvailable(dir = fashionMnistDir()): boolean {
  const has = (base: string) => existsSync(join(dir, `${base}.gz`)) || existsSync(join(dir, base));
  return ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"].every(has);
}

export function loadFashionMnist(dir = fashionMnistDir()): SplitDataset {
  if (!existsSync(dir)) {
    const hint = dir === DEFAULT_FASHION_MNIST_DIR ? " Install it with: sudo apt-get install dataset-fashion-mnist" : "";
    throw userError("missing_file", [dir], `Fashion-MNIST directory not found.${hint}`);
  }
  if (!statSync(dir).isDirectory()) throw userError("missing_file", [dir], "is not a directory; expected the folder holding the four Fashion-MNIST IDX files");
  const train = loadSplit(dir, "train");
  const test = loadSplit(dir, "t10k");
  if (train.xShape[1] !== test.xShape[1]) throw userError("file", [join(dir, "t10k-images-idx3-ubyte")], `test images have ${test.xShape[1]} pixels, the training images ${train.xShape[1]}: train and test must have the same image size`);
  return { train, test };
}
