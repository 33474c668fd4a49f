import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DType, numpy as np, random, type Array } from "@jax-js/jax";
import { keyFromSeed } from "../core/prng.ts";
import { qr } from "../core/linalg.ts";
import { linearCka, linearCkaHost } from "./cka.ts";
import { gradCheck, onCpu } from "../../test/util/numeric.ts";

const host = (seed: number, n: number) => Float64Array.from(random.normal(keyFromSeed(seed), [n]).dataSync() as Float32Array);
const dev = (a: Float64Array, shape: number[]) => np.array(Float32Array.from(a), { shape });
const cka = (x: Float64Array, p: number, y: Float64Array, q: number, n: number) => linearCka(dev(x, [n, p]), dev(y, [n, q])).item();

describe("linear CKA (Kornblith et al. 2019)", () => {
  const n = 40, p = 7, q = 5;
  const X = host(1, n * p), Y = host(2, n * q);

  it("CKA(X, X) = 1; invariant to an orthogonal transform and to isotropic scaling; symmetric; in [0, 1]", () => {
    assert.ok(Math.abs(cka(X, p, X, p, n) - 1) < 1e-5, "with itself: 1");
    const Q = qr(host(3, p * p), p, p).q; // p × p orthogonal
    const XQ = new Float64Array(n * p);
    for (let i = 0; i < n; i++) for (let c = 0; c < p; c++) for (let t = 0; t < p; t++) XQ[i * p + c] += X[i * p + t] * Q[t * p + c];
    const base = cka(X, p, Y, q, n);
    assert.ok(Math.abs(cka(XQ, p, Y, q, n) - base) < 1e-5, `orthogonal transform: ${cka(XQ, p, Y, q, n)} vs ${base}`);
    assert.ok(Math.abs(cka(X.map((v) => 3.7 * v), p, Y, q, n) - base) < 1e-5, "isotropic scaling");
    assert.ok(Math.abs(cka(X.map((v, i) => v + (i % p)), p, Y, q, n) - base) < 1e-5, "a shift of every column (centring)");
    assert.ok(Math.abs(cka(Y, q, X, p, n) - base) < 1e-6, "symmetric");
    assert.ok(base > 0 && base < 1, `two independent Gaussian representations: ${base} in (0, 1)`);
    // not invariant to an anisotropic scaling (linear CKA is not an invertible-linear invariant)
    assert.ok(Math.abs(cka(X.map((v, i) => (i % p === 0 ? 10 * v : v)), p, Y, q, n) - base) > 1e-3, "anisotropic scaling changes it");
  });

  it("the feature and Gram forms agree (the Gram form is chosen when p·q > n²), and equal the float64 host value", () => {
    const m = 6; // n² = 36 < p·q for wide representations
    const wide = host(4, m * 50), wide2 = host(5, m * 40);
    const gramForm = cka(wide, 50, wide2, 40, m);
    const ref = linearCkaHost(wide, 50, wide2, 40, m);
    assert.ok(Math.abs(gramForm - ref) < 1e-5, `Gram form ${gramForm} vs host ${ref}`);
    const featForm = cka(X, p, Y, q, n);
    assert.ok(Math.abs(featForm - linearCkaHost(X, p, Y, q, n)) < 1e-5, "feature form vs host");
    // [n, C, H, W] maps are flattened
    const maps = linearCka(dev(X.slice(0, n * 6), [n, 2, 3, 1]), dev(Y, [n, q])).item();
    assert.ok(Math.abs(maps - linearCkaHost(X.slice(0, n * 6), 6, Y, q, n)) < 1e-5, "4-D activations flattened");
  });

  it("its gradient passes a float64 finite-difference check (both forms); mismatched n is a RangeError", async () => {
    await onCpu(() => {
      for (const [m, a, b] of [[12, 3, 4], [4, 9, 7]] as const) {
        const Yc = np.array(globalThis.Array.from(host(7, m * b)), { shape: [m, b], dtype: DType.Float64, device: "cpu" });
        const params = np.array(globalThis.Array.from(host(6, m * a)), { shape: [m, a], dtype: DType.Float64, device: "cpu" });
        const r = gradCheck((x) => linearCka(x as Array, Yc.ref), params);
        Yc.dispose();
        assert.ok(r.maxRelErr < 1e-6, `n = ${m}, p = ${a}, q = ${b}: relative error ${r.maxRelErr} (${JSON.stringify(r.checks)})`);
      }
    });
    assert.throws(() => linearCka(np.zeros([3, 2]), np.zeros([4, 2])), /same number of examples ≥ 2, got 3 and 4/);
  });
});
