/**
 * `genlab measure`: every generalization measure of the catalogue (measures/catalogue.ts) for one trained
 * ReLU network — a genlab run's saved model (`--run <id>`) or a user's safetensors / ONNX file (an MLP, or
 * an ONNX CNN)
 * (`--model-file`) with its training data (`--data`, the same formats as `genlab scores`). Prints a table
 * (value, standard error where the estimate is stochastic, cost), lists what was not measured and why, and
 * writes CSV or JSON atomically. Every input is checked before any measure runs.
 */
import { type Command, InvalidArgumentError } from "commander";
import { existsSync, readdirSync } from "node:fs";
import { extname, join, resolve } from "node:path";
import { GenlabError, userError } from "../core/errors.ts";
import { keyFromSeed } from "../core/prng.ts";
import { formatCsv } from "../data/csv.ts";
import type { Dataset } from "../data/dataset.ts";
import { decodeNpy } from "../data/npy.ts";
import { denseFromArrays, denseFromOnnx, denseFromSafetensors, isLayerList, networkIO, runModelNames, type LoadedModel } from "../io/modelFiles.ts";
import { checkOutputPath, readUserFile } from "../io/paths.ts";
import { datasetFromRaw, loadUserData, MAX_CLASSES, type Normalize, type UserDataOptions } from "../io/userData.ts";
import { classesFlag, delimiterArg, headerFlag, intIn } from "./dataCommands.ts";
import { MEASURE_FAMILIES, measureNetwork, type CatalogueResult, type MeasureFamily } from "../measures/catalogue.ts";
import { writeFileAtomic } from "../runner/files.ts";
import { formatDuration, formatTable } from "../runner/progress.ts";
import { formatResultTable, defaultStorePath } from "../runner/run.ts";
import { RunStore } from "../runner/store.ts";
import { err, errStream, out } from "../io/console.ts";


export type ModelDataFlags = {
  run?: string;
  runs: string;
  store?: string;
  model?: string;
  modelFile?: string;
  data?: string;
  labels?: string;
  xKey?: string;
  yKey?: string;
  labelColumn?: string;
  header?: boolean;
  delimiter?: string;
  numClasses?: number;
  classes?: number;
  normalize: Normalize;
};

type MeasureFlags = ModelDataFlags & {
  init?: string;
  families: MeasureFamily[];
  subset: number;
  seed: number;
  out?: string;
  json?: boolean;
};

function familiesOf(v: string): MeasureFamily[] {
  const items = v.split(",").map((x) => x.trim()).filter(Boolean);
  const bad = items.filter((x) => !(MEASURE_FAMILIES as readonly string[]).includes(x));
  if (bad.length || !items.length) throw new InvalidArgumentError(`unknown measure family ${bad.map((b) => JSON.stringify(b)).join(", ") || "(none given)"}; expected a comma-separated list of ${MEASURE_FAMILIES.join(", ")}`);
  return [...new Set(items)] as MeasureFamily[];
}

/** Largest model file genlab reads (2 GiB). */
const MAX_MODEL_BYTES = 2 ** 31 - 1;

/** A model file by its extension; its weights must be finite (a NaN weight would turn every measure into null). */
export function loadModelFile(path: string, flag: string, inputDim?: number): LoadedModel {
  const ext = extname(path).toLowerCase();
  if (ext !== ".safetensors" && ext !== ".onnx") throw userError("bad_flag", [flag], `${path}: expected a .safetensors or .onnx file`);
  const bytes = readUserFile(resolve(path), flag, MAX_MODEL_BYTES, "model file");
  return checkFiniteWeights(ext === ".safetensors" ? denseFromSafetensors(bytes, path, inputDim) : denseFromOnnx(bytes, path), path);
}

/** Every weight and bias finite, or a one-line error naming the file and the layer. */
function checkFiniteWeights(m: LoadedModel, file: string): LoadedModel {
  const arrays: [string, Float32Array | null][] = isLayerList(m.net)
    ? m.net.layers.flatMap((l, i) => (l.kind === "dense" || l.kind === "conv" ? [[`layer ${i} (${l.kind}) weight`, l.w], [`layer ${i} (${l.kind}) bias`, l.b]] as [string, Float32Array | null][] : []))
    : ((net) => net.weights.flatMap((w, i) => [[`layer ${i} weight`, w], [`layer ${i} bias`, net.biases[i]]] as [string, Float32Array | null][]))(m.net);
  for (const [what, a] of arrays) {
    if (!a) continue;
    for (let k = 0; k < a.length; k++) if (!Number.isFinite(a[k])) throw userError("file", [file], `${what} has ${a[k]} at flat index ${k}; a network's weights must be finite`);
  }
  return m;
}

