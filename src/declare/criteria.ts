/**
 * Criteria as data. An experiment declares its criteria once, as a list of checks; from that one
 * declaration genlab computes the verdict (PASS, FAIL or INCONCLUSIVE), the criterion text, the per-check
 * table of the report (value, threshold, margin, per seed with mean ± sd, logging-grid bracket) and the
 * README/report rows.
 *
 * - A **gate** says the regime the claim is about was reached (it grokked, it fitted the atomic facts). A
 *   gate that is not met makes the verdict INCONCLUSIVE, with the gate, its value and what would reach it.
 * - A **claim** is what the paper says happens there. Every gate met and every claim met: PASS; every gate
 *   met and a claim missed: FAIL.
 * - A check whose value is missing (null, undefined, NaN) is an error of the experiment, never a default
 *   pass: `judge` throws, naming the check and the seed. "Never reached" is a value (±Infinity), not a gap.
 * - By default a check is computed per seed (on the points of that seed) and must hold on every seed;
 *   `over: "all"` computes it once over every point (a pooled statistic, a mean over seeds with its SE).
 * - The negative control is judged by the same checks, with `arm: "control"` (see NegativeControl).
 */
import { GenlabError } from "../core/errors.ts";

export type Size = "smoke" | "quick" | "full";
export type Role = "gate" | "claim";
export type Cmp = ">=" | "<=" | ">" | "<" | "in";
/** Which arm a check is judged on: the reproduction, or the negative control (the one ingredient removed). */
export type Arm = "reproduction" | "control";

/** The points a check sees, with the arm it is judging. */
export type CheckInput<P> = { points: P[]; arm: Arm; size: Size };

export type CheckDecl<P> = {
  /** Short stable id (snake_case): the key in `measured`, `--json` and the report. */
  id: string;
  role: Role;
  /** What is measured, in words (a reader's column: "peak m-coherence, real / random labels"). */
  what: string;
  cmp: Cmp;
  /** A number, or [lo, hi] for "in" (inclusive). */
  threshold: number | readonly [number, number];
  /** Where the threshold comes from: "spec §3", "calibration-a.md §1d", or "design estimate". */
  source: string;
  /** The sizes the check applies to (default: all). */
  sizes?: readonly Size[];
  /** "seed" (default): computed on each seed's points, must hold on every seed. "all": once over every point. */
  over?: "seed" | "all";
  /** The measured value; null/undefined/NaN is an error of the experiment. */
  value: (input: CheckInput<P>) => number | null | undefined;
  /** For values read off a logging grid: the bracket (previous logged step, logged step]. */
  bracket?: (input: CheckInput<P>) => readonly [number | null, number | null];
  /** For a gate: what would reach the regime ("the full size groks at ~3,000 steps: genlab run moe-pathways"). */
  reach?: string;
  /**
   * For a gate: the ids of the claims it gates (default: every claim). A missed gate leaves those claims
   * unjudged; claims outside its scope are still judged (a claim missed there is a FAIL).
   */
  gates?: readonly string[];
  /** The value's digits in text (default: 4 significant). */
  digits?: number;
};

export type SeedValue = { seed: number | null; value: number; ok: boolean; bracket?: [number | null, number | null] };

export type CheckResult = {
  id: string;
  role: Role;
  what: string;
  cmp: Cmp;
  threshold: number | [number, number];
  source: string;
  ok: boolean;
  /** The value judged: per-seed checks show the worst seed's (the one furthest on the wrong side). */
  value: number;
  /** Signed distance to the threshold, positive on the passing side (for "in": to the nearer end). */
  margin: number;
  perSeed: SeedValue[];
  /** Mean and sample sd over seeds (sd null with one seed). */
  mean: number;
  sd: number | null;
  bracket?: [number | null, number | null];
  reach?: string;
  /** For a claim: the missed gates that leave it unjudged (its ok then says nothing). */
  gatedBy?: string[];
};

export type VerdictLabel = "PASS" | "FAIL" | "INCONCLUSIVE";
export const VERDICTS: readonly VerdictLabel[] = ["PASS", "FAIL", "INCONCLUSIVE"];

