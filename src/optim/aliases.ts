/** Familiar optimizers as chains of transformations (Optax's alias.py). */
import { addDecayedWeights, chain, clipByGlobalNorm, scaleByAdam, scaleByLearningRate, traceMomentum, type GradientTransformation, type Schedule } from "./transform.ts";

export type SgdOptions = { momentum?: number; nesterov?: boolean; weightDecay?: number };

/** SGD; weight decay here is coupled (added to the gradient), as in PyTorch's SGD(weight_decay=…). */
export function sgd(lr: number | Schedule, opts: SgdOptions = {}): GradientTransformation {
  const parts: GradientTransformation[] = [];
  if (opts.weightDecay) parts.push(addDecayedWeights(opts.weightDecay));
  if (opts.momentum) parts.push(traceMomentum(opts.momentum, opts.nesterov ?? false));
  parts.push(scaleByLearningRate(lr));
  return chain(...parts);
}

export type AdamOptions = { b1?: number; b2?: number; eps?: number; weightDecay?: number };

/** Adam; weight decay here is coupled L2 (PyTorch Adam(weight_decay=…)). */
export function adam(lr: number | Schedule, opts: AdamOptions = {}): GradientTransformation {
  const parts: GradientTransformation[] = [];
  if (opts.weightDecay) parts.push(addDecayedWeights(opts.weightDecay));
  parts.push(scaleByAdam(opts.b1 ?? 0.9, opts.b2 ?? 0.999, opts.eps ?? 1e-8), scaleByLearningRate(lr));
  return chain(...parts);
}

/** AdamW (Loshchilov & Hutter 2019): decoupled decay p ← p − lr·(adam + wd·p), PyTorch's convention. */
export function adamw(lr: number | Schedule, opts: AdamOptions = {}): GradientTransformation {
  return chain(scaleByAdam(opts.b1 ?? 0.9, opts.b2 ?? 0.999, opts.eps ?? 1e-8), addDecayedWeights(opts.weightDecay ?? 1e-4), scaleByLearningRate(lr));
}

export function withClipping(maxNorm: number, opt: GradientTransformation): GradientTransformation {
  return chain(clipByGlobalNorm(maxNorm), opt);
}
