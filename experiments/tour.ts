/**
 * The tour `npm start` runs (genlab reproduce --quick --tour): a few fast, representative reproductions on
 * generated data, so a fresh machine (Wasm kernels, no optional Debian packages) finishes in about 10
 * minutes on 2 cores (measured 4 min 35 s, 2026-12-06); the report shows every other reproduction with its
 * verdict of record.
 */
export const TOUR: readonly string[] = ["long-tail", "xor-benign", "coherence", "grokking-modular"];
/** What the whole quick reproduction costs (measured; README and the tour's closing line say it). */
export const TOUR_NOTE = "every quick reproduction and its control: 167 points (164 runs), 6 min 36 s at --jobs 2 on 2 cores on the native backend (genlab's own GEMM; 6 min 54 s on OpenBLAS, 19 min 10 s on Wasm; 2026-12-07)";
