/**
 * `genlab serve`: a small HTTP server for the dashboard. It serves exactly two things: the built
 * dashboard assets (web/dist, read-only) and read-only JSON views of one run store (opened read-only).
 * Defences, each tested on its own (SECURITY.md):
 * - Host header: only the loopback names, the bound address (and, on a non-loopback bind, this machine's
 *   names and addresses) are answered, so a DNS-rebinding page cannot read the store; a request target
 *   must be a path (no absolute-form URLs).
 * - Token: a non-loopback bind requires a secret token (printed at start) on every request: `?token=…`
 *   once (it becomes an HttpOnly, SameSite=Strict cookie) or `Authorization: Bearer …`.
 * - Paths: run ids and figure names match strict patterns and are looked up in the store; decoded path
 *   segments with "/", "\\", "." or ".." are refused; a file is opened with O_NOFOLLOW and served only if
 *   its real path stays inside its folder (no symlinks out of a run folder).
 * - Responses carry only what the page draws (no folders, pids, hosts or devices), with a CSP that
 *   forbids framing and no Referer.
 */
import { jsonNumbers } from "../declare/criteria.ts";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { closeSync, constants, existsSync, fstatSync, openSync, readFileSync, readdirSync, realpathSync } from "node:fs";
import { randomBytes, timingSafeEqual } from "node:crypto";
import { hostname, networkInterfaces } from "node:os";
import { extname, join, resolve, sep } from "node:path";
import { dynamicsPrefixes, scoresPage, type ScoresView } from "../runner/scoresPage.ts";
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

/** A reproduction as the dashboard's first page shows it: its verdict, control, and its runs folded under it. */
export type ReproductionView = {
  experiment: string;
  paper: number;
  kind: string;
  size: string;
  seeds: number[];
  verdict: string | null;
  reason: string | null;
  error: string | null;
  coverage: string;
  control: { verdict: string | null; failed: string[] } | null;
  checks: { id: string; role: string; value: number; threshold: string; ok: boolean }[];
  runs: { id: string; role: "point" | "control"; seed: number; status: string }[];
};

export type ServeOptions = {
  /** The reproductions in the store (computed by the caller, which has the registry). */
  reproductions?: (store: RunStore) => ReproductionView[];
  port: number;
  host: string;
  storePath: string;
  assetsDir: string;
  /** Required on every request when set (always set for a non-loopback bind; see `needsToken`). */
  token?: string;
};

/** The fields of a run row the dashboard draws; nothing else leaves the server. */
export const RUN_VIEW_FIELDS = ["id", "experiment", "paper", "size", "seed", "hparams_hash", "hparams", "status", "verdict", "started_at", "finished_at", "seconds", "summary", "figures", "dynamics"] as const;

/** The public view of a run row (no pid, host, folder or device): what /api/runs answers, and what the dashboard reads. */
export type RunView = Pick<RunRow, "id" | "experiment" | "paper" | "size" | "seed" | "hparams_hash" | "status" | "verdict" | "started_at" | "finished_at" | "seconds"> & {
  hparams: Record<string, number | string | boolean>;
  summary: { measured?: Record<string, number | null>; criterion?: string } | null;
  /** Names of the run's SVG figures (served by /api/runs/<id>/figures/<name>). */
  figures: string[];
  /** Prefixes of the per-example dynamics the run logged (its scores page: /api/runs/<id>/scores). */
  dynamics: string[];
};

export type { ScoresView };

/** Rows on a non-step axis (width, sample size, keep-fraction), keyed by phase: what /api/runs/<id>/rows answers. */
export type AxisRow = { phase: string; axis: string; x: number; values: Record<string, number> };

function figureNames(dir: string): string[] {
  try {
    return readdirSync(join(dir, "figures"), { withFileTypes: true })
      .filter((f) => f.isFile() && FIGURE.test(f.name) && f.name.endsWith(".svg"))
      .map((f) => f.name)
      .sort();
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
    dynamics: dynamicsPrefixes(arrayNames(r.dir)),
  };
}

