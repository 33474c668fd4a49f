/**
 * What can be learnt with wide convolutional networks (Cagnetta, Favero, Wyart 2023): teacher–student learning
 * curves of ridgeless regression with the NTK of an infinitely wide hierarchical CNN (src/theory/convKernels.ts),
 * d = 8 inputs made of 4 unit patches of size 2, student filters (2, 2, 2).
 *
 * Claim: the learning-curve exponent β (ε(P) ~ P^{−β}) adapts to the spatial scale of the target: a local teacher
 * (additive over patches) is learnt fastest, a meta-patch teacher (4-dimensional halves) next, a global teacher
 * slowest: β_local > β_meta > β_global, β_local − β_global ≥ 0.1, and β_local ∈ [0.4, 0.6].
 * Criteria: CHECKS below, declared once (specs-23-45.md §18 PASS, checked in the spec author's numpy port [CHK
 * 0.484 > 0.433 > 0.327]). β is fitted on P ≥ 256. The band for β_local is judged at the full size only
 * (P up to 2,048): at the quick size's P ≤ 1,024 the local curve is still steepening towards its asymptote
 * (β_local 0.648 on calibration seed 100, against 0.584 with P to 2,048).
 * Negative control (hparams): the student's locality removed — a one-layer fully connected NTK on the whole input
 * (x as one patch, scaled to unit norm) — judged by the same checks. It can pass, and did on calibration seed
 * 101: at d = 8 the fully connected NTK also orders the three teachers, so the ordering and gap alone do not
 * single out the hierarchical student (the paper's comparison of exponents across input dimensions is not run).
 * Cost on one core: smoke ~2 s, quick ~80 s with the control (P to 1,024, 512 test points, 3 repetitions),
 * full ~5 min (P to 2,048, 1,024 test points).
 * Run: genlab run wide-cnn-kernels --quick
 */
import { defineExperiment, firstSeed, integer, oneOf, type CheckDecl, type Point } from "../../src/declare/kit.ts";
import { keyFromSeed, splitKey } from "../../src/core/prng.ts";
import { doublingSizes, tailExponent, teacherStudentCurve } from "../../src/theory/convKernels.ts";

export type CurvePointResults = { teacher: string; student: string; Ps: number[]; mse: number[]; beta: number; fitFrom: number };
type P = Point<Record<string, number | string>, CurvePointResults>;

const TEACHERS: Record<string, number[]> = { local: [2], meta: [2, 2], global: [2, 2, 2] };
const betaOf = (points: P[], teacher: string) => {
  const p = points.find((q) => q.results.teacher === teacher);
  if (!p) throw new Error(`the ${teacher} teacher was not run`);
  return p.results.beta;
};

const CHECKS: CheckDecl<P>[] = [
  {
    id: "beta_order",
    role: "claim",
    what: "min(β_local − β_meta, β_meta − β_global): the exponents ordered by the teacher's spatial scale",
    cmp: ">",
    threshold: 0,
    source: "specs-23-45.md §18 PASS [CHK 0.484 > 0.433 > 0.327]",
    value: ({ points }) => Math.min(betaOf(points, "local") - betaOf(points, "meta"), betaOf(points, "meta") - betaOf(points, "global")),
  },
  { id: "beta_gap", role: "claim", what: "β_local − β_global", cmp: ">=", threshold: 0.1, source: "specs-23-45.md §18 PASS [CHK 0.157]", value: ({ points }) => betaOf(points, "local") - betaOf(points, "global") },
  { id: "beta_local_band", role: "claim", what: "β_local (the locality prediction β ≈ 1/s for patches of size s = 2)", cmp: "in", threshold: [0.4, 0.6], source: "specs-23-45.md §18 PASS [CHK 0.484]", sizes: ["full"], value: ({ points }) => betaOf(points, "local") },
];

