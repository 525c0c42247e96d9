"""Armijo backtracking line search (seed 002's baseline; optax scale_by_backtracking_linesearch)."""

from __future__ import annotations

from .constants import Method
from .tuner import Tuner

__all__ = ["Armijo"]


class Armijo(Tuner):
    """One rate η for all groups, searched at every step (convention w ← w − η·d):

        accept η  ⇔  L(w − η·d) ≤ L(w) − c·η·S,   S = Σ_k g_kᵀd_k

    Protocol per step: Need.SLOPE ([L(w), g_0ᵀd_0, …]), then Need.LOSSES with one probe row
    [η, …, η] per trial until the test holds (η ← η·decrease_factor after each failure; after
    max_backtracks decreases the last trial is used, flag BACKTRACK_LIMIT), then Need.NOTHING.
    The first trial is min(initial_lr, lr_max), later ones min(η_prev·increase_factor, lr_max).
    Defaults are optax's (c = 1e-4, decrease 0.8, increase 1.5, max 1.0); a trial loss that
    overflows should be reported as a large finite number. All options are handle-wide.
    """

    def __init__(
        self,
        groups: int = 1,
        *,
        initial_lr: float = 1.0,
        lr_max: float = 1.0,
        sufficient_decrease: float = 1e-4,
        decrease_factor: float = 0.8,
        increase_factor: float = 1.5,
        max_backtracks: int = 15,
        schedule=None,
    ):
        super().__init__(
            Method.ARMIJO,
            groups,
            initial_lr=initial_lr,
            lr_max=lr_max,
            sufficient_decrease=sufficient_decrease,
            decrease_factor=decrease_factor,
            increase_factor=increase_factor,
            max_backtracks=max_backtracks,
            schedule=schedule,
        )
