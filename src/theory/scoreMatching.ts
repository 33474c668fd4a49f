/**
 * Score estimation in diffusion models by a GD-trained network (Han, Razaviyayn, Xu 2024, arXiv 2401.15604):
 * denoising score matching (DSM) is regression with noisy labels, a wide network trained by GD follows kernel
 * regression, and training too long fits the label noise, so the error of the estimated score is U-shaped in
 * training time and early stopping is needed. Spec: specs-23-45.md §21 (the paper's full text was not read there
 * nor found by this module's author: its exact weighting, time law and stopping rule are unverified; the choices
 * below are the standard ones and are stated).
 *
 * - Data: an isotropic Gaussian mixture (equal weights, component std s); the forward process is the VP / OU
 *   process x_t = α_t x₀ + σ_t ε, α_t = e^{−t}, σ_t² = 1 − e^{−2t}, so p_t is again a mixture with means α_t μ_k
 *   and variances α_t² s² + σ_t², and ∇ log p_t(x) = Σ_k w_k(x) (α_t μ_k − x)/(α_t² s² + σ_t²) in closed form.
 * - DSM with the weighting λ(t) = σ_t²: the network g(x, t) estimates σ_t ∇ log p_t(x) (so s = g/σ_t) and is
 *   regressed on the noisy label y = −ε. Since E[−ε | x_t] = σ_t ∇ log p_t(x_t), the DSM loss is the weighted
 *   score error E‖g − σ_t ∇ log p_t‖² plus the constant C = E‖ε + σ_t ∇ log p_t(x_t)‖² (Vincent 2011): a held-out
 *   DSM loss estimates the score error up to C.
 * - Network: g(z) = A ᵀrelu(W z/√D)/√m on z = (x, 8 sines and 8 cosines of t, 1), D = d + 17, in the NTK
 *   parametrization (W, A standard normal), antisymmetrically initialised (the second half of the units copies
 *   the first with the readout negated) so that g ≡ 0 at initialisation and the linearised model is exactly
 *   kernel regression from zero. Full-batch GD on L = (1/N) Σ_n ‖g(z_n) − y_n‖².
 * - Linearised model: GD on the same loss of the first-order Taylor model at initialisation moves in function space
 *   as g_{τ+1} = g_τ − (2η/N) Θ (g_τ − y) with Θ the empirical NTK (2N × 2N over examples and output coordinates),
 *   solved exactly at every step through Θ's eigendecomposition (as in kernelGd.ts).
 * jax-js float32 for the network and the kernel products, float64 on the host for the eigendecomposition.
 */
import { blockUntilReady, DType, jit, nn, numpy as np, type Array as JArray } from "@jax-js/jax";
import { symEig } from "../core/linalg.ts";
import { normalFromKey, splitKey, uniformFromKey, type Key } from "../core/prng.ts";

/** An equal-weight mixture of isotropic Gaussians N(μ_k, s² I) in ℝ^d. */
export type Gmm = { means: number[][]; std: number };

/** The spec's data: four components on the corners of the square [−1, 1]², std 0.2. */
export const SQUARE_GMM: Gmm = { means: [[1, 1], [1, -1], [-1, -1], [-1, 1]], std: 0.2 };

export const vpAlpha = (t: number) => Math.exp(-t);
export const vpSigma2 = (t: number) => -Math.expm1(-2 * t);

const dimOf = (g: Gmm) => g.means[0].length;

/** ∇_x log p_t(x) for the rows of X (N × d) at times t (N) under the VP process started from the mixture. */
export function gmmScore(g: Gmm, X: Float64Array, t: ArrayLike<number>): Float64Array {
  const d = dimOf(g), K = g.means.length, N = t.length;
  if (X.length !== N * d) throw new RangeError(`gmmScore: X has ${X.length} entries, expected ${N} × ${d}`);
  const out = new Float64Array(N * d);
  const logit = new Float64Array(K);
  for (let i = 0; i < N; i++) {
    const a = vpAlpha(t[i]), v = a * a * g.std * g.std + vpSigma2(t[i]);
    let mx = -Infinity;
    for (let k = 0; k < K; k++) {
      let r2 = 0;
      for (let j = 0; j < d; j++) r2 += (X[i * d + j] - a * g.means[k][j]) ** 2;
      logit[k] = -r2 / (2 * v);
      if (logit[k] > mx) mx = logit[k];
    }
    let z = 0;
    for (let k = 0; k < K; k++) z += logit[k] = Math.exp(logit[k] - mx);
    for (let k = 0; k < K; k++) {
      const w = logit[k] / z;
      for (let j = 0; j < d; j++) out[i * d + j] += (w * (a * g.means[k][j] - X[i * d + j])) / v;
    }
  }
  return out;
}

