/**
 * A small, dependency-free config schema (Zod's safeParse idea: results, not exceptions, at input
 * boundaries). Fields carry a default, a doc string and bounds; errors carry a path and say what was
 * expected and what was got: `✖ expected a number in (0, 10], got "abc" → at hparams.lr`.
 */
import type { ErrorIssue, Result } from "../core/errors.ts";

type Base<T> = { default: T; doc: string };
export type NumberField = Base<number> & {
  type: "number";
  integer?: boolean;
  min?: number;
  max?: number;
  /** Open ends: (min, …) / (…, max). */
  minExclusive?: boolean;
  maxExclusive?: boolean;
  /** Extra check; returns a message ("expected a prime") or null. */
  check?: (v: number) => string | null;
};
export type EnumField<V extends string = string> = Base<V> & { type: "enum"; values: readonly V[] };
export type BooleanField = Base<boolean> & { type: "boolean" };
export type StringField = Base<string> & { type: "string" };
export type Field = NumberField | EnumField | BooleanField | StringField;
export type Schema = Record<string, Field>;

export type Values = Record<string, number | string | boolean>;

/** The value type of one field (Zod's `z.infer` idea). */
export type FieldValue<F> = F extends NumberField ? number : F extends EnumField<infer V> ? V : F extends BooleanField ? boolean : F extends StringField ? string : never;
/** The typed values of a schema: `Infer<typeof hparams>` is `{ lr: number; loss: "mse" | "cross_entropy"; … }`. */
export type Infer<S extends Schema> = { [K in keyof S]: FieldValue<S[K]> };

export type NumberOptions = Partial<Pick<NumberField, "integer" | "min" | "max" | "minExclusive" | "maxExclusive" | "check">>;

/** A number field: `number(0.006, "AdamW learning rate", { min: 0, minExclusive: true, max: 10 })`. */
export function number(def: number, doc: string, opts: NumberOptions = {}): NumberField {
  return { type: "number", default: def, doc, ...opts };
}

/** An integer field (a number field with `integer: true`). */
export function integer(def: number, doc: string, opts: Omit<NumberOptions, "integer"> = {}): NumberField {
  return { type: "number", default: def, doc, integer: true, ...opts };
}

/** One of a fixed list of strings; the value type is the union of the list's literals. */
export function oneOf<const V extends string>(values: readonly V[], def: NoInfer<V>, doc: string): EnumField<V> {
  if (!values.includes(def)) throw new Error(`oneOf: default ${JSON.stringify(def)} is not one of ${values.join(", ")}`);
  return { type: "enum", values, default: def, doc };
}

export function bool(def: boolean, doc: string): BooleanField {
  return { type: "boolean", default: def, doc };
}

export function string(def: string, doc: string): StringField {
  return { type: "string", default: def, doc };
}

function describeNumber(f: NumberField): string {
  const kind = f.integer ? "an integer" : "a number";
  if (f.min === undefined && f.max === undefined) return kind;
  const lo = f.min === undefined ? "(-∞" : `${f.minExclusive ? "(" : "["}${f.min}`;
  const hi = f.max === undefined ? "∞)" : `${f.max}${f.maxExclusive ? ")" : "]"}`;
  return `${kind} in ${lo}, ${hi}`;
}

export function describeField(f: Field): string {
  switch (f.type) {
    case "number":
      return describeNumber(f);
    case "enum":
      return `one of ${f.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "boolean":
      return "true or false";
    case "string":
      return "a string";
  }
}

const shown = (v: unknown) => (typeof v === "string" ? JSON.stringify(v) : v === undefined ? "nothing" : typeof v === "object" ? JSON.stringify(v) : String(v));

function checkField(f: Field, v: unknown, path: (string | number)[]): ErrorIssue | null {
  const bad = (code: string, extra = "") => ({ code, path, message: `expected ${describeField(f)}${extra}, got ${shown(v)}` });
  switch (f.type) {
    case "number": {
      if (typeof v !== "number" || Number.isNaN(v)) return bad("invalid_type");
      if (!Number.isFinite(v)) return bad("out_of_range");
      if (f.integer && !Number.isInteger(v)) return bad("invalid_type");
      if (f.min !== undefined && (f.minExclusive ? v <= f.min : v < f.min)) return bad("out_of_range");
      if (f.max !== undefined && (f.maxExclusive ? v >= f.max : v > f.max)) return bad("out_of_range");
      const msg = f.check?.(v);
      return msg ? { code: "invalid_value", path, message: `${msg}, got ${v}` } : null;
    }
    case "enum":
      return typeof v === "string" && f.values.includes(v) ? null : bad("invalid_enum");
    case "boolean":
      return typeof v === "boolean" ? null : bad("invalid_type");
    case "string":
      return typeof v === "string" ? null : bad("invalid_type");
  }
}

/** Levenshtein distance, for "did you mean" on unknown keys. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

export function unknownKeyIssue(key: string, valid: string[], path: (string | number)[]): ErrorIssue {
  const near = valid.filter((k) => distance(k.toLowerCase(), key.toLowerCase()) <= 2);
  const hint = near.length ? ` (did you mean ${near.map((k) => JSON.stringify(k)).join(" or ")}?)` : "";
  return { code: "unknown_key", path, message: `unknown key ${JSON.stringify(key)}${hint}; valid keys: ${valid.join(", ")}` };
}

/** Validate `input` against `schema`, filling defaults. Unknown keys are errors. */
export function parseValues(schema: Schema, input: Record<string, unknown>, path: (string | number)[] = []): Result<Values> {
  const issues: ErrorIssue[] = [];
  const out: Values = {};
  for (const key of Object.keys(input)) if (!(key in schema)) issues.push(unknownKeyIssue(key, Object.keys(schema), [...path, key]));
  for (const [key, f] of Object.entries(schema)) {
    const v = key in input ? input[key] : f.default;
    const issue = checkField(f, v, [...path, key]);
    if (issue) issues.push(issue);
    else out[key] = v as number | string | boolean;
  }
  return issues.length ? { ok: false, issues } : { ok: true, value: out };
}

/** Turn a `--set key=value` string into a typed value by the field's type (validated afterwards). */
export function coerceValue(f: Field, raw: string): unknown {
  switch (f.type) {
    case "number": {
      const t = raw.trim();
      if (t === "") return raw;
      const n = Number(t);
      return Number.isNaN(n) ? raw : n;
    }
    case "boolean":
      return raw === "true" ? true : raw === "false" ? false : raw;
    default:
      return raw;
  }
}

/** Defaults of a schema. */
export function defaults(schema: Schema): Values {
  return Object.fromEntries(Object.entries(schema).map(([k, f]) => [k, f.default]));
}
