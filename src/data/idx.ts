/**
 * IDX files (LeCun's MNIST format; Fashion-MNIST uses it too): magic 0x00 0x00 <type> <ndims>, then
 * ndims big-endian uint32 sizes, then the data, big-endian. Gzipped files are inflated first. Pure (no
 * file system): `src/io/fashionMnist.ts` reads the files.
 */
import { gunzipSync } from "fflate";
import { userError } from "../core/errors.ts";

export type IdxArray = { dims: number[]; data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array };

const TYPES: Record<number, { name: string; bytes: number }> = {
  0x08: { name: "uint8", bytes: 1 },
  0x09: { name: "int8", bytes: 1 },
  0x0b: { name: "int16", bytes: 2 },
  0x0c: { name: "int32", bytes: 4 },
  0x0d: { name: "float32", bytes: 4 },
  0x0e: { name: "float64", bytes: 8 },
};

/** Parse IDX bytes (optionally gzipped). `name` is used in error messages (the file's path). */
export function parseIdx(raw: Uint8Array, name: string): IdxArray {
  let bytes = raw;
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      bytes = gunzipSync(raw);
    } catch {
      throw userError("file", [name], "is not a valid gzip file (truncated or corrupt download?)");
    }
  }
  if (bytes.length < 4) throw userError("file", [name], `is not an IDX file: ${bytes.length} bytes, expected at least a 4-byte header`);
  if (bytes[0] !== 0 || bytes[1] !== 0 || !(bytes[2] in TYPES) || bytes[3] < 1 || bytes[3] > 4) {
    throw userError("file", [name], `is not an IDX file: bad magic number 0x${[...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join("")}`);
  }
  const type = TYPES[bytes[2]];
  const ndims = bytes[3];
  const headerLen = 4 + 4 * ndims;
  if (bytes.length < headerLen) throw userError("file", [name], `is truncated: header needs ${headerLen} bytes, file has ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = headerLen + count * type.bytes;
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
