/**
 * Figures as data: an experiment returns chart specs and report/ draws them (SVG and PNG, in Node and in
 * the dashboard), so experiments never import plotting code. Colours are chosen by report/ from the
 * series name, one colour per name everywhere.
 */
export type LineSeries = {
  name: string;
  x: number[];
  y: number[];
  /** A shaded band around the line (e.g. ±1 sd or min–max over seeds). */
  lo?: number[];
  hi?: number[];
  /** Dots instead of a line (e.g. simulation points overlaid on a theory curve). */
  dots?: boolean;
  dashed?: boolean;
};

type Axes = { title: string; xLabel: string; yLabel: string; xLog?: boolean; yLog?: boolean; yDomain?: [number, number]; width?: number; height?: number };

export type LineChartSpec = Axes & { kind: "line"; series: LineSeries[]; rules?: { x: number; label: string }[] };
export type ScatterSpec = Axes & { kind: "scatter"; series: { name: string; x: number[]; y: number[] }[]; diagonal?: boolean };
/** `rotateLabels`: group labels written at an angle, for many or long group names. */
export type BarSpec = Omit<Axes, "xLog"> & { kind: "bar"; groups: string[]; series: { name: string; values: number[]; err?: number[] }[]; rotateLabels?: boolean };
export type HeatmapSpec = Omit<Axes, "xLog" | "yLog" | "yDomain"> & { kind: "heatmap"; x: (number | string)[]; y: (number | string)[]; values: number[][]; colorLabel: string };
export type ChartSpec = LineChartSpec | ScatterSpec | BarSpec | HeatmapSpec;

/** One figure: panels side by side under a title (wrapped into rows of `columns` panels when set). Written as `<name>.svg` and `<name>.png`. */
export type FigureSpec = { name: string; title: string; subtitle?: string; panels: ChartSpec[]; columns?: number };

/**
 * Metric names the library's monitors log (train/monitors.ts, measures/fourier.ts, scores/coherence.ts,
 * measures/alignment.ts, measures/pathway.ts, and the experiments' own): the dashboard draws each in its
 * own live chart on a run's page.
 */
export const MONITOR_METRICS: readonly string[] = [
  "param_norm",
  "ipr_mean",
  "ipr_frac_lo",
  "ipr_frac_hi",
  "coherence",
  "ntk_alignment",
  "cos_beta",
  "movement",
  "align_mean",
  "align_frac_hi",
  "pathway_distance",
  "consistency_a",
  "consistency_b",
];
