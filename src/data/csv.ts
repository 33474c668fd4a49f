/**
 * Numeric CSV tables (RFC 4180: comma-separated by default, quoted fields with "" escapes, CRLF or LF), parsed
 * straight into a float64 matrix so that a 60,000 × 785 file never becomes millions of strings. The header is
 * detected unless told, and detection never turns a data row into a header: a first row is a header when
 * every cell is a name (non-empty, not a number, not a missing-value token such as nan, NA or inf); it is
 * data when every cell is a number or a missing-value token (so "nan,1,0" is data, and its NaN the usual
 * error at line 1); anything else ("0,1,label") is refused with a message naming --header / --no-header.
 * Every problem is a `GenlabError` naming the file and, for a cell, its line and column. Bytes/text only:
 * runs in a browser too.
 */
import { userError } from "../core/errors.ts";

export type NumericCsv = { header: string[] | null; values: Float64Array; rows: number; cols: number };

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
/** What spreadsheets, pandas and R write for a missing or non-finite value. */
const MISSING = /^([+-]?(nan|inf|infinity)|na|n\/a|null|none|#n\/a|-|\?|)$/i;

/** "header", "data" or "ambiguous": how a first row reads (see the file's comment). */
export function firstRowKind(fields: string[]): "header" | "data" | "ambiguous" {
  const cells = fields.map((f) => f.trim());
  if (cells.every((c) => NUMBER.test(c) || MISSING.test(c))) return "data";
  if (cells.every((c) => !NUMBER.test(c) && !MISSING.test(c))) return "header";
  return "ambiguous";
}

/** Split CSV text into records of fields (quotes honoured). Calls `onRecord(fields, line)` for each non-empty record. */
function eachRecord(text: string, delimiter: string, name: string, onRecord: (fields: string[], line: number) => void): void {
  let fields: string[] = [];
  let cur = "";
  let inQuotes = false;
  let line = 1;
  let recordLine = 1;
  let quotedStart = 0;
  const end = () => {
    fields.push(cur);
    cur = "";
    if (!(fields.length === 1 && fields[0].trim() === "")) onRecord(fields, recordLine);
    fields = [];
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inQuotes) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cur += '"';
          i++;
        } else inQuotes = false;
      } else {
        if (ch === "\n") line++;
        cur += ch;
      }
      continue;
    }
    if (ch === '"' && cur.trim() === "") {
      inQuotes = true;
      quotedStart = line;
      cur = "";
    } else if (ch === delimiter) {
      fields.push(cur);
      cur = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      end();
      line++;
      recordLine = line;
    } else cur += ch;
  }
  if (inQuotes) throw userError("file", [name], `has an unterminated quoted field starting on line ${quotedStart}`);
  if (cur !== "" || fields.length > 0) end();
}

/** `allowEmpty`: an empty cell reads as NaN (a table of scores with undefined values), instead of an error. */
export function parseNumericCsv(text: string, name: string, opts: { delimiter?: string; header?: boolean | "auto"; allowEmpty?: boolean; textColumns?: string[] } = {}): NumericCsv {
  const delimiter = opts.delimiter ?? ",";
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte-order mark
  if (text.trim() === "") throw userError("file", [name], "is empty; expected a CSV table with one example per row");
  let header: string[] | null = null;
  let cols = -1;
  let rows = 0;
  let values = new Float64Array(1024);
  let first = true;
  let skip: Set<number> | null = null;
  eachRecord(text, delimiter, name, (fields, line) => {
    if (first) {
      first = false;
      const kind = opts.header === true ? "header" : opts.header === false ? "data" : firstRowKind(fields);
      if (kind === "ambiguous") {
        const shown = fields.slice(0, 6).map((f) => JSON.stringify(f.trim())).join(", ") + (fields.length > 6 ? ", …" : "");
        throw userError("file", [name], `line 1 (${shown}) is neither clearly a header (every cell a name) nor clearly data (every cell a number): pass --header if it names the columns, --no-header if it is the first example`);
      }
      if (kind === "header") {
        header = fields.map((f) => f.trim());
        if (opts.textColumns) skip = new Set(header.flatMap((h, j) => (opts.textColumns!.includes(h) ? [j] : [])));
        cols = fields.length;
        return;
      }
      cols = fields.length;
    }
    if (fields.length !== cols) throw userError("file", [name], `line ${line} has ${fields.length} cells, expected ${cols}${header ? " (as the header)" : " (as the first row)"}`);
    if ((rows + 1) * cols > values.length) {
      const grown = new Float64Array(Math.max(values.length * 2, (rows + 1) * cols));
      grown.set(values);
      values = grown;
    }
    for (let j = 0; j < cols; j++) {
      if (skip?.has(j)) {
        values[rows * cols + j] = NaN; // a text column (genlab's `reason`): kept out of the numbers
        continue;
      }
      const cell = fields[j].trim();
      if (cell === "" && opts.allowEmpty) {
        values[rows * cols + j] = NaN;
        continue;
      }
      if (!NUMBER.test(cell)) {
        const col = header ? `column ${j + 1} "${(header as string[])[j]}"` : `column ${j + 1}`;
        throw userError("file", [name], `line ${line}, ${col}: ${cell === "" ? "an empty cell" : `"${cell.length > 30 ? cell.slice(0, 30) + "…" : cell}" is not a number`}`);
      }
      values[rows * cols + j] = Number(cell);
    }
    rows++;
  });
  if (rows === 0) throw userError("file", [name], "has a header but no data rows");
  return { header, values: values.slice(0, rows * cols), rows, cols };
}

/** A CSV file of the given header and columns (numbers written in full precision, strings quoted when needed). */
export function formatCsv(header: string[], columns: ArrayLike<number | string>[]): string {
  const n = columns[0]?.length ?? 0;
  for (const c of columns) if (c.length !== n) throw new RangeError("formatCsv: columns of different lengths");
  const cell = (v: number | string) => (typeof v === "number" ? (Number.isNaN(v) ? "" : String(v)) : /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const lines = [header.map(cell).join(",")];
  for (let i = 0; i < n; i++) lines.push(columns.map((c) => cell(c[i])).join(","));
  return lines.join("\n") + "\n";
}