export const wideCnnKernels = defineExperiment({
  id: "wide-cnn-kernels",
  paper: 40,
  title: "Learning curves of a hierarchical CNN's NTK adapt to the spatial scale of the target",
  claim: () => "Ridgeless regression with the NTK of a wide hierarchical CNN (d = 8, patches of 2, filters (2, 2, 2)) learns a local teacher with a larger exponent than a meta-patch teacher, and that than a global teacher (β_local − β_global ≥ 0.1, β_local ∈ [0.4, 0.6] at the full size).",
  coverage: {
    level: "partial",
    covered: ["the tree-structured convolutional NTK (arc-cosine recursion)", "teacher–student learning curves with Gaussian-field teachers of three spatial scales", "exponent fitting"],
    notCovered: ["the paper's large-d settings (the official defaults need up to 200 GB)", "the kernel spectrum figure", "the paper's exact asymptotic exponent formula (unverified)"],
  },
  deviations: ["the quick size fits P ∈ {256, 512, 1024} with 512 test points (the spec: P to 2,048 and 1,024 test points, the full size)", "P is nested (the first P of one draw of max P points per repetition)"],
  criterionSource: "specs-23-45.md §18 PASS, checked in numpy by the spec's author",
  checks: CHECKS,
  negativeControl: { what: "the student's locality removed: a one-layer fully connected NTK on the whole input (one patch of size 8, unit norm), judged by the same checks; the exponents must stop tracking the teacher's scale", hparams: { student: "global" } },
  seeds: { smoke: 1, quick: 1, full: 1 },
  dataSource: "generated",
  playFields: ["maxP", "test", "reps"],
  hparams: {
    teacher: oneOf(["local", "meta", "global"], "local", "teacher filters: local (2), meta-patch (2, 2), global (2, 2, 2)"),
    student: oneOf(["tree", "global"], "tree", "tree: filters (2, 2, 2); global: a one-layer fully connected NTK (the control)"),
    maxP: integer(2048, "largest training set (P = 64, 128, … up to it)", { min: 64, max: 8192 }),
    test: integer(1024, "test points", { min: 16, max: 8192 }),
    reps: integer(3, "repetitions (fresh inputs and teacher) averaged", { min: 1, max: 100 }),
  },
  sizes: { smoke: { maxP: 128, test: 64, reps: 1 }, quick: { maxP: 1024, test: 512 } },
  cost: { smoke: "~2 s", quick: "~80 s measured, with the control", full: "~5 min" },
  calibration: {
    seeds: [100, 101, 102],
    outcome:
      "quick: PASS on each seed (ordering margin 0.111, 0.111, 0.099; β_local − β_global 0.311, 0.223, 0.249); β_local 0.648 on seed 100 at P ≤ 1,024 (0.584 with P to 2,048), hence the band at full size only. Control (fully connected student): FAIL on seeds 100 (ordering) and 102 (ordering, gap) but PASSES on seed 101 — a one-layer FC NTK also learns the local teacher fastest at d = 8, so these checks do not single out the hierarchical student; reported as measured",
  },
  sweep: () => [{ teacher: ["local", "meta", "global"] }],

  async run(ctx): Promise<CurvePointResults> {
    const h = ctx.hparams;
    const Ps = doublingSizes(h.maxP);
    const student = h.student === "tree" ? { student: [2, 2, 2] } : { student: [8], studentScale: 0.5 };
    const mse = Ps.map(() => 0);
    let key = keyFromSeed(ctx.seed);
    for (let r = 0; r < h.reps; r++) {
      const [next, k] = splitKey(key, 2);
      key = next;
      const e = await teacherStudentCurve({ d: 8, s1: 2, teacher: TEACHERS[h.teacher], ...student, Ps, test: h.test, ridge: 1e-10 }, k);
      e.forEach((v, i) => (mse[i] += v / h.reps));
      ctx.progress(r + 1, h.reps);
    }
    key.dispose();
    const { beta, fitFrom } = tailExponent(Ps, mse);
    for (const [i, P] of Ps.entries()) await ctx.record({ test_mse: mse[i] }, { phase: "curve", axis: "P", x: P });
    return { teacher: h.teacher, student: h.student, Ps, mse, beta, fitFrom };
  },

  figures(all: P[], v) {
    const ps = firstSeed(all);
    return [
      {
        name: "wide-cnn-kernels",
        title: "Teacher–student learning curves of a hierarchical CNN's NTK (student filters 2, 2, 2)",
        subtitle: `β local ${(ps.find((p) => p.results.teacher === "local")?.results.beta ?? NaN).toFixed(3)}, meta ${(ps.find((p) => p.results.teacher === "meta")?.results.beta ?? NaN).toFixed(3)}, global ${(ps.find((p) => p.results.teacher === "global")?.results.beta ?? NaN).toFixed(3)} (fit on P ≥ 256) → ${v.verdict}`,
        panels: [
          {
            kind: "line" as const,
            title: "test MSE against training-set size P",
            xLabel: "P (log)",
            yLabel: "test MSE (log)",
            xLog: true,
            yLog: true,
            series: ps.map((p) => ({ name: `${p.results.teacher} teacher (β = ${p.results.beta.toFixed(2)})`, x: p.results.Ps, y: p.results.mse, dots: true })),
            width: 520,
          },
        ],
      },
    ];
  },
});