/** Names of a run's .npy arrays (without the extension). */
function arrayNames(dir: string): string[] {
  try {
    return readdirSync(join(dir, "arrays"), { withFileTypes: true })
      .filter((f) => f.isFile() && ARRAY_FILE.test(f.name))
      .map((f) => f.name.slice(0, -4));
  } catch {
    return [];
  }
}

const ARRAY_FILE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\.npy$/;

/** The scores page of a run: its dynamics arrays (and images/labels when saved), read only inside its folder. */
function runScores(dir: string, q: URLSearchParams): ScoresView | null {
  return scoresPage(arrayNames(dir), (name) => {
    const b = readInside(dir, join(dir, "arrays"), `${name}.npy`);
    return b ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : null;
  }, q);
}

const SECURITY_HEADERS = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  // The dashboard runs jax-js (Wasm, maybe WebGPU) in the page; no third-party origins; never framed.
  "content-security-policy": "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' blob:; worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-resource-policy": "same-origin",
  "cross-origin-opener-policy": "same-origin",
};

function send(res: ServerResponse, code: number, body: string | Uint8Array, type = "application/json", extra: Record<string, string> = {}) {
  res.writeHead(code, { "content-type": type, ...SECURITY_HEADERS, ...extra });
  res.end(body);
}

const notFound = (res: ServerResponse) => send(res, 404, JSON.stringify({ error: "not found" }));

/** Check 1: the decoded path segments, or null when one is not a plain name (".", "..", "/", "\\", NUL, bad escapes). */
export function pathSegments(pathname: string): string[] | null {
  let parts: string[];
  try {
    parts = pathname.split("/").filter(Boolean).map(decodeURIComponent);
  } catch {
    return null;
  }
  return parts.some((p) => p === ".." || p === "." || p.includes("/") || p.includes("\\") || p.includes("\0")) ? null : parts;
}

/** Check 2: a figure's name (letters, digits, _ and -, then .svg or .png). */
export const isFigureName = (name: string) => FIGURE.test(name);

/** The most the server reads of one file: genlab's limit on what it reads (1 GiB, as data/idx.ts's MAX_IDX_BYTES). */
export const MAX_SERVED_BYTES = 1 << 30;

/**
 * Check 3: `name` resolved inside `dir`, read without following a symlink, and only if the real path of
 * its folder is inside `root` (the run folder) and it is a regular file of at most `maxBytes` (genlab's
 * limit on what it reads, checked before reading); null otherwise. Returns the file's bytes.
 */
export function readInside(root: string, dir: string, name: string, maxBytes = MAX_SERVED_BYTES): Buffer | null {
  let realRoot: string;
  let realDir: string;
  try {
    realRoot = realpathSync(root);
    realDir = realpathSync(dir);
  } catch {
    return null;
  }
  if (realDir !== realRoot && !realDir.startsWith(realRoot + sep)) return null;
  const p = resolve(realDir, name);
  if (!p.startsWith(realDir + sep)) return null;
  let fd: number;
  try {
    fd = openSync(p, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return null; // missing, or a symlink (ELOOP)
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > maxBytes) return null;
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "::1", "[::1]"]);

export const isLoopback = (host: string) => LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);

/** A non-loopback bind is reachable by others: it needs a token. */
export const needsToken = (host: string) => !isLoopback(host);

export const newToken = () => randomBytes(24).toString("base64url");

/** Host names a request may carry: loopback names and the bound address (and this machine's names and addresses when bound beyond loopback). */
function allowedHosts(bound: string): Set<string> {
  const names = new Set([...LOOPBACK, bound.toLowerCase(), `[${bound.toLowerCase()}]`]);
  if (!isLoopback(bound)) {
    names.add(hostname().toLowerCase());
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) names.add(a.family === "IPv6" ? `[${a.address.toLowerCase()}]` : a.address);
  }
  return names;
}

