"""Schedules: closed-form lr(step) values, composable, torch.optim.lr_scheduler semantics.

A :class:`Schedule` is a value held by an ``hlr_schedule`` handle: an absolute learning rate for
every 0-based optimizer step t (what torch's ``get_last_lr()`` reports after t calls of
``scheduler.step()``; the multiplicative torch schedulers' base is ``base_lr``, torch's initial
lr). Every schedule is defined for every step up to 2⁶⁴ − 1 (past its end it holds its final
value) and every value is finite.

    s = Schedule.cosine(base_lr=0.1, t_max=1000)            # or Schedule("cosine", base_lr=..., t_max=...)
    s = warmup(s, steps=100, start_lr=0.0)                   # linear ramp 0 → s(0), then s(t − 100)
    s = join([Schedule.constant(base_lr=0.1), s], [500])     # optax join_schedules: each piece counts from its boundary
    s.value(10), s.values(0, 2000), s.nominal, s.save(), Schedule.load(blob)

Parameters are passed by name (``ScheduleParam`` members in lower case). Choices take their enum,
int or name (``anneal_strategy="cos"``, ``mode="triangular2"``, ``decay_shape="one_minus_sqrt"``);
``three_phase`` a bool; CyclicLR's ``step_size_down=None`` means "same as step_size_up". All the
parameters of one call are set together (constraints such as upper_bound ≥ max_iter are checked on
the result); a refused call changes nothing and raises the library's error.
"""

from __future__ import annotations

import ctypes
import functools
from ctypes import byref, c_double, c_int, c_size_t, c_uint64, c_void_p
from typing import Iterable, Optional, Sequence, Union

import numpy as np

from . import _args, _lib
from ._lib import OwnedHandle, check
from ._options import ParamBounds, known_params
from .constants import AnnealStrategy, CyclicMode, DecayShape, ParamFamily, ScheduleKind, ScheduleParam
from .errors import BufferTooSmallError, UnknownKeyError, UnknownMethodError

__all__ = ["Schedule", "schedule_param_bounds", "schedule_params", "join", "warmup"]

_CHOICES = {
    ScheduleParam.ANNEAL_STRATEGY: AnnealStrategy,
    ScheduleParam.MODE: CyclicMode,
    ScheduleParam.DECAY_SHAPE: DecayShape,
}


def _kind(kind) -> int:
    if isinstance(kind, str):
        return _args.member(ScheduleKind, kind, lambda names: UnknownMethodError(
            f"unknown schedule kind {kind!r}; kinds are: {', '.join(names)}"))
    return _args.key(kind, "kind")


def _param(name) -> int:
    if isinstance(name, str):
        return _args.member(ScheduleParam, name, lambda names: UnknownKeyError(
            f"unknown schedule parameter {name!r}; parameters are: {', '.join(names)}"))
    return _args.key(name)


def _value(key: int, value) -> float:
    """The double the library takes for a parameter value."""
    enum = _CHOICES.get(key)
    if enum is not None and isinstance(value, str):
        return _args.choice(enum, value, ScheduleParam(key).name.lower())
    if key == ScheduleParam.STEP_SIZE_DOWN and value is None:
        return -1.0
    return _args.number(value, ScheduleParam(key).name.lower())


def schedule_param_bounds(kind, key) -> ParamBounds:
    """``hlr_schedule_param_bounds``: (min, max, default) of parameter ``key`` of ``kind``."""
    low, high, default = c_double(), c_double(), c_double()
    check(_lib.lib.hlr_schedule_param_bounds(_kind(kind), _param(key), byref(low), byref(high), byref(default)))
    return ParamBounds(low.value, high.value, default.value)


@functools.lru_cache(maxsize=None)
def schedule_params(kind) -> dict:
    """Every parameter of ``kind``: {ScheduleParam: ParamBounds}, in key order."""
    try:
        kind = _kind(kind)
    except UnknownMethodError:  # a name that is no kind
        return {}
    return {ScheduleParam(i.key): i.bounds for i in known_params(ParamFamily.SCHEDULE, kind, ScheduleParam)}


