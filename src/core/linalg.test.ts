import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { random } from "@jax-js/jax";
import { keyFromSeed } from "./prng.ts";
import { gram64, lstsq, matmul64, qr, svd, symEig, transpose64 } from "./linalg.ts";

/** A seeded standard-normal matrix (float32 draws widened to float64). */
async function normal(seed: number, m: number, n: number): Promise<Float64Array> {
  return Float64Array.from((await random.normal(keyFromSeed(seed), [m, n]).data()) as Float32Array);
}

const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((s, x) => Math.max(s, Math.abs(x)), 0);
const sub = (a: Float64Array, b: Float64Array) => a.map((x, i) => x - b[i]);

/** ‖QᵀQ − I‖_max for Q (m × k). */
function orthError(Q: Float64Array, m: number, k: number): number {
  const g = matmul64(transpose64(Q, m, k), Q, k, m, k);
  for (let i = 0; i < k; i++) g[i * k + i] -= 1;
  return maxAbs(g);
}

/** U diag(s) Vᵀ. */
function recompose(u: Float64Array, s: ArrayLike<number>, v: Float64Array, m: number, n: number, k: number): Float64Array {
  const us = Float64Array.from(u, (x, idx) => x * s[idx % k]);
  return matmul64(us, transpose64(v, n, k), m, k, n);
}

describe("symEig (Householder tridiagonalisation + implicit QL)", () => {
  it("known spectra: 2×2, diagonal, identity (repeated), zero, the 1-D Laplacian, sizes 0 and 1", () => {
    const two = symEig(Float64Array.from([2, 1, 1, 2]), 2);
    assert.deepEqual(Array.from(two.values, (x) => +x.toFixed(14)), [1, 3]);
    assert.ok(Math.abs(Math.abs(two.vectors[0]) - Math.SQRT1_2) < 1e-15, "2×2 eigenvector (1, −1)/√2 (atol 1e-15)");
    assert.deepEqual(Array.from(symEig(Float64Array.from([3, 0, 0, 0, -1, 0, 0, 0, 2]), 3).values), [-1, 2, 3]);
    const eye = symEig(Float64Array.from({ length: 25 }, (_, i) => (i % 6 === 0 ? 1 : 0)), 5);
    assert.ok(maxAbs(eye.values.map((x) => x - 1)) === 0 && orthError(eye.vectors, 5, 5) < 1e-15, "identity: every eigenvalue 1, V orthogonal (atol 1e-15)");
    assert.deepEqual(Array.from(symEig(new Float64Array(9), 3).values), [0, 0, 0]);
    assert.equal(symEig(new Float64Array(0), 0).values.length, 0);
    assert.deepEqual(Array.from(symEig(Float64Array.from([-4]), 1).values), [-4]);
    // tridiag(−1, 2, −1), n = 30: λ_k = 2 − 2 cos(kπ/31) (closed form)
    const n = 30;
    const L = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      L[i * n + i] = 2;
      if (i + 1 < n) L[i * n + i + 1] = L[(i + 1) * n + i] = -1;
    }
    const want = Array.from({ length: n }, (_, k) => 2 - 2 * Math.cos(((k + 1) * Math.PI) / (n + 1)));
    assert.ok(maxAbs(symEig(L, n).values.map((x, i) => x - want[i])) < 1e-13, "Laplacian eigenvalues against the closed form (atol 1e-13)");
  });

  it("random symmetric matrices: A = VΛVᵀ, V orthogonal, values ascending (n = 3, 17, 120)", async () => {
    for (const [seed, n] of [[1, 3], [2, 17], [3, 120]]) {
      const g = await normal(seed, n, n);
      const A = g.map((_, idx) => (g[idx] + g[(idx % n) * n + Math.floor(idx / n)]) / 2);
      const { values, vectors } = symEig(A, n);
      for (let i = 1; i < n; i++) assert.ok(values[i] >= values[i - 1], `n = ${n}: values ascending`);
      assert.ok(orthError(vectors, n, n) < 1e-13 * n, `n = ${n}: VᵀV = I (atol 1e-13·n)`);
      const err = maxAbs(sub(recompose(vectors, values, vectors, n, n, n), A));
      assert.ok(err < 1e-13 * n * maxAbs(A), `n = ${n}: ‖VΛVᵀ − A‖_max = ${err} (rtol 1e-13·n)`);
    }
  });

  it("a rank-deficient Gram matrix keeps its zero eigenvalues at rounding level and its others exact", async () => {
    const X = await normal(4, 5, 40); // rank 5 in 40 dimensions: XᵀX has 35 zero eigenvalues
    const G = gram64(transpose64(X, 5, 40), 40, 5);
    const { values } = symEig(G, 40);
    assert.ok(maxAbs(values.slice(0, 35)) < 1e-12 * values[39], "35 zero eigenvalues (rtol 1e-12 of the largest)");
    const small = symEig(gram64(X, 5, 40), 5).values; // the same nonzero eigenvalues from the 5×5 side
    assert.ok(maxAbs(small.map((x, i) => x - values[35 + i])) < 1e-12 * values[39], "nonzero eigenvalues equal the small Gram's (rtol 1e-12)");
  });

  it("a size mismatch is an error that names the routine", () => {
    assert.throws(() => symEig(new Float64Array(5), 2), /symEig: expected 4 entries, got 5/);
  });
});

