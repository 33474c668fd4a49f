import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { adjustForSize, frobeniusSquared, marginQuantile, matrixOf, normMeasures, pathNormSquared, spectralMarginBound, spectralSquared, type Matrix } from "./norms.ts";

const rand = (n: number, seed: number) => Float64Array.from({ length: n }, (_, i) => Math.sin(1000 * seed + 12.9898 * (i + 1)) * 0.7);
const hasNumpy = spawnSync("/usr/bin/python3", ["-c", "import numpy"]).status === 0;

describe("norm and margin measures (measures/norms.ts)", () => {
  it("Frobenius and spectral norms on a hand case; the margin is the ⌊m/10⌋-th smallest", () => {
    const w = matrixOf([3, 0, 0, 4], 2, 2);
    assert.equal(frobeniusSquared(w), 25);
    assert.ok(Math.abs(spectralSquared(w) - 16) < 1e-9, "σ_max² = 16");
    assert.equal(marginQuantile([5, -3, 2, 8, 1, 0.5, 7, 9, 4, 6, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]), 0.5);
  });

  it("the path norm is invariant to ReLU rescaling (W₁, b₁ × c, W₂ ÷ c) and changes when only one layer is scaled", () => {
    const l = (w: Matrix, b?: Float64Array) => ({ w, b });
    const w1 = matrixOf(rand(12, 1), 3, 4);
    const b1 = rand(4, 2);
    const w2 = matrixOf(rand(8, 3), 4, 2);
    const b2 = rand(2, 4);
    const base = pathNormSquared([l(w1, b1), l(w2, b2)]);
    const c = 3.7;
    const scaled = pathNormSquared([l(matrixOf(w1.data.map((v) => v * c), 3, 4), b1.map((v) => v * c)), l(matrixOf(w2.data.map((v) => v / c), 4, 2), b2)]);
    assert.ok(Math.abs(scaled - base) < 1e-10 * base, `${scaled} vs ${base}`);
    const broken = pathNormSquared([l(matrixOf(w1.data.map((v) => v * c), 3, 4), b1), l(w2, b2)]);
    assert.ok(Math.abs(broken - base) > 0.1 * base, "scaling one layer changes it");
  });

  it("the catalogue against numpy on the same weights (spectral and Frobenius norms, log products, the path norm; 1e-9)", { skip: hasNumpy ? false : "needs /usr/bin/python3 with numpy" }, () => {
    const shapes = [[5, 7], [7, 4], [4, 3]];
    const weights = shapes.map(([r, c], i) => matrixOf(rand(r * c, 10 + i), r, c));
    const init = shapes.map(([r, c], i) => matrixOf(rand(r * c, 20 + i).map((v) => v * 0.5), r, c));
    const margins = Array.from({ length: 50 }, (_, i) => Math.cos(i) * 3);
    const ms = normMeasures({ weights, init, layers: weights.map((w) => ({ w })), margins, numParams: 90 });
    const py = `
import numpy as np, json, sys
d = json.loads(sys.stdin.read())
W = [np.array(w).reshape(s) for w, s in zip(d["w"], d["s"])]
W0 = [np.array(w).reshape(s) for w, s in zip(d["w0"], d["s"])]
m = np.sort(np.array(d["margins"]))
g = abs(m[len(m)//10 - 1])
spec = [np.linalg.norm(w, 2)**2 for w in W]
fro = [np.linalg.norm(w, 'fro')**2 for w in W]
h = np.ones(W[0].shape[0])
for i, w in enumerate(W):
    h = h @ (w**2)
    if i < len(W) - 1: h = np.maximum(h, 0)
print(json.dumps({"log_prod_of_spec": float(np.sum(np.log(spec))), "fro_over_spec": float(sum(f/s for f, s in zip(fro, spec))), "log_prod_of_fro_over_margin": float(np.sum(np.log(fro)) - 2*np.log(g)), "dist_spec_init": float(sum(np.linalg.norm(a-b, 2)**2 for a, b in zip(W, W0))), "path_norm": float(h.sum()), "inverse_margin": float(1/g**2)}))
`;
    const r = spawnSync("/usr/bin/python3", ["-c", py], { input: JSON.stringify({ w: weights.map((w) => Array.from(w.data)), w0: init.map((w) => Array.from(w.data)), s: shapes, margins }), encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const ref = JSON.parse(r.stdout) as Record<string, number>;
    for (const [id, v] of Object.entries(ref)) {
      const got = ms.find((m) => m.id === id)!.value;
      assert.ok(Math.abs(got - v) <= 1e-9 * Math.max(1, Math.abs(v)), `${id}: ${got} vs numpy ${v}`);
    }
  });

  it("the size adjustment and the spectral margin bound's term on a hand case", () => {
    assert.equal(adjustForSize("log_prod_of_spec", 10, Math.E ** 2), 4);
    assert.equal(adjustForSize("params", 400, 100), 2);
    const w = matrixOf([2, 0, 0, 1], 2, 2);
    const zero = matrixOf([0, 0, 0, 0], 2, 2);
    // one layer: ‖W‖₂ = 2, ‖W − 0‖_{2,1} = 3: R = 2 · (3^{2/3} / 2^{2/3})^{3/2} = 2 · 3/2 = 3
    const b = spectralMarginBound({ weights: [w], init: [zero], gamma: 1, inputFrobenius: 1, m: 1 });
    assert.ok(Math.abs(b.complexity - 3) < 1e-9, `R ${b.complexity}`);
  });
});
