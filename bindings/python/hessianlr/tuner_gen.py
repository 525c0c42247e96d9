"""GeN, generalized Newton learning rates from forward losses (seed 001; Bu & Xu, ICLR 2025)."""

from __future__ import annotations

import math

from typing import Sequence, Union

from .constants import Method
from .tuner import Tuner

__all__ = ["GeN"]


class GeN(Tuner):
    """Backprop-free, lazy: every ``update_period`` steps (Need.LOSSES) the trainer evaluates the
    loss at m probes L(w − Σ_k ξ_jk·d_k), ξ_jk = probe_scale·lr_k·ρ_j with ρ_j equally spaced on
    [−1, 1] (m = 3: ρ ∈ {−1, 0, +1}, GeN's ±lr; ρ = 0 is the current loss). A least-squares fit
    L(ρ) ≈ c − β·ρ + ½·α·ρ² gives, in each group's step units, b_k (loss per unit step) and a_k
    (loss per unit step²); with 3 probes b = (L₋ − L₊)/(2ξ), a = (L₊ + L₋ − 2L₀)/ξ².

    Accepted iff full rank, a > 0, b > 0 and R² > r2_threshold: candidate b_k/a_k (the fitted
    minimiser), clipped to [lr_bound_low·lr, lr_bound_high·lr] (GeN: [lr/2, 2·lr]), smoothed
    lr ← β·lr + (1 − β)·clip, clamped to [lr_min, lr_max]. Rejected by a gate (a ≤ 0, b ≤ 0,
    R² ≤ r2_threshold): every rate kept, as in GeN's code. Failed (rank-deficient design): every
    rate × fit_failure_decay (GeN halves). One shared scale: with K groups all move together and keep their ratios (use
    :class:`HiDLR` for per-group rates). The optimizer is stepped once, with the new rates.
    ``lr_max`` defaults to ``math.inf`` (no ceiling, as GeN's code); rates also stay at most
    1e150/probe_scale so probe steps are finite. In mini-batch training, evaluate the probes on
    an independent batch (``LRTuner.step(probe_closure=...)``, GeN's protocol): probes on the
    step's own batch over-estimate b by the gradient noise and can drive the rate up.
    """

    def __init__(
        self,
        groups: int = 1,
        *,
        initial_lr: Union[float, Sequence[float]] = 1e-3,
        update_period: int = 4,
        lr_bound_low: float = 0.5,
        lr_bound_high: float = 2.0,
        lr_min: float = 1e-8,
        lr_max: float = math.inf,
        smoothing: float = 0.9,
        probe_count: int = 3,
        probe_scale: float = 1.0,
        r2_threshold: float = 0.99,
        fit_failure_decay: float = 0.5,
        schedule=None,
    ):
        super().__init__(
            Method.GEN,
            groups,
            initial_lr=initial_lr,
            update_period=update_period,
            lr_bound_low=lr_bound_low,
            lr_bound_high=lr_bound_high,
            lr_min=lr_min,
            lr_max=lr_max,
            smoothing=smoothing,
            probe_count=probe_count,
            probe_scale=probe_scale,
            r2_threshold=r2_threshold,
            fit_failure_decay=fit_failure_decay,
            schedule=schedule,
        )
