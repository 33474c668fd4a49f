/**
 * The dashboard's scores page of a run, from its .npy arrays: which arrays to read (the dynamics of one
 * training, and `images` / `labels` when saved) and the view computed from them (scores/scoresView.ts). The
 * server passes a reader that opens files only inside the run folder.
 */
import { decodeNpy, type NpyArray } from "../data/npy.ts";
import { dynamicsPrefixes, scoresView, type ScoresView } from "../scores/scoresView.ts";

export type { ScoresView };
export { dynamicsPrefixes };

export function scoresPage(names: string[], read: (name: string) => Uint8Array | null, q: URLSearchParams): ScoresView | null {
  const prefixes = dynamicsPrefixes(names);
  if (!prefixes.length) return null;
  const prefix = prefixes.includes(q.get("prefix") ?? "") ? q.get("prefix")! : prefixes[0];
  const arrays = new Map<string, NpyArray>();
  for (const name of names.filter((x) => x.startsWith(`${prefix}_`) || x === "images" || x === "labels")) {
    const bytes = read(name);
    if (bytes) arrays.set(name, decodeNpy(bytes, name));
  }
  const top = Math.min(100, Math.max(1, Number(q.get("top") ?? 24) || 24));
  const view = scoresView(arrays, { prefix, score: q.get("score") ?? undefined, top });
  // only the chosen training's arrays were read: list every training the run logged
  return view && { ...view, prefixes };
}
