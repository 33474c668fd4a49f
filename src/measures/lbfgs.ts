/**
 * L-BFGS on the host (float64) for small problems (temperature scaling, PAC-Bayes σ, bound inversion):
 * the two-loop recursion (Nocedal & Wright 2006, Alg. 7.4) with either
 *
 *   - a strong-Wolfe line search (Alg. 3.5/3.6, c₁ = 1e-4, c₂ = 0.9): runs to convergence, or
 *   - no line search and a fixed step `lr` (PyTorch's `torch.optim.LBFGS(lr, max_iter)` without
 *     `line_search_fn`: the first step is lr·min(1, 1/‖g‖₁), later ones lr), which is what a single
 *     `optimizer.step()` of the common temperature-scaling code does.
 *
 * `f(x)` returns the value and the gradient. Stops when ‖g‖∞ ≤ tolGrad, the step or the change of f is below
 * tolChange, or after maxIter iterations. Returns the evaluations spent.
 */
export type Objective = (x: Float64Array) => { value: number; grad: Float64Array };

export type LbfgsResult = { x: Float64Array; value: number; grad: Float64Array; iterations: number; evaluations: number; converged: boolean; reason: string };

export type LbfgsOptions = { maxIter?: number; history?: number; tolGrad?: number; tolChange?: number; lineSearch?: "strong_wolfe" | "none"; lr?: number };

const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i], 0);
const maxAbs = (a: Float64Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

export function lbfgs(f: Objective, x0: ArrayLike<number>, opts: LbfgsOptions = {}): LbfgsResult {
  const maxIter = opts.maxIter ?? 100;
  const m = opts.history ?? 100;
  const tolGrad = opts.tolGrad ?? 1e-7;
  const tolChange = opts.tolChange ?? 1e-9;
  const lr = opts.lr ?? 1;
  const wolfe = (opts.lineSearch ?? "strong_wolfe") === "strong_wolfe";
  let x = Float64Array.from(x0);
  let { value, grad } = f(x);
  let evaluations = 1;
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  if (maxAbs(grad) <= tolGrad) return { x, value, grad, iterations: 0, evaluations, converged: true, reason: "gradient below tolerance" };
  for (let it = 1; it <= maxIter; it++) {
    // two-loop recursion: d = −H·g
    const q = Float64Array.from(grad);
    const alpha: number[] = [];
    for (let i = S.length - 1; i >= 0; i--) {
      const a = dot(S[i], q) / dot(Y[i], S[i]);
      alpha[i] = a;
      for (let j = 0; j < q.length; j++) q[j] -= a * Y[i][j];
    }
    const gamma = S.length ? dot(S[S.length - 1], Y[Y.length - 1]) / dot(Y[Y.length - 1], Y[Y.length - 1]) : 1;
    for (let j = 0; j < q.length; j++) q[j] *= gamma;
    for (let i = 0; i < S.length; i++) {
      const b = dot(Y[i], q) / dot(Y[i], S[i]);
      for (let j = 0; j < q.length; j++) q[j] += S[i][j] * (alpha[i] - b);
    }
    const d = q.map((v) => -v);
    const gtd = dot(grad, d);
    if (gtd > -tolChange) return { x, value, grad, iterations: it - 1, evaluations, converged: true, reason: "no descent direction left" };
    let t: number;
    let next: { value: number; grad: Float64Array };
    if (wolfe) {
      const t0 = it === 1 ? Math.min(1, 1 / grad.reduce((s, v) => s + Math.abs(v), 0)) : 1;
      const ls = strongWolfe(f, x, value, grad, d, t0);
      evaluations += ls.evaluations;
      t = ls.t;
      next = { value: ls.value, grad: ls.grad };
    } else {
      t = it === 1 ? Math.min(1, 1 / grad.reduce((s, v) => s + Math.abs(v), 0)) * lr : lr;
      next = f(x.map((v, j) => v + t * d[j]));
      evaluations++;
    }
    const s = d.map((v) => v * t);
    const xNew = x.map((v, j) => v + s[j]);
    const y = next.grad.map((v, j) => v - grad[j]);
    if (dot(y, s) > 1e-10) {
      S.push(s);
      Y.push(y);
      if (S.length > m) {
        S.shift();
        Y.shift();
      }
    }
    const change = Math.abs(next.value - value);
    x = xNew;
    value = next.value;
    grad = next.grad;
    if (maxAbs(grad) <= tolGrad) return { x, value, grad, iterations: it, evaluations, converged: true, reason: "gradient below tolerance" };
    if (maxAbs(s) <= tolChange) return { x, value, grad, iterations: it, evaluations, converged: true, reason: "step below tolerance" };
    if (change < tolChange) return { x, value, grad, iterations: it, evaluations, converged: true, reason: "value change below tolerance" };
  }
  return { x, value, grad, iterations: maxIter, evaluations, converged: false, reason: `stopped after ${maxIter} iterations` };
}

/** Strong-Wolfe line search along d from x (Nocedal & Wright Alg. 3.5 with zoom, cubic-free bisection). */
function strongWolfe(f: Objective, x: Float64Array, f0: number, g0: Float64Array, d: Float64Array, t0: number, c1 = 1e-4, c2 = 0.9) {
  const dg0 = dot(g0, d);
  let evaluations = 0;
  const phi = (t: number) => {
    evaluations++;
    const r = f(x.map((v, j) => v + t * d[j]));
    return { t, value: r.value, grad: r.grad, slope: dot(r.grad, d) };
  };
  let prev = { t: 0, value: f0, grad: g0, slope: dg0 };
  let t = t0;
  const zoom = (lo: typeof prev, hi: typeof prev) => {
    for (let k = 0; k < 40; k++) {
      const p = phi((lo.t + hi.t) / 2);
      if (p.value > f0 + c1 * p.t * dg0 || p.value >= lo.value) hi = p;
      else {
        if (Math.abs(p.slope) <= -c2 * dg0) return p;
        if (p.slope * (hi.t - lo.t) >= 0) hi = lo;
        lo = p;
      }
      if (Math.abs(hi.t - lo.t) < 1e-12) break;
    }
    return lo.t > 0 ? lo : phi(lo.t || hi.t);
  };
  for (let k = 0; k < 25; k++) {
    const p = phi(t);
    if (p.value > f0 + c1 * t * dg0 || (k > 0 && p.value >= prev.value)) return { ...zoom(prev, p), evaluations };
    if (Math.abs(p.slope) <= -c2 * dg0) return { ...p, evaluations };
    if (p.slope >= 0) return { ...zoom(p, prev), evaluations };
    prev = p;
    t *= 2;
  }
  return { ...prev, evaluations };
}
