"""hessianlr — curvature-aware learning rates from libhessianlr, through its C ABI (ctypes).

Methods (one class each, options with the library's defaults): :class:`HessianLR`
(lr* = gᵀd/dᵀHd), :class:`CDAT` (σ·EMA(gᵀu)/EMA(|uᵀHu|+ε)), :class:`GeN` and :class:`HiDLR`
(quadratic fits of forward losses at probe steps), :class:`Armijo` (backtracking line search),
:class:`Constant`. Rates are in weight units per unit of the step direction d (w ← w − lr·d).
Every tuner speaks the general protocol ``need(t)`` / ``probes(t)`` / ``observe(t, kind, values)``
/ ``lrs(t)`` (only scalars cross), or runs a whole step on numpy buffers with Python callbacks
(``step_host``)::

    import hessianlr
    with hessianlr.GeN(initial_lr=0.05) as tuner:
        need, count = tuner.need(t)
        while need != hessianlr.Need.NOTHING:
            ...  # compute the observation (see hessianlr.tuner)
            tuner.observe(t, need, values)
            need, count = tuner.need(t)
        lr = tuner.lr(t)

Schedules (torch.optim.lr_scheduler semantics, HyperbolicLR, joins and warmups):
:class:`Schedule`, :func:`join`, :func:`warmup`; attach one to any tuner with
``tuner.set_schedule``.

Curvature estimators (:mod:`hessianlr.estimators`): :class:`Lanczos`, :class:`PowerIteration`,
:class:`Hutchinson`, :class:`HutchPlusPlus`, :class:`Diagonal`, :class:`SpectralDensity`, run on
numpy HVP callbacks (``run_host``) or on torch tensors (``run_torch`` with
:class:`~hessianlr.torch_curvature.TorchOperator`), and the stability helpers.

PyTorch: ``from hessianlr.torch import LRTuner, HessianLRScheduler, ScheduleLR`` (torch is
imported only there). The library is found through ``$HESSIANLR_LIBRARY`` or next to this file
(see ``_lib``).
"""

from . import constants as _constants
from . import errors as _errors
from . import estimators as _estimators
from . import schedule as _schedule
from . import tuner as _tuner
from . import tuners as _tuners
from ._lib import HEADER_VERSION_STRING as _HEADER_VERSION_STRING
from ._lib import lib as _c
from ._lib import check, library_path

# Each submodule's public names (its __all__) are the package's.
from .constants import *  # noqa: F403
from .errors import *  # noqa: F403
from .estimators import *  # noqa: F403
from .schedule import *  # noqa: F403
from .tuner import *  # noqa: F403
from .tuners import *  # noqa: F403

#: Version of this Python package.
__version__ = _HEADER_VERSION_STRING  # the package is versioned with the header it binds
#: Version of the loaded shared library (``hlr_version_string()``).
library_version = _c.hlr_version_string().decode("ascii")
#: ``hlr_version_number()`` of the loaded library.
library_version_number = int(_c.hlr_version_number())
#: Version of the C header this binding was written against.
header_version = _HEADER_VERSION_STRING

_TORCH_NAMES = ("HessianLRScheduler", "LRTuner", "ScheduleLR")
_TORCH_CURVATURE_NAMES = ("TorchOperator", "TorchVectors")

__all__ = [
    "__version__",
    "library_version",
    "library_version_number",
    "header_version",
    "library_path",
    "check",
    *_constants.__all__,
    *_errors.__all__,
    *_tuner.__all__,
    *_tuners.__all__,
    *_schedule.__all__,
    *_estimators.__all__,
    # torch (lazy)
    *_TORCH_NAMES,
    *_TORCH_CURVATURE_NAMES,
]


def __getattr__(name):
    # hessianlr.LRTuner etc. without importing torch at package import time.
    if name in _TORCH_NAMES:
        from . import torch as _torch_integration

        return getattr(_torch_integration, name)
    if name in _TORCH_CURVATURE_NAMES:
        from . import torch_curvature as _torch_curvature

        return getattr(_torch_curvature, name)
    raise AttributeError(f"module 'hessianlr' has no attribute {name!r}")
