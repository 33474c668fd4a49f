/**
 * The run store: one SQLite file (better-sqlite3, WAL) with a row per run and its logged metrics, for
 * `genlab show`, the dashboard and the report. The run folder stays the source of truth for files
 * (config.json, metrics.jsonl, summary.json, figures); the store indexes them.
 */
import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { hostname } from "node:os";
import { userError } from "../core/errors.ts";

export type RunStatus = "running" | "finished" | "failed" | "interrupted";

export type RunRow = {
  id: string;
  experiment: string;
  paper: number;
  size: string;
  seed: number;
  hparams_hash: string;
  hparams: string;
  settings: string;
  status: RunStatus;
  verdict: string | null;
  started_at: string;
  finished_at: string | null;
  seconds: number | null;
  dir: string;
  summary: string | null;
  error: string | null;
  pid: number;
  host: string;
  genlab_version: string;
  jax_version: string;
  device: string;
};

const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY, experiment TEXT NOT NULL, paper INTEGER NOT NULL, size TEXT NOT NULL, seed INTEGER NOT NULL,
  hparams_hash TEXT NOT NULL, hparams TEXT NOT NULL, settings TEXT NOT NULL, status TEXT NOT NULL, verdict TEXT,
  started_at TEXT NOT NULL, finished_at TEXT, seconds REAL, dir TEXT NOT NULL, summary TEXT, error TEXT,
  pid INTEGER NOT NULL, host TEXT NOT NULL, genlab_version TEXT NOT NULL, jax_version TEXT NOT NULL, device TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_experiment ON runs(experiment, started_at);
CREATE TABLE IF NOT EXISTS metrics (
  run_id TEXT NOT NULL, step INTEGER NOT NULL, name TEXT NOT NULL, value REAL,
  PRIMARY KEY (run_id, step, name)
) WITHOUT ROWID;
`;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export class RunStore {
  readonly path: string;
  #db: Database.Database;

  constructor(path: string) {
    this.path = path;
    try {
      mkdirSync(dirname(path), { recursive: true });
      this.#db = new Database(path);
      this.#db.pragma("journal_mode = WAL");
      this.#db.pragma("busy_timeout = 5000");
      this.#db.exec(SCHEMA);
    } catch (e) {
      throw userError("store", [path], `cannot open the run store: ${(e as Error).message} (expected a genlab SQLite file; pass another with --store)`);
    }
    this.markStaleRuns();
  }

  /** A run whose process died without saying so (kill -9, power loss) is interrupted, never finished. */
  markStaleRuns(): number {
    const host = hostname();
    const rows = this.#db.prepare("SELECT id, pid, host FROM runs WHERE status = 'running'").all() as { id: string; pid: number; host: string }[];
    let n = 0;
    for (const r of rows) {
      if (r.host === host && r.pid !== process.pid && !pidAlive(r.pid)) {
        this.#db.prepare("UPDATE runs SET status = 'interrupted', error = COALESCE(error, 'process ended without finishing') WHERE id = ?").run(r.id);
        n++;
      }
    }
    return n;
  }

  insertRun(row: Omit<RunRow, "status" | "verdict" | "finished_at" | "seconds" | "summary" | "error" | "pid" | "host">): void {
    this.#db
      .prepare(
        `INSERT INTO runs (id, experiment, paper, size, seed, hparams_hash, hparams, settings, status, started_at, dir, pid, host, genlab_version, jax_version, device)
         VALUES (@id, @experiment, @paper, @size, @seed, @hparams_hash, @hparams, @settings, 'running', @started_at, @dir, @pid, @host, @genlab_version, @jax_version, @device)`,
      )
      .run({ ...row, pid: process.pid, host: hostname() });
  }

  /** Mark a run running again (resume), owned by this process. */
  reopenRun(id: string): void {
    this.#db.prepare("UPDATE runs SET status = 'running', error = NULL, pid = ?, host = ? WHERE id = ?").run(process.pid, hostname(), id);
  }

  finishRun(id: string, fields: { status: RunStatus; verdict?: string | null; seconds?: number; summary?: string | null; error?: string | null }): void {
    this.#db
      .prepare("UPDATE runs SET status = @status, verdict = @verdict, seconds = @seconds, summary = @summary, error = @error, finished_at = @finished_at WHERE id = @id")
      .run({ id, status: fields.status, verdict: fields.verdict ?? null, seconds: fields.seconds ?? null, summary: fields.summary ?? null, error: fields.error ?? null, finished_at: new Date().toISOString() });
  }

  appendMetrics(runId: string, rec: { step: number } & Record<string, number>): void {
    const ins = this.#db.prepare("INSERT OR REPLACE INTO metrics (run_id, step, name, value) VALUES (?, ?, ?, ?)");
    const tx = this.#db.transaction(() => {
      for (const [k, v] of Object.entries(rec)) if (k !== "step") ins.run(runId, rec.step, k, v);
    });
    tx();
  }

  /** Drop metrics logged after `step` (a resumed run recomputes them). */
  truncateMetrics(runId: string, step: number): void {
    this.#db.prepare("DELETE FROM metrics WHERE run_id = ? AND step > ?").run(runId, step);
  }

  getRun(id: string): RunRow | undefined {
    return this.#db.prepare("SELECT * FROM runs WHERE id = ?").get(id) as RunRow | undefined;
  }

  listRuns(filter: { experiment?: string; status?: string; limit?: number } = {}): RunRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.experiment) {
      where.push("experiment = ?");
      args.push(filter.experiment);
    }
    if (filter.status) {
      where.push("status = ?");
      args.push(filter.status);
    }
    const sql = `SELECT * FROM runs ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY started_at DESC LIMIT ${Math.max(1, filter.limit ?? 1000)}`;
    return this.#db.prepare(sql).all(...args) as RunRow[];
  }

  /** Metrics of a run as records ordered by step. */
  metrics(runId: string): ({ step: number } & Record<string, number>)[] {
    const rows = this.#db.prepare("SELECT step, name, value FROM metrics WHERE run_id = ? ORDER BY step").all(runId) as { step: number; name: string; value: number }[];
    const by = new Map<number, { step: number } & Record<string, number>>();
    for (const r of rows) {
      let rec = by.get(r.step);
      if (!rec) by.set(r.step, (rec = { step: r.step } as { step: number } & Record<string, number>));
      rec[r.name] = r.value;
    }
    return [...by.values()];
  }

  close(): void {
    this.#db.close();
  }
}
