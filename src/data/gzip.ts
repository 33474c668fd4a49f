/** gunzip with a size limit: a small file that inflates past `maxBytes` (a bomb) or a truncated stream is a clear error. */
import { Gunzip } from "fflate";
import { userError } from "../core/errors.ts";

export const isGzip = (b: Uint8Array) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

export function gunzipLimited(raw: Uint8Array, name: string, maxBytes: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const g = new Gunzip((chunk) => {
    chunks.push(chunk);
    total += chunk.length;
  });
  const STEP = 65536;
  for (let i = 0; i < raw.length; i += STEP) {
    try {
      g.push(raw.subarray(i, i + STEP), i + STEP >= raw.length);
    } catch (e) {
      if (/EOF/i.test((e as Error).message) || total === 0) throw userError("file", [name], "is not a valid gzip file (truncated or corrupt?)");
      throw userError("file", [name], `has bytes after its gzip stream that are not gzip data: ${(e as Error).message}`);
    }
    if (total > maxBytes) throw userError("file", [name], `inflates to more than ${maxBytes} bytes (a damaged file or a decompression bomb)`);
  }
  return concatChunks(chunks, total);
}

/** The chunks of an inflated stream as one array. */
export function concatChunks(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}
