"""E4 of `npm run bench`, PyTorch's side: the small CNN of bench/e4.ts written as one would in PyTorch
(Conv2d 1→8 and 8→16, 3×3, padding 1, each → ReLU → AvgPool2d(2); Linear 784→64 → ReLU → Linear 64→10),
one epoch of SGD (momentum 0.9, lr 0.05) in batches of 128 in file order (468 steps), then the test
accuracy; its own initial weights. Reads Fashion-MNIST from Debian's dataset-fashion-mnist (gzipped IDX
files; pixels / 255 like genlab's loader). Prints one JSON line like bench/e4.ts.
Run as /usr/bin/python3 bench/e4_cnn.py --threads=N."""
import gzip
import json
import os
import sys
import time

import torch

BATCH, LR = 128, 0.05
DIR = os.environ.get("GENLAB_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
sys.path.insert(0, __file__.rsplit("/", 1)[0])
from torch_job import set_threads  # noqa: E402

set_threads()


def idx(name):
    p = os.path.join(DIR, name)
    b = gzip.open(p + ".gz").read() if os.path.exists(p + ".gz") else open(p, "rb").read()
    nd = b[3]
    dims = [int.from_bytes(b[4 + 4 * i : 8 + 4 * i], "big") for i in range(nd)]
    return torch.frombuffer(bytearray(b[4 + 4 * nd :]), dtype=torch.uint8).reshape(dims)


xtr = idx("train-images-idx3-ubyte").float().div(255).reshape(-1, 1, 28, 28)
ytr = idx("train-labels-idx1-ubyte").long()
xte = idx("t10k-images-idx3-ubyte").float().div(255).reshape(-1, 1, 28, 28)
yte = idx("t10k-labels-idx1-ubyte").long()
model = torch.nn.Sequential(
    torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.AvgPool2d(2),
    torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.AvgPool2d(2),
    torch.nn.Flatten(), torch.nn.Linear(784, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10),
)
opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9)
times = []
c0, w0 = time.process_time(), time.perf_counter()
for it in range(xtr.shape[0] // BATCH):
    t0 = time.perf_counter()
    xb, yb = xtr[it * BATCH : (it + 1) * BATCH], ytr[it * BATCH : (it + 1) * BATCH]
    loss = torch.nn.functional.cross_entropy(model(xb), yb)
    opt.zero_grad()
    loss.backward()
    opt.step()
    loss.item()
    times.append((time.perf_counter() - t0) * 1000)
train_ms = (time.perf_counter() - w0) * 1000
correct = 0
with torch.no_grad():
    for s in range(0, yte.shape[0], 1000):
        correct += (model(xte[s : s + 1000]).argmax(-1) == yte[s : s + 1000]).sum().item()
cpu, wall = (time.process_time() - c0) * 1000, (time.perf_counter() - w0) * 1000
steady = sorted(times[10:])
print(json.dumps({"id": "E4", "cpu_ms": cpu, "wall_ms": wall, "step_ms": steady[len(steady) // 2], "check": correct / yte.shape[0], "train_ms": train_ms}))
