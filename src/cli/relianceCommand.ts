/**
 * `genlab reliance`: which input features a trained classifier relies on (Shah et al., "The Pitfalls of Simplicity
 * Bias", NeurIPS 2020: S- and Sᶜ-randomised AUC). For each declared group of input columns (or every column alone,
 * `--each`), the group's values are permuted across the rows of the data — one permutation for the group's columns,
 * so their joint law and every other column are kept — and the model's AUC and accuracy measured again, `--repeats`
 * times with independent permutations. A model that ignores a group keeps its AUC; one that relies on it alone drops
 * to ≈ 0.5. The model: a genlab run's (`--run`) or the user's safetensors / ONNX file (`--model-file`), as `genlab
 * measure` reads them; the data: held-out rows with labels, in any format `genlab scores` reads. With `--rotation W`
 * (a d × d orthogonal .npy, inputs x = x₀W) the groups are columns of x₀, as in the paper's rotated slab data.
 * Every input is checked before the first forward pass; outputs are written atomically.
 */
import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { resolve } from "node:path";
import { userError } from "../core/errors.ts";
import { keyFromSeed } from "../core/prng.ts";
import { formatCsv } from "../data/csv.ts";
import { decodeNpy } from "../data/npy.ts";
import { checkOutputPath, readUserFile } from "../io/paths.ts";
import { err, errStream, out } from "../io/console.ts";
import { networkLogits } from "../measures/catalogue.ts";
import { featureReliance, type FeatureGroup } from "../measures/featureReliance.ts";
import { writeFileAtomic } from "../runner/files.ts";
import { formatDuration, formatTable } from "../runner/progress.ts";
import { formatResultTable } from "../runner/run.ts";
import { intIn } from "./dataCommands.ts";
import { loadModelData, modelDataOptions, type ModelDataFlags } from "./measureCommand.ts";

type RelianceFlags = ModelDataFlags & { group: string[]; each?: boolean; rotation?: string; repeats: number; seed: number; out?: string; json?: boolean };

/** Most groups one call evaluates (each is `repeats` passes over the data). */
export const MAX_GROUPS = 4096;

/** One `--group name=cols` value: cols a comma list of indices and ranges a-b (inclusive), 0-based. Bounds are checked once d is known. */
export function parseGroup(v: string, previous: string[] = []): string[] {
  const eq = v.indexOf("=");
  if (eq <= 0 || eq === v.length - 1) throw new InvalidArgumentError(`expected name=columns (e.g. linear=0 or slabs=1-49,52), got ${JSON.stringify(v)}`);
  columnsOf(v.slice(eq + 1), v);
  return [...previous, v];
}

/** Most columns a data set may have for `genlab reliance` (a group's range is checked against it before expanding). */
const MAX_COLUMNS = 16_777_216;

function columnsOf(spec: string, whole: string): number[] {
  const cols: number[] = [];
  const seen = new Set<number>();
  for (const part of spec.split(",")) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new InvalidArgumentError(`in ${JSON.stringify(whole)}: ${JSON.stringify(part)} is not a column index or a range a-b`);
    const a = Number(m[1]), b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new InvalidArgumentError(`in ${JSON.stringify(whole)}: the range ${a}-${b} runs backwards`);
    if (b >= MAX_COLUMNS) throw new InvalidArgumentError(`in ${JSON.stringify(whole)}: column ${b} is beyond ${MAX_COLUMNS - 1}`);
    for (let c = a; c <= b; c++) {
      if (seen.has(c)) throw new InvalidArgumentError(`in ${JSON.stringify(whole)}: column ${c} is listed twice`);
      seen.add(c);
      cols.push(c);
    }
  }
  return cols;
}

