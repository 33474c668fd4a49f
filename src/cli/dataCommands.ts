/**
 * `genlab scores`, `genlab prune` and `genlab issues`: the data scores on a user's own dataset. Argument
 * parsing, file I/O and printing only; the work is src/scores/pipeline.ts and src/scores/issues.ts. Every
 * input is checked before any training starts, and outputs are written atomically at the end: bad input,
 * a failure or Ctrl-C leave no output file behind.
 */
import { type Command, InvalidArgumentError, Option } from "commander";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { totalmem } from "node:os";
import { join, resolve } from "node:path";
import { zipSync } from "fflate";
import { GenlabError, userError } from "../core/errors.ts";
import { formatCsv } from "../data/csv.ts";
import { decodeNpy, encodeNpy } from "../data/npy.ts";
import { checkOutputPath, readUserFile, readUserText } from "../io/paths.ts";
import { loadScoreFile } from "../io/scoreFile.ts";
import { loadFeatures, loadLoggedOutputs, loadPredProbs } from "../io/loggedOutputs.ts";
import { loadLabels, loadUserData, MAX_CLASSES, type Normalize, type UserData } from "../io/userData.ts";
import { findLabelIssues, selfConfidence } from "../scores/confidentLearning.ts";
import { dynamicsAtEpoch, type Dynamics } from "../scores/dynamics.ts";
import { dynamicsFromOutputs } from "../scores/logged.ts";
import { topReasons } from "../scores/reasons.ts";
import { numRows } from "../data/dataset.ts";
import { memorizationProxy } from "../scores/memorization.ts";
import { writeFileAtomic } from "../runner/files.ts";
import { formatDuration, formatTable, Progress } from "../runner/progress.ts";
import { buildIssues, ISSUE_DESCRIPTIONS, ISSUE_TYPES, issueReasons, type IssueTable, type IssueType } from "../scores/issues.ts";
import { parseModelSpec, type ClassifierModel } from "../scores/models.ts";
import { firstNeighbours, nearestNeighbours, type NearestNeighbours } from "../scores/nearDuplicates.ts";
import { OUTLIER_K, outlierIssues } from "../scores/outliers.ts";
import { nativeMatmul } from "../core/jax.ts";
import { dynamicsColumns, OUTPUT_SCORE_IDS, planScoreJob, SCORE_COSTS, runScoreJob, SCORE_IDS, ScoreJobStopped, type Column, type ScoreId, type ScoreResult, type TrainingCache, type TrainRecipe } from "../scores/pipeline.ts";
import { keepFraction } from "../scores/selection.ts";
import { out, err } from "../io/console.ts";

/** --save-dynamics: a folder (existing or to create) where no file named like ours is an input. */
function checkDynamicsDir(dir: string, shown: string, inputs: (string | undefined)[]): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw userError("bad_flag", ["--save-dynamics"], `${shown} is a file; expected a folder`);
  if (!existsSync(dir)) return;
  for (const input of inputs) {
    if (!input) continue;
    const files = existsSync(input) && statSync(input).isDirectory() ? readdirSync(input).map((f) => resolve(input, f)) : [resolve(input)];
    for (const f of files) if (resolve(f).startsWith(dir + "/") && /^run\d+_.*\.npy$/.test(f.slice(dir.length + 1))) throw userError("bad_flag", ["--save-dynamics"], `${shown} holds the input ${f}, which the dynamics would overwrite; choose another folder`);
  }
}

/** A decimal integer flag in [lo, hi] (commander argument parser). */
export function intIn(lo: number, hi: number, what: string) {
  return (v: string) => {
    const n = /^(0|[1-9][0-9]{0,9})$/.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n < lo || n > hi) throw new InvalidArgumentError(`expected ${what}, got ${JSON.stringify(v)}`);
    return n;
  };
}
function numIn(lo: number, hi: number, what: string, loOpen = false) {
  return (v: string) => {
    const n = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v.trim()) ? Number(v) : NaN;
    if (!Number.isFinite(n) || n < lo || n > hi || (loOpen && n === lo)) throw new InvalidArgumentError(`expected ${what}, got ${JSON.stringify(v)}`);
    return n;
  };
}
function listOf<T extends string>(valid: readonly T[], what: string) {
  return (v: string): T[] => {
    const items = v.split(",").map((x) => x.trim()).filter(Boolean);
    const bad = items.filter((x) => !valid.includes(x as T));
    if (bad.length || items.length === 0) throw new InvalidArgumentError(`unknown ${what} ${bad.map((b) => JSON.stringify(b)).join(", ") || "(none given)"}; expected a comma-separated list of ${valid.join(", ")}`);
    return [...new Set(items)] as T[];
  };
}

type DataFlags = { data?: string; labels?: string; xKey?: string; yKey?: string; labelColumn?: string; numClasses?: number; classes?: number; normalize: Normalize; header?: boolean; delimiter?: string };