/** n draws from the mixture (rows of an n × d array); consumes `key`. */
export function sampleGmm(g: Gmm, n: number, key: Key): Float64Array {
  const d = dimOf(g), K = g.means.length;
  const [kc, kz] = splitKey(key, 2);
  const u = uniformFromKey(kc, n);
  const z = normalFromKey(kz, n * d);
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const k = Math.min(K - 1, Math.floor(u[i] * K));
    for (let j = 0; j < d; j++) x[i * d + j] = g.means[k][j] + g.std * z[i * d + j];
  }
  return x;
}

/**
 * A fixed DSM data set: n clean samples, `perSample` (t, ε) draws each (t ~ U[tMin, tMax]), N = n·perSample rows.
 * `noisy` is the DSM label −ε; `clean` its conditional mean σ_t ∇ log p_t(x_t) (the estimation target).
 */
export type DsmData = { n: number; N: number; d: number; t: Float64Array; xt: Float64Array; noisy: Float64Array; clean: Float64Array };

export function dsmData(g: Gmm, o: { n: number; perSample: number; tMin: number; tMax: number }, key: Key): DsmData {
  if (!(o.tMin > 0 && o.tMax > o.tMin)) throw new RangeError(`dsmData: need 0 < tMin < tMax, got ${o.tMin}, ${o.tMax}`);
  const d = dimOf(g), N = o.n * o.perSample;
  const [k0, kt, ke] = splitKey(key, 3);
  const x0 = sampleGmm(g, o.n, k0);
  const u = uniformFromKey(kt, N);
  const eps = normalFromKey(ke, N * d);
  const t = Float64Array.from(u, (v) => o.tMin + (o.tMax - o.tMin) * v);
  const xt = new Float64Array(N * d);
  for (let r = 0; r < N; r++) {
    const i = Math.floor(r / o.perSample), a = vpAlpha(t[r]), s = Math.sqrt(vpSigma2(t[r]));
    for (let j = 0; j < d; j++) xt[r * d + j] = a * x0[i * d + j] + s * eps[r * d + j];
  }
  const score = gmmScore(g, xt, t);
  const clean = Float64Array.from(score, (v, q) => Math.sqrt(vpSigma2(t[Math.floor(q / d)])) * v);
  return { n: o.n, N, d, t, xt, noisy: eps.map((v) => -v), clean };
}

/** Time features: sin and cos of ω_k t/tMax with ω_k = π(k + 1)/2, k = 0…7 (periods 4 to ½ of the time range). */
export const TIME_FREQUENCIES = Array.from({ length: 8 }, (_, k) => (Math.PI * (k + 1)) / 2);

/** The network's input rows z = (x_t, sin ω_k s, cos ω_k s, 1), s = t/tMax: N × (d + 17), float32. */
export function scoreNetInput(data: Pick<DsmData, "N" | "d" | "t" | "xt">, tMax: number): { z: Float32Array<ArrayBuffer>; D: number } {
  const F = TIME_FREQUENCIES.length, D = data.d + 2 * F + 1;
  const z = new Float32Array(data.N * D);
  for (let r = 0; r < data.N; r++) {
    const s = data.t[r] / tMax;
    for (let j = 0; j < data.d; j++) z[r * D + j] = data.xt[r * data.d + j];
    TIME_FREQUENCIES.forEach((w, k) => {
      z[r * D + data.d + k] = Math.sin(w * s);
      z[r * D + data.d + F + k] = Math.cos(w * s);
    });
    z[r * D + D - 1] = 1;
  }
  return { z, D };
}

