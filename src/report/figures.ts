/** Figure files: chart specs drawn as SVG (Observable Plot on a linkedom document) and PNG (resvg). */
import { join } from "node:path";
import type { FigureSpec } from "../declare/charts.ts";
import { writeFileAtomic } from "../runner/files.ts";
import { figureSvg } from "./plot.ts";
import { headlessDocument, svgToPng } from "./render.ts";

/** Write `<dir>/<name>.svg` and `.png` for each figure; returns the paths (SVG, PNG, SVG, …). */
export function writeFigureFiles(dir: string, figures: FigureSpec[]): string[] {
  const out: string[] = [];
  const doc = headlessDocument();
  for (const fig of figures) {
    const svg = figureSvg(fig, doc);
    const svgPath = join(dir, `${fig.name}.svg`);
    const pngPath = join(dir, `${fig.name}.png`);
    writeFileAtomic(svgPath, svg);
    writeFileAtomic(pngPath, svgToPng(svg));
    out.push(svgPath, pngPath);
  }
  return out;
}

/** SVG markup of each figure, for the report page. */
export function figureMarkup(figures: FigureSpec[]): { title: string; svg: string }[] {
  const doc = headlessDocument();
  return figures.map((f) => ({ title: f.title, svg: figureSvg(f, doc) }));
}
