"""Tuner handles: the Python face of ``hlr_tuner_*``, for every method.

A tuner turns a few scalars per parameter group into learning rates. The trainer drives it step
by step (steps are 0-based optimizer steps, increasing between observations) through the general
protocol:

1. ``need, count = tuner.need(t)``: what the tuner needs before the rates of step t are final —
   ``Need.NOTHING`` (read them), ``Need.CURVATURE`` ([g_kᵀd_k, d_kᵀH d_k] per group: one
   Hessian-vector product per group), ``Need.LOSSES`` (forward losses L(w − Σ_k ξ_jk·d_k) at the
   probe rows ξ_j of ``tuner.probes(t)``) or ``Need.SLOPE`` ([L(w), g_0ᵀd_0, …]). d is the
   direction the trainer steps along (w ← w − lr·d): the gradient g or the optimizer's update u.
2. ``tuner.observe(t, need, values)``, and back to 1 (a line search asks several times).
3. ``tuner.lrs(t)``: the rates for the update at step t, in weight units per unit of d.

Units: gᵀd is [loss·d/w], dᵀHd [loss·d²/w²], so their ratio is a rate [w/d]; probe steps ξ are
rates too. ``wants_curvature`` / ``observe_curvature`` are the curvature-only shorthands;
host mode (:meth:`Tuner.observe_host`, :meth:`Tuner.step_host`) lets the library compute the
observations from numpy buffers and Python callbacks.

Errors raise :mod:`hessianlr.errors` exceptions; a failed call leaves the tuner unchanged.
"""

from __future__ import annotations

import ctypes
import functools
import math
from ctypes import byref, c_double, c_int, c_size_t, c_uint64, c_void_p
from typing import Callable, Iterable, Mapping, NamedTuple, Sequence, Union

import numpy as np

from . import _args, _lib
from ._callbacks import CallbackSession, StepResult, run_step
from ._lib import OwnedHandle, check, mutating
from ._options import ParamBounds, apply_options, known_params, option_name, param_key
from .constants import Info, Method, Need, Param, ParamFamily, ParamFlag, Reset
from .errors import BufferTooSmallError, InvalidHandleError, NonFiniteError
from .schedule import Schedule

__all__ = ["ParamBounds", "Plan", "param_bounds", "method_params", "HostMode", "Tuner"]

KeyLike = Union[Param, int, str]

#: Inclusive range and default of one option (``hlr_param_bounds``).


def param_bounds(method: Union[Method, int], key: KeyLike) -> ParamBounds:
    """``hlr_param_bounds``: (min, max, default) of option ``key`` of ``method``, inclusive.

    Raises UnknownMethodError / UnknownKeyError when the pair does not exist.
    """
    low, high, default = c_double(), c_double(), c_double()
    key = param_key(key) if isinstance(key, str) else _args.key(key)
    check(_lib.lib.hlr_param_bounds(_args.key(method, "method"), key, byref(low), byref(high), byref(default)))
    return ParamBounds(low.value, high.value, default.value)


@functools.lru_cache(maxsize=None)
def _tuner_infos(method: int) -> list:
    """``hlr_param_info`` of every option of ``method`` this binding knows, in key order ([] for
    an unknown method, as the bounds functions reported it)."""
    return known_params(ParamFamily.TUNER, method, Param)


class Plan(NamedTuple):
    """What :meth:`Tuner.plan` returns for a step."""

    need: Need
    count: int
    lrs: list
    steady_until: int


#: Need members by value: the lookup ``need`` does at every step (``Need(value)`` goes through
#: the enum's metaclass, a third of the call's cost; a value unknown to this binding still does).
_NEEDS = {int(member): member for member in Need}


def method_params(method: Union[Method, int]) -> dict:
    """Every option of ``method`` this binding knows: {Param: ParamBounds}, in key order."""
    return {Param(i.key): i.bounds for i in _tuner_infos(int(method))}


@functools.lru_cache(maxsize=None)
def _per_group_keys(method: int) -> frozenset:
    """The options of ``method`` that are per group (``HLR_PARAM_FLAG_PER_GROUP``): those
    ``set_group_param`` accepts."""
    return frozenset(Param(i.key) for i in _tuner_infos(method) if i.flags & ParamFlag.PER_GROUP)


