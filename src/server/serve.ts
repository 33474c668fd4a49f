/**
 * `genlab serve`: a small HTTP server for the dashboard. It serves exactly two things: the built
 * dashboard assets (web/dist, read-only) and read-only JSON views of one run store. Run ids and figure
 * names are checked against strict patterns and looked up in the store; anything else is a 404. Nothing
 * from a config or a request is ever executed or used as a path without that check. Binds to 127.0.0.1
 * unless told otherwise.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { extname, join, resolve, sep } from "node:path";
import { RunStore, type RunRow } from "../runner/store.ts";

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
const FIGURE = /^[A-Za-z0-9_-]{1,100}\.(svg|png)$/;
const ASSET = /^[A-Za-z0-9_.-]{1,200}$/;
const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".ico": "image/x-icon",
};

export type ServeOptions = { port: number; host: string; storePath: string; assetsDir: string };

/** The public view of a run row (no pid, host or folder): what /api/runs answers, and what the dashboard reads. */
export type RunView = Omit<RunRow, "hparams" | "settings" | "summary" | "dir" | "pid" | "host" | "error" | "genlab_version" | "jax_version" | "device"> & {
  hparams: Record<string, number | string | boolean>;
  summary: { measured?: Record<string, number | null>; criterion?: string } | null;
  /** Names of the run's SVG figures (served by /api/runs/<id>/figures/<name>). */
  figures: string[];
};

/** Rows on a non-step axis (width, sample size, keep-fraction), keyed by phase: what /api/runs/<id>/rows answers. */
export type AxisRow = { phase: string; axis: string; x: number; values: Record<string, number> };

function figureNames(dir: string): string[] {
  try {
    return readdirSync(join(dir, "figures")).filter((f) => FIGURE.test(f) && f.endsWith(".svg")).sort();
  } catch {
    return [];
  }
}

function runView(r: RunRow): RunView {
  return {
    id: r.id,
    experiment: r.experiment,
    paper: r.paper,
    size: r.size,
    seed: r.seed,
    hparams_hash: r.hparams_hash,
    hparams: JSON.parse(r.hparams),
    status: r.status,
    verdict: r.verdict,
    started_at: r.started_at,
    finished_at: r.finished_at,
    seconds: r.seconds,
    summary: r.summary ? (({ measured, criterion }) => ({ measured, criterion }))(JSON.parse(r.summary)) : null,
    figures: figureNames(r.dir),
  };
}

function send(res: ServerResponse, code: number, body: string | Uint8Array, type = "application/json") {
  res.writeHead(code, {
    "content-type": type,
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    // The dashboard runs jax-js (Wasm, maybe WebGPU) in the page; no third-party origins.
    "content-security-policy": "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' blob:; worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:",
  });
  res.end(body);
}

const notFound = (res: ServerResponse) => send(res, 404, JSON.stringify({ error: "not found" }));

/** Resolve `name` inside `dir`, refusing anything that escapes it. */
function inside(dir: string, name: string): string | null {
  const root = resolve(dir);
  const p = resolve(root, name);
  return p.startsWith(root + sep) ? p : null;
}

export function createDashboardServer(opts: ServeOptions): { server: Server; store: RunStore } {
  const store = new RunStore(resolve(opts.storePath));
  const assets = resolve(opts.assetsDir);
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, JSON.stringify({ error: "method not allowed" }));
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://localhost");
    } catch {
      return notFound(res);
    }
    let parts: string[];
    try {
      parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    } catch {
      return notFound(res);
    }
    if (parts.some((p) => p === ".." || p === "." || p.includes("/") || p.includes("\\") || p.includes("\0"))) return notFound(res);

    if (parts[0] === "api") {
      if (parts.length === 2 && parts[1] === "runs") {
        const experiment = url.searchParams.get("experiment") ?? undefined;
        const status = url.searchParams.get("status") ?? undefined;
        return send(res, 200, JSON.stringify(store.listRuns({ experiment, status, limit: 5000 }).map(runView)));
      }
      if (parts[1] === "runs" && parts.length >= 3) {
        const id = parts[2];
        if (!RUN_ID.test(id)) return notFound(res);
        const row = store.getRun(id);
        if (!row) return notFound(res);
        if (parts.length === 3) return send(res, 200, JSON.stringify(runView(row)));
        if (parts.length === 4 && parts[3] === "metrics") {
          const after = Number(url.searchParams.get("after") ?? -1);
          const rows = store.metrics(id).filter((r) => r.step > (Number.isFinite(after) ? after : -1));
          return send(res, 200, JSON.stringify({ status: store.getRun(id)?.status ?? row.status, metrics: rows }));
        }
        if (parts.length === 4 && parts[3] === "rows") {
          const rows: AxisRow[] = store.metricRows(id).filter((r) => r.axis !== "step");
          return send(res, 200, JSON.stringify(rows));
        }
        if (parts.length === 5 && parts[3] === "figures" && FIGURE.test(parts[4])) {
          const p = inside(join(row.dir, "figures"), parts[4]);
          if (!p || !existsSync(p)) return notFound(res);
          return send(res, 200, readFileSync(p), TYPES[extname(p)]);
        }
      }
      return notFound(res);
    }

    // Static assets of the built dashboard: "/", "/index.html", "/assets/<file>".
    let file: string | null = null;
    if (parts.length === 0) file = join(assets, "index.html");
    else if (parts.length === 1 && ASSET.test(parts[0])) file = inside(assets, parts[0]);
    else if (parts.length === 2 && parts[0] === "assets" && ASSET.test(parts[1])) file = inside(join(assets, "assets"), parts[1]);
    if (!file || !existsSync(file) || !statSync(file).isFile()) return notFound(res);
    return send(res, 200, readFileSync(file), TYPES[extname(file)] ?? "application/octet-stream");
  };
  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (e) {
      send(res, 500, JSON.stringify({ error: (e as Error).message }));
    }
  });
  return { server, store };
}

export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(port, host, () => {
      const a = server.address();
      ok(typeof a === "object" && a ? a.port : port);
    });
  });
}
