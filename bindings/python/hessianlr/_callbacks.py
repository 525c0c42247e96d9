"""Python callables as C callbacks (``hlr_hvp_f32/f64``, ``hlr_loss_f32/f64``).

A Python exception must never unwind through the library. Each trampoline catches everything,
records it and returns 1; the library then aborts the call with ``HLR_ERR_CALLBACK`` and changes
nothing, and :meth:`CallbackSession.check` raises :class:`CallbackError` chained (``from``) to
the recorded exception. ``KeyboardInterrupt``, ``SystemExit`` and other non-``Exception``
``BaseException``\\ s are re-raised as they are, after the library has unwound.

The numpy views handed to the callables alias library-owned (or the caller's) memory and are
valid only during the call; inputs are read-only.
"""

from __future__ import annotations

from ctypes import POINTER, c_double, c_float

import numpy as np

from . import _lib
from .errors import CallbackError, check

__all__ = ["CallbackSession"]

_TYPES = {
    np.dtype(np.float32): (c_float, _lib.HVP_F32, _lib.LOSS_F32),
    np.dtype(np.float64): (c_double, _lib.HVP_F64, _lib.LOSS_F64),
}


class CallbackSession:
    """The callbacks of one C call and the first exception any of them raised."""

    def __init__(self, dtype: np.dtype):
        self.ctype, self._hvp_type, self._loss_type = _TYPES[np.dtype(dtype)]
        self.pointer_type = POINTER(self.ctype)
        self.failure: BaseException | None = None
        self.failed_callback: str | None = None
        self.calls = {"hvp": 0, "loss": 0}

    def _fail(self, which: str, error: BaseException) -> int:
        if self.failure is None:
            self.failure, self.failed_callback = error, which
        return 1

    def hvp(self, function):
        """``hvp(v, out)`` → an ``hlr_hvp_*`` pointer (None → a NULL pointer). v is read-only, out is
        zeroed and writable; the callable writes H·v into out."""
        if function is None:
            return self._hvp_type()  # NULL function pointer
        if not callable(function):
            raise TypeError(f"hvp must be callable, got {type(function).__name__}")

        def trampoline(_ctx, v_pointer, out_pointer, n):
            try:
                self.calls["hvp"] += 1
                v = np.ctypeslib.as_array(v_pointer, shape=(n,))
                v.flags.writeable = False
                out = np.ctypeslib.as_array(out_pointer, shape=(n,))
                function(v, out)
                return 0
            except BaseException as error:  # noqa: BLE001 - must never unwind through C
                return self._fail("hvp", error)

        return self._hvp_type(trampoline)

    def loss(self, function):
        """``loss(w) -> float`` → an ``hlr_loss_*`` pointer (None → a NULL pointer). w is a read-only view
        of the trial weights."""
        if function is None:
            return self._loss_type()  # NULL function pointer
        if not callable(function):
            raise TypeError(f"loss must be callable, got {type(function).__name__}")

        def trampoline(_ctx, w_pointer, n, out_pointer):
            try:
                self.calls["loss"] += 1
                w = np.ctypeslib.as_array(w_pointer, shape=(n,))
                w.flags.writeable = False
                value = float(function(w))
                out_pointer[0] = value
                return 0
            except BaseException as error:  # noqa: BLE001 - must never unwind through C
                return self._fail("loss", error)

        return self._loss_type(trampoline)

    def check(self, code: int, function_name: str) -> None:
        """Raises for a failed call: a recorded exception first (chained), else the status."""
        error = self.failure
        if error is None:
            check(code)
            return
        if not isinstance(error, Exception):
            raise error
        try:
            check(code)
        except CallbackError as wrapped:
            raise wrapped from error
        # The library reported something else (or nothing): still surface the exception.
        raise CallbackError(f"{function_name}: the {self.failed_callback} callback raised {error!r}", code) from error
