/**
 * Numerical integration for the theory calculators: Gauss–Legendre rules (nodes by Newton's method on the
 * Legendre recurrence, exact for polynomials of degree 2n − 1) and a composite rule over given panel edges,
 * with an error estimate from the same panels at half the order.
 */

const rules = new Map<number, { x: Float64Array; w: Float64Array }>();

/** Nodes and weights of the n-point Gauss–Legendre rule on [−1, 1] (cached). */
export function gaussLegendre(n: number): { x: Float64Array; w: Float64Array } {
  if (!Number.isInteger(n) || n < 1 || n > 512) throw new RangeError(`gaussLegendre: expected an integer order in [1, 512], got ${n}`);
  const hit = rules.get(n);
  if (hit) return hit;
  const x = new Float64Array(n);
  const w = new Float64Array(n);
  for (let i = 0; i < Math.ceil(n / 2); i++) {
    let z = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let dp = 0;
    for (let it = 0; it < 100; it++) {
      let p0 = 1;
      let p1 = z;
      for (let k = 2; k <= n; k++) {
        const p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      dp = (n * (z * p1 - p0)) / (z * z - 1); // P′ₙ from Pₙ and Pₙ₋₁
      const dz = p1 / dp;
      z -= dz;
      if (Math.abs(dz) < 1e-16) break;
    }
    x[i] = -z;
    x[n - 1 - i] = z;
    w[i] = w[n - 1 - i] = 2 / ((1 - z * z) * dp * dp);
  }
  const rule = { x, w };
  rules.set(n, rule);
  return rule;
}

/**
 * ∫ f over [edges[0], edges.at(−1)] by an `order`-point Gauss–Legendre rule on each panel, and the difference
 * from the same panels at half the order as an error estimate (`error`, absolute).
 */
export function integratePanels(f: (x: number) => number, edges: ArrayLike<number>, order = 16): { value: number; error: number } {
  const hi = gaussLegendre(order);
  const lo = gaussLegendre(Math.max(1, order >> 1));
  let value = 0;
  let coarse = 0;
  for (let p = 0; p + 1 < edges.length; p++) {
    const a = edges[p];
    const b = edges[p + 1];
    const half = (b - a) / 2;
    const mid = (a + b) / 2;
    for (let i = 0; i < hi.x.length; i++) value += half * hi.w[i] * f(mid + half * hi.x[i]);
    for (let i = 0; i < lo.x.length; i++) coarse += half * lo.w[i] * f(mid + half * lo.x[i]);
  }
  return { value, error: Math.abs(value - coarse) };
}