export type Verdict = {
  verdict: VerdictLabel;
  /** The criterion in words, with its thresholds (generated from the checks). */
  criterion: string;
  /** Every check's judged value, by id (per-seed values as `id@s<seed>` when there are several seeds). */
  measured: Record<string, number | null>;
  /** Logging-grid brackets of the checks that have one. */
  brackets?: Record<string, [number | null, number | null]>;
  /** The per-check table. */
  checks: CheckResult[];
  /** The seeds judged. */
  seeds: number[];
  /** Why the verdict is INCONCLUSIVE (the gates not met, their values and what would reach them). */
  reason?: string;
};

const SYMBOL: Record<Cmp, string> = { ">=": "≥", "<=": "≤", ">": ">", "<": "<", in: "∈" };

export function fmtNum(v: number, digits = 4): string {
  if (!Number.isFinite(v)) return v > 0 ? "∞" : v < 0 ? "−∞" : "NaN";
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(Math.max(1, digits - 1));
  return Number(v.toPrecision(digits)).toString();
}

export function thresholdText(cmp: Cmp, t: number | readonly [number, number]): string {
  return cmp === "in" ? `∈ [${fmtNum((t as [number, number])[0])}, ${fmtNum((t as [number, number])[1])}]` : `${SYMBOL[cmp]} ${fmtNum(t as number)}`;
}

/** The check in words: "peak m-coherence ratio ≥ 4 (spec §3)". */
export function checkText<P>(c: CheckDecl<P> | CheckResult): string {
  return `${c.what} ${thresholdText(c.cmp, c.threshold)}`;
}

/** Signed distance to the threshold, positive when the check holds. */
export function marginOf(cmp: Cmp, t: number | readonly [number, number], v: number): number {
  switch (cmp) {
    case ">=":
    case ">":
      return v - (t as number);
    case "<=":
    case "<":
      return (t as number) - v;
    case "in":
      return Math.min(v - (t as [number, number])[0], (t as [number, number])[1] - v);
  }
}

/**
 * Whether a value meets a threshold. A value equal to the threshold up to float rounding (1e-12 relative) counts as
 * equal: 0.8125 − 0.8175 is −0.005000000000000004 in binary floating point, and an accuracy difference of exactly
 * two images out of 400 must meet "≥ −0.005" (strict comparisons are not met by a tie).
 */
export function holds(cmp: Cmp, t: number | readonly [number, number], v: number): boolean {
  const tie = (a: number, b: number) => Number.isFinite(a) && Number.isFinite(b) && Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(a), Math.abs(b));
  switch (cmp) {
    case ">=":
      return v >= (t as number) || tie(v, t as number);
    case "<=":
      return v <= (t as number) || tie(v, t as number);
    case ">":
      return v > (t as number) && !tie(v, t as number);
    case "<":
      return v < (t as number) && !tie(v, t as number);
    case "in":
      return (v >= (t as [number, number])[0] || tie(v, (t as [number, number])[0])) && (v <= (t as [number, number])[1] || tie(v, (t as [number, number])[1]));
  }
}

export function applies<P>(c: CheckDecl<P>, size: Size): boolean {
  return !c.sizes || c.sizes.includes(size);
}