describe("svd (one-sided Jacobi)", () => {
  it("tall, wide, square, a row and rank-deficient matrices: U diag(s) Vᵀ = A with orthonormal U, V", async () => {
    const outer = Float64Array.from({ length: 12 }, (_, idx) => (1 + Math.floor(idx / 3)) * (idx % 3 === 1 ? 2 : 1)); // rank 1, 4 × 3
    const cases: [Float64Array, number, number][] = [[await normal(5, 7, 3), 7, 3], [await normal(6, 3, 8), 3, 8], [await normal(7, 6, 6), 6, 6], [await normal(8, 1, 4), 1, 4], [outer, 4, 3]];
    for (const [A, m, n] of cases) {
      const { u, s, v, k } = svd(A, m, n);
      assert.equal(k, Math.min(m, n));
      for (let i = 1; i < k; i++) assert.ok(s[i] <= s[i - 1] && s[i] >= 0, `${m}×${n}: s descending and ≥ 0`);
      assert.ok(orthError(u, m, k) < 1e-13, `${m}×${n}: UᵀU = I (atol 1e-13)`);
      assert.ok(orthError(v, n, k) < 1e-13, `${m}×${n}: VᵀV = I (atol 1e-13)`);
      assert.ok(maxAbs(sub(recompose(u, s, v, m, n, k), A)) < 1e-13 * Math.max(1, maxAbs(A)), `${m}×${n}: U diag(s) Vᵀ = A (rtol 1e-13)`);
    }
    // a matrix whose columns are all parallel and whose other rows are zero (a numerically zero column appears
    // after the first rotation): converges, rank 1
    const flat = svd(Float64Array.from([1, 2, 3, 0, 0, 0, 0, 0, 0]), 3, 3);
    assert.ok(Math.abs(flat.s[0] - Math.sqrt(14)) < 1e-14 && flat.s[1] < 1e-15, `rank-1 with zero rows: s = ${Array.from(flat.s)}`);
    const r1 = svd(outer, 4, 3).s;
    assert.ok(r1[1] < 1e-14 * r1[0] && r1[2] < 1e-14 * r1[0], "rank 1: two zero singular values (rtol 1e-14)");
    assert.ok(Math.abs(r1[0] - Math.sqrt(30) * Math.sqrt(6)) < 1e-13, "rank 1: s₀ = ‖a‖‖b‖ = √30·√6 (atol 1e-13)");
  });

  it("singular values are the square roots of AᵀA's eigenvalues; small ones stay accurate (Hilbert 6×6)", async () => {
    const A = await normal(9, 9, 5);
    const s = svd(A, 9, 5).s;
    const ev = symEig(gram64(transpose64(A, 9, 5), 5, 9), 5).values;
    assert.ok(maxAbs(Array.from(s, (x, i) => x - Math.sqrt(ev[4 - i]))) < 1e-12, "s² = eig(AᵀA) (atol 1e-12)");
    // Hilbert matrix H_ij = 1/(i+j+1), n = 6: smallest singular value 1.0827994845e-7 (its smallest eigenvalue,
    // H being SPD; the published value, e.g. Todd 1961 / numpy.linalg.svd(scipy.linalg.hilbert(6)))
    const n = 6;
    const H = Float64Array.from({ length: n * n }, (_, idx) => 1 / (Math.floor(idx / n) + (idx % n) + 1));
    const hs = svd(H, n, n).s;
    assert.ok(Math.abs(hs[5] / 1.0827994845e-7 - 1) < 1e-6, `Hilbert(6) smallest singular value ${hs[5]} (rtol 1e-6, the reference's 11 digits)`);
    assert.ok(Math.abs(hs[0] / 1.6188998589 - 1) < 1e-9, `Hilbert(6) largest singular value ${hs[0]} (rtol 1e-9)`);
  });
});

