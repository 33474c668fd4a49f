/**
 * A table of per-example scores (`genlab scores`' CSV, or a user's own) as `genlab prune` reads it: a regular
 * file of bounded size, a header naming the columns, one chosen score column with a value on every row, and
 * an `index` column (when there is one) of distinct row numbers — integers in 0..2³¹−1, each once — so that
 * the kept indices name exactly the rows a user meant.
 */
import { userError } from "../core/errors.ts";
import { firstRowKind, parseNumericCsv } from "../data/csv.ts";
import { readUserFile } from "./paths.ts";

/** Largest scores file genlab reads (a million examples × 20 columns is ~300 MB). */
export const MAX_SCORES_BYTES = 1 << 30;

export type ScoreFile = { name: string; header: string[]; scores: Float64Array; index: Int32Array | null; rows: number };

/** The scores of `column` (default: el2n, else the first column after index and label). */
export function loadScoreFile(path: string, opts: { column?: string; flag?: string } = {}): ScoreFile {
  const bytes = readUserFile(path, opts.flag ?? "--scores", MAX_SCORES_BYTES, "scores file");
  const t = parseNumericCsv(new TextDecoder().decode(bytes), path, { header: true, allowEmpty: true, textColumns: ["reason"] });
  const header = t.header!;
  if (firstRowKind(header) === "data") throw userError("file", [path], `line 1 (${header.slice(0, 4).join(",")}${header.length > 4 ? ",…" : ""}) is numbers: prune needs a header naming the columns (genlab scores writes one)`);
  const name = opts.column ?? (header.includes("el2n") ? "el2n" : header.find((h) => h !== "index" && h !== "label"));
  const j = name === undefined ? -1 : header.indexOf(name);
  if (j < 0) throw userError("bad_flag", ["--score"], `no column ${JSON.stringify(name ?? "")} in ${path} (columns: ${header.join(", ")})`);
  const idxCol = header.indexOf("index");
  if (idxCol === j) throw userError("bad_flag", ["--score"], "the index column is not a score");
  if (header[j] === "reason") throw userError("bad_flag", ["--score"], "the reason column is text, not a score");
  const scores = Float64Array.from({ length: t.rows }, (_, i) => t.values[i * t.cols + j]);
  const missing = scores.findIndex((v) => Number.isNaN(v));
  if (missing >= 0) throw userError("file", [path], `column ${name} has no value on data row ${missing + 1}; every example needs a score to be ranked`);
  return { name: name!, header, scores, index: idxCol >= 0 ? indexColumn(t, idxCol, path) : null, rows: t.rows };
}

/** The index column: integers in [0, 2³¹), each once; else a one-line error naming the data row. */
function indexColumn(t: { values: Float64Array; rows: number; cols: number }, col: number, file: string): Int32Array {
  const ids = new Int32Array(t.rows);
  const seen = new Map<number, number>();
  for (let i = 0; i < t.rows; i++) {
    const v = t.values[i * t.cols + col];
    if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) throw userError("file", [file], `data row ${i + 1}: index ${Number.isNaN(v) ? "(empty)" : v} is not a row number (an integer in 0..2147483647)`);
    const first = seen.get(v);
    if (first !== undefined) throw userError("file", [file], `data row ${i + 1}: index ${v} is a duplicate of data row ${first + 1}; each example appears once`);
    seen.set(v, i);
    ids[i] = v;
  }
  return ids;
}
