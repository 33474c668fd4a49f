/**
 * The genlab dashboard (preact, no JSX): runs list with filters, run page with live curves, overlays of
 * several runs with mean ± band over seeds, log-scaled step axes, smoothing, CSV/JSON export, and
 * in-browser runs of the quick grokking reproduction on jax-js (WebGPU when the browser has it, Wasm
 * otherwise) with the whole configuration in the URL. Charts are drawn by src/report/plot.ts, the code that
 * draws the report's figures.
 */
import type { ReproductionView } from "../src/server/serve.ts";
import { h, render, type ComponentChildren } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { figureSvg, lineChartSvg, type LineChart, type Series } from "../src/report/plot.ts";
import { MONITOR_METRICS } from "../src/declare/charts.ts";
import type { AxisRow, RunView, ScoresView } from "../src/server/serve.ts";
import { aggregate, configToQuery, queryToRaw, smooth, toCsv, toJson, type Curve, type Point } from "./data.ts";

type Run = RunView;
type Rec = { step: number } & Record<string, number>;

const api = async <T>(path: string): Promise<T> => {
  const r = await fetch(path);
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return (await r.json()) as T;
};

function useHash(): string {
  const [hash, setHash] = useState(location.hash || "#/");
  useEffect(() => {
    const on = () => setHash(location.hash || "#/");
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return hash;
}

function download(name: string, text: string, type: string) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// ---------------------------------------------------------------------------------------------- chart

type ChartOpts = { xLog: boolean; smoothing: number };

function Controls(p: { opts: ChartOpts; set: (o: ChartOpts) => void; curves: Curve[]; name: string; children?: ComponentChildren }) {
  return h(
    "div",
    { class: "controls" },
    h("label", null, h("input", { type: "checkbox", "data-testid": "xlog", checked: p.opts.xLog, onChange: (e: Event) => p.set({ ...p.opts, xLog: (e.target as HTMLInputElement).checked }) }), " log step axis"),
    h(
      "label",
      null,
      " smoothing ",
      h("input", { type: "range", min: 0, max: 0.99, step: 0.01, value: p.opts.smoothing, "data-testid": "smoothing", onInput: (e: Event) => p.set({ ...p.opts, smoothing: Number((e.target as HTMLInputElement).value) }) }),
      ` ${p.opts.smoothing.toFixed(2)}`,
    ),
    h("button", { "data-testid": "export-csv", onClick: () => download(`${p.name}.csv`, toCsv(p.curves), "text/csv") }, "export CSV"),
    h("button", { "data-testid": "export-json", onClick: () => download(`${p.name}.json`, toJson(p.curves), "application/json") }, "export JSON"),
    p.children,
  );
}

/** Renders curves (and optional bands) with the report's plotting code. Raw points go to export; the drawn lines are smoothed. */
function Chart(p: { title: string; yLabel: string; curves: Curve[]; opts: ChartOpts; bands?: LineChart["bands"]; label?: (c: Curve) => string; xLabel?: string; testid?: string; width?: number; height?: number }) {
  const ref = useRef<HTMLDivElement>(null);
  const series: Series[] = p.curves.map((c) => {
    const pts = smooth(c.points, p.opts.smoothing);
    return { name: p.label ? p.label(c) : c.metric, x: pts.map((q) => q[0]), y: pts.map((q) => q[1]) };
  });
  useEffect(() => {
    if (!ref.current) return;
    ref.current.innerHTML = lineChartSvg(
      { title: p.title, xLabel: `${p.xLabel ?? "step"}${p.opts.xLog ? " (log scale)" : ""}`, yLabel: p.yLabel, xLog: p.opts.xLog, series, bands: p.bands, width: p.width ?? 760, height: p.height ?? 380 },
      document,
    );
  });
  const counts = Object.fromEntries(p.curves.map((c, i) => [series[i].name, c.points.filter(([, y]) => Number.isFinite(y)).length]));
  return h("div", { class: "chart", ref, "data-testid": p.testid ?? "chart", "data-points": JSON.stringify(counts) });
}

// ------------------------------------------------------------------------------------ reproductions

type Repro = ReproductionView;

/** A check's value as the server sends it: a number, or "Infinity" / "-Infinity" for "never reached". */
const fmtValue = (v: number | string) => (typeof v === "string" ? (v.startsWith("-") ? "−∞" : "∞") : Number.isInteger(v) ? String(v) : v.toPrecision(4));

const verdictClass = (v: string | null) => (v === "PASS" ? "pass" : v === "FAIL" || v === "ERROR" ? "fail" : v === "INCONCLUSIVE" ? "inconclusive" : "");

/** The first page: one row per reproduction (experiment × size × seeds), its sweep points and control runs folded under it. */
function Reproductions() {
  const [rows, setRows] = useState<Repro[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const load = () => api<Repro[]>("/api/reproductions").then(setRows, (e) => setError(String(e)));
    load();
    const t = setInterval(load, 5000);
    return () => clearInterval(t);
  }, []);
  if (error) return h("p", { class: "error" }, error);
  if (!rows) return h("p", null, "loading…");
  const count = (v: string) => rows.filter((r) => r.verdict === v).length;
  return h(
    "div",
    null,
    h("p", { "data-testid": "repro-counts" }, `${rows.length} reproduction${rows.length === 1 ? "" : "s"}: `, ["PASS", "FAIL", "INCONCLUSIVE", "ERROR"].map((v) => h("span", { class: verdictClass(v) }, `${count(v)} ${v} `)), h("a", { href: "#/runs" }, " · every run →")),
    h(
      "table",
      { "data-testid": "reproductions" },
      h("tr", null, ["paper", "experiment", "size", "seeds", "verdict", "control", "checks missed", "runs"].map((c) => h("th", null, c))),
      rows.map((r) =>
        h(
          "tr",
          { "data-repro": `${r.experiment}:${r.size}:${r.seeds.join(",")}` },
          h("td", null, r.kind === "benchmark" ? "bench" : String(r.paper)),
          h("td", null, r.experiment),
          h("td", null, r.size),
          h("td", null, r.seeds.join(", ")),
          h("td", { class: verdictClass(r.verdict), title: r.reason ?? r.error ?? "" }, `${r.verdict ?? "—"}${r.coverage === "partial" ? " (partial coverage)" : ""}`),
          h("td", { class: r.control?.verdict === "PASS" ? "fail" : "" }, r.control ? `${r.control.verdict ?? "—"}${r.control.verdict === "PASS" ? " ⚠ passes" : r.control.failed.length ? ` (fails ${r.control.failed.join(", ")})` : ""}` : "none"),
          h("td", null, r.checks.filter((c) => !c.ok).map((c) => `${c.id} ${fmtValue(c.value)} (${c.threshold})`).join("; ")),
          h(
            "td",
            null,
            h(
              "details",
              null,
              h("summary", null, `${r.runs.filter((x) => x.role === "point").length} point${r.runs.length === 1 ? "" : "s"}${r.runs.some((x) => x.role === "control") ? ` + ${r.runs.filter((x) => x.role === "control").length} control` : ""}`),
              r.runs.map((x) => h("div", null, h("a", { href: `#/run/${encodeURIComponent(x.id)}` }, x.id), ` ${x.role === "control" ? "(negative control) " : ""}seed ${x.seed} · ${x.status}`)),
            ),
          ),
        ),
      ),
    ),
  );
}

// ------------------------------------------------------------------------------------------ runs list

function RunsList() {
  const [runs, setRuns] = useState<Run[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [exp, setExp] = useState("");
  const [status, setStatus] = useState("");
  const [since, setSince] = useState("");
  const [hp, setHp] = useState("");
  const [sel, setSel] = useState<Set<string>>(new Set());
  useEffect(() => {
    const load = () => api<Run[]>("/api/runs").then(setRuns, (e) => setError(String(e)));
    load();
    const t = setInterval(load, 3000);
    return () => clearInterval(t);
  }, []);
  if (error) return h("p", { class: "error" }, error);
  if (!runs) return h("p", null, "loading…");
  const exps = [...new Set(runs.map((r) => r.experiment))].sort();
  const tokens = hp.split(/[\s,]+/).filter(Boolean);
  const shown = runs.filter(
    (r) =>
      (!exp || r.experiment === exp) &&
      (!status || r.status === status) &&
      (!since || r.started_at.slice(0, 10) >= since) &&
      tokens.every((t) => {
        const [k, v] = t.split("=");
        return k in r.hparams && (v === undefined || String(r.hparams[k]) === v);
      }),
  );
  const toggle = (id: string) => {
    const s = new Set(sel);
    if (s.has(id)) s.delete(id);
    else s.add(id);
    setSel(s);
  };
  return h(
    "div",
    null,
    h(
      "div",
      { class: "controls" },
      h("label", null, "experiment ", h("select", { "data-testid": "filter-experiment", value: exp, onChange: (e: Event) => setExp((e.target as HTMLSelectElement).value) }, h("option", { value: "" }, "all"), exps.map((x) => h("option", { value: x }, x)))),
      h("label", null, " status ", h("select", { "data-testid": "filter-status", value: status, onChange: (e: Event) => setStatus((e.target as HTMLSelectElement).value) }, ["", "running", "finished", "interrupted", "failed"].map((x) => h("option", { value: x }, x || "all")))),
      h("label", null, " since ", h("input", { type: "date", value: since, onChange: (e: Event) => setSince((e.target as HTMLInputElement).value) })),
      h("label", null, " hparams ", h("input", { placeholder: "p=97 hidden=128", "data-testid": "filter-hparams", value: hp, onInput: (e: Event) => setHp((e.target as HTMLInputElement).value) })),
      h("button", { disabled: sel.size === 0, "data-testid": "compare", onClick: () => (location.hash = `#/compare?ids=${[...sel].map(encodeURIComponent).join(",")}`) }, `compare ${sel.size || ""}`),
      h("a", { href: "#/play" }, "run grokking in this browser →"),
    ),
    h(
      "table",
      { "data-testid": "runs" },
      h("tr", null, ["", "run", "experiment", "size", "seed", "status", "verdict", "started", "time"].map((c) => h("th", null, c))),
      shown.map((r) =>
        h(
          "tr",
          { "data-run": r.id },
          h("td", null, h("input", { type: "checkbox", checked: sel.has(r.id), onChange: () => toggle(r.id) })),
          h("td", null, h("a", { href: `#/run/${encodeURIComponent(r.id)}` }, r.id)),
          h("td", null, `${r.experiment} (${r.paper})`),
          h("td", null, r.size),
          h("td", null, r.seed),
          h("td", { class: r.status }, r.status),
          h("td", { class: verdictClass(r.verdict) }, r.verdict ?? ""),
          h("td", null, r.started_at.replace("T", " ").slice(0, 19)),
          h("td", null, r.seconds === null ? "" : `${r.seconds.toFixed(1)} s`),
        ),
      ),
    ),
    h("p", { class: "meta" }, `${shown.length} of ${runs.length} runs`),
  );
}

// -------------------------------------------------------------------------------------------- run page

function useMetrics(id: string): { run: Run | null; recs: Rec[]; error: string | null } {
  const [run, setRun] = useState<Run | null>(null);
  const [recs, setRecs] = useState<Rec[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let stop = false;
    let last = -1;
    let all: Rec[] = [];
    const tick = async () => {
      try {
        const r = await api<Run>(`/api/runs/${encodeURIComponent(id)}`);
        const m = await api<{ status: string; metrics: Rec[] }>(`/api/runs/${encodeURIComponent(id)}/metrics?after=${last}`);
        if (stop) return;
        if (m.metrics.length) {
          all = [...all, ...m.metrics];
          last = all[all.length - 1].step;
          setRecs(all);
        }
        setRun(r);
        if (r.status === "running") setTimeout(tick, 1000); // live: poll only new steps
      } catch (e) {
        setError(String(e));
      }
    };
    void tick();
    return () => {
      stop = true;
    };
  }, [id]);
  return { run, recs, error };
}

const metricNames = (recs: Rec[]) => [...new Set(recs.flatMap((r) => Object.keys(r)))].filter((k) => k !== "step").sort();
const curveOf = (recs: Rec[], metric: string, run: string): Curve => ({ run, metric, points: recs.filter((r) => typeof r[metric] === "number").map((r) => [r.step, r[metric]] as Point) });

function RunPage(p: { id: string }) {
  const { run, recs, error } = useMetrics(p.id);
  const [opts, setOpts] = useState<ChartOpts>({ xLog: true, smoothing: 0 });
  const names = metricNames(recs);
  const [picked, setPicked] = useState<string[] | null>(null);
  if (error) return h("p", { class: "error" }, error);
  if (!run) return h("p", null, "loading…");
  const chosen = picked ?? (names.filter((n) => n.endsWith("_acc")).length ? names.filter((n) => n.endsWith("_acc")) : names.slice(0, 1));
  const curves = chosen.map((m) => curveOf(recs, m, run.id));
  const measured = run.summary?.measured ?? {};
  const figs = run.figures ?? [];
  return h(
    "div",
    null,
    h("h2", null, run.id),
    h("p", { class: "meta" }, `${run.experiment} · paper ${run.paper} · ${run.size} · seed ${run.seed} · `, h("span", { class: run.status, "data-testid": "status" }, run.status), run.verdict ? h("span", { class: run.verdict === "PASS" ? "pass" : "fail" }, ` · ${run.verdict}`) : null),
    Object.keys(measured).length ? h("table", null, Object.entries(measured).map(([k, v]) => h("tr", null, h("th", null, k), h("td", null, v === null ? "not reached" : Number.isInteger(v) ? String(v) : v.toFixed(4))))) : null,
    h(
      "div",
      { class: "controls" },
      names.map((n) =>
        h("label", null, h("input", { type: "checkbox", "data-metric": n, checked: chosen.includes(n), onChange: () => setPicked(chosen.includes(n) ? chosen.filter((x) => x !== n) : [...chosen, n]) }), ` ${n} `),
      ),
    ),
    h(Controls, { opts, set: setOpts, curves, name: run.id }),
    h(Chart, { title: run.id, yLabel: chosen.join(", "), curves, opts }),
    // The grokking monitors (IPR, coherence, NTK alignment, pathway metrics, ‖θ‖…), one live chart each.
    h(
      "div",
      { class: "monitors" },
      names.filter((n) => MONITOR_METRICS.includes(n)).map((n) => h(Chart, { title: n, yLabel: n, curves: [curveOf(recs, n, run.id)], opts, testid: "monitor-chart", width: 370, height: 240 })),
    ),
    (run.dynamics ?? []).length ? h("p", null, h("a", { href: `#/scores/${encodeURIComponent(run.id)}`, "data-testid": "scores-link" }, `per-example scores of this run (${run.dynamics.length} logged training${run.dynamics.length === 1 ? "" : "s"}) →`)) : null,
    h(AxisCharts, { id: run.id, opts }),
    figs.map((f) => h("figure", null, h("img", { src: `/api/runs/${encodeURIComponent(run.id)}/figures/${encodeURIComponent(f)}`, alt: f }))),
  );
}

/** Records on a non-step axis (a sweep's width, sample size, keep-fraction…): one chart per (phase, axis), drawn against that axis. */
function AxisCharts(p: { id: string; opts: ChartOpts }) {
  const [rows, setRows] = useState<AxisRow[]>([]);
  useEffect(() => {
    void api<AxisRow[]>(`/api/runs/${encodeURIComponent(p.id)}/rows`).then(setRows, () => setRows([]));
  }, [p.id]);
  const groups = new Map<string, AxisRow[]>();
  for (const r of rows) groups.set(`${r.phase} · ${r.axis}`, [...(groups.get(`${r.phase} · ${r.axis}`) ?? []), r]);
  return h(
    "div",
    { "data-testid": "axis-charts" },
    [...groups].map(([key, rs]) => {
      const names = [...new Set(rs.flatMap((r) => Object.keys(r.values)))];
      const curves: Curve[] = names.map((n) => ({ run: p.id, metric: n, points: rs.filter((r) => n in r.values).map((r) => [r.x, r.values[n]] as Point).sort((a, b) => a[0] - b[0]) }));
      return h(Chart, { title: key, yLabel: names.join(", "), curves, opts: { ...p.opts, smoothing: 0 }, xLabel: rs[0].axis });
    }),
  );
}

// ------------------------------------------------------------------------------------------ scores

/** A grayscale thumbnail of an example's pixels (0–255 or 0–1). */
function Thumb(p: { pixels: number[]; shape: [number, number] }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current;
    if (!c) return;
    const [hh, ww] = p.shape;
    const ctx = c.getContext("2d")!;
    const img = ctx.createImageData(ww, hh);
    const scale = p.pixels.some((v) => v > 1) ? 1 : 255;
    p.pixels.forEach((v, i) => {
      const g = Math.max(0, Math.min(255, Math.round(v * scale)));
      img.data.set([255 - g, 255 - g, 255 - g, 255], 4 * i);
    });
    ctx.putImageData(img, 0, 0);
  }, [p.pixels]);
  return h("canvas", { ref, width: p.shape[1], height: p.shape[0], class: "thumb", "data-testid": "thumb" });
}