/** A run's saved model (and, when it saved them, its training arrays and initialisation). */
export function loadRun(o: Pick<ModelDataFlags, "run" | "runs" | "store" | "model">): { model: LoadedModel; init: LoadedModel | null; data: Dataset | null; steps?: number } {
  const storePath = resolve(o.store ?? defaultStorePath(o.runs));
  if (!existsSync(storePath)) throw new GenlabError({ code: "missing_store", path: [storePath], message: "no run store here (pass --runs <dir> or --store)" });
  const store = new RunStore(storePath, { readonly: true });
  let dir: string;
  try {
    const row = store.getRun(o.run!);
    if (!row) throw userError("unknown_run", ["--run"], `no run ${JSON.stringify(o.run)} in ${storePath} (genlab runs lists them)`);
    dir = row.dir;
  } finally {
    store.close();
  }
  const arraysDir = join(dir, "arrays");
  const names = existsSync(arraysDir) ? readdirSync(arraysDir).filter((f) => f.endsWith(".npy")).map((f) => f.slice(0, -4)) : [];
  const models = runModelNames(names).filter((m) => !m.endsWith("_init"));
  if (!models.length) throw userError("no_model", ["--run"], `run ${o.run} saved no model (experiments save one with denseToArrays; this one did not)`);
  const name = o.model ?? (models.length === 1 ? models[0] : null);
  if (!name) throw userError("bad_flag", ["--model"], `run ${o.run} saved ${models.length} models (${models.join(", ")}): choose one with --model`);
  if (!models.includes(name)) throw userError("bad_flag", ["--model"], `run ${o.run} has no model ${JSON.stringify(name)} (it has ${models.join(", ")})`);
  // A run's arrays are read like a user's files (a store can be copied, edited or damaged): sizes bounded,
  // weights finite, x and y consistent.
  const get = (n: string) => {
    const f = join(arraysDir, `${n}.npy`);
    if (!existsSync(f)) return null;
    const a = decodeNpy(readUserFile(f, f, MAX_MODEL_BYTES, "array file"), f);
    return { data: a.data as ArrayLike<number>, shape: a.shape, name: f };
  };
  const net = denseFromArrays(name, get);
  const initNet = names.includes(`model_${name}_init_w0`) ? denseFromArrays(`${name}_init`, get) : null;
  const x = get(`data_${name}_x`);
  const y = get(`data_${name}_y`);
  const classes = net.dims[net.dims.length - 1];
  const data = x && y ? datasetFromRaw({ ...x, uint8: false }, { ...y, uint8: false }, { numClasses: classes, normalize: "none", minClassesPresent: 1 }).data : null;
  const describe = `dense ReLU network ${networkIO(net).describe} (run ${o.run}, model ${name})`;
  const model = checkFiniteWeights({ net, format: "run", describe, notes: [] }, join(arraysDir, `model_${name}_w*.npy`));
  const init = initNet ? checkFiniteWeights({ net: initNet, format: "run", describe: "initialisation", notes: [] }, join(arraysDir, `model_${name}_init_w*.npy`)) : null;
  return { model, init, data };
}

