"""PyTorch side of `npm run bench`: the same workloads W1-W7 as bench/genlab.ts, same shapes, float32.

Run by bench/run.ts as /usr/bin/python3 (Debian's python3-torch) with OPENBLAS_CORETYPE as genlab chooses it,
OPENBLAS_L2_SIZE unset and OMP/OPENBLAS thread counts set to --threads. Prints one JSON line per
workload: {id, cpu_ms, wall_ms, reps, check}, after a first line {"blas": ..., "torch": ...}.
Each workload uses its best ordinary PyTorch implementation: plain autograd steps, ghost norms with
autograd.grad on the pre-activations for GraNd, double backward for Hessian-vector products.
"""
import json
import statistics
import sys
import time

import torch

threads = 1
only = []
for a in sys.argv[1:]:
    if a.startswith("--threads="):
        threads = int(a.split("=")[1])
    if a.startswith("--only="):
        only = [s for s in a.split("=")[1].split(",") if s]
rep_scale = 1.0
for a in sys.argv[1:]:
    if a.startswith("--rep-scale="):
        rep_scale = float(a.split("=")[1])
torch.set_num_threads(threads)
torch.manual_seed(0)

P, N1 = 97, 4704


def w1_data():
    i = torch.arange(N1)
    a = (2 * i // P) % P
    b = (2 * i) % P
    x = torch.cat([torch.nn.functional.one_hot(a, P), torch.nn.functional.one_hot(b, P)], 1).float()
    return x, (a + b) % P


def mlp_params(dims, bias=True):
    ps = []
    for i in range(len(dims) - 1):
        w = (torch.randn(dims[i], dims[i + 1]) * (2 / dims[i]) ** 0.5).requires_grad_()
        ps.append((w, torch.zeros(dims[i + 1], requires_grad=True)))
    return ps


def mlp(ps, x, taps=None, acts=None):
    h = x
    for i, (w, b) in enumerate(ps):
        if acts is not None:
            acts.append(h)
        h = h @ w + b
        if taps is not None:
            taps.append(h)
        if i < len(ps) - 1:
            h = torch.relu(h)
    return h


def flat(ps):
    return [t for pair in ps for t in pair]


def setup_w1():
    x, y = w1_data()
    ps = mlp_params([2 * P, 256, P])
    opt = torch.optim.SGD(flat(ps), lr=0.1)

    def run():
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(mlp(ps, x), y)
        loss.backward()
        opt.step()
        return loss.item()

    return run


class Block(torch.nn.Module):
    def __init__(self, d=128, heads=4, dmlp=512, vocab=99, t=3):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, d)
        self.pos = torch.nn.Parameter(torch.randn(t, d) * 0.02)
        self.ln1 = torch.nn.LayerNorm(d)
        self.qkv = torch.nn.Linear(d, 3 * d, bias=False)
        self.wo = torch.nn.Linear(d, d, bias=False)
        self.ln2 = torch.nn.LayerNorm(d)
        self.fc1 = torch.nn.Linear(d, dmlp)
        self.fc2 = torch.nn.Linear(dmlp, d)
        self.lnf = torch.nn.LayerNorm(d)
        self.unembed = torch.nn.Linear(d, vocab, bias=False)
        self.heads = heads
        self.register_buffer("mask", torch.triu(torch.full((t, t), float("-inf")), 1))

    def forward(self, tok):
        b, t = tok.shape
        x = self.embed(tok) + self.pos
        q, k, v = self.qkv(self.ln1(x)).split(x.shape[-1], -1)
        sh = lambda z: z.view(b, t, self.heads, -1).transpose(1, 2)
        q, k, v = sh(q), sh(k), sh(v)
        att = torch.softmax(q @ k.transpose(-1, -2) / (q.shape[-1] ** 0.5) + self.mask, -1)
        x = x + self.wo((att @ v).transpose(1, 2).reshape(b, t, -1))
        x = x + self.fc2(torch.relu(self.fc1(self.ln2(x))))
        return self.unembed(self.lnf(x[:, -1]))


def setup_w2():
    m = Block()
    i = torch.arange(512)
    a, b = (i * 37) % 97, (i * 11 + 5) % 97
    tok = torch.stack([a, b, torch.full_like(a, 97)], 1)
    y = (a + b) % 97
    opt = torch.optim.SGD(m.parameters(), lr=0.05)

    def run():
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(m(tok), y)
        loss.backward()
        opt.step()
        return loss.item()

    return run


