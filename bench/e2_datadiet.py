"""E2 of `npm run bench`, PyTorch's side: the Data Diet quick reproduction's scoring and one retraining
written as one would in PyTorch, on the exact training subset genlab's run uses (exported by bench/e2.ts
to <dir>): an MLP 784-128-10 (ReLU, biases), 3 runs of 10 epochs of minibatch SGD (lr 0.05, momentum 0.9,
batch 128, reshuffled each epoch, last incomplete batch dropped), EL2N at epochs 0, 2 and 10 (batches of
1,000), GraNd at epochs 0 and 2 by ghost norms (autograd.grad on the pre-activations, batches of 500),
per-epoch correctness for forgetting events, each run's test accuracy; then one retraining of 8 epochs
on the top 50% by mean EL2N@2. Initial weights and data order are torch's own (He-normal weights, zero
biases, like genlab's), so the numbers agree statistically, not bit for bit.
Prints one JSON line like bench/e2.ts. Run as /usr/bin/python3 bench/e2_datadiet.py <dir> --threads=N.
"""
import json
import sys
import time

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from torch_job import job  # noqa: E402

d, cfg, (xtr, ytr, xte, yte) = job()
dims = [784, *cfg["hidden"], 10]
n = ytr.shape[0]


def init():
    ps = []
    for i in range(len(dims) - 1):
        ps.append((torch.randn(dims[i], dims[i + 1]) * (2 / dims[i]) ** 0.5).requires_grad_())
        ps.append(torch.zeros(dims[i + 1], requires_grad=True))
    return ps


def mlp(ps, x, taps=None, acts=None):
    h = x
    layers = len(ps) // 2
    for i in range(layers):
        if acts is not None:
            acts.append(h)
        h = h @ ps[2 * i] + ps[2 * i + 1]
        if taps is not None:
            taps.append(h)
        if i < layers - 1:
            h = torch.relu(h)
    return h


def el2n(ps):
    out = []
    with torch.no_grad():
        for s in range(0, n, 1000):
            p = torch.softmax(mlp(ps, xtr[s : s + 1000]), 1)
            out.append((p - torch.nn.functional.one_hot(ytr[s : s + 1000], 10)).norm(dim=1))
    return torch.cat(out)


def grand(ps):
    out = []
    for s in range(0, n, 500):
        taps, acts = [], []
        loss = torch.nn.functional.cross_entropy(mlp(ps, xtr[s : s + 500], taps, acts), ytr[s : s + 500], reduction="sum")
        deltas = torch.autograd.grad(loss, taps)
        sq = 0
        for a, dl in zip(acts, deltas):
            d2 = (dl * dl).sum(1)
            sq = sq + (a * a).sum(1) * d2 + d2
        out.append(sq.sqrt().detach())
    return torch.cat(out)


def correct(ps, x, y):
    with torch.no_grad():
        return torch.cat([mlp(ps, x[s : s + 1000]).argmax(1) == y[s : s + 1000] for s in range(0, x.shape[0], 1000)])


def epoch(ps, opt, x, y):
    perm = torch.randperm(x.shape[0])
    b = cfg["batchSize"]
    for s in range(0, x.shape[0] - b + 1, b):
        i = perm[s : s + b]
        opt.zero_grad()
        torch.nn.functional.cross_entropy(mlp(ps, x[i]), y[i]).backward()
        opt.step()


cpu0 = time.process_time()
t0 = time.perf_counter()
runs, epochs = cfg["scoreRuns"], cfg["scoreEpochs"]
el2n_at = {e: torch.zeros(n) for e in (0, 2, epochs)}
grand_at = {e: torch.zeros(n) for e in (0, 2)}
forgetting = torch.zeros(n)
run_acc = 0.0
for r in range(runs):
    ps = init()
    opt = torch.optim.SGD(ps, lr=cfg["lr"], momentum=0.9)
    el2n_at[0] += el2n(ps) / runs
    grand_at[0] += grand(ps) / runs
    prev, learned, events = None, torch.zeros(n, dtype=torch.bool), torch.zeros(n)
    for e in range(1, epochs + 1):
        epoch(ps, opt, xtr, ytr)
        c = correct(ps, xtr, ytr)
        learned |= c
        if prev is not None:
            events += (prev & ~c).float()
        prev = c
        if e in el2n_at:
            el2n_at[e] += el2n(ps) / runs
        if e in grand_at:
            grand_at[e] += grand(ps) / runs
    forgetting += torch.where(learned, events, torch.full((n,), float(epochs))) / runs
    run_acc += correct(ps, xte, yte).float().mean().item() / runs
t1 = time.perf_counter()
keep = torch.argsort(el2n_at[2], descending=True)[: round(cfg["keep"] * n)]
ps = init()
opt = torch.optim.SGD(ps, lr=cfg["lr"], momentum=0.9)
for e in range(cfg["retrainEpochs"]):
    epoch(ps, opt, xtr[keep], ytr[keep])
acc = correct(ps, xte, yte).float().mean().item()
wall = (time.perf_counter() - t0) * 1000
cpu = (time.process_time() - cpu0) * 1000
print(json.dumps({"id": "E2", "cpu_ms": cpu, "wall_ms": wall, "score_ms": (t1 - t0) * 1000, "retrain_ms": (time.perf_counter() - t1) * 1000, "reps": 1, "flops": 0, "check": acc, "run_test_acc": run_acc, "el2n_mean": el2n_at[2].mean().item()}))
