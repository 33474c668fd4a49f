/**
 * Domain-Specific Risk Minimization for Out-of-Distribution Generalization (Zhang et al., KDD 2023): the designed
 * case of specs-23-45.md §10, where the adaptivity gap is large and the target's own head exists among the sources.
 *
 * Claim: with one head per source domain (and a pooled head) on a shared featurizer, choosing the head of lowest mean
 * prediction entropy on each test batch recovers the target-optimal head: DRM-select is within 2 points of the best
 * head on the target, ≥ 5 points above the pooled (ERM) head, and picks the target's own source head on ≥ 80% of the
 * test batches.
 * Set-up: 2-D Gaussian domains N(±μ n_k, σ² I), μ = 2, σ = 1, whose Bayes boundary is at 20k° (k = 0 … 9: 0° … 180°);
 * 1,000 training rows per domain; the target is 5,120 new rows of domain 2 (40°). K, μ and σ were fixed from the
 * Bayes-optimal rules before any training: with the spec's literal 0° … 80° (K = 5) the target is the median domain
 * and the pooled Bayes rule *is* the target's (gap 0); 0° … 180° makes domains conflict (180° is 0° with the labels
 * flipped), pooled Bayes 0.90 against the target's own 0.98, and the own head still has the lowest entropy on the
 * target (0.060 against 0.072 for its neighbours).
 * Model: MLP featurizer 2-64-64 (ReLU), 11 linear heads, PyTorch's default init; Adam 1e-3; 32 rows per domain per
 * step; selection on test batches of 256 over all 11 heads (the official DRM.forward), 20 batches.
 * The test batch was set from the Bayes rules too, after a first quick run on the calibration seeds 100–101 at 64
 * (own head chosen on 41–59% of the batches): neighbouring domains are only 20° apart, and min-entropy selection
 * among the Bayes rules themselves picks the own one on 75% of batches of 64 (0.60 at 32, 0.88 at 128, 0.98 at 256;
 * 128,000 simulated rows). A batch at which even the optimal heads miss the spec's 80% would test the design, not
 * DRM; the Bayes selector's fraction on the same batches is a gate of match_frac.
 * Negative control (hparams): the domain labels made uninformative (`shuffleDomains`: the sources' rows dealt back
 * at random into ten domains of the same size). The same checks are judged; they should fail — unless the gain came
 * from having many heads rather than from heads specific to a domain.
 * Cost on one core: see `cost`.
 * Run: genlab run drm-synthetic --quick
 */
import { roleKeys } from "../../src/core/prng.ts";
import type { Dataset } from "../../src/data/dataset.ts";
import { gaussianBoundaryDomains, shuffleDomainMembership } from "../../src/data/domains.ts";
import { defineExperiment, integer, number, bool, type CheckDecl, type Point, onlyResults } from "../../src/declare/kit.ts";
import { chosenHistogram, headsReport, trainHeads } from "./drm.ts";

export type DrmSyntheticResults = {
  angles: number[];
  target_domain: number;
  /** target accuracy of every head (domain heads, then the pooled head) */
  head_acc: number[];
  oracle_acc: number;
  oracle_head: number;
  pooled_acc: number;
  select_acc: number;
  /** fraction of test batches on which the target's own source head was chosen */
  match_frac: number;
  chosen_hist: number[];
  /** the Bayes rules on the same target rows: the target domain's own, and the pooled sources' */
  bayes_own: number;
  bayes_pooled: number;
  /** how often min-entropy selection among the Bayes rules picks the own one on the same batches */
  bayes_match_frac: number;
  /** every domain head on fresh rows of its own domain (mean), and the pooled head on them */
  own_source_acc: number;
  seconds: number;
};

type P = Point<Record<string, number | boolean>, DrmSyntheticResults>;
const one = (points: P[]): DrmSyntheticResults => onlyResults(points);

