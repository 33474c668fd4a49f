/** Node-side rendering: a linkedom document for Plot, and SVG → PNG with resvg and an explicit font. */
import { existsSync } from "node:fs";
import { Resvg } from "@resvg/resvg-js";
import { parseHTML } from "linkedom";

export function headlessDocument(): Document {
  return parseHTML("<!DOCTYPE html><html><head></head><body></body></html>").document as unknown as Document;
}

const FONT_CANDIDATES = ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans.ttf"];

/** resvg drops all text silently without a font (DEPS.md), so a font file is required. */
export function fontFile(): string | null {
  return FONT_CANDIDATES.find((f) => existsSync(f)) ?? null;
}

export function svgToPng(svg: string, scale = 2): Buffer {
  const font = fontFile();
  if (!font) throw new Error("no font for PNG figures: install fonts-dejavu-core (apt-get install fonts-dejavu-core)");
  const r = new Resvg(svg, {
    fitTo: { mode: "zoom", value: scale },
    background: "white",
    font: { fontFiles: [font], loadSystemFonts: false, defaultFontFamily: "DejaVu Sans", sansSerifFamily: "DejaVu Sans" },
  });
  return r.render().asPng();
}