/** The groups of the flags, checked against d: names unique, columns in [0, d). */
export function groupsOf(flags: string[], each: boolean, d: number): FeatureGroup[] {
  const groups: FeatureGroup[] = flags.map((v) => {
    const eq = v.indexOf("=");
    return { name: v.slice(0, eq), columns: columnsOf(v.slice(eq + 1), v) };
  });
  for (const g of groups) {
    const bad = g.columns.find((c) => c >= d);
    if (bad !== undefined) throw userError("bad_flag", ["--group", g.name], `column ${bad} is outside the data's ${d} columns (0..${d - 1})`);
  }
  if (each) {
    if (d > MAX_GROUPS) throw userError("bad_flag", ["--each"], `the data have ${d} columns, more than ${MAX_GROUPS} single-column groups; declare groups with --group`);
    for (let c = 0; c < d; c++) groups.push({ name: `x${c}`, columns: [c] });
  }
  const names = new Set<string>();
  for (const g of groups) {
    if (names.has(g.name)) throw userError("bad_flag", ["--group", g.name], `two groups have this name${each && /^x\d+$/.test(g.name) ? " (--each names the single columns x0, x1, …)" : ""}`);
    names.add(g.name);
  }
  if (!groups.length) throw userError("bad_flag", ["--group"], "no feature group: declare one or more with --group name=cols (e.g. --group linear=0 --group slabs=1-49), or --each");
  if (groups.length > MAX_GROUPS) throw userError("bad_flag", ["--group"], `${groups.length} groups, at most ${MAX_GROUPS}`);
  return groups;
}

/** The rotation file: a d × d float .npy, orthogonal to 1e-3 (its transpose is used as its inverse). */
function loadRotation(path: string, d: number): Float64Array {
  const a = decodeNpy(readUserFile(resolve(path), "--rotation", 8 * d * d + 4096, "rotation file"), path);
  if (a.shape.length !== 2 || a.shape[0] !== d || a.shape[1] !== d) throw userError("shape_mismatch", ["--rotation"], `${path} has shape [${a.shape.join(", ")}], expected [${d}, ${d}] (the data's columns)`);
  const W = Float64Array.from(a.data as ArrayLike<number>);
  for (let k = 0; k < W.length; k++) if (!Number.isFinite(W[k])) throw userError("file", [path], `entry ${k} is ${W[k]}; a rotation must be finite`);
  let worst = 0;
  for (let i = 0; i < d; i++)
    for (let j = i; j < d; j++) {
      let s = 0;
      for (let t = 0; t < d; t++) s += W[i * d + t] * W[j * d + t];
      worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
    }
  if (worst > 1e-3) throw userError("bad_input", ["--rotation"], `${path} is not orthogonal (max |WWᵀ − I| = ${worst.toPrecision(3)}); genlab undoes the rotation with Wᵀ`);
  return W;
}

const describeColumns = (cols: number[]): string => {
  const runs: string[] = [];
  for (let i = 0; i < cols.length; ) {
    let j = i;
    while (j + 1 < cols.length && cols[j + 1] === cols[j] + 1) j++;
    runs.push(j > i ? `${cols[i]}-${cols[j]}` : `${cols[i]}`);
    i = j + 1;
  }
  const s = runs.join(",");
  return s.length > 40 ? `${s.slice(0, 37)}…` : s;
};

