/**
 * Pure data helpers of the dashboard (tested in Node): smoothing, seed aggregation, CSV/JSON export and
 * the URL ↔ config encoding of in-browser runs.
 */
export type Point = [number, number];
export type Curve = { run: string; metric: string; points: Point[] };

/** Exponential moving average, TensorBoard's "smoothing" (0 = raw; debiased like TensorBoard's). */
export function smooth(points: Point[], weight: number): Point[] {
  if (weight <= 0) return points;
  let last = 0;
  let n = 0;
  return points.map(([x, y]) => {
    if (!Number.isFinite(y)) return [x, y];
    last = last * weight + (1 - weight) * y;
    n++;
    return [x, last / (1 - weight ** n)];
  });
}

/** Mean and min/max over curves (seeds) at the steps all of them logged. */
export function aggregate(curves: Point[][]): { x: number[]; mean: number[]; lo: number[]; hi: number[] } {
  if (curves.length === 0) return { x: [], mean: [], lo: [], hi: [] };
  const maps = curves.map((c) => new Map(c));
  const steps = [...maps[0].keys()].filter((s) => maps.every((m) => Number.isFinite(m.get(s)))).sort((a, b) => a - b);
  const x: number[] = [];
  const mean: number[] = [];
  const lo: number[] = [];
  const hi: number[] = [];
  for (const s of steps) {
    const v = maps.map((m) => m.get(s)!);
    x.push(s);
    mean.push(v.reduce((a, b) => a + b, 0) / v.length);
    lo.push(Math.min(...v));
    hi.push(Math.max(...v));
  }
  return { x, mean, lo, hi };
}

const csvCell = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

export function toCsv(curves: Curve[]): string {
  const lines = ["run,metric,step,value"];
  for (const c of curves) for (const [x, y] of c.points) lines.push(`${csvCell(c.run)},${csvCell(c.metric)},${x},${y}`);
  return lines.join("\n") + "\n";
}

export function toJson(curves: Curve[]): string {
  return JSON.stringify(curves, null, 1);
}

/** Config ↔ URL query (TensorFlow Playground style): every hparam and the seed, so a link reproduces a run. */
export function configToQuery(cfg: Record<string, number | string | boolean>): string {
  return Object.entries(cfg)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join("&");
}

export function queryToRaw(q: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(q)) out[k] = v;
  return out;
}
