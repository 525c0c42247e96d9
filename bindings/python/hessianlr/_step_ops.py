"""``hlr_tuner_step`` from Python: the library's step driver over the caller's tensors.

A *step backend* is any object with these methods (K = the tuner's group count; d the direction
the optimizer steps along, d_k its part in group k; see ``hlr_step_ops`` in the header):

==============================  ============================================================
``slopes() -> K floats``        g_kᵀd_k per group (float64 accumulation)
``curvatures() -> K floats``    d_kᵀH d_k per group (one Hessian-vector product per group)
``set_trial(steps)``            weights ← w − Σ_k steps[k]·d_k (from w; steps[k] = 0 leaves
                                group k at w bit for bit); ``steps`` is a list of K floats
``loss() -> float``             the loss at the weights as they are (w or the trial)
``restore()``                   weights ← w bit for bit
``all_reduce(values)``          optional: ``values`` (a list of floats) summed over the
                                caller's processes, returned as a sequence of the same length;
                                ``None`` or absent for one process
==============================  ============================================================

The library runs the loop, assembles every observation, averages it over the processes when
``all_reduce`` is given, and applies one failure policy (a NaN/Inf trial loss is a failed
observation; a NaN/Inf slope, curvature or loss at w is :class:`~hessianlr.NonFiniteError`);
methods a step does not need are never called. It calls ``restore`` after the trial losses of
each observation and on every exit path after a ``set_trial``.

Callback failures never unwind through C: each trampoline catches everything, records the first
exception and returns 1; the library aborts the step with nothing changed and
:func:`run_step` raises :class:`~hessianlr.CallbackError` chained (``from``) to the exception
(``KeyboardInterrupt`` and other non-``Exception`` BaseExceptions are re-raised as they are).
"""

from __future__ import annotations

import math
from ctypes import byref, c_size_t, sizeof
from typing import NamedTuple

from . import _lib
from ._callbacks import write_doubles
from .errors import check_callbacks

__all__ = ["StepResult", "run_step"]


class StepResult(NamedTuple):
    """What one ``hlr_tuner_step`` did: observations fed (``rounds``) and those reported as
    failed because a trial loss was NaN or ±Inf (``failures``)."""

    rounds: int
    failures: int


class _StepCall:
    """The callback table of one ``hlr_tuner_step`` call and the first exception it saw.

    Its trampolines refer back to it (a reference cycle through ``_callbacks``): :meth:`release`
    breaks the cycle after the call, so the backend and the tensors it holds (trial weights,
    saved parameters, directions) are freed at once by reference counting instead of waiting
    for Python's cyclic collector (which held 3–23 MiB on a 265k-parameter MLP until it ran)."""

    def __init__(self, backend, groups: int):
        self.backend = backend
        self.groups = groups
        self.failure: BaseException | None = None
        self.failed_callback: str | None = None
        self.table = self._build()

    def _guard(self, name, body):
        def trampoline(_ctx, *args):
            try:
                body(*args)
                return 0
            except BaseException as error:  # noqa: BLE001 - must never unwind through C
                if self.failure is None:
                    self.failure, self.failed_callback = error, name
                return 1
        return trampoline

    def _values(self, name, produce):
        def body(out, count):
            write_doubles(out, count, produce(), f"{name}()", " (one per group)")
        return self._guard(name, body)

    def _build(self) -> _lib.StepOps:
        S, backend = _lib.StepOps, self.backend

        def set_trial(steps, count):
            backend.set_trial([steps[k] for k in range(count)])

        def loss(out):
            out[0] = float(backend.loss())

        def all_reduce(values, count):
            write_doubles(values, count, reduce([values[i] for i in range(count)]), "all_reduce")

        reduce = getattr(backend, "all_reduce", None)
        self._callbacks = [
            S.GROUP_VALUES(self._values("slopes", backend.slopes)) if hasattr(backend, "slopes") else S.GROUP_VALUES(),
            S.GROUP_VALUES(self._values("curvatures", backend.curvatures))
            if hasattr(backend, "curvatures") else S.GROUP_VALUES(),
            S.SET_TRIAL(self._guard("set_trial", set_trial)) if hasattr(backend, "set_trial") else S.SET_TRIAL(),
            S.LOSS(self._guard("loss", loss)) if hasattr(backend, "loss") else S.LOSS(),
            S.RESTORE(self._guard("restore", backend.restore)) if hasattr(backend, "restore") else S.RESTORE(),
            S.ALL_REDUCE(self._guard("all_reduce", all_reduce)) if callable(reduce) else S.ALL_REDUCE(),
        ]
        return S(sizeof(S), *self._callbacks)

    def release(self) -> tuple[BaseException | None, str | None]:
        """Drops the table, its callbacks and the backend (call it once the C call returned);
        returns the first failure and the callback that raised it."""
        self.table = self._callbacks = self.backend = None
        return self.failure, self.failed_callback


def run_step(handle, groups: int, step: int, backend, current_loss: float | None = None) -> StepResult:
    """Calls ``hlr_tuner_step`` on the tuner handle with ``backend``'s operations; raises on
    failure with nothing changed (see the module docstring)."""
    current = math.nan if current_loss is None else float(current_loss)
    call = _StepCall(backend, groups)
    rounds, failures = c_size_t(), c_size_t()
    try:
        code = _lib.lib.hlr_tuner_step(handle, step, byref(call.table), None, current, byref(rounds), byref(failures))
    finally:
        failure, failed_callback = call.release()
    check_callbacks(code, "hlr_tuner_step", failure, failed_callback)
    return StepResult(rounds.value, failures.value)
