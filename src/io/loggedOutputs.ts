/**
 * Per-epoch outputs a user logged in their own training loop (`genlab scores --dynamics`), in the layouts a
 * PyTorch or JAX loop writes most easily:
 *
 *   a folder     one [N, C] .npy per epoch; the files in natural order (epoch_2 before epoch_10) are the
 *                epochs first-epoch, first-epoch + 1, … (integrations/pytorch/genlab_logger.py writes
 *                epoch_0001.npy, …); other files are ignored
 *   .npy         one [E, N, C] array (or [N, C]: a single epoch)
 *   .npz         one [E, N, C] array, or one [N, C] array per epoch (natural order of the names)
 *
 * Logits are preferred; probabilities are accepted. `outputs: "auto"` reads probabilities when every value
 * of the first epoch is in [0, 1] and every row sums to 1 (± 1e-3), logits otherwise; declared
 * probabilities that are not (a row that does not sum to 1: logits passed as probabilities) are refused.
 * Every problem is one `GenlabError` naming the file and the epoch (and the row): shapes that differ
 * across epochs, N different from the labels', NaN or infinite values, fewer classes than the labels need,
 * sizes past the limit (checked from the headers before the values are read).
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { userError } from "../core/errors.ts";
import { decodeNpy, type NpyArray } from "../data/npy.ts";
import { parseNpz } from "../data/npz.ts";
import { readUserFile } from "./paths.ts";

export type LoggedKind = "logits" | "probs";

export type LoggedOutputs = {
  epochs: number[];
  n: number;
  c: number;
  /** One [N × C] float32 array per epoch. */
  values: Float32Array[];
  kind: LoggedKind;
  /** How the kind was decided, and anything a user should know. */
  notes: string[];
  describe: string;
};

/** Most logged values genlab reads (2³⁰ float32: 4 GiB of host memory). */
export const MAX_LOGGED_VALUES = 2 ** 30;
/** Largest single logged file (2 GiB). */
const MAX_FILE = 2 ** 31 - 1;

const natural = (a: string, b: string) => a.localeCompare(b, "en", { numeric: true });

type Epoch = { name: string; array: NpyArray; at: number };

function epochsOf(path: string, flag: string): { epochs: Epoch[]; describe: string } {
  if (!existsSync(path)) throw userError("missing_file", [flag], `no such file or folder: ${path}`);
  if (statSync(path).isDirectory()) {
    const files = readdirSync(path).filter((f) => f.toLowerCase().endsWith(".npy")).sort(natural);
    if (!files.length) throw userError("file", [path], "holds no .npy files; expected one [N, C] array per epoch (epoch_0001.npy, …)");
    const epochs: Epoch[] = files.map((f, i) => {
      const p = join(path, f);
      const a = decodeNpy(readUserFile(p, p, MAX_FILE), p);
      if (a.shape.length !== 2) throw userError("file", [p], `epoch ${i + 1} has shape [${a.shape.join(", ")}]; each file of a folder is one epoch's [N, C] outputs`);
      return { name: p, array: a, at: i };
    });
    return { epochs, describe: `${path}: ${files.length} files` };
  }
  const bytes = readUserFile(path, flag, MAX_FILE, "file");
  const lower = path.toLowerCase();
  let arrays: [string, NpyArray][];
  if (lower.endsWith(".npy")) arrays = [[path, decodeNpy(bytes, path)]];
  else if (lower.endsWith(".npz")) arrays = Object.entries(parseNpz(bytes, path)).sort(([a], [b]) => natural(a, b)).map(([k, v]) => [`${path}:${k}`, v]);
  else throw userError("bad_flag", [flag], `${path}: expected a folder of per-epoch .npy files, an [E, N, C] .npy or a .npz`);
  if (!arrays.length) throw userError("file", [path], "holds no arrays");
  if (arrays.length === 1 && arrays[0][1].shape.length === 3) {
    const [name, a] = arrays[0];
    const [E, N, C] = a.shape;
    if (E * N * C > MAX_LOGGED_VALUES) throw userError("file", [name], `holds ${E} × ${N} × ${C} values, more than the ${MAX_LOGGED_VALUES} genlab reads`);
    const per = N * C;
    const epochs = Array.from({ length: E }, (_, e) => ({ name, at: e, array: { data: a.data.subarray(e * per, (e + 1) * per), shape: [N, C] } as NpyArray }));
    return { epochs, describe: `${name}: [${E}, ${N}, ${C}]` };
  }
  const epochs = arrays.map(([name, a], i) => {
    if (a.shape.length !== 2) throw userError("file", [name], `has shape [${a.shape.join(", ")}]; expected one [E, N, C] array or one [N, C] array per epoch`);
    return { name, array: a, at: i };
  });
  return { epochs, describe: `${path}: ${epochs.length} array(s)` };
}