describe("qr and lstsq", () => {
  it("QR: Q orthonormal, R upper triangular, QR = A", async () => {
    const A = await normal(10, 8, 4);
    const { q, r } = qr(A, 8, 4);
    assert.ok(orthError(q, 8, 4) < 1e-14, "QᵀQ = I (atol 1e-14)");
    for (let i = 0; i < 4; i++) for (let j = 0; j < i; j++) assert.equal(r[i * 4 + j], 0, "R upper triangular");
    assert.ok(maxAbs(sub(matmul64(q, r, 8, 4, 4), A)) < 1e-14 * maxAbs(A), "QR = A (rtol 1e-14)");
    assert.throws(() => qr(new Float64Array(6), 2, 3), /qr: expected m ≥ n/);
  });

  it("lstsq: exact fits, the normal equations, and the minimum-norm solution of rank-deficient and wide systems", async () => {
    const A = await normal(11, 10, 3);
    const x0 = [1.5, -2, 0.25];
    const b = Array.from({ length: 10 }, (_, i) => x0.reduce((s, x, j) => s + A[i * 3 + j] * x, 0));
    const fit = lstsq(A, b, 10, 3);
    assert.ok(maxAbs(fit.x.map((x, j) => x - x0[j])) < 1e-13 && fit.rank === 3 && fit.residual < 1e-25, "consistent system recovered (atol 1e-13)");
    const noisy = b.map((x, i) => x + (i % 2 ? 0.1 : -0.1));
    const ls = lstsq(A, noisy, 10, 3).x;
    const resid = noisy.map((y, i) => y - (A[i * 3] * ls[0] + A[i * 3 + 1] * ls[1] + A[i * 3 + 2] * ls[2]));
    const normal_ = [0, 1, 2].map((j) => resid.reduce((s, r, i) => s + r * A[i * 3 + j], 0));
    assert.ok(maxAbs(normal_) < 1e-13, "residual orthogonal to the columns (Aᵀr = 0, atol 1e-13)");
    const rd = lstsq(Float64Array.from([1, 1, 1, 1]), [2, 2], 2, 2);
    assert.ok(rd.rank === 1 && maxAbs(rd.x.map((x) => x - 1)) < 1e-15, "[[1,1],[1,1]] x = [2,2]: minimum norm x = (1, 1) (atol 1e-15)");
    const wide = lstsq(Float64Array.from([1, 2, 2]), [3], 1, 3);
    assert.ok(maxAbs(wide.x.map((x, j) => x - [1, 2, 2][j] / 3)) < 1e-15, "one equation x + 2y + 2z = 3: minimum norm (1, 2, 2)/3 (atol 1e-15)");
  });
});
