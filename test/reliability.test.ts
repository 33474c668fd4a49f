// What a hostile but fair tester found (issue 9), each kept closed by a test that runs the CLI as a user
// does: closed pipes, damaged and read-only files and folders, emptied stores, reused pids, odd numbers.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { RunStore, processStart } from "../src/runner/store.ts";
import { runIdFor } from "../src/runner/run.ts";

const BIN = resolve(import.meta.dirname, "../bin/genlab.js");

/** Permission tests need a user the permissions apply to: as root, run the CLI as nobody. */
const OTHER_USER = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
/**
 * Whether that user can run genlab from this checkout at all: not when the checkout lies under a folder
 * only root may enter (a clone into `mktemp -d`, mode 0700). Then the permission cases are skipped with
 * that reason (as root every permission is granted, so they could not fail).
 */
const OTHER_CAN_RUN = !("uid" in OTHER_USER) || spawnSync(process.execPath, [BIN, "--version"], { encoding: "utf8", ...OTHER_USER }).status === 0;
const OTHER_SKIP = "root, and uid 65534 cannot read this checkout (a folder above it is private, e.g. a mktemp -d clone): the permission cases need a user permissions apply to";

function genlab(args: string[], opts: { asOther?: boolean; env?: Record<string, string> } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, FORCE_COLOR: "0", ...opts.env }, ...(opts.asOther ? OTHER_USER : {}) });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "genlab-rel-"));
  chmodSync(d, 0o755); // readable by the other user
  return d;
}

const noStack = (s: string, what: string) => {
  assert.doesNotMatch(s, /\n\s+at .+:\d+:\d+/, `${what}: no stack trace`);
  assert.doesNotMatch(s, /internal error/, `${what}: not an internal error`);
};

const SMOKE = ["run", "grokking-modular", "--size", "smoke", "--no-control"];

/** A finished smoke run and an interrupted one (SIGKILLed at its 2nd checkpoint) in one folder. */
function twoRuns(out: string): { finished: string; interrupted: string } {
  const f = genlab([...SMOKE, "--out", out, "--json"]);
  assert.equal(f.code, 0, f.stderr);
  const k = genlab([...SMOKE, "--set", "checkpointEvery=10", "--set", "steps=60", "--out", out], { env: { GENLAB_FAULT: "checkpoint:2" } });
  assert.equal(k.signal, "SIGKILL", k.stderr);
  const finished = JSON.parse(f.stdout).run_id;
  const interrupted = readdirSync(out).find((d) => d.startsWith("grokking-modular-") && d !== finished)!;
  return { finished, interrupted };
}

