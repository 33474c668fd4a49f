"""A tiny MLP on 300 synthetic points (3 classes, 10% of the labels flipped), logged with GenlabLogger.

    python3 integrations/pytorch/example.py run/
    genlab scores --dynamics run/logits --labels run/labels.npy --out scores.csv
"""
import os, sys
import numpy as np, torch, torch.nn.functional as F
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from genlab_logger import GenlabLogger, save_labels

out = sys.argv[1]
torch.manual_seed(0)
N, C = 300, 3
y_true = torch.arange(N) % C
x = 0.6 * torch.randn(N, 2) + torch.tensor([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])[y_true]
flipped = torch.rand(N) < 0.1
y = torch.where(flipped, (y_true + torch.randint(1, C, (N,))) % C, y_true)  # a wrong label for the flipped ones
model = torch.nn.Sequential(torch.nn.Linear(2, 32), torch.nn.ReLU(), torch.nn.Linear(32, C))
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
logger = GenlabLogger(os.path.join(out, "logits"), N, C, save_losses=True)
for epoch in range(5):
    for idx in torch.randperm(N).split(32):  # shuffled minibatches: log the rows by their dataset index
        logits = model(x[idx])
        loss = F.cross_entropy(logits, y[idx])
        opt.zero_grad(); loss.backward(); opt.step()
        logger.log_batch(idx, logits, targets=y[idx])  # training-time logits (Toneva et al., Pleiss et al.)
    logger.end_epoch()
save_labels(os.path.join(out, "labels.npy"), y)
np.save(os.path.join(out, "flipped.npy"), flipped.numpy())
print(os.path.join(out, "logits"))
