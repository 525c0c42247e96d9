"""What the overhead benchmark trains: generated image-like data, a small CNN and an MLP, the two
optimizers, and the curvature paths of ``hessianlr.torch.LRTuner`` it compares with plain
training. Nothing here is imported from another benchmark; nothing is downloaded.

Data: ``CLASSES`` smooth class templates (3 × 16 × 16, random 4 × 4 fields upsampled
bilinearly), each image its class's template plus N(0, 1) noise, a fraction ``LABEL_NOISE`` of
the labels replaced by random ones; a fresh batch of ``BATCH`` = 64 for every step (one seeded
stream), so the loss stays away from zero (no memorised pool, no vanishing or subnormal
gradients that would change a step's cost).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

BATCH = 64
CLASSES = 10
CHANNELS, SIDE = 3, 16
NOISE = 1.0
LABEL_NOISE = 0.2
#: The update period of the fixed-period rules (the issue's "period 10").
PERIOD = 10


class Batches:
    """``next(batches)`` → (x: 64 × 3 × 16 × 16 float32, y: 64 class ids) on ``device``, generated
    on the CPU from ``seed`` outside the timed steps (both sides of a pair get the same batch)."""

    def __init__(self, device: str, seed: int = 0):
        self.device = device
        self.g = torch.Generator().manual_seed(seed)
        coarse = torch.randn(CLASSES, CHANNELS, 4, 4, generator=self.g)
        self.templates = torch.nn.functional.interpolate(coarse, size=(SIDE, SIDE), mode="bilinear",
                                                         align_corners=False)

    def __iter__(self):
        return self

    def __next__(self):
        g = self.g
        y = torch.randint(0, CLASSES, (BATCH,), generator=g)
        x = self.templates[y] + NOISE * torch.randn(BATCH, CHANNELS, SIDE, SIDE, generator=g)
        noisy = torch.rand(BATCH, generator=g) < LABEL_NOISE
        y = torch.where(noisy, torch.randint(0, CLASSES, (BATCH,), generator=g), y)
        return x.to(self.device), y.to(self.device)


def cnn() -> torch.nn.Module:
    """conv 3×3 3→16, ReLU, max-pool 2, conv 3×3 16→32, ReLU, max-pool 2, linear 512→10
    (10,218 parameters)."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(CHANNELS, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(32 * 4 * 4, CLASSES))


def mlp() -> torch.nn.Module:
    """768-256-256-10, ReLU, on the flattened images (265,226 parameters)."""
    return torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(CHANNELS * SIDE * SIDE, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 256), torch.nn.ReLU(), torch.nn.Linear(256, CLASSES))


MODELS = {"cnn": cnn, "mlp": mlp}

#: name → (optimizer class, its keyword arguments).
OPTIMIZERS = {
    "adamw": (torch.optim.AdamW, {"lr": 1e-3}),
    "momentum": (torch.optim.SGD, {"lr": 0.02, "momentum": 0.9}),
}


@dataclass(frozen=True)
class Path:
    """One tuned configuration: ``LRTuner(optimizer, method, curvature=curvature, **options)``."""

    name: str
    method: str
    curvature: str
    options: tuple = ()

    @property
    def graph(self) -> bool:
        """Whether the user's backward builds the double-backward graph on curvature steps."""
        return self.curvature == "graph"


#: The compared curvature paths. CDAT's default period is 1: set to 10; and lr_max = 0.05: at its
#: default (no ceiling) CDAT's first observation with SGD + momentum 0.9 set a rate that made
#: the MLP diverge within 10 steps and the CNN stall at a rate of 4.2 (a diverged run cannot be
#: timed; the ceiling changes no cost). HessianLR's default period is 10, given explicitly;
#: auto has no fixed period.
CDAT_OPTIONS = (("update_period", PERIOD), ("lr_max", 0.05))
PATHS = (
    Path("cdat-graph", "cdat", "graph", CDAT_OPTIONS),
    Path("cdat-fd", "cdat", "finite_difference", CDAT_OPTIONS),
    Path("hessianlr-graph", "hessianlr", "graph", (("update_period", PERIOD),)),
    Path("hessianlr-fd", "hessianlr", "finite_difference", (("update_period", PERIOD),)),
    Path("auto", "auto", "auto"),
)
PATH_BY_NAME = {p.name: p for p in PATHS}


def build(model_name: str, optimizer_name: str, device: str, seed: int = 0):
    """(model, optimizer, loss function), the model's initialisation from ``seed``."""
    torch.manual_seed(seed)
    model = MODELS[model_name]().to(device)
    cls, kwargs = OPTIMIZERS[optimizer_name]
    return model, cls(model.parameters(), **kwargs), torch.nn.functional.cross_entropy


def twin(model: torch.nn.Module, optimizer_name: str):
    """An independent copy of ``model`` (same weights) with a fresh optimizer of the same kind."""
    other = copy.deepcopy(model)
    cls, kwargs = OPTIMIZERS[optimizer_name]
    return other, cls(other.parameters(), **kwargs)
