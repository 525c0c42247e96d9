"""Tuner handles: the Python face of ``hlr_tuner_*``.

A tuner turns a few scalars per parameter group into learning rates. The trainer drives it step
by step (steps are 0-based optimizer steps, strictly increasing between observations):

1. ``tuner.wants_curvature(t)``: pay for curvature at step t? Only then build a double-backward
   graph / run a Hessian-vector product (HVP).
2. If so, measure and feed ``observe_curvature(t, [s_0, c_0, s_1, c_1, ...])`` with, per group k,
   ``s_k = g_kᵀd_k`` (units [loss·d/w]) and ``c_k = d_kᵀ H d_k`` ([loss·d²/w²]), d = g or the
   optimizer's update u; or let the library compute them from flat buffers and an HVP callback
   (``observe_host``).
3. ``tuner.lr(t, group)`` / ``tuner.lrs(t)``: the rate(s) for the update at step t, in weight
   units per unit of d (w ← w − lr·d).

Errors raise :mod:`hessianlr.errors` exceptions; a failed call leaves the tuner unchanged.
"""

from __future__ import annotations

import ctypes
import operator
from collections import namedtuple
from ctypes import POINTER, byref, c_double, c_int, c_size_t, c_void_p
from typing import Callable, Iterable, Sequence, Union

import numpy as np

from . import _lib
from .constants import Direction, Info, Method, Need, Param, Reset
from .errors import BufferTooSmallError, CallbackError, InvalidArgumentError, check

__all__ = ["ParamBounds", "param_bounds", "Tuner", "HessianLR"]

_UINT64_MAX = (1 << 64) - 1
_SIZE_MAX = (1 << (8 * ctypes.sizeof(c_size_t))) - 1

KeyLike = Union[Param, int]

#: Inclusive range and default of one option (``hlr_param_bounds``).
ParamBounds = namedtuple("ParamBounds", ["min", "max", "default"])


def _index(value, name: str, limit: int) -> int:
    """An integer argument in [0, limit] (ctypes would silently wrap a negative one)."""
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}") from None
    if value < 0 or value > limit:
        raise InvalidArgumentError(f"{name} must be in [0, {limit}], got {value}")
    return value


def _key(key: KeyLike, name: str = "key") -> int:
    try:
        return operator.index(key)
    except TypeError:
        raise TypeError(f"{name} must be an int or enum member, got {type(key).__name__} {key!r}") from None


def param_bounds(method: Union[Method, int], key: KeyLike) -> ParamBounds:
    """``hlr_param_bounds``: (min, max, default) of option ``key`` of ``method``, inclusive.

    Raises UnknownMethodError / UnknownKeyError when the pair does not exist.
    """
    low, high, default = c_double(), c_double(), c_double()
    check(_lib.lib.hlr_param_bounds(_key(method, "method"), _key(key), byref(low), byref(high), byref(default)))
    return ParamBounds(low.value, high.value, default.value)


_DTYPES = {
    np.dtype(np.float32): ("hlr_tuner_observe_host_f32", _lib.HVP_F32, ctypes.c_float),
    np.dtype(np.float64): ("hlr_tuner_observe_host_f64", _lib.HVP_F64, ctypes.c_double),
}


