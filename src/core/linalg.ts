/**
 * Dense float64 linear algebra on the host, written once for every theory calculator and simulation that needs
 * what jax-js lacks or needs it in double precision: the symmetric eigendecomposition (Householder
 * tridiagonalisation, then implicit QL with Wilkinson shifts), the thin SVD of any m × n matrix (one-sided
 * Jacobi, accurate to the last bits of small singular values), Householder QR, minimum-norm least squares,
 * Cholesky solves, Gram matrices and products.
 *
 * Matrices are row-major `Float64Array`s with their sizes passed beside them (numpy's layout and conventions:
 * `vectors[i * n + j]` is component i of eigenvector j). Every routine copies its inputs, never writes them, and
 * throws a `RangeError` naming the routine when a size does not match or an iteration does not converge — it
 * never returns a silently wrong decomposition.
 */

const check = (what: string, a: ArrayLike<number>, len: number) => {
  if (a.length !== len) throw new RangeError(`${what}: expected ${len} entries, got ${a.length}`);
};

/** C = A B for A (m × k) and B (k × n), row-major. */
export function matmul64(A: Float64Array, B: Float64Array, m: number, k: number, n: number): Float64Array {
  check("matmul64 A", A, m * k);
  check("matmul64 B", B, k * n);
  const C = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    for (let t = 0; t < k; t++) {
      const a = A[i * k + t];
      if (a === 0) continue;
      const bt = t * n;
      for (let j = 0; j < n; j++) C[ci + j] += a * B[bt + j];
    }
  }
  return C;
}

/** Aᵀ for A (p × q). */
export function transpose64(A: Float64Array, p: number, q: number): Float64Array {
  check("transpose64", A, p * q);
  const out = new Float64Array(p * q);
  for (let i = 0; i < p; i++) for (let j = 0; j < q; j++) out[j * p + i] = A[i * q + j];
  return out;
}

/** A Aᵀ for A (p × d): each dot product once, four accumulators. */
export function gram64(A: Float64Array, p: number, d: number): Float64Array {
  check("gram64", A, p * d);
  const out = new Float64Array(p * p);
  const d4 = d - (d % 4);
  for (let i = 0; i < p; i++)
    for (let j = 0; j <= i; j++) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      const ai = i * d;
      const bj = j * d;
      let t = 0;
      for (; t < d4; t += 4) {
        s0 += A[ai + t] * A[bj + t];
        s1 += A[ai + t + 1] * A[bj + t + 1];
        s2 += A[ai + t + 2] * A[bj + t + 2];
        s3 += A[ai + t + 3] * A[bj + t + 3];
      }
      for (; t < d; t++) s0 += A[ai + t] * A[bj + t];
      out[i * p + j] = out[j * p + i] = s0 + s1 + s2 + s3;
    }
  return out;
}

/**
 * Solve (A + δI) X = B for symmetric positive definite A (m × m) and B (m × r) by Cholesky. Returns null when
 * A + δI is not positive definite in float64 (a pivot ≤ 0), so a caller reports it instead of a number.
 */
export function choleskySolve(A: Float64Array, m: number, ridge: number, B: Float64Array, r: number): Float64Array | null {
  check("choleskySolve A", A, m * m);
  check("choleskySolve B", B, m * r);
  const L = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * m + j] + (i === j ? ridge : 0);
      for (let t = 0; t < j; t++) s -= L[i * m + t] * L[j * m + t];
      if (i === j) {
        if (!(s > 0)) return null;
        L[i * m + i] = Math.sqrt(s);
      } else L[i * m + j] = s / L[j * m + j];
    }
  }
  const X = Float64Array.from(B);
  for (let c = 0; c < r; c++) {
    for (let i = 0; i < m; i++) {
      let s = X[i * r + c];
      for (let t = 0; t < i; t++) s -= L[i * m + t] * X[t * r + c];
      X[i * r + c] = s / L[i * m + i];
    }
    for (let i = m - 1; i >= 0; i--) {
      let s = X[i * r + c];
      for (let t = i + 1; t < m; t++) s -= L[t * m + i] * X[t * r + c];
      X[i * r + c] = s / L[i * m + i];
    }
  }
  return X;
}

/**
 * The lower Cholesky factor L of A + δI (n × n, symmetric positive definite): A + δI = L Lᵀ, row-major, upper
 * triangle 0. Returns null when a pivot is ≤ 0 in float64.
 */
export function cholesky(A: Float64Array, n: number, ridge = 0): Float64Array | null {
  check("cholesky", A, n * n);
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const li = i * n;
    for (let j = 0; j <= i; j++) {
      const lj = j * n;
      let s = A[li + j] + (i === j ? ridge : 0);
      for (let t = 0; t < j; t++) s -= L[li + t] * L[lj + t];
      if (i === j) {
        if (!(s > 0)) return null;
        L[li + i] = Math.sqrt(s);
      } else L[li + j] = s / L[lj + j];
    }
  }
  return L;
}