/**
 * Per-epoch example indices (`--dynamics-index`): a folder of one 1-D integer .npy per epoch (natural
 * order), a .npz of such arrays, or one [E, M] .npy (every epoch logging M examples). Each index holds
 * distinct integers in 0..n−1: the example each logged row is.
 */
function indexesOf(path: string, epochs: number, n: number, first: number): Int32Array[] {
  const flag = "--dynamics-index";
  if (!existsSync(path)) throw userError("missing_file", [flag], `no such file or folder: ${path}`);
  let arrays: [string, NpyArray][];
  if (statSync(path).isDirectory()) {
    const files = readdirSync(path).filter((f) => f.toLowerCase().endsWith(".npy")).sort(natural);
    arrays = files.map((f) => [join(path, f), decodeNpy(readUserFile(join(path, f), join(path, f), MAX_FILE), join(path, f))]);
  } else {
    const bytes = readUserFile(path, flag, MAX_FILE);
    if (path.toLowerCase().endsWith(".npz")) arrays = Object.entries(parseNpz(bytes, path)).sort(([a], [b]) => natural(a, b)).map(([k, v]) => [`${path}:${k}`, v]);
    else {
      const a = decodeNpy(bytes, path);
      if (a.shape.length !== 2) throw userError("file", [path], `has shape [${a.shape.join(", ")}]; one index file holds [E, M] indices (or give a folder of one [M_e] array per epoch)`);
      const [E, M] = a.shape;
      arrays = Array.from({ length: E }, (_, e) => [path, { data: a.data.subarray(e * M, (e + 1) * M), shape: [M] } as NpyArray]);
    }
  }
  if (arrays.length !== epochs) throw userError("file", [path], `holds ${arrays.length} epochs of indices, the outputs ${epochs}`);
  return arrays.map(([name, a], e) => {
    if (a.shape.length !== 1) throw userError("file", [name], `epoch ${first + e}'s index has shape [${a.shape.join(", ")}]; expected a 1-D array of example indices`);
    const seen = new Uint8Array(n);
    const out = new Int32Array(a.data.length);
    for (let r = 0; r < a.data.length; r++) {
      const v = Number(a.data[r]);
      if (!Number.isInteger(v) || v < 0 || v >= n) throw userError("file", [name], `epoch ${first + e}, row ${r}: index ${v} is not an example (an integer in 0..${n - 1})`);
      if (seen[v]) throw userError("file", [name], `epoch ${first + e}, row ${r}: example ${v} logged twice in one epoch`);
      seen[v] = 1;
      out[r] = v;
    }
    return out;
  });
}

/** Whether row i of [rows × c] is a probability vector (entries in [0, 1], sum 1 ± 1e-3); else the reason. */
function probabilityRowProblem(v: ArrayLike<number>, i: number, c: number): string | null {
  let s = 0;
  for (let k = 0; k < c; k++) {
    const p = v[i * c + k];
    if (p < 0 || p > 1) return `holds ${p} (class ${k})`;
    s += p;
  }
  return Math.abs(s - 1) > 1e-3 ? `sums to ${s.toPrecision(6)}` : null;
}

