/**
 * `genlab cka`: representational similarity by linear CKA (Kornblith et al. 2019; measures/cka.ts).
 * - `--acts a.npy --acts b.npy …`: representations you saved (each [n, …] for the same n examples, e.g. a layer's
 *   activations dumped from PyTorch): CKA between every pair.
 * - `--model-file m.onnx` (or `--run <id>`) `--data x`: every layer of the model (the input, each hidden layer after
 *   its ReLU, the logits) against every other; with `--against other.onnx` (or `--against-run`), against that
 *   model's layers — e.g. a trained network and its initialisation, or a guided network and its guide.
 * The first `--rows` examples are used (CKA's finite-sample value depends on n: keep it fixed when comparing). Prints
 * the matrix, writes CSV (long: row, column, cka) or JSON and an SVG/PNG heatmap, atomically; every input is checked
 * before anything runs.
 */
import type { Command } from "commander";
import { basename, extname, resolve } from "node:path";
import { userError } from "../core/errors.ts";
import { formatCsv } from "../data/csv.ts";
import type { Dataset } from "../data/dataset.ts";
import { loadFeatures } from "../io/loggedOutputs.ts";
import { networkIO, type LoadedModel } from "../io/modelFiles.ts";
import { checkOutputPath } from "../io/paths.ts";
import { loadUserData, type Normalize } from "../io/userData.ts";
import { err, out } from "../io/console.ts";
import { ckaMatrix, type Representation } from "../measures/cka.ts";
import { networkRepresentations } from "../measures/catalogue.ts";
import { figureSvg } from "../report/plot.ts";
import { fontFile, headlessDocument, svgToPng } from "../report/render.ts";
import { writeFileAtomic } from "../runner/files.ts";
import { formatDuration, formatTable } from "../runner/progress.ts";
import { formatResultTable } from "../runner/run.ts";
import { delimiterArg, headerFlag, intIn } from "./dataCommands.ts";
import { loadModelFile, loadRun } from "./measureCommand.ts";

type CkaFlags = {
  acts: string[];
  run?: string;
  runs: string;
  store?: string;
  model?: string;
  modelFile?: string;
  against?: string;
  againstRun?: string;
  againstModel?: string;
  data?: string;
  labels?: string;
  xKey?: string;
  yKey?: string;
  labelColumn?: string;
  header?: boolean;
  delimiter?: string;
  normalize: Normalize;
  rows: number;
  out?: string;
  figure?: string;
  json?: boolean;
};

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** The examples the models see: a features-only .npy (no labels needed), or any format genlab reads with its labels. */
function loadRows(o: CkaFlags): { x: Float32Array; n: number; d: number; desc: string } {
  if (!o.data) throw userError("bad_flag", ["--data"], "a model needs the examples to represent: pass --data");
  if (extname(o.data).toLowerCase() === ".npy" && !o.labels) {
    if (o.normalize !== "none") throw userError("bad_flag", ["--normalize"], "applies to data read with labels; a features-only .npy is used as it is (normalise it as the model was trained)");
    const f = loadFeatures(resolve(o.data), null, "--data");
    return { x: f.data, n: f.n, d: f.d, desc: `${o.data} (.npy features)` };
  }
  const u = loadUserData(o.data, { labels: o.labels, xKey: o.xKey, yKey: o.yKey, labelColumn: o.labelColumn, normalize: o.normalize, header: headerFlag(o.header), delimiter: o.delimiter, flag: "--data", minClassesPresent: 1 });
  const data: Dataset = u.data;
  return { x: data.x as Float32Array, n: data.y.length, d: data.xShape.slice(1).reduce((a, b) => a * b, 1), desc: `${u.path} (${u.format}, ${u.normalization})` };
}

function modelOf(run: string | undefined, file: string | undefined, o: CkaFlags, which: "model" | "against", d: number): LoadedModel {
  const flag = which === "model" ? (run ? "--run" : "--model-file") : run ? "--against-run" : "--against";
  const m = run ? loadRun({ run, runs: o.runs, store: o.store, model: which === "model" ? o.model : o.againstModel }).model : loadModelFile(file!, flag, d);
  const io = networkIO(m.net);
  if (io.inputDim !== d) throw userError("shape_mismatch", [flag], `the network's input takes ${io.inputDim} features, the data have ${d}`);
  return m;
}

