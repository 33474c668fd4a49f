/**
 * `genlab calibrate`: calibration of a user's own predictions, no training (issue 22, deliverable 3). Reads
 * logits (`--logits`, preferred) or probabilities (`--pred-probs`) [N, C] from a .npy file and integer labels
 * (.npy, or a text file with one label a line); prints top-label, adaptive and classwise ECE, MCE, NLL, Brier
 * and accuracy with percentile bootstrap intervals, the per-bin table, and — from logits — temperature
 * scaling fitted to convergence on a seeded stratified split, with T and the metrics before and after it on
 * the held-out part. Writes JSON/CSV and a reliability diagram (SVG/PNG) atomically. Every input and output
 * is checked before any computation; every problem is one ✖ line. Definitions: docs/calibration.md.
 */
import { type Command, InvalidArgumentError } from "commander";
import { extname, resolve } from "node:path";
import { userError } from "../core/errors.ts";
import type { LineChartSpec } from "../declare/charts.ts";
import { formatCsv } from "../data/csv.ts";
import { decodeNpy, MAX_NPY_BYTES } from "../data/npy.ts";
import { checkOutputPath, readUserFile } from "../io/paths.ts";
import {
  bootstrapCalibration,
  calibrationMetrics,
  CALIBRATION_METRICS,
  fitTemperature,
  prepareCalibration,
  softmaxRows,
  stratifiedSplit,
  takeRows,
  type BinSummary,
  type CalibrationMetric,
  type MetricWithCi,
} from "../measures/calibration.ts";
import { figureSvg } from "../report/plot.ts";
import { fontFile, headlessDocument, svgToPng } from "../report/render.ts";
import { writeFileAtomic } from "../runner/files.ts";
import { formatDuration, formatTable } from "../runner/progress.ts";
import { formatResultTable } from "../runner/run.ts";
import { intIn } from "./dataCommands.ts";
import { out } from "../io/console.ts";


type CalibrateFlags = {
  logits?: string;
  predProbs?: string;
  labels?: string;
  bins: number;
  bootstrap: number;
  seed: number;
  holdout?: number;
  out?: string;
  figure?: string;
  json?: boolean;
};

/** Rows whose sum is further than this from 1 are not probabilities (float32 softmax sums to 1 within ~1e-6). */
const SUM_TOLERANCE = 1e-3;
const LEVEL = 0.95;

function fraction(v: string): number {
  const x = /^(0?\.[0-9]{1,12}|0|1)$/.test(v) ? Number(v) : NaN;
  if (!(x > 0 && x < 1)) throw new InvalidArgumentError(`expected a fraction in (0, 1) such as 0.5, got ${JSON.stringify(v)}`);
  return x;
}

type Predictions = { data: Float64Array; n: number; c: number; path: string };

/** A [N, C] float array from a .npy file; a binary [N] / [N, 1] array is refused with the class orientation spelled out. */
export function readPredictions(path: string, flag: "--logits" | "--pred-probs"): Predictions {
  if (extname(path).toLowerCase() !== ".npy") throw userError("bad_flag", [flag], `${path}: expected a .npy file holding an [N, C] array`);
  const a = decodeNpy(readUserFile(resolve(path), flag, MAX_NPY_BYTES + 4096, "predictions file"), path);
  const s = a.shape;
  if (s.length === 1 || (s.length === 2 && s[1] === 1)) {
    throw flag === "--pred-probs"
      ? userError("shape", [flag], `${path} has shape [${s.join(", ")}]: one probability per example does not say which class it is for; pass [N, 2] with column 1 = p(class 1), e.g. numpy.stack([1 - p, p], axis=1) when p = p(y = 1)`)
      : userError("shape", [flag], `${path} has shape [${s.join(", ")}]: one logit per example does not say which class it is for; pass [N, 2] with column 1 the logit of class 1, e.g. numpy.stack([numpy.zeros_like(z), z], axis=1) when z = log p(y=1)/p(y=0)`);
  }
  if (s.length !== 2) throw userError("shape", [flag], `${path} has shape [${s.join(", ")}]; expected [N, C] (examples × classes)`);
  const [n, c] = s;
  if (n < 1) throw userError("shape", [flag], `${path} has no rows (shape [${s.join(", ")}])`);
  if (a.bool) throw userError("file", [flag], `${path} holds booleans; expected ${flag === "--logits" ? "logits" : "probabilities"} as floats`);
  const data = Float64Array.from(a.data);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < c; j++) {
      const v = data[i * c + j];
      if (!Number.isFinite(v)) throw userError("not_finite", [flag], `${path}: row ${i} (column ${j}) is ${v}; every ${flag === "--logits" ? "logit" : "probability"} must be finite`);
    }
  }
  return { data, n, c, path };
}

