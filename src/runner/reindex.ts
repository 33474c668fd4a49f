/**
 * `genlab reindex`: rebuild a run store from the run folders (the source of truth for files), for a lost,
 * emptied or damaged store. A folder with a valid summary.json is a finished run; any other folder with a
 * config.json is interrupted (resumable if it has checkpoints). Runs the old store holds and the folders
 * do not (merged from elsewhere) are kept when the old store still opens. The new store is written to a
 * temporary file and renamed over the old one, so a failed reindex changes nothing.
 */
import { existsSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { readUserText } from "../io/paths.ts";
import { join, resolve } from "node:path";
import { GenlabError } from "../core/errors.ts";
import { RunStore, type RunRow } from "./store.ts";
import { readMetricsFile } from "./run.ts";

export type ReindexResult = { folders: number; finished: number; interrupted: number; kept: number; skipped: { dir: string; why: string }[] };

function readJson(path: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(readUserText(path, path, 64 << 20)); // a FIFO or a huge file is skipped, not read
    return typeof v === "object" && v !== null && !Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

/** Run folders directly under `outDir`: sub-folders holding a config.json. */
export function runFolders(outDir: string): string[] {
  if (!existsSync(outDir)) return [];
  return readdirSync(outDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(outDir, d.name, "config.json")))
    .map((d) => join(resolve(outDir), d.name))
    .sort();
}

export function reindexStore(outDir: string, storePath: string): ReindexResult {
  const folders = runFolders(outDir);
  const tmp = `${storePath}.reindex-${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  const target = new RunStore(tmp);
  const result: ReindexResult = { folders: folders.length, finished: 0, interrupted: 0, kept: 0, skipped: [] };
  try {
    // Runs of the old store that no folder here holds (merged from other machines) are kept.
    if (existsSync(storePath) && statSync(storePath).size > 0) {
      try {
        const old = new RunStore(storePath, { readonly: true, upgradeCopy: true });
        try {
          target.mergeFrom([old]);
        } finally {
          old.close();
        }
      } catch {
        // the old store is damaged: the folders are all there is
      }
    }
    for (const dir of folders) {
      const config = readJson(join(dir, "config.json"));
      const id = config?.run_id;
      if (!config || typeof id !== "string" || typeof config.experiment !== "string" || typeof config.hparams !== "object") {
        result.skipped.push({ dir, why: "config.json is damaged" });
        continue;
      }
      const summary = readJson(join(dir, "summary.json"));
      const finished = summary !== null && summary.status === "finished" && summary.run_id === id;
      const row: RunRow = {
        id,
        experiment: config.experiment,
        paper: Number(config.paper),
        size: String(config.size),
        seed: Number(config.seed),
        hparams_hash: String(config.hparams_hash),
        hparams: JSON.stringify(config.hparams),
        settings: JSON.stringify(config.settings ?? {}),
        status: finished ? "finished" : "interrupted",
        verdict: finished && typeof summary.verdict === "string" ? summary.verdict : null,
        started_at: String(config.started_at),
        finished_at: finished ? statSync(join(dir, "summary.json")).mtime.toISOString() : null,
        seconds: finished && typeof summary.seconds === "number" ? summary.seconds : null,
        dir,
        summary: finished ? JSON.stringify(summary) : null,
        error: finished ? null : "reindexed: no valid summary.json (resume it, or run it again)",
        pid: 0,
        host: "",
        pid_start: null,
        genlab_version: String(config.genlab_version),
        jax_version: String(config.jax_version),
        device: String(config.device),
      };
      target.putRun(row, readMetricsFile(join(dir, "metrics.jsonl")));
      if (finished) result.finished++;
      else result.interrupted++;
    }
    result.kept = target.count() - result.finished - result.interrupted;
  } catch (e) {
    target.close();
    rmSync(tmp, { force: true });
    throw e;
  }
  target.close();
  for (const suffix of ["-wal", "-shm"]) rmSync(storePath + suffix, { force: true });
  try {
    renameSync(tmp, storePath);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new GenlabError({ code: "reindex", path: [storePath], message: `cannot replace the store (${(e as Error).message})` });
  }
  return result;
}
