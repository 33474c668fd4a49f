/**
 * Values read off a logging grid. "The first step at which train accuracy ≥ 99%" is known only to the
 * bracket (previous logged step, first logged step at or above the threshold]: the true crossing happened
 * after `lo` and at or before `hi`. STYLE.md: report the bracket, judge on its conservative end.
 */
export type Bracket = { lo: number | null; hi: number | null };

/** The bracket of the first logged step at which `key` ≥ threshold; {lo: last logged step, hi: null} if never. */
export function firstStepAtLeast(history: ({ step: number } & Record<string, number>)[], key: string, threshold: number): Bracket {
  let prev: number | null = null;
  for (const r of history) {
    if (typeof r[key] !== "number") continue;
    if (r[key] >= threshold) return { lo: prev, hi: r.step };
    prev = r.step;
  }
  return { lo: prev, hi: null };
}
