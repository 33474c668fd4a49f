/**
 * The paths of a user's files, checked before anything is read, allocated or computed:
 *
 * - `readUserFile`: a regular file only (a folder, a FIFO, a device such as /dev/zero or a socket is refused
 *   at once: reading one would hang or grow without bound), its size checked against a limit before a
 *   byte is read.
 * - `checkOutputPath`: the output's extension, an existing folder that this process can create files in (a
 *   probe file, created and removed: a read-only mount or /proc is found before the work, not after), not a
 *   folder or a special file, and never one of the command's inputs — compared after symlinks, and by device
 *   and inode so that a hard link is caught too.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, realpathSync, statSync, unlinkSync, type Stats } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { userError } from "../core/errors.ts";

/** Largest user file genlab reads (2 GiB: a 60,000 × 785 CSV is ~130 MB). */
export const MAX_USER_FILE_BYTES = 2 ** 31 - 1;

function kindOf(st: Stats): string {
  if (st.isDirectory()) return "a folder";
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isCharacterDevice() || st.isBlockDevice()) return "a device";
  if (st.isSocket()) return "a socket";
  return "not a regular file";
}

/** The bytes of a regular file, its size bounded before reading; errors name `flag` (or the path). */
export function readUserFile(path: string, flag: string, maxBytes = MAX_USER_FILE_BYTES, what = "file"): Uint8Array {
  if (!existsSync(path)) throw userError("missing_file", [flag], `no such ${what}: ${path}`);
  const st = statSync(path);
  if (!st.isFile()) throw userError("file", [flag], `${path} is ${kindOf(st)}; expected a regular file`);
  if (st.size > maxBytes) throw userError("file", [flag], `${path} is ${st.size} bytes, more than the ${maxBytes}-byte limit genlab reads`);
  return new Uint8Array(readFileSync(path));
}

/** The text of a regular file, its size bounded before reading (see readUserFile). */
export function readUserText(path: string, flag: string, maxBytes = MAX_USER_FILE_BYTES, what = "file"): string {
  return new TextDecoder().decode(readUserFile(path, flag, maxBytes, what));
}

/** Every file a path names: the file itself, or a folder's direct children (an IDX folder's files). */
function filesOf(path: string): string[] {
  if (!existsSync(path)) return [];
  const st = statSync(path);
  if (!st.isDirectory()) return [path];
  return readdirSync(path).map((n) => join(path, n));
}

function sameFile(a: string, b: string): boolean {
  try {
    if (realpathSync(a) === realpathSync(b)) return true;
    const x = statSync(a);
    const y = statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

export type OutputCheck = {
  flag?: string;
  /** Accepted endings (lower case, with the dot); empty: any. */
  exts?: string[];
  /** The command's input paths (files or folders) with the flags that named them. */
  inputs?: [flag: string, path: string | undefined][];
};

/** A resolved output path that can be written and is none of the inputs; throws a one-line user error otherwise. */
export function checkOutputPath(path: string, opts: OutputCheck = {}): string {
  const flag = opts.flag ?? "--out";
  const p = resolve(path);
  const exts = opts.exts ?? [];
  if (exts.length && !exts.some((e) => p.toLowerCase().endsWith(e))) throw userError("bad_flag", [flag], `${path}: expected a file ending in ${exts.join(" or ")}`);
  const dir = dirname(p);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw userError("bad_flag", [flag], `${path}: the folder ${dir} does not exist`);
  if (existsSync(p)) {
    const st = statSync(p);
    if (st.isDirectory()) throw userError("bad_flag", [flag], `${path} is a folder; expected a file name`);
    if (!st.isFile()) throw userError("bad_flag", [flag], `${path} is ${kindOf(st)}; expected a regular file to write`);
  }
  for (const [inFlag, input] of opts.inputs ?? []) {
    if (!input) continue;
    for (const f of filesOf(resolve(input))) {
      if (existsSync(p) && sameFile(p, f)) throw userError("bad_flag", [flag], `${path} is the input ${f === resolve(input) ? "" : `${f} of `}${inFlag} ${input}: genlab never overwrites an input; choose another output file`);
    }
  }
  probeWritable(dir, flag, path);
  return p;
}

/** Create and remove a file in `dir`: a folder this process cannot write (permissions, a read-only mount, /proc) is found now. */
export function probeWritable(dir: string, flag: string, shown: string): void {
  const probe = join(dir, `.genlab-probe-${process.pid}-${Date.now()}`);
  try {
    closeSync(openSync(probe, "wx"));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "error";
    throw userError("bad_flag", [flag], `${shown}: cannot create files in ${dir} (${code}); pass a folder you can write`);
  }
  try {
    unlinkSync(probe);
  } catch {
    // removed by someone else: nothing to clean
  }
}
