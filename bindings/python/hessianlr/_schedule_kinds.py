"""One constructor per schedule kind, with the library's defaults (``Schedule.cosine(...)``).

Rates are absolute, in the caller's learning-rate unit; t is the 0-based optimizer step. Each
formula is the torch scheduler's after t calls of ``scheduler.step()`` (see the Swift sources,
``Sources/HessianLR/Schedules/Kinds``, for the operation order and documented deviations).
"""

from __future__ import annotations

from typing import Sequence, Union

from .constants import ScheduleKind

__all__ = ["ScheduleConstructors"]


class ScheduleConstructors:
    """Mixin of :class:`~hessianlr.Schedule`: a class method per kind."""

    @classmethod
    def constant(cls, base_lr: float = 1e-3, factor: float = 1.0, total_iters: int = 0):
        """torch ConstantLR: base_lr·factor for t < total_iters, then base_lr (the defaults are a
        plain constant; torch's are factor 1/3, total_iters 5)."""
        return cls(ScheduleKind.CONSTANT, base_lr=base_lr, factor=factor, total_iters=total_iters)

    @classmethod
    def linear(cls, base_lr: float = 1e-3, start_factor: float = 1.0 / 3, end_factor: float = 1.0, total_iters: int = 5):
        """torch LinearLR: base_lr·(s + (e − s)·min(t, T)/T)."""
        return cls(ScheduleKind.LINEAR, base_lr=base_lr, start_factor=start_factor, end_factor=end_factor,
                   total_iters=total_iters)

    @classmethod
    def step(cls, base_lr: float = 1e-3, step_size: int = 30, gamma: float = 0.1):
        """torch StepLR: base_lr·γ^⌊t/step_size⌋."""
        return cls(ScheduleKind.STEP, base_lr=base_lr, step_size=step_size, gamma=gamma)

    @classmethod
    def multi_step(cls, base_lr: float = 1e-3, milestones: Sequence[int] = (), gamma: float = 0.1):
        """torch MultiStepLR: base_lr·γ^(number of milestones ≤ t), repeats counted."""
        return cls(ScheduleKind.MULTI_STEP, milestones=list(milestones), base_lr=base_lr, gamma=gamma)

    @classmethod
    def exponential(cls, base_lr: float = 1e-3, gamma: float = 0.96):
        """torch ExponentialLR: base_lr·γ^t."""
        return cls(ScheduleKind.EXPONENTIAL, base_lr=base_lr, gamma=gamma)

    @classmethod
    def polynomial(cls, base_lr: float = 1e-3, total_iters: int = 5, power: float = 1.0):
        """torch PolynomialLR: base_lr·(1 − min(t, T)/T)^power."""
        return cls(ScheduleKind.POLYNOMIAL, base_lr=base_lr, total_iters=total_iters, power=power)

    @classmethod
    def cosine(cls, base_lr: float = 1e-3, t_max: int = 100, eta_min: float = 0.0):
        """torch CosineAnnealingLR: η_min + (base_lr − η_min)·(1 + cos(π·t/T_max))/2 (it keeps
        oscillating with period 2·T_max, as torch does)."""
        return cls(ScheduleKind.COSINE, base_lr=base_lr, t_max=t_max, eta_min=eta_min)

    @classmethod
    def cosine_warm_restarts(cls, base_lr: float = 1e-3, t_0: int = 10, t_mult: int = 1, eta_min: float = 0.0):
        """torch CosineAnnealingWarmRestarts: cosine annealing restarted after T_0, T_0·T_mult, …"""
        return cls(ScheduleKind.COSINE_WARM_RESTARTS, base_lr=base_lr, t_0=t_0, t_mult=t_mult, eta_min=eta_min)

    @classmethod
    def one_cycle(
        cls,
        max_lr: float = 0.01,
        total_steps: int = 100,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
    ):
        """torch OneCycleLR (rate only), holding its last value from total_steps − 1 on."""
        return cls(ScheduleKind.ONE_CYCLE, max_lr=max_lr, total_steps=total_steps, pct_start=pct_start,
                   anneal_strategy=anneal_strategy, div_factor=div_factor, final_div_factor=final_div_factor,
                   three_phase=three_phase)

    @classmethod
    def cyclic(
        cls,
        base_lr: float = 1e-3,
        max_lr: float = 1e-2,
        step_size_up: int = 2000,
        step_size_down: Union[int, None] = None,
        mode: str = "triangular",
        gamma: float = 1.0,
    ):
        """torch CyclicLR (rate only) between base_lr and max_lr; ``step_size_down=None`` is
        step_size_up (the library's −1)."""
        return cls(ScheduleKind.CYCLIC, base_lr=base_lr, max_lr=max_lr, step_size_up=step_size_up,
                   step_size_down=step_size_down, mode=mode, gamma=gamma)

    @classmethod
    def warmup_stable_decay(
        cls,
        base_lr: float = 1e-3,
        warmup_steps: int = 100,
        stable_steps: int = 800,
        decay_steps: int = 100,
        start_lr: float = 0.0,
        final_lr: float = 0.0,
        decay_shape: str = "linear",
    ):
        """Linear warmup start_lr → base_lr, plateau, decay (linear, cosine or one_minus_sqrt)
        to final_lr, then final_lr."""
        return cls(ScheduleKind.WARMUP_STABLE_DECAY, base_lr=base_lr, warmup_steps=warmup_steps,
                   stable_steps=stable_steps, decay_steps=decay_steps, start_lr=start_lr, final_lr=final_lr,
                   decay_shape=decay_shape)

    @classmethod
    def hyperbolic(cls, base_lr: float = 1e-3, max_iter: int = 100, upper_bound: float = 250.0,
                   infimum_lr: float = 1e-6, warmup_steps: int = 0):
        """HyperbolicLR (Kim 2024): with x = min(t, N), N = max_iter, U = upper_bound ≥ N,
        h(x) = √((N − x)/U·(2 − (N + x)/U)), η = η₀ + (η₀ − η_inf)·(h(x) − h(0)), held after N.

        ``warmup_steps`` W > 0 builds the reference's warmup variant: a linear ramp from η_inf
        to η₀ over W steps, then the curve with N = max_iter − W. Step 0 runs at η_inf, as the
        formula says (the reference's step 0 runs at η₀ because it never writes the lr before its
        first step(); from step 1 on they agree).
        """
        return cls._hyperbolic(ScheduleKind.HYPERBOLIC, base_lr, max_iter, upper_bound, infimum_lr, warmup_steps)

    @classmethod
    def exp_hyperbolic(cls, base_lr: float = 1e-3, max_iter: int = 100, upper_bound: float = 250.0,
                       infimum_lr: float = 1e-6, warmup_steps: int = 0):
        """ExpHyperbolicLR (Kim 2024): η = η₀·(η₀/η_inf)^(h(x) − h(0)) (h as in
        :meth:`hyperbolic`); infimum_lr must be > 0. ``warmup_steps`` as in :meth:`hyperbolic`."""
        return cls._hyperbolic(ScheduleKind.EXP_HYPERBOLIC, base_lr, max_iter, upper_bound, infimum_lr, warmup_steps)

    @classmethod
    def _hyperbolic(cls, kind, base_lr, max_iter, upper_bound, infimum_lr, warmup_steps):
        if not warmup_steps:
            return cls(kind, base_lr=base_lr, max_iter=max_iter, upper_bound=upper_bound, infimum_lr=infimum_lr)
        with cls(kind, base_lr=base_lr, max_iter=max_iter - warmup_steps, upper_bound=upper_bound,
                 infimum_lr=infimum_lr) as curve:
            return curve.with_warmup(warmup_steps, infimum_lr)
