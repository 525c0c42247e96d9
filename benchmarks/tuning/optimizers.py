"""The base optimizers (torch.optim), their families, constant grids and start sets.

``sgd`` plain SGD; ``momentum`` SGD with momentum 0.9; ``nesterov`` SGD with momentum 0.9,
Nesterov and weight decay 5e-4 (coupled, as torch's SGD); ``adam`` Adam (torch defaults);
``adamw`` AdamW with weight decay 0.01. Two more, not in the default plan, for optimizers the
library has no closed-form update for (``LRTuner`` measures their update by a dry run of their
step): ``rmsprop`` RMSprop and ``nadam`` NAdam, torch defaults, in the Adam family's grid and
starts (their rates are on Adam's scale). The constant grid and the start set depend on the family
only (fixed before any run): half-decades (×√10) over 1e-3 … 10 for the SGD family and
1e-5 … 1 for the Adam family; starts 1e-4 … 1 (SGD family) and 1e-6 … 1e-2 (Adam family),
a 10⁴ range.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch


def _half_decades(lo_exp: int, hi_exp: int) -> tuple[float, ...]:
    """10^lo … 10^hi in ×√10 steps, the odd points rounded as 3·10^k (0.003, 0.03, ...)."""
    out = []
    for e in range(lo_exp, hi_exp + 1):
        out.append(float(f"1e{e}"))
        if e < hi_exp:
            out.append(float(f"3e{e}"))
    return tuple(out)


@dataclass(frozen=True)
class OptimizerSpec:
    name: str
    family: str  # "sgd" | "adam"
    momentum: float
    nesterov: bool
    weight_decay: float
    description: str

    def make(self, params, lr: float) -> torch.optim.Optimizer:
        if self.family == "sgd":
            return torch.optim.SGD(params, lr=lr, momentum=self.momentum, nesterov=self.nesterov,
                                   weight_decay=self.weight_decay)
        if self.name == "adamw":
            return torch.optim.AdamW(params, lr=lr, weight_decay=self.weight_decay)
        if self.name == "rmsprop":
            return torch.optim.RMSprop(params, lr=lr, weight_decay=self.weight_decay)
        if self.name == "nadam":
            return torch.optim.NAdam(params, lr=lr, weight_decay=self.weight_decay)
        return torch.optim.Adam(params, lr=lr, weight_decay=self.weight_decay)

    @property
    def grid(self) -> tuple[float, ...]:
        return GRID[self.family]

    @property
    def starts(self) -> tuple[float, ...]:
        return STARTS[self.family]


OPTIMIZERS: dict[str, OptimizerSpec] = {o.name: o for o in [
    OptimizerSpec("sgd", "sgd", 0.0, False, 0.0, "torch.optim.SGD(lr)"),
    OptimizerSpec("momentum", "sgd", 0.9, False, 0.0, "torch.optim.SGD(lr, momentum=0.9)"),
    OptimizerSpec("nesterov", "sgd", 0.9, True, 5e-4,
                  "torch.optim.SGD(lr, momentum=0.9, nesterov=True, weight_decay=5e-4)"),
    OptimizerSpec("adam", "adam", 0.0, False, 0.0, "torch.optim.Adam(lr) (betas 0.9, 0.999, eps 1e-8)"),
    OptimizerSpec("adamw", "adam", 0.0, False, 0.01, "torch.optim.AdamW(lr, weight_decay=0.01)"),
    OptimizerSpec("rmsprop", "adam", 0.0, False, 0.0, "torch.optim.RMSprop(lr) (alpha 0.99, eps 1e-8, no momentum)"),
    OptimizerSpec("nadam", "adam", 0.0, False, 0.0, "torch.optim.NAdam(lr) (betas 0.9, 0.999, momentum_decay 4e-3)"),
]}

GRID: dict[str, tuple[float, ...]] = {"sgd": _half_decades(-3, 1), "adam": _half_decades(-5, 0)}
STARTS: dict[str, tuple[float, ...]] = {"sgd": (1e-4, 1e-3, 1e-2, 1e-1, 1.0), "adam": (1e-6, 1e-5, 1e-4, 1e-3, 1e-2)}


def make_peer(name: str, opt: OptimizerSpec, params) -> tuple[torch.optim.Optimizer, str]:
    """A peer optimizer from PyPI for a cell of ``opt``'s family, at its own defaults (its own lr
    default included); momentum and weight decay are matched to the cell's optimizer where the
    peer has the same knob. Returns (optimizer, exact settings)."""
    wd = opt.weight_decay
    if name == "prodigy":
        from prodigyopt import Prodigy

        return Prodigy(params, weight_decay=wd), f"prodigyopt.Prodigy(lr=1.0 default, weight_decay={wd:g}, decouple=True default)"
    if name == "dadapt":
        if opt.family == "sgd":
            from dadaptation import DAdaptSGD

            return (DAdaptSGD(params, momentum=opt.momentum, weight_decay=wd),
                    f"dadaptation.DAdaptSGD(lr=1.0 default, momentum={opt.momentum:g}, weight_decay={wd:g})")
        from dadaptation import DAdaptAdam

        decouple = opt.name == "adamw"
        return (DAdaptAdam(params, weight_decay=wd, decouple=decouple),
                f"dadaptation.DAdaptAdam(lr=1.0 default, weight_decay={wd:g}, decouple={decouple})")
    if name == "schedulefree":
        import schedulefree

        if opt.family == "sgd":
            return (schedulefree.SGDScheduleFree(params, weight_decay=wd),
                    f"schedulefree.SGDScheduleFree(lr=1.0 default, momentum=0.9 default, weight_decay={wd:g})")
        return (schedulefree.AdamWScheduleFree(params, weight_decay=wd),
                f"schedulefree.AdamWScheduleFree(lr=0.0025 default, weight_decay={wd:g})")
    raise ValueError(f"unknown peer {name!r}")
