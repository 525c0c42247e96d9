"""Hi-DLR, Hessian-informed differential learning rates (seed 001; Xu, Bu, Zhang, Barnett 2025)."""

from __future__ import annotations

import math

from typing import Sequence, Union

from .constants import Method, Model
from .tuner import Tuner

__all__ = ["HiDLR"]


class HiDLR(Tuner):
    """Per-group rates from forward losses: every ``update_period`` (Φ) steps (Need.LOSSES) the
    trainer evaluates L(w − Σ_k ξ_jk·d_k) at m random probes (probe 0 is the origin, the current
    loss; then ξ_jk = probe_scale·lr_k·r_jk with r uniform in [−1, 1) from the counter-based RNG
    keyed by ``seed`` and the update count, so a restored tuner draws the same probes).
    m = probe_count, or max(4K, p + K) when 0 (p = unknowns of the model).

    Least squares of L ≈ c − Σ_k b_k ξ_k + ½ ξᵀAξ: ``model="diagonal"`` (A diagonal, 2K + 1
    unknowns) or ``"full"`` (symmetric A, K ≤ 16, projected to positive definite by raising
    eigenvalues below eigen_floor·λ_max). Rejected (R² ≤ r2_threshold): every rate kept. Failed
    (rank-deficient design): every rate × fit_failure_decay. Accepted: η_k = b_k/a_k (diagonal) or η = A₊⁻¹b (full) for the
    groups where it is a descent step, then GeN's safeguards (clip to [low·lr, high·lr], EMA β,
    clamp); other groups keep their rate. b_k is a loss per unit step, A_kl a loss per unit
    step². ``info(Info.INFLUENCE, k)`` ranks groups by the fitted decrease (PPI).
    At most 256 groups. ``lr_max`` defaults to ``math.inf`` (no ceiling, as GeN's code); rates
    also stay at most 1e150/probe_scale. In mini-batch training, evaluate the probes on an
    independent batch (``LRTuner.step(probe_closure=...)``): on the step's own batch a group's
    b_k is biased upwards by the gradient noise and its rate can run away (benchmarks/training).
    """

    def __init__(
        self,
        groups: int = 1,
        *,
        initial_lr: Union[float, Sequence[float]] = 1e-3,
        update_period: int = 10,
        lr_bound_low: float = 0.5,
        lr_bound_high: float = 2.0,
        lr_min: float = 1e-8,
        lr_max: float = math.inf,
        smoothing: float = 0.9,
        probe_count: int = 0,
        probe_scale: float = 1.0,
        r2_threshold: float = 0.99,
        fit_failure_decay: float = 0.5,
        seed: int = 0,
        model: Union[str, Model, int] = "diagonal",
        eigen_floor: float = 1e-3,
        schedule=None,
    ):
        super().__init__(
            Method.HIDLR,
            groups,
            initial_lr=initial_lr,
            update_period=update_period,
            lr_bound_low=lr_bound_low,
            lr_bound_high=lr_bound_high,
            lr_min=lr_min,
            lr_max=lr_max,
            smoothing=smoothing,
            model=model,
            probe_count=probe_count,
            probe_scale=probe_scale,
            r2_threshold=r2_threshold,
            fit_failure_decay=fit_failure_decay,
            seed=seed,
            eigen_floor=eigen_floor,
            schedule=schedule,
        )
