/**
 * Progress for long work: a bar with ETA on a terminal (cli-progress), plain periodic lines otherwise
 * (cli-progress prints nothing off a TTY, DEPS.md). Written to stderr so that `--json` stdout stays clean.
 */
import cliProgress from "cli-progress";
import { errStream } from "../io/console.ts";

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  if (seconds < 59.5) return `${seconds.toFixed(seconds < 9.95 ? 1 : 0)}s`;
  // round once, then split: 179.6 s is 3m00s, not 2m60s
  const total = Math.round(seconds);
  const m = Math.floor(total / 60);
  const s = total % 60;
  if (m < 60) return `${m}m${String(s).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

function formatExtra(extra: Record<string, number>): string {
  return Object.entries(extra)
    .map(([k, v]) => `${k} ${Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : v.toFixed(3)}`)
    .join("  ");
}

export type ProgressOptions = { stream?: NodeJS.WriteStream; tty?: boolean; intervalMs?: number; quiet?: boolean };

export class Progress {
  #label: string;
  #stream: NodeJS.WriteStream;
  #tty: boolean;
  #interval: number;
  #quiet: boolean;
  #bar: cliProgress.SingleBar | null = null;
  #t0 = performance.now();
  #lastPrint = 0;
  #extra: Record<string, number> = {};
  #started = false;
  #lastDone = -1;
  #phase = "";

  constructor(label: string, opts: ProgressOptions = {}) {
    this.#label = label;
    this.#stream = opts.stream ?? errStream();
    this.#tty = opts.tty ?? (!!this.#stream.isTTY && (this.#stream.columns ?? 0) > 20);
    this.#interval = opts.intervalMs ?? 10_000;
    this.#quiet = opts.quiet ?? false;
  }

  #note = "";

  /** A short free-text note shown after the numbers (e.g. which training of a multi-training job runs). */
  note(text: string): void {
    this.#note = text;
  }

  update(done: number, total: number, extra?: Record<string, number>, phase = ""): void {
    if (this.#quiet) return;
    if (phase !== this.#phase) {
      // a new phase: its own bar and its own ETA (off a TTY the periodic lines simply name it)
      this.#bar?.stop();
      this.#bar = null;
      this.#phase = phase;
      this.#t0 = performance.now();
      this.#lastDone = -1;
      this.#extra = {};
    }
    const label = phase ? `${this.#label} ${phase}` : this.#label;
    if (extra) this.#extra = { ...this.#extra, ...extra };
    const now = performance.now();
    const elapsed = (now - this.#t0) / 1000;
    if (this.#tty) {
      if (!this.#bar) {
        this.#bar = new cliProgress.SingleBar(
          { format: `${label} [{bar}] {percentage}% | {value}/{total} | elapsed {elapsedH} | ETA {etaH} | {extra}`, hideCursor: true, barsize: 24, stream: this.#stream, etaBuffer: 50 },
          cliProgress.Presets.shades_classic,
        );
        this.#bar.start(total, done, { extra: "", elapsedH: "0s", etaH: "?" });
      }
      const eta = done > 0 ? (elapsed / done) * (total - done) : NaN;
      this.#bar.setTotal(total);
      this.#bar.update(done, { extra: [formatExtra(this.#extra), this.#note].filter(Boolean).join("  "), elapsedH: formatDuration(elapsed), etaH: formatDuration(eta) });
      return;
    }
    const first = !this.#started;
    this.#started = true;
    if (first || (done >= total && this.#lastDone < total) || now - this.#lastPrint >= this.#interval) {
      this.#lastPrint = now;
      this.#lastDone = done;
      const pct = total > 0 ? Math.floor((100 * done) / total) : 0;
      const eta = done > 0 ? (elapsed / done) * (total - done) : NaN;
      this.#stream.write(`${label}  ${done}/${total} (${pct}%)  elapsed ${formatDuration(elapsed)}  ETA ${formatDuration(eta)}  ${[formatExtra(this.#extra), this.#note].filter(Boolean).join("  ")}\n`.replace(/ +\n$/, "\n"));
    }
  }

  stop(): void {
    this.#bar?.stop();
    this.#bar = null;
  }
}

/** A two-column table for final summaries. */
export function formatTable(rows: [string, string][], title?: string): string {
  const w = Math.max(...rows.map(([k]) => k.length), 4);
  const v = Math.max(...rows.map(([, x]) => x.length), 4);
  const rule = (c: string) => `${"─".repeat(w + 2)}${c}${"─".repeat(v + 2)}`;
  const out = rows.map(([k, x]) => ` ${k.padEnd(w)} │ ${x}`);
  return [title ? ` ${title}` : "", rule("┬"), ...out, rule("┴")].filter((l) => l !== "").join("\n") + "\n";
}
