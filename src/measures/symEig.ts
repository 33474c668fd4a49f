/** Dense symmetric eigendecomposition for the small matrices of Krylov methods (Lanczos tridiagonals, Ritz problems). */

/** Eigenvalues (ascending) and eigenvectors (columns) of a small symmetric matrix, by cyclic Jacobi in float64. */
export function symEig(m: number[][]): { values: number[]; vectors: number[][] } {
  const k = m.length;
  const a = m.map((r) => r.slice());
  const V: number[][] = globalThis.Array.from({ length: k }, (_, r) => globalThis.Array.from({ length: k }, (_, c) => (r === c ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let scale = 0;
    for (let r = 0; r < k; r++) for (let c = 0; c < k; c++) r === c ? (scale += a[r][c] * a[r][c]) : (off += a[r][c] * a[r][c]);
    if (off <= 1e-30 * Math.max(scale, 1e-300)) break;
    for (let p = 0; p < k - 1; p++) {
      for (let q = p + 1; q < k; q++) {
        if (a[p][q] === 0) continue;
        const tau = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const t = Math.sign(tau || 1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
        const cs = 1 / Math.sqrt(1 + t * t);
        const sn = t * cs;
        for (let r = 0; r < k; r++) {
          const ap = a[r][p];
          const aq = a[r][q];
          a[r][p] = cs * ap - sn * aq;
          a[r][q] = sn * ap + cs * aq;
        }
        for (let r = 0; r < k; r++) {
          const ap = a[p][r];
          const aq = a[q][r];
          a[p][r] = cs * ap - sn * aq;
          a[q][r] = sn * ap + cs * aq;
        }
        for (let r = 0; r < k; r++) {
          const vp = V[r][p];
          const vq = V[r][q];
          V[r][p] = cs * vp - sn * vq;
          V[r][q] = sn * vp + cs * vq;
        }
      }
    }
  }
  const order = globalThis.Array.from({ length: k }, (_, i) => i).sort((x, y) => a[x][x] - a[y][y]);
  return { values: order.map((i) => a[i][i]), vectors: V.map((row) => order.map((i) => row[i])) };
}
