/**
 * .npz archives (numpy.savez / savez_compressed): a zip of .npy members. Members are checked by their
 * declared sizes before inflating (a zip bomb is refused) and parsed by decodeNpy. Bytes only.
 */
import { unzipSync } from "fflate";
import { userError } from "../core/errors.ts";
import { decodeNpy, MAX_NPY_BYTES, type NpyArray } from "./npy.ts";

export function parseNpz(bytes: Uint8Array, name: string): Record<string, NpyArray> {
  if (bytes.length === 0) throw userError("file", [name], "is empty (0 bytes); expected a .npz archive (numpy.savez)");
  if (!(bytes[0] === 0x50 && bytes[1] === 0x4b)) throw userError("file", [name], "is not a .npz archive (not a zip file)");
  let files: Record<string, Uint8Array>;
  let total = 0;
  try {
    files = unzipSync(bytes, {
      filter: (f) => {
        total += f.originalSize;
        if (f.originalSize > MAX_NPY_BYTES || total > MAX_NPY_BYTES) throw new RangeError(`member ${f.name} inflates past the ${MAX_NPY_BYTES}-byte limit genlab reads`);
        return true;
      },
    });
  } catch (e) {
    throw userError("file", [name], `is not a readable .npz archive: ${(e as Error).message}`);
  }
  const out: Record<string, NpyArray> = {};
  for (const [member, data] of Object.entries(files)) {
    if (!member.endsWith(".npy")) continue;
    try {
      out[member.slice(0, -4)] = decodeNpy(data, member);
    } catch (e) {
      const issue = (e as { issues?: { message: string }[] }).issues?.[0];
      if (!issue) throw e;
      throw userError("file", [name], `member ${member} ${issue.message}`);
    }
  }
  if (Object.keys(out).length === 0) throw userError("file", [name], "holds no .npy arrays");
  return out;
}