/** Checks of a declaration are well-formed: unique ids, a threshold of the comparator's shape, a source. */
export function validateChecks<P>(experiment: string, checks: readonly CheckDecl<P>[]): void {
  const seen = new Set<string>();
  for (const c of checks) {
    const where = `${experiment}: check ${JSON.stringify(c.id)}`;
    if (!/^[a-z0-9_.]+$/i.test(c.id)) throw new Error(`${where}: ids are letters, digits, _ and .`);
    if (seen.has(c.id)) throw new Error(`${where} is declared twice`);
    seen.add(c.id);
    if (c.cmp === "in" ? !(Array.isArray(c.threshold) && c.threshold.length === 2 && c.threshold[0] <= c.threshold[1]) : typeof c.threshold !== "number" || !Number.isFinite(c.threshold))
      throw new Error(`${where}: threshold ${JSON.stringify(c.threshold)} does not fit "${c.cmp}"`);
    if (!c.source.trim()) throw new Error(`${where}: no source (spec §, calibration §, or "design estimate")`);
    if (!c.what.trim()) throw new Error(`${where}: no description`);
    if (c.gates && c.role !== "gate") throw new Error(`${where}: only a gate has a scope (gates)`);
    for (const g of c.gates ?? []) if (!checks.some((x) => x.id === g && x.role === "claim")) throw new Error(`${where}: gates ${JSON.stringify(g)}, which is not a claim of this experiment`);
  }
}

const isMissing = (v: unknown): boolean => v === null || v === undefined || (typeof v === "number" && Number.isNaN(v)) || typeof v !== "number";

/** The criterion in words: gates, then claims, each with its threshold and source. */
export function criterionText<P>(checks: readonly CheckDecl<P>[], size: Size): string {
  const on = checks.filter((c) => applies(c, size));
  const part = (role: Role) =>
    on
      .filter((c) => c.role === role)
      .map((c) => `${checkText(c)}${c.over === "all" ? "" : " (every seed)"}${c.gates ? ` (gates ${c.gates.join(", ")})` : ""} [${c.source}]`)
      .join("; ");
  const gates = part("gate");
  const claims = part("claim");
  return `${gates ? `gates (regime reached): ${gates}. ` : ""}claims: ${claims || "none"}`;
}

/**
 * Judge points with the declared checks at a size: PASS, FAIL or INCONCLUSIVE, the criterion text and the
 * per-check table. A missing value throws a GenlabError naming the experiment, the check and the seed.
 */
