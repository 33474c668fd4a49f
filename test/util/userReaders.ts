/**
 * Every reader of a user's file that the user-data commands have (scores, issues, prune, measure), as the
 * commands call them, for the fuzz suite: each takes a path and returns a summary of what it read (its
 * shape), or throws. `test/util/fuzzChild.ts` runs them in a child process to bound time and memory.
 */
import { readUserFile } from "../../src/io/paths.ts";
import { denseFromOnnx, denseFromSafetensors, networkIO } from "../../src/io/modelFiles.ts";
import { readPredictions } from "../../src/cli/calibrateCommand.ts";
import { loadLoggedOutputs, loadPredProbs } from "../../src/io/loggedOutputs.ts";
import { loadScoreFile } from "../../src/io/scoreFile.ts";
import { loadUserData } from "../../src/io/userData.ts";

export type ReadSummary = { rows: number; cols: number; values: number };

/** A reader: its name, the file name it reads (the extension picks the format), and how. */
export type Reader = { name: string; file: string; read: (path: string, side: string) => ReadSummary };

const data = (path: string, labels?: string): ReadSummary => {
  const d = loadUserData(path, { labels });
  if (d.data.x.length !== d.data.xShape[0] * d.data.xShape[1] || d.data.y.length !== d.data.xShape[0]) throw new Error("inconsistent shapes");
  for (const v of d.data.x) if (!Number.isFinite(v)) throw new Error("a non-finite feature was loaded");
  for (const v of d.data.y) if (!(v >= 0 && v < d.numClasses)) throw new Error("a label outside 0..C-1 was loaded");
  return { rows: d.data.xShape[0], cols: d.data.xShape[1], values: d.data.x.length };
};

/** `side`: a folder holding good companion files (labels.npy, labels.txt). */
export const READERS: Reader[] = [
  { name: "csv", file: "d.csv", read: (p) => data(p) },
  { name: "csv.gz", file: "d.csv.gz", read: (p) => data(p) },
  { name: "tsv", file: "d.tsv", read: (p) => data(p) },
  { name: "npz", file: "d.npz", read: (p) => data(p) },
  { name: "npy+labels", file: "d.npy", read: (p, side) => data(p, `${side}/labels.npy`) },
  { name: "labels.txt", file: "y-fuzz.txt", read: (p, side) => data(`${side}/x.npy`, p) },
  { name: "labels.npy", file: "y-fuzz.npy", read: (p, side) => data(`${side}/x.npy`, p) },
  { name: "idx", file: "images-idx3-ubyte", read: (p, side) => data(p, `${side}/labels.npy`) },
  {
    name: "prune-scores",
    file: "scores.csv",
    read: (p) => {
      const s = loadScoreFile(p);
      if (s.scores.length !== s.rows || (s.index && new Set(s.index).size !== s.rows)) throw new Error("inconsistent score file");
      return { rows: s.rows, cols: s.header.length, values: s.scores.length };
    },
  },
  {
    name: "logged-dynamics",
    file: "logits.npy",
    read: (p) => {
      const l = loadLoggedOutputs(p, { n: 4, minClasses: 2 });
      if (l.values.some((v) => v.length !== l.n * l.c) || l.values.length !== l.epochs.length) throw new Error("inconsistent logged outputs");
      return { rows: l.n, cols: l.c, values: l.values.length * l.n * l.c };
    },
  },
  {
    name: "dynamics-index",
    file: "index.npy",
    read: (p, side) => {
      const l = loadLoggedOutputs(`${side}/lo.npy`, { n: 4, minClasses: 2, index: p });
      return { rows: l.n, cols: l.c, values: l.values.length * l.n * l.c };
    },
  },
  {
    name: "pred-probs",
    file: "pred.npy",
    read: (p) => {
      const a = loadPredProbs(p, { n: 4, classes: 2 });
      return { rows: a.n, cols: a.c, values: a.data.length };
    },
  },
  {
    name: "calibrate-logits",
    file: "z.npy",
    read: (p) => {
      const a = readPredictions(p, "--logits");
      return { rows: a.n, cols: a.c, values: a.data.length };
    },
  },
  {
    name: "safetensors",
    file: "m.safetensors",
    read: (p) => {
      const m = denseFromSafetensors(readUserFile(p, p), p, 4);
      const io = networkIO(m.net);
      return { rows: io.inputDim, cols: io.classes, values: 0 };
    },
  },
  {
    name: "onnx",
    file: "m.onnx",
    read: (p) => {
      const m = denseFromOnnx(readUserFile(p, p), p);
      const io = networkIO(m.net);
      return { rows: io.inputDim, cols: io.classes, values: 0 };
    },
  },
];
