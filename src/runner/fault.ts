/**
 * Fault injection for the kill tests: `GENLAB_FAULT=<point>:<n>` makes the process SIGKILL itself the n-th
 * time it reaches the named point of a run (row: between a metric row's file write and its store write;
 * checkpoint, phase, array: before those files are written; summary: before summary.json; finish: after
 * summary.json, before the store says finished). Unset (always, outside tests), `fault` does nothing.
 */
import { appendFileSync } from "node:fs";

const spec = (process.env.GENLAB_FAULT ?? "").match(/^([a-z]+):([0-9]+)$/);
const target = spec ? { point: spec[1], n: Number(spec[2]) } : null;
const counts = new Map<string, number>();
const trace = process.env.GENLAB_FAULT_TRACE;

export const FAULT_POINTS = ["row", "checkpoint", "phase", "array", "summary", "finish"] as const;

/** Also, with GENLAB_FAULT_TRACE=<file>, each point reached is appended to the file (the test counts them). */
export function fault(point: (typeof FAULT_POINTS)[number]): void {
  if (trace) appendFileSync(trace, point + "\n");
  if (!target || target.point !== point) return;
  const n = (counts.get(point) ?? 0) + 1;
  counts.set(point, n);
  if (n === target.n) process.kill(process.pid, "SIGKILL");
}