/**
 * A run's per-example scores (from its logged dynamics): the data map (cartography confidence ×
 * variability, coloured by correctness), a histogram of every score, and the top-ranked examples by a chosen
 * score, with their images when the run saved them.
 */
function ScoresPage(p: { id: string; query: string }) {
  const q = queryToRaw(p.query);
  const [view, setView] = useState<ScoresView | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const params = new URLSearchParams();
    if (q.prefix) params.set("prefix", q.prefix);
    if (q.score) params.set("score", q.score);
    void api<ScoresView>(`/api/runs/${encodeURIComponent(p.id)}/scores?${params}`).then(setView, (e) => setError(String(e)));
  }, [p.id, p.query]);
  if (error) return h("p", { class: "error" }, error);
  if (!view) return h("p", null, "loading…");
  const go = (patch: Record<string, string>) => (location.hash = `#/scores/${encodeURIComponent(p.id)}?${configToQuery({ prefix: view.prefix, score: view.score, ...patch })}`);
  const m = view.map;
  const band = (lo: number, hi: number) => m.index.map((_, i) => i).filter((i) => m.correctness[i] >= lo && m.correctness[i] < hi);
  const groups: [string, number[]][] = [["wrong (correct ≤ 1/3 of epochs)", band(0, 0.334)], ["mixed (1/3–2/3)", band(0.334, 0.667)], ["right (≥ 2/3)", band(0.667, 1.01)]];
  const mapSvg = figureSvg(
    {
      name: "data-map",
      title: `Data map (${view.prefix}): ${view.n} examples over epochs ${view.epochs.filter((e) => e >= 1).join(", ")}`,
      subtitle: "Swayamdipta et al. 2020: easy-to-learn top left, ambiguous right, hard-to-learn bottom left; colour = correctness",
      panels: [{ kind: "scatter", title: "confidence × variability", xLabel: "variability", yLabel: "confidence", series: groups.map(([name, idx]) => ({ name, x: idx.map((i) => m.variability[i]), y: idx.map((i) => m.confidence[i]) })) }],
    },
    document,
  );
  const histSvgs = view.histograms.map((hst) =>
    figureSvg({ name: `hist-${hst.id}`, title: hst.id, panels: [{ kind: "bar", title: `${hst.counts.reduce((a, b) => a + b, 0)} examples`, xLabel: hst.id, yLabel: "examples", groups: hst.counts.map((_, i) => (i % 6 === 0 ? hst.edges[i].toPrecision(3) : " ".repeat(i))), series: [{ name: hst.id, values: hst.counts }], width: 340, height: 220 }] }, document),
  );
  return h(
    "div",
    null,
    h("h2", null, h("a", { href: `#/run/${encodeURIComponent(p.id)}` }, p.id), " · scores"),
    h(
      "div",
      { class: "controls" },
      h("label", null, "training ", h("select", { "data-testid": "prefix", value: view.prefix, onChange: (e: Event) => go({ prefix: (e.target as HTMLSelectElement).value }) }, view.prefixes.map((x) => h("option", { value: x }, x)))),
      h("label", null, "rank by ", h("select", { "data-testid": "score", value: view.score, onChange: (e: Event) => go({ score: (e.target as HTMLSelectElement).value }) }, view.histograms.map((x) => h("option", { value: x.id }, x.id)))),
    ),
    h("div", { class: "figure", "data-testid": "data-map", dangerouslySetInnerHTML: { __html: mapSvg } }),
    h("h3", null, "Score histograms"),
    h("div", { class: "monitors", "data-testid": "histograms" }, histSvgs.map((svg) => h("div", { class: "figure hist", dangerouslySetInnerHTML: { __html: svg } }))),
    h("h3", null, `Top ${view.top.length} by ${view.score}`),
    h(
      "table",
      { "data-testid": "top-table" },
      h("tr", null, h("th", null, "#"), h("th", null, "index"), view.imageShape ? h("th", null, "image") : null, h("th", null, "label"), view.histograms.map((x) => h("th", null, x.id)), h("th", null, "why")),
      view.top.map((t, r) => h("tr", null, h("td", null, String(r + 1)), h("td", null, String(t.index)), view.imageShape ? h("td", null, t.image ? h(Thumb, { pixels: t.image, shape: view.imageShape }) : "") : null, h("td", null, t.label === null ? "" : String(t.label)), view.histograms.map((x) => h("td", null, String(t.values[x.id]))), h("td", { class: "why" }, t.reason))),
    ),
  );
}

