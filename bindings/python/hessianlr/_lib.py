"""Loading of ``libhessianlr.so`` and the ctypes prototypes of every function of the C ABI.

Where the library is looked for, in this order:

1. ``$HESSIANLR_LIBRARY``, a full path to the shared library. When this variable is set it is
   the only place tried (an explicit choice never silently falls back to another copy).
2. ``libhessianlr.so`` next to this package's ``__init__.py`` (``make python-package`` copies
   the built library there).

Failure to load raises :class:`ImportError` listing every path tried and why each failed.

At load, ``hlr_version_number()`` is compared with the header this binding was written against
(``include/hessianlr.h`` 0.3.0, ``HLR_VERSION_NUMBER = 300``): same major version and a number
at least as large, else :class:`ImportError` naming both versions.

Every function of the header gets explicit ``argtypes`` and ``restype`` here (``PROTOTYPES``; a
test checks the set against the header), so a wrong argument type fails in Python
(``ctypes.ArgumentError``) instead of corrupting memory.
Note that ctypes silently wraps negative Python ints passed as ``c_size_t`` / ``c_uint64``; the
public classes check signs before calling.

A failed call's status becomes its exception here (:func:`check`, :func:`check_callbacks`: the
classes are :mod:`hessianlr.errors`'s, the message ``hlr_last_error()``'s).

The lifetime of a handle (:class:`OwnedHandle`)
-----------------------------------------------

The base of :class:`~hessianlr.Tuner`, :class:`~hessianlr.Schedule` and
:class:`~hessianlr.Estimator`.

A subclass names its ``hlr_*_free`` function in ``_free_function`` and keeps the handle in
``self._handle`` (None once freed); its constructor takes the handle with ``_create`` and
configures it within ``_closed_on_failure()``, so a refused option frees the handle. ``close()`` frees it and is idempotent; the object is a
context manager; ``__del__`` frees a handle that was never closed. Calls on a closed object pass
a NULL handle to the library, which answers InvalidHandleError.

Copies (``pickle``, ``copy.copy``, ``copy.deepcopy``, ``torch.save``, multiprocessing) never
share the handle: ``__reduce__`` rebuilds the object on a new, independent handle from what the
subclass's ``_rebuild()`` returns (a callable and its arguments: a snapshot for tuners and
schedules, the configuration for estimators), so the copy continues bit-identically and closing
one never frees the other. A raw handle value means nothing in another process, so it is never
pickled. A subclass without ``_rebuild`` refuses to be copied with a TypeError; a closed object
refuses with InvalidHandleError. Attributes other than the handle (``__dict__``) are copied as
Python copies them.

``revision`` counts the calls that may have changed the handle's state (the methods decorated
with :func:`mutating`): a caller that keeps something it read from the library (the torch
driver keeps a step's rates, see ``Tuner.plan``) knows it is still valid while the revision is
the one it read at.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
from ctypes import (
    CFUNCTYPE,
    POINTER,
    byref,
    c_char_p,
    c_double,
    c_float,
    c_int,
    c_size_t,
    c_uint,
    c_uint64,
    c_void_p,
)

from enum import IntEnum
from typing import Iterator, TypeVar

from .constants import Status
from .errors import CallbackError, InvalidHandleError, error_class

__all__ = [
    "HEADER_VERSION_MAJOR",
    "HEADER_VERSION_MINOR",
    "HEADER_VERSION_PATCH",
    "HEADER_VERSION_NUMBER",
    "HEADER_VERSION_STRING",
    "ENV_VAR",
    "LIBRARY_NAME",
    "HVP_F32",
    "HVP_F64",
    "LOSS_F32",
    "LOSS_F64",
    "VectorOps",
    "StepOps",
    "ParamDesc",
    "PROTOTYPES",
    "lib",
    "library_path",
    "candidate_paths",
    "check_version",
    "last_error",
    "strerror",
    "check",
    "check_callbacks",
    "OwnedHandle",
    "mutating",
]

#: Version of ``include/hessianlr.h`` this binding was written against.
HEADER_VERSION_MAJOR = 0
HEADER_VERSION_MINOR = 4
HEADER_VERSION_PATCH = 0
HEADER_VERSION_NUMBER = HEADER_VERSION_MAJOR * 10000 + HEADER_VERSION_MINOR * 100 + HEADER_VERSION_PATCH
HEADER_VERSION_STRING = f"{HEADER_VERSION_MAJOR}.{HEADER_VERSION_MINOR}.{HEADER_VERSION_PATCH}"

ENV_VAR = "HESSIANLR_LIBRARY"
LIBRARY_NAME = "libhessianlr.so"

#: ``typedef int (*hlr_hvp_f32)(void *ctx, const float *v, float *out, size_t n);``
HVP_F32 = CFUNCTYPE(c_int, c_void_p, POINTER(c_float), POINTER(c_float), c_size_t)
#: ``typedef int (*hlr_hvp_f64)(void *ctx, const double *v, double *out, size_t n);``
HVP_F64 = CFUNCTYPE(c_int, c_void_p, POINTER(c_double), POINTER(c_double), c_size_t)

#: ``typedef int (*hlr_loss_f32)(void *ctx, const float *w, size_t n, double *loss);``
LOSS_F32 = CFUNCTYPE(c_int, c_void_p, POINTER(c_float), c_size_t, POINTER(c_double))
#: ``typedef int (*hlr_loss_f64)(void *ctx, const double *w, size_t n, double *loss);``
LOSS_F64 = CFUNCTYPE(c_int, c_void_p, POINTER(c_double), c_size_t, POINTER(c_double))



class VectorOps(ctypes.Structure):
    """``hlr_vector_ops``: the caller's vector operations for ``hlr_estimator_run_ops``.

    Every field is a size_t or a function pointer (field i at byte offset i·sizeof(void *)); set
    ``struct_size = ctypes.sizeof(VectorOps)``. The field types below are the callback
    prototypes (``VectorOps.ALLOC`` ...); keep the Python callables alive during the run.
    """

    ALLOC = CFUNCTYPE(c_int, c_void_p, POINTER(c_uint64))
    RELEASE = CFUNCTYPE(None, c_void_p, c_uint64)
    COPY = CFUNCTYPE(c_int, c_void_p, c_uint64, c_uint64)
    DOT = CFUNCTYPE(c_int, c_void_p, c_uint64, c_uint64, POINTER(c_double))
    AXPY = CFUNCTYPE(c_int, c_void_p, c_double, c_uint64, c_uint64)
    SCALE = CFUNCTYPE(c_int, c_void_p, c_double, c_uint64)
    FILL_PROBE = CFUNCTYPE(c_int, c_void_p, c_uint64, c_uint64, c_uint64, c_uint64, c_int)
    HVP = CFUNCTYPE(c_int, c_void_p, c_uint64, c_uint64)
    MUL_ACC = CFUNCTYPE(c_int, c_void_p, c_double, c_uint64, c_uint64, c_uint64)
    BLOCK_DOTS = CFUNCTYPE(c_int, c_void_p, c_uint64, c_uint64, POINTER(c_size_t), c_size_t, POINTER(c_double))
    ALL_REDUCE = CFUNCTYPE(c_int, c_void_p, POINTER(c_double), c_size_t)
    HVP_BLOCK = CFUNCTYPE(c_int, c_void_p, c_size_t, POINTER(c_uint64), POINTER(c_uint64))
    MULTI_DOT = CFUNCTYPE(c_int, c_void_p, c_size_t, POINTER(c_uint64), c_uint64, POINTER(c_double))
    MULTI_AXPY = CFUNCTYPE(c_int, c_void_p, c_size_t, POINTER(c_double), POINTER(c_uint64), c_uint64)

    _fields_ = [
        ("struct_size", c_size_t),
        ("n", c_size_t),
        ("alloc", ALLOC),
        ("release", RELEASE),
        ("copy", COPY),
        ("dot", DOT),
        ("axpy", AXPY),
        ("scale", SCALE),
        ("fill_probe", FILL_PROBE),
        ("hvp", HVP),
        ("mul_acc", MUL_ACC),
        ("block_dots", BLOCK_DOTS),
        ("all_reduce", ALL_REDUCE),
        ("hvp_block", HVP_BLOCK),
        ("multi_dot", MULTI_DOT),
        ("multi_axpy", MULTI_AXPY),
    ]


class StepOps(ctypes.Structure):
    """``hlr_step_ops``: the caller's side of one optimizer step for ``hlr_tuner_step``. Set
    ``struct_size = ctypes.sizeof(StepOps)``; keep the Python callables alive during the call."""

    GROUP_VALUES = CFUNCTYPE(c_int, c_void_p, POINTER(c_double), c_size_t)
    SET_TRIAL = CFUNCTYPE(c_int, c_void_p, POINTER(c_double), c_size_t)
    LOSS = CFUNCTYPE(c_int, c_void_p, POINTER(c_double))
    RESTORE = CFUNCTYPE(c_int, c_void_p)
    ALL_REDUCE = CFUNCTYPE(c_int, c_void_p, POINTER(c_double), c_size_t)

    _fields_ = [
        ("struct_size", c_size_t),
        ("slopes", GROUP_VALUES),
        ("curvatures", GROUP_VALUES),
        ("set_trial", SET_TRIAL),
        ("loss", LOSS),
        ("restore", RESTORE),
        ("all_reduce", ALL_REDUCE),
    ]


class ParamDesc(ctypes.Structure):
    """``hlr_param_desc``: one parameter as ``hlr_param_info`` describes it. Set
    ``struct_size = ctypes.sizeof(ParamDesc)`` before the call."""

    _fields_ = [
        ("struct_size", c_size_t),
        ("key", c_int),
        ("flags", c_uint),
        ("min", c_double),
        ("max", c_double),
        ("default_value", c_double),
        ("name", ctypes.c_char * 48),
    ]


# Opaque ``hlr_tuner *`` / ``hlr_schedule *`` / ``hlr_estimator *``: plain void pointers (None is NULL).
_handle = c_void_p
_schedule = c_void_p
_estimator = c_void_p
_P = POINTER

#: name -> (restype, argtypes), one entry per function of include/hessianlr.h, in header order.
PROTOTYPES = {
    "hlr_version_number": (c_uint, []),
    "hlr_version_string": (c_char_p, []),
    "hlr_strerror": (c_char_p, [c_int]),
    "hlr_last_error": (c_char_p, []),
    "hlr_param_bounds": (c_int, [c_int, c_int, _P(c_double), _P(c_double), _P(c_double)]),
    "hlr_param_count": (c_int, [c_int, c_int, _P(c_size_t)]),
    "hlr_param_info": (c_int, [c_int, c_int, c_size_t, _P(ParamDesc)]),
    "hlr_tuner_create": (c_int, [c_int, c_size_t, _P(_handle)]),
    "hlr_tuner_free": (c_int, [_handle]),
    "hlr_tuner_reset": (c_int, [_handle, c_int]),
    "hlr_tuner_method": (c_int, [_handle, _P(c_int)]),
    "hlr_tuner_group_count": (c_int, [_handle, _P(c_size_t)]),
    "hlr_tuner_set_param": (c_int, [_handle, c_int, c_double]),
    "hlr_tuner_set_params": (c_int, [_handle, _P(c_int), _P(c_double), c_size_t]),
    "hlr_tuner_get_param": (c_int, [_handle, c_int, _P(c_double)]),
    "hlr_tuner_set_group_param": (c_int, [_handle, c_size_t, c_int, c_double]),
    "hlr_tuner_get_group_param": (c_int, [_handle, c_size_t, c_int, _P(c_double)]),
    "hlr_tuner_get_info": (c_int, [_handle, c_int, c_size_t, _P(c_double)]),
    "hlr_tuner_wants_curvature": (c_int, [_handle, c_uint64, _P(c_int)]),
    "hlr_tuner_observe_curvature": (c_int, [_handle, c_uint64, _P(c_double), c_size_t]),
    "hlr_tuner_need": (c_int, [_handle, c_uint64, _P(c_int), _P(c_size_t)]),
    "hlr_tuner_get_probes": (c_int, [_handle, c_uint64, _P(c_double), c_size_t]),
    "hlr_tuner_observe": (c_int, [_handle, c_uint64, c_int, _P(c_double), c_size_t]),
    "hlr_tuner_observe_failure": (c_int, [_handle, c_uint64]),
    "hlr_tuner_get_lr": (c_int, [_handle, c_uint64, c_size_t, _P(c_double)]),
    "hlr_tuner_get_lrs": (c_int, [_handle, c_uint64, _P(c_double), c_size_t]),
    "hlr_tuner_plan": (c_int, [_handle, c_uint64, _P(c_int), _P(c_size_t), _P(c_double), c_size_t, _P(c_uint64)]),
    "hlr_tuner_observe_host_f32": (
        c_int,
        [_handle, c_uint64, _P(c_float), _P(c_float), c_size_t, _P(c_size_t), c_size_t, HVP_F32, c_void_p],
    ),
    "hlr_tuner_observe_host_f64": (
        c_int,
        [_handle, c_uint64, _P(c_double), _P(c_double), c_size_t, _P(c_size_t), c_size_t, HVP_F64, c_void_p],
    ),
    "hlr_tuner_step_host_f32": (
        c_int,
        [_handle, c_uint64, _P(c_float), _P(c_float), _P(c_float), c_size_t, _P(c_size_t), c_size_t,
         c_double, HVP_F32, LOSS_F32, c_void_p, _P(c_size_t)],
    ),
    "hlr_tuner_step": (c_int, [_handle, c_uint64, _P(StepOps), c_void_p, c_double, _P(c_size_t), _P(c_size_t)]),
    "hlr_tuner_step_host_f64": (
        c_int,
        [_handle, c_uint64, _P(c_double), _P(c_double), _P(c_double), c_size_t, _P(c_size_t), c_size_t,
         c_double, HVP_F64, LOSS_F64, c_void_p, _P(c_size_t)],
    ),
    "hlr_schedule_create": (c_int, [c_int, _P(_schedule)]),
    "hlr_schedule_free": (c_int, [_schedule]),
    "hlr_schedule_kind": (c_int, [_schedule, _P(c_int)]),
    "hlr_schedule_param_bounds": (c_int, [c_int, c_int, _P(c_double), _P(c_double), _P(c_double)]),
    "hlr_schedule_set_param": (c_int, [_schedule, c_int, c_double]),
    "hlr_schedule_set_params": (c_int, [_schedule, _P(c_int), _P(c_double), c_size_t]),
    "hlr_schedule_get_param": (c_int, [_schedule, c_int, _P(c_double)]),
    "hlr_schedule_set_milestones": (c_int, [_schedule, _P(c_uint64), c_size_t]),
    "hlr_schedule_join": (c_int, [_P(_schedule), c_size_t, _P(c_uint64), c_size_t, _P(_schedule)]),
    "hlr_schedule_warmup": (c_int, [_schedule, c_uint64, c_double, _P(_schedule)]),
    "hlr_schedule_value": (c_int, [_schedule, c_uint64, _P(c_double)]),
    "hlr_schedule_values": (c_int, [_schedule, c_uint64, _P(c_double), c_size_t]),
    "hlr_schedule_nominal": (c_int, [_schedule, _P(c_double)]),
    "hlr_schedule_factor": (c_int, [_schedule, c_uint64, _P(c_double)]),
    "hlr_schedule_rescale": (c_int, [_schedule, c_double, _P(_schedule)]),
    "hlr_schedule_snapshot_size": (c_int, [_schedule, _P(c_size_t)]),
    "hlr_schedule_save": (c_int, [_schedule, c_void_p, c_size_t, _P(c_size_t)]),
    "hlr_schedule_load": (c_int, [c_void_p, c_size_t, _P(_schedule)]),
    "hlr_tuner_set_schedule": (c_int, [_handle, _schedule]),
    "hlr_tuner_get_schedule": (c_int, [_handle, _P(_schedule)]),
    "hlr_tuner_snapshot_size": (c_int, [_handle, _P(c_size_t)]),
    "hlr_tuner_save": (c_int, [_handle, c_void_p, c_size_t, _P(c_size_t)]),
    "hlr_tuner_restore": (c_int, [_handle, c_void_p, c_size_t]),
    # Curvature estimators.
    "hlr_estimator_create": (c_int, [c_int, _P(_estimator)]),
    "hlr_estimator_free": (c_int, [_estimator]),
    "hlr_estimator_kind": (c_int, [_estimator, _P(c_int)]),
    "hlr_estimator_param_bounds": (c_int, [c_int, c_int, _P(c_double), _P(c_double), _P(c_double)]),
    "hlr_estimator_set_param": (c_int, [_estimator, c_int, c_double]),
    "hlr_estimator_get_param": (c_int, [_estimator, c_int, _P(c_double)]),
    "hlr_estimator_set_seed": (c_int, [_estimator, c_uint64]),
    "hlr_estimator_get_seed": (c_int, [_estimator, _P(c_uint64)]),
    "hlr_estimator_set_blocks": (c_int, [_estimator, _P(c_size_t), c_size_t]),
    "hlr_estimator_run_host_f32": (c_int, [_estimator, c_size_t, HVP_F32, c_void_p]),
    "hlr_estimator_run_host_f64": (c_int, [_estimator, c_size_t, HVP_F64, c_void_p]),
    "hlr_estimator_run_ops": (c_int, [_estimator, _P(VectorOps), c_void_p]),
    "hlr_estimator_result_size": (c_int, [_estimator, c_int, _P(c_size_t)]),
    "hlr_estimator_get_result": (c_int, [_estimator, c_int, _P(c_double), c_size_t]),
    "hlr_estimator_get_vectors": (c_int, [_estimator, c_int, _P(c_uint64), c_size_t]),
    "hlr_probe_fill_f32": (c_int, [c_uint64, c_uint64, c_uint64, c_int, c_uint64, _P(c_float), c_size_t]),
    "hlr_probe_fill_f64": (c_int, [c_uint64, c_uint64, c_uint64, c_int, c_uint64, _P(c_double), c_size_t]),
    "hlr_density_smooth": (c_int, [_P(c_double), _P(c_double), c_size_t, _P(c_double), c_size_t, c_double,
                                   _P(c_double)]),
    "hlr_edge_of_stability": (c_int, [c_double, c_double, _P(c_double)]),
    "hlr_sgd_trace_stability": (c_int, [c_double, c_double, _P(c_double)]),
    "hlr_scaled_lr": (c_int, [c_double, c_double, c_double, c_int, _P(c_double)]),
}


def _format_version(number: int) -> str:
    return f"{number // 10000}.{number // 100 % 100}.{number % 100}"


def check_version(number: int, string: str | None = None) -> None:
    """Raises ImportError unless a library reporting ``number`` (``HLR_VERSION_NUMBER``) can serve
    this binding: same major version and ``number >= HEADER_VERSION_NUMBER``."""
    loaded = string if string is not None else _format_version(number)
    if number // 10000 != HEADER_VERSION_MAJOR or number < HEADER_VERSION_NUMBER:
        raise ImportError(
            f"libhessianlr version mismatch: the loaded library is {loaded} "
            f"(hlr_version_number() = {number}), this binding needs {HEADER_VERSION_STRING} "
            f"(number {HEADER_VERSION_NUMBER}) or a later {HEADER_VERSION_MAJOR}.x"
        )


def candidate_paths() -> list[str]:
    """The paths tried, in order (see the module docstring)."""
    explicit = os.environ.get(ENV_VAR)
    if explicit:
        return [explicit]
    return [os.path.join(os.path.dirname(os.path.abspath(__file__)), LIBRARY_NAME)]


def _declare(library: ctypes.CDLL) -> None:
    for name, (restype, argtypes) in PROTOTYPES.items():
        function = getattr(library, name)
        function.restype = restype
        function.argtypes = argtypes


def _load() -> tuple[ctypes.CDLL, str]:
    failures = []
    for path in candidate_paths():
        if not os.path.exists(path):
            failures.append(f"{path}: no such file")
            continue
        try:
            library = ctypes.CDLL(path)
        except OSError as error:
            failures.append(f"{path}: {error}")
            continue
        try:
            _declare(library)
        except AttributeError as error:
            failures.append(f"{path}: not libhessianlr ({error})")
            continue
        number = int(library.hlr_version_number())
        string = library.hlr_version_string().decode("ascii", "replace")
        check_version(number, string)
        return library, path
    source = f"${ENV_VAR}" if os.environ.get(ENV_VAR) else f"the package directory (or set ${ENV_VAR})"
    raise ImportError(
        f"cannot load {LIBRARY_NAME} from {source}; tried:\n  " + "\n  ".join(failures)
        + "\nBuild it with `make python-package`, or point $" + ENV_VAR + " at the full path of the library."
    )


lib, library_path = _load()


def last_error() -> str:
    """``hlr_last_error()``: the message of the last failed call on this thread."""
    return lib.hlr_last_error().decode("utf-8", "replace")


def strerror(code: int) -> str:
    """``hlr_strerror(code)``: the static description of a status code."""
    return lib.hlr_strerror(int(code)).decode("utf-8", "replace")


def check(code: int) -> None:
    """Returns for ``HLR_OK``; otherwise raises the code's exception with ``hlr_last_error()``.

    Call it right after the failing C call, on the same thread: the message is thread-local and
    replaced by the next failure.
    """
    if code == Status.OK:
        return
    message = last_error() or strerror(code)
    raise error_class(code)(message, code)


def check_callbacks(code: int, function_name: str, failure: BaseException | None, callback: str | None) -> None:
    """Raises for a C call that ran Python callbacks: the first exception a callback recorded
    (``failure``, raised by callback ``callback``) chained to the :class:`CallbackError` of the
    status, or as it is when it is not an ``Exception`` (KeyboardInterrupt ...); else the status
    itself. A recorded exception is raised even when the library reported another status or
    none (a callback that cannot fail in C)."""
    if failure is None:
        check(code)
        return
    if not isinstance(failure, Exception):
        raise failure
    try:
        check(code)
    except CallbackError as wrapped:
        raise wrapped from failure
    raise CallbackError(f"{function_name}: the {callback} callback raised {failure!r}", code) from failure


def mutating(method):
    """Marks a method that may change the handle's state: it advances ``revision`` before the
    call (also when the call fails, which changes nothing: a conservative count)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        self._revision += 1
        return method(self, *args, **kwargs)

    return wrapper