# -- host mode -------------------------------------------------------------------------------------
#
# Host mode of a tuner: flat numpy buffers and Python callbacks, no copies.
#
# Buffers are C-contiguous float32 or float64 ndarrays of one dtype (any shape: the library sees
# them flat) and are passed to the library WITHOUT copying; float32 buffers use the ``_f32``
# functions, float64 the ``_f64`` ones. Dot products accumulate in float64 in a fixed order, so
# results are reproducible bit for bit and equal to observation mode fed the same numbers.
#
# Callbacks (the arrays they get are Python-owned and may be kept; see :mod:`hessianlr._callbacks`):
#
# - ``hvp(v, out)``: writes H·v into ``out`` (zeroed, writable, length n); ``v`` is read-only
#   (d restricted to one group, zeros elsewhere). With one group ``v`` is a view of the caller's
#   own direction buffer; otherwise a copy of the library's.
# - ``loss(w) -> float``: the loss at the trial weights ``w`` (read-only, length n): a view of the
#   caller's weights when the library evaluates L(w), a copy of its trial buffer otherwise.
#
# An exception inside a callback aborts the call with nothing changed and is raised as
# :class:`~hessianlr.CallbackError` chained (``from``) to it; ``KeyboardInterrupt`` and other
# non-``Exception`` BaseExceptions propagate as they are.

HVP = Callable[[np.ndarray, np.ndarray], object]
Loss = Callable[[np.ndarray], float]


def _direction_buffers(gradient, update, name="gradient"):
    gradient = _args.host_buffer(gradient, name)
    if update is not None:
        update = _args.host_buffer(update, "update", gradient.dtype)
        if update.size != gradient.size:
            raise ValueError(f"update has {update.size} elements, the {name} {gradient.size}; they must match")
    return gradient, update


class HostMode:
    """Mixin of :class:`~hessianlr.Tuner`: ``observe_host`` and ``step_host``."""

    _handle: object

    @mutating
    def observe_host(
        self,
        step: int,
        gradient: np.ndarray,
        hvp: HVP,
        update: np.ndarray | None = None,
        group_offsets: Sequence[int] | None = None,
    ) -> None:
        """``hlr_tuner_observe_host_*``: computes the curvature observation of a step that wants
        one from ``gradient`` (and ``update``, required iff the direction is update) and applies
        it: per group k, s_k = g_kᵀd_k and c_k = d_kᵀ(H d̂_k) with one ``hvp`` call per non-empty
        group (for one group, ``v`` is the caller's own direction buffer).

        ``group_offsets`` (groups + 1 non-decreasing ints from 0 to n) splits the buffers into
        groups; None means one group. NaN/Inf in the buffers or in ``out`` raise NonFiniteError.
        """
        step = _args.step(step)
        gradient, update = _direction_buffers(gradient, update)
        if not callable(hvp):
            raise TypeError(f"hvp must be callable, got {type(hvp).__name__}")
        offsets, n_offsets, _keep = _args.host_offsets(group_offsets)
        session = CallbackSession(gradient.dtype, own=(gradient, update))
        callback = session.hvp(hvp)  # kept alive by this frame during the call
        name = session.function_name("hlr_tuner_observe_host")
        code = getattr(_lib.lib, name)(self._handle, step, session.data(gradient), session.data(update), gradient.size,
                                       offsets, n_offsets, callback, None)
        session.check(code, name)

    @mutating
    def step_host(
        self,
        step: int,
        weights: np.ndarray,
        gradient: np.ndarray,
        update: np.ndarray | None = None,
        group_offsets: Sequence[int] | None = None,
        current_loss: float | None = None,
        hvp: HVP | None = None,
        loss: Loss | None = None,
    ) -> int:
        """``hlr_tuner_step_host_*``: runs step ``step`` to completion for any method and returns
        the number of observations made (0 when the step needs nothing).

        While the tuner needs something, the library computes it on the host and observes it:
        curvature through ``hvp`` (as :meth:`observe_host`), losses at the probe points
        L(w − Σ_k ξ_jk·d_k) and the slope [L(w), g_kᵀd_k] through ``loss``, with d = ``update``
        (w ← w − lr·u), or the gradient when it is None. Trial points are built in a
        library-owned scratch buffer, element by element in float64 and rounded once to the
        buffer's dtype; ``weights`` are never written. ``current_loss`` is L(w) if the caller has
        it (then ``loss`` is not called at w). A callback the method never needs may be None.

        All or nothing: on any error (a callback raising → CallbackError chained to it, NaN/Inf
        → NonFiniteError, a needed callback missing → InvalidArgumentError, the tuner changed
        meanwhile → WrongStateError) the tuner is unchanged. The step's rates are then
        ``lrs(step)``.
        """
        step = _args.step(step)
        weights = _args.host_buffer(weights, "weights")
        gradient, update = _direction_buffers(gradient, update)
        if gradient.dtype != weights.dtype:
            raise TypeError(f"gradient has dtype {gradient.dtype} but the weights have {weights.dtype}; they must match")
        if gradient.size != weights.size:
            raise ValueError(f"gradient has {gradient.size} elements, the weights {weights.size}; they must match")
        if current_loss is None:
            current = math.nan
        else:
            current = float(current_loss)
            if math.isnan(current):
                raise NonFiniteError("step_host: current_loss is NaN; pass None when L(w) is not known")
        offsets, n_offsets, _keep = _args.host_offsets(group_offsets)
        session = CallbackSession(weights.dtype, own=(weights, gradient, update))
        hvp_callback = session.hvp(hvp)  # kept alive by this frame during the call
        loss_callback = session.loss(loss)
        rounds = c_size_t()
        name = session.function_name("hlr_tuner_step_host")
        code = getattr(_lib.lib, name)(self._handle, step, session.data(weights), session.data(gradient),
                                       session.data(update), weights.size, offsets, n_offsets, current, hvp_callback,
                                       loss_callback, None, byref(rounds))
        session.check(code, name)
        return rounds.value