describe("reliability: what the hostile tester found", () => {
  it("1. a closed stdout ends the process quietly, exit 0, after the run is stored", () => {
    const out = tmp();
    try {
      for (const cmd of [`${SMOKE.join(" ")} --json --out ${out} | true`, `runs --out ${out} | head -c 1 >/dev/null`]) {
        const r = spawnSync("bash", ["-c", `node ${BIN} ${cmd}; echo "rc=\${PIPESTATUS[0]}"`], { encoding: "utf8" });
        assert.equal(r.stdout.trim(), "rc=0", `${cmd}: ${r.stderr}`);
        assert.doesNotMatch(r.stderr, /EPIPE|Error/, cmd);
        noStack(r.stderr, cmd);
      }
      const runs = JSON.parse(genlab(["runs", "--out", out, "--json"]).stdout);
      assert.deepEqual(runs.map((r: { status: string }) => r.status), ["finished"], "the run was stored before stdout closed");
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("3. user errors are ✖ lines naming the file or key: an empty split (no folder, no row), a read-only --out, a read-only run folder, a truncated summary.json", (t) => {
    const out = tmp();
    try {
      const split = genlab([...SMOKE, "--set", "trainFraction=0.001", "--out", join(out, "a")]);
      assert.equal(split.code, 1);
      assert.equal(split.stderr, "✖ trainFraction 0.001 of the 529 pairs mod 23 leaves an empty train split; use a fraction in [0.0019, 0.9981] → at hparams.trainFraction\n");
      assert.ok(!existsSync(join(out, "a")), "validated before any folder or store row exists");

      if (OTHER_CAN_RUN) {
        const ro = join(out, "ro");
        spawnSync("mkdir", ["-m", "555", ro]);
        const r = genlab([...SMOKE, "--out", join(ro, "x")], { asOther: true });
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, /✖ cannot open the run store: cannot create it: permission denied \(EACCES\) at .*ro\/x; pass a folder you can write with --out or --store → at .*ro\/x\/genlab\.db\n$/);
        noStack(r.stderr, "read-only --out");
      } else t.diagnostic(`read-only --out skipped: ${OTHER_SKIP}`);

      const b = join(out, "b");
      const { finished, interrupted } = twoRuns(b);
      chmodSync(b, 0o777);
      for (const f of readdirSync(b)) if (f.startsWith("genlab.db")) chmodSync(join(b, f), 0o666);
      chmodSync(join(b, interrupted), 0o555);
      if (OTHER_CAN_RUN) {
        const res = genlab(["resume", interrupted, "--out", b], { asOther: true });
        assert.equal(res.code, 1, res.stderr);
        assert.match(res.stderr, /^✖ the run folder is not writable, so the run cannot continue there; fix its permissions \(chmod u\+w\) → at .*\n$/);
      } else t.diagnostic(`read-only run folder skipped: ${OTHER_SKIP}`);
      chmodSync(join(b, interrupted), 0o755);
      const still = JSON.parse(genlab(["runs", "--out", b, "--json"]).stdout).find((x: { id: string }) => x.id === interrupted);
      assert.equal(still.status, "interrupted", "a refused resume leaves the run resumable");

      const summary = join(b, finished, "summary.json");
      truncateSync(summary, 40);
      const show = genlab(["show", finished, "--out", b]);
      assert.equal(show.code, 0, show.stderr);
      assert.match(show.stderr, /^✖ .*summary\.json is damaged \(.*\); showing the store's copy\n$/);
      assert.match(show.stdout, /status\s+│ finished/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("5. stores: read-only ones list; a 0-byte one is refused and genlab reindex rebuilds it from the run folders; a reused pid is not taken for a live run; resume --force", async (t) => {
    const out = tmp();
    try {
      const { finished, interrupted } = twoRuns(out);
      const before = JSON.parse(genlab(["runs", "--out", out, "--json"]).stdout).map((r: { id: string; status: string }) => [r.id, r.status]).sort();

      // read-only file in a read-only folder (no -wal/-shm left): read commands work
      const w = new Database(join(out, "genlab.db"));
      w.pragma("wal_checkpoint(TRUNCATE)");
      w.close(); // the last connection: SQLite removes -wal and -shm
      assert.deepEqual(readdirSync(out).filter((f) => f.startsWith("genlab.db-")), []);
      chmodSync(join(out, "genlab.db"), 0o444);
      chmodSync(out, 0o555);
      if (OTHER_CAN_RUN) {
        const list = genlab(["runs", "--out", out, "--json"], { asOther: true });
        assert.equal(list.code, 0, list.stderr);
        assert.deepEqual(JSON.parse(list.stdout).map((r: { id: string; status: string }) => [r.id, r.status]).sort(), before);
        assert.equal(genlab(["show", finished, "--out", out], { asOther: true }).code, 0);
        const write = genlab([...SMOKE, "--out", out, "--force"], { asOther: true });
        assert.equal(write.code, 1);
        assert.match(write.stderr, /✖ cannot open the run store: it is read-only .* → at .*genlab\.db\n$/);
      } else t.diagnostic(`read-only store skipped: ${OTHER_SKIP}`);
      chmodSync(out, 0o755);
      chmodSync(join(out, "genlab.db"), 0o644);

      // a 0-byte store next to run folders
      for (const f of readdirSync(out)) if (f.startsWith("genlab.db")) rmSync(join(out, f));
      writeFileSync(join(out, "genlab.db"), "");
      for (const args of [[...SMOKE, "--out", out], ["runs", "--out", out]]) {
        const r = genlab(args);
        assert.equal(r.code, 1, args.join(" "));
        assert.match(r.stderr, /✖ the run store is empty \(0 bytes\): .*genlab reindex.* → at .*genlab\.db\n$/);
      }
      const re = genlab(["reindex", "--out", out]);
      assert.equal(re.code, 0, re.stderr);
      assert.match(re.stdout, /finished\s+│ 1\n/);
      assert.match(re.stdout, /interrupted \(resumable if checkpointed\)\s+│ 1\n/);
      const after = JSON.parse(genlab(["runs", "--out", out, "--json"]).stdout).map((r: { id: string; status: string }) => [r.id, r.status]).sort();
      assert.deepEqual(after, before, "reindex restores every run with its status");
      const shown = JSON.parse(genlab(["show", finished, "--out", out, "--json"]).stdout);
      assert.equal(shown.summary.status, "finished");

      // a "running" row whose pid now belongs to another process (started later): interrupted
      const sleeper = spawn("sleep", ["30"]);
      await new Promise((r) => setTimeout(r, 100));
      const db = new Database(join(out, "genlab.db"));
      db.prepare("UPDATE runs SET status = 'running', pid = ?, host = ?, pid_start = ? WHERE id = ?").run(sleeper.pid, (await import("node:os")).hostname(), "1", interrupted);
      db.close();
      const s1 = new RunStore(join(out, "genlab.db"));
      assert.equal(s1.getRun(interrupted)?.status, "interrupted", "the pid is alive but started after the run: not the run's process");
      s1.close();
      const db2 = new Database(join(out, "genlab.db"));
      db2.prepare("UPDATE runs SET status = 'running', pid_start = ? WHERE id = ?").run(processStart(sleeper.pid!), interrupted);
      db2.close();
      const s2 = new RunStore(join(out, "genlab.db"));
      assert.equal(s2.getRun(interrupted)?.status, "running", "same pid, same start time: the run's process, still alive");
      s2.close();
      const refused = genlab(["resume", interrupted, "--out", out]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /is still running \(pid \d+ on .*\); if that process is gone .*, resume --force/);
      const forced = genlab(["resume", interrupted, "--out", out, "--force", "--json"]);
      sleeper.kill();
      assert.equal(forced.code, 0, forced.stderr);
      assert.equal(JSON.parse(forced.stdout).status, "finished");
    } finally {
      spawnSync("chmod", ["-R", "u+w", out]);
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("7. small ones: decimal seeds only, --status validated, --params shows --set, the last progress line shows the last step's values, run ids never collide", () => {
    const out = tmp();
    try {
      for (const seed of ["0x10", "1e3", "+5", " 7", "1.0"]) {
        const r = genlab([...SMOKE, "--seed", seed, "--out", out]);
        assert.equal(r.code, 1, seed);
        assert.equal(r.stderr, `✖ option '--seed <n>' argument '${seed}' is invalid. expected a decimal integer in [0, 4294967295], got ${JSON.stringify(seed)}\n(run with --help for usage)\n`);
      }
      const st = genlab(["runs", "--status", "bogus", "--out", out]);
      assert.equal(st.code, 1);
      assert.match(st.stderr, /argument 'bogus' is invalid\. Allowed choices are running, finished, failed, interrupted\./);
      const params = genlab(["run", "grokking-modular", "--params", "--size", "smoke", "--set", "hidden=7"]);
      assert.equal(params.code, 0, params.stderr);
      assert.match(params.stdout, /hidden\s+│ 7 \(--set\)  — hidden width/);
      assert.match(genlab(["run", "grokking-modular", "--params", "--set", "hidden=x"]).stderr, /✖ expected an integer in \[1, 4096\].*got "x" → at hparams\.hidden/);

      const r = genlab([...SMOKE, "--out", out, "--json", "--set", "logEvery=5"]);
      assert.equal(r.code, 0, r.stderr);
      const s = JSON.parse(r.stdout);
      const last = readFileSync(join(s.dir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l)).at(-1);
      assert.equal(last.step, 40);
      const final = r.stderr.trim().split("\n").filter((l) => l.includes("40/40")).at(-1)!;
      assert.ok(final.includes(`train_acc ${last.train_acc.toFixed(3)}`) && final.includes(`test_acc ${last.test_acc.toFixed(3)}`), `the 40/40 line shows step 40's values: ${final}`);

      const ids = new Set(Array.from({ length: 5000 }, () => runIdFor("x", "0123456789", 0)));
      assert.equal(ids.size, 5000, "5,000 ids made within the same milliseconds are distinct");
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
