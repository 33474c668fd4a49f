/**
 * Explicit PRNG keys (jax-js threefry). Every random draw in genlab flows from a key derived from the
 * run's seed; there is no global RNG. A key is a uint32[2] array and follows the ownership rules:
 * `splitKey` consumes its argument.
 */
import { DType, numpy as np, random, type Array as JArray } from "@jax-js/jax";

export type Key = JArray;

export function keyFromSeed(seed: number): Key {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`seed must be an integer in [0, 2^32), got ${seed}`);
  // the bits of random.key(seed) ([0, seed] as uint32), made from host memory: random.key builds them with a
  // stack kernel, which cost ~70 µs a call where a loop draws a key per step (src/core/core.test.ts checks the bits)
  return np.array(new Uint32Array([0, seed]), { dtype: DType.Uint32 });
}

/** Split a key into `n` independent keys (consumes `key`). */
export function splitKey(key: Key, n = 2): Key[] {
  const keys = random.split(key, n);
  return np.split(keys, n, 0).map((k) => k.reshape([2]));
}

/** Serialise a key (consumes it) so that a checkpoint can restore the exact stream. */
export function keyToData(key: Key): number[] {
  return Array.from(key.dataSync() as Uint32Array);
}

export function keyFromData(data: number[]): Key {
  return np.array(new Uint32Array(data), { dtype: DType.Uint32 });
}

/** Host-side uniform permutation of 0..n-1 drawn from a key (consumes it). */
export function permutationFromKey(key: Key, n: number): Int32Array {
  const perm = random.permutation(key, n);
  return Int32Array.from(perm.dataSync() as ArrayLike<number>);
}

/** Host-side uniform floats in [0, 1) drawn from a key (consumes it). */
export function uniformFromKey(key: Key, n: number): Float32Array {
  const u = random.uniform(key, [n]);
  return Float32Array.from(u.dataSync() as ArrayLike<number>);
}

/** Host-side standard normals in float64 (drawn in float32 by jax-js) from a key (consumes it). */
export function normalFromKey(key: Key, n: number): Float64Array {
  return Float64Array.from(random.normal(key, [n]).dataSync() as ArrayLike<number>);
}

/**
 * One key per role (data, init, shuffle, …) from a run's seed, in one place, so that no two roles of an
 * experiment ever share a stream (using the data key for the init too is a silent, plausible bug). The
 * keys are `splitKey(keyFromSeed(seed), roles.length)` in the order given: experiments that split by hand
 * before get the same numbers. Roles must be distinct names.
 */
export function roleKeys<const R extends readonly string[]>(seed: number, roles: R): Record<R[number], Key> {
  if (new Set(roles).size !== roles.length) throw new RangeError(`roleKeys: roles must be distinct, got ${roles.join(", ")}`);
  const keys = splitKey(keyFromSeed(seed), roles.length);
  return Object.fromEntries(roles.map((r, i) => [r, keys[i]])) as Record<R[number], Key>;
}