# -- one constructor per kind ------------------------------------------------------------------
#
# One constructor per schedule kind (``Schedule.cosine(...)``); a parameter left out or None keeps
# the library's default (``schedule_params(kind)`` lists them with their ranges).
#
# Rates are absolute, in the caller's learning-rate unit; t is the 0-based optimizer step. Each
# formula is the torch scheduler's after t calls of ``scheduler.step()`` (see the Swift sources,
# ``Sources/HessianLR/Schedules/Kinds``, for the operation order and documented deviations).

class ScheduleConstructors:
    """Mixin of :class:`~hessianlr.Schedule`: a class method per kind."""

    @classmethod
    def constant(cls, base_lr: Optional[float] = None, factor: Optional[float] = None,
                 total_iters: Optional[int] = None):
        """torch ConstantLR: base_lr·factor for t < total_iters, then base_lr (the defaults are a
        plain constant; torch's are factor 1/3, total_iters 5)."""
        return cls(ScheduleKind.CONSTANT, base_lr=base_lr, factor=factor, total_iters=total_iters)

    @classmethod
    def linear(cls, base_lr: Optional[float] = None, start_factor: Optional[float] = None,
               end_factor: Optional[float] = None, total_iters: Optional[int] = None):
        """torch LinearLR: base_lr·(s + (e − s)·min(t, T)/T)."""
        return cls(ScheduleKind.LINEAR, base_lr=base_lr, start_factor=start_factor, end_factor=end_factor,
                   total_iters=total_iters)

    @classmethod
    def step(cls, base_lr: Optional[float] = None, step_size: Optional[int] = None,
             gamma: Optional[float] = None):
        """torch StepLR: base_lr·γ^⌊t/step_size⌋."""
        return cls(ScheduleKind.STEP, base_lr=base_lr, step_size=step_size, gamma=gamma)

    @classmethod
    def multi_step(cls, base_lr: Optional[float] = None, milestones: Sequence[int] = (),
                   gamma: Optional[float] = None):
        """torch MultiStepLR: base_lr·γ^(number of milestones ≤ t), repeats counted."""
        return cls(ScheduleKind.MULTI_STEP, milestones=list(milestones), base_lr=base_lr, gamma=gamma)

    @classmethod
    def exponential(cls, base_lr: Optional[float] = None, gamma: Optional[float] = None):
        """torch ExponentialLR: base_lr·γ^t."""
        return cls(ScheduleKind.EXPONENTIAL, base_lr=base_lr, gamma=gamma)

    @classmethod
    def polynomial(cls, base_lr: Optional[float] = None, total_iters: Optional[int] = None,
                   power: Optional[float] = None):
        """torch PolynomialLR: base_lr·(1 − min(t, T)/T)^power."""
        return cls(ScheduleKind.POLYNOMIAL, base_lr=base_lr, total_iters=total_iters, power=power)

    @classmethod
    def cosine(cls, base_lr: Optional[float] = None, t_max: Optional[int] = None,
               eta_min: Optional[float] = None):
        """torch CosineAnnealingLR: η_min + (base_lr − η_min)·(1 + cos(π·t/T_max))/2 (it keeps
        oscillating with period 2·T_max, as torch does)."""
        return cls(ScheduleKind.COSINE, base_lr=base_lr, t_max=t_max, eta_min=eta_min)

    @classmethod
    def cosine_warm_restarts(cls, base_lr: Optional[float] = None, t_0: Optional[int] = None,
                             t_mult: Optional[int] = None, eta_min: Optional[float] = None):
        """torch CosineAnnealingWarmRestarts: cosine annealing restarted after T_0, T_0·T_mult, …"""
        return cls(ScheduleKind.COSINE_WARM_RESTARTS, base_lr=base_lr, t_0=t_0, t_mult=t_mult, eta_min=eta_min)

    @classmethod
    def one_cycle(cls, max_lr: Optional[float] = None, total_steps: Optional[int] = None,
                  pct_start: Optional[float] = None, anneal_strategy: Optional[str] = None,
                  div_factor: Optional[float] = None, final_div_factor: Optional[float] = None,
                  three_phase: Optional[bool] = None):
        """torch OneCycleLR (rate only), holding its last value from total_steps − 1 on."""
        return cls(ScheduleKind.ONE_CYCLE, max_lr=max_lr, total_steps=total_steps, pct_start=pct_start,
                   anneal_strategy=anneal_strategy, div_factor=div_factor, final_div_factor=final_div_factor,
                   three_phase=three_phase)

    @classmethod
    def cyclic(cls, base_lr: Optional[float] = None, max_lr: Optional[float] = None,
               step_size_up: Optional[int] = None, step_size_down: Union[int, None] = None,
               mode: Optional[str] = None, gamma: Optional[float] = None):
        """torch CyclicLR (rate only) between base_lr and max_lr; ``step_size_down=None`` is
        step_size_up (the library's −1)."""
        return cls(ScheduleKind.CYCLIC, base_lr=base_lr, max_lr=max_lr, step_size_up=step_size_up,
                   step_size_down=step_size_down, mode=mode, gamma=gamma)

    @classmethod
    def warmup_stable_decay(cls, base_lr: Optional[float] = None, warmup_steps: Optional[int] = None,
                            stable_steps: Optional[int] = None, decay_steps: Optional[int] = None,
                            start_lr: Optional[float] = None, final_lr: Optional[float] = None,
                            decay_shape: Optional[str] = None):
        """Linear warmup start_lr → base_lr, plateau, decay (linear, cosine or one_minus_sqrt)
        to final_lr, then final_lr."""
        return cls(ScheduleKind.WARMUP_STABLE_DECAY, base_lr=base_lr, warmup_steps=warmup_steps,
                   stable_steps=stable_steps, decay_steps=decay_steps, start_lr=start_lr, final_lr=final_lr,
                   decay_shape=decay_shape)

    @classmethod
    def hyperbolic(cls, base_lr: Optional[float] = None, max_iter: Optional[int] = None,
                   upper_bound: Optional[float] = None, infimum_lr: Optional[float] = None, warmup_steps: int = 0):
        """HyperbolicLR (Kim 2024): with x = min(t, N), N = max_iter, U = upper_bound ≥ N,
        h(x) = √((N − x)/U·(2 − (N + x)/U)), η = η₀ + (η₀ − η_inf)·(h(x) − h(0)), held after N.

        ``warmup_steps`` W > 0 builds the reference's warmup variant: a linear ramp from η_inf
        to η₀ over W steps, then the curve with N = max_iter − W. Step 0 runs at η_inf, as the
        formula says (the reference's step 0 runs at η₀ because it never writes the lr before its
        first step(); from step 1 on they agree).
        """
        return cls._hyperbolic(ScheduleKind.HYPERBOLIC, base_lr, max_iter, upper_bound, infimum_lr, warmup_steps)

    @classmethod
    def exp_hyperbolic(cls, base_lr: Optional[float] = None, max_iter: Optional[int] = None,
                       upper_bound: Optional[float] = None, infimum_lr: Optional[float] = None, warmup_steps: int = 0):
        """ExpHyperbolicLR (Kim 2024): η = η₀·(η₀/η_inf)^(h(x) − h(0)) (h as in
        :meth:`hyperbolic`); infimum_lr must be > 0. ``warmup_steps`` as in :meth:`hyperbolic`."""
        return cls._hyperbolic(ScheduleKind.EXP_HYPERBOLIC, base_lr, max_iter, upper_bound, infimum_lr, warmup_steps)

    @classmethod
    def _hyperbolic(cls, kind, base_lr, max_iter, upper_bound, infimum_lr, warmup_steps):
        curve = cls(kind, base_lr=base_lr, max_iter=max_iter, upper_bound=upper_bound, infimum_lr=infimum_lr)
        if not warmup_steps:
            return curve
        with curve:  # the curve after the warmup runs max_iter − W steps
            curve.set(max_iter=curve.get("max_iter") - warmup_steps)
            return curve.with_warmup(warmup_steps, curve.get("infimum_lr"))


