/**
 * The reproduction report: one self-contained static HTML page (inline CSS and SVG figures, no scripts,
 * no network), readable straight from disk. One section per paper of the literature in seed order —
 * implemented or not — and a summary table at the top. FAIL is shown as plainly as PASS.
 */
export type ReportPaper = { number: number; title: string; paperClass: string; group: string };

export type ReportSeedRun = {
  seed: number;
  verdict: "PASS" | "FAIL" | null;
  status: string;
  measured: Record<string, number | null>;
  seconds: number;
  runId: string;
  dir: string;
};

export type ReportExperiment = {
  id: string;
  paper: number;
  title: string;
  claim: string;
  paperClass: string;
  criterion: string | null;
  size: string;
  verdict: "PASS" | "FAIL" | null;
  runs: ReportSeedRun[];
  seconds: number;
  /** SVG markup of the first seed's figures, with their titles. */
  figures: { title: string; svg: string }[];
  command: string;
  /** The hparams the runs used (the size's values). */
  hparams: Record<string, number | string | boolean>;
};

export type ReportInput = {
  papers: ReportPaper[];
  experiments: ReportExperiment[];
  classMeaning: Record<string, string>;
  generatedAt: string;
  command: string;
  versions: Record<string, string>;
};

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export function formatMeasured(v: number | null): string {
  if (v === null) return "not reached";
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : v.toFixed(4);
}

function badge(v: "PASS" | "FAIL" | null | "todo"): string {
  if (v === "todo") return `<span class="badge todo">not yet implemented</span>`;
  if (v === null) return `<span class="badge fail">no verdict (interrupted)</span>`;
  return `<span class="badge ${v === "PASS" ? "pass" : "fail"}">${v}</span>`;
}

const CSS = `
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1b1f24;background:#fafafa}
main{max-width:980px;margin:0 auto;padding:24px}
h1{font-size:26px;margin:0 0 4px} h2{font-size:19px;margin:0 0 6px} .meta{color:#57606a;font-size:13px}
table{border-collapse:collapse;width:100%;margin:8px 0 16px;font-size:14px;background:#fff}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top} th{background:#f3f4f6}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;font-size:13px;white-space:nowrap}
.pass{background:#dafbe1;color:#116329} .fail{background:#ffebe9;color:#a40e26} .todo{background:#eaeef2;color:#57606a}
section.paper{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:16px;margin:16px 0}
section.todo{opacity:.75} code{background:#f3f4f6;padding:1px 4px;border-radius:4px;font-size:13px}
figure{margin:12px 0} figure svg{max-width:100%;height:auto} figcaption{font-size:13px;color:#57606a}
a{color:#0969da}
`;