// ------------------------------------------------------------------------------------------ compare

function ComparePage(p: { ids: string[]; metric?: string }) {
  const [data, setData] = useState<{ run: Run; recs: Rec[] }[] | null>(null);
  const [opts, setOpts] = useState<ChartOpts>({ xLog: true, smoothing: 0 });
  const [metric, setMetric] = useState(p.metric ?? "");
  const [agg, setAgg] = useState(false);
  useEffect(() => {
    void Promise.all(p.ids.map(async (id) => ({ run: await api<Run>(`/api/runs/${encodeURIComponent(id)}`), recs: (await api<{ metrics: Rec[] }>(`/api/runs/${encodeURIComponent(id)}/metrics`)).metrics }))).then(setData);
  }, [p.ids.join(",")]);
  if (!data) return h("p", null, "loading…");
  const names = [...new Set(data.flatMap((d) => metricNames(d.recs)))];
  const m = metric || (names.includes("test_acc") ? "test_acc" : names[0]);
  const curves = data.map((d) => curveOf(d.recs, m, d.run.id));
  let shown = curves;
  let bands: LineChart["bands"] | undefined;
  let label = (c: Curve) => {
    const r = data.find((d) => d.run.id === c.run)!.run;
    return `${r.experiment} s${r.seed} ${r.id.slice(-6)}`;
  };
  if (agg) {
    // seeds of the same configuration (experiment + hparams hash) → mean line and min–max band
    const groups = new Map<string, Curve[]>();
    for (const c of curves) {
      const r = data.find((d) => d.run.id === c.run)!.run;
      const k = `${r.experiment} ${r.hparams_hash}`;
      groups.set(k, [...(groups.get(k) ?? []), c]);
    }
    shown = [];
    bands = [];
    for (const [k, cs] of groups) {
      const a = aggregate(cs.map((c) => smooth(c.points, opts.smoothing)));
      const name = `${k} mean of ${cs.length}`;
      shown.push({ run: name, metric: m, points: a.x.map((x, i) => [x, a.mean[i]] as Point) });
      bands.push({ name, x: a.x, lo: a.lo, hi: a.hi });
    }
    label = (c: Curve) => c.run;
  }
  return h(
    "div",
    null,
    h("h2", null, `compare ${data.length} runs`),
    h(
      "div",
      { class: "controls" },
      h("label", null, "metric ", h("select", { value: m, "data-testid": "metric", onChange: (e: Event) => setMetric((e.target as HTMLSelectElement).value) }, names.map((n) => h("option", { value: n }, n)))),
      h("label", null, h("input", { type: "checkbox", checked: agg, "data-testid": "aggregate", onChange: (e: Event) => setAgg((e.target as HTMLInputElement).checked) }), " mean ± min–max over seeds"),
    ),
    h(Controls, { opts, set: setOpts, curves: shown, name: `compare-${m}` }),
    h(Chart, { title: m, yLabel: m, curves: shown, opts: agg ? { ...opts, smoothing: 0 } : opts, bands, label }),
  );
}

