/**
 * Fashion-MNIST (Xiao et al. 2017) from IDX files: Debian's `dataset-fashion-mnist` installs them in
 * /usr/share/datasets/fashion-mnist; any directory holding the four files (gzipped or not) works.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { userError } from "../core/errors.ts";
import type { Dataset, SplitDataset } from "../data/dataset.ts";
import { parseIdx } from "../data/idx.ts";

export const DEFAULT_FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";
export const FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

function findFile(dir: string, base: string): string {
  for (const name of [`${base}.gz`, base]) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  const hint = dir === DEFAULT_FASHION_MNIST_DIR ? " Install it with: sudo apt-get install dataset-fashion-mnist (or pass the directory that holds the IDX files)." : "";
  throw userError("missing_file", [join(dir, `${base}.gz`)], `Fashion-MNIST file not found (looked for ${base}.gz and ${base}).${hint}`);
}

function loadSplit(dir: string, prefix: "train" | "t10k"): Dataset {
  const imgPath = findFile(dir, `${prefix}-images-idx3-ubyte`);
  const lblPath = findFile(dir, `${prefix}-labels-idx1-ubyte`);
  const img = parseIdx(readFileSync(imgPath), imgPath);
  const lbl = parseIdx(readFileSync(lblPath), lblPath);
  if (img.dims.length !== 3 || !(img.data instanceof Uint8Array)) throw userError("file", [imgPath], `expected uint8 images [n, rows, cols], got ${img.dims.length} dims`);
  if (lbl.dims.length !== 1 || !(lbl.data instanceof Uint8Array)) throw userError("file", [lblPath], `expected uint8 labels [n], got ${lbl.dims.length} dims`);
  const [n, h, w] = img.dims;
  if (lbl.dims[0] !== n) throw userError("file", [lblPath], `has ${lbl.dims[0]} labels but ${imgPath} has ${n} images`);
  const y = Int32Array.from(lbl.data);
  const bad = y.findIndex((v) => v > 9);
  if (bad >= 0) throw userError("file", [lblPath], `label ${y[bad]} at row ${bad} is outside 0..9`);
  const x = new Float32Array(n * h * w);
  for (let i = 0; i < x.length; i++) x[i] = img.data[i] / 255;
  return { x, xShape: [n, h * w], y, numClasses: 10 };
}

/** Images as float32 in [0, 1], flattened to 784 features; labels 0..9. */
export function loadFashionMnist(dir = DEFAULT_FASHION_MNIST_DIR): SplitDataset {
  if (!existsSync(dir)) {
    const hint = dir === DEFAULT_FASHION_MNIST_DIR ? " Install it with: sudo apt-get install dataset-fashion-mnist" : "";
    throw userError("missing_file", [dir], `Fashion-MNIST directory not found.${hint}`);
  }
  return { train: loadSplit(dir, "train"), test: loadSplit(dir, "t10k") };
}
