"""The five training tasks: data (offline, deterministic) and a model builder per task.

Every task is a :class:`Task`: fixed train/test tensors (the split never depends on the seed), a
mean loss ``loss_fn(model(x), y)``, a test metric, and ``make_model(seed)`` (``torch.manual_seed``
then torch's default initialisation). The seed changes the initial weights and the batch order
(:func:`batch_order`), never the data.

- ``mlp``: scikit-learn digits (1797 8×8 images, 10 classes), stratified 75/25 split, features
  standardised on the training part; MLP 64-64-64-10 (ReLU); cross-entropy; test accuracy (%).
- ``cnn``: the same digits as 1×8×8 images (pixels /16, then the training part's mean and std);
  conv 3×3 1→8, ReLU, conv 3×3 8→16, ReLU, 2×2 max-pool, linear 256→10; cross-entropy;
  test accuracy (%).
- ``regression``: generated, x ~ N(0, I₈), y = sin(x₁) + 0.5·x₂·x₃ + 0.5·tanh(2x₄) + 0.5·x₅ + ε,
  ε ~ N(0, 0.3²): the noise floor of the test MSE is 0.09. 2048 train / 2048 test samples;
  MLP 8-64-64-1 (tanh); MSE; test MSE.
- ``transformer``: next-token prediction on sequences of a fixed random second-order Markov chain
  over 8 tokens (each of the 64 contexts (a, b) has its own next-token distribution, drawn once
  from Dirichlet(0.3)); 1024 train / 256 test sequences of 16 tokens; embedding + learned
  positions (d_model 32), one ``nn.TransformerEncoderLayer`` (4 heads, feed-forward 64, dropout
  0, causal mask), linear head; cross-entropy over positions 1…15 predicted from their prefix;
  token-level test accuracy (%) on those positions. The Bayes-optimal accuracy (always guess the
  true chain's most likely next token; position 1 sees one token only) is ``bayes_accuracy``.
- ``logistic``: scikit-learn breast_cancer (569 × 30), stratified 75/25 split, standardised;
  a linear model (30 → 1 logit) with binary cross-entropy: convex; test accuracy (%).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

NAMES = ("mlp", "cnn", "regression", "transformer", "logistic")
BATCH = 64


@dataclass
class Task:
    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    loss_fn: Callable
    build: Callable[[], torch.nn.Module] = field(repr=False)
    metric: str  # "accuracy" (%, higher is better) | "mse" (lower is better)
    base_epochs: int  # the 1× budget
    description: str = ""
    needs_math_attention: bool = False  # double backward through SDPA on CPU needs the math kernel
    bayes_accuracy: float | None = None
    noise_floor: float | None = None

    @property
    def n_train(self) -> int:
        return int(self.x_train.shape[0])

    @property
    def steps_per_epoch(self) -> int:
        return self.n_train // BATCH  # the last partial batch of each epoch's permutation is dropped

    def make_model(self, seed: int) -> torch.nn.Module:
        torch.manual_seed(seed)
        return self.build()

    def test_metric(self, model) -> float:
        with torch.no_grad():
            out = model(self.x_test)
            if self.metric == "mse":
                return float(self.loss_fn(out, self.y_test))
            if self.name == "logistic":
                pred = (out.reshape(-1) > 0).to(self.y_test.dtype)
                return 100.0 * float((pred == self.y_test).float().mean())
            if self.name == "transformer":
                return 100.0 * float((out[:, :-1].argmax(-1) == self.y_test[:, 1:]).float().mean())
            return 100.0 * float((out.argmax(dim=1) == self.y_test).float().mean())

    def train_loss(self, model) -> float:
        with torch.no_grad():
            return float(self.loss_fn(model(self.x_train), self.y_train))


def batch_order(task: Task, seed: int, steps: int) -> torch.Tensor:
    """steps × BATCH training indices: epoch after epoch a permutation drawn from a generator
    seeded by the seed only, cut into full batches. Every method of a seed gets the same."""
    g = torch.Generator().manual_seed(1000 + seed)
    spe = task.steps_per_epoch
    epochs = math.ceil(steps / spe)
    rows = [torch.randperm(task.n_train, generator=g)[: spe * BATCH].view(spe, BATCH) for _ in range(epochs)]
    return torch.cat(rows)[:steps]


def probe_stream(task: Task, seed: int):
    """An endless independent stream of training batches (gen-optim's ``tr_iter``: its authors
    pass a separately shuffled ``iter(train_loader)``)."""
    g = torch.Generator().manual_seed(5000 + seed)
    spe = task.steps_per_epoch
    while True:
        perm = torch.randperm(task.n_train, generator=g)
        for k in range(spe):
            index = perm[k * BATCH:(k + 1) * BATCH]
            yield task.x_train[index], task.y_train[index]


# -- data ---------------------------------------------------------------------------------------

def _digits():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    return train_test_split(data.data, data.target, test_size=0.25, random_state=0, stratify=data.target)


def _standardise(train: np.ndarray, test: np.ndarray):
    mean, std = train.mean(axis=0), train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return (train - mean) / std, (test - mean) / std


def _f32(a):
    return torch.tensor(np.asarray(a), dtype=torch.float32)


def _ce(out, y):
    return F.cross_entropy(out, y)


def _mse(out, y):
    return F.mse_loss(out.reshape(-1), y)


def _bce(out, y):
    return F.binary_cross_entropy_with_logits(out.reshape(-1), y)


def _seq_ce(out, y):
    # out: B×T×V logits at every position; position t predicts token t+1
    return F.cross_entropy(out[:, :-1].reshape(-1, out.shape[-1]), y[:, 1:].reshape(-1))


def mlp() -> Task:
    x_tr, x_te, y_tr, y_te = _digits()
    x_tr, x_te = _standardise(x_tr, x_te)

    def build():
        return torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64),
                                   torch.nn.ReLU(), torch.nn.Linear(64, 10))

    return Task("mlp", _f32(x_tr), torch.tensor(y_tr), _f32(x_te), torch.tensor(y_te), _ce, build,
                "accuracy", base_epochs=30,
                description="digits (1347 train / 450 test), MLP 64-64-64-10 ReLU, cross-entropy")


def cnn() -> Task:
    x_tr, x_te, y_tr, y_te = _digits()
    x_tr, x_te = x_tr / 16.0, x_te / 16.0
    mean, std = x_tr.mean(), x_tr.std()
    img = lambda a: _f32((a - mean) / std).view(-1, 1, 8, 8)  # noqa: E731

    def build():
        return torch.nn.Sequential(
            torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(),
            torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(),
            torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(16 * 4 * 4, 10))

    return Task("cnn", img(x_tr), torch.tensor(y_tr), img(x_te), torch.tensor(y_te), _ce, build,
                "accuracy", base_epochs=15,
                description="digits as 1×8×8 images, conv8-conv16-maxpool-linear, cross-entropy")


def regression() -> Task:
    rng = np.random.default_rng(12345)
    noise = 0.3

    def sample(n):
        x = rng.standard_normal((n, 8))
        f = np.sin(x[:, 0]) + 0.5 * x[:, 1] * x[:, 2] + 0.5 * np.tanh(2 * x[:, 3]) + 0.5 * x[:, 4]
        return x, f + noise * rng.standard_normal(n)

    x_tr, y_tr = sample(2048)
    x_te, y_te = sample(2048)

    def build():
        return torch.nn.Sequential(torch.nn.Linear(8, 64), torch.nn.Tanh(), torch.nn.Linear(64, 64),
                                   torch.nn.Tanh(), torch.nn.Linear(64, 1))

    return Task("regression", _f32(x_tr), _f32(y_tr), _f32(x_te), _f32(y_te), _mse, build, "mse",
                base_epochs=20, noise_floor=noise ** 2,
                description="generated smooth target + N(0, 0.3²) noise (floor 0.09), 2048/2048, "
                            "MLP 8-64-64-1 tanh, MSE")


class TinyTransformer(torch.nn.Module):
    def __init__(self, vocab: int, length: int, d_model: int = 32, heads: int = 4, ff: int = 64):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, d_model)
        self.pos = torch.nn.Parameter(0.02 * torch.randn(length, d_model))
        layer = torch.nn.TransformerEncoderLayer(d_model, heads, ff, dropout=0.0, batch_first=True)
        self.encoder = torch.nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)
        self.head = torch.nn.Linear(d_model, vocab)
        self.register_buffer("mask", torch.nn.Transformer.generate_square_subsequent_mask(length), persistent=False)

    def forward(self, x):
        t = x.shape[1]
        h = self.embed(x) + self.pos[:t]
        return self.head(self.encoder(h, mask=self.mask[:t, :t], is_causal=True))


def transformer() -> Task:
    vocab, length = 8, 16
    rng = np.random.default_rng(2024)
    trans = rng.dirichlet(np.full(vocab, 0.3), size=(vocab, vocab))  # P(next | a, b)

    def sample(n):
        seq = np.empty((n, length), dtype=np.int64)
        seq[:, :2] = rng.integers(0, vocab, size=(n, 2))
        for t in range(2, length):
            p = trans[seq[:, t - 2], seq[:, t - 1]]
            seq[:, t] = (p.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
        return seq

    train, test = sample(1024), sample(256)
    # Bayes-optimal test accuracy of the true chain on these test sequences: position 1 sees one
    # token (the first is uniform, so guess argmax_c mean_a P(c | a, b)), the others see (a, b)
    guess2 = trans.argmax(axis=2)
    guess1 = trans.mean(axis=0).argmax(axis=1)
    hits = (guess1[test[:, 0]] == test[:, 1]).sum() + (guess2[test[:, :-2], test[:, 1:-1]] == test[:, 2:]).sum()
    bayes = 100.0 * float(hits) / (test.shape[0] * (length - 1))
    xtr, xte = torch.tensor(train), torch.tensor(test)
    return Task("transformer", xtr, xtr, xte, xte, _seq_ce, lambda: TinyTransformer(vocab, length),
                "accuracy", base_epochs=12, needs_math_attention=True, bayes_accuracy=bayes,
                description="2nd-order Markov chain over 8 tokens, 1024/256 sequences of 16, "
                            "1-layer causal TransformerEncoder d_model 32, next-token cross-entropy")


def logistic() -> Task:
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    data = load_breast_cancer()
    x_tr, x_te, y_tr, y_te = train_test_split(data.data, data.target, test_size=0.25, random_state=0,
                                              stratify=data.target)
    x_tr, x_te = _standardise(x_tr, x_te)
    return Task("logistic", _f32(x_tr), _f32(y_tr), _f32(x_te), _f32(y_te), _bce,
                lambda: torch.nn.Linear(30, 1), "accuracy", base_epochs=40,
                description="breast_cancer (426 train / 143 test), standardised, linear logit, BCE")


_BUILDERS = {"mlp": mlp, "cnn": cnn, "regression": regression, "transformer": transformer, "logistic": logistic}
_CACHE: dict[str, Task] = {}


def load(name: str) -> Task:
    if name not in _CACHE:
        if name not in _BUILDERS:
            raise ValueError(f"unknown task {name!r}; known: {', '.join(NAMES)}")
        _CACHE[name] = _BUILDERS[name]()
    return _CACHE[name]
