/**
 * Optax-style gradient transformations (Babuschkin et al., "The DeepMind JAX Ecosystem", 2020):
 * `init(params) → state`, `update(updates, state, params?) → [updates, state]`, composed with `chain`.
 * Ownership: `init` consumes params; `update` consumes updates, state and params (a transform that does
 * not need params disposes them). All state is a pytree of arrays, so whole steps can be jitted and
 * checkpointed.
 */
import { numpy as np, type Array } from "@jax-js/jax";
import { treeDispose, treeGlobalNorm, treeMap, treeRef, treeZerosLike, type Tree } from "../core/tree.ts";

export type OptState = Tree;

export interface GradientTransformation {
  init(params: Tree): OptState;
  update(updates: Tree, state: OptState, params?: Tree): [Tree, OptState];
  /**
   * true: `update` takes per-example gradients (every leaf with a leading batch axis [B, …]) and returns
   * an ordinary update (optim/robust.ts). The training loop then computes per-example gradients with
   * vmap(grad) instead of the gradient of the mean loss. Only the first transform of a chain may set it.
   */
  readonly perExample?: boolean;
  /**
   * Sharpness-aware minimisation (optim/sam.ts): the training loop computes the gradient g at θ, asks for
   * ε = perturbation(g, θ), and hands `update` the gradient at θ + ε on the same batch. Consumes both
   * arguments. Only the first transform of a chain may set it.
   */
  readonly perturbation?: (grads: Tree, params: Tree) => Tree;
}

/** A schedule maps the step count (float32 scalar array, consumed) to a value (scalar array). */
export type Schedule = (count: Array) => Array;

/**
 * base^t for a constant base, as exp(t·ln base) with ln base computed in float64 on the host.
 * jax-js 0.1.25's np.power(0.999, 1) returns 0.99898773 (relative error 1.2e-5), which makes Adam's
 * bias correction 1 − β₂ᵗ wrong by 1.2% at β₂ = 0.999 (found by the hand-computed Adam test).
 */
export function powConst(base: number, t: Array): Array {
  if (base <= 0) throw new RangeError(`powConst needs a positive base, got ${base}`);
  return np.exp(t.mul(Math.log(base)));
}

const empty = (params: Tree): OptState => {
  treeDispose(params);
  return [];
};

export function identity(): GradientTransformation {
  return {
    init: empty,
    update(u, s, p) {
      treeDispose(p);
      return [u, s];
    },
  };
}

/** updates ← s·updates. */
export function scale(s: number): GradientTransformation {
  return {
    init: empty,
    update(u, st, p) {
      treeDispose(p);
      return [treeMap((x) => x.mul(s), u), st];
    },
  };
}

/** updates ← −lr(t)·updates (flipSign: gradient descent). State: the step count. */
export function scaleByLearningRate(lr: number | Schedule, flipSign = true): GradientTransformation {
  const sign = flipSign ? -1 : 1;
  if (typeof lr === "number") return scale(sign * lr);
  return scaleBySchedule((c) => lr(c).mul(sign));
}

export function scaleBySchedule(schedule: Schedule): GradientTransformation {
  return {
    init(params) {
      treeDispose(params);
      return { count: np.zeros([]) };
    },
    update(u, state, p) {
      treeDispose(p);
      const { count } = state as { count: Array };
      const factor = schedule(count.ref);
      const out = treeMap((x) => x.mul(factor.ref), u);
      factor.dispose();
      return [out, { count: count.add(1) }];
    },
  };
}

/**
 * Heavy-ball momentum (Optax `trace`): t ← decay·t + g; update = t, or g + decay·t with Nesterov
 * (Sutskever et al. 2013 in the form PyTorch's SGD(nesterov=True) uses).
 */
export function traceMomentum(decay: number, nesterov = false): GradientTransformation {
  return {
    init: (params) => ({ trace: treeZerosLike(params) }),
    update(u, state, p) {
      treeDispose(p);
      const { trace } = state as { trace: Tree };
      if (!nesterov) {
        const t = treeMap((tr, g) => tr.mul(decay).add(g), trace, u);
        return [treeRef(t), { trace: t }];
      }
      const t = treeMap((tr, g) => tr.mul(decay).add(g), trace, treeRef(u));
      return [treeMap((g, tr) => g.add(tr.mul(decay)), u, treeRef(t)), { trace: t }];
    },
  };
}

/**
 * Adam (Kingma & Ba 2015, Alg. 1): m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², update = m̂ / (√v̂ + ε)
 * with bias corrections m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ).
 */
