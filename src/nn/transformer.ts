/**
 * Causal multi-head self-attention and a small pre-LN transformer (GPT-2 block layout: x + attn(ln(x)),
 * x + mlp(ln(x))), the architecture of the grokking literature (Power et al. 2022; Nanda et al. 2023).
 * Attention is built from matmuls: jax-js's nn.dotProductAttention and einsum break on Node 20 (DEPS.md).
 */
import { numpy as np, nn, random, type Array } from "@jax-js/jax";
import { splitKey, type Key } from "../core/prng.ts";
import { applyActivation, type Activation } from "./activations.ts";
import { defaultPadTo } from "../core/jax.ts";
import { padTo, roundUp } from "./dense.ts";
import { applyEmbedding, initEmbedding, type EmbeddingParams } from "./embedding.ts";
import { applyLayerNorm, initLayerNorm, type LayerNormParams } from "./layerNorm.ts";

export type AttentionSpec = { dModel: number; heads: number };
export type AttentionParams = { wq: Array; wk: Array; wv: Array; wo: Array };

export function initAttention(spec: AttentionSpec, key: Key, initScale = 1): AttentionParams {
  if (spec.dModel % spec.heads !== 0) throw new RangeError(`dModel ${spec.dModel} is not divisible by heads ${spec.heads}`);
  const [kq, kk, kv, ko] = splitKey(key, 4);
  const std = initScale / Math.sqrt(spec.dModel);
  const d = spec.dModel;
  return {
    wq: random.normal(kq, [d, d]).mul(std),
    wk: random.normal(kk, [d, d]).mul(std),
    wv: random.normal(kv, [d, d]).mul(std),
    wo: random.normal(ko, [d, d]).mul(std),
  };
}

/** Additive causal mask [T, T]: 0 on and below the diagonal, −1e9 above. */
function causalMask(t: number, dtype: Array["dtype"]): Array {
  return np.tri(t, t, 0, { dtype }).sub(1).mul(1e9);
}

/** x: [B, T, d] → [B, T, d]. softmax(QKᵀ/√d_h + causal mask)·V per head, then Wo. Consumes p and x. */
export function applyAttention(spec: AttentionSpec, p: AttentionParams, x: Array): Array {
  const [b, t, d] = x.shape;
  const h = spec.heads;
  const dh = d / h;
  const split = (y: Array) => y.reshape([b, t, h, dh]).transpose([0, 2, 1, 3]); // [B, H, T, dh]
  const q = split(np.matmul(x.ref, p.wq));
  const k = split(np.matmul(x.ref, p.wk));
  const v = split(np.matmul(x, p.wv));
  // scores = QKᵀ computed as (K·Qᵀ)ᵀ: the same dot products, but jax-js cannot fuse the scale and mask into a
  // product it reads transposed, so the product stays a plain batched matmul (the genlab patch's kernels,
  // where a fused epilogue sent it to jax-js's generic reduction: 5× slower in E3 of `npm run bench`)
  const scores = np.matmul(k, q.transpose([0, 1, 3, 2])).transpose([0, 1, 3, 2]).mul(1 / Math.sqrt(dh));
  const att = nn.softmax(scores.add(causalMask(t, scores.dtype)), -1);
  const out = np.matmul(att, v).transpose([0, 2, 1, 3]).reshape([b, t, d]);
  return np.matmul(out, p.wo);
}

export type TransformerSpec = {
  vocab: number;
  seqLen: number;
  dModel: number;
  heads: number;
  dMlp: number;
  layers: number;
  /** Output classes (unembedding width); defaults to vocab. */
  outDim: number;
  /** The unembedding's width is stored padded to a multiple of this and the logits sliced back (exact; see dense.ts). */
  padTo: number;
  activation: Activation;
  initScale: number;
  outputScale: number;
};

