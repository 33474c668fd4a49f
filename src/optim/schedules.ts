/** Learning-rate schedules as in-graph functions of the step count (jit-safe). Names follow Optax. */
import { DType, numpy as np, type Array } from "@jax-js/jax";
import { powConst, type Schedule } from "./transform.ts";

export const constantSchedule = (value: number): Schedule => (c) => np.zerosLike(c).add(value);

/** Linear from init to end over `steps`, then constant at end. */
export const linearSchedule = (init: number, end: number, steps: number): Schedule => (c) => {
  const frac = np.clip(c.div(Math.max(1, steps)), 0, 1);
  return frac.mul(end - init).add(init);
};

/** Loshchilov & Hutter (2017) cosine decay from init to alpha·init over decaySteps. */
export const cosineDecaySchedule = (init: number, decaySteps: number, alpha = 0): Schedule => (c) => {
  const frac = np.clip(c.div(Math.max(1, decaySteps)), 0, 1);
  const cos = np.cos(frac.mul(Math.PI)).add(1).mul(0.5);
  return cos.mul(1 - alpha).add(alpha).mul(init);
};

/** init · rate^(count/transitionSteps) (continuous, Optax's staircase=false). */
export const exponentialDecaySchedule = (init: number, transitionSteps: number, rate: number): Schedule => (c) =>
  powConst(rate, c.div(transitionSteps)).mul(init);

/** init, multiplied by scales[i] once count ≥ boundaries[i]. */
export const piecewiseConstantSchedule = (init: number, boundaries: number[], scales: number[]): Schedule => (c) => {
  let logFactor: Array = np.zerosLike(c.ref);
  boundaries.forEach((b, i) => {
    logFactor = logFactor.add(c.ref.greaterEqual(b).astype(c.dtype).mul(Math.log(scales[i])));
  });
  c.dispose();
  return np.exp(logFactor).mul(init);
};

/** Linear warm-up from 0 to peak over warmupSteps, then cosine decay to end over the remaining steps. */
export const warmupCosineDecaySchedule = (peak: number, warmupSteps: number, decaySteps: number, end = 0): Schedule => (c) => {
  const warm = linearSchedule(0, peak, warmupSteps)(c.ref);
  const cosine = cosineDecaySchedule(peak, Math.max(1, decaySteps - warmupSteps), peak === 0 ? 0 : end / peak)(c.ref.sub(warmupSteps));
  const inWarmup = c.less(warmupSteps).astype(warm.dtype);
  return inWarmup.ref.mul(warm).add(inWarmup.mul(-1).add(1).mul(cosine));
};

/** Evaluate a schedule on the host at one step (for logging, plots and tests). */
export function scheduleValue(schedule: Schedule, step: number): number {
  return schedule(np.array(step, { dtype: DType.Float32 })).item();
}
