"""Python callables as C callbacks (``hlr_hvp_f32/f64``, ``hlr_loss_f32/f64``).

A Python exception must never unwind through the library. Each trampoline catches everything,
records it and returns 1; the library then aborts the call with ``HLR_ERR_CALLBACK`` and changes
nothing, and :meth:`CallbackSession.check` raises :class:`CallbackError` chained (``from``) to
the recorded exception. ``KeyboardInterrupt``, ``SystemExit`` and other non-``Exception``
``BaseException``\\ s are re-raised as they are, after the library has unwound.

Memory handed to the callables (issue 11, item 9: keeping it must never crash the process):
every array a callable receives is memory whose lifetime Python controls, so a callable may keep
it (or a view of it) and read it at any later time.

- An input (``v`` of ``hvp``, ``w`` of ``loss``) that is one of the caller's own buffers (the
  gradient, update or weights passed to the call) is a read-only view of that numpy array: no
  copy, and the view keeps the caller's array alive.
- Any other input lives in library memory that is freed or reused after the call. It is copied
  into a Python-owned buffer (read-only for the callable) before the call.
- ``out`` of ``hvp`` is a Python-owned buffer, zeroed before the call and copied into the
  library's buffer after it returns.

The buffers belong to one session (one C call) and are reused from one callback to the next, so
a call allocates each of them once. A callable that kept a buffer (any reference to it or to a
view of it remains after it returns, ``sys.getrefcount``) keeps it with the values it had, and
the next callback gets a new one: a kept array is never overwritten behind the caller's back.

Cost: one copy of n elements per library-owned input and one zero-fill plus one copy per ``out``,
that is 3·n element moves per HVP and n per loss evaluation on library memory (memory bandwidth:
about 10 ms for n = 4·10⁶ float64), against an HVP or a forward pass that reads far more than n
elements. The caller's own buffers are never copied. The alternatives were worse: a numpy view of
library memory cannot be invalidated once handed out (numpy has no such operation), and keeping
library memory alive for Python would need a change of the C ABI's ownership rules.
``hlr_estimator_run_ops`` (:mod:`hessianlr._vector_ops`) hands its callbacks only the backend's
own vectors and copies scalars, so it needs none of this.
"""

from __future__ import annotations

import ctypes
import sys
from ctypes import POINTER, c_double, c_float

import numpy as np

from . import _lib
from .errors import check_callbacks

__all__ = ["CallbackSession", "write_doubles"]


def write_doubles(out, count: int, values, what: str, detail: str = "") -> None:
    """Writes the numbers ``values`` into the C array ``out`` of ``count`` doubles (what a Python
    callback hands back through a ``double *``); ValueError naming ``what`` when the count differs."""
    values = [float(v) for v in values]
    if len(values) != count:
        raise ValueError(f"{what} returned {len(values)} values, expected {count}{detail}")
    for i, value in enumerate(values):
        out[i] = value

_TYPES = {
    np.dtype(np.float32): (c_float, _lib.HVP_F32, _lib.LOSS_F32),
    np.dtype(np.float64): (c_double, _lib.HVP_F64, _lib.LOSS_F64),
}


