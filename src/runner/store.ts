/**
 * The run store: one SQLite file (better-sqlite3, WAL) with a row per run and its logged metrics, for
 * `genlab show`, the dashboard and the report. The run folder stays the source of truth for files
 * (config.json, metrics.jsonl, summary.json, figures); the store indexes them.
 */
import Database from "better-sqlite3";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, type Stats } from "node:fs";
import { dirname, join } from "node:path";
import { hostname, tmpdir } from "node:os";
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
  /** The process's start time (Linux: clock ticks since boot, /proc/<pid>/stat), so a reused pid is not taken for the run's. */
  pid_start: string | null;
  genlab_version: string;
  jax_version: string;
  device: string;
};

const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY, experiment TEXT NOT NULL, paper INTEGER NOT NULL, size TEXT NOT NULL, seed INTEGER NOT NULL,
  hparams_hash TEXT NOT NULL, hparams TEXT NOT NULL, settings TEXT NOT NULL, status TEXT NOT NULL, verdict TEXT,
  started_at TEXT NOT NULL, finished_at TEXT, seconds REAL, dir TEXT NOT NULL, summary TEXT, error TEXT,
  pid INTEGER NOT NULL, host TEXT NOT NULL, genlab_version TEXT NOT NULL, jax_version TEXT NOT NULL, device TEXT NOT NULL,
  pid_start TEXT
);
CREATE INDEX IF NOT EXISTS runs_experiment ON runs(experiment, started_at);
CREATE INDEX IF NOT EXISTS runs_point ON runs(experiment, hparams_hash, seed, size);
CREATE TABLE IF NOT EXISTS metrics (
  run_id TEXT NOT NULL, phase TEXT NOT NULL, axis TEXT NOT NULL, x REAL NOT NULL, name TEXT NOT NULL, value REAL,
  PRIMARY KEY (run_id, phase, axis, x, name)
) WITHOUT ROWID;
`;

/** Stores are versioned (SQLite user_version); merging refuses stores of another version. v3: runs.pid_start. */
export const STORE_SCHEMA_VERSION = 3;

export type MetricRow = { phase: string; axis: string; x: number; values: Record<string, number> };

/** A process's start time (Linux), or null where /proc cannot tell. */
export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // the command name (field 2) may hold spaces and parentheses: count fields after its last ")"
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

const MY_START = processStart(process.pid);

/** Is the process that owns a run alive: the pid exists and, where known, started when the run's did. */
function ownerAlive(pid: number, start: string | null): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  if (start === null) return true;
  const now = processStart(pid);
  return now === null || now === start;
}

export type StoreOptions = {
  /** Read commands (show, runs, report, serve) open the store read-only: a read-only file or folder works. */
  readonly?: boolean;
  /**
   * With `readonly`: a store of an older schema is read through an upgraded copy in memory instead of being
   * refused (the sources of merge and reindex); the file itself is never changed.
   */
  upgradeCopy?: boolean;
};

export class RunStore {
  readonly path: string;
  readonly readonly: boolean;
  #db: Database.Database;
  /** A read-only store in a read-only folder is read from a copy in a temporary folder (removed on close). */
  #snapshot: string | null = null;

  constructor(path: string, opts: StoreOptions = {}) {
    this.path = path;
    this.readonly = !!opts.readonly;
    // SQLite would block on a FIFO (waiting for a writer) and read a device or a folder as a damaged file.
    const kind = existsSync(path) ? fileKind(statSync(path)) : "file";
    if (kind !== "file") throw userError("store", [path], `is ${kind}, not a regular file: a run store is a file (pass another with --store)`);
    if (existsSync(path) && statSync(path).size === 0) {
      throw userError("store", [path], "the run store is empty (0 bytes): damaged by a failed copy or a full disk? Rebuild it from the run folders with genlab reindex (see genlab reindex --help), or delete it to start an empty store");
    }
    try {
      if (this.readonly) {
        this.#db = openReadonly(path, (dir) => (this.#snapshot = dir));
      } else {
        mkdirSync(dirname(path), { recursive: true });
        this.#db = new Database(path);
      }
      this.#db.pragma("busy_timeout = 10000");
      const version = this.#db.pragma("user_version", { simple: true }) as number;
      const tables = (this.#db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name);
      if (tables.length > 0 && !tables.includes("runs")) throw new Error("it holds other tables, not a genlab run store");
      if (version > STORE_SCHEMA_VERSION) throw new Error(`its schema version ${version} is newer than this genlab's (${STORE_SCHEMA_VERSION}); upgrade genlab`);
      if (this.readonly) {
        if (tables.length === 0) throw new Error("it is empty, not a genlab run store");
        if (version < STORE_SCHEMA_VERSION && !opts.upgradeCopy) throw new Error(`its schema version ${version} is older than this genlab's (${STORE_SCHEMA_VERSION}); run any writing command on it once (genlab merge it into a new store, or genlab run) to upgrade it`);
        if (version < STORE_SCHEMA_VERSION) {
          this.#db = memoryCopy(this.#db);
          this.#upgrade(tables, version);
        }
      } else {
        this.#db.pragma("journal_mode = WAL");
        this.#upgrade(tables, version);
      }
    } catch (e) {
      throw userError("store", [path], `cannot open the run store: ${describeOpenError(e)}`);
    }
    if (!this.readonly) this.markStaleRuns();
  }

  #upgrade(tables: string[], version: number): void {
    if (tables.includes("metrics") && version < 2) this.#migrateV1();
    if (tables.includes("runs") && version < 3) this.#db.exec("ALTER TABLE runs ADD COLUMN pid_start TEXT");
    this.#db.exec(SCHEMA);
    this.#db.pragma(`user_version = ${STORE_SCHEMA_VERSION}`);
  }

  /** Version-1 stores keyed metrics by step only: move them to (phase "main", axis "step"). */
  #migrateV1(): void {
    this.#db.exec(`BEGIN;
      ALTER TABLE metrics RENAME TO metrics_v1;
      CREATE TABLE metrics (run_id TEXT NOT NULL, phase TEXT NOT NULL, axis TEXT NOT NULL, x REAL NOT NULL, name TEXT NOT NULL, value REAL, PRIMARY KEY (run_id, phase, axis, x, name)) WITHOUT ROWID;
      INSERT INTO metrics SELECT run_id, 'main', 'step', step, name, value FROM metrics_v1;
      DROP TABLE metrics_v1;
      COMMIT;`);
  }

  schemaVersion(): number {
    return this.#db.pragma("user_version", { simple: true }) as number;
  }

  /** A run whose process died without saying so (kill -9, power loss) is interrupted, never finished. */
  markStaleRuns(): number {
    const rows = this.#db.prepare("SELECT id, pid, host, pid_start FROM runs WHERE status = 'running'").all() as { id: string; pid: number; host: string; pid_start: string | null }[];
    let n = 0;
    for (const r of rows) {
      if (isStale(r)) {
        this.#db.prepare("UPDATE runs SET status = 'interrupted', error = COALESCE(error, 'process ended without finishing') WHERE id = ?").run(r.id);
        n++;
      }
    }
    return n;
  }

  insertRun(row: Omit<RunRow, "status" | "verdict" | "finished_at" | "seconds" | "summary" | "error" | "pid" | "host" | "pid_start">): void {
    this.#db
      .prepare(
        `INSERT INTO runs (id, experiment, paper, size, seed, hparams_hash, hparams, settings, status, started_at, dir, pid, host, genlab_version, jax_version, device)
         VALUES (@id, @experiment, @paper, @size, @seed, @hparams_hash, @hparams, @settings, 'running', @started_at, @dir, @pid, @host, @genlab_version, @jax_version, @device)`,
      )
      .run({ ...row, pid: process.pid, host: hostname() });
    this.#db.prepare("UPDATE runs SET pid_start = ? WHERE id = ?").run(MY_START, row.id);
  }

  /** Mark a run running again (resume), owned by this process. */
  reopenRun(id: string): void {
    this.#db.prepare("UPDATE runs SET status = 'running', error = NULL, pid = ?, host = ?, pid_start = ? WHERE id = ?").run(process.pid, hostname(), MY_START, id);
  }

  finishRun(id: string, fields: { status: RunStatus; verdict?: string | null; seconds?: number; summary?: string | null; error?: string | null }): void {
    this.#db
      .prepare("UPDATE runs SET status = @status, verdict = @verdict, seconds = @seconds, summary = @summary, error = @error, finished_at = @finished_at WHERE id = @id")
      .run({ id, status: fields.status, verdict: fields.verdict ?? null, seconds: fields.seconds ?? null, summary: fields.summary ?? null, error: fields.error ?? null, finished_at: new Date().toISOString() });
  }

  /** The time a run has spent so far (kept at each checkpoint, so a killed run's attempt still counts). */
  setSeconds(id: string, seconds: number): void {
    this.#db.prepare("UPDATE runs SET seconds = ? WHERE id = ?").run(seconds, id);
  }

  appendMetrics(runId: string, rows: MetricRow | MetricRow[]): void {
    const ins = this.#db.prepare("INSERT OR REPLACE INTO metrics (run_id, phase, axis, x, name, value) VALUES (?, ?, ?, ?, ?, ?)");
    const tx = this.#db.transaction(() => {
      for (const r of Array.isArray(rows) ? rows : [rows]) for (const [k, v] of Object.entries(r.values)) ins.run(runId, r.phase, r.axis, r.x, k, v);
    });
    tx();
  }

  /** Replace a run's metrics (a resumed run keeps only what its checkpoints vouch for). */
  replaceMetrics(runId: string, rows: MetricRow[]): void {
    const tx = this.#db.transaction(() => {
      this.#db.prepare("DELETE FROM metrics WHERE run_id = ?").run(runId);
      this.appendMetrics(runId, rows);
    });
    tx();
  }

  getRun(id: string): RunRow | undefined {
    return this.#read(() => {
      const r = this.#db.prepare("SELECT * FROM runs WHERE id = ?").get(id) as RunRow | undefined;
      return r && this.#view(r);
    });
  }

  /** A query on a damaged file is a user error naming the store, with the way out. */
  #read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      const code = (e as { code?: string }).code ?? "";
      if (!code.startsWith("SQLITE_") && !(e instanceof SyntaxError)) throw e;
      throw userError("store", [this.path], `the run store is damaged (${(e as Error).message}); genlab reindex rebuilds it from the run folders`);
    }
  }

  /** Read-only stores cannot mark dead runs: show them as interrupted anyway. */
  #view(r: RunRow): RunRow {
    return this.readonly && r.status === "running" && isStale(r) ? { ...r, status: "interrupted", error: r.error ?? "process ended without finishing" } : r;
  }

  listRuns(filter: { experiment?: string; status?: string; limit?: number } = {}): RunRow[] {
    return this.#read(() => {
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
      return (this.#db.prepare(sql).all(...args) as RunRow[]).map((r) => this.#view(r));
    });
  }

  /** Every metric row of a run, ordered by phase (first logged), axis and x. */
  metricRows(runId: string): MetricRow[] {
    return this.#read(() => {
      const rows = this.#db.prepare("SELECT phase, axis, x, name, value FROM metrics WHERE run_id = ? ORDER BY phase, axis, x").all(runId) as { phase: string; axis: string; x: number; name: string; value: number }[];
      return groupMetricRows(rows);
    });
  }

  /**
   * Metrics of a run on the step axis as `{step, …}` records ordered by step (the dashboard's curves);
   * values of phases other than "main" are named `phase/name`.
   */
  metrics(runId: string): ({ step: number } & Record<string, number>)[] {
    const by = new Map<number, { step: number } & Record<string, number>>();
    for (const r of this.metricRows(runId)) {
      if (r.axis !== "step") continue;
      let rec = by.get(r.x);
      if (!rec) by.set(r.x, (rec = { step: r.x } as { step: number } & Record<string, number>));
      for (const [k, v] of Object.entries(r.values)) rec[r.phase === "main" ? k : `${r.phase}/${k}`] = v;
    }
    return [...by.values()].sort((a, b) => a.step - b.step);
  }

  /** The newest finished run of a point (same hparams, seed, size and genlab version), for reuse. */
  findFinished(q: { experiment: string; hparams_hash: string; seed: number; size: string; genlab_version: string; device: string }): RunRow | undefined {
    return this.#read(() => {
      return this.#db
        .prepare("SELECT * FROM runs WHERE experiment = @experiment AND hparams_hash = @hparams_hash AND seed = @seed AND size = @size AND genlab_version = @genlab_version AND device = @device AND status = 'finished' ORDER BY finished_at DESC LIMIT 1")
        .get(q) as RunRow | undefined;
    });
  }

  /** The newest finished run of a point, whatever genlab version ran it (the report reads merged stores). */
  latestFinished(q: { experiment: string; hparams_hash: string; seed: number; size: string }): RunRow | undefined {
    return this.#read(() => {
      return this.#db
        .prepare("SELECT * FROM runs WHERE experiment = @experiment AND hparams_hash = @hparams_hash AND seed = @seed AND size = @size AND status = 'finished' ORDER BY finished_at DESC LIMIT 1")
        .get(q) as RunRow | undefined;
    });
  }

  /** Seeds and sizes with finished runs of an experiment. */
  finishedSeeds(experiment: string, size: string): number[] {
    return this.#read(() => {
      return (this.#db.prepare("SELECT DISTINCT seed FROM runs WHERE experiment = ? AND size = ? AND status = 'finished' ORDER BY seed").all(experiment, size) as { seed: number }[]).map((r) => r.seed);
    });
  }

  finishedSizes(experiment: string): string[] {
    return this.#read(() => {
      return (this.#db.prepare("SELECT DISTINCT size FROM runs WHERE experiment = ? AND status = 'finished'").all(experiment) as { size: string }[]).map((r) => r.size);
    });
  }

  /**
   * Merge copies every column of a run: a store whose tables have columns this genlab does not know (a newer or
   * modified genlab wrote it), or lack ones it needs, is refused naming them, before anything is written.
   */
  checkMergeable(): void {
    for (const table of ["runs", "metrics"]) {
      const have = this.#read(() => (this.#db.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name));
      const want = schemaColumns(table);
      const extra = have.filter((c) => !want.includes(c));
      const missing = want.filter((c) => !have.includes(c));
      const what = [extra.length ? `has column${extra.length > 1 ? "s" : ""} ${extra.join(", ")} that this genlab does not know` : "", missing.length ? `lacks column${missing.length > 1 ? "s" : ""} ${missing.join(", ")}` : ""].filter(Boolean).join(" and ");
      if (what) throw userError("incompatible_store", [this.path], `cannot merge from this run store: its ${table} table ${what} (written by another genlab? merge it with that one)`);
    }
  }

  /**
   * Copy runs (and their metrics) from other stores, in one transaction (a failure leaves this store as it
   * was); a run already here is left as it is (idempotent). The others are only read.
   */
  mergeFrom(others: RunStore[]): { added: number; skipped: number }[] {
    for (const other of others) other.checkMergeable();
    const counts: { added: number; skipped: number }[] = [];
    const tx = this.#db.transaction(() => {
      for (const other of others) {
        let added = 0;
        let skipped = 0;
        const rows = other.#read(() => other.#db.prepare("SELECT * FROM runs").all() as RunRow[]);
        for (const r of rows) {
          const mine = this.getRun(r.id);
          if (mine && !(mine.status !== "finished" && r.status === "finished")) {
            skipped++;
            continue;
          }
          const cols = Object.keys(r);
          this.#db.prepare(`INSERT OR REPLACE INTO runs (${cols.join(", ")}) VALUES (${cols.map((c) => "@" + c).join(", ")})`).run(r);
          const m = other.#read(() => other.#db.prepare("SELECT run_id, phase, axis, x, name, value FROM metrics WHERE run_id = ?").all(r.id));
          this.#db.prepare("DELETE FROM metrics WHERE run_id = ?").run(r.id);
          const ins = this.#db.prepare("INSERT INTO metrics (run_id, phase, axis, x, name, value) VALUES (@run_id, @phase, @axis, @x, @name, @value)");
          for (const row of m) ins.run(row);
          added++;
        }
        counts.push({ added, skipped });
      }
    });
    tx.immediate();
    return counts;
  }

  /** Insert or replace a run row and all its metrics (reindex). */
  putRun(row: RunRow, metrics: MetricRow[]): void {
    const tx = this.#db.transaction(() => {
      const cols = Object.keys(row);
      this.#db.prepare(`INSERT OR REPLACE INTO runs (${cols.join(", ")}) VALUES (${cols.map((c) => "@" + c).join(", ")})`).run(row);
      this.replaceMetrics(row.id, metrics);
    });
    tx();
  }

  count(): number {
    return this.#read(() => {
      return (this.#db.prepare("SELECT COUNT(*) AS n FROM runs").get() as { n: number }).n;
    });
  }

  /** SQLite's own consistency check ("ok" when sound). */
  integrityCheck(): string {
    return (this.#db.pragma("integrity_check") as { integrity_check: string }[]).map((r) => r.integrity_check).join("; ");
  }

  close(): void {
    this.#db.close();
    if (this.#snapshot) rmSync(this.#snapshot, { recursive: true, force: true });
  }
}

/**
 * Open read-only. SQLite needs a writable folder to read a WAL store whose -shm file is gone (the last
 * writer closed it); there, read a copy of the store (and its WAL) made in a temporary folder.
 */
function openReadonly(path: string, onSnapshot: (dir: string) => void): Database.Database {
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    db.prepare("SELECT name FROM sqlite_master LIMIT 1").all();
    return db;
  } catch (e) {
    const code = (e as { code?: string }).code ?? "";
    if (!/^SQLITE_(READONLY_DIRECTORY|CANTOPEN|READONLY)/.test(code) || !existsSync(path)) throw e;
    const dir = mkdtempSync(join(tmpdir(), "genlab-store-"));
    onSnapshot(dir);
    const copy = join(dir, "genlab.db");
    copyFileSync(path, copy);
    if (existsSync(path + "-wal")) copyFileSync(path + "-wal", copy + "-wal");
    return new Database(copy, { readonly: true, fileMustExist: true });
  }
}

/**
 * A copy in memory of a store opened read-only (what it holds, its WAL included), writable: an older schema
 * is upgraded there, never in the file. The file's connection is closed.
 */
function memoryCopy(db: Database.Database): Database.Database {
  const bytes = db.serialize();
  db.close();
  // Bytes 18–19 of the header say WAL; SQLite cannot open an in-memory image in WAL mode: mark it rollback.
  bytes[18] = bytes[19] = 1;
  return new Database(bytes);
}

/** The columns SCHEMA gives a table. */
function schemaColumns(table: string): string[] {
  const db = new Database(":memory:");
  try {
    db.exec(SCHEMA);
    return (db.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name);
  } finally {
    db.close();
  }
}

/** "file", or what else a path is, in words. */
export function fileKind(st: Stats): string {
  if (st.isFile()) return "file";
  if (st.isDirectory()) return "a folder";
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isSocket()) return "a socket";
  if (st.isCharacterDevice() || st.isBlockDevice()) return "a device";
  return "a special file";
}

function isStale(r: { pid: number; host: string; pid_start: string | null }): boolean {
  return r.host === hostname() && r.pid !== process.pid && !ownerAlive(r.pid, r.pid_start);
}

/** Why a store did not open, in words a user can act on. */
function describeOpenError(e: unknown): string {
  const x = e as NodeJS.ErrnoException & { code?: string };
  const msg = (e as Error).message;
  if (x.code === "EACCES" || x.code === "EPERM" || x.code === "EROFS") return `cannot create it: permission denied (${x.code}) at ${x.path ?? "its folder"}; pass a folder you can write with --out or --store`;
  if (x.code === "ENOTDIR") return `a part of its path is not a folder (${x.path ?? ""})`;
  if (x.code === "SQLITE_READONLY" || /readonly database/i.test(msg)) return "it is read-only (file or folder permissions); read commands (show, runs, report, serve) work on it, commands that run need a writable store";
  if (x.code === "SQLITE_CANTOPEN" || /unable to open/i.test(msg)) return "SQLite cannot open the file (missing, a folder, or its folder is not readable/writable)";
  if (/locked|busy/i.test(msg)) return "it is locked by another process (wait for it, or pass another --store)";
  if (/not a database|file is encrypted|malformed/i.test(msg)) return "it is not a SQLite file, or it is damaged (genlab reindex rebuilds a store from the run folders)";
  return `${msg} (expected a genlab run store; pass another with --store)`;
}

/** Group (phase, axis, x, name, value) rows into one row per (phase, axis, x), in first-seen order. */
export function groupMetricRows(rows: { phase: string; axis: string; x: number; name: string; value: number }[]): MetricRow[] {
  const by = new Map<string, MetricRow>();
  for (const r of rows) {
    const key = `${r.phase}\u0000${r.axis}\u0000${r.x}`;
    let row = by.get(key);
    if (!row) by.set(key, (row = { phase: r.phase, axis: r.axis, x: r.x, values: {} }));
    row.values[r.name] = r.value;
  }
  return [...by.values()];
}
