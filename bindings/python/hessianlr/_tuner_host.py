"""Host mode of a tuner: flat numpy buffers and Python callbacks, no copies.

Buffers are C-contiguous float32 or float64 ndarrays of one dtype (any shape: the library sees
them flat) and are passed to the library WITHOUT copying; float32 buffers use the ``_f32``
functions, float64 the ``_f64`` ones. Dot products accumulate in float64 in a fixed order, so
results are reproducible bit for bit and equal to observation mode fed the same numbers.

Callbacks (the arrays they get are Python-owned and may be kept; see :mod:`hessianlr._callbacks`):

- ``hvp(v, out)``: writes H·v into ``out`` (zeroed, writable, length n); ``v`` is read-only
  (d restricted to one group, zeros elsewhere). With one group ``v`` is a view of the caller's
  own direction buffer; otherwise a copy of the library's.
- ``loss(w) -> float``: the loss at the trial weights ``w`` (read-only, length n): a view of the
  caller's weights when the library evaluates L(w), a copy of its trial buffer otherwise.

An exception inside a callback aborts the call with nothing changed and is raised as
:class:`~hessianlr.CallbackError` chained (``from``) to it; ``KeyboardInterrupt`` and other
non-``Exception`` BaseExceptions propagate as they are.
"""

from __future__ import annotations

import math
from ctypes import byref, c_size_t
from typing import Callable, Sequence

import numpy as np

from . import _args, _lib
from ._callbacks import CallbackSession
from ._handle import mutating
from .errors import NonFiniteError

__all__ = ["HostMode"]

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
        name = "hlr_tuner_observe_host_f32" if gradient.dtype == np.float32 else "hlr_tuner_observe_host_f64"
        pointer = session.pointer_type
        code = getattr(_lib.lib, name)(
            self._handle,
            step,
            gradient.ctypes.data_as(pointer),
            update.ctypes.data_as(pointer) if update is not None else None,
            gradient.size,
            offsets,
            n_offsets,
            callback,
            None,
        )
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
        name = "hlr_tuner_step_host_f32" if weights.dtype == np.float32 else "hlr_tuner_step_host_f64"
        pointer = session.pointer_type
        code = getattr(_lib.lib, name)(
            self._handle,
            step,
            weights.ctypes.data_as(pointer),
            gradient.ctypes.data_as(pointer),
            update.ctypes.data_as(pointer) if update is not None else None,
            weights.size,
            offsets,
            n_offsets,
            current,
            hvp_callback,
            loss_callback,
            None,
            byref(rounds),
        )
        session.check(code, name)
        return rounds.value
