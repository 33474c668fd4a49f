/**
 * Derivative-free minimisation: Nelder–Mead with the standard coefficients (reflection 1, expansion 2,
 * contraction ½, shrink ½) and an initial simplex of `step` along each axis. Stops when the simplex's values
 * agree within `ftol`·(1 + |f|) or within `atol`, or after `maxIter` iterations; reports whether it converged.
 */
export type MinimizeResult = { x: number[]; f: number; iterations: number; converged: boolean };

export function nelderMead(f: (x: number[]) => number, x0: number[], o: { step?: number; ftol?: number; atol?: number; maxIter?: number } = {}): MinimizeResult {
  const n = x0.length, step = o.step ?? 0.5, ftol = o.ftol ?? 1e-10, atol = o.atol ?? 0, maxIter = o.maxIter ?? 2000 * n;
  const safe = (x: number[]) => {
    const v = f(x);
    return Number.isNaN(v) ? Infinity : v;
  };
  let pts = [x0.slice(), ...x0.map((_, i) => x0.map((v, j) => (i === j ? v + step : v)))];
  let vals = pts.map(safe);
  const combine = (a: number[], b: number[], t: number) => a.map((v, i) => v + t * (b[i] - v));
  for (let it = 0; it < maxIter; it++) {
    const order = vals.map((_, i) => i).sort((a, b) => vals[a] - vals[b]);
    pts = order.map((i) => pts[i]);
    vals = order.map((i) => vals[i]);
    if (Math.abs(vals[n] - vals[0]) <= Math.max(ftol * (1 + Math.abs(vals[0])), atol)) return { x: pts[0], f: vals[0], iterations: it, converged: true };
    const centroid = x0.map((_, j) => pts.slice(0, n).reduce((s, p) => s + p[j], 0) / n);
    const xr = combine(centroid, pts[n], -1), fr = safe(xr);
    if (fr < vals[0]) {
      const xe = combine(centroid, pts[n], -2), fe = safe(xe);
      [pts[n], vals[n]] = fe < fr ? [xe, fe] : [xr, fr];
    } else if (fr < vals[n - 1]) {
      [pts[n], vals[n]] = [xr, fr];
    } else {
      const outside = fr < vals[n];
      const xc = combine(centroid, outside ? xr : pts[n], 0.5), fc = safe(xc);
      if (fc < (outside ? fr : vals[n])) [pts[n], vals[n]] = [xc, fc];
      else
        for (let i = 1; i <= n; i++) {
          pts[i] = combine(pts[0], pts[i], 0.5);
          vals[i] = safe(pts[i]);
        }
    }
  }
  const best = vals.indexOf(Math.min(...vals));
  return { x: pts[best], f: vals[best], iterations: maxIter, converged: false };
}