const shortName = (s: string) => (s.length > 24 ? `${s.slice(0, 23)}…` : s);
/** A heatmap tick label: "conv 1 → relu" → "conv1", "dense 2 → relu (256)" → "dense2", a file name cut to 10 characters. */
const tickName = (s: string) => {
  const t = s.replace(/ → relu.*$/, "").replace(/ /g, "");
  return t.length > 10 ? `${t.slice(0, 9)}…` : t;
};

export function addCkaCommand(program: Command): void {
  program
    .command("cka")
    .description("representational similarity (linear CKA) between saved activations, or between the layers of your model(s) on your data")
    .option("--acts <file>", "a representation [n, …] (.npy), repeatable: CKA between every pair", collect, [])
    .option("--model-file <file>", "your model: .safetensors (Linear layers, ReLU between) or .onnx (MLP or CNN)")
    .option("--run <id>", "a genlab run's saved model instead")
    .option("--runs <dir>", "folder of the run store (with --run / --against-run)", "runs")
    .option("--store <path>", "run store file (default <runs>/genlab.db)")
    .option("--model <name>", "which of --run's saved models")
    .option("--against <file>", "a second model (same input): its layers form the columns")
    .option("--against-run <id>", "a genlab run's saved model as the second model")
    .option("--against-model <name>", "which of --against-run's saved models")
    .option("--data <path>", "the examples: a features .npy [n, …] (no labels needed), or .npz / IDX folder / CSV / .npy with --labels")
    .option("--labels <file>", "labels for a .npy or IDX --data (read, not used)")
    .option("--x-key <name>", "the features' array name in a .npz", "x")
    .option("--y-key <name>", "the labels' array name in a .npz", "y")
    .option("--label-column <name|n>", "the label column of a CSV")
    .option("--header", "the CSV's first row is a header (default: detected)")
    .option("--no-header", "the CSV has no header row")
    .option("--delimiter <c>", "the CSV's field delimiter", delimiterArg)
    .option("--normalize <how>", "feature preprocessing, as the model was trained: none | standardize | scale255", "none")
    .option("--rows <n>", "use the first n examples (CKA's value depends on n: keep it fixed across comparisons)", intIn(2, 100_000, "an integer in [2, 100000]"), 2000)
    .option("--out <file>", "cka.csv (long: row, column, cka) or cka.json")
    .option("--figure <file>", "a heatmap: .svg or .png")
    .option("--json", "print the result as JSON on stdout")
    .action(async (o: CkaFlags) => {
      const models = !!o.modelFile || !!o.run;
      if (!!o.acts.length === models) throw userError("bad_flag", ["--acts", "--model-file"], o.acts.length ? "give either --acts files or a model (--model-file / --run), not both" : "give --acts files (representations you saved) or a model with --model-file / --run");
      if (o.modelFile && o.run) throw userError("bad_flag", ["--run", "--model-file"], "give one of --run <id> and --model-file <file>");
      if (o.against && o.againstRun) throw userError("bad_flag", ["--against", "--against-run"], "give one of --against <file> and --against-run <id>");
      if (!models && (o.against || o.againstRun || o.data)) throw userError("bad_flag", [o.data ? "--data" : "--against"], "is read with a model (--model-file / --run); --acts files are compared as they are");
      if (o.acts.length === 1) throw userError("bad_flag", ["--acts"], "one representation: give two or more --acts files to compare");
      if (!models && o.labels) throw userError("bad_flag", ["--labels"], "is read with a model's --data; --acts files need no labels");
      if (o.model && !o.run) throw userError("bad_flag", ["--model"], "chooses among --run's saved models: give --run");
      if (o.againstModel && !o.againstRun) throw userError("bad_flag", ["--against-model"], "chooses among --against-run's saved models: give --against-run");
      if (!["none", "standardize", "scale255"].includes(o.normalize)) throw userError("bad_flag", ["--normalize"], `expected none, standardize or scale255, got ${JSON.stringify(o.normalize)}`);
      const inputs: [string, string | undefined][] = [["--data", o.data], ["--labels", o.labels], ["--model-file", o.modelFile], ["--against", o.against], ...o.acts.map((a) => ["--acts", a] as [string, string])];
      const outPath = o.out ? checkOutputPath(o.out, { flag: "--out", exts: [".csv", ".json"], inputs }) : null;
      const figPath = o.figure ? checkOutputPath(o.figure, { flag: "--figure", exts: [".svg", ".png"], inputs }) : null;
      if (outPath && figPath && outPath === figPath) throw userError("bad_flag", ["--figure"], `${o.figure} is also --out; choose two files`);
      if (figPath?.toLowerCase().endsWith(".png") && !fontFile()) throw userError("environment", ["--figure"], "PNG figures need a font: install fonts-dejavu-core, or write an .svg");
      const t0 = performance.now();
      let rows: Representation[];
      let cols: Representation[];
      let n: number;
      let what: [string, string][];
      if (!models) {
        const first = loadFeatures(resolve(o.acts[0]), null, "--acts");
        n = Math.min(o.rows, first.n);
        if (n < 2) throw userError("bad_input", ["--acts", o.acts[0]], `has ${first.n} example; CKA needs at least 2`);
        const reps = o.acts.map((f, i) => {
          const a = i === 0 ? first : loadFeatures(resolve(f), first.n, "--acts");
          return { name: basename(f), data: a.data.subarray(0, n * a.d), width: a.d };
        });
        const names = reps.map((r) => r.name);
        const dup = names.find((x, i) => names.indexOf(x) !== i);
        if (dup) throw userError("bad_flag", ["--acts", dup], "two files have this name; rename one (the name labels the matrix)");
        rows = cols = reps;
        what = [["representations", reps.map((r) => `${r.name} (${r.width})`).join(", ")]];
      } else {
        const data = loadRows(o);
        n = Math.min(o.rows, data.n);
        if (n < 2) throw userError("bad_input", ["--data"], `has ${data.n} example; CKA needs at least 2`);
        const a = modelOf(o.run, o.modelFile, o, "model", data.d);
        const b = o.against || o.againstRun ? modelOf(o.againstRun, o.against, o, "against", data.d) : null;
        const x = data.x.subarray(0, n * data.d);
        err(`genlab cka  forward passes on ${n} examples…\n`);
        rows = await networkRepresentations(a.net, x, n);
        cols = b ? await networkRepresentations(b.net, x, n) : rows;
        what = [["model", a.describe], ...(b ? [["against", b.describe] as [string, string]] : []), ["data", `${data.desc}: the first ${n} of ${data.n} examples`]];
      }
      const values = await ckaMatrix(rows, cols, n);
      const seconds = (performance.now() - t0) / 1000;
      const rowNames = rows.map((r) => r.name), colNames = cols.map((r) => r.name);
      if (figPath) {
        const svg = figureSvg(
          {
            name: "cka",
            title: "linear CKA",
            subtitle: `${n} examples`,
            panels: [{ kind: "heatmap", title: "CKA", xLabel: o.against || o.againstRun ? "second model's layers" : "representation", yLabel: "representation", x: colNames.map(tickName), y: rowNames.map(tickName), values, colorLabel: "CKA", width: 200 + 80 * colNames.length }],
          },
          headlessDocument(),
        );
        writeFileAtomic(figPath, figPath.toLowerCase().endsWith(".png") ? svgToPng(svg) : svg);
      }
      const result = { rows: rowNames, columns: colNames, widths: { rows: rows.map((r) => r.width), columns: cols.map((r) => r.width) }, examples: n, cka: values, seconds };
      if (outPath) {
        const text = outPath.toLowerCase().endsWith(".json")
          ? JSON.stringify({ ...Object.fromEntries(what), ...result }, null, 2) + "\n"
          : formatCsv(["row", "column", "cka"], [rowNames.flatMap((r) => colNames.map(() => r)), rowNames.flatMap(() => colNames), values.flat()]);
        writeFileAtomic(outPath, text);
      }
      if (o.json) {
        out(JSON.stringify({ ...Object.fromEntries(what), ...result, out: outPath, figure: figPath }, null, 2) + "\n");
        return;
      }
      out(formatTable([...what, ["time", formatDuration(seconds)], ...(outPath ? [["written", outPath] as [string, string]] : []), ...(figPath ? [["figure", figPath] as [string, string]] : [])], "genlab cka"));
      out(formatResultTable({ title: `linear CKA (${n} examples): rows × columns`, columns: ["", ...colNames.map(shortName)], rows: rowNames.map((r, i) => [shortName(r), ...values[i]]) }));
    });
}