/**
 * Read logged outputs for `n` examples whose labels need `minClasses` classes. `firstEpoch`: the epoch
 * number of the first array (1 when the loop logs after each epoch, 0 when it also logged the initial model).
 */
export function loadLoggedOutputs(path: string, opts: { n: number; minClasses: number; classes?: number; outputs?: LoggedKind | "auto"; firstEpoch?: number; flag?: string; index?: string }): LoggedOutputs {
  const flag = opts.flag ?? "--dynamics";
  const { epochs, describe } = epochsOf(path, flag);
  const [N0, C] = epochs[0].array.shape;
  const first = opts.firstEpoch ?? 1;
  const indexes = opts.index ? indexesOf(opts.index, epochs.length, opts.n, first) : null;
  if (epochs.length * opts.n * C > MAX_LOGGED_VALUES) throw userError("file", [path], `holds ${epochs.length} epochs × ${opts.n} × ${C} values, more than the ${MAX_LOGGED_VALUES} genlab reads`);
  for (const ep of epochs) {
    const [n, c] = ep.array.shape;
    if (indexes) {
      if (c !== C) throw userError("file", [ep.name], `epoch ${first + ep.at} logs ${c} classes, epoch ${first} ${C}: every epoch logs the same classes`);
      if (n !== indexes[ep.at].length) throw userError("file", [ep.name], `epoch ${first + ep.at} logs ${n} rows, its index names ${indexes[ep.at].length} examples`);
    } else if (n !== N0 || c !== C) throw userError("file", [ep.name], `epoch ${first + ep.at} has shape [${n}, ${c}], epoch ${first} [${N0}, ${C}]: every epoch logs the same examples and classes (a loop that logs a subset gives --dynamics-index)`);
  }
  const N = opts.n;
  if (!indexes && N0 !== N) throw userError("file", [epochs[0].name], `logs ${N0} examples per epoch, the labels have ${N} (a loop that logs a subset gives --dynamics-index)`);
  if (C < 2) throw userError("file", [epochs[0].name], `logs ${C} output per example; expected one per class ([N, C], C ≥ 2: for a binary classifier log both classes' logits, or [−z, z])`);
  if (C < opts.minClasses) throw userError("file", [epochs[0].name], `logs ${C} classes, the labels go up to ${opts.minClasses - 1}`);
  if (opts.classes !== undefined && C !== opts.classes) throw userError("file", [epochs[0].name], `logs ${C} classes, --classes says ${opts.classes}`);
  const values: Float32Array[] = [];
  for (const ep of epochs) {
    const v = ep.array.data;
    for (let t = 0; t < v.length; t++) {
      if (!Number.isFinite(v[t])) throw userError("file", [ep.name], `epoch ${first + ep.at}, row ${Math.floor(t / C)}, class ${t % C} is ${v[t]}; logged outputs must be finite`);
    }
    if (!indexes) values.push(v instanceof Float32Array ? v : Float32Array.from(v));
    else {
      // rows placed by their example index; an example this epoch did not log is a row of NaN
      const full = new Float32Array(N * C).fill(NaN);
      indexes[ep.at].forEach((ex, r) => {
        for (let k = 0; k < C; k++) full[ex * C + k] = v[r * C + k];
      });
      values.push(full);
    }
  }
  const notes: string[] = [];
  let kind: LoggedKind;
  const declared = opts.outputs ?? "auto";
  if (declared === "auto") {
    let probs = true;
    for (let i = 0; i < N && probs; i++) if (!Number.isNaN(values[0][i * C]) && probabilityRowProblem(values[0], i, C)) probs = false;
    kind = probs ? "probs" : "logits";
    notes.push(probs ? `read as probabilities (every row of epoch ${first} is in [0, 1] and sums to 1); pass --outputs logits if they are not` : "read as logits (the rows are not probability vectors)");
  } else kind = declared;
  if (kind === "probs") {
    values.forEach((v, e) => {
      for (let i = 0; i < N; i++) {
        if (Number.isNaN(v[i * C])) continue; // not logged this epoch
        const why = probabilityRowProblem(v, i, C);
        if (why) throw userError("file", [epochs[e].name], `epoch ${first + e}, row ${i} ${why}: not a probability vector${declared === "probs" ? " (logits? pass --outputs logits)" : ""}`);
      }
    });
  }
  if (indexes) {
    const seen = new Uint8Array(N);
    let entries = 0;
    for (const idx of indexes) for (const ex of idx) {
      seen[ex] = 1;
      entries++;
    }
    const never = seen.reduce((a, b) => a + (b ? 0 : 1), 0);
    notes.push(`--dynamics-index: ${entries} of ${N * epochs.length} (example, epoch) pairs logged (${((100 * entries) / (N * epochs.length)).toFixed(1)}%); each score uses the epochs an example was logged at${never ? `; ${never} example(s) never logged have no scores (empty cells)` : ""}`);
  }
  return { epochs: epochs.map((ep) => first + ep.at), n: N, c: C, values, kind, notes, describe };
}

