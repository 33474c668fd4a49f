/**
 * The reproduction report: one self-contained static HTML page (inline CSS and SVG figures, no scripts,
 * no network), readable straight from disk. One section per paper of the literature in seed order —
 * implemented or not — and a summary table at the top. FAIL is shown as plainly as PASS.
 */
export type ReportPaper = { number: number; title: string; paperClass: string; group: string; /** From the spec: shown while the paper has no reproduction. */ claim?: string; criterion?: string };

type V = { verdict: "PASS" | "FAIL"; criterion: string; measured: Record<string, number | null>; brackets?: Record<string, [number | null, number | null]> };

/** One outcome of a reproduction: one seed of a single-run experiment, or a whole sweep. */
export type ReportOutcome = {
  seed: number | null;
  verdict: V | null;
  control: { what: string; verdict: V | null } | null;
  runIds: string[];
  seconds: number;
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
  outcomes: ReportOutcome[];
  /** Points of a sweep: what varies between them. */
  points: { runId: string; seed: number; varied: Record<string, number | string | boolean>; seconds: number; reused: boolean }[];
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

/** Status of a reproduction: its verdict over all outcomes, or partial when the spec is only partly covered. */
export function experimentStatus(e: ReportExperiment): { badge: "PASS" | "FAIL" | "partial" | null; verdict: "PASS" | "FAIL" | null } {
  const vs = e.outcomes.map((o) => o.verdict?.verdict ?? null);
  const verdict = vs.length === 0 || vs.some((v) => v === null) ? null : vs.every((v) => v === "PASS") ? "PASS" : "FAIL";
  return { badge: e.coverage.level === "partial" ? "partial" : verdict, verdict };
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
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : v.toFixed(4);
}

function badge(v: "PASS" | "FAIL" | "partial" | null | "todo"): string {
  if (v === "todo") return `<span class="badge todo">not yet implemented</span>`;
  if (v === "partial") return `<span class="badge partial">partial</span>`;
  if (v === null) return `<span class="badge fail">no verdict (interrupted)</span>`;
  return `<span class="badge ${v === "PASS" ? "pass" : "fail"}">${v}</span>`;
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
section.paper{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:16px;margin:16px 0}
section.todo{opacity:.75} code{background:#f3f4f6;padding:1px 4px;border-radius:4px;font-size:13px}
figure{margin:12px 0} figure svg{max-width:100%;height:auto} figcaption{font-size:13px;color:#57606a}
.banner{background:#fff8c5;border:1px solid #d4a72c;padding:6px 10px;border-radius:6px}
a{color:#0969da}
`;

const meanSd = (xs: number[]) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) : 0;
  return { m, sd };
};

function measuredCell(v: V | null, k: string): string {
  const x = v?.measured[k] ?? null;
  const b = v?.brackets?.[k];
  return `<td class="num">${formatMeasured(x)}${b ? ` <span class="meta">(${b[0] ?? "—"}, ${b[1] ?? "never"}]</span>` : ""}</td>`;
}

function experimentBody(e: ReportExperiment, classMeaning: Record<string, string>, paperClass: string): string {
  const st = experimentStatus(e);
  const keys = [...new Set(e.outcomes.flatMap((o) => Object.keys(o.verdict?.measured ?? {})))];
  const rows = e.outcomes
    .map((o) => `<tr><td class="num">${o.seed ?? "all"}</td>${keys.map((k) => measuredCell(o.verdict, k)).join("")}<td>${badge(o.verdict?.verdict ?? null)}</td><td>${o.control ? `${badge(o.control.verdict?.verdict ?? null)}` : "—"}</td><td class="num">${o.seconds.toFixed(1)} s</td></tr>`)
    .join("");
  let agg = "";
  if (e.outcomes.length > 1) {
    agg = `<tr><td>mean ± sd</td>${keys
      .map((k) => {
        const xs = e.outcomes.map((o) => o.verdict?.measured[k]).filter((x): x is number => typeof x === "number");
        if (!xs.length) return `<td></td>`;
        const { m, sd } = meanSd(xs);
        return `<td class="num">${formatMeasured(m)} ± ${formatMeasured(sd)}</td>`;
      })
      .join("")}<td>${st.verdict ? `${e.outcomes.filter((o) => o.verdict?.verdict === "PASS").length}/${e.outcomes.length} PASS` : ""}</td><td></td><td></td></tr>`;
  }
  const table = `<table><tr><th>seed</th>${keys.map((k) => `<th>${esc(k)}</th>`).join("")}<th>verdict</th><th>control</th><th>time</th></tr>${rows}${agg}</table>`;
  const criterion = e.outcomes.find((o) => o.verdict)?.verdict?.criterion ?? "—";
  const ctl = e.outcomes.find((o) => o.control)?.control;
  const ctlText = ctl
    ? `<p><b>Negative control.</b> ${esc(ctl.what)} — the criterion on the control: ${badge(ctl.verdict?.verdict ?? null)}${ctl.verdict ? (ctl.verdict.verdict === "FAIL" ? " (fails, as it must: the criterion can fail)" : " <b>(passes: the criterion does not discriminate here)</b>") : ""}${ctl.verdict ? ` <span class="meta">${Object.entries(ctl.verdict.measured).map(([k, v]) => `${esc(k)} ${formatMeasured(v)}`).join(" · ")}</span>` : ""}</p>`
    : `<p><b>Negative control.</b> none declared.</p>`;
  const cov = e.coverage.level === "partial" ? `<p><b>Coverage: partial.</b> Covered: ${e.coverage.covered.map(esc).join("; ")}. <b>Not covered:</b> ${e.coverage.notCovered.map(esc).join("; ")}.</p>` : `<p><b>Coverage:</b> ${e.coverage.covered.map(esc).join("; ")}.</p>`;
  const pts = e.points.length > 1 ? `<details><summary>${e.points.length} runs (points of the sweep${e.points.some((p) => p.reused) ? `, ${e.points.filter((p) => p.reused).length} reused` : ""})</summary><table><tr><th>run</th><th>seed</th><th>varied</th><th>time</th></tr>${e.points.map((p) => `<tr><td><code>${esc(p.runId)}</code></td><td class="num">${p.seed}</td><td>${Object.entries(p.varied).map(([k, v]) => `${esc(k)}=${esc(String(v))}`).join(" ")}</td><td class="num">${p.seconds.toFixed(1)} s</td></tr>`).join("")}</table></details>` : "";
  const figs = e.figures.map((f) => `<figure>${f.svg}<figcaption>${esc(f.title)}</figcaption></figure>`).join("");
  const tcell = (v: string | number | null) => (v === null ? `<td>—</td>` : typeof v === "number" ? `<td class="num">${formatMeasured(v)}</td>` : `<td>${esc(v)}</td>`);
  const tabs = (e.tables ?? []).map((t) => `<h4>${esc(t.title)}</h4><table><tr>${t.columns.map((c) => `<th>${esc(c)}</th>`).join("")}</tr>${t.rows.map((r) => `<tr>${r.map(tcell).join("")}</tr>`).join("")}</table>${t.note ? `<p class="meta">${esc(t.note)}</p>` : ""}`).join("");
  return `<div id="${esc(e.id)}"><h3>${esc(e.title)}</h3><p>${badge(st.badge)}${st.badge === "partial" ? ` the covered scope: ${badge(st.verdict)}` : ""} <code>${esc(e.id)}</code> · ${esc(e.size)} size · ${e.outcomes.length} outcome${e.outcomes.length === 1 ? "" : "s"}</p>
<p><b>Claim (as tested).</b> ${esc(e.claim)}</p>
${cov}
<p><b>Pass criterion.</b> ${esc(criterion)} <span class="meta">Source: ${esc(e.criterionSource)}.</span></p>
${ctlText}
<p><b>Deviations from the paper.</b></p><ul>${e.deviations.map((d) => `<li>${esc(d)}</li>`).join("")}</ul>
<p><b>Class ${esc(paperClass)}.</b> ${esc(explainClass(paperClass, classMeaning))}</p>
<p class="meta"><b>Configuration (${esc(e.size)}).</b> ${Object.entries(e.hparams)
    .map(([k, v]) => `${esc(k)}=${esc(String(v))}`)
    .join(" · ")}</p>
${table}${tabs}${pts}${figs}
<p class="meta">Rerun: <code>${esc(e.command)}</code></p></div>`;
}

/** The report page. Pure: same input, same bytes. */
export function reportHtml(r: ReportInput): string {
  const byPaper = new Map<number, ReportExperiment[]>();
  const benchmarks = r.experiments.filter((e) => e.kind === "benchmark");
  for (const e of r.experiments) if (e.kind !== "benchmark") byPaper.set(e.paper, [...(byPaper.get(e.paper) ?? []), e]);
  const paperStatus = (n: number): "PASS" | "FAIL" | "partial" | null | "todo" => {
    const exps = byPaper.get(n);
    if (!exps) return "todo";
    const st = exps.map(experimentStatus);
    if (st.some((s) => s.badge === "partial")) return "partial";
    if (st.some((s) => s.verdict === null)) return null;
    return st.every((s) => s.verdict === "PASS") ? "PASS" : "FAIL";
  };
  const counts = { PASS: 0, FAIL: 0, partial: 0, todo: 0, none: 0 };
  for (const p of r.papers) {
    const s = paperStatus(p.number);
    if (s === null) counts.none++;
    else counts[s]++;
  }
  const summaryRows = r.papers
    .map((p) => {
      const exps = byPaper.get(p.number);
      if (!exps) return `<tr><td class="num">${p.number}</td><td><a href="#paper-${p.number}">${esc(p.title)}</a></td><td>${esc(p.paperClass)}</td><td>—</td><td>${badge("todo")}</td><td></td><td></td></tr>`;
      return exps
        .map((e) => {
          const st = experimentStatus(e);
          const m = e.outcomes[0]?.verdict?.measured ?? {};
          const key = Object.entries(m)
            .slice(0, 3)
            .map(([k, v]) => `${esc(k)} ${formatMeasured(v)}`)
            .join("; ");
          const seconds = e.outcomes.reduce((a, o) => a + o.seconds, 0);
          const seeds = e.outcomes.length > 1 ? ` <span class="meta">${e.outcomes.filter((o) => o.verdict?.verdict === "PASS").length}/${e.outcomes.length} seeds</span>` : "";
          return `<tr><td class="num">${p.number}</td><td><a href="#${esc(e.id)}">${esc(e.title)}</a><div class="meta">${esc(p.title)}</div></td><td>${esc(p.paperClass)}</td><td><code>${esc(e.id)}</code></td><td>${badge(st.badge)}${st.badge === "partial" ? ` ${badge(st.verdict)}` : ""}${seeds}</td><td>${key}</td><td class="num">${seconds.toFixed(0)} s</td></tr>`;
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
<p><b>${r.papers.length} papers</b>: <span class="badge pass">${counts.PASS} PASS</span> <span class="badge fail">${counts.FAIL} FAIL</span> <span class="badge partial">${counts.partial} partial</span>${counts.none ? ` <span class="badge fail">${counts.none} without a verdict</span>` : ""} <span class="badge todo">${counts.todo} not yet implemented</span> — ${r.experiments.length - benchmarks.length} reproduction${r.experiments.length - benchmarks.length === 1 ? "" : "s"}${benchmarks.length ? ` and ${benchmarks.length} benchmark${benchmarks.length === 1 ? "" : "s"}` : ""} in this report. A paper is PASS or FAIL only when its reproductions cover its whole spec; otherwise it is partial, and its section says what is and is not covered.</p>
<table><tr><th>#</th><th>reproduction (paper)</th><th>class</th><th>experiment</th><th>status</th><th>measured</th><th>time</th></tr>
${summaryRows}
</table>
${benchmarks.length ? `<p>Benchmarks: ${benchmarks.map((e) => `<a href="#${esc(e.id)}">${esc(e.title)}</a> ${badge(experimentStatus(e).verdict)}`).join(" · ")}</p>` : ""}
${sections}
${benchSection}
</main></body></html>
`;
}