class Schedule(ScheduleConstructors, OwnedHandle):
    """A learning-rate schedule: ``Schedule(kind, milestones=None, **params)``.

    ``kind`` is a :class:`ScheduleKind` (or its int or lower-case name); ``params`` are set on top
    of the kind's defaults (``schedule_params(kind)``). The class methods (``Schedule.cosine``,
    ``Schedule.one_cycle``, ...) spell out each kind's parameters with the library's defaults.
    ``join`` and ``warmup`` build the composite kinds. Usable as a context manager; ``close()``
    frees the handle (also done when the object is collected).
    """

    _free_function = "hlr_schedule_free"

    def __init__(self, kind: Union[ScheduleKind, int, str], milestones: Sequence[int] | None = None, **params):
        self._create(_lib.lib.hlr_schedule_create, _kind(kind))
        with self._closed_on_failure():
            self.set(**params)
            if milestones is not None:
                self.set_milestones(milestones)

    @classmethod
    def _adopt(cls, handle: int) -> "Schedule":
        """Wraps a handle the library just returned (ownership moves to the object)."""
        schedule = object.__new__(cls)
        schedule._handle = handle
        return schedule

    # -- lifetime: close(), closed, with, __del__ come from OwnedHandle -------------------------

    def __repr__(self) -> str:
        if self.closed:
            return "<Schedule closed>"
        kind = self.kind
        params = ", ".join(f"{k}={v:g}" for k, v in self.params().items())
        name = getattr(kind, "name", str(kind)).lower()
        return f"<Schedule {name}({params}) nominal={self.nominal:g}>"

    def _rebuild(self):  # pickle / copy / torch.save through the snapshot (see OwnedHandle)
        return (type(self).load, (self.save(),))

    def __eq__(self, other) -> bool:
        if not isinstance(other, Schedule):
            return NotImplemented
        return self.save() == other.save()

    __hash__ = None

    def copy(self) -> "Schedule":
        """An independent copy (through a snapshot)."""
        return Schedule.load(self.save())

    # -- parameters --------------------------------------------------------------------------

    @property
    def kind(self) -> ScheduleKind:
        """The kind (``JOIN`` / ``WARMUP`` for composites)."""
        return self._read_enum(_lib.lib.hlr_schedule_kind, ScheduleKind)

    def set(self, **params) -> None:
        """Sets parameters by name, all at once (``hlr_schedule_set_params``); nothing changes if
        any is refused. None leaves a parameter as it is (for step_size_down it means −1)."""
        pairs = []
        for name, value in params.items():
            key = _param(name)
            if value is None and key != ScheduleParam.STEP_SIZE_DOWN:
                continue
            pairs.append((key, _value(key, value)))
        if not pairs:
            return
        keys = (c_int * len(pairs))(*[k for k, _ in pairs])
        values = (c_double * len(pairs))(*[v for _, v in pairs])
        check(_lib.lib.hlr_schedule_set_params(self._handle, keys, values, len(pairs)))

    def get(self, name) -> float:
        """The value of one parameter (UnknownKeyError if the kind does not have it)."""
        value = c_double()
        check(_lib.lib.hlr_schedule_get_param(self._handle, _param(name), byref(value)))
        return value.value

    def params(self) -> dict:
        """Every parameter of this node by name (empty for a join)."""
        return {key.name.lower(): self.get(key) for key in schedule_params(int(self.kind))}

    def set_milestones(self, milestones: Iterable[int]) -> None:
        """MULTI_STEP only: the steps at which the rate is multiplied by gamma (any order, repeats
        count as in torch's Counter; at most 4096)."""
        values = [_args.step(m, "milestone") for m in milestones]
        array = (c_uint64 * max(len(values), 1))(*values)
        check(_lib.lib.hlr_schedule_set_milestones(self._handle, array if values else None, len(values)))

    @property
    def nominal(self) -> float:
        """The largest rate the schedule names (base_lr, max_lr, ...): value/nominal is the factor
        an attached schedule multiplies a tuner's rates by."""
        value = c_double()
        check(_lib.lib.hlr_schedule_nominal(self._handle, byref(value)))
        return value.value

    # -- values ------------------------------------------------------------------------------

    def value(self, step: int) -> float:
        """The rate of the update at 0-based ``step``."""
        value = c_double()
        check(_lib.lib.hlr_schedule_value(self._handle, _args.step(step), byref(value)))
        return value.value

    __call__ = value

    def values(self, first: int, n: int) -> np.ndarray:
        """The rates of steps first … first + n − 1 as a float64 array (InvalidArgumentError when
        first + n exceeds 2⁶⁴: those steps do not exist)."""
        first = _args.step(first, "first")
        n = _args.index(n, "n")
        out = np.empty(n, dtype=np.float64)
        check(_lib.lib.hlr_schedule_values(self._handle, first, _args.double_pointer(out), n))
        return out

    def rescaled(self, nominal: float) -> "Schedule":
        """A new schedule: this one for a param group whose learning rate is ``nominal``
        (``hlr_schedule_rescale``), what a torch scheduler runs for each param group. Every rate
        parameter x becomes ``nominal`` where x equals :attr:`nominal`, else x·(nominal/N), except
        the cosine kinds' ``eta_min``, which torch keeps absolute; steps and factors are unchanged
        and composites rescale every node. InvalidArgumentError for a NaN, infinite or negative
        ``nominal`` or a rescaled rate out of range."""
        out = c_void_p()
        check(_lib.lib.hlr_schedule_rescale(self._handle, float(nominal), byref(out)))
        return Schedule._adopt(out.value)

    def factor(self, step: int) -> float:
        """value(step)/nominal ∈ [0, 1] (0 when the nominal rate is 0), ``hlr_schedule_factor``:
        the factor an attached schedule multiplies a tuner's rates by."""
        value = c_double()
        check(_lib.lib.hlr_schedule_factor(self._handle, _args.step(step), byref(value)))
        return value.value

    # -- composition -------------------------------------------------------------------------

    def with_warmup(self, steps: int, start_lr: float = 0.0) -> "Schedule":
        """``warmup(self, steps, start_lr)``."""
        return warmup(self, steps, start_lr)

    # -- snapshots ---------------------------------------------------------------------------

    def save(self) -> bytes:
        """The schedule as a versioned, checksummed snapshot (magic "HLSC")."""
        size = c_size_t()
        check(_lib.lib.hlr_schedule_snapshot_size(self._handle, byref(size)))
        buffer = (ctypes.c_char * max(size.value, 1))()
        written = c_size_t()
        try:
            check(_lib.lib.hlr_schedule_save(self._handle, buffer, size.value, byref(written)))
        except BufferTooSmallError as error:
            error.needed = written.value
            raise
        return bytes(buffer.raw[: written.value])

    @classmethod
    def load(cls, data: bytes) -> "Schedule":
        """A new schedule from ``save()`` bytes; SnapshotCorruptError / SnapshotVersionError for
        damaged or newer blobs."""
        data = bytes(data)
        out = c_void_p()
        check(_lib.lib.hlr_schedule_load(data, len(data), byref(out)))
        return cls._adopt(out.value)