// --------------------------------------------------------------------------------- in-browser run

function PlayPage(p: { query: string }) {
  const [state, setState] = useState<{ phase: "idle" | "running" | "done" | "error"; msg: string; recs: Rec[]; step: number; total: number; verdict?: string; figures?: string[] }>({ phase: "idle", msg: "", recs: [], step: 0, total: 0 });
  const [opts, setOpts] = useState<ChartOpts>({ xLog: true, smoothing: 0 });
  const stopRef = useRef(false);
  const mod = useRef<typeof import("./play.ts") | null>(null);
  const [form, setForm] = useState<Record<string, string>>(() => queryToRaw(p.query));
  const [fields, setFields] = useState<{ key: string; doc: string; value: string }[]>([]);
  useEffect(() => {
    void import("./play.ts").then((m) => {
      mod.current = m;
      const exp = m.playable(form.exp);
      const cfg = m.resolvePlayConfig(exp, form);
      setFields(m.playFields(exp).map((k) => ({ key: k, doc: m.fieldDoc(exp, k), value: String(cfg.ok ? cfg.value[k] : (form[k] ?? m.defaultOf(exp, k, m.playSize(form)))) })));
      if (queryToRaw(p.query).autorun === "1") start();
    });
  }, []);
  const start = async () => {
    const m = mod.current ?? (await import("./play.ts"));
    const raw = { ...form };
    for (const f of document.querySelectorAll<HTMLInputElement>("[data-field]")) raw[f.dataset.field!] = f.value;
    const exp = m.playable(raw.exp);
    const cfg = m.resolvePlayConfig(exp, raw);
    if (!cfg.ok) return setState((s) => ({ ...s, phase: "error", msg: cfg.error }));
    const size = m.playSize(raw);
    history.replaceState(null, "", `#/play?${configToQuery({ exp: exp.id, ...(size === "smoke" ? { size } : {}), ...cfg.value })}`);
    setForm(Object.fromEntries(Object.entries(cfg.value).map(([k, v]) => [k, String(v)])));
    stopRef.current = false;
    const recs: Rec[] = [];
    setState({ phase: "running", msg: "starting jax-js…", recs: [], step: 0, total: Number(cfg.value.steps) });
    try {
      const out = await m.runInBrowser(exp, cfg.value, size, {
        onLog: (rec) => {
          recs.push(rec as Rec);
          setState((s) => ({ ...s, recs: [...recs] }));
        },
        onProgress: (step, total, device) => setState((s) => ({ ...s, step, total, msg: `${device} · step ${step} of ${total}` })),
        shouldStop: () => stopRef.current,
      });
      setState((s) => ({ ...s, phase: "done", msg: `${out.device} · finished in ${out.seconds.toFixed(1)} s`, verdict: out.verdict, figures: out.figures }));
    } catch (e) {
      setState((s) => ({ ...s, phase: "error", msg: String(e) }));
    }
  };
  const curves = useMemo(() => ["train_acc", "test_acc"].map((k) => curveOf(state.recs, k, "browser")), [state.recs]);
  return h(
    "div",
    null,
    h("h2", null, `${mod.current?.playable(form.exp).title ?? "…"}, in this browser`),
    h("p", { class: "meta" }, "The quick reproduction on jax-js in this page (WebGPU if available, otherwise Wasm), through the runner's run context. Any experiment with generated data runs here: add exp=<id> to the URL. The URL holds the whole configuration: share it to share the run."),
    h(
      "div",
      { class: "form" },
      fields.map((f) => h("label", { title: f.doc }, `${f.key} `, h("input", { "data-field": f.key, value: form[f.key] ?? f.value, size: 8 }))),
      h("button", { "data-testid": "start", disabled: state.phase === "running", onClick: () => void start() }, "run"),
      h("button", { "data-testid": "stop", disabled: state.phase !== "running", onClick: () => (stopRef.current = true) }, "stop"),
    ),
    h("p", { "data-testid": "play-status", class: state.phase }, state.msg, state.verdict ? h("b", { class: verdictClass(state.verdict) }, ` · ${state.verdict}`) : null),
    h(Controls, { opts, set: setOpts, curves, name: "browser-run" }),
    h(Chart, { title: "accuracy", yLabel: "accuracy", curves, opts }),
    (state.figures ?? []).map((svg) => h("div", { class: "figure", dangerouslySetInnerHTML: { __html: svg } })),
  );
}

