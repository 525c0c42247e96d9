"""HessianLR (seed 000, QuixiAI/hessian-lr) with the seed's option names."""

from __future__ import annotations

from typing import Sequence, Union

from .constants import Direction, Method
from .tuner import Tuner

__all__ = ["HessianLR"]


class HessianLR(Tuner):
    """lr* = gᵀd / dᵀHd: the minimiser of the local quadratic L(w − η·d) ≈ L(w) − η·gᵀd +
    ½η²·dᵀHd along −d (d = g for SGD, or the optimizer's update u), in weight units per unit of d.

    Per update and group: candidate = s/c (s = gᵀd, c = dᵀHd; decay·lr when c ≤ 0; rate kept
    when s = 0, or s < 0 along an update), bounded to [low·lr, high·lr], smoothed
    lr ← β·lr + (1 − β)·candidate, clamped to [lr_min, lr_max]. Warmup: lr(t) = η₀·(t+1)/W for
    t < W. Curvature (Need.CURVATURE) is wanted at t ≥ W with (t − W) % update_period == 0.

    Keyword names are the seed's (``num_warmup_steps`` = ``warmup_steps``, ``lr_bounds`` =
    (``lr_bound_low``, ``lr_bound_high``), ``smoothing_factor`` = ``smoothing``); defaults are
    the seed's and the library's. ``initial_lr`` may be one float or one per group.
    """

    def __init__(
        self,
        groups: int = 1,
        initial_lr: Union[float, Sequence[float]] = 1e-3,
        num_warmup_steps: int = 0,
        update_period: int = 10,
        lr_bounds: tuple[float, float] = (0.3, 3.0),
        lr_min: float = 1e-8,
        lr_max: float = 1.0,
        smoothing_factor: float = 0.9,
        negative_curvature_decay: float = 0.5,
        direction: Union[str, Direction, int] = "gradient",
        *,
        schedule=None,
    ):
        low, high = lr_bounds
        super().__init__(
            Method.HESSIANLR,
            groups,
            initial_lr=initial_lr,
            warmup_steps=num_warmup_steps,
            update_period=update_period,
            lr_bound_low=low,
            lr_bound_high=high,
            lr_min=lr_min,
            lr_max=lr_max,
            smoothing=smoothing_factor,
            negative_curvature_decay=negative_curvature_decay,
            direction=direction,
            schedule=schedule,
        )
