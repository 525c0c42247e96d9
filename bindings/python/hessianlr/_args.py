"""Argument checks done in Python before a C call (ctypes would silently wrap a negative int
into a huge ``size_t``/``uint64_t``, and must never see a buffer it cannot pass without copying).
"""

from __future__ import annotations

import ctypes
import operator
from ctypes import POINTER, c_double, c_size_t
from enum import Enum
from typing import Callable, TypeVar

import numpy as np

from .errors import InvalidArgumentError

__all__ = [
    "UINT64_MAX",
    "SIZE_MAX",
    "index",
    "key",
    "member",
    "choice",
    "number",
    "step",
    "doubles",
    "double_pointer",
    "host_buffer",
    "host_offsets",
    "HOST_DTYPES",
]

E = TypeVar("E", bound=Enum)

UINT64_MAX = (1 << 64) - 1
SIZE_MAX = (1 << (8 * ctypes.sizeof(c_size_t))) - 1

#: The element types host mode accepts (float32 → the ``_f32`` functions, float64 → ``_f64``).
HOST_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def index(value, name: str, limit: int = SIZE_MAX) -> int:
    """An integer argument in [0, limit]."""
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}") from None
    if value < 0 or value > limit:
        raise InvalidArgumentError(f"{name} must be in [0, {limit}], got {value}")
    return value


def step(value, name: str = "step") -> int:
    """A 0-based optimizer step (uint64)."""
    return index(value, name, UINT64_MAX)


def key(value, name: str = "key") -> int:
    """An enum member or plain int (the library range-checks and names a bad value)."""
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an int or enum member, got {type(value).__name__} {value!r}") from None


def member(enum: type[E], name: str, error: Callable[[list[str]], Exception]) -> E:
    """The member of ``enum`` spelled ``name`` in any case; else raises ``error(names)``, ``names``
    the members' names in lower case (the caller's message lists them)."""
    try:
        return enum[name.upper()]
    except KeyError:
        raise error([m.name.lower() for m in enum]) from None


def choice(enum: type[Enum], value: str, name: str) -> float:
    """The library's number for the member of ``enum`` that ``value`` names (parameter ``name``);
    InvalidArgumentError listing the choices."""
    def refused(names: list[str]) -> Exception:
        listed = "', '".join(names)
        return InvalidArgumentError(f"{name} must be one of '{listed}', got {value!r}")

    return float(member(enum, value, refused))


def number(value, name: str) -> float:
    """``float(value)``; TypeError naming ``name`` for a value that is not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}") from None


def doubles(values) -> np.ndarray:
    """A C-contiguous float64 copy (or view) of a flat sequence of numbers."""
    return np.ascontiguousarray(np.asarray(values, dtype=np.float64).reshape(-1))


def double_pointer(array: np.ndarray):
    """``double *`` to an array's data, or NULL for an empty array."""
    return array.ctypes.data_as(POINTER(c_double)) if array.size else None


def host_buffer(array, name: str, dtype=None) -> np.ndarray:
    """Checks a host buffer for zero-copy use: a C-contiguous float32/float64 ndarray (any
    shape: it is seen flat), of ``dtype`` when given."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray of float32 or float64, got {type(array).__name__}")
    if array.dtype not in HOST_DTYPES:
        raise TypeError(f"{name} must have dtype float32 or float64, got {array.dtype}")
    if dtype is not None and array.dtype != dtype:
        raise TypeError(f"{name} has dtype {array.dtype} but the gradient has {dtype}; they must match")
    if not array.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous (it is passed without copying); use numpy.ascontiguousarray")
    return array


def host_offsets(group_offsets) -> tuple[object, int, np.ndarray | None]:
    """(``size_t *`` or NULL, count, the array keeping the memory alive) of ``group_offsets``
    (None: one group). Signs and integrality are checked here; order and range by the library."""
    if group_offsets is None:
        return None, 0, None
    array = np.asarray(group_offsets)
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
        raise TypeError(f"group_offsets must be a 1-D sequence of integers, got {group_offsets!r}")
    if array.size and array.min() < 0:
        raise InvalidArgumentError(f"group_offsets must be non-negative, got {array.tolist()}")
    array = np.ascontiguousarray(array, dtype=np.uintp)
    pointer = array.ctypes.data_as(POINTER(c_size_t)) if array.size else None
    return pointer, array.size, array
