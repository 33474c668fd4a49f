// Child of test/matmul.test.ts: exp, log, 1/x and a softmax of many float32 inputs (ordinary values,
// ±0, ±Inf, NaN, subnormals, overflow and underflow edges) through jitted jax-js kernels; prints each
// result's float32 bits as JSON. Run with GENLAB_JAX_SIMD_TRANSCENDENTAL=0 and =1 and compare.
import "../../src/platform/nodeShim.ts";
import { jit, nn, numpy as np, type Array } from "@jax-js/jax";
import { initDevices } from "../../src/core/jax.ts";

await initDevices();
const special = [0, -0, Infinity, -Infinity, NaN, 1e-45, -1e-45, 1e-40, 1.1754944e-38, 88.72, 88.73, 89, -87.3, -87.4, -103.9, -104, 1, -1, 0.5, 2, 3.4e38, -3.4e38];
// 4,120 inputs: jax-js takes its SIMD path only for sizes that are a multiple of 4
const xs = new Float32Array(4098 + special.length);
for (let i = 0; i < 4098; i++) xs[i] = (i - 2048) / 23.3 + Math.sin(i) * 0.01;
xs.set(special, 4098);
const bits = async (a: Array) => [...new Uint32Array(((await a.data()) as Float32Array).buffer)];
const x = () => np.array(xs);
const out = {
  exp: await bits(jit((v: Array) => np.exp(v))(x())),
  log: await bits(jit((v: Array) => np.log(v))(x())),
  reciprocal: await bits(jit((v: Array) => np.reciprocal(v))(x())),
  softmax: await bits(jit((v: Array) => nn.softmax(v.reshape([-1, 8]), -1))(np.array(xs.slice(0, 4096)))),
};
console.log(JSON.stringify(out));