/** The host part of a Host header ("name", "name:port", "[v6]:port"), lower-cased. */
function hostOf(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith("[")) return h.slice(0, h.indexOf("]") + 1);
  const i = h.lastIndexOf(":");
  return i >= 0 && h.indexOf(":") === i ? h.slice(0, i) : h;
}

/** Compared as UTF-8 bytes: strings of equal length can differ in bytes (non-ASCII), which timingSafeEqual throws on. */
const safeEqual = (a: string, b: string) => {
  const [x, y] = [Buffer.from(a), Buffer.from(b)];
  return x.length === y.length && timingSafeEqual(x, y);
};

function cookieToken(req: IncomingMessage): string | null {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === "genlab_token") return v.join("=");
  }
  return null;
}

export function createDashboardServer(opts: ServeOptions): { server: Server; store: RunStore } {
  if (needsToken(opts.host) && !opts.token) throw new Error(`binding ${opts.host} (beyond loopback) needs a token`);
  const store = new RunStore(resolve(opts.storePath), { readonly: true });
  const assets = resolve(opts.assetsDir);
  const hosts = allowedHosts(opts.host);
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, JSON.stringify({ error: "method not allowed" }));
    // DNS rebinding: a page on evil.example that resolves to 127.0.0.1 sends "Host: evil.example".
    const host = req.headers.host;
    if (!host || !hosts.has(hostOf(host))) return send(res, 403, JSON.stringify({ error: "host not allowed (genlab serve answers only its own address; see SECURITY.md)" }));
    if (!(req.url ?? "").startsWith("/")) return send(res, 400, JSON.stringify({ error: "bad request target" }));
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://localhost");
    } catch {
      return notFound(res);
    }
    let setCookie: Record<string, string> = {};
    if (opts.token) {
      const q = url.searchParams.get("token");
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1] ?? null;
      const given = q ?? bearer ?? cookieToken(req);
      if (!given || !safeEqual(given, opts.token)) return send(res, 401, JSON.stringify({ error: "token required: open the URL genlab serve printed (it ends in ?token=…)" }));
      if (q) setCookie = { "set-cookie": `genlab_token=${opts.token}; HttpOnly; SameSite=Strict; Path=/` };
    }
    const parts = pathSegments(url.pathname);
    if (!parts) return notFound(res);

    if (parts[0] === "api") {
      if (parts.length === 2 && parts[1] === "reproductions") return send(res, 200, JSON.stringify(opts.reproductions ? opts.reproductions(store) : [], jsonNumbers));
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
        if (parts.length === 4 && parts[3] === "scores") {
          const view = runScores(row.dir, url.searchParams);
          return view ? send(res, 200, JSON.stringify(view)) : notFound(res);
        }
        if (parts.length === 5 && parts[3] === "figures" && isFigureName(parts[4])) {
          const body = readInside(row.dir, join(row.dir, "figures"), parts[4]);
          if (!body) return notFound(res);
          return send(res, 200, body, TYPES[extname(parts[4])]);
        }
      }
      return notFound(res);
    }

    // Static assets of the built dashboard: "/", "/index.html", "/assets/<file>".
    let body: Buffer | null = null;
    let name = "";
    if (parts.length === 0) body = readInside(assets, assets, (name = "index.html"));
    else if (parts.length === 1 && ASSET.test(parts[0])) body = readInside(assets, assets, (name = parts[0]));
    else if (parts.length === 2 && parts[0] === "assets" && ASSET.test(parts[1])) body = readInside(assets, join(assets, "assets"), (name = parts[1]));
    if (!body) return notFound(res);
    return send(res, 200, body, TYPES[extname(name)] ?? "application/octet-stream", setCookie);
  };
  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (e) {
      send(res, 500, JSON.stringify({ error: "internal error" }));
      process.stderr.write(`genlab serve: ${(e as Error).message}\n`);
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
