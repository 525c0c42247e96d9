"""``hlr_estimator_run_ops`` from Python: the caller's vectors behind ``uint64`` handles.

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
import time
from ctypes import POINTER, byref, c_double, c_float, c_size_t

import numpy as np

from . import _lib
from ._callbacks import write_doubles
from .errors import InvalidArgumentError, check, check_callbacks

__all__ = ["OpsRun", "NumpyVectors", "host_probe"]

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
