"""The benchmark problem: a tanh MLP 64-26-10 (1,960 parameters, float64) trained briefly on all
1,797 images of scikit-learn's digits, and the Hessian of its mean cross-entropy on that fixed
full batch (so the operator is deterministic), with its dense matrix and exact spectrum."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.datasets import load_digits

from hessianlr.torch_curvature import TorchOperator
from models import dense_hessian

HIDDEN = 26
TRAIN_STEPS = 200
TRAIN_LR = 1e-2
SEED = 0


@dataclass
class Problem:
    model: torch.nn.Module
    inputs: torch.Tensor
    targets: torch.Tensor
    loss_fn: object
    op: TorchOperator
    dense: np.ndarray          # the symmetrised n×n Hessian
    eigenvalues: np.ndarray    # ascending, numpy.linalg.eigvalsh(dense)
    trace: float
    n: int
    train_loss: float
    train_accuracy: float
    asymmetry: float           # max |H - Hᵀ| / max |H| of the HVP-built matrix
    dense_seconds: float
    hvp_seconds: float         # median time of one HVP (autograd, retained graph)

    @property
    def lambda_max(self) -> float:
        return float(self.eigenvalues[-1])


def build(hidden: int = HIDDEN, train_steps: int = TRAIN_STEPS, seed: int = SEED) -> Problem:
    torch.manual_seed(seed)
    x, y = load_digits(return_X_y=True)
    inputs = torch.tensor(x / 16.0, dtype=torch.float64)
    targets = torch.tensor(y)
    model = torch.nn.Sequential(torch.nn.Linear(64, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 10)).double()
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=TRAIN_LR)
    for _ in range(train_steps):  # full batch: the Hessian is no longer the one at initialisation
        optimizer.zero_grad()
        loss_fn(model(inputs), targets).backward()
        optimizer.step()
    for p in model.parameters():
        p.grad = None
    model.eval()
    with torch.no_grad():
        out = model(inputs)
        train_loss = float(loss_fn(out, targets))
        accuracy = float((out.argmax(1) == targets).double().mean())
    op = TorchOperator.from_model(model, loss_fn, inputs, targets)
    start = time.perf_counter()
    dense, asymmetry = dense_hessian(op)
    dense_seconds = time.perf_counter() - start
    eigenvalues = np.linalg.eigvalsh(dense)
    v = torch.randn(op.n, dtype=op.dtype)
    out_v = torch.empty_like(v)
    times = []
    for _ in range(30):
        t = time.perf_counter()
        op.hvp(v, out_v)
        times.append(time.perf_counter() - t)
    op.hvp_count = 0
    return Problem(model=model, inputs=inputs, targets=targets, loss_fn=loss_fn, op=op, dense=dense,
                   eigenvalues=eigenvalues, trace=float(np.trace(dense)), n=op.n, train_loss=train_loss,
                   train_accuracy=accuracy, asymmetry=asymmetry, dense_seconds=dense_seconds,
                   hvp_seconds=float(np.median(times)))
