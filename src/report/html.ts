import { checkText, fmtNum, type Verdict, type VerdictLabel } from "../declare/criteria.ts";

/**
 * The reproduction report: one self-contained static HTML page (inline CSS and SVG figures, no scripts,
 * no network), readable straight from disk. One section per paper of the literature in seed order —
 * implemented or not — and a summary table at the top. FAIL is shown as plainly as PASS.
 */
export type ReportPaper = { number: number; title: string; paperClass: string; group: string; /** From the spec: shown while the paper has no reproduction. */ claim?: string; criterion?: string };

type V = Verdict;

/** A reproduction's outcome: its verdict over every seed, and its control judged by the same checks. */
export type ReportOutcome = {
  seeds: number[];
  verdict: V | null;
  control: { what: string; verdict: V | null; failed: string[]; inRun: boolean } | null;
  /** An error of the experiment (a check with a missing value): shown as ERROR, never as a verdict. */
  error?: string;
  runIds: string[];
  seconds: number;
};

/** A verdict of record: a full-size run shipped in the repository (docs/results/records.json). */
export type RecordedVerdict = {
  experiment: string;
  size: string;
  verdict: "PASS" | "FAIL" | "INCONCLUSIVE" | "ERROR";
  seeds: number[];
  failed: string[];
  control: string | null;
  commit: string;
  date: string;
  machine: string;
  backend: string;
  /** Seconds of its runs added up, each run on one core (with --jobs N the wall time is about this / N). */
  wall_s: number;
  checks: { id: string; role: string; value: number; threshold: string; ok: boolean }[];
};

export type ReportTable = { title: string; columns: string[]; rows: (string | number | null)[][]; note?: string };

export type ReportExperiment = {
  id: string;
  /** Benchmarks are shown in their own section, not as a paper's reproduction. */
  kind?: "reproduction" | "benchmark";
  tables?: ReportTable[];
  paper: number;
  /** The reproduction's own scope. */
  title: string;
  claim: string;
  coverage: { level: "full" | "partial"; covered: string[]; notCovered: string[] };
  deviations: string[];
  criterionSource: string;
  size: string;
  /** null: not run here (see notRun) — only the verdict of record, if any, is shown. */
  outcome: ReportOutcome | null;
  /** Why it was not run on this machine ("needs Fashion-MNIST: sudo apt-get install …"). */
  notRun?: string;
  /** The verdict of record at full size, shipped in the repository. */
  recorded?: RecordedVerdict;
  /** How the quick size was calibrated (absent: not calibrated). */
  calibration?: { seeds: number[]; outcome: string };
  /** Points of a sweep: what varies between them. */
  points: { runId: string; seed: number; varied: Record<string, number | string | boolean>; seconds: number; reused: boolean; control: boolean }[];
  figures: { title: string; svg: string }[];
  command: string;
  /** The hparams the runs used (the size's values). */
  hparams: Record<string, number | string | boolean>;
};

export type ReportInput = {
  papers: ReportPaper[];
  experiments: ReportExperiment[];
  /** Meaning of each class letter (A, B, C). */
  classMeaning: Record<string, string>;
  generatedAt: string;
  command: string;
  versions: Record<string, string>;
  /** A banner while a reproduction is still running (the report refreshes after each finished run). */
  inProgress?: string;
};

export type Label = VerdictLabel | "ERROR" | "not run" | null;

/** Status of a reproduction: its verdict (or ERROR / not run), and whether the spec is only partly covered. */
export function experimentStatus(e: ReportExperiment): { verdict: Label; partial: boolean } {
  const verdict: Label = e.notRun ? "not run" : !e.outcome ? null : e.outcome.error ? "ERROR" : (e.outcome.verdict?.verdict ?? null);
  return { verdict, partial: e.coverage.level === "partial" };
}

