/**
 * Line charts as SVG with Observable Plot. Works in Node (pass a linkedom document, see
 * `src/report/render.ts`) and in the browser (pass `window.document`): the report's figures and the
 * dashboard's charts come from this one function.
 */
import * as Plot from "@observablehq/plot";

export type Series = { name: string; x: number[]; y: number[] };

export type LineChart = {
  title: string;
  xLabel: string;
  yLabel: string;
  xLog?: boolean;
  yLog?: boolean;
  yDomain?: [number, number];
  series: Series[];
  /** Shaded bands (e.g. min–max or ±1 sd over seeds), coloured like the series of the same name. */
  bands?: { name: string; x: number[]; lo: number[]; hi: number[] }[];
  /** Vertical markers, e.g. the step where train accuracy reached 99%. */
  rules?: { x: number; label: string }[];
  width?: number;
  height?: number;
};

const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];

type Row = { x: number; y: number; s: string };

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** One chart as an SVG string (no title: see `composeSvg`). */
export function lineChartSvg(chart: LineChart, document: Document): string {
  const rows: Row[] = [];
  for (const s of chart.series) {
    for (let i = 0; i < s.x.length; i++) {
      const x = s.x[i];
      const y = s.y[i];
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      if (chart.xLog && x <= 0) continue; // log axes cannot show step 0
      if (chart.yLog && y <= 0) continue;
      rows.push({ x, y, s: s.name });
    }
  }
  const names = chart.series.map((s) => s.name);
  const color = { domain: names, range: PALETTE.slice(0, Math.max(1, names.length)) };
  const marks: Plot.Markish[] = [
    Plot.frame({ stroke: "#ccc" }),
    Plot.gridX({ stroke: "#eee", strokeOpacity: 1 }),
    Plot.gridY({ stroke: "#eee", strokeOpacity: 1 }),
  ];
  for (const b of chart.bands ?? []) {
    const br: { x: number; lo: number; hi: number }[] = [];
    for (let i = 0; i < b.x.length; i++) {
      const [x, lo, hi] = [b.x[i], b.lo[i], b.hi[i]];
      if (!Number.isFinite(x) || !Number.isFinite(lo) || !Number.isFinite(hi)) continue;
      if ((chart.xLog && x <= 0) || (chart.yLog && lo <= 0)) continue;
      br.push({ x, lo, hi });
    }
    const c = color.range[Math.max(0, names.indexOf(b.name)) % color.range.length];
    marks.push(Plot.areaY(br, { x: "x", y1: "lo", y2: "hi", fill: c, fillOpacity: 0.18 }));
  }
  marks.push(Plot.line(rows, { x: "x", y: "y", z: "s", stroke: "s", strokeWidth: 1.8 }));
  // Legend: a row of coloured names above the frame (end-of-line labels collide when curves meet).
  let dx = 0;
  for (const name of names) {
    marks.push(Plot.text([name], { frameAnchor: "top-left", text: (d: string) => `■ ${d}`, fill: color.range[names.indexOf(name) % color.range.length], dy: -14, dx, textAnchor: "start", fontSize: 11 }));
    dx += 14 + 7 * name.length;
  }
  for (const r of chart.rules ?? []) {
    if (chart.xLog && r.x <= 0) continue;
    marks.push(Plot.ruleX([r.x], { stroke: "#555", strokeDasharray: "4,3" }));
    marks.push(Plot.text([r.x], { x: (d: number) => d, frameAnchor: "top", text: () => r.label, dy: 8, dx: 3, textAnchor: "start", fontSize: 10, fill: "#333" }));
  }
  const el = Plot.plot({
    document,
    width: chart.width ?? 560,
    height: chart.height ?? 340,
    marginRight: 24,
    marginTop: 30,
    marginLeft: 56,
    style: { fontFamily: "DejaVu Sans, sans-serif", fontSize: "11px", background: "white" },
    x: { type: chart.xLog ? "log" : "linear", label: chart.xLabel, labelAnchor: "center", labelArrow: "none" },
    y: { type: chart.yLog ? "log" : "linear", label: chart.yLabel, domain: chart.yDomain, labelArrow: "none", grid: false },
    color,
    marks,
  }) as unknown as Element;
  const svg = el.tagName.toLowerCase() === "svg" ? el : el.querySelector("svg");
  if (!svg) throw new Error("Plot returned no <svg>");
  svg.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  return svg.outerHTML;
}

function sizeOf(svg: string): { w: number; h: number } {
  const w = Number(/width="([\d.]+)"/.exec(svg)?.[1] ?? 560);
  const h = Number(/height="([\d.]+)"/.exec(svg)?.[1] ?? 340);
  return { w, h };
}

/** Panels side by side under a title, as one standalone SVG (nested <svg> elements). */
export function composeSvg(title: string, panels: string[], subtitle = ""): string {
  const sizes = panels.map(sizeOf);
  const head = subtitle ? 46 : 30;
  const width = sizes.reduce((a, s) => a + s.w, 0);
  const height = Math.max(...sizes.map((s) => s.h)) + head;
  let x = 0;
  const body = panels
    .map((p, i) => {
      const out = p.replace(/^<svg/, `<svg x="${x}" y="${head}"`);
      x += sizes[i].w;
      return out;
    })
    .join("\n");
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="12" y="20" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    subtitle ? `<text x="12" y="38" font-size="11" fill="#444">${escapeXml(subtitle)}</text>` : "",
    body,
    `</svg>`,
  ].join("\n");
}
