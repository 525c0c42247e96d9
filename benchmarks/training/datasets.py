"""The data sets (scikit-learn's bundled copies, no download) and the batch orders.

- ``digits``: 1797 8×8 images, 10 classes; cross-entropy; metric test accuracy.
- ``diabetes``: 442 patients, 10 features, a continuous target; mean squared error on the
  standardised target; metric test MSE in standardised units (1.0 = predicting the mean).

Both: a fixed 75/25 split (``random_state=0``, stratified for digits), features standardised with
the training part's mean and std (the regression target too). The split does not depend on the
seed, so every method and seed sees the same training and test sets.

Batch orders: mini-batch steps take consecutive slices of a stream of random permutations of the
training set (epoch after epoch), drawn from a generator seeded by the seed only, so every method
of one seed sees the same batches in the same order. Full batch is the whole training set at every
step. :func:`probe_stream` is a second, independent stream for gen-optim's ``tr_iter`` (its
authors pass ``iter(train_loader)``, a separately shuffled pass over the training set).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

import torch
from sklearn.datasets import load_diabetes, load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

NAMES = ("digits", "diabetes")


@dataclass(frozen=True)
class Dataset:
    name: str
    task: str  # "classification" | "regression"
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    loss_fn: Callable  # mean loss over a batch: loss_fn(model(x), y)
    metric: str  # name of the test metric
    higher_is_better: bool

    @property
    def n_train(self) -> int:
        return self.x_train.shape[0]

    @property
    def n_features(self) -> int:
        return self.x_train.shape[1]

    @property
    def n_outputs(self) -> int:
        return 10 if self.task == "classification" else 1


def _mse(prediction, target):
    return torch.nn.functional.mse_loss(prediction.reshape(-1), target)


def load(name: str) -> Dataset:
    if name == "digits":
        data = load_digits()
        x_tr, x_te, y_tr, y_te = train_test_split(
            data.data, data.target, test_size=0.25, random_state=0, stratify=data.target)
        scaler = StandardScaler().fit(x_tr)
        f = lambda a: torch.tensor(scaler.transform(a), dtype=torch.float32)  # noqa: E731
        return Dataset(name, "classification", f(x_tr), torch.tensor(y_tr, dtype=torch.long),
                       f(x_te), torch.tensor(y_te, dtype=torch.long),
                       torch.nn.functional.cross_entropy, "test accuracy", True)
    if name == "diabetes":
        data = load_diabetes()
        x_tr, x_te, y_tr, y_te = train_test_split(data.data, data.target, test_size=0.25, random_state=0)
        xs = StandardScaler().fit(x_tr)
        mean, std = float(y_tr.mean()), float(y_tr.std())
        f = lambda a: torch.tensor(xs.transform(a), dtype=torch.float32)  # noqa: E731
        g = lambda a: torch.tensor((a - mean) / std, dtype=torch.float32)  # noqa: E731
        return Dataset(name, "regression", f(x_tr), g(y_tr), f(x_te), g(y_te), _mse, "test MSE", False)
    raise ValueError(f"unknown data set {name!r}; known: {', '.join(NAMES)}")


def _permutation_stream(n: int, generator: torch.Generator) -> Iterator[int]:
    while True:
        yield from torch.randperm(n, generator=generator).tolist()


def batch_indices(n: int, batch: int, steps: int, seed: int) -> torch.Tensor:
    """steps × batch training indices for one seed (the same for every method)."""
    stream = _permutation_stream(n, torch.Generator().manual_seed(1000 + seed))
    return torch.tensor([[next(stream) for _ in range(batch)] for _ in range(steps)], dtype=torch.long)


def probe_stream(data: Dataset, batch: int | None, seed: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """An endless, independent stream of (x, y) batches (gen-optim's ``tr_iter``); full batch when
    ``batch`` is None."""
    if batch is None:
        while True:
            yield data.x_train, data.y_train
    stream = _permutation_stream(data.n_train, torch.Generator().manual_seed(5000 + seed))
    while True:
        index = torch.tensor([next(stream) for _ in range(batch)], dtype=torch.long)
        yield data.x_train[index], data.y_train[index]
