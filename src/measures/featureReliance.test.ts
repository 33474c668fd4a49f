import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { keyFromSeed, splitKey } from "../core/prng.ts";
import { randomOrthogonal, rotateRows, slabData, slabEdges } from "../data/slabs.ts";
import { featureReliance, logitAccuracy, logitAuc, permuteColumns, randomizedAuc } from "./featureReliance.ts";

/** The k-slab rule: class 1 where x falls in a slab at an odd distance from the centre. */
const slabRule = (v: number, k: number) => {
  const e = slabEdges(k);
  const j = e.findIndex(([lo, hi]) => v >= lo - 1e-6 && v <= hi + 1e-6);
  return j < 0 ? -1 : Math.abs(j - (k - 1) / 2) % 2;
};

describe("slab data (Shah et al. 2020): every coordinate alone predicts y", () => {
  it("slab edges: k slabs of equal width with gaps 2m spanning [−w, w]", () => {
    const e = slabEdges(5);
    assert.ok(Math.abs(e[0][0] + 1) < 1e-12 && Math.abs(e[4][1] - 1) < 1e-12, `span [−1, 1]: ${JSON.stringify(e)}`);
    for (let j = 0; j < 5; j++) assert.ok(Math.abs(e[j][1] - e[j][0] - 0.24) < 1e-12, `slab ${j} width 0.24 (spec: (2w − 8m)/5)`);
    for (let j = 1; j < 5; j++) assert.ok(Math.abs(e[j][0] - e[j - 1][1] - 0.2) < 1e-12, `gap ${j} is 2m = 0.2`);
    assert.ok(Math.abs(slabEdges(7)[0][1] - slabEdges(7)[0][0] - 0.2 / 1.75) < 1e-12, "7-slab width (2 − 1.2)/7 = 0.114");
    assert.throws(() => slabEdges(4), /k must be an odd integer ≥ 3/);
  });

  it("LMS-5: the linear coordinate separates with margin 2m, each slab coordinate by its rule; deterministic; corrupted rows sit in the margin", () => {
    const a = slabData({ n: 4000, d: 6, k: 5, linear: true }, keyFromSeed(1));
    const { x, y } = a.data;
    const d = 6;
    let ones = 0;
    for (let i = 0; i < 4000; i++) {
      ones += y[i];
      assert.ok(y[i] === 1 ? x[i * d] >= 0.1 - 1e-6 : x[i * d] <= -0.1 + 1e-6, `row ${i}: the linear coordinate ${x[i * d]} on y = ${y[i]}'s side of the margin`);
      for (let c = 1; c < d; c++) assert.equal(slabRule(x[i * d + c], 5), y[i], `row ${i}, column ${c}: the 5-slab rule gives y`);
    }
    assert.ok(Math.abs(ones / 4000 - 0.5) < 0.03, `labels balanced: ${ones} of 4000 (atol 0.03)`);
    // y = 0 rows take the centre slab with probability ¾
    const centre = Array.from({ length: 4000 }, (_, i) => i).filter((i) => y[i] === 0);
    const inCentre = centre.filter((i) => Math.abs(x[i * d + 1]) <= 0.12 + 1e-6).length / centre.length;
    assert.ok(Math.abs(inCentre - 0.75) < 0.04, `centre-slab share of y = 0: ${inCentre} (spec ¾, atol 0.04)`);
    const b = slabData({ n: 4000, d: 6, k: 5, linear: true }, keyFromSeed(1));
    assert.deepEqual(b.data.x, a.data.x, "same key, same data");
    const c = slabData({ n: 2000, d: 3, k: 7, linear: true, corruptLinear: 0.1 }, keyFromSeed(2));
    assert.equal(c.corrupted.length, 200, "exactly round(0.1 · 2000) rows corrupted (the official code)");
    assert.equal(new Set(c.corrupted).size, 200, "distinct rows");
    for (const i of c.corrupted) assert.ok(Math.abs(c.data.x[i * 3]) <= 0.1 + 1e-6, `corrupted row ${i} inside the margin`);
    const ms = slabData({ n: 500, d: 4, k: 7, linear: false }, keyFromSeed(3));
    for (let i = 0; i < 500; i++) for (let col = 0; col < 4; col++) assert.equal(slabRule(ms.data.x[i * 4 + col], 7), ms.data.y[i], `MS-7 row ${i}, column ${col}`);
    assert.throws(() => slabData({ n: 10, d: 2, k: 5, linear: false, corruptLinear: 0.1 }, keyFromSeed(4)), /corruptLinear needs a linear coordinate/);
    // linear: L — the first L coordinates linear, each separating with the margin, drawn independently
    const all = slabData({ n: 1000, d: 3, k: 5, linear: 3 }, keyFromSeed(8));
    for (let i = 0; i < 1000; i++)
      for (let c = 0; c < 3; c++) {
        const v = all.data.x[i * 3 + c];
        assert.ok(all.data.y[i] === 1 ? v >= 0.1 - 1e-6 && v <= 1 + 1e-6 : v <= -0.1 + 1e-6 && v >= -1 - 1e-6, `linear: 3, row ${i} column ${c}: ${v} on y = ${all.data.y[i]}'s side`);
      }
    assert.notDeepEqual(Array.from({ length: 50 }, (_, i) => all.data.x[i * 3]), Array.from({ length: 50 }, (_, i) => all.data.x[i * 3 + 1]), "linear columns are independent draws");
    assert.throws(() => slabData({ n: 10, d: 2, k: 5, linear: 3 }, keyFromSeed(4)), /linear must be a boolean, an integer in \[0, 2\]/);
    // linear: a list — a slab at coordinate 0 and linear coordinates elsewhere (roles reversed)
    const rev = slabData({ n: 800, d: 3, k: 5, linear: [1, 2] }, keyFromSeed(9));
    for (let i = 0; i < 800; i++) {
      assert.equal(slabRule(rev.data.x[i * 3], 5), rev.data.y[i], `reversed roles, row ${i}: column 0 is a 5-slab`);
      for (const col of [1, 2]) assert.ok(rev.data.y[i] === 1 ? rev.data.x[i * 3 + col] >= 0.1 - 1e-6 : rev.data.x[i * 3 + col] <= -0.1 + 1e-6, `reversed roles, row ${i}: column ${col} linear`);
    }
    assert.throws(() => slabData({ n: 10, d: 3, k: 5, linear: [1, 1] }, keyFromSeed(4)), /distinct integers in \[0, 3\)/);
    assert.throws(() => slabData({ n: 10, d: 3, k: 11, linear: true }, keyFromSeed(4)), /leaves no room for 11 slabs/);
  });

  it("the rotation is orthogonal and rotating back recovers the coordinates", () => {
    const W = randomOrthogonal(7, keyFromSeed(5));
    for (let i = 0; i < 7; i++)
      for (let j = 0; j < 7; j++) {
        let s = 0;
        for (let t = 0; t < 7; t++) s += W[i * 7 + t] * W[j * 7 + t];
        assert.ok(Math.abs(s - (i === j ? 1 : 0)) < 1e-12, `(WWᵀ)[${i}, ${j}] = ${s}`);
      }
    const plain = slabData({ n: 300, d: 7, k: 5, linear: true }, keyFromSeed(6));
    const rot = slabData({ n: 300, d: 7, k: 5, linear: true, rotate: true }, keyFromSeed(6));
    assert.deepEqual(rot.data.y, plain.data.y, "rotation keeps the labels");
    const back = rotateRows(rot.data.x as Float32Array, 300, 7, rot.rotation!, true);
    for (let i = 0; i < back.length; i++) assert.ok(Math.abs(back[i] - plain.data.x[i]) < 1e-5, `x₀ = xWᵀ at ${i}: ${back[i]} vs ${plain.data.x[i]}`);
  });
});

