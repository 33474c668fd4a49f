// Issue 22, deliverable 4: the PyTorch logger for a user's own loop (integrations/pytorch/genlab_logger.py).
// Its example trains a tiny MLP with shuffled minibatches and 10% flipped labels; what it writes goes to
// `genlab scores --dynamics` unchanged, and every score agrees with numpy on the same .npy files.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { genlabHere } from "./util/cliHere.ts";

const PY = "/usr/bin/python3";
const ROOT = join(import.meta.dirname, "..");
const INTEGRATION = join(ROOT, "integrations", "pytorch");
const hasTorch = existsSync(PY) && spawnSync(PY, ["-c", "import torch, numpy"]).status === 0;
// no __pycache__ left in integrations/pytorch by the test
const pyEnv = { ...process.env, PYTHONDONTWRITEBYTECODE: "1" };
const skip = hasTorch ? false : "needs /usr/bin/python3 with torch and numpy (Debian's python3-torch)";

function readCsv(path: string): Record<string, number>[] {
  const [head, ...lines] = readFileSync(path, "utf8").trim().split("\n");
  const names = head.split(",");
  return lines.map((l) => Object.fromEntries(l.split(",").map((v, j) => [names[j], Number(v)])));
}

describe("issue 22: the PyTorch logger (integrations/pytorch)", () => {
  it("the example's logits, through genlab scores --dynamics, agree with numpy; flipped labels have lower AUM", { skip }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "genlab-pytorch-"));
    const ex = spawnSync(PY, [join(INTEGRATION, "example.py"), dir], { encoding: "utf8", env: pyEnv });
    assert.equal(ex.status, 0, ex.stderr);
    assert.equal(ex.stdout.trim(), join(dir, "logits"), "the example prints the folder it wrote");
    const files = readdirSync(join(dir, "logits"));
    assert.deepEqual(files, ["epoch_0001.npy", "epoch_0002.npy", "epoch_0003.npy", "epoch_0004.npy", "epoch_0005.npy"], "only the per-epoch logits in the --dynamics folder");
    assert.deepEqual(readdirSync(join(dir, "logits_losses")), ["loss_0001.npy", "loss_0002.npy", "loss_0003.npy", "loss_0004.npy", "loss_0005.npy"], "the losses in the sibling folder");
    const out = join(dir, "s.csv");
    const r = await genlabHere(["scores", "--dynamics", join(dir, "logits"), "--labels", join(dir, "labels.npy"), "--scores", "el2n,forgetting,aum,cartography,margin,loss", "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /300 examples × 3 classes × 5 epochs \(1\.\.5\), logits/);
    // numpy (float64) on the same files: the definitions of test/loggedDynamics.test.ts
    const code = `
import numpy as np, csv, glob, json
d = ${JSON.stringify(dir)}
z = np.stack([np.load(f) for f in sorted(glob.glob(d + "/logits/epoch_*.npy"))]).astype(np.float64); y = np.load(d + "/labels.npy")
assert np.load(d + "/logits/epoch_0001.npy").dtype == np.float32 and y.dtype == np.int64
E, N, C = z.shape; oh = np.eye(C)[y]
zs = z - z.max(-1, keepdims=True); p = np.exp(zs) / np.exp(zs).sum(-1, keepdims=True)
el2n = np.sqrt(((p - oh) ** 2).sum(-1))
zt = (z * oh).sum(-1); zo = np.where(oh > 0, -np.inf, z).max(-1); margin = zt - zo
correct = (z.argmax(-1) == y)
pt = (p * oh).sum(-1); loss = -np.log(pt)
forget = np.array([(c[:-1] & ~c[1:]).sum() if c.any() else E for c in correct.T])
ref = {"el2n": el2n[1], "aum": margin.mean(0), "forgetting": forget, "cartography_confidence": pt.mean(0), "cartography_variability": pt.std(0), "cartography_correctness": correct.mean(0), "margin": margin[-1], "loss": loss[-1]}
rows = list(csv.DictReader(open(d + "/s.csv")))
assert len(rows) == N
diff = {k: max(abs(float(r[k]) - ref[k][i]) for i, r in enumerate(rows)) for k in ref}
logged_loss = np.load(d + "/logits_losses/loss_0005.npy")
print(json.dumps({"diff": diff, "losses": float(np.abs(logged_loss - loss[-1]).max()), "forgetting_events": int(forget.sum())}))
`;
    const py = spawnSync(PY, ["-c", code], { encoding: "utf8", env: pyEnv });
    assert.equal(py.status, 0, py.stderr);
    const got = JSON.parse(py.stdout) as { diff: Record<string, number>; losses: number; forgetting_events: number };
    const maxDiff = Math.max(...Object.values(got.diff));
    process.stderr.write(`# PyTorch logger → genlab scores --dynamics vs numpy (float64): max |Δ| ${maxDiff.toExponential(2)} (${Object.entries(got.diff).map(([k, v]) => `${k} ${v.toExponential(1)}`).join(", ")}); logged losses vs numpy ${got.losses.toExponential(2)}\n`);
    for (const [k, v] of Object.entries(got.diff)) assert.ok(v < 1e-4, `${k}: max |genlab − numpy| ${v}`);
    assert.ok(got.losses < 1e-4, `the logger's losses (cross-entropy of the logged logits) vs numpy: ${got.losses}`);
    assert.ok(got.forgetting_events > 0, "the fixture has forgetting events (the forgetting check is not vacuous)");
    // flipped labels: lower AUM (Pleiss et al.'s premise), on genlab's own output
    const rows = readCsv(out);
    const flippedRaw = spawnSync(PY, ["-c", `import numpy as np; print(",".join(str(int(v)) for v in np.load(${JSON.stringify(join(dir, "flipped.npy"))})))`], { encoding: "utf8", env: pyEnv });
    assert.equal(flippedRaw.status, 0, flippedRaw.stderr);
    const flipped = flippedRaw.stdout.trim().split(",").map(Number);
    assert.equal(flipped.length, rows.length);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const aumFlipped = mean(rows.filter((_, i) => flipped[i]).map((x) => x.aum));
    const aumClean = mean(rows.filter((_, i) => !flipped[i]).map((x) => x.aum));
    const nFlipped = flipped.filter(Boolean).length;
    process.stderr.write(`# mean AUM: ${nFlipped} flipped labels ${aumFlipped.toFixed(3)}, ${rows.length - nFlipped} others ${aumClean.toFixed(3)}\n`);
    assert.ok(nFlipped > 0 && nFlipped < rows.length, `some labels flipped: ${nFlipped}`);
    assert.ok(aumFlipped < aumClean, `mean AUM of flipped labels ${aumFlipped} < the rest's ${aumClean}`);
  });

  it("refuses a missing example, an example logged twice, a bad index or shape, and writes nothing for that epoch", { skip }, () => {
    const dir = mkdtempSync(join(tmpdir(), "genlab-pytorch-bad-"));
    const code = `
import sys, os, json, torch
sys.path.insert(0, ${JSON.stringify(INTEGRATION)})
from genlab_logger import GenlabLogger
d = ${JSON.stringify(dir)}
res = {}
def attempt(name, f):
    try:
        f(); res[name] = None
    except Exception as e:
        res[name] = type(e).__name__ + ": " + str(e)
lg = GenlabLogger(os.path.join(d, "a"), 6, 3)
lg.log_batch(torch.tensor([0, 1, 2]), torch.zeros(3, 3)); lg.log_batch(torch.tensor([4, 5]), torch.zeros(2, 3))
attempt("missing", lg.end_epoch)
attempt("twice", lambda: lg.log_batch(torch.tensor([3, 1]), torch.zeros(2, 3)))
attempt("twice_in_batch", lambda: lg.log_batch(torch.tensor([3, 3]), torch.zeros(2, 3)))
attempt("range", lambda: lg.log_batch(torch.tensor([6]), torch.zeros(1, 3)))
attempt("shape", lambda: lg.log_batch(torch.tensor([3]), torch.zeros(1, 4)))
attempt("nan", lambda: lg.log_batch(torch.tensor([3]), torch.tensor([[0.0, float("nan"), 1.0]])))
files_after_errors = sorted(os.listdir(os.path.join(d, "a")))
lg.log_batch(torch.tensor([3]), torch.ones(1, 3, requires_grad=True) * 2)  # a tensor that needs grad: detached
attempt("complete", lg.end_epoch)
attempt("stale_folder", lambda: GenlabLogger(os.path.join(d, "a"), 6, 3))
print(json.dumps({"res": res, "files_after_errors": files_after_errors, "files": sorted(os.listdir(os.path.join(d, "a")))}))
`;
    const py = spawnSync(PY, ["-c", code], { encoding: "utf8", env: pyEnv });
    assert.equal(py.status, 0, py.stderr);
    const got = JSON.parse(py.stdout) as { res: Record<string, string | null>; files_after_errors: string[]; files: string[] };
    const want: Record<string, RegExp> = {
      missing: /^ValueError: GenlabLogger \(epoch 1\): 1 of 6 examples were not logged this epoch \(indices 3\)/,
      twice: /^ValueError: .*example 1 was already logged this epoch/,
      twice_in_batch: /^ValueError: .*example 3 appears twice in one batch/,
      range: /^IndexError: .*index 6 is outside 0\.\.5/,
      shape: /^ValueError: .*logits have shape \(1, 4\), expected \[1, 3\]/,
      nan: /^ValueError: .*example 3 has non-finite logits/,
    };
    for (const [k, pat] of Object.entries(want)) assert.match(got.res[k] ?? "(no error)", pat, k);
    assert.deepEqual(got.files_after_errors, [], "nothing written for an epoch that was refused");
    assert.equal(got.res.complete, null, "the epoch completes once the missing example is logged");
    assert.deepEqual(got.files, ["epoch_0001.npy"], "then the epoch is written");
    assert.match(got.res.stale_folder ?? "(no error)", /^FileExistsError: .*already holds 1 \.npy file/, "a folder with a previous run's epochs is refused");
  });
});
