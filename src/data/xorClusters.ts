/**
 * XOR-cluster data (Xu, Wang, Frei, Vardi, Hu, ICLR 2024): two orthogonal means μ₁ ⟂ μ₂ of equal norm,
 * x = μ + ξ with μ uniform over {±μ₁, ±μ₂} and ξ ~ N(0, I_d); the clean label is 1 for ±μ₁ and 0 for ±μ₂
 * (the paper's +1 / −1). No linear classifier beats chance on it. A fraction of the training labels is
 * flipped and the flipped rows are returned; test labels are clean. Means are μ₁ = ‖μ‖e₁, μ₂ = ‖μ‖e₂
 * (the noise is isotropic, so any orthogonal pair gives the same distribution up to rotation).
 */
import { random } from "@jax-js/jax";
import { permutationFromKey, splitKey, uniformFromKey, type Key } from "../core/prng.ts";
import type { Dataset } from "./dataset.ts";

export type XorClusterSpec = {
  n: number;
  nTest: number;
  d: number;
  /** ‖μ‖² (the signal strength). */
  muNormSq: number;
  /** Fraction of training labels flipped: exactly ⌊flip·n⌋ rows, chosen uniformly. */
  flip: number;
};

export type XorClusterData = {
  train: Dataset;
  test: Dataset;
  /** Rows of train whose label was flipped (sorted). */
  flipped: Int32Array;
  /** Cluster of each train row: 0 +μ₁, 1 −μ₁, 2 +μ₂, 3 −μ₂. */
  trainCluster: Int32Array;
  /** The two means as host vectors (length d). */
  mu1: Float32Array;
  mu2: Float32Array;
};

function draw(n: number, spec: XorClusterSpec, key: Key): { x: Float32Array; y: Float32Array; cluster: Int32Array } {
  const [kc, kn] = splitKey(key, 2);
  const u = uniformFromKey(kc, n);
  const noise = random.normal(kn, [n, spec.d]);
  const x = Float32Array.from(noise.dataSync() as ArrayLike<number>);
  const m = Math.sqrt(spec.muNormSq);
  const cluster = new Int32Array(n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const c = Math.min(3, Math.floor(u[i] * 4));
    cluster[i] = c;
    const axis = c < 2 ? 0 : 1;
    x[i * spec.d + axis] += c % 2 === 0 ? m : -m;
    y[i] = c < 2 ? 1 : 0;
  }
  return { x, y, cluster };
}

/** Consumes the key. */
export function xorClusterData(spec: XorClusterSpec, key: Key): XorClusterData {
  if (spec.d < 2) throw new RangeError(`xorClusterData: d must be ≥ 2, got ${spec.d}`);
  if (!(spec.flip >= 0 && spec.flip < 1)) throw new RangeError(`xorClusterData: flip must be in [0, 1), got ${spec.flip}`);
  const [kTrain, kTest, kFlip] = splitKey(key, 3);
  const tr = draw(spec.n, spec, kTrain);
  const te = draw(spec.nTest, spec, kTest);
  const flipped = permutationFromKey(kFlip, spec.n).slice(0, Math.floor(spec.flip * spec.n)).sort();
  for (const i of flipped) tr.y[i] = 1 - tr.y[i];
  const mu = (axis: number) => {
    const v = new Float32Array(spec.d);
    v[axis] = Math.sqrt(spec.muNormSq);
    return v;
  };
  return {
    train: { x: tr.x, xShape: [spec.n, spec.d], y: tr.y, numClasses: 0 },
    test: { x: te.x, xShape: [spec.nTest, spec.d], y: te.y, numClasses: 0 },
    flipped,
    trainCluster: tr.cluster,
    mu1: mu(0),
    mu2: mu(1),
  };
}