export function scaleByAdam(b1 = 0.9, b2 = 0.999, eps = 1e-8): GradientTransformation {
  return {
    init: (params) => ({ count: np.zeros([]), mu: treeZerosLike(treeRef(params)), nu: treeZerosLike(params) }),
    update(u, state, p) {
      treeDispose(p);
      const { count, mu, nu } = state as { count: Array; mu: Tree; nu: Tree };
      const c = count.add(1);
      const mu2 = treeMap((m, g) => m.mul(b1).add(g.mul(1 - b1)), mu, treeRef(u));
      const nu2 = treeMap((v, g) => v.mul(b2).add(np.square(g).mul(1 - b2)), nu, u);
      const bc1 = powConst(b1, c.ref).mul(-1).add(1);
      const bc2 = powConst(b2, c.ref).mul(-1).add(1);
      const out = treeMap((m, v) => m.div(bc1.ref).div(np.sqrt(v.div(bc2.ref)).add(eps)), treeRef(mu2), treeRef(nu2));
      bc1.dispose();
      bc2.dispose();
      return [out, { count: c, mu: mu2, nu: nu2 }];
    },
  };
}

/**
 * updates ← updates + wd·params. Placed before the learning-rate scaling of `adamw` this is decoupled
 * weight decay (Loshchilov & Hutter 2019: p ← p − lr·wd·p − lr·adam); placed before `scaleByAdam` it is
 * coupled L2 regularisation (PyTorch's Adam(weight_decay=…)). `mask(path)` restricts it to some leaves
 * by their index in the flattened tree.
 */
export function addDecayedWeights(weightDecay: number): GradientTransformation {
  return {
    init: empty,
    update(u, s, p) {
      if (!p) throw new Error("addDecayedWeights needs params: pass them to update()");
      if (weightDecay === 0) {
        treeDispose(p);
        return [u, s];
      }
      return [treeMap((g, w) => g.add(w.mul(weightDecay)), u, p), s];
    },
  };
}

/** Rescale updates so that their global L2 norm is at most maxNorm (Pascanu et al. 2013). */
export function clipByGlobalNorm(maxNorm: number): GradientTransformation {
  return {
    init: empty,
    update(u, s, p) {
      treeDispose(p);
      const norm = treeGlobalNorm(treeRef(u));
      // factor = min(1, maxNorm / norm), written so that norm = 0 gives 1.
      const factor = np.minimum(np.array(1, { dtype: norm.dtype }), np.array(maxNorm, { dtype: norm.dtype }).div(np.maximum(norm, 1e-30)));
      const out = treeMap((g) => g.mul(factor.ref), u);
      factor.dispose();
      return [out, s];
    },
  };
}

/** Keeps the global norm of the updates passing through it in its state (a monitoring transform). */
export function recordUpdateNorm(): GradientTransformation {
  return {
    init: (params) => {
      treeDispose(params);
      return { norm: np.zeros([]) };
    },
    update(u, state, p) {
      treeDispose(p);
      treeDispose(state);
      return [u, { norm: treeGlobalNorm(treeRef(u)) }];
    },
  };
}

/** Compose transformations left to right; state is the list of their states. */
export function chain(...transforms: GradientTransformation[]): GradientTransformation {
  if (transforms.slice(1).some((t) => t.perExample)) throw new RangeError("chain: a per-example aggregator (winsorize, medianOfMeans) must come first");
  if (transforms.slice(1).some((t) => t.perturbation)) throw new RangeError("chain: sam() must come first");
  if (transforms[0]?.perExample && transforms[0]?.perturbation) throw new RangeError("chain: a transform cannot be both per-example and sharpness-aware");
  return {
    ...(transforms[0]?.perExample ? { perExample: true } : {}),
    ...(transforms[0]?.perturbation ? { perturbation: transforms[0].perturbation } : {}),
    init(params) {
      const states = transforms.map((t) => t.init(treeRef(params)));
      treeDispose(params);
      return states;
    },
    update(u, state, p) {
      const states = state as OptState[];
      const next: OptState[] = [];
      let cur = u;
      for (let i = 0; i < transforms.length; i++) {
        const [nu, ns] = transforms[i].update(cur, states[i], p ? treeRef(p) : undefined);
        cur = nu;
        next.push(ns);
      }
      treeDispose(p);
      return [cur, next];
    },
  };
}

/** params + updates (consumes both). */
export function applyUpdates<T extends Tree>(params: T, updates: Tree): T {
  return treeMap((w, d) => w.add(d), params, updates as T);
}