export function judge<P extends { seed: number }>(experiment: string, checks: readonly CheckDecl<P>[], points: P[], size: Size, arm: Arm = "reproduction"): Verdict {
  if (points.length === 0) throw new GenlabError({ code: "no_points", path: [experiment], message: "no finished points to judge" });
  const seeds = [...new Set(points.map((p) => p.seed))].sort((a, b) => a - b);
  const results: CheckResult[] = [];
  for (const c of checks) {
    if (!applies(c, size)) continue;
    const groups: { seed: number | null; pts: P[] }[] = c.over === "all" ? [{ seed: null, pts: points }] : seeds.map((s) => ({ seed: s, pts: points.filter((p) => p.seed === s) }));
    const perSeed: SeedValue[] = groups.map(({ seed, pts }) => {
      const input = { points: pts, arm, size };
      let v: number | null | undefined;
      try {
        v = c.value(input);
      } catch (e) {
        throw new GenlabError({ code: "check_error", path: [experiment, c.id], message: `${arm === "control" ? "negative control: " : ""}computing check ${c.id}${seed === null ? "" : ` on seed ${seed}`} failed: ${(e as Error).message}` });
      }
      if (isMissing(v))
        throw new GenlabError({
          code: "missing_value",
          path: [experiment, c.id],
          message: `${arm === "control" ? "negative control: " : ""}check ${c.id} (${c.what}) has no value${seed === null ? "" : ` on seed ${seed}`} (got ${String(v)}): an arm or a result it needs was not run — a missing value is an error, never a pass`,
        });
      const value = v as number;
      const b = c.bracket?.(input);
      return { seed, value, ok: holds(c.cmp, c.threshold, value), ...(b ? { bracket: [b[0], b[1]] as [number | null, number | null] } : {}) };
    });
    const worst = perSeed.reduce((w, s) => (marginOf(c.cmp, c.threshold, s.value) < marginOf(c.cmp, c.threshold, w.value) ? s : w));
    const vals = perSeed.map((s) => s.value);
    const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
    const sd = vals.length > 1 ? Math.sqrt(vals.reduce((a, b) => a + (b - mean) ** 2, 0) / (vals.length - 1)) : null;
    results.push({
      id: c.id,
      role: c.role,
      what: c.what,
      cmp: c.cmp,
      threshold: (c.cmp === "in" ? [...(c.threshold as [number, number])] : c.threshold) as number | [number, number],
      source: c.source,
      ok: perSeed.every((s) => s.ok),
      value: worst.value,
      margin: marginOf(c.cmp, c.threshold, worst.value),
      perSeed,
      mean,
      sd,
      ...(worst.bracket ? { bracket: worst.bracket } : {}),
      ...(c.reach ? { reach: c.reach } : {}),
    });
  }
  if (!results.some((r) => r.role === "claim")) throw new GenlabError({ code: "no_claims", path: [experiment], message: `no claim check applies at the ${size} size` });
  const gatesMissed = results.filter((r) => r.role === "gate" && !r.ok);
  const scopeOf = (g: CheckResult) => checks.find((c) => c.id === g.id)?.gates;
  for (const r of results)
    if (r.role === "claim") {
      const by = gatesMissed.filter((g) => scopeOf(g)?.includes(r.id) ?? true).map((g) => g.id);
      if (by.length) r.gatedBy = by;
    }
  // A claim missed outside every missed gate's scope is a FAIL; otherwise a missed gate makes it INCONCLUSIVE.
  const claimsMissed = results.filter((r) => r.role === "claim" && !r.ok && !r.gatedBy);
  const verdict: VerdictLabel = claimsMissed.length ? "FAIL" : gatesMissed.length ? "INCONCLUSIVE" : "PASS";
  const measured: Record<string, number | null> = {};
  const brackets: Record<string, [number | null, number | null]> = {};
  for (const r of results) {
    measured[r.id] = r.value;
    if (r.perSeed.length > 1) for (const s of r.perSeed) measured[`${r.id}@s${s.seed}`] = s.value;
    if (r.bracket) brackets[r.id] = r.bracket;
  }
  const reason = verdict === "INCONCLUSIVE"
    ? `regime not reached: ${gatesMissed.map((g) => `${g.what} = ${fmtNum(g.value)} (needs ${thresholdText(g.cmp, g.threshold)})${g.reach ? `; ${g.reach}` : ""}`).join("; ")}`
    : undefined;
  return { verdict, criterion: criterionText(checks, size), measured, ...(Object.keys(brackets).length ? { brackets } : {}), checks: results, seeds, ...(reason ? { reason } : {}) };
}

/** The ids of the checks a verdict fails (gates and claims). */
export function failedChecks(v: Verdict): string[] {
  return v.checks.filter((c) => !c.ok).map((c) => c.id);
}

/** One line per check: "✓ claim peak_ratio = 7.1 ≥ 4 (margin 3.1) [spec §3]". */
export function checkLines(v: Verdict): string[] {
  return v.checks.map((c) => {
    const seeds = c.perSeed.length > 1 ? ` (seeds ${c.perSeed.map((s) => `${s.seed}: ${fmtNum(s.value)}${s.ok ? "" : "✗"}`).join(", ")}; mean ${fmtNum(c.mean)} ± ${fmtNum(c.sd ?? 0)})` : "";
    const br = c.bracket ? ` bracket (${c.bracket.map((b) => (b === null ? "never" : fmtNum(b))).join(", ")}]` : "";
    return `${c.gatedBy ? "·" : c.ok ? "✓" : "✗"} ${c.role} ${c.id}${c.gatedBy ? ` (not judged: gate ${c.gatedBy.join(", ")} missed)` : ""}: ${c.what} = ${fmtNum(c.value)} ${thresholdText(c.cmp, c.threshold)} (margin ${fmtNum(c.margin)})${seeds}${br} [${c.source}]`;
  });
}

/**
 * A JSON.stringify replacer that keeps ±Infinity ("never reached") as the strings "Infinity" / "-Infinity"
 * instead of JSON's null, which would read as a missing value.
 */
export function jsonNumbers(_key: string, v: unknown): unknown {
  return typeof v === "number" && !Number.isFinite(v) && !Number.isNaN(v) ? String(v) : v;
}