const CHECKS: CheckDecl<P>[] = [
  {
    id: "pooled_vs_bayes",
    role: "gate",
    what: "pooled head's target accuracy − the pooled Bayes rule's: the network learned the sources (within 3 points of optimal)",
    cmp: ">=",
    threshold: -0.03,
    source: "design estimate (the regime: trained to near the pooled optimum, so that the gap to the own head is the adaptivity gap, not under-training)",
    value: ({ points }) => one(points).pooled_acc - one(points).bayes_pooled,
    reach: "more steps (--set steps=…)",
  },
  {
    id: "bayes_match_frac",
    role: "gate",
    what: "fraction of the same test batches on which min-entropy selection among the Bayes rules picks the own one: the batches can tell the own head from its neighbours at all",
    cmp: ">=",
    threshold: 0.8,
    source: "the spec's 80% (specs-23-45.md §10) applied to the optimal heads: below it match_frac tests the design, not DRM",
    value: ({ points }) => one(points).bayes_match_frac,
    reach: "larger test batches (--set testBatch=…)",
    gates: ["match_frac"],
  },
  {
    id: "select_vs_oracle",
    role: "claim",
    what: "DRM-select's target accuracy − the best head's",
    cmp: ">=",
    threshold: -0.02,
    source: "specs-23-45.md §10 PASS (synthetic case: within 2 points of the oracle head; UNVERIFIED threshold) = issue 25, row 32",
    value: ({ points }) => one(points).select_acc - one(points).oracle_acc,
  },
  {
    id: "select_vs_pooled",
    role: "claim",
    what: "DRM-select's target accuracy − the pooled (ERM) head's",
    cmp: ">=",
    threshold: 0.05,
    source: "specs-23-45.md §10 PASS (synthetic case: ≥ 5 points above the pooled ERM head; UNVERIFIED threshold) = issue 25, row 32",
    value: ({ points }) => one(points).select_acc - one(points).pooled_acc,
  },
  {
    id: "match_frac",
    role: "claim",
    what: "fraction of test batches on which the target's own source head is chosen",
    cmp: ">=",
    threshold: 0.8,
    source: "specs-23-45.md §10 PASS (synthetic case: the matching source head on ≥ 80% of test batches; UNVERIFIED threshold)",
    value: ({ points }) => one(points).match_frac,
  },
];

/**
 * The Bayes rules on rows of the target: the accuracy of its own domain's rule and of the pooled mixture's, and how
 * often min-entropy selection among the Bayes rules themselves (every domain's and the pooled one, per test batch)
 * picks the target's own — what a perfectly trained DRM model would do on these rows.
 */
function bayesReference(target: Dataset, angles: readonly number[], own: number, mu: number, sigma: number, batch: number): { own: number; pooled: number; matchFrac: number } {
  const normals = angles.map((a) => [-Math.sin((a * Math.PI) / 180), Math.cos((a * Math.PI) / 180)]);
  const n = target.y.length;
  const K = angles.length;
  const entropy = (p: number) => (p <= 0 || p >= 1 ? 0 : -(p * Math.log(p) + (1 - p) * Math.log(1 - p)));
  const H = new Float64Array(n * (K + 1));
  let okOwn = 0;
  let okPooled = 0;
  for (let i = 0; i < n; i++) {
    const x0 = target.x[2 * i];
    const x1 = target.x[2 * i + 1];
    okOwn += (x0 * normals[own][0] + x1 * normals[own][1] > 0 ? 1 : 0) === target.y[i] ? 1 : 0;
    let p1 = 0;
    let p0 = 0;
    normals.forEach(([a, b], k) => {
      // class 1 of domain k is N(μ n_k, σ²I): its log-likelihood ratio is 2μ(x·n_k)/σ²
      H[i * (K + 1) + k] = entropy(1 / (1 + Math.exp((-2 * mu * (x0 * a + x1 * b)) / (sigma * sigma))));
      p1 += Math.exp(-((x0 - mu * a) ** 2 + (x1 - mu * b) ** 2) / (2 * sigma * sigma));
      p0 += Math.exp(-((x0 + mu * a) ** 2 + (x1 + mu * b) ** 2) / (2 * sigma * sigma));
    });
    H[i * (K + 1) + K] = entropy(p1 / (p0 + p1));
    okPooled += (p1 > p0 ? 1 : 0) === target.y[i] ? 1 : 0;
  }
  let hits = 0;
  let batches = 0;
  for (let s = 0; s < n; s += batch) {
    const e = Math.min(n, s + batch);
    const mean = (k: number) => {
      let t = 0;
      for (let i = s; i < e; i++) t += H[i * (K + 1) + k];
      return t;
    };
    let best = 0;
    for (let k = 1; k <= K; k++) if (mean(k) < mean(best)) best = k;
    hits += best === own ? 1 : 0;
    batches++;
  }
  return { own: okOwn / n, pooled: okPooled / n, matchFrac: hits / batches };
}

