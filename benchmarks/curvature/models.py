"""Held-out-style models for the estimator benchmark (`bench_models.py`), each with its exact dense
Hessian: four kinds of curvature the digits MLP of `problem.py` does not cover.

- ``cnn``: a small CNN (conv 1→6 3×3, tanh, 2×2 average pool, linear 54·… → 10) on the 8×8 digits,
  trained briefly: an indefinite Hessian with a few large outliers, as in vision models.
- ``logreg``: multinomial logistic regression (64 → 10) trained to near convergence: convex, PSD,
  with a long tail of small eigenvalues.
- ``tanh_init``: a tanh MLP 64-24-10 at initialisation: strongly indefinite (large negative
  eigenvalues), where estimators that assume PSD misbehave.
- ``low_rank``: an MLP 64-32-10 trained on only 40 images until it fits them: an ill-conditioned,
  near-low-rank Hessian (most of the spectrum ≈ 0), the case where sketching estimators shine.

All in float64 on full batches (the operator is deterministic), so the dense matrix built from n
HVPs on unit vectors is the operator every estimator sees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from sklearn.datasets import load_digits

from hessianlr.torch_curvature import TorchOperator


@dataclass
class Model:
    name: str
    description: str
    model: torch.nn.Module
    inputs: torch.Tensor
    targets: torch.Tensor
    loss_fn: object
    op: TorchOperator
    dense: np.ndarray        # symmetrised n×n Hessian
    eigenvalues: np.ndarray  # ascending
    asymmetry: float         # max |H − Hᵀ| / max |H| of the HVP-built matrix

    @property
    def n(self) -> int:
        return self.op.n

    @property
    def trace(self) -> float:
        return float(np.trace(self.dense))

    @property
    def diagonal(self) -> np.ndarray:
        return np.diag(self.dense).copy()


class _CNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 6, 3)
        self.head = torch.nn.Linear(6 * 3 * 3, 10)

    def forward(self, x):
        h = torch.tanh(self.conv(x.view(-1, 1, 8, 8)))
        h = torch.nn.functional.avg_pool2d(h, 2)
        return self.head(h.flatten(1))


def _data(count: int | None = None):
    x, y = load_digits(return_X_y=True)
    if count is not None:
        x, y = x[:count], y[:count]
    return torch.tensor(x / 16.0, dtype=torch.float64), torch.tensor(y)


def _train(model, inputs, targets, loss_fn, steps, lr):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        loss_fn(model(inputs), targets).backward()
        optimizer.step()
    for p in model.parameters():
        p.grad = None


def dense_hessian(op: TorchOperator) -> tuple[np.ndarray, float]:
    """The symmetrised dense Hessian by n HVPs with unit vectors, and its relative asymmetry
    max|H − Hᵀ|/max|H| before symmetrising (the HVP counter is reset afterwards)."""
    raw = torch.empty(op.n, op.n, dtype=op.dtype)
    unit = torch.zeros(op.n, dtype=op.dtype)
    for i in range(op.n):
        unit[i] = 1
        op.hvp(unit, raw[i])
        unit[i] = 0
    op.hvp_count = 0
    asymmetry = float((raw - raw.T).abs().max() / raw.abs().max())
    return (0.5 * (raw + raw.T)).numpy(), asymmetry


def build(name: str, seed: int = 0) -> Model:
    torch.manual_seed(seed)
    loss_fn = torch.nn.CrossEntropyLoss()
    if name == "cnn":
        inputs, targets = _data(600)
        model = _CNN().double()
        _train(model, inputs, targets, loss_fn, 150, 1e-2)
        description = "CNN conv 1→6 3×3, tanh, avg-pool, linear 54→10; 600 digits, 150 Adam steps"
    elif name == "logreg":
        inputs, targets = _data()
        model = torch.nn.Linear(64, 10).double()
        _train(model, inputs, targets, loss_fn, 500, 5e-2)
        description = "logistic regression 64→10 (convex); all 1,797 digits, 500 Adam steps"
    elif name == "tanh_init":
        inputs, targets = _data(500)
        model = torch.nn.Sequential(torch.nn.Linear(64, 24), torch.nn.Tanh(), torch.nn.Linear(24, 10)).double()
        with torch.no_grad():  # a wide initialisation: large, strongly indefinite curvature
            for p in model.parameters():
                p.mul_(3.0)
        description = "tanh MLP 64-24-10 at initialisation (weights ×3); 500 digits"
    elif name == "low_rank":
        inputs, targets = _data(40)
        model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.Tanh(), torch.nn.Linear(32, 10)).double()
        _train(model, inputs, targets, loss_fn, 400, 1e-2)
        description = "tanh MLP 64-32-10 fitted to 40 digits (near-low-rank, ill-conditioned)"
    else:
        raise ValueError(f"unknown model {name!r}")
    model.eval()
    op = TorchOperator.from_model(model, loss_fn, inputs, targets)
    dense, asymmetry = dense_hessian(op)
    return Model(name=name, description=description, model=model, inputs=inputs, targets=targets,
                 loss_fn=loss_fn, op=op, dense=dense, eigenvalues=np.linalg.eigvalsh(dense), asymmetry=asymmetry)


NAMES = ("cnn", "logreg", "tanh_init", "low_rank")
