/**
 * Hessian measures by Hessian-vector products, never by materialising the Hessian.
 *
 * `hessianOperator` returns v ↦ H v computed reverse-over-forward, H v = ∇_θ ⟨∇L(θ), v⟩ =
 * grad(θ ↦ jvp(L, θ, v)), jitted once per operator and reused for every product. Measured on the W1
 * MLP (4,704 × 194→256→97, jax-js 0.1.25, one thread) per product: grad(jvp) 179 ms (2.5 gradient
 * costs), linearize(grad) once then apply 885 ms, jit(jvp(grad)) 1,270 ms, jit(vjp(grad)) 4,700 ms: the
 * forward-over-reverse forms make jax-js emit transposed, broadcast matmul operands that leave its SIMD
 * path, so genlab uses reverse-over-forward. `topHessianEigenvalue` runs power iteration on it
 * (it converges to the eigenvalue of largest |λ|, which for a trained network's loss is the top,
 * positive one: the sharpness of Cohen et al. 2021 / Keskar et al. 2017), or by default the Lanczos
 * iteration, which needs fewer products for the same accuracy.
 *
 * `mask` (same tree as the parameters, 1 on real entries, 0 on storage padding) restricts the operator
 * to the real coordinates: padded hidden units of an activation with φ'(0) ≠ 0 (tanh, GELU, identity)
 * add Hessian directions that the unpadded network does not have (see mlpPaddingMask in nn/dense.ts).
 */
import { grad, jit, jvp, numpy as np, random, type Array } from "@jax-js/jax";
import { splitKey, type Key } from "../core/prng.ts";
import { treeDispose, treeLeaves, treeMap, treeRef, treeScale, treeVdot, type Tree } from "../core/tree.ts";
import { symEig } from "./symEig.ts";

/** Stable id of the top-eigenvalue measure (STYLE.md). */
export const HESSIAN_TOP_EIG_ID = "hessian_top_eig";

export type HessianOperator<P extends Tree> = {
  /** H v; consumes v. */
  apply(v: P): P;
  dispose(): void;
};

const maskTree = <P extends Tree>(v: P, mask: P | undefined): P => (mask ? treeMap((a: Array, m: Array) => a.mul(m), v, treeRef(mask)) : v);

type Hvp = ((p: Tree, v: Tree) => Tree) & { dispose(): void };

/**
 * The Hessian of `loss` at `params` as a linear operator: v ↦ H v, jit(θ, v ↦ grad(θ ↦ jvp(L, θ, v)))
 * compiled once for the operator's lifetime. `loss` must be jit-safe (no data reads). dispose() releases
 * params and the compiled function (which holds the arrays `loss` closes over). Consumes params (not mask).
 */
export function hessianOperator<P extends Tree>(loss: (p: P) => Array, params: P, mask?: P): HessianOperator<P> {
  const hvp = jit(((p: P, v: P) => grad((pp: P) => (jvp(loss as never, [pp] as never, [v] as never) as unknown as [Array, Array])[1])(p as never)) as never) as unknown as Hvp;
  return {
    apply: (v) => maskTree(hvp(treeRef(params), maskTree(v, mask)) as P, mask),
    dispose: () => {
      hvp.dispose();
      treeDispose(params);
    },
  };
}

export type EigenResult = {
  /** The top eigenvalue estimate: Lanczos's Ritz value of largest |θ|, or power iteration's Rayleigh quotient vᵀHv (unit v). */
  eigenvalue: number;
  /** The estimate after each Hessian-vector product (for convergence plots / checks). */
  history: number[];
  /** Hessian-vector products used. */
  iterations: number;
  method: EigenMethod;
  /**
   * ‖H v − θ v‖ / |θ| for the returned estimate and its unit vector v: Lanczos's bound β_k·|s_k| (exact in
   * exact arithmetic); for power iteration the relative change of the last two estimates.
   */
  residual: number;
};

export type EigenMethod = "lanczos" | "power";

/**
 * Top Hessian eigenvalue (largest |λ|, the sharpness of Cohen et al. 2021 / Keskar et al. 2017) from a
 * random start drawn from `key`, by `method`:
 * - "lanczos" (default): the Lanczos iteration with full reorthogonalisation (classical Gram–Schmidt,
 *   twice, against every basis vector), stopping after `iters` products or when the residual bound
 *   β_k·|s_k| ≤ tol·|θ| (tol defaults to 1e-4). Its Ritz value converges like a Chebyshev polynomial of
 *   the spectrum, so far fewer products reach the accuracy of power iteration (W4 of `npm run bench`:
 *   the same eigenvalue from 8 products instead of 20). Keeps the k basis vectors (k × #params floats).
 * - "power": power iteration; stops after `iters` products or when successive estimates agree to `tol`
 *   (relative; default 0, i.e. exactly `iters` products).
 * Consumes params and key (not mask).
 */