export type SymEig = { values: Float64Array; vectors: Float64Array };

/**
 * Eigendecomposition of a symmetric n × n matrix: A = V diag(values) Vᵀ with values ascending and V orthogonal
 * (column j is the eigenvector of values[j]). Only the lower triangle is read. O(n³): Householder reduction to
 * tridiagonal form with the transforms accumulated, then implicit QL iterations with Wilkinson shifts, the
 * rotations applied to the accumulated basis. Throws if an eigenvalue needs more than 64 iterations.
 */
export function symEig(A: Float64Array, n: number): SymEig {
  check("symEig", A, n * n);
  // a: working copy (lower triangle made symmetric); qt: rows are the columns of the accumulated Q.
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = A[i * n + j];
  const qt = new Float64Array(n * n);
  for (let i = 0; i < n; i++) qt[i * n + i] = 1;
  const v = new Float64Array(n);
  const p = new Float64Array(n);
  const w = new Float64Array(n);
  for (let k = 0; k + 2 < n; k++) {
    // Householder vector v on indices k+1..n−1 mapping a[k+1.., k] to ∓‖·‖ e₁.
    let norm2 = 0;
    for (let i = k + 1; i < n; i++) norm2 += a[i * n + k] ** 2;
    const x0 = a[(k + 1) * n + k];
    const norm = Math.sqrt(norm2);
    if (norm === 0 || norm2 === x0 * x0) continue; // already tridiagonal in this column
    const alpha = x0 > 0 ? -norm : norm;
    for (let i = k + 1; i < n; i++) v[i] = a[i * n + k];
    v[k + 1] -= alpha;
    let vv = 0;
    for (let i = k + 1; i < n; i++) vv += v[i] * v[i];
    const beta = 2 / vv;
    // p = β A₂₂ v, q = p − (β pᵀv / 2) v, A₂₂ ← A₂₂ − v qᵀ − q vᵀ (H A₂₂ H with H = I − β v vᵀ).
    let pv = 0;
    for (let i = k + 1; i < n; i++) {
      let s = 0;
      const ai = i * n;
      for (let j = k + 1; j < n; j++) s += a[ai + j] * v[j];
      p[i] = beta * s;
      pv += p[i] * v[i];
    }
    const K = (beta * pv) / 2;
    for (let i = k + 1; i < n; i++) p[i] -= K * v[i];
    for (let i = k + 1; i < n; i++) {
      // both triangles, row by row (contiguous; the same values as updating one and mirroring it)
      const ai = i * n;
      const vi = v[i];
      const pi = p[i];
      for (let j = k + 1; j < n; j++) a[ai + j] -= vi * p[j] + pi * v[j];
    }
    a[(k + 1) * n + k] = a[k * n + k + 1] = alpha;
    for (let i = k + 2; i < n; i++) a[i * n + k] = a[k * n + i] = 0;
    // Q ← Q H: in the transposed storage, rows k+1.. of qt get −β v_j (vᵀ qt[k+1.., :]).
    w.fill(0);
    for (let j = k + 1; j < n; j++) {
      const vj = v[j];
      if (vj === 0) continue;
      const qj = j * n;
      for (let c = 0; c < n; c++) w[c] += vj * qt[qj + c];
    }
    for (let j = k + 1; j < n; j++) {
      const f = beta * v[j];
      if (f === 0) continue;
      const qj = j * n;
      for (let c = 0; c < n; c++) qt[qj + c] -= f * w[c];
    }
  }
  const d = new Float64Array(n);
  const e = new Float64Array(n); // e[i] couples d[i] and d[i+1]
  for (let i = 0; i < n; i++) d[i] = a[i * n + i];
  for (let i = 0; i + 1 < n; i++) e[i] = a[(i + 1) * n + i];
  tridiagonalQl(d, e, qt, n);
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => d[x] - d[y]);
  const values = Float64Array.from(order, (i) => d[i]);
  const vectors = new Float64Array(n * n);
  order.forEach((src, j) => {
    for (let i = 0; i < n; i++) vectors[i * n + j] = qt[src * n + i];
  });
  return { values, vectors };
}

/**
 * Implicit QL with Wilkinson shifts on the symmetric tridiagonal (d, e), in place; the plane rotations are
 * applied to rows of zt (the transposed eigenvector basis), so on return row i of zt is the eigenvector of d[i].
 */
