"""E3 of `npm run bench`, PyTorch's side: the tiny causal Transformer of bench/e3.ts written as one would
in PyTorch (pre-LN blocks x + attn(ln x), x + mlp(ln x); causal attention from matmuls with an additive
−1e9 mask, 4 heads; ReLU MLP 64→256→64; learned positions; untied unembedding without bias), 200 Adam
steps (lr 1e-3) on the same batches (the same integer hash of the token index), its own initial weights.
Prints one JSON line like bench/e3.ts. Run as /usr/bin/python3 bench/e3_transformer.py --threads=N."""
import json
import math
import sys
import time

import torch

STEPS, BATCH, HALF, VOCAB, D, HEADS, DMLP, LAYERS, LR = 200, 32, 24, 18, 64, 4, 256, 2, 1e-3
T = 2 * HALF
sys.path.insert(0, __file__.rsplit("/", 1)[0])
from torch_job import set_threads  # noqa: E402

set_threads()


def token(s, j):
    if j == HALF:
        return 17
    i = s * (HALF + 1) + (j % (HALF + 1))
    x = ((i + 1) * 2654435761) & 0xFFFFFFFF
    x = (x ^ (x >> 16)) & 0xFFFFFFFF
    return x % 16 + 1


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.ln2 = torch.nn.LayerNorm(D), torch.nn.LayerNorm(D)
        self.wq, self.wk, self.wv, self.wo = (torch.nn.Linear(D, D, bias=False) for _ in range(4))
        self.w1, self.w2 = torch.nn.Linear(D, DMLP), torch.nn.Linear(DMLP, D)

    def attn(self, x, mask):
        b, t, d = x.shape
        split = lambda y: y.view(b, t, HEADS, d // HEADS).transpose(1, 2)
        q, k, v = split(self.wq(x)), split(self.wk(x)), split(self.wv(x))
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // HEADS) + mask, dim=-1)
        return self.wo((att @ v).transpose(1, 2).reshape(b, t, d))

    def forward(self, x, mask):
        x = x + self.attn(self.ln1(x), mask)
        return x + self.w2(torch.relu(self.w1(self.ln2(x))))


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(VOCAB, D)
        self.pos = torch.nn.Parameter(torch.randn(T, D))
        self.blocks = torch.nn.ModuleList(Block() for _ in range(LAYERS))
        self.lnf = torch.nn.LayerNorm(D)
        self.unembed = torch.nn.Linear(D, VOCAB, bias=False)
        self.register_buffer("mask", (torch.tril(torch.ones(T, T)) - 1) * 1e9)

    def forward(self, tok):
        x = self.embed(tok) + self.pos
        for blk in self.blocks:
            x = blk(x, self.mask)
        return self.unembed(self.lnf(x))


model = Model()
opt = torch.optim.Adam(model.parameters(), lr=LR)
losses, times = [], []
c0, w0 = time.process_time(), time.perf_counter()
for it in range(STEPS):
    t0 = time.perf_counter()
    rows = [[token(it * BATCH + b, j) for j in range(T + 1)] for b in range(BATCH)]
    seq = torch.tensor(rows, dtype=torch.long)
    x, y = seq[:, :T], seq[:, 1:]
    loss = torch.nn.functional.cross_entropy(model(x).reshape(BATCH * T, VOCAB), y.reshape(-1))
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
    times.append((time.perf_counter() - t0) * 1000)
cpu, wall = (time.process_time() - c0) * 1000, (time.perf_counter() - w0) * 1000
steady = sorted(times[10:])
print(json.dumps({"id": "E3", "cpu_ms": cpu, "wall_ms": wall, "step_ms": steady[len(steady) // 2], "check": sum(losses[-10:]) / 10, "first_loss": losses[0]}))
