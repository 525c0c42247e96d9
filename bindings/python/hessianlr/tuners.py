"""The method classes, one per library method, and ``make_tuner`` to build one from a name.

Each class is a :class:`~hessianlr.Tuner` of its method: ``GeN(groups=1, *, schedule=None,
**options)`` with options by the library's names (``update_period=8``, ``initial_lr=[0.1,
0.01]``). No default is written here: an option not given keeps the library's default, and
:func:`~hessianlr.method_params` lists every option of a method with its range and default
(``hlr_param_info``). :class:`HessianLR` alone keeps the seed's positional signature and names
(``num_warmup_steps``, ``lr_bounds``, ``smoothing_factor``), each mapped to the library's option.
"""

from __future__ import annotations

from typing import ClassVar, Sequence, Union

from .constants import Direction, Method
from .tuner import Tuner

__all__ = ["MethodTuner", "Constant", "Armijo", "HessianLR", "CDAT", "GeN", "HiDLR", "Auto", "TUNER_CLASSES",
           "method_of", "make_tuner"]


class MethodTuner(Tuner):
    """A :class:`~hessianlr.Tuner` of the method ``method_id``, options by the library's names
    with the library's defaults."""

    method_id: ClassVar[Method]

    def __init__(self, groups: int = 1, *, schedule=None, **options):
        super().__init__(self.method_id, groups, schedule=schedule, **options)


class Constant(MethodTuner):
    """A constant learning rate per group; with a schedule attached, the schedule's shape.

    lr_k(t) = initial_lr_k, needing no observations (Need.NOTHING at every step).

    With a base schedule attached (``schedule=`` or :meth:`set_schedule`) the rates are
    initial_lr_k·value(t)/nominal: with ``initial_lr = schedule.nominal`` they are the schedule's
    values (to within an ulp), which is how a schedule is driven through the tuner interface
    (per-group rates, snapshots). ``initial_lr`` takes one value or one per group."""

    method_id = Method.CONSTANT


class Armijo(MethodTuner):
    """Armijo backtracking line search (seed 002's baseline; optax scale_by_backtracking_linesearch).

    One rate η for all groups, searched at every step (convention w ← w − η·d):

        accept η  ⇔  L(w − η·d) ≤ L(w) − c·η·S,   S = Σ_k g_kᵀd_k

    Protocol per step: Need.SLOPE ([L(w), g_0ᵀd_0, …]), then Need.LOSSES with one probe row
    [η, …, η] per trial until the test holds (η ← η·decrease_factor after each failure; after
    max_backtracks decreases the last trial is used, flag BACKTRACK_LIMIT), then Need.NOTHING.
    The first trial is min(initial_lr, lr_max), later ones min(η_prev·increase_factor, lr_max).
    Defaults are optax's (c = 1e-4, decrease 0.8, increase 1.5, max 1.0); a trial loss that
    overflows should be reported as a large finite number. All options are handle-wide."""

    method_id = Method.ARMIJO


class HessianLR(MethodTuner):
    """HessianLR (seed 000, QuixiAI/hessian-lr) with the seed's option names.

    lr* = gᵀd / dᵀHd: the minimiser of the local quadratic L(w − η·d) ≈ L(w) − η·gᵀd +
    ½η²·dᵀHd along −d (d = g for SGD, or the optimizer's update u), in weight units per unit of d.

    Per update and group: candidate = s/c (s = gᵀd, c = dᵀHd; decay·lr when c ≤ 0; rate kept
    when s = 0, or s < 0 along an update), bounded to [low·lr, high·lr], smoothed
    lr ← β·lr + (1 − β)·candidate, clamped to [lr_min, lr_max]. Warmup: lr(t) = η₀·(t+1)/W for
    t < W. Curvature (Need.CURVATURE) is wanted at t ≥ W with (t − W) % update_period == 0.

    Keyword names are the seed's (``num_warmup_steps`` = ``warmup_steps``, ``lr_bounds`` =
    (``lr_bound_low``, ``lr_bound_high``), ``smoothing_factor`` = ``smoothing``); defaults are
    the seed's and the library's. ``initial_lr`` may be one float or one per group."""

    method_id = Method.HESSIANLR

    def __init__(
        self,
        groups: int = 1,
        initial_lr: Union[float, Sequence[float], None] = None,
        num_warmup_steps: Union[int, None] = None,
        update_period: Union[int, None] = None,
        lr_bounds: Union[tuple[float, float], None] = None,
        lr_min: Union[float, None] = None,
        lr_max: Union[float, None] = None,
        smoothing_factor: Union[float, None] = None,
        negative_curvature_decay: Union[float, None] = None,
        direction: Union[str, Direction, int, None] = None,
        *,
        schedule=None,
    ):
        low, high = (None, None) if lr_bounds is None else lr_bounds
        super().__init__(
            groups, schedule=schedule, initial_lr=initial_lr, warmup_steps=num_warmup_steps,
            update_period=update_period, lr_bound_low=low, lr_bound_high=high, lr_min=lr_min, lr_max=lr_max,
            smoothing=smoothing_factor, negative_curvature_decay=negative_curvature_decay, direction=direction)


