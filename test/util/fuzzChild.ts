/**
 * The fuzz suite's child process: reads the cases given as JSON on argv (reader name, path, companion
 * folder), runs each through its reader, and prints one JSON line per case with the outcome, the time and
 * the process's peak resident memory so far (so the parent finds the case that hung — the last line before
 * the timeout — or the one that grew the memory past its limit).
 *
 *   node --import tsx test/util/fuzzChild.ts '[{"reader":"csv","path":"/tmp/x.csv","side":"/tmp"}]'
 */
import "../../src/platform/nodeShim.ts";
import { GenlabError } from "../../src/core/errors.ts";
import { READERS } from "./userReaders.ts";

const cases = JSON.parse(process.argv[2] ?? "[]") as { reader: string; path: string; side: string }[];
for (const c of cases) {
  const r = READERS.find((x) => x.name === c.reader);
  if (!r) throw new Error(`no reader ${c.reader}`);
  const t0 = performance.now();
  let outcome: string;
  let where = "";
  try {
    const s = r.read(c.path, c.side);
    outcome = `ok ${s.rows}x${s.cols}`;
  } catch (e) {
    if (e instanceof GenlabError) {
      outcome = "error";
      where = String(e.issues[0].path[0]);
    } else outcome = `crash ${(e as Error)?.message ?? e}`;
  }
  process.stdout.write(JSON.stringify({ path: c.path, reader: c.reader, outcome, where, ms: Math.round(performance.now() - t0), rssMB: Math.round(process.resourceUsage().maxRSS / 1024) }) + "\n");
}