export const drmSynthetic = defineExperiment({
  id: "drm-synthetic",
  paper: 32,
  title: "DRM: min-entropy head selection recovers the target's own head where the pooled head cannot fit every domain",
  claim: (h) =>
    `On ${h.domains} 2-D Gaussian domains whose Bayes boundaries are at 0°, 20°, … (μ = ${h.mu}, σ = ${h.sigma}), a featurizer with one head per domain and a pooled head, trained with the DRM loss, selects by minimum mean entropy on test batches of ${h.testBatch} from a copy of domain ${h.targetDomain}: within 2 points of the best head, ≥ 5 points above the pooled head, and the own head on ≥ 80% of the batches.`,
  coverage: {
    level: "partial",
    covered: ["the spec's designed synthetic case (oracle head among the sources), DRM training with the official loss, min-entropy selection over all heads per test batch, the Bayes rules as references"],
    notCovered: ["DRM-steer on this case (run on rotated Fashion-MNIST: drm-rotated-fashion)", "the paper's DomainBed benchmarks (PACS, VLCS, OfficeHome, TerraIncognita, DomainNet)"],
  },
  deviations: [
    "ten domains at 0° … 180° instead of the spec's 'boundary angle 20k°' with unstated k: with five (0° … 80°) the target is the median domain and pooled = oracle (no adaptivity gap); chosen from the Bayes rules before any training",
    "μ = 2, σ = 1 and 1,000 rows per domain (the spec states none)",
    "an MLP featurizer 2-64-64 (the spec states none for this case)",
    "selection on test batches of 256 (the spec gives none for this case; the official code uses 32, the spec's DRM-steer 64): at 64 even the Bayes rules pick the own head on only 75% of batches",
  ],
  criterionSource: "specs-23-45.md §10 PASS, synthetic case (thresholds UNVERIFIED there: a design estimate), declared before any run",
  checks: CHECKS,
  negativeControl: {
    what: "domain labels made uninformative (shuffleDomains: the source rows dealt back at random into ten domains of the same sizes): every head sees a mixture of all domains. select_vs_pooled and match_frac should fail; they would pass only if the gain came from having many heads rather than domain-specific ones",
    hparams: { shuffleDomains: true },
  },
  seeds: { smoke: 1, quick: 2, full: 5 },
  dataSource: "generated",
  playFields: ["domains", "mu", "steps"],
  hparams: {
    domains: integer(10, "source domains, Bayes boundary of domain k at 20k°", { min: 2, max: 18 }),
    targetDomain: integer(2, "the source domain the target copies (new rows)", { min: 0, max: 17 }),
    mu: number(2, "class-mean distance from the origin", { min: 0, max: 100 }),
    sigma: number(1, "noise sd", { min: 0, max: 100, minExclusive: true }),
    nPerDomain: integer(1000, "training rows per source domain", { min: 10, max: 1_000_000 }),
    nTarget: integer(5120, "target rows", { min: 64, max: 1_000_000 }),
    width: integer(64, "featurizer width (two hidden layers)", { min: 2, max: 4096 }),
    lr: number(1e-3, "Adam learning rate", { min: 0, max: 1, minExclusive: true }),
    batchPerDomain: integer(32, "rows of every domain per step", { min: 1, max: 100000 }),
    steps: integer(2000, "Adam steps", { min: 1, max: 1_000_000 }),
    testBatch: integer(256, "test rows per selection batch", { min: 1, max: 100000 }),
    shuffleDomains: bool(false, "deal the source rows into domains at random (the negative control)"),
  },
  validate: (h) => [
    ...(h.targetDomain < h.domains ? [] : [{ key: "targetDomain" as const, message: `must name one of the ${h.domains} domains (0 … ${h.domains - 1})` }]),
    ...(h.batchPerDomain <= h.nPerDomain ? [] : [{ key: "batchPerDomain" as const, message: `is larger than a domain (${h.nPerDomain} rows)` }]),
  ],
  sizes: {
    smoke: { domains: 3, nPerDomain: 100, nTarget: 128, width: 8, steps: 20 },
    quick: {},
  },
  cost: { smoke: "~3 s", quick: "~7 s measured, with the control (2 seeds)", full: "~15 s of one core (5 seeds and the control)" },
  calibration: {
    seeds: [100, 101],
    outcome:
      "quick = full but for the number of seeds. At test batches of 64 (the first run): own head chosen on 59% and 41% of batches, DRM-select 0.6 and 2.6 points below the best head, 6.9 and 4.6 above the pooled one: FAIL; the Bayes rules themselves reach only 75% at 64, hence batches of 256 (set from the Bayes rules, not from these runs' verdicts). At 256: DRM-select 0.2 and 0.3 points below the best head (the own head, 0.977–0.979), 7.1 and 6.6 above the pooled head (0.906–0.907, its Bayes rule 0.898–0.904); own head chosen on 80% and 60% of the batches (the neighbour at 20° otherwise; the Bayes rules on the same batches: 100% and 90%, so the bayes_match_frac gate is met) → FAIL on match_frac. The control (shuffled domain labels) FAILs select_vs_pooled and match_frac on both (every head ≈ the pooled one, 0.87–0.90)",
  },

  async run(ctx): Promise<DrmSyntheticResults> {
    const h = ctx.hparams;
    const k = roleKeys(ctx.seed, ["sources", "target", "fresh", "shuffle", "train"]);
    const angles = Array.from({ length: h.domains }, (_, i) => 20 * i);
    let sources = gaussianBoundaryDomains({ angles, n: h.nPerDomain, mu: h.mu, sigma: h.sigma }, k.sources);
    const target = gaussianBoundaryDomains({ angles: [angles[h.targetDomain]], n: h.nTarget, mu: h.mu, sigma: h.sigma }, k.target)[0];
    const fresh = gaussianBoundaryDomains({ angles, n: 500, mu: h.mu, sigma: h.sigma }, k.fresh);
    if (h.shuffleDomains) sources = shuffleDomainMembership(sources, k.shuffle);
    else k.shuffle.dispose();
    return ctx.phase("drm", async () => {
      const m = await trainHeads(ctx, "drm", sources, 2, true, { hidden: [h.width, h.width], lr: h.lr, batchPerDomain: h.batchPerDomain, steps: h.steps }, k.train);
      try {
        const r = await headsReport(m, target, h.testBatch);
        const own = await Promise.all(fresh.map(async (d, j) => (await headsReport(m, d, h.testBatch)).head_acc[j]));
        const oracle = r.head_acc.slice(0, h.domains + 1).reduce((b, a, j) => (a > r.head_acc[b] ? j : b), 0);
        const bayes = bayesReference(target, angles, h.targetDomain, h.mu, h.sigma, h.testBatch);
        return {
          angles,
          target_domain: h.targetDomain,
          head_acc: r.head_acc,
          oracle_acc: r.head_acc[oracle],
          oracle_head: oracle,
          pooled_acc: r.head_acc[h.domains],
          select_acc: r.select_acc,
          match_frac: r.chosen.filter((c) => c === h.targetDomain).length / r.chosen.length,
          chosen_hist: chosenHistogram(r.chosen, h.domains + 1),
          bayes_own: bayes.own,
          bayes_pooled: bayes.pooled,
          bayes_match_frac: bayes.matchFrac,
          own_source_acc: own.reduce((a, b) => a + b, 0) / own.length,
          seconds: m.seconds,
        };
      } finally {
        m.dispose();
      }
    });
  },

  figures(points: P[], v) {
    const ps = points.slice(0, 5);
    const first = ps[0]?.results;
    const methods = {
      kind: "bar" as const,
      title: "target accuracy",
      xLabel: "seed",
      yLabel: "accuracy on the target",
      yDomain: [0.4, 1] as [number, number],
      groups: ps.map((p) => `seed ${p.seed}`),
      series: [
        { name: "pooled head (ERM)", values: ps.map((p) => p.results.pooled_acc) },
        { name: "DRM-select", values: ps.map((p) => p.results.select_acc) },
        { name: "best head (oracle)", values: ps.map((p) => p.results.oracle_acc) },
        { name: "Bayes, pooled", values: ps.map((p) => p.results.bayes_pooled) },
        { name: "Bayes, own domain", values: ps.map((p) => p.results.bayes_own) },
      ],
      width: 420,
    };
    const hist = first
      ? {
          kind: "bar" as const,
          title: `head chosen per test batch (seed ${ps[0].seed}; target = domain ${first.target_domain})`,
          xLabel: "head (boundary angle)",
          yLabel: "test batches",
          groups: [...first.angles.map((a, j) => `${j} (${a}°)`), "pooled"],
          series: [{ name: "chosen", values: first.chosen_hist }],
          width: 420,
        }
      : null;
    return [{ name: "drm-synthetic", title: "DRM on domains with conflicting boundaries: head selection by entropy", subtitle: v.verdict, panels: [methods, ...(hist ? [hist] : [])] }];
  },
});
