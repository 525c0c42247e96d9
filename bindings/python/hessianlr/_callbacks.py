"""The library's callbacks from Python: the three kinds of C call that call back.

1. Host mode (``hlr_tuner_observe_host*``, ``hlr_estimator_run_host``): an HVP or a loss on
   host buffers, ``hlr_hvp_f32/f64`` and ``hlr_loss_f32/f64`` (:class:`CallbackSession`).
2. The tuner's step driver, ``hlr_tuner_step``: the ``hlr_step_ops`` table over the caller's
   tensors (:func:`run_step`).
3. The estimators over the caller's vectors, ``hlr_estimator_run_ops``: the ``hlr_vector_ops``
   table on ``uint64`` handles (:class:`OpsRun`, :class:`NumpyVectors`).

1. Host callbacks
-----------------

Python callables as C callbacks (``hlr_hvp_f32/f64``, ``hlr_loss_f32/f64``).

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
``hlr_estimator_run_ops`` (section 3) hands its callbacks only the backend's
own vectors and copies scalars, so it needs none of this.

2. The step ops table
---------------------

``hlr_tuner_step`` from Python: the library's step driver over the caller's tensors.

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

3. The vector ops table
-----------------------

``hlr_estimator_run_ops`` from Python: the caller's vectors behind ``uint64`` handles.

A *vector backend* is any object with the attribute ``n`` (the vector length) and the methods

==========================================  ==================================================
``zeros() -> vector``                       a new vector of n zeros
``copy(src, dst)``                          dst ← src
``dot(x, y) -> float``                      xᵀy accumulated in float64
``axpy(a, x, y)``                           y ← y + a·x
``scale(a, x)``                             x ← a·x
``fill_probe(v, seed, stream, index, d)``   v ← the library's probe (``hlr_probe_fill_*``)
``hvp(v, out)``                             out ← H·v (overwrite; v unchanged)
``mul_acc(a, x, y, acc)`` (optional)        acc ← acc + a·(x ⊙ y); needed by :class:`Diagonal`
``block_dots(x, y, offsets)`` (optional)    [Σ_{i∈b} xᵢyᵢ per block], float64; needed with blocks
``all_reduce(values)`` (optional)           the values summed over the processes of sharded vectors
``hvp_block(vs, outs)`` (optional)          outs[j] ← H·vs[j] for every j, in one call (a batched
                                            HVP); used with the estimator's ``hvp_block`` > 1
``multi_dot(xs, y) -> floats`` (optional)   [xᵀy for x in xs], float64, in one call (one device sync)
``multi_axpy(a, xs, y)`` (optional)         y ← y + a[j]·xs[j] for j in order (y may be in xs)
``release(v)`` (optional)                   called when the library releases v
==========================================  ==================================================

Vectors are whatever the backend uses (numpy arrays, torch tensors on a GPU, ...): the library
only sees the handles this module assigns (1, 2, 3, … per run) and the scalars the callbacks
return. :class:`OpsRun` owns the handle table of one run: a handle lives from ``alloc`` to
``release``; the vectors a successful run returns (eigenvectors, the diagonal) are taken out of
the table and handed to the caller. ``OpsRun.live`` is the number of vectors still held (0 after
every run, successful or not: the library releases every other vector on every exit path).

Callback failures never unwind through C: each trampoline catches everything, records the first
exception and returns 1; the library aborts with ``HLR_ERR_CALLBACK`` and :meth:`OpsRun.check`
raises :class:`~hessianlr.CallbackError` chained (``from``) to the exception
(``KeyboardInterrupt`` and other non-``Exception`` BaseExceptions are re-raised as they are).

:class:`NumpyVectors` is the reference backend (host numpy vectors around an ``hvp(v, out)``
callable); it computes what a host run computes, up to the order of the float64 reductions.
"""

from __future__ import annotations

import ctypes
import math
import sys
import time
from ctypes import POINTER, byref, c_double, c_float, c_size_t, sizeof
from typing import Callable, NamedTuple

import numpy as np

from . import _lib
from ._lib import check, check_callbacks
from .errors import InvalidArgumentError

