/**
 * Linear centred kernel alignment (Kornblith, Norouzi, Lee, Hinton, ICML 2019) on device arrays, differentiable:
 * the one implementation behind the measure (measures/cka.ts, `genlab cka`) and the guidance loss
 * (train/guidance.ts). See measures/cka.ts for the definition and its properties.
 */
import { numpy as np, type Array } from "@jax-js/jax";

const flat = (a: Array): Array => (a.shape.length === 2 ? a : a.reshape([a.shape[0], -1]));
const centre = (a: Array): Array => a.ref.sub(a.mean(0, { keepdims: true }));
const fro = (a: Array): Array => np.sqrt(np.square(a).sum());

/**
 * Linear CKA of x [n, …] and y [n, …] (same n ≥ 2), a scalar array; differentiable in both. Consumes x and y.
 * A representation that is constant over the examples has no centred variance: its CKA is NaN (0/0), never a
 * silent number.
 */
export function linearCka(x: Array, y: Array): Array {
  const n = x.shape[0];
  if (y.shape[0] !== n || n < 2) {
    const [nx, ny] = [x.shape[0], y.shape[0]];
    x.dispose();
    y.dispose();
    throw new RangeError(`linear CKA: both representations need the same number of examples ≥ 2, got ${nx} and ${ny}`);
  }
  const xc = centre(flat(x));
  const yc = centre(flat(y));
  const [p, q] = [xc.shape[1], yc.shape[1]];
  if (p * q <= n * n) {
    const cross = np.square(np.matmul(yc.ref.transpose(), xc.ref)).sum();
    const xx = fro(np.matmul(xc.ref.transpose(), xc));
    const yy = fro(np.matmul(yc.ref.transpose(), yc));
    return cross.div(xx.mul(yy));
  }
  const K = np.matmul(xc.ref, xc.transpose());
  const L = np.matmul(yc.ref, yc.transpose());
  const cross = K.ref.mul(L.ref).sum();
  return cross.div(fro(K).mul(fro(L)));
}
