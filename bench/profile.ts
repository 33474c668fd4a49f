/**
 * Per-kernel time for the benchmarks' --profile: jax-js's profiler (profiler.startTrace) emits one
 * performance.measure per dispatched kernel; `collectProfile` folds them into totals per kernel
 * expression (call often: Node keeps every measure until cleared), `printProfile` prints the top ones on
 * stderr with the share of the wall time they cover (the rest is dispatch, JS and host work).
 */
type KernelStat = { label: string; exp: string; n: number; ms: number };
const kernelStats = new Map<string, KernelStat>();

export function collectProfile(): void {
  for (const e of performance.getEntriesByType("measure")) {
    const props = ((e as PerformanceMeasure).detail as { devtools?: { properties?: [string, string][] } } | undefined)?.devtools?.properties ?? [];
    const exp = props.map(([k, v]) => `${k}=${v}`).join(" ");
    const key = `${e.name} ${exp}`;
    const s = kernelStats.get(key) ?? { label: e.name, exp, n: 0, ms: 0 };
    s.n++;
    s.ms += e.duration;
    kernelStats.set(key, s);
  }
  performance.clearMeasures();
}

export function printProfile(id: string, wallMs: number, top = 25): void {
  collectProfile();
  const all = [...kernelStats.values()].sort((a, b) => b.ms - a.ms);
  const total = all.reduce((a, s) => a + s.ms, 0);
  const calls = all.reduce((a, s) => a + s.n, 0);
  console.error(`${id}: ${calls} kernel calls, ${total.toFixed(1)} ms in kernels of ${wallMs.toFixed(1)} ms wall (${((100 * total) / wallMs).toFixed(0)}%)`);
  for (const s of all.slice(0, top)) console.error(`  ${s.ms.toFixed(2).padStart(9)} ms ${String(s.n).padStart(6)}× ${s.label} ${s.exp.slice(0, Number(process.env.PROFILE_WIDTH ?? 220))}`);
  kernelStats.clear();
}
