/**
 * The .npy format (NumPy's NEP 1, version 1.0): magic "\x93NUMPY", version, a little-endian header length,
 * a Python-dict header padded with spaces to a multiple of 64 bytes and ending in "\n", then the raw
 * little-endian data in C order. Bytes only (no fs), so it runs in a browser too.
 */
import { userError } from "../core/errors.ts";

/** `bool`: the file held NumPy bools (read as 0/1 bytes), so that they are not mistaken for uint8 pixels. */
export type NpyArray = { data: Float32Array | Float64Array | Int32Array | Uint8Array; shape: number[]; bool?: boolean };

/**
 * The dtypes genlab reads (NumPy's descr: byte order <, >, | or =, kind, bytes). What users save: float16/32/64,
 * signed and unsigned integers of 1–8 bytes (int64 is NumPy's default for integer labels) and bool. They arrive
 * as float32 (float16, float32), float64, uint8 (uint8, bool) or int32 (other integers; int64/uint32/uint64 values
 * outside int32 become float64 when exact, else the file is refused).
 */
const KINDS: Record<string, number[]> = { f: [2, 4, 8], i: [1, 2, 4, 8], u: [1, 2, 4, 8], b: [1] };
function descrOf(data: NpyArray["data"]): string {
  if (data instanceof Float32Array) return "<f4";
  if (data instanceof Float64Array) return "<f8";
  if (data instanceof Int32Array) return "<i4";
  return "|u1";
}

export function encodeNpy(a: NpyArray): Uint8Array {
  const n = a.shape.reduce((x, y) => x * y, 1);
  if (n !== a.data.length) throw new RangeError(`npy: shape [${a.shape.join(", ")}] holds ${n} values, the data has ${a.data.length}`);
  const shape = a.shape.length === 1 ? `(${a.shape[0]},)` : `(${a.shape.join(", ")})`;
  let header = `{'descr': '${descrOf(a.data)}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += " ".repeat((64 - (total % 64)) % 64) + "\n";
  const out = new Uint8Array(10 + header.length + a.data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  // Typed arrays are little-endian on every platform genlab runs on (x86, ARM, Wasm).
  out.set(new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength), 10 + header.length);
  return out;
}

/** Largest .npy data genlab reads (1 GiB). */
export const MAX_NPY_BYTES = 1 << 30;

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return sign * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : sign * Infinity;
  return sign * 2 ** (e - 15) * (1 + f / 1024);
}

/**
 * Parse a .npy file written by genlab or NumPy (the dtypes of `KINDS`, either byte order, C order). Every
 * problem is a `GenlabError` naming `name` (the file) and what is wrong.
 */
export function decodeNpy(bytes: Uint8Array, name = "<npy>"): NpyArray {
  const fail = (message: string) => userError("file", [name], message);
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length === 0) throw fail("is empty (0 bytes); expected a .npy file");
  if (bytes.length < 10 || magic.some((m, i) => bytes[i] !== m)) throw fail("is not a .npy file (bad magic)");
  const major = bytes[6];
  if (major < 1 || major > 3) throw fail(`has .npy format version ${major}, expected 1, 2 or 3`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (major > 1 && bytes.length < 12) throw fail("is truncated inside its header");
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (start + hlen > bytes.length) throw fail(`is truncated: its header claims ${hlen} bytes, the file has ${bytes.length - start} after the preamble`);
  const header = new TextDecoder().decode(bytes.subarray(start, start + hlen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw fail("has a bad .npy header (expected descr, fortran_order and shape)");
  if (fortran === "True") throw fail("is Fortran-ordered; save it C-ordered (numpy.ascontiguousarray)");
  const dt = /^([<>|=])([fiub])([0-9]+)$/.exec(descr);
  const size = dt ? Number(dt[3]) : 0;
  if (!dt || !KINDS[dt[2]].includes(size)) throw fail(`has dtype ${descr}; expected a number array (float16/32/64, int8–64, uint8–64 or bool)`);
  const big = dt[1] === ">";
  const kind = dt[2];
  const dims = shapeText.split(",").map((x) => x.trim()).filter(Boolean);
  if (dims.length > 32 || !dims.every((d) => /^[0-9]{1,12}$/.test(d))) throw fail(`has a bad shape (${shapeText})`);
  const shape = dims.map(Number);
  const n = shape.reduce((x, y) => x * y, 1);
  if (n * size > MAX_NPY_BYTES) throw fail(`declares ${n * size} bytes of data, more than the ${MAX_NPY_BYTES}-byte limit genlab reads`);
  const body = bytes.subarray(start + hlen);
  if (body.length !== n * size) throw fail(`${body.length < n * size ? "is truncated" : "has trailing bytes"}: shape [${shape.join(", ")}] of ${descr} needs ${n * size} data bytes, the file has ${body.length}`);
  const bv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const le = !big;
  if (kind === "b") return { data: Uint8Array.from(body, (v) => (v ? 1 : 0)), shape, bool: true };
  if (kind === "u" && size === 1) return { data: Uint8Array.from(body), shape };
  if (kind === "f" && size === 4 && le) {
    const data = new Float32Array(n);
    new Uint8Array(data.buffer).set(body);
    return { data, shape };
  }
  if (kind === "f") {
    const data = size === 8 ? new Float64Array(n) : new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = size === 8 ? bv.getFloat64(8 * i, le) : size === 4 ? bv.getFloat32(4 * i, le) : halfToFloat(bv.getUint16(2 * i, le));
    return { data, shape };
  }
  // integers: read exactly (as BigInt for 8 bytes), then int32 when they all fit, float64 when exact
  const vals = new Float64Array(n);
  let fitsInt32 = true;
  for (let i = 0; i < n; i++) {
    const o = i * size;
    let v: number;
    if (size === 8) {
      const b = kind === "i" ? bv.getBigInt64(o, le) : bv.getBigUint64(o, le);
      if (b > BigInt(Number.MAX_SAFE_INTEGER) || b < -BigInt(Number.MAX_SAFE_INTEGER)) throw fail(`holds ${descr} value ${b} at flat index ${i}, beyond what a double holds exactly`);
      v = Number(b);
    } else if (size === 4) v = kind === "i" ? bv.getInt32(o, le) : bv.getUint32(o, le);
    else if (size === 2) v = kind === "i" ? bv.getInt16(o, le) : bv.getUint16(o, le);
    else v = bv.getInt8(o);
    if (v > 2147483647 || v < -2147483648) fitsInt32 = false;
    vals[i] = v;
  }
  return { data: fitsInt32 ? Int32Array.from(vals) : vals, shape };
}
