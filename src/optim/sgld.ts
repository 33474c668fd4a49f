/**
 * Stochastic-gradient Langevin dynamics (Welling & Teh 2011) for a batch of independent chains: with an energy
 * U(θ) = −log p(θ | data) (a minibatch estimate allowed), each step is
 *   θ ← θ − (ε/2)·∇U(θ) + √(ε·T)·ξ,  ξ ~ N(0, I),
 * which at temperature T = 1 and small ε samples the posterior p(θ | data) ∝ e^{−U}. `sgld` runs C chains side by
 * side (θ is C × P; the energy returns the sum of the chains' energies, so its gradient in chain c's row is that
 * chain's own gradient) and hands every `every`-th state after `burnIn` steps to `sample` — the posterior
 * predictive of an ensemble is the mean of the predictions over those states (the Universality Lens's
 * Q_s(y | x; S) = ∫ w(θ | S) P_θ(y | x) dθ, specs-01-22.md §4).
 * With `temperature: 0` the same loop is (minibatch) gradient descent with step ε/2: the noise-free twin of a chain.
 * The configurational temperature (mean θ·∇U / P over the sampled states, = T at equilibrium) says whether the
 * chains have reached the target at all.
 */
import { blockUntilReady, grad, jit, numpy as np, random, type Array as JaxArray } from "@jax-js/jax";
import { splitKey, type Key } from "../core/prng.ts";

export type SgldOptions = {
  /** Σ over chains of U(θ_c), a scalar, on the data arrays `data(t)` returns (the minibatch of step t; none: full batch). θ: C × P. Traced once (jit). */
  energy: (theta: JaxArray, ...data: JaxArray[]) => JaxArray;
  /** the data arrays of step t (consumed), e.g. a minibatch; default none */
  data?: (t: number) => JaxArray[];
  /** the chains' start, C × P (consumed) */
  init: JaxArray;
  /** ε */
  step: number;
  steps: number;
  /** T (default 1); 0 turns the noise off */
  temperature?: number;
  /** steps before the first sample (default steps / 2) */
  burnIn?: number;
  /** a sample every this many steps after burn-in (default 10) */
  every?: number;
  /** the configurational temperature averages the sampled states after this step (default burnIn) */
  diagnosticFrom?: number;
  /** receives each sampled state (C × P; consumed by the callee) and the step */
  sample?: (theta: JaxArray, t: number) => Promise<void> | void;
  /** consumed */
  key: Key;
};

export type SgldResult = {
  /** the chains' final state, C × P */
  theta: JaxArray;
  /**
   * The configurational temperature over the sampled states: mean over states and chains of θ·∇U(θ) / P. Under
   * the target e^{−U/T} it equals T (integration by parts: E[θ·∇U] = P·T), so a value far from T says the chains
   * have not reached the posterior (they start at a point, where it is near 0). NaN when nothing was sampled.
   */
  configTemperature: number;
};

/** Run the chains; returns their final state and the equilibrium diagnostic. */
export async function sgld(o: SgldOptions): Promise<SgldResult> {
  const T = o.temperature ?? 1;
  if (!(o.step > 0) || !(T >= 0) || !Number.isInteger(o.steps) || o.steps < 0) {
    o.init.dispose();
    o.key.dispose();
    throw new RangeError(`sgld: expected step > 0, temperature ≥ 0 and an integer number of steps, got ε = ${o.step}, T = ${T}, steps = ${o.steps}`);
  }
  const burnIn = o.burnIn ?? Math.floor(o.steps / 2);
  const every = o.every ?? 10;
  const diagnosticFrom = o.diagnosticFrom ?? burnIn;
  const noiseScale = Math.sqrt(o.step * T);
  let theta = o.init;
  let key = o.key;
  const shape = theta.shape;
  const [C, P] = shape;
  // One compiled step: the gradient, θ·∇U per chain summed (the diagnostic), and the update with the noise given.
  const step = jit((th: JaxArray, noise: JaxArray, ...data: JaxArray[]) => {
    const g = grad((x: JaxArray) => o.energy(x, ...data.map((d) => d.ref)))(th.ref);
    for (const d of data) d.dispose();
    const vir = th.ref.mul(g.ref).sum();
    const next = th.sub(g.mul(o.step / 2)).add(noise.mul(noiseScale));
    return [next, vir];
  });
  let virial = 0;
  let states = 0;
  const still = T > 0 ? null : np.zeros(shape); // T = 0: one zero "noise" for every step
  try {
    for (let t = 0; t < o.steps; t++) {
      let noise: JaxArray;
      if (still) noise = still.ref;
      else {
        const [next, k] = splitKey(key, 2);
        key = next;
        noise = random.normal(k, shape);
      }
      const [next, vir] = step(theta, noise, ...(o.data ? o.data(t) : [])) as [JaxArray, JaxArray];
      theta = next;
      const sampled = t + 1 > burnIn && (t + 1 - burnIn) % every === 0;
      if (sampled && t + 1 > diagnosticFrom) {
        // θ·∇U at the state before this step (one step from the sampled state)
        virial += ((await vir.data()) as Float32Array)[0];
        states += C;
      } else vir.dispose();
      if (sampled && o.sample) await o.sample(theta.ref, t + 1);
      if ((t + 1) % 32 === 0) await blockUntilReady(theta); // jax-js is lazy: drain the queue every few dozen steps
    }
  } finally {
    step.dispose();
    still?.dispose();
  }
  key.dispose();
  return { theta, configTemperature: states ? virial / (states * P) : NaN };
}