def setup_w3():
    x, y = w1_data()
    ps = mlp_params([2 * P, 256, P])

    def run():
        taps, acts = [], []
        out = mlp(ps, x, taps, acts)
        loss = torch.nn.functional.cross_entropy(out, y, reduction="sum")
        deltas = torch.autograd.grad(loss, taps)
        sq = 0
        for a, d in zip(acts, deltas):
            d2 = (d * d).sum(1)
            sq = sq + (a * a).sum(1) * d2 + d2
        return sq.sqrt().mean().item()

    return run


def setup_w4():
    x, y = w1_data()
    ps = flat(mlp_params([2 * P, 256, P]))
    gen = torch.Generator().manual_seed(2)

    def run():
        loss = torch.nn.functional.cross_entropy(mlp(list(zip(ps[::2], ps[1::2])), x), y)
        g = torch.autograd.grad(loss, ps, create_graph=True)
        v = [torch.randn(p.shape, generator=gen) for p in ps]
        nrm = sum((t * t).sum() for t in v).sqrt()
        v = [t / nrm for t in v]
        lam = 0.0
        for _ in range(20):
            hv = torch.autograd.grad(g, ps, v, retain_graph=True)
            lam = sum((a * b).sum() for a, b in zip(v, hv)).item()
            nrm = sum((t * t).sum() for t in hv).sqrt()
            v = [t / nrm for t in hv]
        return lam

    return run


def hessian_setup():
    """PyHessian-style Hessian-vector products on the W1 network: one graph with create_graph, then double backward."""
    x, y = w1_data()
    ps = flat(mlp_params([2 * P, 256, P]))
    loss = torch.nn.functional.cross_entropy(mlp(list(zip(ps[::2], ps[1::2])), x), y)
    g = torch.autograd.grad(loss, ps, create_graph=True)
    gv = torch.cat([t.reshape(-1) for t in g])
    n = gv.numel()

    def hvp(v):
        hv = torch.autograd.grad(gv, ps, v, retain_graph=True)
        return torch.cat([t.reshape(-1) for t in hv])

    return n, hvp, g


def lanczos(n, hvp, m, gen):
    q = torch.randint(0, 2, (n,), generator=gen).float() * 2 - 1
    q = q / q.norm()
    Q, alpha, beta = [q], [], []
    for j in range(m):
        w = hvp(Q[-1])
        a = torch.dot(w, Q[-1]).item()
        alpha.append(a)
        for _ in range(2):
            for u in Q:
                w = w - torch.dot(w, u) * u
        b = w.norm().item()
        if j == m - 1 or b < 1e-10:
            break
        beta.append(b)
        Q.append(w / b)
    T = torch.diag(torch.tensor(alpha, dtype=torch.float64))
    for i, b in enumerate(beta[: len(alpha) - 1]):
        T[i, i + 1] = T[i + 1, i] = b
    return torch.linalg.eigh(T)


def setup_hessian(kind):
    gen = torch.Generator().manual_seed(2)

    def run():
        n, hvp, _ = hessian_setup()
        if kind == "W8":
            return lanczos(n, hvp, 30, gen)[0][-5].item()
        if kind == "W8p":
            found, vals = [], []
            for _ in range(5):
                v = torch.randn(n, generator=gen)
                for u in found:
                    v = v - torch.dot(v, u) * u
                v = v / v.norm()
                lam = 0.0
                for _ in range(20):
                    w = hvp(v)
                    for u in found:
                        w = w - torch.dot(w, u) * u
                    lam = torch.dot(v, w).item()
                    v = w / w.norm()
                found.append(v)
                vals.append(lam)
            return vals[-1]
        if kind == "W9":
            est = []
            for _ in range(50):
                z = torch.randint(0, 2, (n,), generator=gen).float() * 2 - 1
                est.append(torch.dot(z, hvp(z)).item())
            return sum(est) / len(est)
        # W10: stochastic Lanczos quadrature, 3 runs × 30 steps: the trace estimate n · Σ w θ
        tr = 0.0
        for _ in range(3):
            evals, evecs = lanczos(n, hvp, 30, gen)
            tr += n * (evecs[0] ** 2 * evals).sum().item() / 3
        return tr

    return run