/** The report page. Pure: same input, same bytes. */
export function reportHtml(r: ReportInput): string {
  const byPaper = new Map<number, ReportExperiment[]>();
  for (const e of r.experiments) byPaper.set(e.paper, [...(byPaper.get(e.paper) ?? []), e]);
  const implemented = r.experiments.length;
  const pass = r.experiments.filter((e) => e.verdict === "PASS").length;
  const fail = r.experiments.filter((e) => e.verdict !== "PASS").length;
  const papersDone = new Set(r.experiments.map((e) => e.paper)).size;

  const summaryRows = r.papers
    .map((p) => {
      const exps = byPaper.get(p.number);
      if (!exps) return `<tr><td class="num">${p.number}</td><td><a href="#paper-${p.number}">${esc(p.title)}</a></td><td>${esc(p.paperClass)}</td><td>—</td><td>${badge("todo")}</td><td></td><td></td></tr>`;
      return exps
        .map((e) => {
          const m = e.runs[0]?.measured ?? {};
          const key = Object.entries(m)
            .slice(0, 3)
            .map(([k, v]) => `${esc(k)} ${formatMeasured(v)}`)
            .join("; ");
          const seedsPass = e.runs.filter((s) => s.verdict === "PASS").length;
          return `<tr><td class="num">${p.number}</td><td><a href="#${esc(e.id)}">${esc(p.title)}</a></td><td>${esc(p.paperClass)}</td><td><code>${esc(e.id)}</code></td><td>${badge(e.verdict)}${e.runs.length > 1 ? ` <span class="meta">${seedsPass}/${e.runs.length} seeds</span>` : ""}</td><td>${key}</td><td class="num">${e.seconds.toFixed(0)} s</td></tr>`;
        })
        .join("\n");
    })
    .join("\n");

  const sections = r.papers
    .map((p) => {
      const exps = byPaper.get(p.number);
      const head = `<h2>${p.number}. ${esc(p.title)}</h2><div class="meta">class ${esc(p.paperClass)} — ${esc(r.classMeaning[p.paperClass[0]] ?? "")} · ${esc(p.group)}</div>`;
      if (!exps) return `<section class="paper todo" id="paper-${p.number}">${head}<p>${badge("todo")} No reproduction of this paper exists yet.</p></section>`;
      const body = exps
        .map((e) => {
          const keys = [...new Set(e.runs.flatMap((s) => Object.keys(s.measured)))];
          const measuredTable = `<table><tr><th>seed</th>${keys.map((k) => `<th>${esc(k)}</th>`).join("")}<th>verdict</th><th>time</th></tr>${e.runs
            .map((s) => `<tr><td class="num">${s.seed}</td>${keys.map((k) => `<td class="num">${formatMeasured(s.measured[k] ?? null)}</td>`).join("")}<td>${badge(s.verdict)}</td><td class="num">${s.seconds.toFixed(1)} s</td></tr>`)
            .join("")}</table>`;
          const figs = e.figures.map((f) => `<figure>${f.svg}<figcaption>${esc(f.title)} (seed ${e.runs[0]?.seed ?? 0})</figcaption></figure>`).join("");
          return `<div id="${esc(e.id)}"><p>${badge(e.verdict)} <code>${esc(e.id)}</code> · ${esc(e.size)} size · seeds ${e.runs.map((s) => s.seed).join(", ")} · ${e.seconds.toFixed(1)} s</p>
<p><b>Claim.</b> ${esc(e.claim)}</p>
<p><b>Pass criterion.</b> ${esc(e.criterion ?? "—")}</p>
<p><b>Class ${esc(e.paperClass)}.</b> ${esc(r.classMeaning[e.paperClass[0]] ?? "")}</p>
<p class="meta"><b>Configuration (${esc(e.size)}).</b> ${Object.entries(e.hparams)
            .map(([k, v]) => `${esc(k)}=${esc(String(v))}`)
            .join(" · ")}</p>
${measuredTable}${figs}
<p class="meta">Rerun: <code>${esc(e.command)}</code> · run folders: ${e.runs.map((s) => `<code>${esc(s.runId)}</code>`).join(", ")}</p></div>`;
        })
        .join("\n");
      return `<section class="paper" id="paper-${p.number}">${head}${body}</section>`;
    })
    .join("\n");

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>genlab reproduction report</title><style>${CSS}</style></head>
<body><main>
<h1>genlab reproduction report</h1>
<div class="meta">${esc(r.generatedAt)} · <code>${esc(r.command)}</code> · ${Object.entries(r.versions)
    .map(([k, v]) => `${esc(k)} ${esc(v)}`)
    .join(" · ")}</div>
<p><b>${r.papers.length} papers</b>: ${papersDone} reproduced by ${implemented} experiment${implemented === 1 ? "" : "s"} in this report — <span class="badge pass">${pass} PASS</span> <span class="badge fail">${fail} FAIL</span> — and ${r.papers.length - papersDone} <span class="badge todo">not yet implemented</span>.</p>
<table><tr><th>#</th><th>paper</th><th>class</th><th>experiment</th><th>verdict</th><th>measured</th><th>time</th></tr>
${summaryRows}
</table>
${sections}
</main></body></html>
`;
}