describe("randomized AUC: feature reliance by permuting a group of coordinates", () => {
  const data = slabData({ n: 3000, d: 5, k: 5, linear: true, rotate: true }, keyFromSeed(7));
  const x = data.data.x as Float32Array, y = data.data.y;
  const W = data.rotation!;
  // classifiers in the unrotated basis: the linear coordinate only, and the first slab coordinate only
  const linearOnly = (xs: Float32Array, n: number) => Array.from({ length: n }, (_, i) => rotateRows(xs.subarray(i * 5, i * 5 + 5), 1, 5, W, true)[0]);
  const slabOnly = (xs: Float32Array, n: number) => Array.from({ length: n }, (_, i) => slabRule(rotateRows(xs.subarray(i * 5, i * 5 + 5), 1, 5, W, true)[1], 5));
  const groups = [{ name: "S (linear)", columns: [0] }, { name: "Sᶜ (slabs)", columns: [1, 2, 3, 4] }];

  it("a classifier that ignores S keeps its AUC exactly when S is randomized; one that uses only S drops to ≈ 0.5", async () => {
    const [k1, k2] = splitKey(keyFromSeed(8), 2);
    const lin = await randomizedAuc({ score: linearOnly, x, y, d: 5, groups, rotation: W, key: k1 });
    assert.equal(lin.auc, 1, "the linear coordinate separates the classes: AUC 1");
    assert.ok(Math.abs(lin.groups[0].auc - 0.5) < 0.04, `S-randomized AUC of a linear-only classifier ${lin.groups[0].auc} ≈ 0.5 (atol 0.04)`);
    assert.ok(Math.abs(lin.groups[1].auc - lin.auc) < 1e-4, `Sᶜ-randomized AUC of a classifier that ignores Sᶜ: ${lin.groups[1].auc} = its AUC (up to the float32 round trip of the rotation)`);
    const slab = await randomizedAuc({ score: slabOnly, x, y, d: 5, groups, rotation: W, key: k2 });
    assert.ok(Math.abs(slab.groups[0].auc - slab.auc) < 1e-4, `S-randomized AUC of a slab-only classifier ${slab.groups[0].auc} = its AUC ${slab.auc}`);
    assert.ok(Math.abs(slab.groups[1].auc - 0.5) < 0.04, `Sᶜ-randomized AUC of a slab-only classifier ${slab.groups[1].auc} ≈ 0.5`);
  });

  it("permuteColumns moves only the group's columns, all by one permutation; bad groups and one-class labels are errors", async () => {
    const xs = Float32Array.from({ length: 12 }, (_, i) => i);
    const p = permuteColumns(xs, 4, 3, [0, 2], [3, 2, 1, 0]);
    assert.deepEqual(Array.from(p), [9, 1, 11, 6, 4, 8, 3, 7, 5, 0, 10, 2]);
    const score = (z: Float32Array, n: number) => Array.from({ length: n }, (_, i) => z[i * 5]);
    await assert.rejects(randomizedAuc({ score, x, y, d: 5, groups: [{ name: "bad", columns: [5] }], key: keyFromSeed(9) }), /group "bad" names column 5, outside \[0, 5\)/);
    await assert.rejects(randomizedAuc({ score, x: x.subarray(0, 10), y: [1, 1], d: 5, groups, key: keyFromSeed(10) }), /all of one class/);
  });
});

