/**
 * Synthetic two-hop knowledge graphs (Wang, Yue, Su, Sun, NeurIPS 2024, "Grokked transformers are
 * implicit reasoners", their composition.ipynb generator, scaled down):
 *
 *   entities e₀…e_{E−1}, relations r₀…r_{R−1}; each head picks `outDegree` distinct relations, each with a
 *   uniformly random tail: the atomic facts (h, r, t). A fraction `oodFraction` of atomic facts are "OOD":
 *   seen only as atomic facts. Every path h −r₁→ b −r₂→ t is an inferred fact (h, r₁, r₂, t): both hops
 *   OOD → OOD test; exactly one OOD → discarded; neither → ID, of which `idTestFraction` go to the ID test
 *   set. Training = all atomic facts + round(φ·|ID atomic|) random ID train inferred facts.
 *
 * Sequences for a causal decoder (vocab: entities, then relations, then PAD): an atomic fact is
 * [h, r, PAD] with its tail predicted at position 1; an inferred fact [h, r₁, r₂] with its tail predicted at
 * position 2 (the loss is on the tail only). x rows are [tok₀, tok₁, tok₂, target position]; y is the tail
 * entity id.
 */
import { permutationFromKey, splitKey, uniformFromKey, type Key } from "../core/prng.ts";
import type { Dataset } from "./dataset.ts";

export type KgSpec = { entities: number; relations: number; outDegree: number; oodFraction: number; idTestFraction: number; phi: number };

export type KgData = {
  /** Atomic facts (ID and OOD) plus the sampled ID inferred facts. */
  train: Dataset;
  /** Probes: ID atomic, OOD atomic, train inferred (a sample), ID test inferred, OOD test inferred. */
  probes: Record<"atomic_id" | "atomic_ood" | "inferred_train" | "inferred_id" | "inferred_ood", Dataset>;
  vocab: number;
  pad: number;
  counts: { atomic: number; atomicId: number; atomicOod: number; inferredIdTrainPool: number; inferredTrain: number; inferredIdTest: number; inferredOod: number; phiActual: number };
};

/** Consumes the key. */
export function twoHopKnowledgeGraph(spec: KgSpec, key: Key): KgData {
  const { entities: E, relations: R, outDegree } = spec;
  if (outDegree > R) {
    key.dispose();
    throw new RangeError(`outDegree (${outDegree}) must not exceed relations (${R})`);
  }
  const [kRel, kTail, kOod, kSplit, kPick] = splitKey(key, 5);
  const relOrder = uniformFromKey(kRel, E * R);
  const tails = uniformFromKey(kTail, E * outDegree);
  // atomic facts: for each head, the outDegree relations with the smallest draws (distinct, uniform)
  const atoms: [number, number, number][] = [];
  const tailOf = new Map<number, number>(); // h·R + r → t
  for (let h = 0; h < E; h++) {
    const rs = Array.from({ length: R }, (_, r) => r).sort((a, b) => relOrder[h * R + a] - relOrder[h * R + b]).slice(0, outDegree).sort((a, b) => a - b);
    rs.forEach((r, j) => {
      const t = Math.min(E - 1, Math.floor(tails[h * outDegree + j] * E));
      atoms.push([h, r, t]);
      tailOf.set(h * R + r, t);
    });
  }
  const oodU = uniformFromKey(kOod, atoms.length);
  const isOod = new Map<number, boolean>();
  atoms.forEach(([h, r], i) => isOod.set(h * R + r, oodU[i] < spec.oodFraction));
  const relsOf = Array.from({ length: E }, () => [] as number[]);
  for (const [h, r] of atoms) relsOf[h].push(r);
  const idPool: [number, number, number, number][] = [];
  const oodInferred: [number, number, number, number][] = [];
  for (const [h, r1, b] of atoms)
    for (const r2 of relsOf[b]) {
      const t = tailOf.get(b * R + r2)!;
      const o1 = isOod.get(h * R + r1)!, o2 = isOod.get(b * R + r2)!;
      if (o1 && o2) oodInferred.push([h, r1, r2, t]);
      else if (!o1 && !o2) idPool.push([h, r1, r2, t]);
    }
  const splitU = uniformFromKey(kSplit, idPool.length);
  const idTest = idPool.filter((_, i) => splitU[i] < spec.idTestFraction);
  const idTrainPool = idPool.filter((_, i) => splitU[i] >= spec.idTestFraction);
  const atomicId = atoms.filter(([h, r]) => !isOod.get(h * R + r));
  const atomicOod = atoms.filter(([h, r]) => isOod.get(h * R + r));
  const nInferred = Math.min(idTrainPool.length, Math.round(spec.phi * atomicId.length));
  const pick = permutationFromKey(kPick, Math.max(1, idTrainPool.length)).slice(0, nInferred);
  const inferredTrain = Array.from(pick, (i) => idTrainPool[i]);
  const pad = E + R;
  const rel = (r: number) => E + r;
  const encode = (facts: { toks: [number, number, number]; pos: number; t: number }[]): Dataset => {
    const n = facts.length;
    const x = new Int32Array(n * 4);
    const y = new Int32Array(n);
    facts.forEach((f, i) => {
      x.set([...f.toks, f.pos], i * 4);
      y[i] = f.t;
    });
    return { x, xShape: [n, 4], y, numClasses: E };
  };
  const atomRow = ([h, r, t]: [number, number, number]) => ({ toks: [h, rel(r), pad] as [number, number, number], pos: 1, t });
  const infRow = ([h, r1, r2, t]: [number, number, number, number]) => ({ toks: [h, rel(r1), rel(r2)] as [number, number, number], pos: 2, t });
  return {
    train: encode([...atoms.map(atomRow), ...inferredTrain.map(infRow)]),
    probes: {
      atomic_id: encode(atomicId.map(atomRow)),
      atomic_ood: encode(atomicOod.map(atomRow)),
      inferred_train: encode(inferredTrain.slice(0, 2000).map(infRow)),
      inferred_id: encode(idTest.map(infRow)),
      inferred_ood: encode(oodInferred.map(infRow)),
    },
    vocab: E + R + 1,
    pad,
    counts: { atomic: atoms.length, atomicId: atomicId.length, atomicOod: atomicOod.length, inferredIdTrainPool: idTrainPool.length, inferredTrain: nInferred, inferredIdTest: idTest.length, inferredOod: oodInferred.length, phiActual: nInferred / Math.max(1, atomicId.length) },
  };
}