export type BlockParams = {
  ln1: LayerNormParams;
  attn: AttentionParams;
  ln2: LayerNormParams;
  mlp: { w1: Array; b1: Array; w2: Array; b2: Array };
};

export type TransformerParams = {
  embed: EmbeddingParams;
  pos: Array;
  blocks: BlockParams[];
  lnF: LayerNormParams;
  unembed: Array;
};

export function transformerSpec(partial: Partial<TransformerSpec> & { vocab: number; seqLen: number }): TransformerSpec {
  const dModel = partial.dModel ?? 128;
  return {
    dModel,
    heads: 4,
    dMlp: 4 * dModel,
    layers: 1,
    outDim: partial.vocab,
    padTo: defaultPadTo(),
    activation: "relu",
    initScale: 1,
    outputScale: 1,
    ...partial,
  };
}

export function initTransformer(spec: TransformerSpec, key: Key): TransformerParams {
  const keys = splitKey(key, 3 + 3 * spec.layers);
  const d = spec.dModel;
  const s = spec.initScale;
  const blocks: BlockParams[] = [];
  for (let l = 0; l < spec.layers; l++) {
    const [ka, k1, k2] = keys.slice(3 + 3 * l, 6 + 3 * l);
    blocks.push({
      ln1: initLayerNorm(d),
      attn: initAttention(spec, ka, s),
      ln2: initLayerNorm(d),
      mlp: {
        w1: random.normal(k1, [d, spec.dMlp]).mul((s * Math.SQRT2) / Math.sqrt(d)),
        b1: np.zeros([spec.dMlp]),
        w2: random.normal(k2, [spec.dMlp, d]).mul(s / Math.sqrt(spec.dMlp)),
        b2: np.zeros([d]),
      },
    });
  }
  return {
    embed: initEmbedding({ vocab: spec.vocab, dim: d, initScale: s }, keys[0]),
    pos: random.normal(keys[1], [spec.seqLen, d]).mul(s),
    blocks,
    lnF: initLayerNorm(d),
    unembed: padTo(random.normal(keys[2], [d, spec.outDim]).mul(s / Math.sqrt(d)), [d, roundUp(spec.outDim, Math.max(1, spec.padTo ?? 1))]),
  };
}

/** tokens: int32 [B, T] → logits [B, T, outDim]. Consumes params and tokens. */
export function applyTransformer(spec: TransformerSpec, params: TransformerParams, tokens: Array): Array {
  const [b, t] = tokens.shape;
  if (t !== spec.seqLen) throw new RangeError(`expected sequences of length ${spec.seqLen}, got ${t}`);
  let x = applyEmbedding(params.embed, tokens).add(params.pos.reshape([1, spec.seqLen, spec.dModel]));
  for (const blk of params.blocks) {
    x = x.ref.add(applyAttention(spec, blk.attn, applyLayerNorm(blk.ln1, x)));
    const hIn = applyLayerNorm(blk.ln2, x.ref).reshape([b * t, spec.dModel]);
    const hid = applyActivation(spec.activation, np.matmul(hIn, blk.mlp.w1).add(blk.mlp.b1));
    const mlpOut = np.matmul(hid, blk.mlp.w2).add(blk.mlp.b2).reshape([b, t, spec.dModel]);
    x = x.add(mlpOut);
  }
  const hF = applyLayerNorm(params.lnF, x).reshape([b * t, spec.dModel]);
  let logits = np.matmul(hF, params.unembed);
  if (logits.shape[1] !== spec.outDim) logits = logits.slice([], [0, spec.outDim]);
  logits = logits.reshape([b, t, spec.outDim]);
  return spec.outputScale === 1 ? logits : logits.mul(spec.outputScale);
}

/** Logits of the last position, [B, outDim] (sequence classification, e.g. "a b =" → c). Consumes. */
export function lastPosition(logits: Array): Array {
  const [b, t, c] = logits.shape;
  return logits.slice([], [t - 1]).reshape([b, c]);
}