/** The model options `genlab measure` and `genlab reliance` share: a run's model or a user's file, and its data. */
export function modelDataOptions(cmd: Command, dataDoc: string): Command {
  return cmd
    .option("--run <id>", "a genlab run that saved its model (e.g. a fantastic-zoo run)")
    .option("--runs <dir>", "folder of the run store (with --run)", "runs")
    .option("--store <path>", "run store file (default <runs>/genlab.db)")
    .option("--model <name>", "which of the run's saved models (when it saved several)")
    .option("--model-file <file>", "your model: .safetensors (Linear layers; ReLU assumed between them) or .onnx (an MLP or CNN: Conv, MaxPool, Flatten, Gemm/MatMul+Add, Relu)")
    .option("--data <path>", `${dataDoc}: a folder of IDX files, .npz (x, y), .npy (with --labels), .csv[.gz]`)
    .option("--labels <file>", "labels for a .npy or IDX --data")
    .option("--x-key <name>", "the features' array name in a .npz", "x")
    .option("--y-key <name>", "the labels' array name in a .npz", "y")
    .option("--label-column <name|n>", "the label column of a CSV")
    .option("--header", "the CSV's first row is a header (default: detected)")
    .option("--no-header", "the CSV has no header row")
    .option("--delimiter <c>", "the CSV's field delimiter", delimiterArg)
    .option("--classes <K>", "number of classes (default: the network's outputs)", intIn(2, MAX_CLASSES, `an integer in [2, ${MAX_CLASSES}]`))
    .option("--num-classes <K>", "the same as --classes", intIn(2, MAX_CLASSES, `an integer in [2, ${MAX_CLASSES}]`))
    .option("--normalize <how>", "feature preprocessing, matching how the model was trained: none | standardize | scale255", (v: string) => {
      if (!["none", "standardize", "scale255"].includes(v)) throw new InvalidArgumentError(`expected none, standardize or scale255, got ${JSON.stringify(v)}`);
      return v as Normalize;
    }, "none");
}

export type ModelData = { model: LoadedModel; init: LoadedModel | null; data: Dataset; dataDesc: string; d: number; C: number };

/**
 * The model (a run's, or the user's file) and its data, checked against each other: features per example equal to
 * the network's input, labels below its outputs, the initialisation (`--init`, when the command has it) of the
 * same architecture. `dataWhat` names the data in the error when a model file comes without it.
 */
export function loadModelData(o: ModelDataFlags & { init?: string }, dataWhat: string): ModelData {
  const dataOpts = (numClasses: number | undefined): UserDataOptions => ({ labels: o.labels, xKey: o.xKey, yKey: o.yKey, labelColumn: o.labelColumn, numClasses, normalize: o.normalize, header: headerFlag(o.header), delimiter: o.delimiter, flag: "--data", minClassesPresent: 1 });
  let model: LoadedModel;
  let init: LoadedModel | null = null;
  let data: Dataset;
  let dataDesc: string;
  if (o.run) {
    const r = loadRun(o);
    model = r.model;
    init = r.init;
    if (o.data) {
      const d = loadUserData(o.data, dataOpts(classesFlag(o) ?? networkIO(model.net).classes));
      data = d.data;
      dataDesc = `${d.path} (${d.format}, ${d.normalization})`;
    } else if (r.data) {
      data = r.data;
      dataDesc = `the run's saved training set`;
    } else throw userError("bad_flag", ["--data"], `run ${o.run} did not save its training data: pass it with --data`);
    if (o.init) init = loadModelFile(o.init, "--init", networkIO(model.net).inputDim);
  } else {
    if (!o.data) throw userError("bad_flag", ["--data"], `a model file needs ${dataWhat}: pass --data`);
    const d = loadUserData(o.data, dataOpts(classesFlag(o)));
    const inputDim = d.data.xShape.slice(1).reduce((a, b) => a * b, 1);
    model = loadModelFile(o.modelFile!, "--model-file", inputDim);
    init = o.init ? loadModelFile(o.init, "--init", inputDim) : null;
    data = d.data;
    dataDesc = `${d.path} (${d.format}, ${d.normalization})`;
  }
  const io = networkIO(model.net);
  const d = data.xShape.slice(1).reduce((a, b) => a * b, 1);
  const C = io.classes;
  if (d !== io.inputDim) throw userError("shape_mismatch", ["--data"], `the data have ${d} features per example, the network's input takes ${io.inputDim}`);
  let maxLabel = 0;
  for (let i = 0; i < data.y.length; i++) maxLabel = Math.max(maxLabel, data.y[i]);
  if (maxLabel >= C) throw userError("shape_mismatch", ["--data"], `labels go up to ${maxLabel}, the network has ${C} outputs (classes 0..${C - 1})`);
  if (init && networkIO(init.net).describe !== io.describe) throw userError("shape_mismatch", ["--init"], `the initialisation is ${networkIO(init.net).describe}, the model ${io.describe}`);
  return { model, init, data, dataDesc, d, C };
}