function tridiagonalQl(d: Float64Array, e: Float64Array, zt: Float64Array, n: number): void {
  for (let l = 0; l < n; l++) {
    for (let iter = 0; ; iter++) {
      let m = l;
      for (; m + 1 < n; m++) {
        const dd = Math.abs(d[m]) + Math.abs(d[m + 1]);
        if (Math.abs(e[m]) <= Number.EPSILON * dd) break;
      }
      if (m === l) break;
      if (iter >= 64) throw new RangeError(`symEig: eigenvalue ${l} of ${n} did not converge in 64 QL iterations (off-diagonal ${e[l].toExponential(3)})`);
      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = Math.hypot(g, 1);
      g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let pp = 0;
      let i = m - 1;
      let deflated = false;
      for (; i >= l; i--) {
        const f = s * e[i];
        const b = c * e[i];
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          d[i + 1] -= pp;
          e[m] = 0;
          deflated = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - pp;
        r = (d[i] - g) * s + 2 * c * b;
        pp = s * r;
        d[i + 1] = g + pp;
        g = c * r - b;
        const zi = i * n;
        const zj = (i + 1) * n;
        for (let k = 0; k < n; k++) {
          const fz = zt[zj + k];
          zt[zj + k] = s * zt[zi + k] + c * fz;
          zt[zi + k] = c * zt[zi + k] - s * fz;
        }
      }
      if (deflated) continue;
      d[l] -= pp;
      e[l] = g;
      e[m] = 0;
    }
  }
}

/** The plane rotation (x, y) ← (c·x − s·y, s·x + c·y) of the `len` entries at offsets p and q of a. */
function rotatePair(a: Float64Array, p: number, q: number, len: number, c: number, s: number): void {
  for (let i = 0; i < len; i++) {
    const x = a[p + i];
    const y = a[q + i];
    a[p + i] = c * x - s * y;
    a[q + i] = s * x + c * y;
  }
}

export type Svd = { u: Float64Array; s: Float64Array; v: Float64Array; k: number };

/**
 * Thin SVD of A (m × n): A = U diag(s) Vᵀ with k = min(m, n), U m × k and V n × k with orthonormal columns and
 * s descending (≥ 0). One-sided Jacobi (Hestenes) on the columns of the taller orientation: rotations until
 * every pair of columns is orthogonal to within 1e-15 of their norms, which keeps small singular values
 * accurate to their own size. A column of U whose singular value is 0 is completed to an orthonormal set.
 * Throws after 80 sweeps without convergence.
 */
export function svd(A: Float64Array, m: number, n: number): Svd {
  check("svd", A, m * n);
  if (m < n) {
    const t = svd(transpose64(A, m, n), n, m);
    return { u: t.v, s: t.s, v: t.u, k: t.k };
  }
  // Columns of A (m ≥ n) stored contiguously: col j at j·m.
  const W = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) W[j * m + i] = A[i * n + j];
  const V = new Float64Array(n * n); // column j at j·n
  for (let j = 0; j < n; j++) V[j * n + j] = 1;
  const tol = 1e-15;
  // A column whose norm is at rounding level of the whole matrix counts as zero: orthogonality relative to its
  // own norm cannot be reached there (rank-deficient inputs would rotate forever).
  const tiny = (Number.EPSILON * Number.EPSILON * W.reduce((acc, x) => acc + x * x, 0)) || Number.MIN_VALUE;
  let converged = n < 2;
  for (let sweep = 0; sweep < 80 && !converged; sweep++) {
    converged = true;
    for (let p = 0; p < n - 1; p++)
      for (let q = p + 1; q < n; q++) {
        let alpha = 0, beta = 0, gamma = 0;
        const cp = p * m;
        const cq = q * m;
        for (let i = 0; i < m; i++) {
          const x = W[cp + i];
          const y = W[cq + i];
          alpha += x * x;
          beta += y * y;
          gamma += x * y;
        }
        if (gamma === 0 || alpha <= tiny || beta <= tiny || Math.abs(gamma) <= tol * Math.sqrt(alpha * beta)) continue;
        converged = false;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        rotatePair(W, cp, cq, m, c, s);
        rotatePair(V, p * n, q * n, n, c, s);
      }
  }
  if (!converged) throw new RangeError(`svd: one-sided Jacobi did not converge in 80 sweeps (${m} × ${n})`);
  const norms = Array.from({ length: n }, (_, j) => {
    let s = 0;
    for (let i = 0; i < m; i++) s += W[j * m + i] ** 2;
    return Math.sqrt(s);
  });
  const order = Array.from({ length: n }, (_, j) => j).sort((x, y) => norms[y] - norms[x]);
  const k = n;
  const s = Float64Array.from(order, (j) => norms[j]);
  const u = new Float64Array(m * k);
  const v = new Float64Array(n * k);
  const scale = s[0] ?? 0;
  const zero: number[] = [];
  order.forEach((src, c) => {
    for (let i = 0; i < n; i++) v[i * k + c] = V[src * n + i];
    if (s[c] > scale * 1e-300 && s[c] > 0) for (let i = 0; i < m; i++) u[i * k + c] = W[src * m + i] / s[c];
    else zero.push(c);
  });
  // Complete U's columns for zero singular values: Gram–Schmidt (twice) of unit vectors against the others.
  for (const c of zero) {
    for (let unit = 0; unit < m; unit++) {
      const col = new Float64Array(m);
      col[unit] = 1;
      for (let pass = 0; pass < 2; pass++)
        for (let o = 0; o < k; o++) {
          if (o === c) continue; // columns not yet completed are zero and drop out
          let dot = 0;
          for (let i = 0; i < m; i++) dot += u[i * k + o] * col[i];
          for (let i = 0; i < m; i++) col[i] -= dot * u[i * k + o];
        }
      const nrm = Math.hypot(...col);
      if (nrm > 0.5) {
        for (let i = 0; i < m; i++) u[i * k + c] = col[i] / nrm;
        break;
      }
    }
  }
  return { u, s, v, k };
}