__all__ = ["CallbackSession", "write_doubles", "StepResult", "run_step", "OpsRun", "NumpyVectors", "host_probe"]


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

    def _input(self, name: str, pointer, n: int) -> tuple[np.ndarray, np.ndarray | None, int]:
        """The read-only array a callable gets for the library's input at ``pointer``: a view of
        the caller's own array (no copy), else of the session buffer ``name`` holding a copy.
        Returns (array, that buffer or None, the buffer's reference count before the call, for
        :meth:`_forget_if_kept`)."""
        array = self._own_view(pointer, n)
        if array is not None:
            return array, None, 0
        buffer = self._copied(name, pointer, n)
        count = sys.getrefcount(buffer)  # this frame's name, the session's dict, the argument
        return self._read_only(buffer), buffer, count

    def _function_pointer(self, which: str, function, pointer_type, call: Callable[..., None]):
        """A ``pointer_type`` whose calls run ``call(*arguments)`` for the callable ``function``
        of callback ``which``: counted, and any exception becomes status 1 (the first one is
        kept, see :meth:`_fail`). None gives a NULL pointer; TypeError for anything else that is
        not callable."""
        if function is None:
            return pointer_type()  # NULL function pointer
        if not callable(function):
            raise TypeError(f"{which} must be callable, got {type(function).__name__}")

        def trampoline(*arguments) -> int:
            try:
                self.calls[which] += 1
                call(*arguments)
                return 0
            except BaseException as error:  # noqa: BLE001 - must never unwind through C
                return self._fail(which, error)

        return pointer_type(trampoline)

    def _forget_if_kept(self, name: str, kept: bool) -> None:
        """After a callback: a buffer the callable kept (a reference to it or to a view of it
        outlives the call) stays the callable's; the next callback gets a new one."""
        if kept:
            self._buffers.pop(name, None)

    # -- the callbacks -----------------------------------------------------------------------------

    def hvp(self, function):
        """``hvp(v, out)`` → an ``hlr_hvp_*`` pointer (None → a NULL pointer). v is read-only, out is
        zeroed and writable; the callable writes H·v into out."""
        refs = sys.getrefcount

        def call(_ctx, v_pointer, out_pointer, n) -> None:
            v, v_buffer, v_refs = self._input("v", v_pointer, n)
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

        return self._function_pointer("hvp", function, self._hvp_type, call)

    def loss(self, function):
        """``loss(w) -> float`` → an ``hlr_loss_*`` pointer (None → a NULL pointer). w is a
        read-only array of the trial weights."""
        refs = sys.getrefcount

        def call(_ctx, w_pointer, n, out_pointer) -> None:
            w, w_buffer, w_refs = self._input("w", w_pointer, n)
            value = float(function(w))
            del w
            if w_buffer is not None:
                self._forget_if_kept("w", refs(w_buffer) > w_refs)
            out_pointer[0] = value

        return self._function_pointer("loss", function, self._loss_type, call)

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


# -- 2. the step ops table ----------------------------------------------------------------------

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


# -- 3. the vector ops table --------------------------------------------------------------------

_REQUIRED = ("zeros", "copy", "dot", "axpy", "scale", "fill_probe", "hvp")


def host_probe(seed: int, stream: int, index: int, distribution: int, n: int, dtype=np.float64,
               first: int = 0) -> np.ndarray:
    """Elements ``first .. first + n`` of probe ``index`` of ``stream`` under ``seed`` (the
    ``fill_probe`` formula of the header), computed by ``hlr_probe_fill_f32/_f64``."""
    dtype = np.dtype(dtype)
    if dtype == np.float32:
        out = np.empty(n, dtype=np.float32)
        fill, pointer = _lib.lib.hlr_probe_fill_f32, POINTER(c_float)
    else:
        out = np.empty(n, dtype=np.float64)
        fill, pointer = _lib.lib.hlr_probe_fill_f64, POINTER(c_double)
    check(fill(seed, stream, index, int(distribution), first, out.ctypes.data_as(pointer), n))
    return out if dtype in (np.float32, np.float64) else out.astype(dtype)