export function addMeasureCommand(program: Command): void {
  modelDataOptions(program.command("measure"), "the training data")
    .option("--init <file>", "the model's initialisation (same format), for the distance-from-init measures")
    .description("generalization measures (norms, margins, PAC-Bayes, sharpness, Hessian spectra, weight spectra) of a trained network: a genlab run or your safetensors / ONNX model with its training data")
    .option("--families <list>", `comma-separated: ${MEASURE_FAMILIES.join(",")}`, familiesOf, [...MEASURE_FAMILIES])
    .option("--subset <n>", "training examples used by the flatness and curvature measures", intIn(10, 10_000_000, "an integer ≥ 10"), 2000)
    .option("--seed <n>", "random seed of the stochastic estimates", intIn(0, 0xffffffff, "a decimal integer in [0, 4294967295]"), 0)
    .option("--out <file>", "measures.csv (pandas.read_csv) or measures.json")
    .option("--json", "print the result as JSON on stdout")
    .action(async (o: MeasureFlags) => {
      if (!!o.run === !!o.modelFile) throw userError("bad_flag", ["--run", "--model-file"], "give exactly one of --run <id> and --model-file <file>");
      // the output first: a path that cannot be written is found before any file is read or measure run
      const outPath = o.out ? checkOutputPath(o.out, { flag: "--out", exts: [".csv", ".json"], inputs: [["--data", o.data], ["--labels", o.labels], ["--model-file", o.modelFile], ["--init", o.init]] }) : null;
      const { model, init, data, dataDesc, d, C } = loadModelData(o, "its training data");
      const net = model.net;
      const t0 = performance.now();
      const tty = errStream().isTTY;
      let res: CatalogueResult;
      try {
        res = await measureNetwork(net, { ...data, xShape: [data.y.length, d], numClasses: C }, keyFromSeed(o.seed), {
          init: init?.net,
          families: o.families,
          subset: o.subset,
          onFamily: (f, done, total) => err(`${tty ? "\r" : ""}genlab measure  ${done}/${total} families (${f} done)  elapsed ${formatDuration((performance.now() - t0) / 1000)}${tty ? "" : "\n"}`),
        });
      } catch (e) {
        if (e instanceof RangeError) throw userError("bad_input", ["--data"], e.message);
        throw e;
      }
      if (tty) err("\n");
      const seconds = (performance.now() - t0) / 1000;
      const rows = res.values.map((v) => ({ id: v.id, family: v.family, eq: v.eq, value: v.value, se: v.se, forward: v.cost.forward, gradients: v.cost.gradients, hvp: v.cost.hvp, ms: Math.round(v.cost.ms), doc: v.doc }));
      if (outPath) {
        const text = outPath.toLowerCase().endsWith(".json")
          ? JSON.stringify({ model: model.describe, data: dataDesc, examples: res.examples, subset: res.subset, measures: rows, not_measured: res.notMeasured, seconds }, null, 2) + "\n"
          : formatCsv(
              ["id", "family", "eq", "value", "se", "forward_passes", "gradients", "hvps", "ms"],
              [rows.map((r) => r.id), rows.map((r) => r.family), rows.map((r) => r.eq ?? ""), rows.map((r) => r.value), rows.map((r) => r.se ?? NaN), rows.map((r) => r.forward), rows.map((r) => r.gradients), rows.map((r) => r.hvp), rows.map((r) => r.ms)],
            );
        writeFileAtomic(outPath, text);
      }
      if (o.json) {
        out(JSON.stringify({ model: model.describe, notes: model.notes, data: dataDesc, examples: res.examples, subset: res.subset, measures: rows, not_measured: res.notMeasured, seconds, out: outPath }, null, 2) + "\n");
        return;
      }
      out(formatTable([["model", model.describe], ...model.notes.map((n) => ["note", n] as [string, string]), ["data", `${dataDesc}: ${res.examples} examples (flatness and curvature on the first ${res.subset})`], ["time", formatDuration(seconds)], ...(outPath ? [["written", outPath] as [string, string]] : [])], "genlab measure"));
      out(formatResultTable({ title: "measures (se: Monte-Carlo standard error or Ritz residual; cost of the family: forward passes / gradients / Hessian-vector products)", columns: ["measure", "family", "eq.", "value", "± se", "fwd", "grad", "HVP"], rows: rows.map((r) => [r.id, r.family, r.eq, r.value, r.se, r.forward, r.gradients, r.hvp]) }));
      if (res.notMeasured.length) out(formatResultTable({ title: "not measured", columns: ["measure", "family", "why"], rows: res.notMeasured.map((m) => [m.id, m.family, m.why]) }));
    });
}
