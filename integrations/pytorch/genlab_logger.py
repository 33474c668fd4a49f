"""Log per-epoch logits from your own PyTorch training loop in the layout `genlab scores --dynamics` reads.

One file, torch + numpy only: copy it next to your training script.

    from genlab_logger import GenlabLogger, save_labels

    logger = GenlabLogger("run/logits", num_examples=len(train_set), num_classes=10)
    for epoch in range(epochs):
        for idx, x, y in loader:               # the loader yields each row's dataset index
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            ...                                # backward, optimizer step
            logger.log_batch(idx, logits)      # detached, moved to the CPU, float32
        logger.end_epoch()                     # writes run/logits/epoch_0001.npy, epoch_0002.npy, ...
    save_labels("run/labels.npy", train_labels)   # the labels the model was trained on (noisy ones included)

    genlab scores --dynamics run/logits --labels run/labels.npy --out scores.csv

Each `end_epoch()` writes `out_dir/epoch_{k:04d}.npy`, an [N, C] float32 array whose row i is example i's
logits (rows are placed by the indices you pass, so shuffled batches are fine), k = first_epoch,
first_epoch + 1, ... (genlab's `--first-epoch`, default 1; log the initial model as epoch 0 with
`first_epoch=0` and pass `--first-epoch 0`). Only these files go in `out_dir`, so the folder is exactly what
`--dynamics` reads. Every example must be logged exactly once per epoch: `log_batch` raises on an index
logged twice (or out of range, or non-finite logits), `end_epoch` raises naming the examples that were not
logged, and nothing is written for that epoch. With `save_losses=True` the per-example losses go to a
sibling folder `out_dir + "_losses"` (`loss_{k:04d}.npy`, [N] float32), never into `out_dir`.

Two ways to log, both written in the same layout:

  * training-time: log the training-mode logits of each minibatch as it is trained (above). This is what
    Toneva et al. 2019 (forgetting events) and Pleiss et al. 2020 (AUM) use: the forward pass of each
    minibatch during training, so examples of one epoch are seen by slightly different models (and with
    dropout/batch-norm in training mode). It costs nothing extra.
  * end of epoch: after each epoch, put the model in eval mode and evaluate every training example
    (`with torch.no_grad(): logger.log_batch(idx, model.eval()(x))` over an unshuffled loader, then
    `model.train()`). This is Paul et al. 2021's EL2N (the model at epoch t scores every example) and what
    genlab's own dynamics logger does. It costs one inference pass over the training set per epoch.

Pick one per run and say which in your paper: the scores differ (a little) between the two.
Logits are preferred over probabilities: AUM is a logit margin (see docs/data-scores.md, "metric variants").
"""

import os

import numpy as np

try:  # torch is optional: log_batch also takes numpy arrays (e.g. from a JAX loop)
    import torch
except ImportError:  # pragma: no cover
    torch = None

__all__ = ["GenlabLogger", "save_labels"]


def _numpy(a, dtype):
    if torch is not None and isinstance(a, torch.Tensor):
        a = a.detach().to("cpu")
        a = a.to(torch.float32) if dtype == np.float32 else a.to(torch.int64)
        return a.numpy()
    return np.asarray(a, dtype=dtype)


def _save(path, array):
    """Write a .npy atomically (a temporary name that genlab ignores, then a rename)."""
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        np.save(f, array)
    os.replace(tmp, path)


def save_labels(path, labels):
    """Save the labels the model was trained on as an int64 [N] .npy (genlab's `--labels`)."""
    y = _numpy(labels, np.int64).reshape(-1)
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    _save(path if path.endswith(".npy") else path + ".npy", y.astype(np.int64))