class CallbackSession:
    """The callbacks of one C call, their Python-owned buffers and the first exception any of
    them raised. ``own``: the caller's buffers of the call (numpy arrays or None); an input
    pointer equal to one of them is handed over as a view of that array instead of a copy."""

    def __init__(self, dtype: np.dtype, own=()):
        self.dtype = np.dtype(dtype)
        self.ctype, self._hvp_type, self._loss_type = _TYPES[self.dtype]
        self.pointer_type = POINTER(self.ctype)
        self.failure: BaseException | None = None
        self.failed_callback: str | None = None
        self.calls = {"hvp": 0, "loss": 0}
        self._own = {array.ctypes.data: array for array in own if array is not None and array.size}
        self._buffers: dict[str, np.ndarray] = {}

    def _fail(self, which: str, error: BaseException) -> int:
        if self.failure is None:
            self.failure, self.failed_callback = error, which
        self._buffers.clear()  # the traceback may hold them: never reuse
        return 1

    # -- Python-owned memory ---------------------------------------------------------------------

    def _buffer(self, name: str, n: int) -> np.ndarray:
        array = self._buffers.get(name)
        if array is None or array.size != n:
            array = np.empty(n, dtype=self.dtype)
            self._buffers[name] = array
        return array

    def _own_view(self, pointer, n: int):
        """A read-only view of the caller's own array at ``pointer``, or None."""
        own = self._own.get(ctypes.cast(pointer, ctypes.c_void_p).value)
        if own is None or own.size != n:
            return None
        view = own.reshape(-1).view()
        view.flags.writeable = False
        return view

    def _copied(self, name: str, pointer, n: int) -> np.ndarray:
        """The session buffer ``name`` holding a copy of the n elements at ``pointer``."""
        buffer = self._buffer(name, n)
        np.copyto(buffer, np.ctypeslib.as_array(pointer, shape=(n,)))
        return buffer

    @staticmethod
    def _read_only(buffer: np.ndarray) -> np.ndarray:
        view = buffer.view()
        view.flags.writeable = False
        return view

    def _forget_if_kept(self, name: str, kept: bool) -> None:
        """After a callback: a buffer the callable kept (a reference to it or to a view of it
        outlives the call) stays the callable's; the next callback gets a new one."""
        if kept:
            self._buffers.pop(name, None)

    # -- the callbacks -----------------------------------------------------------------------------

    def hvp(self, function):
        """``hvp(v, out)`` → an ``hlr_hvp_*`` pointer (None → a NULL pointer). v is read-only, out is
        zeroed and writable; the callable writes H·v into out."""
        if function is None:
            return self._hvp_type()  # NULL function pointer
        if not callable(function):
            raise TypeError(f"hvp must be callable, got {type(function).__name__}")
        refs = sys.getrefcount

        def trampoline(_ctx, v_pointer, out_pointer, n):
            try:
                self.calls["hvp"] += 1
                v_buffer = None
                v = self._own_view(v_pointer, n)
                if v is None:
                    v_buffer = self._copied("v", v_pointer, n)
                    v_refs = refs(v_buffer)
                    v = self._read_only(v_buffer)
                out_buffer = self._buffer("out", n)
                out_buffer.fill(0)
                out_refs = refs(out_buffer)
                out = out_buffer.view()
                function(v, out)
                del v, out
                np.copyto(np.ctypeslib.as_array(out_pointer, shape=(n,)), out_buffer)
                if v_buffer is not None:
                    self._forget_if_kept("v", refs(v_buffer) > v_refs)
                self._forget_if_kept("out", refs(out_buffer) > out_refs)
                return 0
            except BaseException as error:  # noqa: BLE001 - must never unwind through C
                return self._fail("hvp", error)

        return self._hvp_type(trampoline)

    def loss(self, function):
        """``loss(w) -> float`` → an ``hlr_loss_*`` pointer (None → a NULL pointer). w is a
        read-only array of the trial weights."""
        if function is None:
            return self._loss_type()  # NULL function pointer
        if not callable(function):
            raise TypeError(f"loss must be callable, got {type(function).__name__}")
        refs = sys.getrefcount

        def trampoline(_ctx, w_pointer, n, out_pointer):
            try:
                self.calls["loss"] += 1
                w_buffer = None
                w = self._own_view(w_pointer, n)
                if w is None:
                    w_buffer = self._copied("w", w_pointer, n)
                    w_refs = refs(w_buffer)
                    w = self._read_only(w_buffer)
                value = float(function(w))
                del w
                if w_buffer is not None:
                    self._forget_if_kept("w", refs(w_buffer) > w_refs)
                out_pointer[0] = value
                return 0
            except BaseException as error:  # noqa: BLE001 - must never unwind through C
                return self._fail("loss", error)

        return self._loss_type(trampoline)

    def function_name(self, base: str) -> str:
        """The C function of ``base`` for this session's dtype: ``base + "_f32"`` or ``"_f64"``."""
        return base + ("_f32" if self.dtype == np.float32 else "_f64")

    def data(self, array):
        """``array``'s buffer as a pointer of this session's type; None for None (an optional
        buffer the C call takes as NULL)."""
        return None if array is None else array.ctypes.data_as(self.pointer_type)

    def check(self, code: int, function_name: str) -> None:
        """Raises for a failed call: a recorded exception first (chained), else the status."""
        check_callbacks(code, function_name, self.failure, self.failed_callback)
