"""hessianlr — curvature-aware learning rates from libhessianlr, through its C ABI (ctypes).

HessianLR sets lr* = gᵀg / gᵀHg (the minimiser of the local quadratic model along −g; units:
weight per gradient unit), bounded per update, EMA-smoothed and clamped, and asks for curvature
only every ``update_period`` steps.

    import hessianlr
    with hessianlr.HessianLR(initial_lr=0.05, update_period=10) as tuner:
        if tuner.wants_curvature(t):
            tuner.observe_curvature(t, [g @ g, g @ (H @ g)])
        lr = tuner.lr(t)

PyTorch: ``from hessianlr.torch import HessianLRScheduler`` (torch is imported only there).
The library is found through ``$HESSIANLR_LIBRARY`` or next to this file (see ``_lib``).
"""

from ._lib import HEADER_VERSION_STRING as _HEADER_VERSION_STRING
from ._lib import lib as _c
from ._lib import library_path
from .constants import Direction, Flag, Info, Method, Need, Param, Reset, Status
from .errors import (
    BufferTooSmallError,
    CallbackError,
    HessianLRError,
    InvalidArgumentError,
    InvalidHandleError,
    NonFiniteError,
    NullPointerError,
    SnapshotCorruptError,
    SnapshotMismatchError,
    SnapshotVersionError,
    UnknownKeyError,
    UnknownMethodError,
    WrongStateError,
    check,
)
from .tuner import HessianLR, ParamBounds, Tuner, param_bounds

#: Version of this Python package.
__version__ = "0.1.0"
#: Version of the loaded shared library (``hlr_version_string()``).
library_version = _c.hlr_version_string().decode("ascii")
#: ``hlr_version_number()`` of the loaded library.
library_version_number = int(_c.hlr_version_number())
#: Version of the C header this binding was written against.
header_version = _HEADER_VERSION_STRING

__all__ = [
    "__version__",
    "library_version",
    "library_version_number",
    "header_version",
    "library_path",
    "Direction",
    "Flag",
    "Info",
    "Method",
    "Need",
    "Param",
    "Reset",
    "Status",
    "HessianLRError",
    "NullPointerError",
    "InvalidHandleError",
    "InvalidArgumentError",
    "UnknownMethodError",
    "UnknownKeyError",
    "NonFiniteError",
    "CallbackError",
    "WrongStateError",
    "BufferTooSmallError",
    "SnapshotCorruptError",
    "SnapshotVersionError",
    "SnapshotMismatchError",
    "check",
    "Tuner",
    "HessianLR",
    "ParamBounds",
    "param_bounds",
    "HessianLRScheduler",
]


def __getattr__(name):
    # hessianlr.HessianLRScheduler without importing torch at package import time.
    if name == "HessianLRScheduler":
        from .torch import HessianLRScheduler

        return HessianLRScheduler
    raise AttributeError(f"module 'hessianlr' has no attribute {name!r}")