/** Probabilities in [0, 1] whose rows sum to 1 ± 1e-3; logits given as probabilities are named as such. */
function checkProbabilities(p: Predictions): void {
  const { data, n, c, path } = p;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < c; j++) {
      const v = data[i * c + j];
      if (v < 0 || v > 1) throw userError("not_probabilities", ["--pred-probs"], `${path}: row ${i} has ${v} in column ${j}, outside [0, 1]: these look like logits; pass them with --logits`);
      s += v;
    }
    if (Math.abs(s - 1) > SUM_TOLERANCE) throw userError("not_probabilities", ["--pred-probs"], `${path}: row ${i} sums to ${s}, not 1 ± ${SUM_TOLERANCE}: logits or unnormalised scores? pass logits with --logits (genlab applies the softmax)`);
  }
}

/** Integer labels in 0..c−1, one per row: a .npy ([N] or [N, 1], any number dtype holding integers) or a text file with one label a line. */
function readLabels(path: string, n: number, c: number, predFlag: string, predPath: string): Int32Array {
  const flag = "--labels";
  const bytes = readUserFile(resolve(path), flag, MAX_NPY_BYTES + 4096, "labels file");
  let values: ArrayLike<number>;
  let where: (i: number) => string;
  if (extname(path).toLowerCase() === ".npy") {
    const a = decodeNpy(bytes, path);
    if (!(a.shape.length === 1 || (a.shape.length === 2 && a.shape[1] === 1))) throw userError("shape", [flag], `${path} has shape [${a.shape.join(", ")}]; expected [N] integer labels (class indices, not one-hot)`);
    values = a.data;
    where = (i) => `row ${i}`;
  } else {
    const lines = new TextDecoder().decode(bytes).split(/\r?\n/);
    while (lines.length && lines[lines.length - 1].trim() === "") lines.pop();
    const v = new Float64Array(lines.length);
    for (let i = 0; i < lines.length; i++) {
      const t = lines[i].trim();
      if (!/^-?[0-9]{1,10}$/.test(t)) throw userError("file", [flag], `${path}: line ${i + 1} is ${JSON.stringify(lines[i].slice(0, 40))}; expected one integer label a line`);
      v[i] = Number(t);
    }
    values = v;
    where = (i) => `line ${i + 1}`;
  }
  if (values.length !== n) throw userError("shape_mismatch", [flag], `${path} has ${values.length} labels, ${predPath} (${predFlag}) has ${n} rows`);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < 0 || v >= c) throw userError("bad_label", [flag], `${path}: ${where(i)} has label ${v}; expected an integer class in 0..${c - 1} (${predPath} has ${c} columns)`);
    y[i] = v;
  }
  return y;
}

type Evaluated = { metrics: Record<CalibrationMetric, MetricWithCi>; bins: BinSummary[]; adaptiveBins: BinSummary[] };

function evaluate(probs: Float64Array, labels: Int32Array, c: number, o: CalibrateFlags, stream: number, logits?: Float64Array, temperature?: number): Evaluated {
  const prep = prepareCalibration(probs, labels, c, { bins: o.bins, logits, temperature });
  const { bins, adaptiveBins } = calibrationMetrics(prep);
  return { metrics: bootstrapCalibration(prep, { resamples: o.bootstrap, level: LEVEL, seed: o.seed, stream }), bins, adaptiveBins };
}

