/**
 * Linear centred kernel alignment (Kornblith, Norouzi, Lee, Hinton, ICML 2019), the representational similarity of
 * two layers' activations on the same n examples:
 *
 *   CKA(X, Y) = ‖Y_cᵀ X_c‖_F² / (‖X_cᵀ X_c‖_F · ‖Y_cᵀ Y_c‖_F),   X_c, Y_c column-centred (n × p, n × q).
 *
 * Equivalently ⟨K, L⟩ / (‖K‖ ‖L‖) with the Gram matrices K = X_c X_cᵀ, L = Y_c Y_cᵀ (n × n): the cheaper form is
 * chosen by the sizes (features p·q against n²), so wide convolutional maps flattened to n × (C·H·W) cost O(n²(p + q)).
 * CKA is 1 for X with itself, invariant to orthogonal transforms and isotropic scaling of either argument, and
 * lies in [0, 1]. One implementation serves the measure (`genlab cka`), the guidance loss (1 − CKA, differentiable)
 * and the reproductions. Rows beyond the first axis are flattened.
 */
import { numpy as np } from "@jax-js/jax";
import { linearCka } from "../nn/cka.ts";

export { linearCka };

/** Host linear CKA (float64) of x (n × p) and y (n × q), row-major; for checks and small probes. */
export function linearCkaHost(x: ArrayLike<number>, p: number, y: ArrayLike<number>, q: number, n: number): number {
  const cx = centredHost(x, n, p), cy = centredHost(y, n, q);
  const gram = (a: Float64Array, m: number) => {
    const g = new Float64Array(m * m);
    for (let i = 0; i < n; i++)
      for (let r = 0; r < m; r++) {
        const v = a[i * m + r];
        if (v !== 0) for (let c = 0; c < m; c++) g[r * m + c] += v * a[i * m + c];
      }
    return g;
  };
  let cross = 0;
  for (let r = 0; r < q; r++)
    for (let c = 0; c < p; c++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += cy[i * q + r] * cx[i * p + c];
      cross += s * s;
    }
  const norm = (g: Float64Array) => Math.sqrt(g.reduce((a, v) => a + v * v, 0));
  return cross / (norm(gram(cx, p)) * norm(gram(cy, q)));
}

function centredHost(a: ArrayLike<number>, n: number, m: number): Float64Array {
  const out = Float64Array.from(a as ArrayLike<number>);
  for (let c = 0; c < m; c++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += out[i * m + c];
    s /= n;
    for (let i = 0; i < n; i++) out[i * m + c] -= s;
  }
  return out;
}

/** One representation of n examples on the host: n × width, row-major, named (a layer, a file). */
export type Representation = { name: string; data: Float32Array; width: number };

/**
 * Linear CKA between every row representation and every column representation (all of the same n examples):
 * values[i][j] = CKA(rows[i], cols[j]). Each representation goes to the device once.
 */
export async function ckaMatrix(rows: Representation[], cols: Representation[], n: number): Promise<number[][]> {
  for (const r of [...rows, ...cols]) if (r.data.length !== n * r.width) throw new RangeError(`CKA: representation "${r.name}" has ${r.data.length} values, expected ${n} × ${r.width}`);
  const dev = (r: Representation) => np.array(r.data as Float32Array<ArrayBuffer>, { shape: [n, r.width] });
  const a = rows.map(dev);
  const b = cols === rows ? a : cols.map(dev);
  try {
    const values: number[][] = [];
    for (const x of a) {
      const row: number[] = [];
      for (const y of b) row.push((await linearCka(x.ref, y.ref).data())[0]);
      values.push(row);
    }
    return values;
  } finally {
    for (const x of new Set([...a, ...b])) x.dispose();
  }
}
