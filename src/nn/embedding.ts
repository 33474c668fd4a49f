import { nn, numpy as np, random, type Array } from "@jax-js/jax";
import { nativeMatmul } from "../core/jax.ts";
import type { Key } from "../core/prng.ts";

export type EmbeddingSpec = { vocab: number; dim: number; initScale: number };
export type EmbeddingParams = { table: Array };

/** Table ~ N(0, initScale²) as in GPT-2 style embeddings scaled by the caller. */
export function initEmbedding(spec: EmbeddingSpec, key: Key): EmbeddingParams {
  return { table: random.normal(key, [spec.vocab, spec.dim]).mul(spec.initScale) };
}

/**
 * On the native backend, vocabularies up to this size are embedded as onehot(ids) · table, a matmul: the
 * gradient of np.take is jax-js 0.1.25's Scatter routine, which took 19.6 ms of a 98 ms transformer step
 * (W2 of npm run bench: 1,536 ids × 128; the step went to 68 ms). On the Wasm kernels np.take stays: there
 * the table's gradient (dim × vocab, vocab 99 not a multiple of 4) leaves the SIMD matmul and the step
 * went from 148 to 200 ms. The forward is exact either way (one nonzero term per row); the table's
 * gradient sums the same terms, in matmul order. Larger vocabularies keep np.take (the one-hot product
 * costs ids × vocab × dim).
 */
export const ONE_HOT_EMBEDDING_MAX_VOCAB = 1024;

/**
 * Rows of the table for integer ids of any shape → [...ids.shape, dim]; `how` defaults to the faster one
 * for this backend (above). Consumes params and ids.
 */
export function applyEmbedding(params: EmbeddingParams, ids: Array, how?: "take" | "onehot"): Array {
  const [vocab, dim] = params.table.shape;
  const mode = how ?? (nativeMatmul() && vocab <= ONE_HOT_EMBEDDING_MAX_VOCAB ? "onehot" : "take");
  if (mode === "take") return np.take(params.table, ids, 0);
  const shape = ids.shape;
  const onehot = nn.oneHot(ids.reshape([-1]), vocab).astype(params.table.dtype);
  return np.matmul(onehot, params.table).reshape([...shape, dim]);
}
