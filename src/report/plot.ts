/**
 * Line charts as SVG with Observable Plot. Works in Node (pass a linkedom document, see
 * `src/report/render.ts`) and in the browser (pass `window.document`): the report's figures and the
 * dashboard's charts come from this one function.
 */
import * as Plot from "@observablehq/plot";

import type { BarSpec, ChartSpec, FigureSpec, HeatmapSpec, LineChartSpec, ScatterSpec } from "../declare/charts.ts";

export type Series = { name: string; x: number[]; y: number[] };

/** The dashboard's live charts use the same spec as the report (kind "line"); `bands` are drawn by name. */
export type LineChart = Omit<LineChartSpec, "kind"> & { bands?: { name: string; x: number[]; lo: number[]; hi: number[] }[] };

const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#17becf", "#bcbd22"];

/**
 * One colour per metric name, everywhere (report figures and dashboard charts): the name's first word
 * ("train" in "train_acc" or "train loss") picks it; known names have fixed colours, others a hashed one.
 */
const FIXED: Record<string, string> = {
  train: "#1f77b4",
  test: "#d62728",
  corrupted: "#ff7f0e",
  clean: "#2ca02c",
  theory: "#555555",
  simulation: "#1f77b4",
  random: "#7f7f7f",
  el2n: "#d62728",
  grand: "#2ca02c",
  forgetting: "#9467bd",
  control: "#8c564b",
};