class NumpyVectors:
    """A vector backend of numpy vectors: ``NumpyVectors(n, hvp, dtype=np.float64)`` with
    ``hvp(v, out)`` writing H·v into ``out`` (zeroed before the call, like host mode)."""

    def __init__(self, n: int, hvp, dtype=np.float64):
        self.n = int(n)
        self.dtype = np.dtype(dtype)
        self._hvp = hvp

    def zeros(self):
        return np.zeros(self.n, dtype=self.dtype)

    def copy(self, src, dst):
        dst[:] = src

    def dot(self, x, y):
        return float(np.dot(x.astype(np.float64, copy=False), y.astype(np.float64, copy=False)))

    def axpy(self, a, x, y):
        y += (a * x.astype(np.float64)).astype(self.dtype, copy=False) if self.dtype != np.float64 else a * x

    def scale(self, a, x):
        x *= a

    def fill_probe(self, v, seed, stream, index, distribution):
        v[:] = host_probe(seed, stream, index, distribution, self.n, self.dtype)

    def hvp(self, v, out):
        out[:] = 0
        self._hvp(v, out)

    def mul_acc(self, a, x, y, acc):
        acc += a * (x * y)

    def block_dots(self, x, y, offsets):
        products = x.astype(np.float64) * y.astype(np.float64)
        return [float(products[offsets[b]:offsets[b + 1]].sum()) for b in range(len(offsets) - 1)]