/** Mean over rows of ‖a_r − b_r‖² (rows of length d): the weighted score error or a DSM loss. */
export function meanSquaredRows(a: ArrayLike<number>, b: ArrayLike<number>, d: number): number {
  if (a.length !== b.length) throw new RangeError(`meanSquaredRows: ${a.length} against ${b.length} entries`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s / (a.length / d);
}

/** Checkpoints 0, 1 and then ×1.25 (rounded up) to `steps`: a log-spaced grid of GD steps. */
export function geometricCheckpoints(steps: number): number[] {
  const c = [0];
  for (let s = 1; s < steps; s = Math.max(s + 1, Math.ceil(s * 1.25))) c.push(s);
  c.push(steps);
  return c;
}

/** Initial weights W (m × D) and readout A (m × d), antisymmetric: units m/2… copy units 0… with −A. Consumes key. */
export type ScoreNetInit = { m: number; D: number; d: number; W: Float32Array<ArrayBuffer>; A: Float32Array<ArrayBuffer> };

export function initScoreNet(m: number, D: number, d: number, key: Key): ScoreNetInit {
  if (m < 2 || m % 2 !== 0) throw new RangeError(`initScoreNet: the width must be even (antisymmetric pairs), got ${m}`);
  const h = m / 2;
  const [kw, ka] = splitKey(key, 2);
  const w = normalFromKey(kw, h * D), a = normalFromKey(ka, h * d);
  const W = new Float32Array(m * D), A = new Float32Array(m * d);
  W.set(w), W.set(w, h * D), A.set(a);
  for (let i = 0; i < h * d; i++) A[h * d + i] = -a[i];
  return { m, D, d, W, A };
}

/** Predictions of a run at its checkpoints: preds[e][c] is eval set e's M_e × d outputs after checkpoints[c] steps. */
export type ScoreNetCurves = { checkpoints: number[]; trainLoss: number[]; preds: Float64Array[][] };

const checkCheckpoints = (cs: number[]) => {
  for (let i = 0; i < cs.length; i++)
    if (!Number.isInteger(cs[i]) || cs[i] < 0 || (i > 0 && cs[i] <= cs[i - 1])) throw new RangeError(`score net: checkpoints must be increasing integers ≥ 0, got ${cs.join(", ")}`);
};

/**
 * Full-batch GD with rate `lr` on L = (1/N) Σ ‖g(z_n) − y_n‖² from `init`; the training loss and the outputs on each
 * eval set (rows of D inputs) at every checkpoint. Throws (with the step) if the loss stops being finite.
 */
export async function trainScoreNet(o: { init: ScoreNetInit; z: Float32Array<ArrayBuffer>; y: ArrayLike<number>; evals: Float32Array<ArrayBuffer>[]; lr: number; checkpoints: number[]; progress?: (step: number) => void }): Promise<ScoreNetCurves> {
  const { m, D, d } = o.init;
  const N = o.y.length / d;
  if (o.z.length !== N * D) throw new RangeError(`trainScoreNet: z has ${o.z.length} entries, expected ${N} × ${D}`);
  checkCheckpoints(o.checkpoints);
  const sm = 1 / Math.sqrt(m), sd = 1 / Math.sqrt(D);
  const Z = np.array(o.z, { shape: [N, D] }).mul(sd);
  const Y = np.array(Float32Array.from(o.y), { shape: [N, d] });
  const E = o.evals.map((e) => np.array(e, { shape: [e.length / D, D] }).mul(sd));
  // the weights are trained as displacements from initialisation, W = W₀ + ΔW, A = A₀ + ΔA: the late, small GD
  // updates that fit the label noise are accumulated in ΔW at full float32 precision rather than rounded away
  // against W's O(1) entries
  const W0 = np.array(o.init.W, { shape: [m, D] });
  const A0 = np.array(o.init.A, { shape: [m, d] });
  let dW = np.zeros([m, D]);
  let dA = np.zeros([m, d]);
  const Yt = Y.transpose();
  // hidden activations kept as m × N (units by examples): no transpose of a large array in the step (5× faster)
  const forward = jit((w0: JArray, a0: JArray, dw: JArray, da: JArray, z: JArray) => np.matmul(nn.relu(np.matmul(z, w0.add(dw).transpose())), a0.add(da)).mul(sm));
  const step = jit((w0: JArray, a0: JArray, dw: JArray, da: JArray, z: JArray, yt: JArray) => {
    const w = w0.add(dw.ref), a = a0.add(da.ref);
    const u = np.matmul(w, z.ref.transpose()); // m × N
    const phi = nn.relu(u.ref);
    const r = np.matmul(a.ref.transpose(), phi.ref).mul(sm).sub(yt).mul((2 / N) * sm); // d × N: ∂L/∂g, times 1/√m
    const gA = np.matmul(phi, r.ref.transpose()); // m × d
    const gW = np.matmul(np.where(u.greater(0), np.matmul(a, r), 0), z); // m × D
    return [dw.sub(gW.mul(o.lr)), da.sub(gA.mul(o.lr))];
  }) as unknown as ((w0: JArray, a0: JArray, dw: JArray, da: JArray, z: JArray, yt: JArray) => [JArray, JArray]) & { dispose(): void };
  // outputs in blocks of 2,048 rows: an eval set of 16,384 rows at width 4,096 would otherwise hold ~270 MB hidden
  // activations per product, at every checkpoint (full-size records with such evaluations ended in corrupted weights
  // after ~15,000 steps, a run without them did not; the blocks keep every checkpoint's memory small)
  const forwardRows = async (x: JArray): Promise<Float64Array> => {
    const rows = x.shape[0], block = 2048;
    const f = new Float64Array(rows * d);
    for (let r0 = 0; r0 < rows; r0 += block) {
      const r1 = Math.min(rows, r0 + block);
      const part = (await forward(W0.ref, A0.ref, dW.ref, dA.ref, x.ref.slice([r0, r1], [0, D])).data()) as Float32Array;
      f.set(part, r0 * d);
    }
    return f;
  };
  const out: ScoreNetCurves = { checkpoints: o.checkpoints, trainLoss: [], preds: o.evals.map(() => []) };
  try {
    let done = 0;
    for (const c of o.checkpoints) {
      for (; done < c; done++) {
        [dW, dA] = step(W0.ref, A0.ref, dW, dA, Z.ref, Yt.ref);
        // jax-js is lazy: thousands of undrained steps between checkpoints pile up (docs/jax-js-notes.md)
        if (done % 32 === 31) await blockUntilReady([dW, dA]);
        if (o.progress && done % 64 === 0) o.progress(done);
      }
      const f = await forwardRows(Z);
      const y = o.y;
      const loss = meanSquaredRows(f, y, d);
      if (!Number.isFinite(loss)) throw new RangeError(`trainScoreNet: the training loss is ${loss} after ${c} steps (lr ${o.lr} too large?)`);
      out.trainLoss.push(loss);
      for (const [e, x] of E.entries()) out.preds[e].push(await forwardRows(x));
    }
  } finally {
    step.dispose();
    forward.dispose();
    for (const a of [W0, A0, dW, dA, Z, Yt, ...E]) a.dispose();
  }
  return out;
}

/**
 * The empirical NTK blocks between input sets P (rows of D) and Q at the initial weights, as a (2·|P|) × (2·|Q|)
 * float64 matrix indexed (row·d + output): Θ_jk(p, q) = δ_jk ⟨φ(p), φ(q)⟩/m + (⟨p, q⟩/D) Σ_i A_ij A_ik 1[u_i(p) > 0] 1[u_i(q) > 0]/m.
 */
export async function empiricalNtk(init: ScoreNetInit, P: Float32Array<ArrayBuffer>, Q: Float32Array<ArrayBuffer>): Promise<Float64Array> {
  const { m, D, d } = init;
  const np_ = P.length / D, nq = Q.length / D;
  const W = np.array(init.W, { shape: [m, D] });
  const A = np.array(init.A, { shape: [m, d] });
  const zp = np.array(P, { shape: [np_, D] }).mul(1 / Math.sqrt(D));
  const zq = np.array(Q, { shape: [nq, D] }).mul(1 / Math.sqrt(D));
  const up = np.matmul(zp.ref, W.ref.transpose()), uq = np.matmul(zq.ref, W.transpose());
  const feat = await np.matmul(nn.relu(up.ref), nn.relu(uq.ref).transpose()).mul(1 / m).data() as Float32Array;
  const inner = await np.matmul(zp, zq.transpose()).data() as Float32Array;
  const mp = up.greater(0).astype(DType.Float32), mq = uq.greater(0).astype(DType.Float32);
  const cols = Array.from({ length: d }, (_, j) => A.ref.slice([0, m], [j, j + 1]).reshape([1, m]));
  A.dispose();
  const out = new Float64Array(d * np_ * d * nq);
  const ld = d * nq;
  for (let j = 0; j < d; j++)
    for (let k = 0; k < d; k++) {
      const gj = mp.ref.mul(cols[j].ref), gk = mq.ref.mul(cols[k].ref);
      const b = (await np.matmul(gj, gk.transpose()).mul(1 / m).data()) as Float32Array;
      for (let p = 0; p < np_; p++)
        for (let q = 0; q < nq; q++) out[(p * d + j) * ld + q * d + k] = b[p * nq + q] * inner[p * nq + q] + (j === k ? feat[p * nq + q] : 0);
    }
  for (const a of [mp, mq, ...cols]) a.dispose();
  return out;
}

/**
 * The linearised network trained by the same GD (rate lr, loss (1/N) Σ ‖g − y‖²) from g ≡ 0: training loss and eval
 * outputs at the checkpoints, exact at every step. O((2N)³) once for the eigendecomposition of Θ.
 */
export async function linearizedScoreNet(o: { init: ScoreNetInit; z: Float32Array<ArrayBuffer>; y: ArrayLike<number>; evals: Float32Array<ArrayBuffer>[]; lr: number; checkpoints: number[] }): Promise<ScoreNetCurves & { lambdaMax: number }> {
  const { D, d } = o.init;
  const N = o.y.length / d, P = N * d;
  checkCheckpoints(o.checkpoints);
  const theta = await empiricalNtk(o.init, o.z, o.z);
  const { values: lam, vectors: V } = symEig(theta, P);
  const c = (2 * o.lr) / N;
  const lambdaMax = lam[P - 1];
  if (c * lambdaMax >= 2) throw new RangeError(`linearizedScoreNet: GD diverges at lr ${o.lr} (2η λ_max/N = ${(c * lambdaMax).toFixed(3)} ≥ 2)`);
  const zc = new Float64Array(P); // Vᵀ y
  for (let i = 0; i < P; i++) for (let k = 0; k < P; k++) zc[k] += V[i * P + k] * o.y[i];
  const coef = (k: number, t: number) => (lam[k] > 1e-12 * lambdaMax ? (1 - (1 - c * lam[k]) ** t) / lam[k] : c * t);
  const out: ScoreNetCurves & { lambdaMax: number } = { checkpoints: o.checkpoints, trainLoss: [], preds: o.evals.map(() => []), lambdaMax };
  for (const t of o.checkpoints) {
    let r = 0;
    for (let k = 0; k < P; k++) r += ((1 - c * Math.max(lam[k], 0)) ** (2 * t)) * zc[k] * zc[k];
    out.trainLoss.push(r / N);
  }
  for (const [e, x] of o.evals.entries()) {
    const M = x.length / D;
    const cross = await empiricalNtk(o.init, x, o.z); // (M d) × P
    const B = await matmulF32(cross, V, M * d, P, P); // Θ_× V
    for (const t of o.checkpoints) {
      const w = Float64Array.from(zc, (v, k) => v * coef(k, t));
      const f = new Float64Array(M * d);
      for (let i = 0; i < M * d; i++) {
        let s = 0;
        for (let k = 0; k < P; k++) s += B[i * P + k] * w[k];
        f[i] = s;
      }
      out.preds[e].push(f);
    }
  }
  return out;
}

/** A (m × k) · B (k × n) through jax-js in float32, returned in float64. */
async function matmulF32(A: Float64Array, B: Float64Array, m: number, k: number, n: number): Promise<Float64Array> {
  const a = np.array(Float32Array.from(A), { shape: [m, k] }), b = np.array(Float32Array.from(B), { shape: [k, n] });
  return Float64Array.from((await np.matmul(a, b).data()) as Float32Array);
}

/**
 * The linearised (kernel-regression) prediction for a seeded DSM problem on SQUARE_GMM (t ~ U[0.05, 2], 8 labels a
 * sample): the score-error curve of GD at rate lr, its minimum t*, the error at the last step over the minimum and
 * the DSM constant C, on `evalSamples` × 8 fresh points. Consumes `key`.
 */
export async function linearizedScoreCurve(o: { n: number; width: number; lr: number; steps: number; evalSamples: number }, key: Key) {
  const [kd, ke, ki] = splitKey(key, 3);
  const opts = { perSample: 8, tMin: 0.05, tMax: 2 };
  const train = dsmData(SQUARE_GMM, { ...opts, n: o.n }, kd);
  const fresh = dsmData(SQUARE_GMM, { ...opts, n: o.evalSamples }, ke);
  const zt = scoreNetInput(train, opts.tMax), ze = scoreNetInput(fresh, opts.tMax);
  const init = initScoreNet(o.width, zt.D, 2, ki);
  const checkpoints = geometricCheckpoints(o.steps);
  const lin = await linearizedScoreNet({ init, z: zt.z, y: train.noisy, evals: [ze.z], lr: o.lr, checkpoints });
  const error = lin.preds[0].map((f) => meanSquaredRows(f, fresh.clean, 2));
  const iStar = error.reduce((b, v, i) => (v < error[b] ? i : b), 0);
  return { checkpoints, error, train: lin.trainLoss, tStar: checkpoints[iStar], errorMin: error[iStar], lateRatio: error[error.length - 1] / error[iStar], dsmConstant: meanSquaredRows(fresh.noisy, fresh.clean, 2), stability: (2 * o.lr * lin.lambdaMax) / train.N };
}
