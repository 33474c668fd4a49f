/** Errors are data first (code, path, message), text second, printed by one function (STYLE.md). */
export type ErrorIssue = {
  /** Stable machine-readable code, e.g. "invalid_type", "out_of_range", "unknown_key", "file". */
  code: string;
  /** Where the problem is: a config path (["optim", "lr"]), a flag (["--seed"]) or a file name. */
  path: (string | number)[];
  message: string;
};

/** An error a user can act on: never printed with a stack trace. */
export class GenlabError extends Error {
  readonly issues: ErrorIssue[];
  constructor(issues: ErrorIssue[] | ErrorIssue) {
    const list = Array.isArray(issues) ? issues : [issues];
    super(list.map(formatIssue).join("\n"));
    this.name = "GenlabError";
    this.issues = list;
  }
}

export function userError(code: string, path: (string | number)[], message: string): GenlabError {
  return new GenlabError({ code, path, message });
}

export function formatPath(path: (string | number)[]): string {
  let out = "";
  path.forEach((p, i) => {
    if (typeof p === "number") out += `[${p}]`;
    else if (i === 0) out = p;
    else if (String(path[i - 1]).startsWith("-")) out += ` ${p}`; // a flag and its key: "--set foo"
    else out += `.${p}`;
  });
  return out;
}

/** `✖ expected a number in (0, 10], got "abc" → at optim.lr` */
export function formatIssue(issue: ErrorIssue): string {
  return issue.path.length ? `✖ ${issue.message} → at ${formatPath(issue.path)}` : `✖ ${issue.message}`;
}

/** Divergence (NaN/Inf) stops a run; the message names the step and the settings that caused it. */
export class DivergenceError extends GenlabError {
  readonly step: number;
  constructor(step: number, lastFiniteStep: number, what: string, settings: Record<string, unknown>) {
    const s = Object.entries(settings)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(", ");
    super({
      code: "diverged",
      path: [],
      message: `training diverged: ${what} is not finite at step ${step} (last finite value logged at step ${lastFiniteStep}); settings: ${s}. Try a smaller learning rate or gradient clipping.`,
    });
    this.step = step;
  }
}

export type Result<T> = { ok: true; value: T } | { ok: false; issues: ErrorIssue[] };