class OpsRun:
    """The callback table and handle registry of one ``hlr_estimator_run_ops`` call.

    Also times the callbacks: ``hvp_seconds`` (inside ``hvp``), ``vector_seconds`` (inside
    every other callback), so that the caller can split a run's wall time into HVPs, the
    backend's vector operations and the library itself.
    """

    def __init__(self, backend):
        missing = [name for name in _REQUIRED if not callable(getattr(backend, name, None))]
        if missing:
            raise TypeError(f"the vector backend {type(backend).__name__} lacks {', '.join(missing)}")
        n = getattr(backend, "n", None)
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(f"the vector backend needs an integer attribute n, got {n!r}")
        if n < 0:
            raise InvalidArgumentError(f"the vector backend's n must be >= 1, got {n}")
        self.backend = backend
        self.vectors: dict[int, object] = {}
        self._next = 0
        self.failure: BaseException | None = None
        self.failed_callback: str | None = None
        self.hvp_seconds = 0.0
        self.vector_seconds = 0.0
        self.hvp_calls = 0
        self.hvp_block_calls = 0
        self.table = self._build(n)

    @property
    def live(self) -> int:
        """Vectors allocated and not released."""
        return len(self.vectors)

    def _fail(self, name: str, error: BaseException) -> int:
        if self.failure is None:
            self.failure, self.failed_callback = error, name
        return 1

    def _build(self, n: int) -> _lib.VectorOps:
        V = _lib.VectorOps
        backend, vectors, clock = self.backend, self.vectors, time.perf_counter

        def timed(name, body):
            def trampoline(_ctx, *args):
                start = clock()
                try:
                    body(*args)
                    return 0
                except BaseException as error:  # noqa: BLE001 - must never unwind through C
                    return self._fail(name, error)
                finally:
                    self.vector_seconds += clock() - start
            return trampoline

        def alloc(out):
            vector = backend.zeros()
            self._next += 1
            vectors[self._next] = vector
            out[0] = self._next

        def release(_ctx, handle):
            start = clock()
            try:
                vector = vectors.pop(handle)
                hook = getattr(backend, "release", None)
                if hook is not None:
                    hook(vector)
            except BaseException as error:  # noqa: BLE001 - release cannot fail in C
                self._fail("release", error)
            finally:
                self.vector_seconds += clock() - start

        def dot(x, y, out):
            value = backend.dot(vectors[x], vectors[y])
            out[0] = float(value)

        def fill(v, seed, stream, index, distribution):
            backend.fill_probe(vectors[v], seed, stream, index, distribution)

        def hvp(_ctx, v, out):
            start = clock()
            try:
                self.hvp_calls += 1
                backend.hvp(vectors[v], vectors[out])
                return 0
            except BaseException as error:  # noqa: BLE001
                return self._fail("hvp", error)
            finally:
                self.hvp_seconds += clock() - start

        def hvp_block(_ctx, k, v, out):
            start = clock()
            try:
                self.hvp_calls += k
                self.hvp_block_calls += 1
                backend.hvp_block([vectors[v[j]] for j in range(k)], [vectors[out[j]] for j in range(k)])
                return 0
            except BaseException as error:  # noqa: BLE001
                return self._fail("hvp_block", error)
            finally:
                self.hvp_seconds += clock() - start

        def block_dots(x, y, offsets, n_offsets, out):
            bounds = [offsets[i] for i in range(n_offsets)]
            values = [float(value) for value in backend.block_dots(vectors[x], vectors[y], bounds)]
            if len(values) != n_offsets - 1:
                raise ValueError(f"block_dots returned {len(values)} values for {n_offsets - 1} blocks")
            for b, value in enumerate(values):
                out[b] = value

        mul_acc = getattr(backend, "mul_acc", None)
        blocks = getattr(backend, "block_dots", None)
        reduce = getattr(backend, "all_reduce", None)
        batched = getattr(backend, "hvp_block", None)
        multi_dots = getattr(backend, "multi_dot", None)
        multi_axpys = getattr(backend, "multi_axpy", None)

        def multi_dot(k, xs, y, out):
            write_doubles(out, k, multi_dots([vectors[xs[j]] for j in range(k)], vectors[y]), "multi_dot")

        def multi_axpy(k, a, xs, y):
            multi_axpys([a[j] for j in range(k)], [vectors[xs[j]] for j in range(k)], vectors[y])

        def all_reduce(values, count):
            write_doubles(values, count, reduce([values[i] for i in range(count)]), "all_reduce")

        # The ctypes function objects must outlive the run: they are kept in self._callbacks.
        self._callbacks = [
            V.ALLOC(timed("alloc", alloc)),
            V.RELEASE(release),
            V.COPY(timed("copy", lambda s, d: backend.copy(vectors[s], vectors[d]))),
            V.DOT(timed("dot", dot)),
            V.AXPY(timed("axpy", lambda a, x, y: backend.axpy(a, vectors[x], vectors[y]))),
            V.SCALE(timed("scale", lambda a, x: backend.scale(a, vectors[x]))),
            V.FILL_PROBE(timed("fill_probe", fill)),
            V.HVP(hvp),
            V.MUL_ACC(timed("mul_acc", lambda a, x, y, acc: mul_acc(a, vectors[x], vectors[y], vectors[acc])))
            if callable(mul_acc) else V.MUL_ACC(),
            V.BLOCK_DOTS(timed("block_dots", block_dots)) if callable(blocks) else V.BLOCK_DOTS(),
            V.ALL_REDUCE(timed("all_reduce", all_reduce)) if callable(reduce) else V.ALL_REDUCE(),
            V.HVP_BLOCK(hvp_block) if callable(batched) else V.HVP_BLOCK(),
            V.MULTI_DOT(timed("multi_dot", multi_dot)) if callable(multi_dots) else V.MULTI_DOT(),
            V.MULTI_AXPY(timed("multi_axpy", multi_axpy)) if callable(multi_axpys) else V.MULTI_AXPY(),
        ]
        return V(ctypes.sizeof(V), n, *self._callbacks)

    def run(self, handle) -> None:
        """Calls ``hlr_estimator_run_ops`` and raises on failure (see :meth:`check`). The table's
        callbacks refer back to this run and to the backend (a reference cycle): they are dropped
        after the call, so the backend (and the operator and graph it may hold) is freed by
        reference counting once the caller lets go of it, not when the cyclic collector runs.
        ``vectors`` stays: the caller takes the results from it."""
        try:
            code = _lib.lib.hlr_estimator_run_ops(handle, byref(self.table), None)
        finally:
            self.table = self._callbacks = self.backend = None
        self.check(code)

    def check(self, code: int) -> None:
        check_callbacks(code, "hlr_estimator_run_ops", self.failure, self.failed_callback)

    def take(self, handles) -> list:
        """Removes the result vectors ``handles`` from the table and returns them."""
        return [self.vectors.pop(int(h)) for h in handles]

    @staticmethod
    def result_handles(handle, key) -> list[int]:
        size = c_size_t()
        check(_lib.lib.hlr_estimator_result_size(handle, int(key), byref(size)))
        out = (ctypes.c_uint64 * max(size.value, 1))()
        check(_lib.lib.hlr_estimator_get_vectors(handle, int(key), out, size.value))
        return list(out[: size.value])