// ------------------------------------------------------------------------------------------------ app

function App() {
  const hash = useHash();
  const [path, query = ""] = hash.slice(1).split("?");
  let page;
  if (path.startsWith("/run/")) page = h(RunPage, { id: decodeURIComponent(path.slice(5)) });
  else if (path.startsWith("/scores/")) page = h(ScoresPage, { id: decodeURIComponent(path.slice(8)), query, key: hash });
  else if (path === "/compare") {
    const q = queryToRaw(query);
    page = h(ComparePage, { ids: (q.ids ?? "").split(",").filter(Boolean), metric: q.metric });
  } else if (path === "/play") page = h(PlayPage, { query, key: `${queryToRaw(query).exp ?? ""}|${queryToRaw(query).size ?? ""}` });
  else if (path === "/runs") page = h(RunsList, null);
  else page = h(Reproductions, null);
  return h("main", null, h("header", null, h("a", { href: "#/" }, h("b", null, "genlab")), " · ", h("a", { href: "#/" }, "reproductions"), " · ", h("a", { href: "#/runs" }, "runs"), " · ", h("a", { href: "#/play" }, "run in browser")), page);
}

const style = document.createElement("style");
style.textContent = `
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1b1f24;background:#fafafa}
main{max-width:1100px;margin:0 auto;padding:16px} header{margin-bottom:12px}
table{border-collapse:collapse;background:#fff;margin:8px 0} th,td{border:1px solid #d0d7de;padding:3px 7px;text-align:left}
.controls,.form{display:flex;flex-wrap:wrap;gap:10px;align-items:center;margin:8px 0}
.monitors{display:flex;flex-wrap:wrap;gap:8px}.monitors .chart{flex:0 0 370px}
.inconclusive{color:#0a3069;font-weight:600} .pass{color:#116329;font-weight:600} .fail,.error{color:#a40e26;font-weight:600} .running{color:#9a6700} .meta{color:#57606a}
.chart svg,figure img,.figure svg{max-width:100%;height:auto;background:#fff} a{color:#0969da}
div.hist{flex:0 0 340px} canvas.thumb{width:56px;height:56px;image-rendering:pixelated;border:1px solid #d0d7de}
`;
document.head.appendChild(style);
render(h(App, null), document.getElementById("app")!);
