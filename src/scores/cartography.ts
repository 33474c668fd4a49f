/**
 * Dataset cartography (Swayamdipta et al. 2020, "Dataset Cartography: Mapping and Diagnosing Datasets with
 * Training Dynamics", EMNLP, §2, eqs. 1–2), from the per-example dynamics logger's `p_true` and `correct`
 * over E logged epochs:
 *
 *   confidence  μ̂_i = (1/E) Σ_e p_{θ_e}(y_i | x_i)                        id "cartography_confidence"
 *   variability σ̂_i = √((1/E) Σ_e (p_{θ_e}(y_i | x_i) − μ̂_i)²)           id "cartography_variability"
 *   correctness     = fraction of the E epochs at which x_i is classified correctly   id "cartography_correctness"
 *
 * The data map plots confidence against variability: easy-to-learn (high μ̂, low σ̂), ambiguous (high σ̂),
 * hard-to-learn (low μ̂, low σ̂; often mislabeled). The paper logs every epoch of training; genlab averages
 * over the logged epochs after initialisation (epoch ≥ 1) unless rows are given.
 */
import { dynamicsRow, epochRows, type Dynamics } from "./dynamics.ts";

export const CARTOGRAPHY_IDS = { confidence: "cartography_confidence", variability: "cartography_variability", correctness: "cartography_correctness" } as const;

export type Cartography = { confidence: Float64Array; variability: Float64Array; correctness: Float64Array };

export function cartography(d: Dynamics, rows = epochRows(d, 1)): Cartography {
  if (rows.length === 0) throw new RangeError("cartography: no logged epochs after initialisation");
  const n = d.n;
  const confidence = new Float64Array(n);
  const sq = new Float64Array(n);
  const correctness = new Float64Array(n);
  // an example not logged at an epoch (NaN: a user's loop that logged a subset) is skipped at that epoch
  const count = new Int32Array(n);
  for (const r of rows) {
    const p = dynamicsRow(d, "p_true", r);
    const c = dynamicsRow(d, "correct", r);
    for (let i = 0; i < n; i++) {
      if (Number.isNaN(p[i])) continue;
      confidence[i] += p[i];
      sq[i] += p[i] * p[i];
      correctness[i] += c[i];
      count[i]++;
    }
  }
  const variability = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const e = count[i] || NaN;
    const m = confidence[i] / e;
    confidence[i] = m;
    correctness[i] /= e;
    // population variance (1/E), as in the paper; clamped at 0 against round-off
    variability[i] = Math.sqrt(Math.max(0, sq[i] / e - m * m));
  }
  return { confidence, variability, correctness };
}

/** The three regions of a data map, by the paper's reading (thresholds are genlab's, documented in docs/data-scores.md). */
export type MapRegion = "easy" | "ambiguous" | "hard";

/**
 * Region of each example: ambiguous when σ̂ ≥ `ambiguousVariability` (default 0.2); otherwise hard when
 * μ̂ < `hardConfidence` (default 0.5), else easy.
 */
export function mapRegions(c: Cartography, opts: { ambiguousVariability?: number; hardConfidence?: number } = {}): MapRegion[] {
  const av = opts.ambiguousVariability ?? 0.2;
  const hc = opts.hardConfidence ?? 0.5;
  return Array.from(c.confidence, (m, i) => (c.variability[i] >= av ? "ambiguous" : m < hc ? "hard" : "easy"));
}
