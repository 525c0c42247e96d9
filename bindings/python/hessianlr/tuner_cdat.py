"""CDAT, Curvature Dynamics Aware Tuning (seed 002, Roulet et al. 2024, "Stepping on the Edge")."""

from __future__ import annotations

import math

from typing import Sequence, Union

from .constants import Direction, Method
from .tuner import Tuner

__all__ = ["CDAT"]


class CDAT(Tuner):
    """η_k = clamp(σ·n̂_k/d̂_k, lr_min, lr_max), per group, from EMAs of

        n = max(gᵀu, 0)          [loss·u/w]
        d = |uᵀHu| + ε           [loss·u²/w²]
        n̂ ← β·n̂ + (1 − β)·n,  d̂ ← β·d̂ + (1 − β)·d   (both start at 0; their bias cancels)

    with u the optimizer's update (the trainer steps w ← w − η·u; ``direction="gradient"`` uses
    u = g). σ = 1 is the minimiser of the local quadratic along −u ("quadratically greedy");
    σ = 2 (default) keeps η·uᵀHu/uᵀu at 2, the edge of stability. Observation: Need.CURVATURE,
    [g_kᵀu_k, u_kᵀHu_k] per group, at t % update_period == 0 (default every step). Before the
    first observation the rate is clamp(initial_lr); with the default update_period 1 the first
    observation is at step 0, so initial_lr is never used (the rule sets every rate, as in the
    paper). ``lr_max`` defaults to ``math.inf``: no ceiling, as in the paper (a rate is always
    finite: the largest double caps it).

    ``sharpness`` (per group, λ_max from e.g. a Lanczos estimate; 0 = none) only feeds the
    diagnostic ``info(Info.EDGE_OF_STABILITY, k)`` = η_k·λ_max,k (2 = edge).
    ``initial_lr`` and ``sharpness`` take one value or one per group.
    """

    def __init__(
        self,
        groups: int = 1,
        *,
        initial_lr: Union[float, Sequence[float]] = 1e-3,
        update_period: int = 1,
        lr_min: float = 1e-8,
        lr_max: float = math.inf,
        smoothing: float = 0.9,
        direction: Union[str, Direction, int] = "update",
        sigma: float = 2.0,
        epsilon: float = 1e-12,
        sharpness: Union[float, Sequence[float]] = 0.0,
        schedule=None,
    ):
        super().__init__(
            Method.CDAT,
            groups,
            initial_lr=initial_lr,
            update_period=update_period,
            lr_min=lr_min,
            lr_max=lr_max,
            smoothing=smoothing,
            direction=direction,
            sigma=sigma,
            epsilon=epsilon,
            sharpness=sharpness,
            schedule=schedule,
        )
