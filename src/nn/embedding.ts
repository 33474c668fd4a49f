import { numpy as np, random, type Array } from "@jax-js/jax";
import type { Key } from "../core/prng.ts";

export type EmbeddingSpec = { vocab: number; dim: number; initScale: number };
export type EmbeddingParams = { table: Array };

/** Table ~ N(0, initScale²) as in GPT-2 style embeddings scaled by the caller. */
export function initEmbedding(spec: EmbeddingSpec, key: Key): EmbeddingParams {
  return { table: random.normal(key, [spec.vocab, spec.dim]).mul(spec.initScale) };
}

/** Rows of the table for integer ids of any shape → [...ids.shape, dim]. Consumes params and ids. */
export function applyEmbedding(params: EmbeddingParams, ids: Array): Array {
  return np.take(params.table, ids, 0);
}