class CDAT(MethodTuner):
    """CDAT, Curvature Dynamics Aware Tuning (seed 002, Roulet et al. 2024, "Stepping on the Edge").

    η_k = clamp(σ·n̂_k/d̂_k, lr_min, lr_max), per group, from EMAs of

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
    ``initial_lr`` and ``sharpness`` take one value or one per group."""

    method_id = Method.CDAT


class GeN(MethodTuner):
    """GeN, generalized Newton learning rates from forward losses (seed 001; Bu & Xu, ICLR 2025).

    Backprop-free, lazy: every ``update_period`` steps (Need.LOSSES) the trainer evaluates the
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
    step's own batch over-estimate b by the gradient noise and can drive the rate up."""

    method_id = Method.GEN


class HiDLR(MethodTuner):
    """Hi-DLR, Hessian-informed differential learning rates (seed 001; Xu, Bu, Zhang, Barnett 2025).

    Per-group rates from forward losses: every ``update_period`` (Φ) steps (Need.LOSSES) the
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
    b_k is biased upwards by the gradient noise and its rate can run away (benchmarks/training)."""

    method_id = Method.HIDLR


class Auto(MethodTuner):
    """``auto``, the recommended mode (``HLR_METHOD_AUTO``): a bracket search over 13 forward
    losses at the first step, then 3-probe quadratic models of the loss along the optimizer's
    previous update every 1–16 steps (adaptive), averaged as CDAT; a diverged probe cuts the rate
    16× at once, a step that more than doubled the batch loss by 1/(1 + √q). Forward losses only.
    Options by the library's names (``initial_lr``, ``update_period``, ``lr_min``, ``lr_max``,
    ``smoothing``, ``sigma``, ``fit_failure_decay``, ``optimizer``, ``momentum``, ``dampening``,
    ``nesterov``, ``probe_previous``); defaults and ranges are the
    library's (:func:`~hessianlr.method_params`). Drive it with
    :class:`hessianlr.torch.LRTuner` (which sets the optimizer options and the direction) or
    :meth:`Tuner.run_step`."""

    method_id = Method.AUTO


#: The Python class of each method.
TUNER_CLASSES = {
    Method.HESSIANLR: HessianLR,
    Method.CDAT: CDAT,
    Method.GEN: GeN,
    Method.HIDLR: HiDLR,
    Method.ARMIJO: Armijo,
    Method.CONSTANT: Constant,
    Method.AUTO: Auto,
}


def method_of(method: Union[Method, int, str, type]) -> Method:
    """A Method from a Method, an int, a name (``"gen"``, ``"hessianlr"``) or a tuner class."""
    if isinstance(method, type) and issubclass(method, Tuner):
        for key, cls in TUNER_CLASSES.items():
            if issubclass(method, cls):
                return key
        raise TypeError(f"{method.__name__} is not one of the method classes")
    if isinstance(method, str):
        try:
            return Method[method.upper().replace("-", "")]
        except KeyError:
            names = ", ".join(m.name.lower() for m in Method)
            raise ValueError(f"unknown method {method!r}; methods are: {names}") from None
    return Method(int(method))


def make_tuner(method: Union[Method, int, str, type], groups: int = 1, **options) -> Tuner:
    """A tuner of ``method`` with ``groups`` groups and options by library name (``lr_max=...``,
    ``initial_lr=[...]``, ``schedule=...``): the method's class for known methods, else a plain
    :class:`Tuner`."""
    key = method_of(method)
    tuner = object.__new__(TUNER_CLASSES.get(key, Tuner))
    Tuner.__init__(tuner, key, groups, **options)  # the library's option names for every method
    return tuner