describe("feature reliance of a C-class model (logits), with repeated permutations", () => {
  it("binary: the AUC of l₁ − l₀ equals randomizedAuc's on the same keys; repeats give a mean and a spread", async () => {
    const data = slabData({ n: 2000, d: 4, k: 5, linear: true }, keyFromSeed(21));
    const x = data.data.x as Float32Array, y = data.data.y;
    const logits = (xs: Float32Array, n: number) => Float32Array.from({ length: 2 * n }, (_, j) => (j % 2 ? 3 : -3) * xs[Math.floor(j / 2) * 4]);
    const groups = [{ name: "S", columns: [0] }, { name: "Sc", columns: [1, 2, 3] }];
    const one = await featureReliance({ logits, classes: 2, x, y, d: 4, groups, key: keyFromSeed(22) });
    const ref = await randomizedAuc({ score: (xs, n) => Array.from({ length: n }, (_, i) => 6 * xs[i * 4]), x, y, d: 4, groups, key: keyFromSeed(22) });
    assert.equal(one.auc, ref.auc, "unchanged data: the same AUC");
    one.groups.forEach((g, i) => assert.equal(g.auc, ref.groups[i].auc, `${g.name}: the same permutation, the same AUC`));
    assert.equal(one.groups[0].aucSd, null, "one repeat: no spread");
    const five = await featureReliance({ logits, classes: 2, x, y, d: 4, groups, repeats: 5, key: keyFromSeed(23) });
    assert.ok(Math.abs(five.groups[0].auc - 0.5) < 0.03 && five.groups[0].aucSd! > 0, `S: ${five.groups[0].auc} ± ${five.groups[0].aucSd}`);
    assert.ok(Math.abs(five.groups[0].accuracy - 0.5) < 0.03, `S-randomised accuracy ${five.groups[0].accuracy} ≈ 0.5`);
    assert.equal(five.groups[1].auc, 1, "Sc ignored: AUC 1");
    assert.equal(five.groups[1].aucSd, 0, "and no spread");
    assert.equal(five.accuracy, 1, "the linear coordinate classifies every row");
  });

  it("C = 3: the macro one-vs-rest AUC of the softmax equals the hand count; a class the model reads from one column loses only that", async () => {
    // hand case: 4 rows, 3 classes; softmax probabilities rank the rows per class
    const z = Float32Array.from([2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 0, 0]);
    assert.equal(logitAuc(z, [0, 1, 2, 0], 3), 1, "each class's probability ranks its rows first");
    assert.equal(logitAccuracy(z, [0, 1, 2, 1], 3), 0.75, "argmax accuracy");
    // class c is signalled by column c (x_c = 1 for class c, else 0, plus noise in column 3); the model reads columns 0..2
    const n = 900;
    const y = Int32Array.from({ length: n }, (_, i) => i % 3);
    const x = new Float32Array(n * 4);
    for (let i = 0; i < n; i++) {
      x[i * 4 + y[i]] = 1;
      x[i * 4 + 3] = ((i * 7919) % 13) / 13;
    }
    const logits = (xs: Float32Array, rows: number) => Float32Array.from({ length: 3 * rows }, (_, j) => 4 * xs[Math.floor(j / 3) * 4 + (j % 3)]);
    const r = await featureReliance({ logits, classes: 3, x, y, d: 4, groups: [{ name: "noise", columns: [3] }, { name: "class0", columns: [0] }], repeats: 3, key: keyFromSeed(24) });
    assert.equal(r.auc, 1, "every class separated");
    assert.equal(r.groups[0].auc, 1, "the ignored column: unchanged");
    assert.ok(r.groups[1].auc < 0.95 && r.groups[1].auc > 0.6, `class 0's column randomised: the macro AUC drops (${r.groups[1].auc}), classes 1 and 2 keep some`);
    assert.ok(Math.abs(r.groups[1].accuracy - (1 - 2 / 9)) < 0.08, `accuracy ≈ 1 − ⅔·⅓ (${r.groups[1].accuracy})`);
  });

  it("bad input is a RangeError naming it, and the key is consumed", async () => {
    const x = new Float32Array(8), y = [0, 1, 0, 1];
    const logits = (_: Float32Array, n: number) => new Float32Array(2 * n);
    const k = keyFromSeed(25);
    await assert.rejects(featureReliance({ logits, classes: 2, x, y: [0, 2, 0, 1], d: 2, groups: [{ name: "a", columns: [0] }], key: k }), /label 2 of row 1 is outside 0..1/);
    assert.throws(() => k.dispose(), "the key was consumed on the error path");
    await assert.rejects(featureReliance({ logits, classes: 2, x, y, d: 2, groups: [{ name: "a", columns: [0] }], repeats: 0, key: keyFromSeed(26) }), /repeats must be an integer ≥ 1/);
    await assert.rejects(featureReliance({ logits: (_, n) => new Float32Array(n), classes: 2, x, y, d: 2, groups: [{ name: "a", columns: [0] }], key: keyFromSeed(27) }), /returned 4 values for 4 rows, expected 4 × 2/);
    await assert.rejects(featureReliance({ logits, classes: 2, x, y, d: 2, groups: [], rotation: new Float64Array(3), key: keyFromSeed(28) }), /rotation has 3 entries, expected 2 × 2/);
  });
});