/** A CSV delimiter: one character that cannot be part of a number, a quote or a line break. */
export function delimiterArg(v: string): string {
  if ([...v].length !== 1 || /["\r\n0-9.eE+-]/.test(v)) throw new InvalidArgumentError(`expected one character that is not a quote, a line break or part of a number (e.g. ";" or a tab), got ${JSON.stringify(v)}`);
  return v;
}
type TrainFlags = { model: string; epochs: number; batchSize: number; lr: number; optimizer: "sgd" | "adam"; momentum: number; weightDecay: number; seed: number; runs: number; memRuns: number; folds: number; scoreEpoch: number };

function addDataOptions(c: Command): Command {
  return c
    .option("--data <path>", "a folder of IDX files, a .npz (x and y), a .npy of features (with --labels), a .csv[.gz] or an IDX image file (with --labels)")
    .option("--labels <file>", "labels for a .npy or IDX --data: .npy, IDX or one integer per line")
    .option("--x-key <name>", "the features' array name in a .npz", "x")
    .option("--y-key <name>", "the labels' array name in a .npz", "y")
    .option("--label-column <name|n>", "the label column of a CSV: a header name or a 1-based index (default: \"label\", else the last column)")
    .option("--header", "the CSV's first row is a header (default: detected; a first row that is not clearly either is refused)")
    .option("--no-header", "the CSV has no header row: its first row is an example")
    .option("--delimiter <c>", "the CSV's field delimiter (default , or a tab for .tsv)", delimiterArg)
    .option("--classes <K>", `number of classes (default: the largest label + 1, said in the summary); at most ${MAX_CLASSES}`, intIn(2, MAX_CLASSES, `an integer in [2, ${MAX_CLASSES}]`))
    .option("--num-classes <K>", "the same as --classes", intIn(2, MAX_CLASSES, `an integer in [2, ${MAX_CLASSES}]`))
    .addOption(new Option("--normalize <how>", "feature scaling: auto (uint8 /255, tabular standardised, float images kept), none, standardize, scale255").choices(["auto", "none", "standardize", "scale255"]).default("auto"));
}

function addTrainOptions(c: Command, defaults: { runs: number; memRuns: number; epochs: number }): Command {
  return c
    .option("--model <spec>", "linear, mlp[:h1,h2,…] or cnn[:c1,c2,hidden]", "mlp:256,256")
    .option("--epochs <E>", "epochs of every training", intIn(1, 10000, "an integer in [1, 10000]"), defaults.epochs)
    .option("--batch-size <B>", "minibatch size", intIn(1, 1_000_000, "a positive integer"), 128)
    .option("--lr <lr>", "learning rate", numIn(0, 100, "a number in (0, 100]", true), 0.05)
    .addOption(new Option("--optimizer <opt>", "sgd (momentum) or adam").choices(["sgd", "adam"]).default("sgd"))
    .option("--momentum <m>", "SGD momentum", numIn(0, 0.999, "a number in [0, 0.999]"), 0.9)
    .option("--weight-decay <wd>", "L2 weight decay (coupled)", numIn(0, 1, "a number in [0, 1]"), 0)
    .option("--seed <n>", "random seed (data order, inits, folds, subsets)", intIn(0, 0xffffffff, "a decimal integer in [0, 4294967295]"), 0)
    .option("--runs <R>", "independent full-data runs the dynamics scores are averaged over", intIn(1, 100, "an integer in [1, 100]"), defaults.runs)
    .option("--mem-runs <M>", "subset models for the Feldman–Zhang memorization estimate (0: none)", intIn(0, 10000, "an integer in [0, 10000]"), defaults.memRuns)
    .option("--folds <K>", "folds of the cross-fit that gives confident learning its out-of-sample probabilities", intIn(2, 50, "an integer in [2, 50]"), 5)
    .option("--score-epoch <e>", "the epoch EL2N and GraNd are read at (Data Diet: early in training)", intIn(0, 10000, "an integer ≥ 0"), 2);
}

/** --classes and its older name --num-classes: one number. */
export function classesFlag(o: { classes?: number; numClasses?: number }): number | undefined {
  if (o.classes !== undefined && o.numClasses !== undefined && o.classes !== o.numClasses) throw userError("bad_flag", ["--classes"], `--classes ${o.classes} and --num-classes ${o.numClasses} disagree (they are the same setting)`);
  return o.classes ?? o.numClasses;
}

/** --header / --no-header / detected. */
export const headerFlag = (h: boolean | undefined): boolean | "auto" => (h === undefined ? "auto" : h);

function load(o: DataFlags): UserData {
  if (!o.data) throw userError("missing_flag", ["--data"], "give the training data with --data <path>");
  return loadUserData(o.data, { labels: o.labels, xKey: o.xKey, yKey: o.yKey, labelColumn: o.labelColumn, numClasses: classesFlag(o), normalize: o.normalize, header: headerFlag(o.header), delimiter: o.delimiter });
}

/** The output path, checked before any work: a writable folder, a file name we write, and none of the inputs. */
function checkOut(path: string, exts: string[], inputs: [string, string | undefined][]): string {
  return checkOutputPath(path, { flag: "--out", exts, inputs });
}

function modelFor(d: UserData, spec: string): ClassifierModel {
  return parseModelSpec(spec, { inputDim: d.data.xShape[1], numClasses: d.numClasses, image: d.image });
}

function recipeOf(o: TrainFlags): TrainRecipe {
  return { epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, optimizer: o.optimizer, momentum: o.optimizer === "sgd" ? o.momentum : 0, weightDecay: o.weightDecay };
}

function checkRecipe(o: TrainFlags, n: number, scores: ScoreId[]): void {
  const problems: GenlabError["issues"] = [];
  if (o.batchSize > n) problems.push({ code: "bad_flag", path: ["--batch-size"], message: `${o.batchSize} is larger than the ${n} examples` });
  if (o.scoreEpoch > o.epochs && (scores.includes("el2n") || scores.includes("grand"))) problems.push({ code: "bad_flag", path: ["--score-epoch"], message: `epoch ${o.scoreEpoch} is past the last of --epochs ${o.epochs}` });
  if (scores.includes("memorization") && o.memRuns < 2) problems.push({ code: "bad_flag", path: ["--mem-runs"], message: "the memorization estimate needs at least 2 subset models (16 or more for useful error bars)" });
  if (problems.length) throw new GenlabError(problems);
}

const duration = (s: number) => (s < 90 ? `${Math.max(1, Math.round(s))} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`);
const gb = (b: number) => (b >= 1e9 ? `${(b / 1e9).toFixed(1)} GB` : `${Math.max(1, Math.round(b / 1e6))} MB`);

/**
 * Before the work: the job's sizes and its estimated memory and arithmetic on stderr, and a refusal, with
 * what to do instead, when the estimate does not fit in this machine's memory.
 */
function checkPlan(name: string, job: Parameters<typeof planScoreJob>[0]): void {
  const plan = planScoreJob(job);
  const have = totalmem();
  const b = plan.bytes;
  err(`${name}: ${numRows(job.data)} examples × ${job.data.xShape.slice(1).reduce((x, y) => x * y, 1)} features, ${job.model.numParams.toLocaleString("en")} parameters; ${plan.trainings} training(s) × ${plan.epochs} epochs ≈ ${plan.gflop < 1 ? plan.gflop.toFixed(2) : Math.round(plan.gflop)} GFLOP, ${plan.steps.toLocaleString("en")} steps; time ≈ ${duration(plan.seconds)} (cost model, ${plan.backend} backend, one core of the reference machine); memory ≈ ${gb(b.total)} (data ${gb(b.data)}, model ${gb(b.model)}, dynamics ${gb(b.dynamics)}) of ${gb(have)}\n`);
  if (b.total > 0.75 * have) throw userError("too_large", ["--epochs"], `this job needs about ${gb(b.total)} of memory (the logged dynamics alone ${gb(b.dynamics)}), more than 3/4 of this machine's ${gb(have)}: use fewer --epochs or --runs, a smaller --model, or log the outputs in your own loop and pass them with --dynamics`);
}

/** Run a job with a progress bar (overall ETA over runs and epochs); Ctrl-C stops after the current step. */
/**
 * The folder `<out>.partial/` that keeps an unfinished job's finished trainings, keyed by everything that
 * determines them (the flags and the inputs' sizes and times): rerunning the same command resumes, another
 * job starts afresh, and the folder is removed once the output is written.
 */
function partialCache(outPath: string, identity: unknown): { cache: TrainingCache; kept: () => number; dir: string } {
  const dir = `${outPath}.partial`;
  const hash = createHash("sha256").update(JSON.stringify(identity)).digest("hex");
  const jobFile = join(dir, "job.json");
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory() || !existsSync(jobFile)) throw userError("bad_flag", ["--out"], `${dir} exists and is not a genlab partial folder; move it away (genlab keeps an unfinished job's trainings there)`);
    let same = false;
    try {
      same = (JSON.parse(readUserText(jobFile, jobFile, 1 << 20)) as { hash?: string }).hash === hash;
    } catch {
      same = false;
    }
    if (!same) rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  if (!existsSync(jobFile)) writeFileAtomic(jobFile, JSON.stringify({ hash, note: "finished trainings of an unfinished genlab job; rerun the same command to resume" }) + "\n");
  const file = (name: string) => join(dir, `${name}.npy`);
  const kept = () => readdirSync(dir).filter((f) => f.endsWith(".npy")).length;
  return {
    dir,
    kept,
    cache: {
      get: (name) => {
        if (!existsSync(file(name))) return null;
        try {
          const a = decodeNpy(readUserFile(file(name), file(name)), file(name));
          return a.data instanceof Float32Array ? a.data : Float32Array.from(a.data);
        } catch {
          return null; // a damaged partial file: that training runs again
        }
      },
      put: (name, data) => writeFileAtomic(file(name), encodeNpy({ data, shape: [data.length] })),
    },
  };
}

/** What determines a job's trainings: its flags and its inputs (path, size, modification time). */
function jobIdentity(o: object, inputs: (string | undefined)[]): unknown {
  const files = inputs.filter((p): p is string => !!p).map((p) => {
    const st = statSync(p);
    return st.isDirectory() ? { p: resolve(p), files: readdirSync(p).sort().map((f) => [f, statSync(join(p, f)).size, statSync(join(p, f)).mtimeMs]) } : { p: resolve(p), size: st.size, mtime: st.mtimeMs };
  });
  const flags = Object.fromEntries(Object.entries(o).filter(([k]) => !["out", "json", "top", "saveDynamics"].includes(k)));
  return { flags, files };
}

async function runWithProgress(name: string, job: Parameters<typeof runScoreJob>[0], resume?: { outPath: string; identity: unknown }): Promise<ScoreResult> {
  checkPlan(name, job);
  const partial = resume ? partialCache(resume.outPath, resume.identity) : null;
  if (partial && partial.kept() > 0) err(`${name}: resuming: ${partial.kept()} array(s) of finished trainings in ${partial.dir}\n`);
  const progress = new Progress(name);
  let stop = false;
  const onSig = () => {
    if (stop) process.exit(130);
    stop = true;
    err(`\nstopping after this step (no output is written; again to quit now)\n`);
  };
  process.on("SIGINT", onSig);
  process.on("SIGTERM", onSig);
  try {
    const result = await runScoreJob({
      ...job,
      cache: partial?.cache,
      shouldStop: () => stop,
      onProgress: (done, total, label) => {
        progress.note(label);
        progress.update(Math.floor(done * 10) / 10, total);
      },
    });
    return result;
  } catch (e) {
    if (e instanceof ScoreJobStopped) {
      progress.stop();
      throw new GenlabError({ code: "interrupted", path: [], message: `interrupted: no output was written${partial ? `; the finished trainings are kept in ${partial.dir}: rerun the same command to resume` : ""}` });
    }
    throw e;
  } finally {
    progress.stop();
    process.off("SIGINT", onSig);
    process.off("SIGTERM", onSig);
  }
}

/** Columns as CSV (index first) or as a .npz with one array per column. */
function encodeColumns(path: string, cols: Column[], text: { name: string; values: string[] }[] = []): string | Uint8Array {
  if (path.toLowerCase().endsWith(".csv")) return formatCsv([...cols.map((c) => c.name), ...text.map((t) => t.name)], [...cols.map((c) => c.values), ...text.map((t) => t.values)]);
  const files: Record<string, Uint8Array> = {};
  for (const c of cols) files[`${c.name}.npy`] = encodeNpy({ data: c.values instanceof Float32Array || c.values instanceof Float64Array || c.values instanceof Int32Array || c.values instanceof Uint8Array ? c.values : Float64Array.from(c.values), shape: [c.values.length] });
  return zipSync(files, { level: 0 });
}

function predicted(r: ScoreResult, n: number): Int32Array | null {
  if (!r.oosProbs) return null;
  const c = r.oosProbs.length / n;
  return Int32Array.from({ length: n }, (_, i) => {
    let a = 0;
    for (let j = 1; j < c; j++) if (r.oosProbs![i * c + j] > r.oosProbs![i * c + a]) a = j;
    return a;
  });
}

function describeData(d: UserData, model: ClassifierModel): [string, string][] {
  return [
    ["data", `${d.path} (${d.format}): ${d.data.xShape[0]} examples, ${d.data.xShape[1]} features${d.image ? ` (images ${d.image[0]}×${d.image[1]}×${d.image[2]})` : ""}, ${d.numClasses} classes`],
    ...d.labelNotes.map((n) => ["labels", n] as [string, string]),
    ["features", d.normalization],
    ["model", model.describe],
  ];
}

export function addDataCommands(program: Command): void {
  const scores = program.command("scores").description("per-example data scores of your dataset (EL2N, GraNd, forgetting, AUM, cartography, confident learning, memorization) → CSV or .npz");
  addDataOptions(scores);
  addTrainOptions(scores, { runs: 1, memRuns: 16, epochs: 10 });
  scores
    .option("--scores <list>", `comma-separated: ${SCORE_IDS.join(",")}`, listOf(SCORE_IDS, "score"), ["el2n", "grand", "forgetting", "aum", "cartography"] as ScoreId[])
    .requiredOption("--out <file>", "scores.csv (pandas.read_csv) or scores.npz (numpy.load: one array per column)")
    .option("--save-dynamics <dir>", "also write the raw per-example dynamics of each run as .npy [epochs × examples] arrays")
    .option("--top <k>", "examples ranked in the top k of each score get a reason (the CSV's reason column, the printed table)", intIn(0, 100000, "an integer in [0, 100000]"), 10)
    .option("--dynamics <path>", "scores from outputs you logged in your own training loop, instead of training here: per-epoch logits (or probabilities) of every example — a folder of [N, C] .npy files (one per epoch), an [E, N, C] .npy or a .npz; with --labels (docs/data-scores.md)")
    .addOption(new Option("--outputs <kind>", "what --dynamics holds").choices(["auto", "logits", "probs"]).default("auto"))
    .option("--dynamics-index <path>", "when your loop logged a subset of the examples each epoch: the example index of every logged row, per epoch (a folder of 1-D .npy, a .npz, or an [E, M] .npy)")
    .option("--first-epoch <e>", "the epoch number of the first logged array (1: logged after each epoch; 0: the initial model too)", intIn(0, 1, "0 or 1"), 1)
    .option("--json", "print the summary as JSON on stdout")
    .action(async (o: DataFlags & TrainFlags & LoggedFlags & { scores: ScoreId[]; out: string; saveDynamics?: string; json?: boolean; top: number }, cmd: Command) => {
      // from logged outputs the default is every score they give (GraNd needs gradients)
      if (o.dynamics) return scoresFromLogged(cmd.getOptionValueSource("scores") === "default" ? { ...o, scores: [...OUTPUT_SCORE_IDS] } : o);
      const outPath = checkOut(o.out, [".csv", ".npz"], [["--data", o.data], ["--labels", o.labels]]);
      const dynDir = o.saveDynamics ? resolve(o.saveDynamics) : null;
      if (dynDir) checkDynamicsDir(dynDir, o.saveDynamics!, [o.data, o.labels]);
      const d = load(o);
      const model = modelFor(d, o.model);
      checkRecipe(o, d.data.xShape[0], o.scores);
      const t0 = performance.now();
      const resume = { outPath, identity: jobIdentity(o, [o.data, o.labels]) };
      const r = await runWithProgress("genlab scores", { model, data: d.data, scores: o.scores, recipe: recipeOf(o), runs: o.runs, memRuns: o.memRuns, folds: o.folds, scoreEpoch: o.scoreEpoch, seed: o.seed }, resume);
      const n = d.data.xShape[0];
      const cols: Column[] = [
        { name: "index", values: Int32Array.from({ length: n }, (_, i) => i), doc: "row of the input" },
        { name: "label", values: d.data.y as Int32Array, doc: "given label" },
        ...r.columns,
      ];
      const reasons = topReasons(cols, n, o.top);
      writeFileAtomic(outPath, encodeColumns(outPath, cols, [{ name: "reason", values: reasons }]));
      rmSync(`${outPath}.partial`, { recursive: true, force: true }); // the job is done: its kept trainings go
      if (dynDir) {
        r.dynamics.forEach((dy, k) => {
          writeFileAtomic(resolve(dynDir, `run${k}_epochs.npy`), encodeNpy({ data: Int32Array.from(dy.epochs), shape: [dy.epochs.length] }));
          for (const [q, v] of Object.entries(dy.values)) writeFileAtomic(resolve(dynDir, `run${k}_${q}.npy`), encodeNpy({ data: v, shape: [dy.epochs.length, dy.n] }));
        });
      }
      const seconds = (performance.now() - t0) / 1000;
      if (o.json) {
        out(JSON.stringify({ out: outPath, examples: n, classes: d.numClasses, label_notes: d.labelNotes, model: model.spec, columns: cols.map((c) => ({ name: c.name, doc: c.doc })), top: topOf(reasons), info: r.info, seconds }, null, 2) + "\n");
        return;
      }
      out(formatTable([...describeData(d, model), ["trainings", `${o.runs} dynamics run(s)${o.scores.includes("cl") ? `, ${o.folds}-fold cross-fit` : ""}${o.scores.includes("memorization") ? `, ${o.memRuns} subset models` : ""} × ${o.epochs} epochs`], ...r.columns.map((c) => [c.name, c.doc] as [string, string]), ...Object.entries(r.info).map(([k, v]) => [k, v.toFixed(4)] as [string, string]), ["time", formatDuration(seconds)], ["written", outPath + (dynDir ? `, dynamics in ${dynDir}` : "")]], "genlab scores") + topTable(reasons, o.top));
    });

  program
    .command("prune")
    .description("keep a fraction of the examples by a score (Data Diet's keep-max, or its offset variant) → kept indices as .npy")
    .requiredOption("--scores <file>", "a CSV with a header (genlab scores' output, or your own)")
    .option("--score <column>", "the score column (default: el2n, else the first column after index and label)")
    .requiredOption("--keep <f>", "fraction of the examples to keep, in (0, 1]", numIn(0, 1, "a number in (0, 1]", true))
    .option("--offset <k>", "first drop the k highest scores (Paul et al.'s offset subset)", intIn(0, 1e9, "an integer ≥ 0"), 0)
    .option("--keep-lowest", "keep the lowest scores instead of the highest (e.g. for aum or cl_self_confidence, where low is hard)")
    .requiredOption("--out <file>", "kept.npy: the kept rows' indices (int32, ascending; the CSV's index column when it has one)")
    .action((o: { scores: string; score?: string; keep: number; offset: number; keepLowest?: boolean; out: string }) => {
      const outPath = checkOut(o.out, [".npy"], [["--scores", o.scores]]);
      const t = loadScoreFile(o.scores, { column: o.score });
      const s = o.keepLowest ? t.scores.map((v) => -v) : t.scores;
      const { name, index } = t;
      if (o.offset >= t.rows) throw userError("bad_flag", ["--offset"], `${o.offset} drops every one of the ${t.rows} examples`);
      const kept = keepFraction(s, o.keep, o.offset);
      const ids = Int32Array.from(kept, (i) => (index ? index[i] : i)).sort();
      writeFileAtomic(outPath, encodeNpy({ data: ids, shape: [ids.length] }));
      out(formatTable([["scores", `${o.scores}: ${t.rows} examples, column ${name}`], ["kept", `${ids.length} (${(100 * ids.length / t.rows).toFixed(1)}%), the ${o.keepLowest ? "lowest" : "highest"} scores${o.offset ? ` after dropping the ${o.offset} ${o.keepLowest ? "lowest" : "highest"}` : ""}`], ["written", outPath]], "genlab prune"));
    });

  const issues = program.command("issues").description("a data audit in the shape of cleanlab's Datalab: label issues, near-duplicates, outliers, memorized, hard-to-learn and ambiguous examples, per example and per dataset");
  addDataOptions(issues);
  addTrainOptions(issues, { runs: 1, memRuns: 0, epochs: 10 });
  issues
    .option("--types <list>", `comma-separated issue types: ${ISSUE_TYPES.join(",")}`, listOf(ISSUE_TYPES, "issue type"), [...ISSUE_TYPES] as IssueType[])
    .requiredOption("--out <file>", "issues.csv (pandas.read_csv) or issues.npz")
    .option("--top <k>", "examples shown per issue type in the report", intIn(0, 1000, "an integer in [0, 1000]"), 5)
    .option("--pred-probs <file>", "audit your own out-of-sample predicted probabilities [N, C] (.npy) instead of training here: with --labels; label issues and ambiguous examples from the probabilities, --features adds near-duplicates and outliers, --dynamics adds hard-to-learn and memorized (and ambiguous from the data map)")
    .option("--features <file>", "with --pred-probs: features or embeddings [N, D] (.npy) for the near-duplicate and outlier audits")
    .option("--dynamics <path>", "with --pred-probs: per-epoch logits you logged in training (as genlab scores --dynamics reads them)")
    .addOption(new Option("--outputs <kind>", "what --dynamics holds").choices(["auto", "logits", "probs"]).default("auto"))
    .option("--first-epoch <e>", "the epoch number of the first logged array of --dynamics", intIn(0, 1, "0 or 1"), 1)
    .option("--json", "print the summary as JSON on stdout")
    .action(async (o: DataFlags & TrainFlags & LoggedFlags & PredFlags & { types: IssueType[]; out: string; top: number; json?: boolean }, cmd: Command) => {
      if (o.predProbs) return issuesFromPredictions(o, cmd.getOptionValueSource("types") === "default");
      if (o.dynamics || o.features) throw userError("bad_flag", [o.dynamics ? "--dynamics" : "--features"], "is read with --pred-probs (an audit of your own predictions); without it genlab trains on --data");
      const outPath = checkOut(o.out, [".csv", ".npz"], [["--data", o.data], ["--labels", o.labels]]);
      const d = load(o);
      const model = modelFor(d, o.model);
      const types = new Set(o.types);
      const scoresNeeded: ScoreId[] = [];
      if (types.has("label") || types.has("memorized")) scoresNeeded.push("cl");
      if (types.has("hard_to_learn") || types.has("memorized")) scoresNeeded.push("el2n", "forgetting", "aum");
      if (types.has("ambiguous")) scoresNeeded.push("cartography");
      if (types.has("memorized") && o.memRuns > 0) scoresNeeded.push("memorization");
      checkRecipe(o, d.data.xShape[0], scoresNeeded);
      const t0 = performance.now();
      const r: ScoreResult = scoresNeeded.length
        ? await runWithProgress("genlab issues", { model, data: d.data, scores: scoresNeeded, recipe: recipeOf(o), runs: o.runs, memRuns: o.memRuns, folds: o.folds, scoreEpoch: Math.min(o.scoreEpoch, o.epochs), seed: o.seed }, { outPath, identity: jobIdentity(o, [o.data, o.labels]) })
        : { columns: [], dynamics: [], oosProbs: null, info: {} };
      const n = d.data.xShape[0];
      const nn = await neighboursFor(types, d.data.x as Float32Array, n, d.data.xShape[1]);
      const table = buildIssues(r, { labels: d.data.y, epochs: o.epochs, nn, types });
      const reasons = issueReasons(table, r, { labels: d.data.y, epochs: o.epochs, nn });
      const pred = predicted(r, n);
      const cols: Column[] = [
        { name: "index", values: Int32Array.from({ length: n }, (_, i) => i), doc: "row of the input" },
        { name: "given_label", values: d.data.y as Int32Array, doc: "given label" },
        ...(pred ? [{ name: "predicted_label", values: pred, doc: "out-of-sample prediction (cross-fit)" }] : []),
        ...table.columns.map((c) => ({ name: c.name, values: c.values, doc: "" })),
        ...r.columns.filter((c) => !["cl_label_issue"].includes(c.name)),
        ...neighbourColumns(nn, types.has("outlier")),
      ];
      writeFileAtomic(outPath, encodeColumns(outPath, cols, [{ name: "reason", values: reasons }]));
      rmSync(`${outPath}.partial`, { recursive: true, force: true }); // the job is done: its kept trainings go
      const seconds = (performance.now() - t0) / 1000;
      if (o.json) {
        out(JSON.stringify({ out: outPath, examples: n, classes: d.numClasses, label_notes: d.labelNotes, model: model.spec, summary: table.summary.map((s) => ({ issue_type: s.type, num_issues: s.numIssues, score: s.score })), flagged: flaggedOf(reasons), info: r.info, seconds }, null, 2) + "\n");
        return;
      }
      out(issueReport(table, describeData(d, model), cols, reasons, o.top, seconds, outPath));
    });
}

/**
 * The features' nearest neighbours when a type needs them: the nearest one for near-duplicates, the 10 nearest
 * (at most n − 1) for outliers. Null when no type does.
 */
async function neighboursFor(types: Set<IssueType>, x: Float32Array, n: number, d: number): Promise<NearestNeighbours | null> {
  if (!types.has("near_duplicate") && !types.has("outlier")) return null;
  const gflop = (2 * n * n * d) / 1e9;
  err(`genlab issues: nearest neighbours of ${n} rows × ${d} features: ${n.toLocaleString("en")}² distances ≈ ${gflop < 1 ? gflop.toFixed(2) : Math.round(gflop)} GFLOP, time ≈ ${duration(gflop / SCORE_COSTS[nativeMatmul() ? "native" : "wasm"].gflops)} (its arithmetic alone at the cost model's throughput)\n`);
  const p = new Progress(`genlab issues ${types.has("outlier") ? "nearest neighbours" : "near-duplicates"}`);
  try {
    return await nearestNeighbours(x, n, d, { k: types.has("outlier") ? Math.min(OUTLIER_K, n - 1) : 1, onProgress: (done, total) => p.update(done, total) });
  } finally {
    p.stop();
  }
}

/** The output columns of the nearest neighbour (and the outliers' mean distance to the k nearest). */
function neighbourColumns(nn: NearestNeighbours | null, outliers: boolean): Column[] {
  if (!nn) return [];
  const first = firstNeighbours(nn);
  const cols: Column[] = [{ name: "nearest_neighbour", values: first.index, doc: "" }, { name: "nearest_neighbour_distance", values: first.distance, doc: `${nn.metric} distance` }];
  if (outliers) cols.push({ name: "knn_mean_distance", values: outlierIssues(nn).meanDistance, doc: `mean ${nn.metric} distance to the ${nn.k} nearest neighbours (the outlier audit)` });
  return cols;
}

/** The examples that rank in the top k of some score, with why (the JSON summary's `top`). */
const topOf = (reasons: string[]) => reasons.flatMap((reason, index) => (reason ? [{ index, reason }] : []));

/** The printed table of the top-ranked examples and why (at most 3k lines). */
function topTable(reasons: string[], k: number): string {
  const rows = topOf(reasons).slice(0, 3 * k);
  if (!rows.length) return "";
  return `\nthe top ${k} of each score (also in the CSV's reason column):\n` + rows.map((r) => `  ${String(r.index).padStart(7)}  ${r.reason}`).join("\n") + "\n";
}

type LoggedFlags = { dynamics?: string; dynamicsIndex?: string; outputs: "auto" | "logits" | "probs"; firstEpoch: number };
type PredFlags = { predProbs?: string; features?: string };

/**
 * `genlab issues --pred-probs`: the audit of a user's own out-of-sample probabilities, training nothing.
 * Label issues (confident learning) from the probabilities; near-duplicates from --features; hard-to-learn,
 * ambiguous and memorized (the proxy) from --dynamics. A type asked for whose input is missing is an error
 * naming the input; by default every type the inputs allow is audited.
 */
async function issuesFromPredictions(o: DataFlags & TrainFlags & LoggedFlags & PredFlags & { types: IssueType[]; out: string; top: number; json?: boolean }, typesByDefault: boolean): Promise<void> {
  if (o.data) throw userError("bad_flag", ["--data", "--pred-probs"], "give --data (genlab trains and cross-fits) or --pred-probs (your own out-of-sample probabilities), not both");
  if (!o.labels) throw userError("missing_flag", ["--labels"], "--pred-probs needs the examples' labels: --labels y.npy (or one label per line)");
  const outPath = checkOut(o.out, [".csv", ".npz"], [["--pred-probs", o.predProbs], ["--labels", o.labels], ["--features", o.features], ["--dynamics", o.dynamics]]);
  const needs: Record<IssueType, string | null> = {
    label: null,
    near_duplicate: o.features ? null : "near_duplicate needs --features (the examples' features or embeddings)",
    outlier: o.features ? null : "outlier needs --features (the examples' features or embeddings)",
    memorized: o.dynamics ? null : "memorized needs --dynamics (per-epoch logits logged in training)",
    hard_to_learn: o.dynamics ? null : "hard_to_learn needs --dynamics (per-epoch logits logged in training)",
    ambiguous: null, // the data map's variability with --dynamics, else the gap between the two most probable classes
  };
  const types = typesByDefault ? ISSUE_TYPES.filter((t) => !needs[t]) : o.types;
  const missing = types.filter((t) => needs[t]);
  if (missing.length) throw userError("bad_flag", ["--types"], missing.map((t) => needs[t]).join("; "));
  const t0 = performance.now();
  const labels = loadLabels(o.labels, { numClasses: classesFlag(o), minClassesPresent: 2 });
  const n = labels.y.length;
  const probs = loadPredProbs(o.predProbs!, { n, classes: labels.numClasses });
  const c = probs.c;
  const columns: Column[] = [
    { name: "cl_self_confidence", values: selfConfidence(labels.y, probs), doc: "your out-of-sample p(given label) (confident learning's label-quality score; low = suspicious)" },
    { name: "cl_label_issue", values: findLabelIssues(labels.y, probs), doc: "confident learning's label issue flag (prune_by_noise_rate, Northcutt et al. 2021)" },
  ];
  const dynamics: Dynamics[] = [];
  let epochs = 0;
  if (o.dynamics) {
    const logged = loadLoggedOutputs(o.dynamics, { n, minClasses: c, classes: c, outputs: o.outputs, firstEpoch: o.firstEpoch, flag: "--dynamics" });
    const last = logged.epochs[logged.epochs.length - 1];
    const { dynamics: d } = await dynamicsFromOutputs(logged.values, logged.epochs, n, c, labels.y, logged.kind);
    dynamics.push(d);
    epochs = logged.epochs.filter((e) => e >= 1).length;
    const early = logged.epochs.includes(2) ? 2 : last;
    columns.push(...dynamicsColumns(dynamics, new Set<ScoreId>(["el2n", "forgetting", "aum", "cartography"]), early, last).columns);
    columns.push({ name: "memorization_proxy", values: memorizationProxy(dynamicsAtEpoch(d, "p_true", last), columns[0].values as Float64Array), doc: "PROXY: p(label) of the training fit at the last logged epoch minus your out-of-sample p(label)" });
  }
  const keep = new Set(types);
  const x = o.features ? loadFeatures(o.features, n) : null;
  const nn = x ? await neighboursFor(keep, x.data, n, x.d) : null;
  const r: ScoreResult = { columns, dynamics, oosProbs: probs.data, info: {} };
  const table = buildIssues(r, { labels: labels.y, epochs, nn, types: keep });
  const reasons = issueReasons(table, r, { labels: labels.y, epochs, nn });
  const pred = predicted(r, n);
  const cols: Column[] = [
    { name: "index", values: Int32Array.from({ length: n }, (_, i) => i), doc: "row of the input" },
    { name: "given_label", values: labels.y, doc: "given label" },
    ...(pred ? [{ name: "predicted_label", values: pred, doc: "argmax of your out-of-sample probabilities" }] : []),
    ...table.columns.map((col) => ({ name: col.name, values: col.values, doc: "" })),
    ...r.columns.filter((col) => col.name !== "cl_label_issue"),
    ...neighbourColumns(nn, keep.has("outlier")),
  ];
  writeFileAtomic(outPath, encodeColumns(outPath, cols, [{ name: "reason", values: reasons }]));
  const seconds = (performance.now() - t0) / 1000;
  if (o.json) {
    out(JSON.stringify({ out: outPath, examples: n, classes: c, label_notes: labels.notes, summary: table.summary.map((x) => ({ issue_type: x.type, num_issues: x.numIssues, score: x.score })), flagged: flaggedOf(reasons), seconds }, null, 2) + "\n");
    return;
  }
  const header: [string, string][] = [["predictions", `${o.predProbs}: ${n} examples × ${c} classes (your out-of-sample probabilities; nothing trained)`], ...labels.notes.map((x) => ["labels", x] as [string, string]), ...(o.features ? [["features", o.features] as [string, string]] : []), ...(o.dynamics ? [["dynamics", o.dynamics] as [string, string]] : [])];
  out(issueReport(table, header, cols, reasons, o.top, seconds, outPath));
}

/** `genlab scores --dynamics`: every score that needs no gradient and no extra training, from a user's logged outputs. */
async function scoresFromLogged(o: DataFlags & TrainFlags & LoggedFlags & { scores: ScoreId[]; out: string; json?: boolean; top: number }): Promise<void> {
  if (o.data) throw userError("bad_flag", ["--data", "--dynamics"], "give --data (genlab trains) or --dynamics (your logged outputs), not both");
  if (!o.labels) throw userError("missing_flag", ["--labels"], "--dynamics needs the examples' labels: --labels y.npy (or one label per line)");
  const outPath = checkOut(o.out, [".csv", ".npz"], [["--dynamics", o.dynamics], ["--labels", o.labels], ["--dynamics-index", o.dynamicsIndex]]);
  const needs: Partial<Record<ScoreId, string>> = {
    grand: "GraNd needs the model's per-example gradients: run genlab scores --data … with a model, or log gradient norms yourself",
    memorization: "memorization needs models trained on random subsets: run genlab scores --data … --scores memorization",
    cl: "confident learning needs out-of-sample probabilities from a cross-fit, not the training fit's: run genlab scores --data … --scores cl",
  };
  const cannot = o.scores.filter((s) => needs[s]);
  if (cannot.length) throw userError("bad_flag", ["--scores"], `${cannot.map((s) => needs[s]).join("; ")}; from --dynamics genlab computes ${OUTPUT_SCORE_IDS.join(", ")}`);
  const t0 = performance.now();
  const labels = readLabelsFor(o);
  const logged = loadLoggedOutputs(o.dynamics!, { n: labels.y.length, minClasses: labels.maxLabel + 1, classes: classesFlag(o), outputs: o.outputs, firstEpoch: o.firstEpoch, index: o.dynamicsIndex });
  const lastEpoch = logged.epochs[logged.epochs.length - 1];
  const scoreEpoch = o.scoreEpoch === 2 && !logged.epochs.includes(2) ? lastEpoch : o.scoreEpoch;
  if ((o.scores.includes("el2n")) && !logged.epochs.includes(scoreEpoch)) throw userError("bad_flag", ["--score-epoch"], `epoch ${scoreEpoch} was not logged (logged: ${logged.epochs[0]}..${lastEpoch})`);
  if (!logged.epochs.some((e) => e >= 1)) throw userError("file", [o.dynamics!], "logs only epoch 0 (the initial model): forgetting, AUM and cartography need epochs after training started");
  const { dynamics, clipped } = await dynamicsFromOutputs(logged.values, logged.epochs, logged.n, logged.c, labels.y, logged.kind);
  const { columns, info } = dynamicsColumns([dynamics], new Set(o.scores), scoreEpoch, lastEpoch);
  const n = logged.n;
  const cols: Column[] = [{ name: "index", values: Int32Array.from({ length: n }, (_, i) => i), doc: "row of the logged outputs" }, { name: "label", values: labels.y, doc: "given label" }, ...columns];
  const reasons = topReasons(cols, n, o.top);
  writeFileAtomic(outPath, encodeColumns(outPath, cols, [{ name: "reason", values: reasons }]));
  const notes = [...logged.notes, ...(logged.kind === "probs" ? [`margins from log-probabilities equal logit margins; ${clipped} of ${n * logged.epochs.length} (epoch, example) margins were clipped by probabilities that underflowed to 0${clipped ? " (log logits for exact AUM)" : ""}`] : [])];
  const seconds = (performance.now() - t0) / 1000;
  if (o.json) {
    out(JSON.stringify({ out: outPath, examples: n, classes: logged.c, epochs: logged.epochs, outputs: logged.kind, notes, columns: cols.map((c) => ({ name: c.name, doc: c.doc })), top: topOf(reasons), info, seconds }, null, 2) + "\n");
    return;
  }
  out(formatTable([["logged", `${logged.describe}: ${n} examples × ${logged.c} classes × ${logged.epochs.length} epochs (${logged.epochs[0]}..${lastEpoch}), ${logged.kind}`], ...notes.map((x) => ["note", x] as [string, string]), ...columns.map((c) => [c.name, c.doc] as [string, string]), ...Object.entries(info).map(([k, v]) => [k, v.toFixed(4)] as [string, string]), ["time", formatDuration(seconds)], ["written", outPath]], "genlab scores (logged dynamics)") + topTable(reasons, o.top));
}

function readLabelsFor(o: { labels?: string } & { classes?: number; numClasses?: number }): { y: Int32Array; maxLabel: number } {
  const l = loadLabels(o.labels!, { numClasses: classesFlag(o), minClassesPresent: 1 });
  let maxLabel = 0;
  for (const v of l.y) if (v > maxLabel) maxLabel = v;
  return { y: l.y, maxLabel };
}

/** The printed report: a summary table, then per type a description and its most severe examples. */
/** The flagged examples with their reasons (the JSON summary's `flagged`). */
const flaggedOf = (reasons: string[]) => reasons.flatMap((reason, index) => (reason ? [{ index, reason }] : []));

function issueReport(t: IssueTable, header: [string, string][], cols: Column[], reasons: string[], top: number, seconds: number, outPath: string): string {
  const lines: string[] = [];
  lines.push(formatTable(header, "genlab issues"));
  lines.push("Here is a summary of the issues found in your data (scores in [0, 1]: lower = more severe):\n");
  const w = Math.max(10, ...t.summary.map((s) => s.type.length));
  lines.push(`  ${"issue_type".padEnd(w)}  ${"num_issues".padStart(10)}  ${"score".padStart(6)}`);
  for (const s of [...t.summary].sort((a, b) => b.numIssues - a.numIssues)) lines.push(`  ${s.type.padEnd(w)}  ${String(s.numIssues).padStart(10)}  ${s.score.toFixed(4).padStart(6)}`);
  lines.push("");
  const get = (name: string) => cols.find((c) => c.name === name)?.values;
  for (const type of t.types) {
    const score = get(`${type}_score`)!;
    const flag = get(`is_${type}_issue`)!;
    const s = t.summary.find((x) => x.type === type)!;
    lines.push(`${"-".repeat(20)} ${type} issues ${"-".repeat(20)}`);
    lines.push(`About this issue: ${ISSUE_DESCRIPTIONS[type]}`);
    lines.push(`Number of examples with this issue: ${s.numIssues}`);
    lines.push(`Overall dataset quality in terms of this issue: ${s.score.toFixed(4)}`);
    if (top > 0 && s.numIssues > 0) {
      const idx = Array.from({ length: t.n }, (_, i) => i).filter((i) => flag[i]).sort((a, b) => score[a] - score[b] || a - b).slice(0, top);
      const extra = type === "label" ? ["given_label", "predicted_label"] : type === "near_duplicate" ? ["nearest_neighbour"] : type === "outlier" ? ["knn_mean_distance", "nearest_neighbour"] : type === "hard_to_learn" ? ["aum", "el2n", "forgetting"] : type === "ambiguous" ? (get("cartography_variability") ? ["cartography_confidence", "cartography_variability"] : ["given_label", "predicted_label"]) : ["given_label", "predicted_label"];
      lines.push(`Examples representing the most severe instances of this issue:`);
      lines.push(`  ${["index", `${type}_score`, ...extra].map((h) => h.padStart(Math.max(8, h.length))).join("  ")}`);
      for (const i of idx) {
        const cells = [String(i), score[i].toFixed(4), ...extra.map((e) => {
          const v = get(e)?.[i];
          return v === undefined ? "" : Number.isInteger(v) ? String(v) : Number(v).toFixed(4);
        })];
        lines.push(`  ${cells.map((c, k) => c.padStart(Math.max(8, ["index", `${type}_score`, ...extra][k].length))).join("  ")}`);
        const why = reasons[i].split(" | ").find((x) => x.startsWith(`${type}:`));
        if (why) lines.push(`      why: ${why.slice(type.length + 2)}`);
      }
    }
    lines.push("");
  }
  lines.push(`${t.n} examples audited in ${formatDuration(seconds)}; per-example scores and flags written to ${outPath}\n`);
  return lines.join("\n");
}