class GenlabLogger:
    """Collect the logits of every training example over an epoch and write them as epoch_{k:04d}.npy."""

    def __init__(self, out_dir, num_examples, num_classes, save_losses=False, first_epoch=1, overwrite=False, allow_missing=False):
        if num_examples < 1 or num_classes < 2:
            raise ValueError(f"GenlabLogger: num_examples must be >= 1 and num_classes >= 2, got {num_examples} and {num_classes}")
        self.out_dir = out_dir
        self.loss_dir = out_dir.rstrip("/\\") + "_losses" if save_losses else None
        # allow_missing: an epoch may log a subset (drop_last, a sampled subset); the logged rows' example
        # indices go to out_dir + "_index" — pass it to genlab with --dynamics-index
        self.index_dir = out_dir.rstrip("/\\") + "_index" if allow_missing else None
        self.n, self.c = int(num_examples), int(num_classes)
        self.epoch = int(first_epoch)
        for d in [out_dir] + [x for x in (self.loss_dir, self.index_dir) if x]:
            os.makedirs(d, exist_ok=True)
            old = sorted(f for f in os.listdir(d) if f.endswith(".npy"))
            if old and not overwrite:
                raise FileExistsError(f"GenlabLogger: {d} already holds {len(old)} .npy file(s) ({old[0]}, ...); genlab would read them as epochs of this run. Use a new folder or overwrite=True")
            for f in old:
                os.remove(os.path.join(d, f))
        self._reset()

    def _reset(self):
        self._logits = np.zeros((self.n, self.c), np.float32)
        self._seen = np.zeros(self.n, bool)
        self._losses = np.zeros(self.n, np.float32) if self.loss_dir else None

    def log_batch(self, indices, logits, targets=None, losses=None):
        """Record a batch: `indices` [B] dataset indices of the rows, `logits` [B, C].

        With save_losses, pass either `losses` [B] (your per-example loss) or `targets` [B] (the labels:
        the cross-entropy of the logits is stored).
        """
        idx = _numpy(indices, np.int64).reshape(-1)
        z = _numpy(logits, np.float32)
        if z.ndim != 2 or z.shape != (idx.shape[0], self.c):
            raise ValueError(f"GenlabLogger (epoch {self.epoch}): logits have shape {tuple(z.shape)}, expected [{idx.shape[0]}, {self.c}] (one row per index, one column per class)")
        bad = idx[(idx < 0) | (idx >= self.n)]
        if bad.size:
            raise IndexError(f"GenlabLogger (epoch {self.epoch}): index {bad[0]} is outside 0..{self.n - 1}")
        if np.unique(idx).size != idx.size:
            u, k = np.unique(idx, return_counts=True)
            raise ValueError(f"GenlabLogger (epoch {self.epoch}): example {u[k > 1][0]} appears twice in one batch")
        twice = idx[self._seen[idx]]
        if twice.size:
            raise ValueError(f"GenlabLogger (epoch {self.epoch}): example {twice[0]} was already logged this epoch ({twice.size} of this batch were); log each example once per epoch and call end_epoch() between epochs")
        if not np.isfinite(z).all():
            r = int(np.argwhere(~np.isfinite(z))[0][0])
            raise ValueError(f"GenlabLogger (epoch {self.epoch}): example {idx[r]} has non-finite logits {z[r].tolist()}")
        if self._losses is not None:
            if losses is not None:
                l = _numpy(losses, np.float32).reshape(-1)
            elif targets is not None:
                t = _numpy(targets, np.int64).reshape(-1)
                zz = z.astype(np.float64)
                m = zz.max(1, keepdims=True)
                lse = m[:, 0] + np.log(np.exp(zz - m).sum(1))
                l = (lse - zz[np.arange(len(t)), t]).astype(np.float32)
            else:
                raise ValueError("GenlabLogger: save_losses=True needs log_batch(..., targets=y) or losses=per_example_losses")
            if l.shape != idx.shape:
                raise ValueError(f"GenlabLogger (epoch {self.epoch}): {l.shape[0]} losses for {idx.shape[0]} indices")
            self._losses[idx] = l
        self._logits[idx] = z
        self._seen[idx] = True

    def end_epoch(self):
        """Write this epoch's [N, C] logits (and losses); returns the path written."""
        if self.index_dir is not None:
            seen = np.flatnonzero(self._seen)
            if seen.size == 0:
                raise ValueError(f"GenlabLogger (epoch {self.epoch}): no example was logged this epoch")
            path = os.path.join(self.out_dir, f"epoch_{self.epoch:04d}.npy")
            _save(path, self._logits[seen])
            _save(os.path.join(self.index_dir, f"epoch_{self.epoch:04d}.npy"), seen.astype(np.int64))
            if self._losses is not None:
                _save(os.path.join(self.loss_dir, f"loss_{self.epoch:04d}.npy"), np.where(self._seen, self._losses, np.nan).astype(np.float32))
            self.epoch += 1
            self._reset()
            return path
        if not self._seen.all():
            missing = np.flatnonzero(~self._seen)
            shown = ", ".join(str(i) for i in missing[:5]) + (", ..." if missing.size > 5 else "")
            raise ValueError(f"GenlabLogger (epoch {self.epoch}): {missing.size} of {self.n} examples were not logged this epoch (indices {shown}); every example must be logged once per epoch (drop_last=True in the DataLoader drops some), or pass allow_missing=True and give genlab the index folder with --dynamics-index")
        path = os.path.join(self.out_dir, f"epoch_{self.epoch:04d}.npy")
        _save(path, self._logits)
        if self._losses is not None:
            _save(os.path.join(self.loss_dir, f"loss_{self.epoch:04d}.npy"), self._losses)
        self.epoch += 1
        self._reset()
        return path
