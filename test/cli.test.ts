// The CLI as a user runs it: separate processes, real files, real signals.
import { EXPERIMENTS } from "../experiments/index.ts";
import { selectExperiments } from "../src/report/reproduce.ts";
import { fmtNum } from "../src/declare/criteria.ts";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
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
    assert.ok(g.title.length > 10, "g.title.length > 10");
  });

  it("bad input: one line per problem, the path, a non-zero exit, no stack trace", () => {
    const cases: [string[], number, string][] = [
      [["run", "nope"], 1, `✖ unknown experiment "nope"; valid experiments: ${EXPERIMENTS.map((x) => x.id).join(", ")} → at <experiment>\n`],
      [["run", "grokking-modular", "--set", "lr=abc"], 1, '✖ expected a number in (0, 10], got "abc" → at hparams.lr\n'],
      [["run", "grokking-modular", "--set", "p=91"], 1, "✖ expected a prime, got 91 → at hparams.p\n"],
      [["run", "grokking-modular", "--set", "trainFraction=1.5"], 1, "✖ expected a number in (0, 1), got 1.5 → at hparams.trainFraction\n"],
      [["run", "grokking-modular", "--seed", "-1"], 1, "✖ option '--seed <n>' argument '-1' is invalid. expected a decimal integer in [0, 4294967295], got \"-1\"\n(run with --help for usage)\n"],
      [["reproduce", "--only", "nope,grokking-modular"], 1, `✖ unknown experiment "nope" (expected one of: ${selectExperiments(EXPERIMENTS).map((x) => x.id).join(", ")}) → at --only\n`],
      [["reproduce", "--seeds", "0"], 1, "✖ option '--seeds <n>' argument '0' is invalid. expected a number of seeds in [1, 100], got \"0\"\n(run with --help for usage)\n"],
      [["run", "grokking-modular", "--size", "huge"], 1, "✖ option '--size <size>' argument 'huge' is invalid. Allowed choices are smoke, quick, full.\n(run with --help for usage)\n"],
      [["frobnicate"], 2, "✖ unknown command 'frobnicate'\n(run with --help for usage)\n"],
      [["reproduce", "--shard", "3/2"], 1, '✖ expected a shard i/n with 0 ≤ i < n (e.g. 0/4), got "3/2": i must be below n → at --shard\n'],
      [["reproduce", "--shard", "0/0"], 1, '✖ expected a shard i/n with 0 ≤ i < n (e.g. 0/4), got "0/0": n must be at least 1 → at --shard\n'],
      [["reproduce", "--jobs", "0"], 1, "✖ option '--jobs <n>' argument '0' is invalid. expected a number of worker processes in [1, 256], got \"0\"\n(run with --help for usage)\n"],
      [["calc", "rf-risk", "--set", "k=64"], 1, "✖ missing parameter n (training samples); give it as --set n=… → at --set n\n"],
      [["calc", "rf-risk", "--set", "n=64", "--set", "k=x", "--set", "bogus=1"], 1, '✖ unknown key "bogus"; valid keys: modes, alpha, beta, noise, ridge, n, k → at --set bogus\n✖ expected an integer in [1, 1000000000], got "x" → at --set k\n'],
      [["calc", "nope"], 1, '✖ unknown calculator "nope"; valid calculators: rf-risk, krr-risk, linear-dynamics, subgradient-recovery, pretrain-advantage, task-difficulty, universal-mixture, attention-svm, abc-parametrization, cnn-learning-curve, inductive-bias, score-ntk → at <calculator>\n'],
      [["calc", "linear-dynamics", "--set", "ratio=0", "--set", "rati=1"], 1, '✖ unknown key "rati" (did you mean "ratio"?); valid keys: ratio, snr, init, t, tMax → at --set rati\n✖ expected a number in [0.01, 100], got 0 → at --set ratio\n'],
      [["calc", "subgradient-recovery", "--set", "rank=30"], 1, "✖ expected r, r′ ≤ d = 20, got r = 3, r′ = 30 → at --set\n"],
      [["calc", "--list", "nope"], 1, '✖ unknown calculator "nope"; valid calculators: rf-risk, krr-risk, linear-dynamics, subgradient-recovery, pretrain-advantage, task-difficulty, universal-mixture, attention-svm, abc-parametrization, cnn-learning-curve, inductive-bias, score-ntk → at <calculator>\n'],
    ];
    const out = mkdtempSync(join(tmpdir(), "genlab-cli-"));
    for (const [args, code, stderr] of cases) {
      const r = genlab(args[0] === "calc" ? args : [...args, "--out", out]);
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
    // the negative control (weightDecay = 0) ran beside it, as its own run
    assert.equal(s.control.what.startsWith("weightDecay = 0"), true);
    assert.equal(s.control.run_ids.length, 1);
    // the same command again reuses the finished run (same hparams, seed, size, genlab version)
    const again = JSON.parse(genlab(["run", "grokking-modular", "--size", "smoke", "--seed", "3", "--out", out, "--json"]).stdout);
    assert.equal(again.run_id, s.run_id);
    assert.equal(again.reused, true);
    for (const k of ["memorised", "delay", "final_test_acc"]) assert.ok(k in s.measured, k);
    assert.ok(["PASS", "FAIL", "INCONCLUSIVE"].includes(s.verdict), "a verdict");
    assert.deepEqual(s.seeds, [3], "--seed 3 ran seed 3");
    assert.ok(s.checks.every((c: { source: string; margin: number | string }) => c.source.length > 3 && (typeof c.margin === "number" || /^-?Infinity$/.test(c.margin))), "each check with its source and margin (±Infinity as a string)");
    assert.equal(s.status, "finished");
    assert.match(s.run_id, /^grokking-modular-[0-9a-f]{8}-s3-\d{8}-\d{9}-[0-9a-f]{6}$/);
    const dir = join(out, s.run_id);
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    assert.equal(config.jax_version, "0.1.25");
    assert.match(config.genlab_version, /^\d+\.\d+\.\d+/);
    assert.equal(config.hparams.p, 23);
    const metrics = readJsonl(join(dir, "metrics.jsonl"));
    // the port keeps the pre-contract numbers (recorded at commit 76b578d)
    assert.deepEqual(metrics, readJsonl(resolve(import.meta.dirname, "fixtures/grokking-smoke-s3.metrics.jsonl")));
    assert.equal(metrics[0].step, 0);
    assert.equal(metrics.at(-1).step, config.hparams.steps);
    assert.ok(existsSync(join(dir, "summary.json")), "existsSync(join(dir, \"summary.json\"))");
    for (const f of s.figures) assert.ok(readFileSync(f).length > 1000, f);
    assert.ok(s.figures.some((f: string) => f.endsWith(".svg")) && s.figures.some((f: string) => f.endsWith(".png")), "s.figures.some((f: string) => f.endsWith(\".svg\")) && s.figures.some((f: string) => f.endsWith(\".p...");
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith(".tmp")), [], "no temporary files left");
    const show = genlab(["show", s.run_id, "--out", out, "--json"]);
    assert.equal(show.code, 0, show.stderr);
    const row = JSON.parse(show.stdout);
    assert.equal(row.status, "finished");
    assert.equal(row.verdict, null, "a run has no verdict of its own: the reproduction has");
    assert.deepEqual(row.summary.results, s.results);
    const showText = genlab(["show", s.run_id, "--out", out]);
    assert.match(showText.stdout, /status\s+│ finished/);
  });

  it("SIGINT marks the run interrupted; resume finishes it with the numbers of an uninterrupted run", async () => {
    const out = mkdtempSync(join(tmpdir(), "genlab-cli-"));
    const args = ["run", "grokking-modular", "--size", "smoke", "--set", "steps=3000", "--set", "checkpointEvery=10", "--set", "logEvery=10", "--no-control", "--force", "--out", out, "--json"];
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
    const untimed = (r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).filter(([k]) => !k.endsWith("seconds")));
    assert.deepEqual(untimed(s.results), untimed(JSON.parse(ref.stdout).results), "the same numbers (times aside)");
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

  it("reproduce writes a self-contained report of all 45 papers, runs only what is missing, and genlab report rebuilds it from the store", () => {
    const out = mkdtempSync(join(tmpdir(), "genlab-cli-"));
    const args = ["reproduce", "--size", "smoke", "--seeds", "2", "--only", "grokking-modular,more-is-better", "--jobs", "2", "--json", "--out", join(out, "runs"), "--report", join(out, "report")];
    const r = genlab(args);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.id), ["more-is-better", "grokking-modular"]);
    const g = lines[1];
    assert.deepEqual([g.paper, g.seeds, g.coverage], [27, [0, 1], "partial"]);
    assert.ok(["PASS", "FAIL", "INCONCLUSIVE"].includes(g.verdict), "a verdict over both seeds");
    assert.deepEqual(g.checks.map((c: { id: string }) => c.id), ["memorised", "delay", "final_test_acc"]);
    assert.ok(["FAIL", "INCONCLUSIVE"].includes(g.control.verdict), "the control does not pass");
    assert.match(g.criterion, /test_step_95 \/ train_step_99/);
    assert.equal(lines[0].runs, 18, "the sweep's 9 points ran as their own runs, for each of the 2 seeds");
    const html = readFileSync(join(out, "report", "index.html"), "utf8");
    assert.equal(html.match(/<section class="paper[^"]*" id="paper-/g)?.length, 45);
    assert.equal(html.match(/<section class="paper todo"/g)?.length, 45 - new Set(EXPERIMENTS.filter((e) => e.kind !== "benchmark").map((e) => e.paper)).size, "implemented papers are listed even when not run here");
    // no external resources: the page opens from disk
    assert.doesNotMatch(html, /<script|<link|src="http/);
    assert.match(html, /<svg/);
    // the report says what it covers: partial, deviations, control, criterion source
    assert.match(html, /badge partial">partial coverage</);
    assert.match(html, /Not covered:<\/b> label corruption/);
    assert.match(html, /Negative control[^<]*<\/b> weightDecay = 0/);
    assert.match(html, /Deviations from the paper/);
    // a paper without a reproduction shows its claim and the planned criterion from the spec
    assert.match(html, /id="paper-7">(?:(?!<\/section>)[\s\S])*Planned criterion \(from the spec; not run\)/);
    assert.match(html, /C→B: a class-C paper reproduced here as a class-B analog/);
    assert.match(html, /genlab run grokking-modular --size smoke/);
    assert.ok(readFileSync(join(out, "report", "figures", "grokking-modular-grokking.png")).length > 1000, "readFileSync(join(out, \"report\", \"figures\", \"grokking-modular-grokking.png\")).length > 1000");
    // the measured value in the report is the one the run computed
    assert.ok(html.includes(`<td class="num">${fmtNum(g.checks.find((c: { id: string }) => c.id === "final_test_acc").value)}`), "the checked value in the report is the one the run computed");

    // again: everything is reused, nothing reruns
    const again = genlab(args);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /"runs":18/);
    assert.match(again.stderr, /\(reused\)/);
    assert.doesNotMatch(again.stderr, / in \d/);

    // genlab report renders the same report from the store alone
    const rep = genlab(["report", "--out", join(out, "runs"), "--report", join(out, "report2"), "--json"]);
    assert.equal(rep.code, 0, rep.stderr);
    assert.deepEqual(rep.stdout.trim().split("\n").map((l) => JSON.parse(l).verdict), lines.map((l) => l.verdict));
  });

  it("reproduce --no-control runs only the points (the report shows the control as not run)", () => {
    const out = mkdtempSync(join(tmpdir(), "genlab-cli-"));
    const r = genlab(["reproduce", "--size", "smoke", "--seeds", "2", "--only", "grokking-modular", "--jobs", "2", "--no-control", "--json", "--out", join(out, "runs"), "--report", join(out, "report")]);
    assert.equal(r.code, 0, r.stderr);
    const g = JSON.parse(r.stdout.trim());
    assert.equal(g.control.verdict, null, "the control was not run");
    const runs = genlab(["runs", "--out", join(out, "runs"), "--json"]);
    assert.equal((JSON.parse(runs.stdout) as unknown[]).length, 2, "two runs, no control runs");
    assert.match(readFileSync(join(out, "report", "index.html"), "utf8"), /--no-control/);
  });

  it("three shards (one killed and rerun) merge into one store whose report equals a serial run's", async () => {
    const out = mkdtempSync(join(tmpdir(), "genlab-shard-"));
    const base = ["reproduce", "--size", "smoke", "--only", "more-is-better", "--jobs", "1", "--json"];
    const serial = genlab([...base, "--out", join(out, "serial"), "--report", join(out, "rs")]);
    assert.equal(serial.code, 0, serial.stderr);
    // shard 1 is killed mid-way, then rerun: it finishes what is missing
    const child = spawn(process.execPath, [BIN, ...base, "--shard", "1/3", "--out", join(out, "s1"), "--report", join(out, "r1")], { stdio: "ignore" });
    await new Promise<void>((done) => {
      const timer = setInterval(() => {
        if (existsSync(join(out, "s1")) && readdirSync(join(out, "s1")).some((d) => d.startsWith("more-is-better-"))) {
          clearInterval(timer);
          child.kill("SIGKILL");
          child.on("exit", () => done());
        }
      }, 20);
    });
    for (const i of [0, 1, 2]) {
      const r = genlab([...base, "--shard", `${i}/3`, "--out", join(out, `s${i}`), "--report", join(out, `r${i}`)]);
      assert.equal(r.code, 0, r.stderr);
    }
    const stores = [0, 1, 2].map((i) => join(out, `s${i}`, "genlab.db"));
    const m1 = genlab(["merge", ...stores, "--into", join(out, "all.db")]);
    assert.equal(m1.code, 0, m1.stderr);
    const m2 = genlab(["merge", ...stores, "--into", join(out, "all.db")]);
    assert.match(m2.stdout, /0 runs added, 3 already there/, "merging again adds nothing");
    const runs = JSON.parse(genlab(["runs", "--store", join(out, "all.db"), "--json", "--status", "finished"]).stdout);
    assert.equal(runs.length, 9, "every point in exactly one shard");
    const rep = genlab(["report", "--store", join(out, "all.db"), "--report", join(out, "rall"), "--json"]);
    assert.equal(rep.code, 0, rep.stderr);
    const a = JSON.parse(rep.stdout.trim());
    const b = JSON.parse(serial.stdout.trim());
    assert.deepEqual([a.verdict, a.measured], [b.verdict, b.measured], "same numbers as the serial run");
    // a store that is not a genlab store is refused with one line
    writeFileSync(join(out, "junk.db"), "not sqlite at all, just text");
    const bad = genlab(["merge", join(out, "junk.db"), "--into", join(out, "x.db")]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^✖ cannot open the run store: it is not a SQLite file/);
    assert.ok(!existsSync(join(out, "x.db")), "nothing written");
  });

  it("calc prints the eigenframework's outputs", () => {
    const r = genlab(["calc", "krr-risk", "--set", "n=256", "--set", "noise=0.05", "--set", "ridge=0.1", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.inputs.n, 256);
    assert.ok(j.outputs.test_mse > 0.05 && j.outputs.test_mse < 1, String(j.outputs.test_mse));
    assert.ok(j.outputs.train_mse < j.outputs.test_mse, "j.outputs.train_mse < j.outputs.test_mse");
  });

  it("calc --list names every calculator's paper, parameters with units and defaults, and outputs", () => {
    const r = genlab(["calc", "--list", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const all = JSON.parse(r.stdout) as { id: string; paper: number; params: string[]; outputs: string[] }[];
    assert.deepEqual(all.map((c) => [c.id, c.paper]), [["rf-risk", 16], ["krr-risk", 16], ["linear-dynamics", 5], ["subgradient-recovery", 22], ["pretrain-advantage", 19], ["task-difficulty", 15], ["universal-mixture", 4], ["attention-svm", 44], ["abc-parametrization", 36], ["cnn-learning-curve", 40], ["inductive-bias", 6], ["score-ntk", 43]]);
    // the task-difficulty calculator's defaults are MNIST's official constants (ε = 0.001 there)
    const mnist = genlab(["calc", "task-difficulty", "--set", "error=0.001", "--json"]);
    assert.ok(mnist.code === 0 && Math.abs(JSON.parse(mnist.stdout).outputs.bits / 1.485e16 - 1) < 1e-3, mnist.stdout + mnist.stderr);
    const ld = all.find((c) => c.id === "linear-dynamics")!;
    assert.ok(ld.params.some((l) => l.startsWith("t [time]: default 10, a number in [0, 1000000000]")), ld.params.join("\n"));
    assert.ok(all[0].params.some((l) => l.startsWith("n [samples]: required")), all[0].params.join("\n"));
    const text = genlab(["calc"]);
    assert.ok(text.code === 0 && text.stdout.includes("linear-dynamics (paper 5)"), text.stdout);
  });

  it("calc linear-dynamics: the Marchenko–Pastur theory's outputs with units (E_g(∞) closed form, the frozen term)", () => {
    const r = genlab(["calc", "linear-dynamics", "--set", "ratio=2", "--set", "init=1", "--set", "t=1e6", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    // α = P/N = 0.5, SNR 5: E_g(∞) = σ_ε²/(1 − α) + (1 − α)(σ_w̄² + σ₀²) = (1/6)/0.5 + 0.5·(5/6 + 1)
    assert.ok(Math.abs(j.outputs.test_error_converged - (1 / 3 + 0.5 * (5 / 6 + 1))) < 1e-12, String(j.outputs.test_error_converged));
    assert.ok(Math.abs(j.outputs.test_error / j.outputs.test_error_converged - 1) < 1e-9, "E_g(t = 1e6) = E_g(∞) (rtol 1e-9)");
    assert.equal(j.outputs.frozen_term, 0.5);
    assert.equal(j.units.test_error, "output variance");
    assert.equal(j.paper, 5);
    const text = genlab(["calc", "linear-dynamics", "--set", "ratio=1"]);
    assert.ok(text.code === 0 && /→ overtraining \[output variance\]\s+│ 10\.6/.test(text.stdout), text.stdout);
  });
});
