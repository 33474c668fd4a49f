"""Shared by the PyTorch sides of the end-to-end jobs of `npm run bench` (bench/e1_grokking.py,
bench/e2_datadiet.py; set_threads also for bench/e3_transformer.py and bench/e4_cnn.py): a .npy reader (Debian's python3-torch comes without numpy) and the job set-up:
<dir> --threads=N on the command line, torch's thread count, the exported config and the data split."""
import ast
import json
import sys

import torch


def load_npy(path):
    """A .npy reader (Debian's python3-torch comes without numpy): little-endian f4 / i4, C order."""
    b = open(path, "rb").read()
    assert b[:6] == b"\x93NUMPY", path
    hlen = int.from_bytes(b[8:10], "little") if b[6] == 1 else int.from_bytes(b[8:12], "little")
    start = 10 if b[6] == 1 else 12
    h = ast.literal_eval(b[start : start + hlen].decode("latin1"))
    dtype = {"<f4": torch.float32, "<i4": torch.int32}[h["descr"]]
    return torch.frombuffer(bytearray(b[start + hlen :]), dtype=dtype).reshape(h["shape"])


def set_threads():
    """torch's threads from --threads=N on the command line (default 1), and seed 0."""
    threads = 1
    for a in sys.argv[1:]:
        if a.startswith("--threads="):
            threads = int(a.split("=")[1])
    torch.set_num_threads(threads)
    torch.manual_seed(0)


def job():
    """(dir, config, (x_train, y_train, x_test, y_test)) of the job genlab exported to argv[1]; sets torch's threads from --threads=N."""
    d = sys.argv[1]
    set_threads()
    cfg = json.load(open(f"{d}/config.json"))
    load = lambda n: load_npy(f"{d}/{n}.npy")
    return d, cfg, (load("x_train"), load("y_train").long(), load("x_test"), load("y_test").long())
