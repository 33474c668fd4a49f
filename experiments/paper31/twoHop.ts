/**
 * Grokked transformers are implicit reasoners (Wang, Yue, Su, Sun, NeurIPS 2024), composition, scaled down.
 *
 * Claim: a transformer trained from scratch on atomic facts plus a subset of two-hop inferred facts learns
 * implicit composition only by grokking (in-distribution test accuracy on inferred facts rises long after
 * the training facts are fitted); the speed is governed by φ = |inferred train facts| / |ID atomic facts|;
 * composition does not generalise out of distribution (to inferred facts whose atomic facts were only seen
 * as atomic facts).
 * Set-up (the spec's laptop analog): |E| = 300 entities, |R| = 20 relations, out-degree 10 (3,000 atomic
 * facts), 5% OOD atomic facts, 10% of ID inferred facts held out; φ ∈ {3.6, 7.2}; a causal decoder (the
 * foundation's transformer, 2 layers, d = 64, 4 heads), loss on the tail entity only, AdamW lr 1e-3, weight
 * decay 0.1, batch 256 (quick: 128).
 * Criterion (specs-23-45.md §9, UNVERIFIED at this scale, fixed before these runs): at the larger φ the
 * inferred training facts reach ≥ 99% accuracy at t_fit and ID test inferred accuracy crosses 90% at
 * t_gen ≥ 5·t_fit; t_gen(7.2) < t_gen(3.6) (or 3.6 never reaches 90%); OOD inferred accuracy ≤ 30% at every
 * checkpoint.
 * Negative control: the criterion judged on the OOD split in place of the ID test split (composition must
 * not generalise there): it must fail.
 * The paper's runs take up to 1.5 M steps on a GPU; the spec estimates 50,000 steps (≈ 1.7 h on CPU) for this
 * analog. Quick (800 steps) and full (20,000 steps) are far shorter: a FAIL here says "did not grok within
 * the budget", not that the claim is false.
 * Cost on one core: smoke ~4 s, quick ~70 s, full ~50 min (estimate from the quick step time; not run yet).
 * Run: genlab run two-hop --quick
 */
import { nn, type Array as JArray } from "@jax-js/jax";
import { roleKeys } from "../../src/core/prng.ts";
import { treeDispose } from "../../src/core/tree.ts";
import { twoHopKnowledgeGraph } from "../../src/data/knowledgeGraph.ts";
import { accuracy, softmaxCrossEntropy } from "../../src/nn/losses.ts";
import { applyTransformer, initTransformer, transformerSpec, type TransformerParams, type TransformerSpec } from "../../src/nn/transformer.ts";
import { adamw } from "../../src/optim/aliases.ts";
import { defineExperiment, type MetricRow, type Point, type Verdict } from "../../src/declare/experiment.ts";
import { integer, number } from "../../src/declare/schema.ts";

const PROBES = ["atomic_id", "atomic_ood", "inferred_train", "inferred_id", "inferred_ood"] as const;

export type TwoHopResults = {
  phi: number;
  phi_actual: number;
  counts: Record<string, number>;
  t_fit: number | null;
  t_gen: number | null;
  t_gen_ood: number | null;
  max_ood: number;
  final: Record<(typeof PROBES)[number], number>;
  steps: number;
  train_seconds: number;
};
type P = Point<Record<string, number>, TwoHopResults>;

/** Logits of each row's target position: x [B, 4] = tokens and the position; → [B, outDim]. Consumes params and x. */
export function tailLogits(spec: TransformerSpec, params: TransformerParams, x: JArray): JArray {
  const b = x.shape[0];
  const tokens = x.ref.slice([], [0, 3]);
  const pos = x.slice([], [3, 4]).reshape([b]);
  const logits = applyTransformer(spec, params, tokens); // [B, 3, E]
  const mask = nn.oneHot(pos, 3).astype(logits.dtype).reshape([b, 3, 1]);
  return logits.mul(mask).sum(1);
}

