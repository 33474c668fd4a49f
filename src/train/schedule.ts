/**
 * Which steps get logged. Grokking needs both early and late resolution (Power et al. 2022 plot on a
 * log step axis), so the schedule is the union of: step 0, `perDecade` log-spaced steps per decade,
 * every `every`-th step, and the last step.
 */
export type LogSchedule = { every: number; perDecade: number };

export function logSteps(total: number, sched: LogSchedule): number[] {
  const steps = new Set<number>([0, total]);
  if (sched.every > 0) for (let s = sched.every; s <= total; s += sched.every) steps.add(s);
  if (sched.perDecade > 0 && total >= 1) {
    const decades = Math.log10(total);
    const count = Math.ceil(decades * sched.perDecade);
    for (let i = 0; i <= count; i++) {
      const s = Math.round(10 ** (i / sched.perDecade));
      if (s >= 1 && s <= total) steps.add(s);
    }
  }
  return [...steps].sort((a, b) => a - b);
}
