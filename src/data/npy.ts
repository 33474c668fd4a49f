/**
 * The .npy format (NumPy's NEP 1, version 1.0): magic "\x93NUMPY", version, a little-endian header length,
 * a Python-dict header padded with spaces to a multiple of 64 bytes and ending in "\n", then the raw
 * little-endian data in C order. Bytes only (no fs), so it runs in a browser too.
 */
import { userError } from "../core/errors.ts";

export type NpyArray = { data: Float32Array | Float64Array | Int32Array | Uint8Array; shape: number[] };

const DESCR: [string, new (n: number) => NpyArray["data"]][] = [
  ["<f4", Float32Array],
  ["<f8", Float64Array],
  ["<i4", Int32Array],
  ["|u1", Uint8Array],
];

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

/**
 * Parse a .npy file written by genlab or NumPy (the dtypes above, C order). Every problem is a
 * `GenlabError` naming `name` (the file) and what is wrong.
 */
export function decodeNpy(bytes: Uint8Array, name = "<npy>"): NpyArray {
  const fail = (message: string) => userError("file", [name], message);
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
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
  const kind = DESCR.find(([d]) => d === descr);
  if (!kind) throw fail(`has dtype ${descr}; expected one of ${DESCR.map(([d]) => d).join(", ")}`);
  const dims = shapeText.split(",").map((x) => x.trim()).filter(Boolean);
  if (dims.length > 32 || !dims.every((d) => /^[0-9]{1,12}$/.test(d))) throw fail(`has a bad shape (${shapeText})`);
  const shape = dims.map(Number);
  const n = shape.reduce((x, y) => x * y, 1);
  const bytesPer = new kind[1](0).BYTES_PER_ELEMENT;
  if (n * bytesPer > MAX_NPY_BYTES) throw fail(`declares ${n * bytesPer} bytes of data, more than the ${MAX_NPY_BYTES}-byte limit genlab reads`);
  const body = bytes.subarray(start + hlen);
  if (body.length !== n * bytesPer) throw fail(`${body.length < n * bytesPer ? "is truncated" : "has trailing bytes"}: shape [${shape.join(", ")}] of ${descr} needs ${n * bytesPer} data bytes, the file has ${body.length}`);
  const data = new kind[1](n);
  new Uint8Array(data.buffer).set(body);
  return { data, shape };
}