E = TypeVar("E", bound=IntEnum)


class OwnedHandle:
    #: Name of the library function that frees this kind of handle, e.g. "hlr_tuner_free".
    _free_function: str = ""
    _handle = None
    _revision = 0

    @property
    def revision(self) -> int:
        """Advances at every call that may have changed the handle's state (see the module)."""
        return self._revision

    def _create(self, create, *args) -> None:
        """Takes the handle that ``create(*args, &handle)`` (the class's ``hlr_*_create``) makes."""
        handle = c_void_p()
        check(create(*args, byref(handle)))
        self._handle = handle.value

    @contextlib.contextmanager
    def _closed_on_failure(self) -> Iterator[None]:
        """Configuring a handle just created: a failure frees it, then propagates."""
        try:
            yield
        except BaseException:
            self.close()
            raise

    def _read_enum(self, getter, enum: type[E]) -> E | int:
        """``getter(handle, &value)`` as a member of ``enum``; the plain int for a value newer than
        this binding."""
        value = c_int()
        check(getter(self._handle, byref(value)))
        try:
            return enum(value.value)
        except ValueError:
            return value.value

    def close(self) -> None:
        """Frees the handle (the class's ``hlr_*_free``); later calls raise InvalidHandleError."""
        handle, self._handle = self._handle, None
        self._revision += 1  # nothing read before stays valid
        if handle is not None:
            check(getattr(lib, self._free_function)(handle))

    @property
    def closed(self) -> bool:
        return self._handle is None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _rebuild(self):
        """(callable, args) building an independent equal object on a new handle; subclasses
        that can be copied override this."""
        raise TypeError(f"{type(self).__name__} objects cannot be pickled or copied")

    def __reduce__(self):
        if self._handle is None:
            raise InvalidHandleError(f"cannot pickle or copy a closed {type(self).__name__}")
        rebuild, args = self._rebuild()
        state = {name: value for name, value in self.__dict__.items() if name != "_handle"}
        return (rebuild, args, state or None)

    def __del__(self):
        handle = getattr(self, "_handle", None)
        if handle is None:
            return
        self._handle = None
        try:
            getattr(lib, self._free_function)(handle)
        except Exception:  # interpreter shutdown: modules may already be torn down
            pass