/** One reliability panel: bars of accuracy per equal-width bin (drawn as their outline), mean confidence dots, the diagonal. */
function reliabilityPanel(title: string, bins: BinSummary[]): LineChartSpec {
  const x: number[] = [];
  const y: number[] = [];
  for (const b of bins) {
    const a = b.count ? b.accuracy : 0;
    x.push(b.lo, b.lo, b.hi, b.hi);
    y.push(0, a, a, 0);
  }
  const used = bins.filter((b) => b.count);
  return {
    kind: "line",
    title,
    xLabel: "confidence (top-label)",
    yLabel: "accuracy",
    yDomain: [0, 1],
    width: 420,
    height: 380,
    series: [
      { name: "accuracy", x, y },
      { name: "bin mean (conf, acc)", x: used.map((b) => b.confidence), y: used.map((b) => b.accuracy), dots: true },
      { name: "ideal", x: [0, 1], y: [0, 1], dashed: true },
    ],
  };
}

const ci = (m: MetricWithCi) => (Number.isNaN(m.lo) ? "—" : `[${m.lo.toFixed(4)}, ${m.hi.toFixed(4)}]`);
const binRows = (bins: BinSummary[]) => bins.map((b) => [`[${b.lo.toFixed(3)}, ${b.hi.toFixed(3)}${b.hi === 1 ? "]" : ")"}`, b.count, b.count ? b.accuracy : null, b.count ? b.confidence : null, b.count ? Math.abs(b.accuracy - b.confidence) : null]);