function judge(points: P[], useOod: boolean): Verdict {
  const sorted = [...points].sort((a, b) => a.results.phi - b.results.phi);
  const hi = sorted[sorted.length - 1]?.results;
  const lo = sorted.length > 1 ? sorted[0].results : null;
  if (!hi) return { verdict: "FAIL", criterion: "no points", measured: {} };
  const gen = (r: TwoHopResults) => (useOod ? r.t_gen_ood : r.t_gen);
  const tg = gen(hi);
  const delayed = hi.t_fit !== null && tg !== null && tg >= 5 * hi.t_fit;
  const faster = lo === null || gen(lo) === null || (tg !== null && tg < gen(lo)!);
  const oodLow = sorted.every((p) => p.results.max_ood <= 0.3);
  const ok = delayed && faster && oodLow;
  return {
    verdict: ok ? "PASS" : "FAIL",
    criterion: `${useOod ? "[control: the OOD split judged as the ID test] " : ""}φ = ${hi.phi}: inferred train ≥ 0.99 at t_fit and ${useOod ? "OOD" : "ID"} test inferred ≥ 0.90 at t_gen ≥ 5·t_fit; t_gen(φ = ${hi.phi}) < t_gen(φ = ${lo?.phi ?? "–"}) or the smaller φ never reaches 0.90; OOD inferred ≤ 0.30 at every checkpoint (spec §9, unverified at this scale)`,
    measured: {
      [`t_fit_phi${hi.phi}`]: hi.t_fit,
      [`t_gen_phi${hi.phi}`]: tg,
      ...(lo ? { [`t_fit_phi${lo.phi}`]: lo.t_fit, [`t_gen_phi${lo.phi}`]: gen(lo) } : {}),
      max_ood_inferred: Math.max(...sorted.map((p) => p.results.max_ood)),
      ...Object.fromEntries(PROBES.map((k) => [`final_${k}_phi${hi.phi}`, hi.final[k]])),
    },
  };
}

