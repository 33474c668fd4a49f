/**
 * Reading checkpoints a user's disk may have damaged (truncated by a kill, edited by hand, from another
 * model): every field is checked before anything trusts it, and every problem is a `GenlabError` naming
 * the file. Two stages: `parseCheckpoint` checks the file on its own (JSON, schema, base64 lengths against
 * shapes, the shuffling state); `checkResumeMatches` checks it against the model and run it resumes
 * (tree structure, shapes and dtypes of the parameters and optimizer state, the step within the run).
 * Browser-safe: bytes and strings only.
 */
import { GenlabError } from "../core/errors.ts";
import type { PackedTree } from "../core/tree.ts";
import type { TrainCheckpoint } from "./loop.ts";

const BYTES: Record<string, number> = { float32: 4, float64: 8, int32: 4, uint32: 4, bool: 1 };
const MAX_DEPTH = 64;
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

const bad = (file: string, message: string) => new GenlabError({ code: "checkpoint", path: [file], message: `${message}; the checkpoint is damaged or not this run's (delete it to restart the phase, or start again with genlab run --force)` });

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isNat = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

/** Leaves of a packed tree as `path: shape dtype`, checking each leaf; throws a string naming the path. */
function packedLeaves(t: unknown, path: string, depth: number, out: string[]): void {
  if (depth > MAX_DEPTH) throw `${path || "the tree"} is nested deeper than ${MAX_DEPTH} levels`;
  if (Array.isArray(t)) {
    t.forEach((c, i) => packedLeaves(c, `${path}[${i}]`, depth + 1, out));
    return;
  }
  if (!isObj(t)) throw `${path || "the tree"} is ${t === null ? "null" : typeof t}, expected an array leaf or a tree`;
  if ("b64" in t) {
    const { shape, dtype, b64 } = t;
    if (!Array.isArray(shape) || !shape.every(isNat) || shape.length > 16) throw `${path}.shape is not a list of sizes`;
    if (typeof dtype !== "string" || !(dtype in BYTES)) throw `${path}.dtype ${JSON.stringify(dtype)} is not one of ${Object.keys(BYTES).join(", ")}`;
    if (typeof b64 !== "string" || b64.length % 4 !== 0 || !B64.test(b64)) throw `${path}.b64 is not base64`;
    const n = (shape as number[]).reduce((a, b) => a * b, 1);
    const bytes = (b64.length / 4) * 3 - (b64.endsWith("==") ? 2 : b64.endsWith("=") ? 1 : 0);
    if (bytes !== n * BYTES[dtype]) throw `${path} holds ${bytes} bytes, its shape [${(shape as number[]).join(", ")}] of ${dtype} needs ${n * BYTES[dtype]}`;
    out.push(`${path}: [${(shape as number[]).join(", ")}] ${dtype}`);
    return;
  }
  for (const k of Object.keys(t)) packedLeaves(t[k], path ? `${path}.${k}` : k, depth + 1, out);
}

/** The leaf list of a packed tree (as `parseCheckpoint` checked it): for comparing with a model's. */
export function packedSignature(t: PackedTree, root: string): string[] {
  const out: string[] = [];
  packedLeaves(t, root, 0, out);
  return out;
}

/** Parse and check a checkpoint file's text on its own. */
export function parseCheckpoint(text: string, file: string): TrainCheckpoint {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw bad(file, `is not valid JSON (${(e as Error).message}; truncated?)`);
  }
  if (!isObj(v)) throw bad(file, "is not a JSON object");
  if (!isNat(v.step)) throw bad(file, `field "step" is ${JSON.stringify(v.step)}, expected a non-negative integer`);
  for (const k of ["params", "optState"]) {
    if (!(k in v)) throw bad(file, `has no field "${k}"`);
    try {
      packedLeaves(v[k], k, 0, []);
    } catch (msg) {
      if (typeof msg !== "string") throw msg;
      throw bad(file, msg);
    }
  }
  const d = v.data;
  if (!isObj(d)) throw bad(file, 'field "data" (the shuffling state) is missing or not an object');
  if (!Array.isArray(d.key) || d.key.length !== 2 || !d.key.every((x) => isNat(x) && x <= 0xffffffff)) throw bad(file, "data.key is not two uint32 numbers");
  if (!isNat(d.offset)) throw bad(file, "data.offset is not a non-negative integer");
  if (d.perm !== null) {
    if (!Array.isArray(d.perm)) throw bad(file, "data.perm is neither null nor a list");
    const seen = new Uint8Array(d.perm.length);
    for (const x of d.perm) {
      if (!isNat(x) || x >= d.perm.length || seen[x]) throw bad(file, `data.perm is not a permutation of 0…${d.perm.length - 1}`);
      seen[x] = 1;
    }
    if (d.offset > d.perm.length) throw bad(file, `data.offset ${d.offset} is past the permutation's end (${d.perm.length})`);
  }
  return v as unknown as TrainCheckpoint;
}

/**
 * Check a parsed checkpoint against what it resumes: the model's and optimizer's leaves (path, shape,
 * dtype), the run's steps and its training-set size.
 */
export function checkResumeMatches(ck: TrainCheckpoint, file: string, want: { params: string[]; optState: string[]; totalSteps: number; n: number; fullBatch: boolean }): void {
  if (ck.step > want.totalSteps) throw bad(file, `is at step ${ck.step}, past this run's ${want.totalSteps} steps`);
  for (const k of ["params", "optState"] as const) {
    const got = packedSignature(ck[k], k);
    const exp = want[k];
    const diff = exp.findIndex((e, i) => got[i] !== e);
    if (diff >= 0 || got.length !== exp.length) {
      const i = diff >= 0 ? diff : Math.min(got.length, exp.length);
      throw bad(file, `${k} does not match the model: ${got[i] ?? "(no leaf)"} in the file, ${exp[i] ?? "(no leaf)"} expected`);
    }
  }
  if (want.fullBatch ? ck.data.perm !== null : ck.data.perm !== null && ck.data.perm.length !== want.n) {
    throw bad(file, `data.perm has ${ck.data.perm?.length ?? "no"} entries, the training set ${want.fullBatch ? "is used full-batch" : `has ${want.n} examples`}`);
  }
}