export function addRelianceCommand(program: Command): void {
  modelDataOptions(program.command("reliance"), "held-out data with labels")
    .description("feature reliance of a trained classifier: the AUC and accuracy after randomising each declared group of input columns (S- / Sᶜ-randomised AUC, Shah et al. 2020)")
    .option("--group <name=cols>", "a feature group, repeatable: columns as 0-based indices and ranges, e.g. --group linear=0 --group slabs=1-49", parseGroup, [])
    .option("--each", "also every column alone (the per-feature reliance profile)")
    .option("--rotation <file>", "a d × d orthogonal .npy W with inputs x = x₀W: groups are columns of x₀, randomised in that basis")
    .option("--repeats <n>", "independent permutations per group (mean ± sd)", intIn(1, 1000, "an integer in [1, 1000]"), 5)
    .option("--seed <n>", "seed of the permutations", intIn(0, 0xffffffff, "a decimal integer in [0, 4294967295]"), 0)
    .option("--out <file>", "reliance.csv (pandas.read_csv) or reliance.json")
    .option("--json", "print the result as JSON on stdout")
    .action(async (o: RelianceFlags) => {
      if (!!o.run === !!o.modelFile) throw userError("bad_flag", ["--run", "--model-file"], "give exactly one of --run <id> and --model-file <file>");
      const outPath = o.out ? checkOutputPath(o.out, { flag: "--out", exts: [".csv", ".json"], inputs: [["--data", o.data], ["--labels", o.labels], ["--model-file", o.modelFile], ["--rotation", o.rotation]] }) : null;
      const { model, data, dataDesc, d, C } = loadModelData(o, "held-out data with labels");
      const groups = groupsOf(o.group, !!o.each, d);
      const rotation = o.rotation ? loadRotation(o.rotation, d) : null;
      const n = data.y.length;
      const present = new Set(Array.from(data.y as ArrayLike<number>));
      if (present.size < 2) throw userError("bad_input", ["--data"], `every label is ${[...present][0]}: the AUC needs at least two classes present`);
      const net = networkLogits(model.net);
      const x = data.x instanceof Float32Array ? data.x : Float32Array.from(data.x);
      const t0 = performance.now();
      const tty = errStream().isTTY;
      const total = 1 + groups.length * o.repeats;
      let done = 0;
      let lastLine = 0;
      let res;
      try {
        res = await featureReliance({
          logits: async (xs, rows) => {
            const z = await net.logits(xs, rows);
            done++;
            const now = performance.now();
            if (done === total || now - lastLine > (tty ? 200 : 5000)) {
              lastLine = now;
              const el = (now - t0) / 1000;
              err(`${tty ? "\r" : ""}genlab reliance  ${done}/${total} passes  elapsed ${formatDuration(el)}  ETA ${formatDuration((el / done) * (total - done))}${tty ? "" : "\n"}`);
            }
            return z;
          },
          classes: C,
          x,
          y: data.y,
          d,
          groups,
          rotation,
          repeats: o.repeats,
          key: keyFromSeed(o.seed),
        });
      } finally {
        net.dispose();
      }
      if (tty) err("\n");
      const seconds = (performance.now() - t0) / 1000;
      const rows = res.groups.map((g) => ({ group: g.name, columns: g.columns, auc: g.auc, auc_sd: g.aucSd, auc_drop: res.auc - g.auc, accuracy: g.accuracy, accuracy_sd: g.accuracySd }));
      const aucWhat = C === 2 ? "AUC of l₁ − l₀" : `macro one-vs-rest AUC of the softmax over the ${res.aucClasses} classes present in the labels (the model has ${C})`;
      if (outPath) {
        const text = outPath.toLowerCase().endsWith(".json")
          ? JSON.stringify({ model: model.describe, data: dataDesc, rows: n, classes: C, auc_is: aucWhat, repeats: o.repeats, seed: o.seed, rotation: o.rotation ?? null, auc: res.auc, accuracy: res.accuracy, groups: rows, seconds }, null, 2) + "\n"
          : formatCsv(
              ["group", "columns", "n_columns", "auc", "auc_sd", "auc_drop", "accuracy", "accuracy_sd"],
              [["(none)", ...rows.map((r) => r.group)], ["", ...rows.map((r) => r.columns.join(" "))], [0, ...rows.map((r) => r.columns.length)], [res.auc, ...rows.map((r) => r.auc)], [NaN, ...rows.map((r) => r.auc_sd ?? NaN)], [0, ...rows.map((r) => r.auc_drop)], [res.accuracy, ...rows.map((r) => r.accuracy)], [NaN, ...rows.map((r) => r.accuracy_sd ?? NaN)]],
            );
        writeFileAtomic(outPath, text);
      }
      if (o.json) {
        out(JSON.stringify({ model: model.describe, notes: model.notes, data: dataDesc, rows: n, classes: C, auc_is: aucWhat, repeats: o.repeats, seed: o.seed, rotation: o.rotation ?? null, auc: res.auc, accuracy: res.accuracy, groups: rows, seconds, out: outPath }, null, 2) + "\n");
        return;
      }
      out(formatTable([["model", model.describe], ...model.notes.map((m) => ["note", m] as [string, string]), ["data", `${dataDesc}: ${n} rows × ${d} columns, ${C} classes`], ["AUC", aucWhat], ["randomised", `each group's columns permuted across rows (one permutation per group${rotation ? `, in the basis x₀ = xWᵀ of ${o.rotation}` : ""}), ${o.repeats} time${o.repeats === 1 ? "" : "s"}, seed ${o.seed}`], ["time", formatDuration(seconds)], ...(outPath ? [["written", outPath] as [string, string]] : [])], "genlab reliance"));
      out(
        formatResultTable({
          title: `feature reliance (mean ± sd over ${o.repeats} permutation${o.repeats === 1 ? "" : "s"}; a group the model ignores keeps the AUC, one it relies on alone drops it to ≈ 0.5)`,
          columns: ["randomised", "columns", "AUC", "± sd", "AUC drop", "accuracy", "± sd"],
          rows: [["(none)", "", res.auc, null, 0, res.accuracy, null], ...rows.map((r) => [r.group, describeColumns(r.columns), r.auc, r.auc_sd, r.auc_drop, r.accuracy, r.accuracy_sd] as (string | number | null)[])],
        }),
      );
    });
}