def _handle_of(schedule, name: str):
    if not isinstance(schedule, Schedule):
        raise TypeError(f"{name} must be a hessianlr.Schedule, got {type(schedule).__name__}")
    return schedule._handle


def join(pieces: Sequence[Schedule], boundaries: Sequence[int]) -> Schedule:
    """optax ``join_schedules``: piece i runs from boundaries[i − 1] (0 for the first), counting
    its steps from there; len(boundaries) = len(pieces) − 1, strictly increasing. The pieces are
    copied (they stay usable and independent)."""
    pieces = list(pieces)
    handles = (c_void_p * max(len(pieces), 1))(*[_handle_of(p, f"pieces[{i}]") for i, p in enumerate(pieces)])
    bounds = [_args.step(b, "boundary") for b in boundaries]
    bounds_array = (c_uint64 * max(len(bounds), 1))(*bounds)
    out = c_void_p()
    check(_lib.lib.hlr_schedule_join(
        handles if pieces else None, len(pieces), bounds_array if bounds else None, len(bounds), byref(out)))
    return Schedule._adopt(out.value)


def warmup(child: Schedule, steps: int, start_lr: float = 0.0) -> Schedule:
    """Linear warmup from ``start_lr`` to child(0) over ``steps`` steps, then child(t − steps)
    (the child is copied). torch: ``SequentialLR([LinearLR(start_factor=start_lr/base_lr,
    total_iters=steps), child], milestones=[steps])``."""
    out = c_void_p()
    check(_lib.lib.hlr_schedule_warmup(
        _handle_of(child, "child"), _args.step(steps, "steps"), float(start_lr), byref(out)))
    return Schedule._adopt(out.value)