/**
 * Thin Householder QR of A (m × n, m ≥ n): A = Q R with Q m × n orthonormal columns and R n × n upper
 * triangular (its diagonal may be negative, as LAPACK's).
 */
export function qr(A: Float64Array, m: number, n: number): { q: Float64Array; r: Float64Array } {
  check("qr", A, m * n);
  if (m < n) throw new RangeError(`qr: expected m ≥ n, got ${m} × ${n}`);
  const a = Float64Array.from(A);
  const vs: Float64Array[] = [];
  const betas: number[] = [];
  for (let k = 0; k < n; k++) {
    const v = new Float64Array(m);
    let norm2 = 0;
    for (let i = k; i < m; i++) norm2 += a[i * n + k] ** 2;
    const x0 = a[k * n + k];
    const norm = Math.sqrt(norm2);
    const alpha = x0 > 0 ? -norm : norm;
    for (let i = k; i < m; i++) v[i] = a[i * n + k];
    v[k] -= alpha;
    let vv = 0;
    for (let i = k; i < m; i++) vv += v[i] * v[i];
    const beta = vv > 0 ? 2 / vv : 0;
    vs.push(v);
    betas.push(beta);
    if (beta === 0) continue;
    for (let j = k; j < n; j++) {
      let s = 0;
      for (let i = k; i < m; i++) s += v[i] * a[i * n + j];
      s *= beta;
      for (let i = k; i < m; i++) a[i * n + j] -= s * v[i];
    }
  }
  const r = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) r[i * n + j] = a[i * n + j];
  // Q = H₀ H₁ … H_{n−1} applied to the first n columns of the identity.
  const q = new Float64Array(m * n);
  for (let j = 0; j < n; j++) q[j * n + j] = 1;
  for (let k = n - 1; k >= 0; k--) {
    const v = vs[k];
    const beta = betas[k];
    if (beta === 0) continue;
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let i = k; i < m; i++) s += v[i] * q[i * n + j];
      s *= beta;
      for (let i = k; i < m; i++) q[i * n + j] -= s * v[i];
    }
  }
  return { q, r };
}

/**
 * Minimum-norm least squares: x = argmin ‖A x − b‖ (m × n, b of length m), the smallest-norm solution when A is
 * rank deficient, through the SVD with singular values below rcond · s_max treated as zero (numpy's lstsq
 * default: rcond = ε · max(m, n)). Returns x, the numerical rank and the residual ‖A x − b‖².
 */
export function lstsq(A: Float64Array, b: ArrayLike<number>, m: number, n: number, rcond = Number.EPSILON * Math.max(m, n)): { x: Float64Array; rank: number; residual: number; s: Float64Array } {
  check("lstsq b", b, m);
  const { u, s, v, k } = svd(A, m, n);
  const cut = rcond * (s[0] ?? 0);
  const x = new Float64Array(n);
  let rank = 0;
  for (let c = 0; c < k; c++) {
    if (!(s[c] > cut) || s[c] === 0) continue;
    rank++;
    let ub = 0;
    for (let i = 0; i < m; i++) ub += u[i * k + c] * b[i];
    const f = ub / s[c];
    for (let i = 0; i < n; i++) x[i] += f * v[i * k + c];
  }
  let residual = 0;
  for (let i = 0; i < m; i++) {
    let r = -b[i];
    for (let j = 0; j < n; j++) r += A[i * n + j] * x[j];
    residual += r * r;
  }
  return { x, rank, residual, s };
}