/**
 * A user's out-of-sample predicted probabilities [N, C] (`genlab issues --pred-probs`): entries in [0, 1],
 * rows summing to 1 (± 1e-3), N equal to the labels', C covering them. A binary [N] or [N, 1] vector is
 * refused with the orientation spelled out (which class would it be the probability of?); logits are
 * refused with a hint.
 */
export function loadPredProbs(path: string, opts: { n: number; classes: number; flag?: string }): { data: Float32Array; n: number; c: number } {
  const flag = opts.flag ?? "--pred-probs";
  const a = decodeNpy(readUserFile(path, flag, MAX_FILE), path);
  if (a.shape.length === 1 || (a.shape.length === 2 && a.shape[1] === 1)) throw userError("file", [path], `has shape [${a.shape.join(", ")}]: one probability per example leaves the class it belongs to ambiguous; pass [N, 2] with column 1 = p(class 1) and column 0 = 1 − p (numpy.stack([1 - p, p], 1))`);
  if (a.shape.length !== 2) throw userError("file", [path], `has shape [${a.shape.join(", ")}]; expected [N, C] predicted probabilities`);
  const [N, C] = a.shape;
  if (N !== opts.n) throw userError("file", [path], `has ${N} rows, the labels ${opts.n}`);
  if (C < opts.classes) throw userError("file", [path], `has ${C} classes, the labels need ${opts.classes}`);
  const v = a.data;
  for (let t = 0; t < v.length; t++) if (!Number.isFinite(v[t])) throw userError("file", [path], `row ${Math.floor(t / C)}, class ${t % C} is ${v[t]}`);
  for (let i = 0; i < N; i++) {
    const why = probabilityRowProblem(v, i, C);
    if (why) throw userError("file", [path], `row ${i} ${why}: not a probability vector (logits? apply a softmax first)`);
  }
  return { data: v instanceof Float32Array ? v : Float32Array.from(v), n: N, c: C };
}

/** Features or embeddings [N, D…] (`--features`), finite, N equal to the labels' (`n`; null: any N ≥ 1). */
export function loadFeatures(path: string, n: number | null, flag = "--features"): { data: Float32Array; d: number; n: number } {
  const a = decodeNpy(readUserFile(path, flag, MAX_FILE), path);
  if (a.shape.length < 2 || a.shape[0] === 0 || (n !== null && a.shape[0] !== n) || a.shape.slice(1).some((x) => x === 0)) throw userError("file", [path], `has shape [${a.shape.join(", ")}]; expected [${n ?? "N"}, D] features (one row per example)`);
  const d = a.shape.slice(1).reduce((x, y) => x * y, 1);
  const v = a.data;
  for (let t = 0; t < v.length; t++) if (!Number.isFinite(v[t])) throw userError("file", [path], `row ${Math.floor(t / d)}, feature ${t % d} is ${v[t]}`);
  return { data: v instanceof Float32Array ? v : Float32Array.from(v), d, n: a.shape[0] };
}