export function addCalibrateCommand(program: Command): void {
  program
    .command("calibrate")
    .description("calibration of your own predictions (no training): top-label, adaptive and classwise ECE, MCE, NLL, Brier with bootstrap intervals, reliability diagram, temperature scaling on a held-out split")
    .option("--logits <file>", "logits [N, C] as .npy (preferred: temperature scaling needs them)")
    .option("--pred-probs <file>", "probabilities [N, C] as .npy, rows summing to 1 (no temperature scaling)")
    .option("--labels <file>", "integer labels in 0..C−1: .npy [N], or a text file with one label a line")
    .option("--bins <B>", "number of bins (equal-width for ECE, MCE, classwise ECE; equal-mass for adaptive ECE)", intIn(1, 1000, "an integer in [1, 1000]"), 15)
    .option("--bootstrap <R>", "bootstrap resamples for the 95% intervals (0: none)", intIn(0, 100_000, "an integer in [0, 100000]"), 1000)
    .option("--seed <n>", "seed of the split and the bootstrap", intIn(0, 0xffffffff, "a decimal integer in [0, 4294967295]"), 0)
    .option("--holdout <f>", "fraction of the examples held out to evaluate temperature scaling (the rest fits T; stratified by label)", fraction)
    .option("--out <file>", "calib.json (everything) or calib.csv (set, metric, value, ci_lo, ci_hi)")
    .option("--figure <file>", "reliability diagram: .svg or .png")
    .option("--json", "print the result as JSON on stdout")
    .action((o: CalibrateFlags) => {
      if (!!o.logits === !!o.predProbs) throw userError("bad_flag", ["--logits", "--pred-probs"], "give exactly one of --logits <file> and --pred-probs <file>");
      if (!o.labels) throw userError("bad_flag", ["--labels"], "pass the labels with --labels <file> (.npy or one integer a line)");
      // outputs first: a path that cannot be written is found before any file is read
      const inputs: [string, string | undefined][] = [["--logits", o.logits], ["--pred-probs", o.predProbs], ["--labels", o.labels]];
      const outPath = o.out ? checkOutputPath(o.out, { flag: "--out", exts: [".json", ".csv"], inputs }) : null;
      const figPath = o.figure ? checkOutputPath(o.figure, { flag: "--figure", exts: [".svg", ".png"], inputs }) : null;
      if (outPath && figPath && outPath === figPath) throw userError("bad_flag", ["--figure"], `${o.figure} is also --out; choose two files`);
      if (figPath?.toLowerCase().endsWith(".png") && !fontFile()) throw userError("environment", ["--figure"], "PNG figures need a font: install fonts-dejavu-core, or write an .svg");
      const flag = o.logits ? "--logits" : "--pred-probs";
      const pred = readPredictions((o.logits ?? o.predProbs)!, flag);
      if (!o.logits) checkProbabilities(pred);
      const { n, c } = pred;
      const labels = readLabels(o.labels, n, c, flag, pred.path);
      const holdout = o.holdout ?? 0.5;
      const notes: string[] = [];
      let split: { fit: Int32Array; held: Int32Array } | null = null;
      if (o.logits) {
        split = stratifiedSplit(labels, c, holdout, o.seed);
        if (!split.fit.length || !split.held.length) throw userError("bad_flag", ["--holdout"], `--holdout ${holdout} of ${n} examples leaves ${split.fit.length} to fit T and ${split.held.length} to evaluate it; both need at least one (pass more examples or another fraction)`);
      } else {
        notes.push("no temperature scaling: it needs logits (pass them with --logits)");
        if (o.holdout !== undefined) notes.push("--holdout is ignored without --logits");
      }

      const t0 = performance.now();
      const probs = o.logits ? softmaxRows(pred.data, n, c) : pred.data;
      const all = evaluate(probs, labels, c, o, 1, o.logits ? pred.data : undefined);
      let scaling: null | { temperature: number; converged: boolean; iterations: number; fitNll: number; fitExamples: number; heldExamples: number; before: Evaluated; after: Evaluated } = null;
      if (split) {
        const yFit = Int32Array.from(split.fit, (i) => labels[i]);
        const fit = fitTemperature(takeRows(pred.data, c, split.fit), yFit, c, "converged");
        if (!fit.converged) notes.push(`temperature fit stopped after ${fit.iterations} iterations without meeting |∂NLL/∂ln T| ≤ 1e-9`);
        const zHeld = takeRows(pred.data, c, split.held);
        const yHeld = Int32Array.from(split.held, (i) => labels[i]);
        const nh = yHeld.length;
        // the same stream for before and after: the two are bootstrapped on the same resamples (paired)
        const before = evaluate(softmaxRows(zHeld, nh, c), yHeld, c, o, 2, zHeld);
        const after = evaluate(softmaxRows(zHeld, nh, c, fit.temperature), yHeld, c, o, 2, zHeld, fit.temperature);
        scaling = { temperature: fit.temperature, converged: fit.converged, iterations: fit.iterations, fitNll: fit.nll, fitExamples: split.fit.length, heldExamples: nh, before, after };
      }
      const seconds = (performance.now() - t0) / 1000;

      const kind = o.logits ? "logits" : "probabilities";
      const metricObj = (e: Evaluated) => Object.fromEntries(CALIBRATION_METRICS.map((m) => [m, e.metrics[m]]));
      const result = {
        input: { kind, file: pred.path, labels: o.labels, examples: n, classes: c },
        bins: o.bins,
        bootstrap: { resamples: o.bootstrap, level: LEVEL, seed: o.seed, interval: "percentile" },
        metrics: metricObj(all),
        reliability: all.bins,
        adaptive_reliability: all.adaptiveBins,
        temperature_scaling: scaling && {
          holdout,
          stratified: true,
          fit_examples: scaling.fitExamples,
          heldout_examples: scaling.heldExamples,
          temperature: scaling.temperature,
          converged: scaling.converged,
          iterations: scaling.iterations,
          fit_nll: scaling.fitNll,
          before: metricObj(scaling.before),
          after: metricObj(scaling.after),
          reliability_before: scaling.before.bins,
          reliability_after: scaling.after.bins,
        },
        notes,
        seconds,
      };
      if (figPath) {
        const panels = [reliabilityPanel(`all ${n} examples (${kind} as given), ECE ${all.metrics.ece.value.toFixed(4)}`, all.bins)];
        if (scaling) {
          panels.push(reliabilityPanel(`held-out ${scaling.heldExamples}, before: ECE ${scaling.before.metrics.ece.value.toFixed(4)}`, scaling.before.bins));
          panels.push(reliabilityPanel(`held-out, after T = ${scaling.temperature.toFixed(3)}: ECE ${scaling.after.metrics.ece.value.toFixed(4)}`, scaling.after.bins));
        }
        const svg = figureSvg({ name: "reliability", title: "reliability diagram", subtitle: `${o.bins} equal-width bins of the top-label confidence (${pred.path})`, panels }, headlessDocument());
        writeFileAtomic(figPath, figPath.toLowerCase().endsWith(".png") ? svgToPng(svg) : svg);
      }
      if (outPath) {
        let text: string;
        if (outPath.toLowerCase().endsWith(".json")) text = JSON.stringify({ ...result, out: outPath, figure: figPath }, null, 2) + "\n";
        else {
          const rows: [string, string, number, number, number][] = [];
          const add = (set: string, e: Evaluated) => CALIBRATION_METRICS.forEach((m) => rows.push([set, m, e.metrics[m].value, e.metrics[m].lo, e.metrics[m].hi]));
          add("all", all);
          if (scaling) {
            add("heldout_before", scaling.before);
            add("heldout_after", scaling.after);
            rows.push(["fit", "temperature", scaling.temperature, NaN, NaN]);
          }
          text = formatCsv(["set", "metric", "value", "ci_lo", "ci_hi"], [0, 1, 2, 3, 4].map((k) => rows.map((r) => r[k])) as (string | number)[][]);
        }
        writeFileAtomic(outPath, text);
      }
      if (o.json) {
        out(JSON.stringify({ ...result, out: outPath, figure: figPath }, null, 2) + "\n");
        return;
      }
      const head: [string, string][] = [
        [kind, `${pred.path}: ${n} examples × ${c} classes`],
        ["labels", o.labels],
        ["bins", `${o.bins} equal-width (ECE, MCE, classwise), ${o.bins} equal-mass (adaptive ECE)`],
        ["intervals", o.bootstrap ? `${LEVEL * 100}% percentile bootstrap, ${o.bootstrap} resamples of the examples, seed ${o.seed}` : "none (--bootstrap 0)"],
      ];
      if (scaling) head.push(["temperature", `T = ${scaling.temperature.toFixed(4)} fitted to ${scaling.converged ? "convergence" : "NOT converged"} (L-BFGS, ${scaling.iterations} iterations) on ${scaling.fitExamples} examples; evaluated on ${scaling.heldExamples} held out (--holdout ${holdout}, stratified, seed ${o.seed})`]);
      for (const note of notes) head.push(["note", note]);
      head.push(["time", formatDuration(seconds)]);
      if (outPath) head.push(["written", outPath]);
      if (figPath) head.push(["figure", figPath]);
      out(formatTable(head, "genlab calibrate"));
      const cols = ["metric", `all ${n}`, "95% CI"];
      if (scaling) cols.push(`held-out before`, "95% CI", `after T=${scaling.temperature.toFixed(3)}`, "95% CI");
      out(formatResultTable({
        title: `metrics (docs/calibration.md: ece top-label equal-width, adaptive_ece equal-mass, classwise_ece over all classes, brier summed over classes)`,
        columns: cols,
        rows: CALIBRATION_METRICS.map((m) => {
          const r: (string | number)[] = [m, all.metrics[m].value, ci(all.metrics[m])];
          if (scaling) r.push(scaling.before.metrics[m].value, ci(scaling.before.metrics[m]), scaling.after.metrics[m].value, ci(scaling.after.metrics[m]));
          return r;
        }),
      }));
      out(formatResultTable({ title: `reliability bins (all ${n} examples, top-label confidence)`, columns: ["bin", "count", "accuracy", "confidence", "|gap|"], rows: binRows(all.bins) }));
      if (scaling) out(formatResultTable({ title: `reliability bins (held-out ${scaling.heldExamples}, after T = ${scaling.temperature.toFixed(4)})`, columns: ["bin", "count", "accuracy", "confidence", "|gap|"], rows: binRows(scaling.after.bins) }));
    });
}