export const twoHop = defineExperiment({
  id: "two-hop",
  paper: 31,
  title: "Two-hop composition over a synthetic knowledge graph: ID grokking, OOD failure (scaled analog)",
  claim: (h) => `A ${h.layers}-layer d = ${h.dModel} transformer trained on ${h.entities * h.outDegree} atomic facts plus φ·|ID atomic| two-hop facts groks in-distribution composition (ID test ≥ 90% at ≥ 5× the step the training facts are fitted), sooner for larger φ, while OOD composition stays ≤ 30%.`,
  coverage: {
    level: "partial",
    covered: ["the two-hop knowledge-graph generator (composition) with ID and OOD inferred-fact splits", "the foundation's transformer in the training path (causal decoder, loss on the tail)", "φ = 3.6 and 7.2"],
    notCovered: ["the comparison task", "the 2,000-entity graph, 8-layer GPT-2 and 10⁶-step horizon", "logit-lens and causal-tracing analyses"],
  },
  deviations: [
    "the spec's laptop analog (|E| = 300, |R| = 20, out-degree 10, 10% ID test) with a 2-layer d = 64 decoder",
    "batch 256 (the spec's shrunk analog; the paper 512), 128 at quick size; quick trains 800 steps and full 20,000 (the spec's estimate for this analog is 50,000): far below the paper's horizon",
    "atomic facts are [h, r, PAD] with the tail predicted at position 1; inferred facts [h, r₁, r₂] at position 2 (one causal model, loss on the tail only)",
  ],
  criterionSource: "specs-23-45.md §9 (UNVERIFIED: no calibration run exists, calibration-a.md §4)",
  negativeControl: { what: "the criterion judged on the OOD split in place of the ID test split: composition must not generalise there", verdict: (ps: P[]) => judge(ps, true) },
  dataSource: "generated",
  playFields: ["entities", "relations", "outDegree", "phi", "lr", "steps"],
  hparams: {
    entities: integer(300, "entities |E|", { min: 2, max: 100000 }),
    relations: integer(20, "relations |R|", { min: 1, max: 10000 }),
    outDegree: integer(10, "relations per head", { min: 1, max: 10000 }),
    oodFraction: number(0.05, "fraction of atomic facts that are OOD (never seen in inferred form)", { min: 0, max: 1 }),
    idTestFraction: number(0.1, "fraction of ID inferred facts held out", { min: 0, max: 1, minExclusive: true, maxExclusive: true }),
    phi: number(7.2, "φ = |inferred train facts| / |ID atomic facts|", { min: 0, max: 1000 }),
    dModel: integer(64, "transformer width", { min: 4, max: 4096 }),
    heads: integer(4, "attention heads", { min: 1, max: 64 }),
    layers: integer(2, "transformer layers", { min: 1, max: 64 }),
    lr: number(1e-3, "AdamW learning rate", { min: 0, max: 10, minExclusive: true }),
    weightDecay: number(0.1, "AdamW decoupled weight decay", { min: 0, max: 100 }),
    batch: integer(256, "minibatch size", { min: 1, max: 1_000_000 }),
    steps: integer(20000, "optimizer steps", { min: 1, max: 10_000_000 }),
    logEvery: integer(250, "log every k steps", { min: 0, max: 1e7 }),
    perDecade: integer(4, "log-spaced logged steps per decade", { min: 0, max: 1000 }),
  },
  validate: (h) => [
    ...(h.outDegree > h.relations ? [{ key: "outDegree" as const, message: `outDegree (${h.outDegree}) must not exceed relations (${h.relations})` }] : []),
    ...(h.dModel % h.heads !== 0 ? [{ key: "heads" as const, message: `dModel (${h.dModel}) must be divisible by heads (${h.heads})` }] : []),
  ],
  sizes: {
    smoke: { entities: 30, relations: 6, outDegree: 3, dModel: 16, heads: 2, layers: 1, batch: 64, steps: 20, logEvery: 10 },
    quick: { steps: 800, batch: 128, logEvery: 100 },
  },
  cost: { smoke: "~4 s", quick: "~70 s", full: "~50 min (estimate)" },
  sweep: () => [{ phi: [3.6, 7.2], seeds: [0] }],

  async run(ctx): Promise<TwoHopResults> {
    const h = ctx.hparams;
    const k = roleKeys(ctx.seed, ["data", "init", "shuffle"]);
    const kg = twoHopKnowledgeGraph({ entities: h.entities, relations: h.relations, outDegree: h.outDegree, oodFraction: h.oodFraction, idTestFraction: h.idTestFraction, phi: h.phi }, k.data);
    const spec = transformerSpec({ vocab: kg.vocab, seqLen: 3, dModel: h.dModel, heads: h.heads, dMlp: 4 * h.dModel, layers: h.layers, outDim: h.entities });
    const evalSets = Object.fromEntries(PROBES.filter((p) => kg.probes[p].y.length > 0).map((p) => [p, kg.probes[p]]));
    const out = await ctx.train<TransformerParams>({
      params: initTransformer(spec, k.init),
      loss: (p, x, y) => softmaxCrossEntropy(tailLogits(spec, p, x), y),
      evaluate: (p, x, y: JArray) => ({ acc: accuracy(tailLogits(spec, p, x), y) }),
      optimizer: adamw(h.lr, { b1: 0.9, b2: 0.98, weightDecay: h.weightDecay }),
      train: kg.train,
      evalSets,
      steps: h.steps,
      batchSize: Math.min(h.batch, kg.train.y.length),
      key: k.shuffle,
      progressKeys: ["inferred_train_acc", "inferred_id_acc", "inferred_ood_acc"],
    });
    treeDispose([out.params, out.optState]);
    const hist = out.history;
    const first = (key: string, thr: number) => hist.find((r) => (r[key] ?? -1) >= thr)?.step ?? null;
    const last = hist[hist.length - 1];
    return {
      phi: h.phi,
      phi_actual: kg.counts.phiActual,
      counts: kg.counts,
      t_fit: first("inferred_train_acc", 0.99),
      t_gen: first("inferred_id_acc", 0.9),
      t_gen_ood: first("inferred_ood_acc", 0.9),
      max_ood: Math.max(...hist.map((r) => r.inferred_ood_acc ?? 0)),
      final: Object.fromEntries(PROBES.map((p) => [p, last[`${p}_acc`] ?? NaN])) as TwoHopResults["final"],
      steps: last.step,
      train_seconds: out.seconds,
    };
  },

  verdict: (ps: P[]) => judge(ps, false),

  figures(ps: P[]) {
    const v = judge(ps, false);
    const panels = [...ps]
      .sort((a, b) => a.results.phi - b.results.phi)
      .map((p) => {
        const rs = p.metrics.filter((m: MetricRow) => m.axis === "step" && m.x >= 1);
        const x = rs.map((r) => r.x);
        return {
          kind: "line" as const,
          title: `φ = ${p.results.phi} (actual ${p.results.phi_actual.toFixed(2)})`,
          xLabel: "step (log scale)",
          yLabel: "accuracy",
          xLog: true,
          yDomain: [0, 1] as [number, number],
          series: PROBES.map((k) => ({ name: k.replace("_", " "), x, y: rs.map((r) => r.values[`${k}_acc`] ?? NaN), dashed: k.startsWith("atomic") })),
          width: 460,
        };
      });
    return [{ name: "two-hop", title: "Two-hop composition: training facts, ID and OOD inferred facts", subtitle: `t_fit ${v.measured[`t_fit_phi${ps[ps.length - 1]?.results.phi}`] ?? "never"}, t_gen ${v.measured[`t_gen_phi${ps[ps.length - 1]?.results.phi}`] ?? "never"} → ${v.verdict}`, panels }];
  },
});
