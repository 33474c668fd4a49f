/**
 * IDX files (LeCun's MNIST format; Fashion-MNIST uses it too): magic 0x00 0x00 <type> <ndims>, then
 * ndims big-endian uint32 sizes, then the data, big-endian. Gzipped files are inflated first. Pure (no
 * file system): `src/io/fashionMnist.ts` reads the files.
 */
import { Gunzip } from "fflate";
import { userError } from "../core/errors.ts";
import { concatChunks } from "./gzip.ts";

export type IdxArray = { dims: number[]; data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array };

const TYPES: Record<number, { name: string; bytes: number }> = {
  0x08: { name: "uint8", bytes: 1 },
  0x09: { name: "int8", bytes: 1 },
  0x0b: { name: "int16", bytes: 2 },
  0x0c: { name: "int32", bytes: 4 },
  0x0d: { name: "float32", bytes: 4 },
  0x0e: { name: "float64", bytes: 8 },
};

/** Largest IDX data genlab reads (1 GiB; Fashion-MNIST's training images are 47 MB). */
export const MAX_IDX_BYTES = 1 << 30;

/** IDX header facts from its first bytes, or null when more bytes are needed. Throws on a bad magic. */
function declaredLength(head: Uint8Array, name: string): number | null {
  if (head.length < 4) return null;
  if (head[0] !== 0 || head[1] !== 0 || !(head[2] in TYPES) || head[3] < 1 || head[3] > 4) {
    throw userError("file", [name], `is not an IDX file: bad magic number 0x${[...head.subarray(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join("")}`);
  }
  const headerLen = 4 + 4 * head[3];
  if (head.length < headerLen) return null;
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  let count = 1;
  for (let i = 0; i < head[3]; i++) count *= dv.getUint32(4 + 4 * i, false);
  return headerLen + count * TYPES[head[2]].bytes;
}

/**
 * Inflate a gzip stream (members may be concatenated), never beyond what the IDX header inside declares
 * nor beyond `maxBytes`: a small file that inflates to gigabytes is refused early. Bytes after the gzip
 * stream that are not another member are an error.
 */
function gunzipIdx(raw: Uint8Array, name: string, maxBytes: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let limit = maxBytes;
  let head = new Uint8Array(0);
  let known = false;
  const g = new Gunzip((chunk) => {
    chunks.push(chunk);
    total += chunk.length;
    if (!known && head.length < 20) {
      const h = new Uint8Array(Math.min(20, head.length + chunk.length));
      h.set(head);
      h.set(chunk.subarray(0, h.length - head.length), head.length);
      head = h;
    }
  });
  const STEP = 16384;
  for (let i = 0; i < raw.length; i += STEP) {
    try {
      g.push(raw.subarray(i, i + STEP), i + STEP >= raw.length);
    } catch (e) {
      if (/EOF/i.test((e as Error).message) || total === 0) throw userError("file", [name], "is not a valid gzip file (truncated or corrupt download?)");
      throw userError("file", [name], `has bytes after its gzip stream that are not gzip data (a damaged or concatenated file?): ${(e as Error).message}`);
    }
    if (!known) {
      const d = declaredLength(head, name);
      if (d !== null) {
        known = true;
        if (d > maxBytes) throw userError("file", [name], `its IDX header declares ${d} bytes, more than the ${maxBytes}-byte limit genlab reads`);
        limit = d;
      }
    }
    if (total > limit) throw userError("file", [name], `inflates to more than ${known ? `the ${limit} bytes its IDX header declares` : `${maxBytes} bytes`} (a damaged file or a decompression bomb)`);
  }
  return concatChunks(chunks, total);
}

/** Parse IDX bytes (optionally gzipped). `name` is used in error messages (the file's path). */
export function parseIdx(raw: Uint8Array, name: string, opts: { maxBytes?: number } = {}): IdxArray {
  const maxBytes = opts.maxBytes ?? MAX_IDX_BYTES;
  let bytes = raw;
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) bytes = gunzipIdx(raw, name, maxBytes);
  if (bytes.length < 4) throw userError("file", [name], `is not an IDX file: ${bytes.length} bytes, expected at least a 4-byte header`);
  declaredLength(bytes.subarray(0, 4), name); // the magic
  const type = TYPES[bytes[2]];
  const ndims = bytes[3];
  const headerLen = 4 + 4 * ndims;
  if (bytes.length < headerLen) throw userError("file", [name], `is truncated: header needs ${headerLen} bytes, file has ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  if (count === 0) throw userError("file", [name], `holds no values: dims [${dims.join(", ")}] (an empty or damaged file)`);
  const expected = headerLen + count * type.bytes;
  if (expected > maxBytes) throw userError("file", [name], `its IDX header declares ${expected} bytes, more than the ${maxBytes}-byte limit genlab reads`);
  if (bytes.length !== expected) {
    throw userError("file", [name], `${bytes.length < expected ? "is truncated" : "has trailing bytes"}: dims [${dims.join(", ")}] of ${type.name} need ${expected} bytes, file has ${bytes.length}`);
  }
  const body = bytes.subarray(headerLen);
  let data: IdxArray["data"];
  switch (type.name) {
    case "uint8":
      data = Uint8Array.from(body);
      break;
    case "int8":
      data = Int8Array.from(body, (b) => (b << 24) >> 24);
      break;
    default: {
      const out = type.name === "int16" ? new Int16Array(count) : type.name === "int32" ? new Int32Array(count) : type.name === "float32" ? new Float32Array(count) : new Float64Array(count);
      const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
      for (let i = 0; i < count; i++) {
        const o = i * type.bytes;
        out[i] = type.name === "int16" ? dv.getInt16(o, false) : type.name === "int32" ? dv.getInt32(o, false) : type.name === "float32" ? dv.getFloat32(o, false) : dv.getFloat64(o, false);
      }
      data = out;
    }
  }
  return { dims, data };
}

/** Encode an IDX file (uint8 only): used by tests and by users writing their own data. */
export function encodeIdxUint8(dims: number[], data: Uint8Array): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  const dv = new DataView(header.buffer);
  dims.forEach((d, i) => dv.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(data, header.length);
  return out;
}
