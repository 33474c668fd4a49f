// The CLI as a user runs it: separate processes, real files, real signals.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const BIN = resolve(import.meta.dirname, "../bin/genlab.js");

function genlab(args: string[], opts: { cwd?: string } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", cwd: opts.cwd, env: { ...process.env, FORCE_COLOR: "0" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function readJsonl(path: string) {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

describe("genlab CLI", () => {
  it("list --json names each experiment with its paper number, class and title", () => {
    const r = genlab(["list", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout);
    const g = list.find((e: { id: string }) => e.id === "grokking-modular");
    assert.deepEqual({ id: g.id, paper: g.paper, class: g.class }, { id: "grokking-modular", paper: 27, class: "A" });
    assert.ok(g.title.length > 10);
  });

  it("bad input: one line per problem, the path, a non-zero exit, no stack trace", () => {
    const cases: [string[], number, string][] = [
      [["run", "nope"], 1, '✖ unknown experiment "nope"; valid experiments: grokking-modular → at <experiment>\n'],
      [["run", "grokking-modular", "--set", "lr=abc"], 1, '✖ expected a number in (0, 10], got "abc" → at hparams.lr\n'],
      [["run", "grokking-modular", "--set", "p=91"], 1, "✖ expected a prime, got 91 → at hparams.p\n"],
      [["run", "grokking-modular", "--set", "trainFraction=1.5"], 1, "✖ expected a number in (0, 1), got 1.5 → at hparams.trainFraction\n"],
      [["run", "grokking-modular", "--seed", "-1"], 2, "✖ option '--seed <n>' argument '-1' is invalid. expected an integer in [0, 4294967295], got \"-1\"\n(run with --help for usage)\n"],
      [["reproduce", "--only", "nope,grokking-modular"], 1, '✖ unknown experiment "nope" (expected one of: grokking-modular) → at --only\n'],
      [["reproduce", "--seeds", "0"], 2, "✖ option '--seeds <n>' argument '0' is invalid. expected a number of seeds in [1, 100], got \"0\"\n(run with --help for usage)\n"],
      [["run", "grokking-modular", "--size", "huge"], 2, "✖ option '--size <size>' argument 'huge' is invalid. Allowed choices are smoke, quick, full.\n(run with --help for usage)\n"],
      [["frobnicate"], 2, "✖ unknown command 'frobnicate'\n(run with --help for usage)\n"],
    ];
    const out = mkdtempSync(join(tmpdir(), "genlab-cli-"));
    for (const [args, code, stderr] of cases) {
      const r = genlab([...args, "--out", out]);
      assert.equal(r.stderr, stderr, args.join(" "));
      assert.equal(r.code, code, args.join(" "));
      assert.equal(r.stdout, "");
    }
    assert.deepEqual(readdirSync(out).filter((f) => !f.startsWith("genlab.db")), [], "a rejected run leaves no run folder");
  });

  it("smoke run end to end: files, store row, --json summary, show", () => {
    const out = mkdtempSync(join(tmpdir(), "genlab-cli-"));
    const r = genlab(["run", "grokking-modular", "--size", "smoke", "--seed", "3", "--out", out, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    for (const k of ["train_step_99", "test_step_95", "final_train_acc", "final_test_acc"]) assert.ok(k in s.measured, k);
    assert.ok(s.verdict === "PASS" || s.verdict === "FAIL");
    assert.equal(s.status, "finished");
    assert.match(s.run_id, /^grokking-modular-[0-9a-f]{8}-s3-\d{8}-\d{9}$/);
    const dir = join(out, s.run_id);
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    assert.equal(config.jax_version, "0.1.25");
    assert.match(config.genlab_version, /^\d+\.\d+\.\d+/);
    assert.equal(config.hparams.p, 23);
    const metrics = readJsonl(join(dir, "metrics.jsonl"));
    assert.equal(metrics[0].step, 0);
    assert.equal(metrics.at(-1).step, config.hparams.steps);
    assert.ok(existsSync(join(dir, "summary.json")));
    for (const f of s.figures) assert.ok(readFileSync(f).length > 1000, f);
    assert.ok(s.figures.some((f: string) => f.endsWith(".svg")) && s.figures.some((f: string) => f.endsWith(".png")));
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith(".tmp")), [], "no temporary files left");
    const show = genlab(["show", s.run_id, "--out", out, "--json"]);
    assert.equal(show.code, 0, show.stderr);
    const row = JSON.parse(show.stdout);
    assert.equal(row.status, "finished");
    assert.equal(row.verdict, s.verdict);
    assert.deepEqual(row.summary.measured, s.measured);
    const showText = genlab(["show", s.run_id, "--out", out]);
    assert.match(showText.stdout, /verdict\s+│ (PASS|FAIL)/);
  });

  it("SIGINT marks the run interrupted; resume finishes it with the numbers of an uninterrupted run", async () => {
    const out = mkdtempSync(join(tmpdir(), "genlab-cli-"));
    const args = ["run", "grokking-modular", "--size", "smoke", "--set", "steps=3000", "--set", "checkpointEvery=10", "--set", "logEvery=10", "--out", out, "--json"];
    const ref = genlab(args);
    assert.equal(ref.code, 0, ref.stderr);
    const refMetrics = readJsonl(join(out, JSON.parse(ref.stdout).run_id, "metrics.jsonl"));

    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    const exitCode = await new Promise<number | null>((done) => {
      const timer = setInterval(() => {
        const dirs = readdirSync(out).filter((d) => d.startsWith("grokking-modular-") && d !== JSON.parse(ref.stdout).run_id);
        if (dirs.length === 1 && existsSync(join(out, dirs[0], "checkpoint.json"))) {
          clearInterval(timer);
          child.kill("SIGINT");
        }
      }, 50);
      child.on("exit", (code) => {
        clearInterval(timer);
        done(code);
      });
    });
    assert.equal(exitCode, 130);
    const interrupted = JSON.parse(stdout);
    assert.equal(interrupted.status, "interrupted");
    assert.equal(interrupted.verdict, null);
    const listed = JSON.parse(genlab(["runs", "--out", out, "--json"]).stdout);
    assert.equal(listed.find((r: { id: string }) => r.id === interrupted.run_id).status, "interrupted");
    assert.ok(!existsSync(join(out, interrupted.run_id, "summary.json")), "an interrupted run has no summary");

    const resumed = genlab(["resume", interrupted.run_id, "--out", out, "--json"]);
    assert.equal(resumed.code, 0, resumed.stderr);
    const s = JSON.parse(resumed.stdout);
    assert.equal(s.status, "finished");
    assert.deepEqual(readJsonl(join(out, s.run_id, "metrics.jsonl")), refMetrics);
    assert.deepEqual(s.measured, JSON.parse(ref.stdout).measured);
  });

  it("a run killed with SIGKILL is marked interrupted, never finished", async () => {
    const out = mkdtempSync(join(tmpdir(), "genlab-cli-"));
    const child = spawn(process.execPath, [BIN, "run", "grokking-modular", "--size", "smoke", "--set", "steps=100000", "--out", out], { stdio: "ignore" });
    await new Promise<void>((done) => {
      const timer = setInterval(() => {
        const dirs = readdirSync(out).filter((d) => d.startsWith("grokking-modular-"));
        // the folder appears (config.json) a moment before metrics.jsonl does: wait for the file to have a line
        const metrics = dirs.length === 1 ? join(out, dirs[0], "metrics.jsonl") : null;
        if (metrics && existsSync(metrics) && readFileSync(metrics, "utf8").length > 0) {
          clearInterval(timer);
          child.kill("SIGKILL");
          child.on("exit", () => done());
        }
      }, 50);
    });
    const rows = JSON.parse(genlab(["runs", "--out", out, "--json"]).stdout);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].status, "interrupted");
  });

  it("reproduce writes a self-contained report of all 45 papers and prints one JSON object per experiment", () => {
    const out = mkdtempSync(join(tmpdir(), "genlab-cli-"));
    const r = genlab(["reproduce", "--size", "smoke", "--seeds", "2", "--json", "--out", join(out, "runs"), "--report", join(out, "report")]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines.length, 1);
    const g = lines[0];
    assert.deepEqual([g.id, g.paper, g.seeds], ["grokking-modular", 27, [0, 1]]);
    assert.ok(g.verdict === "PASS" || g.verdict === "FAIL");
    assert.equal(g.measured.length, 2);
    assert.match(g.criterion, /test_step_95/);
    assert.match(r.stderr, /reproduce \[2\/2\] grokking-modular \(paper 27\) seed 1/);
    const html = readFileSync(join(out, "report", "index.html"), "utf8");
    assert.equal(html.match(/<section class="paper/g)?.length, 45);
    assert.equal(html.match(/<section class="paper todo"/g)?.length, 44);
    // no external resources: the page opens from disk
    assert.doesNotMatch(html, /<script|<link|src="http/);
    assert.match(html, /<svg/);
    assert.match(html, new RegExp(`badge ${g.verdict === "PASS" ? "pass" : "fail"}">${g.verdict}<`));
    // the measured value in the report is the one the run computed
    assert.match(html, new RegExp(`<td class="num">${g.measured[0].final_train_acc.toFixed(4)}</td>`));
    assert.match(html, /genlab reproduce --only grokking-modular --size smoke --seeds 2/);
  });
});