export async function topHessianEigenvalue<P extends Tree>(
  loss: (p: P) => Array,
  params: P,
  opts: { key: Key; iters?: number; tol?: number; mask?: P; method?: EigenMethod },
): Promise<EigenResult> {
  const method = opts.method ?? "lanczos";
  const iters = opts.iters ?? 20;
  if (!Number.isInteger(iters) || iters < 1) throw new Error(`topHessianEigenvalue: iters must be an integer ≥ 1, got ${iters}`);
  const tol = opts.tol ?? 0;
  const leaves = treeLeaves(params);
  const keys = splitKey(opts.key, leaves.length);
  let i = 0;
  let v = maskTree(
    treeMap((x: Array) => {
      const { shape, dtype } = x;
      x.dispose(); // only the shape and dtype are needed
      return random.normal(keys[i++], shape).astype(dtype);
    }, treeRef(params)),
    opts.mask,
  );
  v = treeScale(v, np.reciprocal(np.sqrt(treeVdot(treeRef(v), treeRef(v)))));
  const template = treeMap((x: Array) => x, treeRef(params));
  const H = hessianOperator(loss, params, opts.mask);
  try {
    return method === "lanczos" ? await lanczos(H, v, template, iters, tol) : await power(H, v, iters, tol);
  } finally {
    H.dispose();
    treeDispose(template);
  }
}

async function power<P extends Tree>(H: HessianOperator<P>, v: P, iters: number, tol: number): Promise<EigenResult> {
  const history: number[] = [];
  try {
    for (let it = 0; it < iters; it++) {
      const w = H.apply(treeRef(v));
      const lambda = (await treeVdot(treeRef(v), treeRef(w)).data())[0];
      treeDispose(v);
      history.push(lambda);
      const norm = np.sqrt(treeVdot(treeRef(w), treeRef(w)));
      v = treeScale(w, np.reciprocal(norm));
      const n = history.length;
      if (tol > 0 && n > 1 && Math.abs(history[n - 1] - history[n - 2]) <= tol * Math.abs(history[n - 1])) break;
    }
  } finally {
    treeDispose(v);
  }
  const n = history.length;
  return { eigenvalue: history[n - 1], history, iterations: n, method: "power", residual: n > 1 ? Math.abs(history[n - 1] - history[n - 2]) / Math.abs(history[n - 1]) : Infinity };
}

/** A tree as one flat vector (leaves in order); consumes t. */
function flatten(t: Tree): Array {
  const ls = treeLeaves(t).map((a) => a.reshape([-1]));
  return ls.length === 1 ? ls[0] : np.concatenate(ls);
}

/** The flat vector back in the shapes of `template` (not consumed); consumes v. */
function unflatten<P extends Tree>(v: Array, template: P): P {
  let off = 0;
  const out = treeMap((x: Array) => {
    const shape = x.shape;
    const size = x.size;
    x.dispose();
    const piece = v.ref.slice([off, off + size]).reshape(shape);
    off += size;
    return piece;
  }, treeRef(template));
  v.dispose();
  return out;
}

async function lanczos<P extends Tree>(H: HessianOperator<P>, v0: P, template: P, iters: number, tol: number): Promise<EigenResult> {
  // The basis as a fixed [iters, n] matrix (rows past j are 0), so every product has one shape and jax-js
  // compiles its kernels once per (iters, n), not once per step.
  let q = flatten(v0);
  const n = q.shape[0];
  let Q = np.zeros([iters, n], { dtype: q.dtype });
  const alpha: number[] = [];
  const beta: number[] = [];
  const history: number[] = [];
  let residual = Infinity;
  try {
    for (let j = 0; j < iters; j++) {
      const row = np.arange(iters).equal(j).astype(q.dtype).reshape([iters, 1]);
      Q = Q.add(row.mul(q.ref.reshape([1, n])));
      let w = flatten(H.apply(unflatten(q, template)));
      // w ← w − Qᵀ(Q w), twice (full reorthogonalisation); α_j is row j's coefficient of both passes
      const c1 = np.matmul(Q.ref, w.ref);
      w = w.sub(np.matmul(c1.ref, Q.ref));
      const c2 = np.matmul(Q.ref, w.ref);
      w = w.sub(np.matmul(c2.ref, Q.ref));
      const norm = np.sqrt(np.dot(w.ref, w.ref));
      const [a1, a2, b] = await Promise.all([c1.data(), c2.data(), norm.ref.data()]);
      alpha.push(a1[j] + a2[j]);
      const bj = b[0];
      const { theta, lastComponent } = topRitz(alpha, beta);
      history.push(theta);
      residual = (Math.abs(bj) * Math.abs(lastComponent)) / Math.abs(theta);
      if (!Number.isFinite(bj) || bj === 0 || (tol > 0 && residual <= tol) || j === iters - 1) {
        norm.dispose();
        w.dispose();
        q = np.zeros([0]);
        break;
      }
      beta.push(bj);
      q = w.mul(np.reciprocal(norm));
    }
  } finally {
    treeDispose([q, Q]);
  }
  return { eigenvalue: history[history.length - 1], history, iterations: history.length, method: "lanczos", residual };
}

/**
 * The Ritz value of largest |θ| of the symmetric tridiagonal T (diagonal alpha, off-diagonal beta) and the
 * last component of its unit eigenvector, by cyclic Jacobi rotations in float64 (T is at most a few
 * hundred wide).
 */
export function topRitz(alpha: number[], beta: number[]): { theta: number; lastComponent: number } {
  const k = alpha.length;
  const t = globalThis.Array.from({ length: k }, (_, r) => globalThis.Array.from({ length: k }, (_, c) => (r === c ? alpha[r] : Math.abs(r - c) === 1 ? beta[Math.min(r, c)] : 0)));
  const { values, vectors } = symEig(t);
  let best = 0;
  for (let r = 1; r < k; r++) if (Math.abs(values[r]) > Math.abs(values[best])) best = r;
  return { theta: values[best], lastComponent: vectors[k - 1][best] };
}
