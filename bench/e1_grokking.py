"""E1 of `npm run bench`, PyTorch's side: the quick grokking reproduction written as one would in PyTorch,
on the exact data split and initial weights genlab's run uses (exported by bench/e1.ts to <dir>):
Doshi et al.'s x^2 network f = W2 (x W1)^2 on [onehot(a) | onehot(b)], no biases, width 128, p = 97,
full-batch AdamW (lr 0.006, betas (0.9, 0.98), decoupled weight decay 0.5), cross-entropy, 2,500 steps,
train and test loss and accuracy evaluated at genlab's logged steps. Prints one JSON line like bench/e1.ts.
genlab pads p to 100 output columns and masks the padding; here the 97 real columns are used (the same
function). Run as /usr/bin/python3 bench/e1_grokking.py <dir> --threads=N.
"""
import json
import sys
import time

import torch


sys.path.insert(0, __file__.rsplit("/", 1)[0])
from torch_job import job, load_npy  # noqa: E402

d, cfg, (xtr, ytr, xte, yte) = job()
P = cfg["p"]
load = lambda n: load_npy(f"{d}/{n}.npy")
w1 = load("w1").clone().requires_grad_(True)
w2 = load("w2")[:, :P].clone().requires_grad_(True)
opt = torch.optim.AdamW([w1, w2], lr=cfg["lr"], betas=(cfg["b1"], cfg["b2"]), eps=1e-8, weight_decay=cfg["weightDecay"])
log = set(cfg["log_steps"])


def forward(x):
    return torch.square(x @ w1) @ w2


def first(hist, key, th):
    for s, m in hist:
        if m[key] >= th:
            return s
    return None


cpu0 = time.process_time()
t0 = time.perf_counter()
hist = []


def record(step):
    with torch.no_grad():
        m = {}
        for name, x, y in (("train", xtr, ytr), ("test", xte, yte)):
            z = forward(x)
            m[f"{name}_loss"] = torch.nn.functional.cross_entropy(z, y).item()
            m[f"{name}_acc"] = (z.argmax(-1) == y).float().mean().item()
        hist.append((step, m))


if 0 in log:
    record(0)
for step in range(1, cfg["steps"] + 1):
    opt.zero_grad(set_to_none=True)
    loss = torch.nn.functional.cross_entropy(forward(xtr), ytr)
    loss.backward()
    opt.step()
    if step in log:
        record(step)
wall = (time.perf_counter() - t0) * 1000
cpu = (time.process_time() - cpu0) * 1000
print(json.dumps({"id": "E1", "cpu_ms": cpu, "wall_ms": wall, "reps": 1, "flops": 0, "check": first(hist, "test_acc", 0.95), "train_step_99": first(hist, "train_acc", 0.99), "test_step_95": first(hist, "test_acc", 0.95), "logged": len(hist), "step0_train_loss": hist[0][1]["train_loss"]}))
