"""A .npy reader for the PyTorch sides of `npm run bench` (Debian's python3-torch comes without numpy)."""
import ast

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
