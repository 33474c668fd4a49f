/**
 * `genlab __worker`: a worker process of `--jobs N`. It runs the points its parent sends over IPC, one at
 * a time, single-threaded, and answers with their summaries; it exits when the parent disconnects.
 */
import { EXPERIMENTS } from "../../experiments/index.ts";
import { GenlabError } from "../core/errors.ts";
import { runPoint, type PointSpec } from "../runner/run.ts";

type RunMsg = { type: "run"; spec: PointSpec; outDir: string; storePath?: string; force: boolean };

export function workerMain(): Promise<number> {
  return new Promise((done) => {
    process.on("disconnect", () => done(0));
    process.on("message", async (m: RunMsg) => {
      if (m.type !== "run") return;
      let last = 0;
      try {
        const summary = await runPoint(EXPERIMENTS, m.spec, {
          outDir: m.outDir,
          storePath: m.storePath,
          force: m.force,
          quiet: true,
          onProgress: (d, t, label) => {
            const now = performance.now();
            if (now - last > 1000 || d === t) {
              last = now;
              process.send?.({ type: "progress", done: d, total: t, label });
            }
          },
        });
        process.send?.({ type: "done", summary });
      } catch (e) {
        process.send?.({ type: "error", issues: e instanceof GenlabError ? e.issues : null, message: (e as Error).message });
      }
    });
  });
}
