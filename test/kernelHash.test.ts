// jax-js's expression hash (FpHash, replaced by patches/@jax-js+jax+0.1.25.patch with a Number-arithmetic
// 64-bit hash: the BigInt version cost ~20% of eager dispatch). Its values key jax-js's kernel caches, so
// equal inputs must hash equal and distinct ones apart: checked on a million inputs of every kind it takes.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

type Hash = { hash(...values: unknown[]): bigint };

async function fpHash(): Promise<Hash> {
  const dist = dirname(createRequire(import.meta.url).resolve("@jax-js/jax"));
  const mod = (await import(pathToFileURL(join(dist, "backend-CnjgxpXq.js")).href)) as { R: Hash };
  return mod.R;
}

describe("jax-js's expression hash (patched)", () => {
  it("is the patched one, deterministic, a 64-bit bigint", async () => {
    const H = await fpHash();
    const dist = dirname(createRequire(import.meta.url).resolve("@jax-js/jax"));
    assert.ok(readFileSync(join(dist, "backend-CnjgxpXq.js"), "utf8").includes("genlab: two 32-bit lanes"), "FpHash is not patched: run npm install");
    const v = H.hash("Mul", "float32", 3, 2.5, true, null, undefined, 12n);
    assert.equal(typeof v, "bigint", "the hash is a bigint, as jax-js's callers expect");
    assert.equal(H.hash("Mul", "float32", 3, 2.5, true, null, undefined, 12n), v, "same inputs, same hash");
    assert.ok(v >= 0n && v < 2n ** 64n, `a 64-bit value: ${v}`);
  });

  it("no collision among a million distinct inputs: strings, integers (negative, past 2³²), floats, bigints, nested hashes, sequences", async () => {
    const H = await fpHash();
    const seen = new Map<bigint, string>();
    let collisions = 0;
    const put = (label: string, ...values: unknown[]) => {
      const h = H.hash(...values);
      const was = seen.get(h);
      if (was !== undefined && was !== label) collisions++;
      seen.set(h, label);
    };
    for (let i = 0; i < 150_000; i++) {
      put(`s${i}`, `{"shape":[${i}],"dtype":"float32"}`);
      put(`i${i}`, i);
      put(`n${i}`, -i - 1);
      put(`I${i}`, 2 ** 33 + i * 4097);
      put(`f${i}`, i + 0.5);
      put(`b${i}`, BigInt(i) * 1_000_000_007n + 2n ** 40n);
      put(`h${i}`, H.hash(`x${i}`));
      put(`q${i}`, "Add", i, "Mul", i + 1);
    }
    assert.equal(seen.size, 8 * 150_000, `${8 * 150_000} distinct inputs, ${seen.size} distinct hashes`);
    assert.equal(collisions, 0, "no two distinct inputs share a hash");
    // order and grouping matter
    assert.notEqual(H.hash("ab", "c"), H.hash("a", "bc"), "string boundaries are hashed");
    assert.notEqual(H.hash(1, 2), H.hash(2, 1), "order is hashed");
    assert.notEqual(H.hash(1), H.hash(1.0000000000000002), "an integer and the float next to it");
    assert.notEqual(H.hash(1), H.hash(1n), "a number and a bigint of the same value");
  });
});