def setup_w5():
    n = 60000
    x = torch.rand(n, 784)
    y = torch.arange(n) % 10
    ps = mlp_params([784, 256, 10])

    def run():
        with torch.no_grad():
            out = []
            for s in range(0, n, 10000):
                p = torch.softmax(mlp(ps, x[s : s + 10000]), -1)
                p[torch.arange(p.shape[0]), y[s : s + 10000]] -= 1
                out.append(p.norm(dim=1))
            return torch.cat(out).mean().item()

    return run


def setup_w6():
    a = torch.randn(1024, 1024)
    b = torch.randn(1024, 1024)
    return lambda: (a @ b)[0, 0].item()


W7_N = 10000


def setup_w7(log):
    """Two epochs of SGD (momentum 0.9, batch 128) of a 784-256-256-10 MLP on 10,000 examples; with `log`,
    every example's loss, margin, correctness, p(label), EL2N and ghost-norm gradient norm after each epoch
    (batched, 2,000 rows at a time), as genlab's per-example dynamics logger does."""
    x = torch.rand(W7_N, 784)
    y = (torch.arange(W7_N) * 7) % 10

    def run():
        ps = mlp_params([784, 256, 256, 10])
        opt = torch.optim.SGD(flat(ps), lr=0.05, momentum=0.9)
        gen = torch.Generator().manual_seed(9)
        out = 0.0
        for _epoch in range(2):
            perm = torch.randperm(W7_N, generator=gen)
            for s in range(0, W7_N - 127, 128):
                idx = perm[s : s + 128]
                opt.zero_grad(set_to_none=True)
                torch.nn.functional.cross_entropy(mlp(ps, x[idx]), y[idx]).backward()
                opt.step()
            if log:
                norms = []
                for s in range(0, W7_N, 2000):
                    xb, yb = x[s : s + 2000], y[s : s + 2000]
                    taps, acts = [], []
                    z = mlp(ps, xb, taps, acts)
                    lsm = torch.log_softmax(z, -1)
                    loss = -lsm.gather(1, yb[:, None])[:, 0]
                    deltas = torch.autograd.grad(loss.sum(), taps)
                    with torch.no_grad():
                        p = lsm.exp()
                        onehot = torch.nn.functional.one_hot(yb, 10).float()
                        _p_true = p.gather(1, yb[:, None])[:, 0]
                        _el2n = (p - onehot).norm(dim=1)
                        zy = z.gather(1, yb[:, None])[:, 0]
                        _margin = zy - (z - onehot * 1e30).max(1).values
                        _correct = (z.argmax(1) == yb).float()
                        sq = 0
                        for a, d in zip(acts, deltas):
                            d2 = (d * d).sum(1)
                            sq = sq + (a * a).sum(1) * d2 + d2
                        norms.append(sq.sqrt())
                out = torch.cat(norms).mean().item()
        return out

    return run


WORKLOADS = [("W1", setup_w1, 10), ("W2", setup_w2, 10), ("W3", setup_w3, 10), ("W4", setup_w4, 3), ("W4p", setup_w4, 3), ("W5", setup_w5, 3), ("W6", setup_w6, 10), ("W7t", lambda: setup_w7(False), 3), ("W7", lambda: setup_w7(True), 3), ("W8", lambda: setup_hessian("W8"), 3), ("W8p", lambda: setup_hessian("W8p"), 3), ("W9", lambda: setup_hessian("W9"), 3), ("W10", lambda: setup_hessian("W10"), 3)]


def blas():
    with open("/proc/self/maps") as f:
        maps = f.read()
    for name in ("openblas", "mkl", "blis", "libblas.so"):
        if name in maps:
            return name
    return "unknown"


torch.ones(64, 64) @ torch.ones(64, 64)
print(json.dumps({"blas": blas(), "torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
for wid, setup, reps in WORKLOADS:
    if only and wid not in only:
        continue
    run = setup()
    run()
    if reps > 3:
        run()
    reps = max(1, round(reps * rep_scale))
    cpu, wall = [], []
    for _ in range(reps):
        c0, t0 = time.process_time(), time.perf_counter()
        check = run()
        wall.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    print(json.dumps({"id": wid, "cpu_ms": statistics.median(cpu), "wall_ms": statistics.median(wall), "reps": reps, "check": check}), flush=True)
