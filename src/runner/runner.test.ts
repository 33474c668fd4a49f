import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { GenlabError, formatIssue, formatPath } from "../core/errors.ts";
import { canonicalJson, hashConfig } from "../core/hash.ts";
import { EXPERIMENTS } from "../../experiments/index.ts";
import { findExperiment } from "../declare/registry.ts";
import { resolveConfig } from "./run.ts";
import { parseValues, type Schema } from "../declare/schema.ts";

const schema: Schema = {
  lr: { type: "number", default: 0.1, doc: "", min: 0, max: 10, minExclusive: true },
  steps: { type: "number", default: 10, doc: "", min: 1, integer: true },
  act: { type: "enum", values: ["relu", "tanh"], default: "relu", doc: "" },
  on: { type: "boolean", default: false, doc: "" },
};

const messages = (r: ReturnType<typeof parseValues>) => (r.ok ? [] : r.issues.map(formatIssue));

describe("config schema", () => {
  it("fills defaults and accepts valid values", () => {
    const r = parseValues(schema, { lr: 10, act: "tanh" });
    assert.deepEqual(r, { ok: true, value: { lr: 10, steps: 10, act: "tanh", on: false } });
  });

  it("pinned messages: wrong type, out of range, not an integer, bad enum, unknown key", () => {
    assert.deepEqual(messages(parseValues(schema, { lr: "abc" }, ["optim"])), ['✖ expected a number in (0, 10], got "abc" → at optim.lr']);
    assert.deepEqual(messages(parseValues(schema, { lr: 0 })), ["✖ expected a number in (0, 10], got 0 → at lr"]);
    assert.deepEqual(messages(parseValues(schema, { steps: 2.5 })), ["✖ expected an integer in [1, ∞), got 2.5 → at steps"]);
    assert.deepEqual(messages(parseValues(schema, { act: "gelu" })), ['✖ expected one of "relu", "tanh", got "gelu" → at act']);
    assert.deepEqual(messages(parseValues(schema, { on: "yes" })), ['✖ expected true or false, got "yes" → at on']);
    assert.deepEqual(messages(parseValues(schema, { lrr: 1 })), ['✖ unknown key "lrr" (did you mean "lr"?); valid keys: lr, steps, act, on → at lrr']);
  });

  it("paths: dotted keys, indices, flags", () => {
    assert.equal(formatPath(["optim", "lr"]), "optim.lr");
    assert.equal(formatPath(["layers", 2, "w"]), "layers[2].w");
    assert.equal(formatPath(["--set", "foo"]), "--set foo");
  });
});

describe("experiment configuration", () => {
  const exp = findExperiment(EXPERIMENTS, "grokking-modular");

  it("--set values are typed by the schema and split into hparams and settings", () => {
    const { hparams, settings } = resolveConfig(exp, "quick", ["p=59", "op=mul", "logEvery=10", "checkpointEvery=7"]);
    assert.equal(hparams.p, 59);
    assert.equal(hparams.op, "mul");
    assert.equal(hparams.steps, exp.sizes.quick.steps);
    // the logging grid feeds the verdict, so it is an hparam (hashed); checkpoints are a setting
    assert.equal(hparams.logEvery, 10);
    assert.equal(settings.checkpointEvery, 7);
  });

  it("all problems are reported at once, with paths", () => {
    try {
      resolveConfig(exp, "full", ["lr=abc", "p=91", "foo=1", "batchSize=1.5", "nokey"]);
      assert.fail("expected an error");
    } catch (e) {
      assert.ok(e instanceof GenlabError, "e instanceof GenlabError");
      assert.deepEqual(e.issues.map(formatIssue), [
        '✖ unknown key "foo" (did you mean "op"?); valid keys: p, op, trainFraction, corruption, hidden, activation, loss, parametrization, initScale, outputScale, lr, weightDecay, b1, b2, clip, steps, batchSize, logEvery, perDecade, trackParamNorm, checkpointEvery → at --set foo',
        '✖ expected key=value, got "nokey" → at --set',
        "✖ expected a prime, got 91 → at hparams.p",
        '✖ expected a number in (0, 10], got "abc" → at hparams.lr',
        "✖ expected an integer in [0, 10000000], got 1.5 → at hparams.batchSize",
      ]);
    }
  });

  it("unknown experiment lists the valid ones", () => {
    assert.throws(() => findExperiment(EXPERIMENTS, "grok"), (e: unknown) => e instanceof GenlabError && formatIssue(e.issues[0]) === `✖ unknown experiment "grok"; valid experiments: ${EXPERIMENTS.map((x) => x.id).join(", ")} → at <experiment>`);
  });

  it("hparam hashes ignore key order and change with any value", () => {
    assert.equal(canonicalJson({ b: 1, a: [1, { d: 2, c: 3 }] }), '{"a":[1,{"c":3,"d":2}],"b":1}');
    assert.equal(hashConfig({ x: 1, y: 2 }), hashConfig({ y: 2, x: 1 }));
    assert.notEqual(hashConfig({ x: 1, y: 2 }), hashConfig({ x: 1, y: 3 }));
  });

  it("every registered experiment declares sizes inside its schema", () => {
    for (const e of EXPERIMENTS) {
      for (const size of ["smoke", "quick", "full"] as const) assert.doesNotThrow(() => resolveConfig(e, size, []), `${e.id} ${size}`);
    }
  });
});
