/**
 * Verdicts of record: full-size reproductions run once and shipped in the repository
 * (docs/results/records.json, written by `genlab record`), so a newcomer sees the science without hours of
 * compute. The report shows each beside the user's own verdict, labelled as recorded.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { userError } from "../core/errors.ts";
import { jsonNumbers, type Verdict } from "../declare/criteria.ts";
import { readUserText } from "../io/paths.ts";
import type { Outcome } from "../runner/run.ts";
import { writeFileAtomic } from "../runner/files.ts";
import type { RecordedVerdict } from "./html.ts";

export const RECORDS_PATH = resolve(import.meta.dirname, "../../docs/results/records.json");

export type Records = Record<string, RecordedVerdict>;

export function readRecords(path = RECORDS_PATH): Records {
  if (!existsSync(path)) return {};
  const text = readUserText(path, path, 64 << 20, "records file");
  let v: { records?: Records };
  try {
    v = JSON.parse(text) as { records?: Records };
  } catch (e) {
    throw userError("file", [path], `is not a records file (JSON: ${(e as Error).message})`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw userError("file", [path], "is not a records file (expected a JSON object with \"records\")");
  return v.records ?? {};
}

const thresholdOf = (c: Verdict["checks"][number]) => (c.cmp === "in" ? `∈ [${(c.threshold as number[]).join(", ")}]` : `${c.cmp} ${c.threshold}`);

/** A record from an outcome (its verdict, control and checks) and where it was made. */
export function recordOf(o: Outcome, where: { commit: string; date: string; machine: string; backend: string; wall_s: number }): RecordedVerdict {
  const v = o.verdict;
  return {
    experiment: o.experiment,
    size: o.size,
    verdict: o.error || !v ? "ERROR" : v.verdict,
    seeds: o.seeds,
    failed: v ? v.checks.filter((c) => !c.ok).map((c) => c.id) : [],
    control: o.control?.verdict ? `${o.control.verdict.verdict}${o.control.failed.length ? ` (fails ${o.control.failed.join(", ")})` : ""}` : null,
    ...where,
    checks: v ? v.checks.map((c) => ({ id: c.id, role: c.role, value: c.value, threshold: thresholdOf(c), ok: c.ok })) : [],
  };
}

/** Add or replace records (sorted by experiment id, so the file diffs cleanly). */
export function writeRecords(add: RecordedVerdict[], path = RECORDS_PATH): void {
  const all = { ...readRecords(path) };
  for (const r of add) all[r.experiment] = r;
  const sorted = Object.fromEntries(Object.keys(all).sort().map((k) => [k, all[k]]));
  writeFileAtomic(path, JSON.stringify({ note: "Verdicts of record: written by `genlab record`; read by the report and scripts/readme-table.ts", records: sorted }, jsonNumbers, 1) + "\n");
}