def _host_buffer(array, name: str, dtype=None) -> np.ndarray:
    """Checks a host buffer for zero-copy use: a C-contiguous float32/float64 ndarray."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray of float32 or float64, got {type(array).__name__}")
    if array.dtype not in _DTYPES:
        raise TypeError(f"{name} must have dtype float32 or float64, got {array.dtype}")
    if dtype is not None and array.dtype != dtype:
        raise TypeError(f"{name} has dtype {array.dtype} but the gradient has {dtype}; they must match")
    if not array.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous (it is passed without copying); use numpy.ascontiguousarray")
    return array


class Tuner:
    """One ``hlr_tuner`` handle: ``Tuner(method, groups=1)``.

    Usable as a context manager; ``close()`` frees the handle (idempotent) and ``__del__`` frees
    it too. Calls on a closed tuner raise InvalidHandleError (the library sees a NULL handle).
    """

    def __init__(self, method: Union[Method, int], groups: int = 1):
        self._handle = None
        groups = _index(groups, "groups", _SIZE_MAX)
        handle = c_void_p()
        check(_lib.lib.hlr_tuner_create(_key(method, "method"), groups, byref(handle)))
        self._handle = handle.value
        self._group_count = groups  # fixed for the handle's lifetime

    # -- lifetime ----------------------------------------------------------------------------

    def close(self) -> None:
        """Frees the handle (``hlr_tuner_free``); later calls raise InvalidHandleError."""
        handle, self._handle = self._handle, None
        if handle is not None:
            check(_lib.lib.hlr_tuner_free(handle))

    @property
    def closed(self) -> bool:
        return self._handle is None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __del__(self):
        handle = getattr(self, "_handle", None)
        if handle is None:
            return
        self._handle = None
        try:
            _lib.lib.hlr_tuner_free(handle)
        except Exception:  # interpreter shutdown: modules may already be torn down
            pass

    def __repr__(self) -> str:
        if self.closed:
            return f"<{type(self).__name__} closed>"
        return f"<{type(self).__name__} method={self.method.name} groups={self.groups}>"

    # -- identity ----------------------------------------------------------------------------

    @property
    def method(self) -> Method:
        """The method the handle was created with."""
        value = c_int()
        check(_lib.lib.hlr_tuner_method(self._handle, byref(value)))
        try:
            return Method(value.value)
        except ValueError:
            return value.value  # a method newer than this binding

    @property
    def groups(self) -> int:
        """The parameter-group count the handle was created with."""
        value = c_size_t()
        check(_lib.lib.hlr_tuner_group_count(self._handle, byref(value)))
        return value.value

    # -- options -----------------------------------------------------------------------------

    def set_param(self, key: KeyLike, value: float) -> None:
        """Sets an option for every group (range-checked; lr_min ≤ lr_max enforced)."""
        check(_lib.lib.hlr_tuner_set_param(self._handle, _key(key), float(value)))

    def get_param(self, key: KeyLike) -> float:
        """Reads an option (group 0's value for per-group options)."""
        value = c_double()
        check(_lib.lib.hlr_tuner_get_param(self._handle, _key(key), byref(value)))
        return value.value

    def set_group_param(self, group: int, key: KeyLike, value: float) -> None:
        """Sets a per-group option (``Param.INITIAL_LR``) for one group."""
        group = _index(group, "group", _SIZE_MAX)
        check(_lib.lib.hlr_tuner_set_group_param(self._handle, group, _key(key), float(value)))

    def get_group_param(self, group: int, key: KeyLike) -> float:
        """Reads an option of one group."""
        group = _index(group, "group", _SIZE_MAX)
        value = c_double()
        check(_lib.lib.hlr_tuner_get_group_param(self._handle, group, _key(key), byref(value)))
        return value.value

    def reset(self, what: Union[Reset, int] = Reset.ALL) -> None:
        """Forgets observations (``Reset.STATE``), options (``Reset.OPTIONS``) or both."""
        check(_lib.lib.hlr_tuner_reset(self._handle, _key(what, "what")))

    def info(self, key: Union[Info, int], group: int = 0) -> float:
        """A diagnostic (``Info.*``); ``group`` is used by per-group keys only."""
        group = _index(group, "group", _SIZE_MAX)
        value = c_double()
        check(_lib.lib.hlr_tuner_get_info(self._handle, _key(key), group, byref(value)))
        return value.value

    # -- observation mode --------------------------------------------------------------------

    def wants_curvature(self, step: int) -> bool:
        """Whether the tuner wants a curvature observation at ``step``."""
        step = _index(step, "step", _UINT64_MAX)
        wants = c_int()
        check(_lib.lib.hlr_tuner_wants_curvature(self._handle, step, byref(wants)))
        return bool(wants.value)

    def observe_curvature(self, step: int, values: Iterable[float]) -> None:
        """Feeds ``[s_0, c_0, s_1, c_1, ...]`` (2·groups doubles) for a step that wants curvature.

        s_k = g_kᵀd_k and c_k = d_kᵀH d_k on group k alone. Raises WrongStateError if the step
        wants none, NonFiniteError for NaN/Inf, InvalidArgumentError for a wrong count or a
        negative gᵀg; nothing changes on error.
        """
        step = _index(step, "step", _UINT64_MAX)
        array = np.ascontiguousarray(np.asarray(values, dtype=np.float64).reshape(-1))
        pointer = array.ctypes.data_as(POINTER(c_double)) if array.size else None
        check(_lib.lib.hlr_tuner_observe_curvature(self._handle, step, pointer, array.size))

    def need(self, step: int) -> tuple[Need, int]:
        """What the tuner needs next at ``step`` and how many values that observation carries."""
        step = _index(step, "step", _UINT64_MAX)
        need, count = c_int(), c_size_t()
        check(_lib.lib.hlr_tuner_need(self._handle, step, byref(need), byref(count)))
        return Need(need.value), count.value

    def probes(self, step: int) -> np.ndarray:
        """When ``need(step)`` is LOSSES: the probe matrix (probes × groups) of step sizes ξ_jk;
        evaluate L(w − Σ_k ξ_jk·d_k) for each row j."""
        need, count = self.need(step)
        # Any other need: the library raises WrongStateError naming it.
        matrix = np.zeros((count if need == Need.LOSSES else 0, self._group_count), dtype=np.float64)
        pointer = matrix.ctypes.data_as(POINTER(c_double)) if matrix.size else None
        check(_lib.lib.hlr_tuner_get_probes(self._handle, step, pointer, matrix.size))
        return matrix

    def observe(self, step: int, kind: Union[Need, int], values: Iterable[float]) -> None:
        """Feeds an observation of the kind ``need(step)`` asked for (see :class:`Need` for the
        layouts); nothing changes on error."""
        step = _index(step, "step", _UINT64_MAX)
        array = np.ascontiguousarray(np.asarray(values, dtype=np.float64).reshape(-1))
        pointer = array.ctypes.data_as(POINTER(c_double)) if array.size else None
        check(_lib.lib.hlr_tuner_observe(self._handle, step, int(kind), pointer, array.size))

    def lr(self, step: int, group: int = 0) -> float:
        """The learning rate of ``group`` for the update at ``step``."""
        step = _index(step, "step", _UINT64_MAX)
        group = _index(group, "group", _SIZE_MAX)
        value = c_double()
        check(_lib.lib.hlr_tuner_get_lr(self._handle, step, group, byref(value)))
        return value.value

    def lrs(self, step: int) -> list[float]:
        """Every group's learning rate for the update at ``step``."""
        step = _index(step, "step", _UINT64_MAX)
        count = self._group_count
        values = (c_double * count)()
        check(_lib.lib.hlr_tuner_get_lrs(self._handle, step, values, count))
        return list(values)

    # -- host mode ---------------------------------------------------------------------------

    def observe_host(
        self,
        step: int,
        gradient: np.ndarray,
        hvp: Callable[[np.ndarray, np.ndarray], object],
        update: np.ndarray | None = None,
        group_offsets: Sequence[int] | None = None,
    ) -> None:
        """Lets the library compute the observation from flat host buffers and apply it.

        ``gradient`` (and ``update``, required iff the direction is ``Direction.UPDATE``) are
        C-contiguous float32 or float64 numpy arrays of the same dtype and size; they are passed
        to the library WITHOUT copying. ``group_offsets`` (groups + 1 non-decreasing ints from 0
        to n) splits them into groups; None means one group.

        ``hvp(v, out)`` is called once per group with numpy views over the library's buffers:
        ``v`` (read-only, length n: d restricted to the group, zeros elsewhere; for one group it
        is the caller's own direction buffer) and ``out`` (writable, zeroed, length n). It must
        write H·v into ``out`` and return; the views are valid only during the call. Any
        exception raised inside makes the library abort with nothing changed, and this method
        raises CallbackError chained (``from``) to that exception (KeyboardInterrupt and other
        non-Exception BaseExceptions are re-raised as they are). NaN/Inf in the buffers or in
        ``out`` raise NonFiniteError.
        """
        step = _index(step, "step", _UINT64_MAX)
        gradient = _host_buffer(gradient, "gradient")
        if update is not None:
            update = _host_buffer(update, "update", gradient.dtype)
            if update.size != gradient.size:
                raise ValueError(f"update has {update.size} elements, the gradient {gradient.size}; they must match")
        if not callable(hvp):
            raise TypeError(f"hvp must be callable, got {type(hvp).__name__}")
        function_name, callback_type, ctype = _DTYPES[gradient.dtype]
        pointer_type = POINTER(ctype)

        offsets_array = None
        if group_offsets is not None:
            offsets_array = np.asarray(group_offsets)
            if offsets_array.ndim != 1 or (offsets_array.size and offsets_array.dtype.kind not in "iu"):
                raise TypeError(f"group_offsets must be a 1-D sequence of integers, got {group_offsets!r}")
            if offsets_array.size and offsets_array.min() < 0:
                raise InvalidArgumentError(f"group_offsets must be non-negative, got {offsets_array.tolist()}")
            offsets_array = np.ascontiguousarray(offsets_array, dtype=np.uintp)

        failure: list[BaseException] = []

        def trampoline(_ctx, v_pointer, out_pointer, n):
            try:
                v = np.ctypeslib.as_array(v_pointer, shape=(n,))
                v.flags.writeable = False
                out = np.ctypeslib.as_array(out_pointer, shape=(n,))
                hvp(v, out)
                return 0
            except BaseException as error:  # noqa: BLE001 - must never unwind through C
                failure.append(error)
                return 1

        callback = callback_type(trampoline)  # kept alive by this frame during the call
        offsets_pointer = offsets_array.ctypes.data_as(POINTER(c_size_t)) if offsets_array is not None and offsets_array.size else None
        offsets_count = 0 if offsets_array is None else offsets_array.size
        code = getattr(_lib.lib, function_name)(
            self._handle,
            step,
            gradient.ctypes.data_as(pointer_type),
            update.ctypes.data_as(pointer_type) if update is not None else None,
            gradient.size,
            offsets_pointer,
            offsets_count,
            callback,
            None,
        )
        if failure:
            error = failure[0]
            if not isinstance(error, Exception):
                raise error
            try:
                check(code)
            except CallbackError as wrapped:
                raise wrapped from error
            # The library reported something else (or nothing): still surface the exception.
            raise CallbackError(f"{function_name}: the hvp callback raised {error!r}", code) from error
        check(code)

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
        """The tuner's options and state as a versioned, checksummed snapshot."""
        buffer = bytearray(self.snapshot_size())
        written = self.save_into(buffer)
        return bytes(buffer[:written])

    def restore(self, data: bytes) -> None:
        """Replaces options and state with a snapshot's; the restored tuner continues
        bit-identically. SnapshotCorruptError / SnapshotVersionError / SnapshotMismatchError
        leave it untouched."""
        data = bytes(data)
        check(_lib.lib.hlr_tuner_restore(self._handle, data, len(data)))


def _direction(value) -> int:
    if isinstance(value, str):
        try:
            return Direction[value.upper()]
        except KeyError:
            raise InvalidArgumentError(f"direction must be 'gradient' or 'update', got {value!r}") from None
    return _key(value, "direction")  # the library range-checks and names a bad value


class HessianLR(Tuner):
    """A HessianLR tuner configured with the seed's (QuixiAI/hessian-lr) option names.

    Per update, for each group: candidate = s/c (= gᵀd/dᵀHd, the minimiser of the local quadratic
    along −d; decay·lr when c ≤ 0; rate kept when s = 0 or s < 0), bounded to [low·lr, high·lr],
    smoothed lr ← β·lr + (1 − β)·candidate, clamped to [lr_min, lr_max]. Warmup: lr(t) =
    η₀·(t+1)/W for t < W. Curvature is wanted at t ≥ W with (t − W) % update_period == 0.

    ``initial_lr`` may be one float or a list with one value per group.
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
    ):
        super().__init__(Method.HESSIANLR, groups)
        try:
            if isinstance(initial_lr, (int, float, np.floating, np.integer)):
                self.set_param(Param.INITIAL_LR, float(initial_lr))
            else:
                rates = [float(x) for x in initial_lr]
                if len(rates) != self.groups:
                    raise InvalidArgumentError(
                        f"initial_lr has {len(rates)} values, the tuner has {self.groups} groups")
                for group, rate in enumerate(rates):
                    self.set_group_param(group, Param.INITIAL_LR, rate)
            self.set_param(Param.WARMUP_STEPS, num_warmup_steps)
            self.set_param(Param.UPDATE_PERIOD, update_period)
            low, high = lr_bounds
            self.set_param(Param.LR_BOUND_LOW, low)
            self.set_param(Param.LR_BOUND_HIGH, high)
            # lr_min ≤ lr_max is checked on every set: move the side that keeps it true first.
            if float(lr_min) > self.get_param(Param.LR_MAX):
                self.set_param(Param.LR_MAX, lr_max)
                self.set_param(Param.LR_MIN, lr_min)
            else:
                self.set_param(Param.LR_MIN, lr_min)
                self.set_param(Param.LR_MAX, lr_max)
            self.set_param(Param.SMOOTHING, smoothing_factor)
            self.set_param(Param.NEGATIVE_CURVATURE_DECAY, negative_curvature_decay)
            self.set_param(Param.DIRECTION, _direction(direction))
        except BaseException:
            self.close()
            raise