class Tuner(HostMode, OwnedHandle):
    """One ``hlr_tuner`` handle: ``Tuner(method, groups=1, *, schedule=None, **options)``.

    ``options`` are option names (``Param`` members in lower case) with values, as for
    :meth:`configure`; ``schedule`` a :class:`~hessianlr.Schedule` to attach. The method classes (:class:`~hessianlr.HessianLR`,
    :class:`~hessianlr.CDAT`, :class:`~hessianlr.GeN`, :class:`~hessianlr.HiDLR`,
    :class:`~hessianlr.Armijo`, :class:`~hessianlr.Constant`, :class:`~hessianlr.Auto`) take the same
    options; every default is the library's (:func:`method_params`).

    Usable as a context manager; ``close()`` frees the handle (idempotent) and ``__del__`` frees
    it too. Calls on a closed tuner raise InvalidHandleError (the library sees a NULL handle).
    ``pickle``, ``copy.copy`` and ``copy.deepcopy`` give an independent tuner on a new handle,
    restored from this one's snapshot, that continues bit-identically.
    """

    _free_function = "hlr_tuner_free"

    def __init__(self, method: Union[Method, int], groups: int = 1, *, schedule=None, **options):
        groups = _args.index(groups, "groups")
        self._create(_lib.lib.hlr_tuner_create, _args.key(method, "method"), groups)
        self._group_count = groups  # fixed for the handle's lifetime
        with self._closed_on_failure():
            self.configure(**options)
            if schedule is not None:
                self.set_schedule(schedule)

    # -- lifetime: close(), closed, with, __del__ come from OwnedHandle -------------------------

    def __repr__(self) -> str:
        if self.closed:
            return f"<{type(self).__name__} closed>"
        method = self.method
        return f"<{type(self).__name__} method={getattr(method, 'name', method)} groups={self.groups}>"

    def _rebuild(self):
        # pickle / copy / deepcopy: a new handle of the same method and groups, restored from
        # this one's snapshot (options, state, schedule), continuing bit-identically.
        return (_rebuild_tuner, (type(self), int(self.method), self.groups, self.save()))

    # -- identity ----------------------------------------------------------------------------

    @property
    def method(self) -> Method:
        """The method the handle was created with."""
        return self._read_enum(_lib.lib.hlr_tuner_method, Method)

    @property
    def groups(self) -> int:
        """The parameter-group count the handle was created with."""
        value = c_size_t()
        check(_lib.lib.hlr_tuner_group_count(self._handle, byref(value)))
        return value.value

    # -- options -----------------------------------------------------------------------------

    @mutating
    def set_param(self, key: KeyLike, value: float) -> None:
        """Sets an option for every group (range-checked; lr_min ≤ lr_max enforced)."""
        key = param_key(key) if isinstance(key, str) else _args.key(key)
        check(_lib.lib.hlr_tuner_set_param(self._handle, key, float(value)))

    def set_params(self, values: Mapping) -> None:
        """Sets several options for every group at once (``hlr_tuner_set_params``): key (a
        Param, its int or its name) → number; the cross-constraints are checked on the result,
        so the order does not matter; nothing changes if any is refused."""
        pairs = [(param_key(k) if isinstance(k, str) else _args.key(k), float(v)) for k, v in values.items()]
        keys = (c_int * len(pairs))(*[k for k, _ in pairs])
        numbers = (c_double * len(pairs))(*[v for _, v in pairs])
        check(_lib.lib.hlr_tuner_set_params(self._handle, keys, numbers, len(pairs)))

    def get_param(self, key: KeyLike) -> float:
        """Reads an option (group 0's value for per-group options)."""
        key = param_key(key) if isinstance(key, str) else _args.key(key)
        value = c_double()
        check(_lib.lib.hlr_tuner_get_param(self._handle, key, byref(value)))
        return value.value

    @mutating
    def set_group_param(self, group: int, key: KeyLike, value: float) -> None:
        """Sets a per-group option (``initial_lr``, CDAT's ``sharpness``) for one group."""
        group = _args.index(group, "group")
        key = param_key(key) if isinstance(key, str) else _args.key(key)
        check(_lib.lib.hlr_tuner_set_group_param(self._handle, group, key, float(value)))

    def get_group_param(self, group: int, key: KeyLike) -> float:
        """Reads an option of one group."""
        group = _args.index(group, "group")
        key = param_key(key) if isinstance(key, str) else _args.key(key)
        value = c_double()
        check(_lib.lib.hlr_tuner_get_group_param(self._handle, group, key, byref(value)))
        return value.value

    def configure(self, **options) -> None:
        """Sets options by name, e.g. ``configure(lr_max=0.5, initial_lr=[0.1, 0.01])``.

        Per-group options take one value or one per group; ``direction`` / ``model`` take their
        enum, int or name; None leaves an option as it is. All or nothing: if any value is
        refused, nothing changes and the library's error is raised.
        """
        apply_options(self, options)

    def options(self) -> dict:
        """Every option of the method by name: a float, or a list per group for per-group
        options."""
        per_group = _per_group_keys(int(self.method))
        result = {}
        for key in method_params(self.method):
            if key in per_group:
                result[option_name(key)] = [self.get_group_param(k, key) for k in range(self._group_count)]
            else:
                result[option_name(key)] = self.get_param(key)
        return result

    @mutating
    def reset(self, what: Union[Reset, int] = Reset.ALL) -> None:
        """Forgets observations (``Reset.STATE``), options and schedule (``Reset.OPTIONS``) or
        both."""
        check(_lib.lib.hlr_tuner_reset(self._handle, _args.key(what, "what")))

    def info(self, key: Union[Info, int], group: int = 0) -> float:
        """A diagnostic (``Info.*``); ``group`` is used by per-group keys only."""
        group = _args.index(group, "group")
        value = c_double()
        check(_lib.lib.hlr_tuner_get_info(self._handle, _args.key(key), group, byref(value)))
        return value.value

    # -- observation mode --------------------------------------------------------------------

    def wants_curvature(self, step: int) -> bool:
        """Whether the tuner wants a curvature observation at ``step``."""
        step = _args.step(step)
        wants = c_int()
        check(_lib.lib.hlr_tuner_wants_curvature(self._handle, step, byref(wants)))
        return bool(wants.value)

    @mutating
    def observe_curvature(self, step: int, values: Iterable[float]) -> None:
        """Feeds ``[s_0, c_0, s_1, c_1, ...]`` (2·groups doubles) for a step that wants curvature.

        s_k = g_kᵀd_k and c_k = d_kᵀH d_k on group k alone. Raises WrongStateError if the step
        wants none, NonFiniteError for NaN/Inf, InvalidArgumentError for a wrong count or a
        negative gᵀg; nothing changes on error.
        """
        step = _args.step(step)
        array = _args.doubles(values)
        check(_lib.lib.hlr_tuner_observe_curvature(self._handle, step, _args.double_pointer(array), array.size))

    def need(self, step: int) -> tuple[Need, int]:
        """What the tuner needs next at ``step`` and how many values that observation carries."""
        step = _args.step(step)
        need, count = c_int(), c_size_t()
        check(_lib.lib.hlr_tuner_need(self._handle, step, byref(need), byref(count)))
        value = need.value
        return (_NEEDS[value] if value in _NEEDS else Need(value)), count.value

    def probes(self, step: int) -> np.ndarray:
        """When ``need(step)`` is LOSSES: the probe matrix (probes × groups) of step sizes ξ_jk
        (rates); evaluate L(w − Σ_k ξ_jk·d_k) for each row j (a row of zeros is L(w))."""
        need, count = self.need(step)
        # Any other need: the library raises WrongStateError naming it.
        matrix = np.zeros((count if need == Need.LOSSES else 0, self._group_count), dtype=np.float64)
        check(_lib.lib.hlr_tuner_get_probes(self._handle, step, _args.double_pointer(matrix), matrix.size))
        return matrix

    @mutating
    def observe(self, step: int, kind: Union[Need, int], values: Iterable[float]) -> None:
        """Feeds an observation of the kind ``need(step)`` asked for (see :class:`Need` for the
        layouts); nothing changes on error."""
        step = _args.step(step)
        array = _args.doubles(values)
        check(_lib.lib.hlr_tuner_observe(self._handle, step, _args.key(kind, "kind"), _args.double_pointer(array), array.size))

    @mutating
    def observe_failure(self, step: int) -> None:
        """Reports that the losses ``need(step)`` asked for could not be measured (a probe or
        trial loss was NaN/±Inf, or its forward pass failed): GeN and Hi-DLR multiply every rate
        by fit_failure_decay (GeN's reference halves when its fit raises), Armijo rejects the
        trial (backtracks). Raises WrongStateError, changing nothing, unless the step needs
        losses."""
        step = _args.step(step)
        check(_lib.lib.hlr_tuner_observe_failure(self._handle, step))

    @mutating
    def run_step(self, step: int, backend, current_loss: float | None = None) -> StepResult:
        """``hlr_tuner_step``: runs step ``step`` to completion through ``backend``, a step
        backend (:mod:`hessianlr._callbacks`, section 2: ``slopes``, ``curvatures``, ``set_trial``, ``loss``,
        ``restore`` and, for several processes, ``all_reduce``) over tensors the library never
        sees; returns :class:`~hessianlr._callbacks.StepResult` (observations made, failed
        ones). ``current_loss``: L(w) on this process if known (saves a forward pass). The loop,
        the observations and the failure policy are the library's, the same as
        :meth:`step_host`'s. All or nothing: on any error the tuner is unchanged (the backend's
        ``restore`` has been called if it moved the weights). The step's rates are then
        ``lrs(step)``."""
        step = _args.step(step)
        if current_loss is not None and math.isnan(float(current_loss)):
            raise NonFiniteError("run_step: current_loss is NaN; pass None when L(w) is not known")
        return run_step(self._handle, self.groups, step, backend, current_loss)

    def lr(self, step: int, group: int = 0) -> float:
        """The learning rate of ``group`` for the update at ``step``."""
        step = _args.step(step)
        group = _args.index(group, "group")
        value = c_double()
        check(_lib.lib.hlr_tuner_get_lr(self._handle, step, group, byref(value)))
        return value.value

    def lrs(self, step: int) -> list[float]:
        """Every group's learning rate for the update at ``step``."""
        step = _args.step(step)
        count = self._group_count
        values = (c_double * count)()
        check(_lib.lib.hlr_tuner_get_lrs(self._handle, step, values, count))
        return list(values)

    def plan(self, step: int) -> Plan:
        """``hlr_tuner_plan``: in one call what ``step`` needs (``need``, ``count`` as
        :meth:`need`), its rates (``lrs`` as :meth:`lrs`; before the observation when it needs
        one) and ``steady_until``: the first step after ``step`` at which the need or the rates may
        differ, provided nothing changes the tuner meanwhile (:attr:`revision` unchanged;
        2⁶⁴ − 1: never). On the steps in between the rates are these and nothing is needed."""
        step = _args.step(step)
        count = self._group_count
        need, values, until = c_int(), c_size_t(), c_uint64()
        rates = (c_double * count)()
        check(_lib.lib.hlr_tuner_plan(self._handle, step, byref(need), byref(values), rates, count, byref(until)))
        value = need.value
        return Plan(_NEEDS[value] if value in _NEEDS else Need(value), values.value, list(rates), until.value)

    # -- base schedule -----------------------------------------------------------------------

    @mutating
    def set_schedule(self, schedule) -> None:
        """Attaches a copy of ``schedule`` (a :class:`~hessianlr.Schedule`) as the base schedule,
        or detaches it with None: the rates become rate_k(t)·value(t)/nominal. The method
        observes and decides as before; the snapshot carries the schedule."""
        if schedule is not None and not isinstance(schedule, Schedule):
            raise TypeError(f"schedule must be a hessianlr.Schedule or None, got {type(schedule).__name__}")
        if schedule is not None and schedule.closed:  # its NULL handle would detach instead
            raise InvalidHandleError("set_schedule: the schedule is closed")
        check(_lib.lib.hlr_tuner_set_schedule(self._handle, None if schedule is None else schedule._handle))

    def get_schedule(self):
        """A copy of the attached base schedule (a new :class:`~hessianlr.Schedule`), or None."""
        out = c_void_p()
        check(_lib.lib.hlr_tuner_get_schedule(self._handle, byref(out)))
        return None if out.value is None else Schedule._adopt(out.value)

    # -- snapshots ---------------------------------------------------------------------------

    def snapshot_size(self) -> int:
        """Size in bytes of the snapshot ``save`` would write now."""
        size = c_size_t()
        check(_lib.lib.hlr_tuner_snapshot_size(self._handle, byref(size)))
        return size.value

    def save_into(self, buffer) -> int:
        """Writes the snapshot into a writable buffer (bytearray, numpy array, ...) and returns its
        size; BufferTooSmallError (with ``.needed``) if the buffer is too small."""
        view = memoryview(buffer).cast("B")
        if view.readonly:
            raise TypeError("buffer must be writable")
        capacity = view.nbytes
        holder = (ctypes.c_char * max(capacity, 1)).from_buffer(view) if capacity else (ctypes.c_char * 1)()
        written = c_size_t()
        try:
            check(_lib.lib.hlr_tuner_save(self._handle, holder, capacity, byref(written)))
        except BufferTooSmallError as error:
            error.needed = written.value
            raise
        finally:
            del holder
            view.release()
        return written.value

    def save(self) -> bytes:
        """The tuner's options, state and schedule as a versioned, checksummed snapshot."""
        buffer = bytearray(self.snapshot_size())
        written = self.save_into(buffer)
        return bytes(buffer[:written])

    @mutating
    def restore(self, data: bytes) -> None:
        """Replaces options, state and schedule with a snapshot's; the restored tuner continues
        bit-identically. SnapshotCorruptError / SnapshotVersionError / SnapshotMismatchError
        leave it untouched."""
        data = bytes(data)
        check(_lib.lib.hlr_tuner_restore(self._handle, data, len(data)))


def _rebuild_tuner(cls, method: int, groups: int, snapshot: bytes) -> Tuner:
    """The copy ``Tuner.__reduce__`` describes: a fresh handle, then ``restore(snapshot)``."""
    tuner = object.__new__(cls)
    Tuner.__init__(tuner, method, groups)  # the library's own defaults, whatever cls's signature
    try:
        tuner.restore(snapshot)
    except BaseException:
        tuner.close()
        raise
    return tuner