/** Explain a class label, including compound ones ("C→B", "C (bounds: A)"): every letter that appears. */
export function explainClass(label: string, meaning: Record<string, string>): string {
  const letters = [...new Set(label.match(/[ABC]/g) ?? [])];
  const parts = letters.map((l) => `${l}: ${meaning[l] ?? "?"}`);
  if (/→/.test(label)) parts.unshift(`${label}: a class-${label[0]} paper reproduced here as a class-${label.at(-1)} analog`);
  else if (/\(/.test(label)) parts.unshift(`${label}: the paper as a whole is class ${label[0]}; the part in parentheses is of the class named there`);
  return parts.join("; ");
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export function formatMeasured(v: number | null): string {
  if (v === null) return "not reached";
  const a = Math.abs(v);
  // integers up to 1e12 as they are; beyond, digits past float64's precision would be shown as exact
  if (Number.isInteger(v) && a < 1e12) return String(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : v.toFixed(4);
}

function badge(v: Label | "partial" | "todo" | "recorded"): string {
  if (v === "todo") return `<span class="badge todo">not yet implemented</span>`;
  if (v === "partial") return `<span class="badge partial">partial coverage</span>`;
  if (v === "not run") return `<span class="badge todo">not run here</span>`;
  if (v === null) return `<span class="badge todo">no verdict (interrupted)</span>`;
  if (v === "recorded") return `<span class="badge todo">recorded</span>`;
  const cls = v === "PASS" ? "pass" : v === "FAIL" ? "fail" : v === "INCONCLUSIVE" ? "inconclusive" : "error";
  return `<span class="badge ${cls}">${v}</span>`;
}

/** A control's verdict: FAIL or INCONCLUSIVE is what a control should give (neutral); PASS is a warning. */
function controlBadge(v: VerdictLabel): string {
  return v === "PASS" ? `<span class="badge fail">PASSES ⚠</span>` : `<span class="badge todo">${v} ✓</span>`;
}

const CSS = `
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1b1f24;background:#fafafa}
main{max-width:980px;margin:0 auto;padding:24px}
h1{font-size:26px;margin:0 0 4px} h2{font-size:19px;margin:0 0 6px} h3{font-size:16px;margin:10px 0 4px} .meta{color:#57606a;font-size:13px}
table{border-collapse:collapse;width:100%;margin:8px 0 16px;font-size:14px;background:#fff}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top} th{background:#f3f4f6}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;font-size:13px;white-space:nowrap}
.pass{background:#dafbe1;color:#116329} .fail{background:#ffebe9;color:#a40e26} .todo{background:#eaeef2;color:#57606a} .partial{background:#fff8c5;color:#7d4e00}
.inconclusive{background:#ddf4ff;color:#0a3069} .error{background:#a40e26;color:#fff} tr.miss td{background:#fff5f5}
section.paper{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:16px;margin:16px 0}
section.todo{opacity:.75} code{background:#f3f4f6;padding:1px 4px;border-radius:4px;font-size:13px}
figure{margin:12px 0} figure svg{max-width:100%;height:auto} figcaption{font-size:13px;color:#57606a}
.banner{background:#fff8c5;border:1px solid #d4a72c;padding:6px 10px;border-radius:6px}
a{color:#0969da}
`;

/** The per-check table: each check with its value, threshold, margin, per seed with mean ± sd, bracket and source. */
export function checksTable(v: V): string {
  const multi = v.seeds.length > 1;
  const rows = v.checks
    .map((c) => {
      const per = multi ? `<td class="num">${c.perSeed.map((s) => `${s.seed ?? "all"}: ${fmtNum(s.value)}${s.ok ? "" : " ✗"}`).join("<br>")}</td><td class="num">${c.perSeed.length > 1 ? `${fmtNum(c.mean)} ± ${fmtNum(c.sd ?? 0)}` : "—"}</td>` : "";
      const br = c.bracket ? ` <span class="meta">(${c.bracket.map((b) => (b === null ? "never" : fmtNum(b))).join(", ")}]</span>` : "";
      return `<tr${c.ok || c.gatedBy ? "" : ` class="miss"`}><td>${c.gatedBy ? `· ${c.role}<div class="meta">not judged: gate ${esc(c.gatedBy.join(", "))} missed</div>` : `${c.ok ? "✓" : "✗"} ${c.role}`}</td><td><code>${esc(c.id)}</code><div class="meta">${esc(c.what)}</div></td><td class="num">${fmtNum(c.value)}${br}</td><td class="num">${esc(checkText(c).slice(c.what.length + 1))}</td><td class="num">${fmtNum(c.margin)}</td>${per}<td class="meta">${esc(c.source)}${c.reach && !c.ok ? `<br>${esc(c.reach)}` : ""}</td></tr>`;
    })
    .join("");
  return `<table><tr><th>role</th><th>check</th><th>value${multi ? " (worst seed)" : ""}</th><th>threshold</th><th>margin</th>${multi ? "<th>per seed</th><th>mean ± sd</th>" : ""}<th>source</th></tr>${rows}</table>`;
}

function controlHtml(c: NonNullable<ReportOutcome["control"]>): string {
  if (!c.verdict) return `<p><b>Negative control.</b> ${esc(c.what)} — not judged (not run, or interrupted).</p>`;
  const v = c.verdict.verdict;
  const what = v === "PASS" ? " <b>(the control passes every check: the criteria do not discriminate here)</b>" : ` — it fails ${c.failed.length ? c.failed.map((f) => `<code>${esc(f)}</code>`).join(", ") : "no check"}`;
  return `<p><b>Negative control${c.inRun ? " (an arm run inside each point)" : " (every point run again without the ingredient)"}.</b> ${esc(c.what)} — judged by the same checks: ${controlBadge(v)}${what}.</p><details><summary>the control's checks</summary>${checksTable(c.verdict)}</details>`;
}

function recordedHtml(r: RecordedVerdict): string {
  return `<p><b>Verdict of record</b> (${esc(r.size)} size, recorded ${esc(r.date)} at <code>${esc(r.commit.slice(0, 10))}</code> on ${esc(r.machine)}, ${esc(r.backend)} backend, ${fmtNum(r.wall_s / 60, 3)} min of its runs on one core each; seeds ${r.seeds.join(", ")}): ${badge(r.verdict)}${r.failed.length ? ` — misses ${r.failed.map((f) => `<code>${esc(f)}</code>`).join(", ")}` : ""}${r.control ? ` · control: ${esc(r.control)}` : ""}</p>`;
}

function experimentBody(e: ReportExperiment, classMeaning: Record<string, string>, paperClass: string): string {
  const st = experimentStatus(e);
  const o = e.outcome;
  const v = o?.verdict ?? null;
  const verdictLine = e.notRun
    ? `<p>${badge("not run")} ${esc(e.notRun)}</p>`
    : o?.error
      ? `<p>${badge("ERROR")} ${esc(o.error)}</p>`
      : v
        ? `<p>${badge(v.verdict)} ${esc(e.size)} size, seed${v.seeds.length === 1 ? "" : "s"} ${v.seeds.join(", ")}${v.reason ? ` — ${esc(v.reason)}` : ""}</p>`
        : `<p>${badge(null)}</p>`;
  const cov = e.coverage.level === "partial" ? `<p><b>Coverage: partial.</b> Covered: ${e.coverage.covered.map(esc).join("; ")}. <b>Not covered:</b> ${e.coverage.notCovered.map(esc).join("; ")}.</p>` : `<p><b>Coverage:</b> ${e.coverage.covered.map(esc).join("; ")}.</p>`;
  const ctl = o?.control ? controlHtml(o.control) : `<p><b>Negative control.</b> none declared.</p>`;
  const cal = e.calibration ? `<p class="meta"><b>Quick size calibrated</b> on seeds ${e.calibration.seeds.join(", ")} (not the reported ones): ${esc(e.calibration.outcome)}</p>` : `<p class="meta"><b>Quick size not calibrated yet</b> on seeds other than those reported.</p>`;
  const pts = e.points.length > 1 ? `<details><summary>${e.points.length} runs (${e.points.filter((p) => !p.control).length} points of the reproduction${e.points.some((p) => p.control) ? `, ${e.points.filter((p) => p.control).length} of the negative control` : ""}${e.points.some((p) => p.reused) ? `, ${e.points.filter((p) => p.reused).length} reused` : ""})</summary><table><tr><th>run</th><th>role</th><th>seed</th><th>varied</th><th>time</th></tr>${e.points.map((p) => `<tr><td><code>${esc(p.runId)}</code></td><td>${p.control ? "control" : "point"}</td><td class="num">${p.seed}</td><td>${Object.entries(p.varied).map(([k, val]) => `${esc(k)}=${esc(String(val))}`).join(" ")}</td><td class="num">${p.seconds.toFixed(1)} s</td></tr>`).join("")}</table></details>` : "";
  const figs = e.figures.map((f) => `<figure>${f.svg}<figcaption>${esc(f.title)}</figcaption></figure>`).join("");
  const tcell = (x: string | number | null) => (x === null ? `<td>—</td>` : typeof x === "number" ? `<td class="num">${formatMeasured(x)}</td>` : `<td>${esc(x)}</td>`);
  const tabs = (e.tables ?? []).map((t) => `<h4>${esc(t.title)}</h4><table><tr>${t.columns.map((c) => `<th>${esc(c)}</th>`).join("")}</tr>${t.rows.map((r) => `<tr>${r.map(tcell).join("")}</tr>`).join("")}</table>${t.note ? `<p class="meta">${esc(t.note)}</p>` : ""}`).join("");
  return `<div id="${esc(e.id)}"><h3>${esc(e.title)}</h3><p>${st.partial ? badge("partial") : ""} <code>${esc(e.id)}</code> · ${esc(e.size)} size${o ? ` · ${o.seconds.toFixed(1)} s` : ""}</p>
${verdictLine}
${e.recorded ? recordedHtml(e.recorded) : ""}
<p><b>Claim (as tested).</b> ${esc(e.claim)}</p>
${cov}
<p><b>Criteria</b> <span class="meta">(declared once, before the run; gates say the regime was reached — a gate missed makes the verdict INCONCLUSIVE; claims are the paper's. Sources: ${esc(e.criterionSource)})</span></p>
${v ? checksTable(v) : ""}
${ctl}
${cal}
<p><b>Deviations from the paper.</b></p><ul>${e.deviations.map((d) => `<li>${esc(d)}</li>`).join("")}</ul>
<p><b>Class ${esc(paperClass)}.</b> ${esc(explainClass(paperClass, classMeaning))}</p>
<p class="meta"><b>Configuration (${esc(e.size)}).</b> ${Object.entries(e.hparams)
    .map(([k, val]) => `${esc(k)}=${esc(String(val))}`)
    .join(" · ")}</p>
${tabs}${pts}${figs}
<p class="meta">Rerun: <code>${esc(e.command)}</code></p></div>`;
}

/** The report page. Pure: same input, same bytes. */
export function reportHtml(r: ReportInput): string {
  const byPaper = new Map<number, ReportExperiment[]>();
  const benchmarks = r.experiments.filter((e) => e.kind === "benchmark");
  for (const e of r.experiments) if (e.kind !== "benchmark") byPaper.set(e.paper, [...(byPaper.get(e.paper) ?? []), e]);
  // One row per reproduction: its verdict here (PASS / FAIL / INCONCLUSIVE / ERROR / not run), partial
  // coverage as its own label, the control, and the verdict of record. Counts keep the verdicts apart.
  const counts: Record<string, number> = { PASS: 0, FAIL: 0, INCONCLUSIVE: 0, ERROR: 0, "not run": 0, interrupted: 0 };
  const reproductions = r.experiments.filter((e) => e.kind !== "benchmark");
  for (const e of reproductions) counts[experimentStatus(e).verdict ?? "interrupted"]++;
  const partialCount = reproductions.filter((e) => e.coverage.level === "partial").length;
  const todo = r.papers.filter((p) => !byPaper.has(p.number)).length;
  const summaryRows = r.papers
    .map((p) => {
      const exps = byPaper.get(p.number);
      if (!exps) return `<tr><td class="num">${p.number}</td><td><a href="#paper-${p.number}">${esc(p.title)}</a></td><td>${esc(p.paperClass)}</td><td>—</td><td>${badge("todo")}</td><td></td><td></td><td></td></tr>`;
      return exps
        .map((e) => {
          const st = experimentStatus(e);
          const v = e.outcome?.verdict;
          const key = v
            ? v.checks
                .filter((c) => !c.ok)
                .concat(v.checks.filter((c) => c.ok))
                .slice(0, 2)
                .map((c) => `${c.ok ? "✓" : "✗"} ${esc(c.id)} ${fmtNum(c.value)}`)
                .join("; ")
            : e.notRun
              ? esc(e.notRun)
              : "";
          const ctl = e.outcome?.control?.verdict ? controlBadge(e.outcome.control.verdict.verdict) : "—";
          const rec = e.recorded ? `${badge(e.recorded.verdict)} <span class="meta">${esc(e.recorded.size)}</span>` : `<span class="meta">none</span>`;
          return `<tr><td class="num">${p.number}</td><td><a href="#${esc(e.id)}">${esc(e.title)}</a><div class="meta">${esc(p.title)}</div></td><td>${esc(p.paperClass)}</td><td><code>${esc(e.id)}</code></td><td>${badge(st.verdict)}${st.partial ? ` ${badge("partial")}` : ""}<div class="meta">${esc(e.size)}${v ? `, seed${v.seeds.length === 1 ? "" : "s"} ${v.seeds.join(", ")}` : ""}</div></td><td>${ctl}</td><td>${rec}</td><td>${key}</td></tr>`;
        })
        .join("\n");
    })
    .join("\n");

  const sections = r.papers
    .map((p) => {
      const exps = byPaper.get(p.number);
      const head = `<h2>${p.number}. ${esc(p.title)}</h2><div class="meta">class ${esc(p.paperClass)} — ${esc(explainClass(p.paperClass, r.classMeaning))} · ${esc(p.group)}</div>`;
      if (!exps)
        return `<section class="paper todo" id="paper-${p.number}">${head}<p>${badge("todo")} No reproduction of this paper exists yet.</p>${p.claim ? `<p><b>The paper's claim (from the spec).</b> ${esc(p.claim)}</p>` : ""}${p.criterion ? `<p><b>Planned criterion (from the spec; not run).</b> ${esc(p.criterion)}</p>` : ""}</section>`;
      return `<section class="paper" id="paper-${p.number}">${head}${exps.map((e) => experimentBody(e, r.classMeaning, p.paperClass)).join("\n")}</section>`;
    })
    .join("\n");

  const benchSection = benchmarks.length
    ? `<section class="paper" id="benchmarks"><h2>Benchmarks</h2><div class="meta">Measurements kept in the repository: methods compared on a grid of conditions. Each verdict checks that the benchmark itself is valid (its baseline works, its control fails); the tables are the result.</div>${benchmarks
        .map((e) => {
          const p = r.papers.find((x) => x.number === e.paper);
          return experimentBody(e, r.classMeaning, p?.paperClass ?? "?");
        })
        .join("\n")}</section>`
    : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>genlab reproduction report</title><style>${CSS}</style></head>
<body><main>
<h1>genlab reproduction report</h1>
<div class="meta">${esc(r.generatedAt)} · <code>${esc(r.command)}</code> · ${Object.entries(r.versions)
    .map(([k, v]) => `${esc(k)} ${esc(v)}`)
    .join(" · ")}</div>
${r.inProgress ? `<p class="banner">${esc(r.inProgress)}</p>` : ""}
<p><b>${reproductions.length} reproduction${reproductions.length === 1 ? "" : "s"} of ${r.papers.length - todo} of ${r.papers.length} papers</b>: <span class="badge pass">${counts.PASS} PASS</span> <span class="badge fail">${counts.FAIL} FAIL</span> <span class="badge inconclusive">${counts.INCONCLUSIVE} INCONCLUSIVE</span>${counts.ERROR ? ` <span class="badge error">${counts.ERROR} ERROR</span>` : ""}${counts["not run"] ? ` <span class="badge todo">${counts["not run"]} not run here</span>` : ""}${counts.interrupted ? ` <span class="badge todo">${counts.interrupted} interrupted</span>` : ""} · ${partialCount} with partial coverage · <span class="badge todo">${todo} papers not yet implemented</span>${benchmarks.length ? ` · ${benchmarks.length} benchmark${benchmarks.length === 1 ? "" : "s"}` : ""}. PASS: every gate and claim met; FAIL: the regime was reached and a claim missed; INCONCLUSIVE: a gate missed (the regime the claim is about was not reached — the verdict says nothing about the paper); partial coverage: the reproduction tests part of the paper's spec, and its section says what is not covered.</p>
<table><tr><th>#</th><th>reproduction (paper)</th><th>class</th><th>experiment</th><th>verdict here</th><th>control</th><th>of record</th><th>checks</th></tr>
${summaryRows}
</table>
${benchmarks.length ? `<p>Benchmarks: ${benchmarks.map((e) => `<a href="#${esc(e.id)}">${esc(e.title)}</a> ${badge(experimentStatus(e).verdict)}`).join(" · ")}</p>` : ""}
${sections}
${benchSection}
</main></body></html>
`;
}