export function colorFor(name: string): string {
  const key = name.toLowerCase().split(/[\s_:(,[=]/)[0];
  if (FIXED[key]) return FIXED[key];
  let h = 0;
  for (const c of key) h = (h * 31 + c.charCodeAt(0)) | 0;
  return PALETTE[Math.abs(h) % PALETTE.length];
}

type Row = { x: number; y: number; s: string };

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

type Marks = Plot.Markish[];

/**
 * A row of coloured names above the frame (end-of-line labels collide when curves meet). In a faceted
 * chart, `facet` puts it in the first facet only.
 */
function legend(marks: Marks, names: string[], colors: (n: string) => string, facet?: string) {
  let dx = 0;
  for (const name of names) {
    const text = `■ ${name}`;
    marks.push(Plot.text([facet === undefined ? { text } : { text, fx: facet }], { ...(facet === undefined ? {} : { fx: "fx" }), frameAnchor: "top-left", text: "text", fill: colors(name), dy: -14, dx, textAnchor: "start", fontSize: 11 }));
    // DejaVu Sans at 11 px: about 7 px a character, plus a gap
    dx += 12 + 7 * text.length;
  }
}

function frame(): Marks {
  return [Plot.frame({ stroke: "#ccc" }), Plot.gridX({ stroke: "#eee", strokeOpacity: 1 }), Plot.gridY({ stroke: "#eee", strokeOpacity: 1 })];
}

function finish(el: unknown): string {
  const e = el as Element;
  const svg = e.tagName.toLowerCase() === "svg" ? e : e.querySelector("svg");
  if (!svg) throw new Error("Plot returned no <svg>");
  svg.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  return svg.outerHTML;
}

const STYLE = { fontFamily: "DejaVu Sans, sans-serif", fontSize: "11px", background: "white" };

function plotOf(spec: { width?: number; height?: number; xLog?: boolean; yLog?: boolean; xLabel: string; yLabel: string; yDomain?: [number, number] }, marks: Marks, document: Document, color?: { domain: string[]; range: string[] }) {
  return Plot.plot({
    document,
    width: spec.width ?? 560,
    height: spec.height ?? 340,
    marginRight: 24,
    marginTop: 30,
    marginLeft: 56,
    style: STYLE,
    x: { type: spec.xLog ? "log" : "linear", label: spec.xLabel, labelAnchor: "center", labelArrow: "none" },
    y: { type: spec.yLog ? "log" : "linear", label: spec.yLabel, domain: spec.yDomain, labelArrow: "none", grid: false },
    ...(color ? { color } : {}),
    marks,
  });
}

const ok = (spec: { xLog?: boolean; yLog?: boolean }, x: number, y: number) => Number.isFinite(x) && Number.isFinite(y) && !(spec.xLog && x <= 0) && !(spec.yLog && y <= 0);

/** A line chart (with optional bands, dots and rules) as an SVG string. */
export function lineChartSvg(chart: LineChart, document: Document): string {
  const names = chart.series.map((s) => s.name);
  const color = { domain: names, range: names.map(colorFor) };
  const marks = frame();
  const bands = [...(chart.bands ?? []), ...chart.series.filter((s) => s.lo && s.hi).map((s) => ({ name: s.name, x: s.x, lo: s.lo!, hi: s.hi! }))];
  for (const b of bands) {
    const br: { x: number; lo: number; hi: number }[] = [];
    for (let i = 0; i < b.x.length; i++) if (ok(chart, b.x[i], b.lo[i]) && Number.isFinite(b.hi[i])) br.push({ x: b.x[i], lo: b.lo[i], hi: b.hi[i] });
    marks.push(Plot.areaY(br, { x: "x", y1: "lo", y2: "hi", fill: colorFor(b.name), fillOpacity: 0.18 }));
  }
  const rows = (pred: (s: LineChart["series"][number]) => boolean): Row[] =>
    chart.series.filter(pred).flatMap((s) => s.x.map((x, i) => ({ x, y: s.y[i], s: s.name })).filter((r) => ok(chart, r.x, r.y)));
  marks.push(Plot.line(rows((s) => !s.dots && !s.dashed), { x: "x", y: "y", z: "s", stroke: "s", strokeWidth: 1.8 }));
  marks.push(Plot.line(rows((s) => !s.dots && !!s.dashed), { x: "x", y: "y", z: "s", stroke: "s", strokeWidth: 1.6, strokeDasharray: "5,3" }));
  marks.push(Plot.dot(rows((s) => !!s.dots), { x: "x", y: "y", stroke: "s", r: 3, strokeWidth: 1.4 }));
  legend(marks, names, colorFor);
  for (const r of chart.rules ?? []) {
    if (chart.xLog && r.x <= 0) continue;
    marks.push(Plot.ruleX([r.x], { stroke: "#555", strokeDasharray: "4,3" }));
    marks.push(Plot.text([r.x], { x: (d: number) => d, frameAnchor: "top", text: () => r.label, dy: 8, dx: 3, textAnchor: "start", fontSize: 10, fill: "#333" }));
  }
  return finish(plotOf(chart, marks, document, color));
}

function scatterSvg(chart: ScatterSpec, document: Document): string {
  const names = chart.series.map((s) => s.name);
  const marks = frame();
  const rows = chart.series.flatMap((s) => s.x.map((x, i) => ({ x, y: s.y[i], s: s.name })).filter((r) => ok(chart, r.x, r.y)));
  if (chart.diagonal && rows.length) {
    // a loop, not Math.min(...rows): a spread of ~10⁵ points overflows the stack (issue 21); not core/order.ts's
    // minOf, whose module loads jax-js into the dashboard's bundle
    let lo = Infinity;
    let hi = -Infinity;
    for (const r of rows) {
      lo = Math.min(lo, r.x, r.y);
      hi = Math.max(hi, r.x, r.y);
    }
    marks.push(Plot.line([{ x: lo, y: lo }, { x: hi, y: hi }], { x: "x", y: "y", stroke: "#999", strokeDasharray: "4,3" }));
  }
  marks.push(Plot.dot(rows, { x: "x", y: "y", stroke: "s", r: 2.5 }));
  legend(marks, names, colorFor);
  return finish(plotOf(chart, marks, document, { domain: names, range: names.map(colorFor) }));
}

/** Plot options shared by the charts that are not x/y line plots (bars with facets, heatmap cells). */
const baseOptions = (chart: { width?: number; height?: number }, document: Document) => ({ document, width: chart.width ?? 560, height: chart.height ?? 340, marginTop: 30, marginLeft: 56, style: STYLE });

function barSvg(chart: BarSpec, document: Document): string {
  const names = chart.series.map((s) => s.name);
  const rows = chart.series.flatMap((s) => chart.groups.map((g, i) => ({ g, s: s.name, v: s.values[i], lo: s.values[i] - (s.err?.[i] ?? 0), hi: s.values[i] + (s.err?.[i] ?? 0) }))).filter((r) => Number.isFinite(r.v));
  const marks: Marks = [
    Plot.frame({ stroke: "#ccc" }),
    Plot.barY(rows, { fx: "g", x: "s", y: "v", fill: "s" }),
    Plot.ruleX(rows.filter((r) => r.hi > r.lo), { fx: "g", x: "s", y1: "lo", y2: "hi", stroke: "#333" }),
  ];
  legend(marks, names, colorFor, chart.groups[0]);
  return finish(
    Plot.plot({
      ...baseOptions(chart, document),
      ...(chart.rotateLabels ? { marginBottom: 5.5 * Math.max(...chart.groups.map((g) => g.length)) + 20 } : {}),
      fx: { label: chart.xLabel, domain: chart.groups, ...(chart.rotateLabels ? { tickRotate: -50, padding: 0.15 } : {}) },
      x: { axis: null, domain: names },
      y: { type: chart.yLog ? "log" : "linear", label: chart.yLabel, domain: chart.yDomain, labelArrow: "none", grid: true },
      color: { domain: names, range: names.map(colorFor) },
      marks,
    }),
  );
}

function heatmapSvg(chart: HeatmapSpec, document: Document): string {
  const rows = chart.y.flatMap((yv, i) => chart.x.map((xv, j) => ({ x: String(xv), y: String(yv), v: chart.values[i]?.[j] }))).filter((r) => Number.isFinite(r.v));
  return finish(
    Plot.plot({
      ...baseOptions(chart, document),
      x: { label: chart.xLabel, domain: chart.x.map(String) },
      y: { label: chart.yLabel, domain: chart.y.map(String) },
      color: { type: "linear", scheme: "viridis", legend: false, label: chart.colorLabel },
      marks: [Plot.cell(rows, { x: "x", y: "y", fill: "v" }), Plot.text(rows, { x: "x", y: "y", text: (d: { v: number }) => d.v.toPrecision(2), fill: "white", fontSize: 9 })],
    }),
  );
}

/** Any chart spec as an SVG string. */
export function chartSvg(spec: ChartSpec, document: Document): string {
  switch (spec.kind) {
    case "line":
      return lineChartSvg(spec, document);
    case "scatter":
      return scatterSvg(spec, document);
    case "bar":
      return barSvg(spec, document);
    case "heatmap":
      return heatmapSvg(spec, document);
  }
}

/** A figure spec as one standalone SVG: its panels side by side under the title. */
export function figureSvg(fig: FigureSpec, document: Document): string {
  return composeSvg(fig.title, fig.panels.map((p) => chartSvg(p, document)), fig.subtitle ?? "", fig.panels.map((p) => p.title), fig.columns);
}

function sizeOf(svg: string): { w: number; h: number } {
  const w = Number(/width="([\d.]+)"/.exec(svg)?.[1] ?? 560);
  const h = Number(/height="([\d.]+)"/.exec(svg)?.[1] ?? 340);
  return { w, h };
}

/** Panels side by side under a title, as one standalone SVG (nested <svg> elements); `columns` wraps them into rows. */
export function composeSvg(title: string, panels: string[], subtitle = "", panelTitles: string[] = [], columns?: number): string {
  const sizes = panels.map(sizeOf);
  const titled = panelTitles.some((t) => t);
  const top = subtitle ? 46 : 30;
  const label = titled ? 18 : 0;
  const perRow = columns && columns > 0 ? Math.floor(columns) : Math.max(1, panels.length);
  const rows: number[][] = [];
  for (let i = 0; i < panels.length; i += perRow) rows.push(panels.map((_, k) => k).slice(i, i + perRow));
  let width = 0;
  let y = top;
  const parts: string[] = [];
  for (const row of rows) {
    const rowH = Math.max(...row.map((i) => sizes[i].h));
    let x = 0;
    for (const i of row) {
      if (panelTitles[i]) parts.push(`<text x="${x + 12}" y="${y + 12}" font-size="12" font-weight="bold" fill="#222">${escapeXml(panelTitles[i])}</text>`);
      parts.push(panels[i].replace(/^<svg/, `<svg x="${x}" y="${y + label}"`));
      x += sizes[i].w;
    }
    width = Math.max(width, x);
    y += label + rowH;
  }
  // a figure without panels still renders (its title on a blank page) rather than an SVG of size 0
  width = Math.max(width, panels.length ? 0 : 480);
  const height = Math.max(y, panels.length ? 0 : top + 20);
  const body = parts.join("\n");
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="12" y="20" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    subtitle ? `<text x="12" y="38" font-size="11" fill="#444">${escapeXml(subtitle)}</text>` : "",
    body,
    `</svg>`,
  ].join("\n");
}
