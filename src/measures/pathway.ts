/**
 * Routing-pathway metrics of a mixture-of-experts network (Li, Fan, Zhou 2025, "Where to find grokking
 * in LLM pretraining? Monitor memorization-to-generalization without test", Fig. 3): generalisation
 * monitors computed from training data only.
 *
 *   pathway(x)       the sequence over layers ℓ = 1…L of x's top-k expert ids (sorted within a layer);
 *   distance(S)      mean edit (Levenshtein) distance between the pathways of all pairs in S: it should
 *                    fall as pathways become structured and shared;
 *   consistency(x)   mean_ℓ cos(e_ℓ(x), e_{ℓ+1}(x)): the smoothness of expert transitions between layers.
 *
 * The paper's expert embedding for e_ℓ is unverified. Two readings are computed: (a) one-hot expert ids,
 * so e_ℓ(x) is the router's probability vector over experts (the most literal reading of "router weight ×
 * expert embedding" with no learned embedding; the primary one), and (b) e_ℓ(x) = Σ_e g_{ℓ,e}(x)·r̂_{ℓ,e},
 * the gate-weighted unit router rows r̂ (each expert's direction in the residual stream, comparable across
 * layers). With one token per example there is no average over tokens.
 */
import { numpy as np, type Array as JArray } from "@jax-js/jax";
import type { Tree } from "../core/tree.ts";
import type { Monitor } from "../train/monitors.ts";
import { applyMoe, type MoeParams, type MoeSpec, type Routing } from "../nn/moe.ts";

/** Levenshtein distance between two integer sequences (unit costs). */
export function editDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/** Pathways from per-layer gates ([L] of row-major [n × E]): for each row, the ids with g > 0 per layer, ascending. */
export function pathways(gates: Float32Array[], n: number, experts: number): number[][] {
  return Array.from({ length: n }, (_, i) => gates.flatMap((g) => Array.from({ length: experts }, (_, e) => e).filter((e) => g[i * experts + e] > 0)));
}

/** Mean edit distance over all unordered pairs. */
export function pathwayDistance(paths: number[][]): number {
  let s = 0, c = 0;
  for (let i = 0; i < paths.length; i++)
    for (let j = i + 1; j < paths.length; j++) {
      s += editDistance(paths[i], paths[j]);
      c++;
    }
  return c ? s / c : 0;
}

const cosine = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) (ab += a[i] * b[i]), (aa += a[i] * a[i]), (bb += b[i] * b[i]);
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
};

/**
 * Mean over rows of mean_ℓ cos(e_ℓ, e_{ℓ+1}). `emb[ℓ]` is row-major [n × m] (the per-row vectors of layer
 * ℓ: probabilities for reading (a), gate-weighted router directions for (b)).
 */
export function pathwayConsistency(emb: Float32Array[], n: number, m: number): number {
  if (emb.length < 2) return 1;
  let s = 0;
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let l = 0; l + 1 < emb.length; l++) r += cosine(emb[l].subarray(i * m, (i + 1) * m), emb[l + 1].subarray(i * m, (i + 1) * m));
    s += r / (emb.length - 1);
  }
  return s / n;
}

/** The routing of x through an MoE network: per layer, probs and gates as host arrays. Consumes params and x. */
export async function routingOf(spec: MoeSpec, params: MoeParams, x: JArray): Promise<{ probs: Float32Array[]; gates: Float32Array[]; routers: Float32Array[] }> {
  const routers: Float32Array[] = [];
  for (const l of params.layers) routers.push(Float32Array.from(await l.router.ref.data()));
  const r: Routing = { probs: [], gates: [] };
  await applyMoe(spec, params, x, r).data();
  const probs: Float32Array[] = [], gates: Float32Array[] = [];
  for (const p of r.probs) probs.push(Float32Array.from(await p.data()));
  for (const g of r.gates) gates.push(Float32Array.from(await g.data()));
  return { probs, gates, routers };
}

/** The three pathway metrics of a routing (see the header). */
export function pathwayMetrics(rt: { probs: Float32Array[]; gates: Float32Array[]; routers: Float32Array[] }, n: number, spec: MoeSpec): { pathway_distance: number; consistency_a: number; consistency_b: number } {
  const E = spec.experts, d = spec.dModel;
  const dirs = rt.routers.map((R) => {
    // unit router columns r̂_e (R is [d, E] row-major)
    const out = new Float32Array(E * d);
    for (let e = 0; e < E; e++) {
      let nn = 0;
      for (let k = 0; k < d; k++) nn += R[k * E + e] ** 2;
      const inv = nn > 0 ? 1 / Math.sqrt(nn) : 0;
      for (let k = 0; k < d; k++) out[e * d + k] = R[k * E + e] * inv;
    }
    return out;
  });
  const embB = rt.gates.map((g, l) => {
    const out = new Float32Array(n * d);
    for (let i = 0; i < n; i++) for (let e = 0; e < E; e++) if (g[i * E + e] > 0) for (let k = 0; k < d; k++) out[i * d + k] += g[i * E + e] * dirs[l][e * d + k];
    return out;
  });
  return { pathway_distance: pathwayDistance(pathways(rt.gates, n, E)), consistency_a: pathwayConsistency(rt.probs, n, E), consistency_b: pathwayConsistency(embB, n, d) };
}

/**
 * A training monitor: pathway distance and consistency on a fixed set of training inputs (no test data),
 * logged as `pathway_distance`, `consistency_a`, `consistency_b`. Attach it to any ctx.train of an MoE.
 */
export function pathwayMonitor(spec: MoeSpec, probe: { x: Float32Array<ArrayBuffer>; xShape: number[] }): Monitor {
  return {
    id: "pathway",
    async measureHost(params: Tree) {
      const x = np.array(probe.x, { shape: probe.xShape });
      const rt = await routingOf(spec, params as MoeParams, x);
      return pathwayMetrics(rt, probe.xShape[0], spec);
    },
  };
}
