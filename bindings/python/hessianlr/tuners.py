"""The method classes by method, and ``make_tuner`` to build one from a name."""

from __future__ import annotations

from typing import Union

from .constants import Method
from .tuner import Tuner
from .tuner_armijo import Armijo
from .tuner_cdat import CDAT
from .tuner_constant import Constant
from .tuner_gen import GeN
from .tuner_hessianlr import HessianLR
from .tuner_hidlr import HiDLR

__all__ = ["Auto", "TUNER_CLASSES", "method_of", "make_tuner"]


class Auto(Tuner):
    """``auto``, the recommended mode (``HLR_METHOD_AUTO``): a bracket search over 13 forward
    losses at the first step, then 3-probe quadratic models of the loss along the optimizer's
    previous update every 1–16 steps (adaptive), averaged as CDAT; a diverged probe cuts the rate
    16× at once, a step that more than doubled the batch loss by 1/(1 + √q). Forward losses only.
    Options by the library's names (``initial_lr``, ``update_period``, ``lr_min``, ``lr_max``,
    ``smoothing``, ``sigma``, ``fit_failure_decay``, ``optimizer``, ``momentum``, ``dampening``,
    ``nesterov``, ``probe_previous``); defaults and ranges are the
    library's (:func:`~hessianlr.method_params`). Drive it with
    :class:`hessianlr.torch.LRTuner` (which sets the optimizer options and the direction) or
    :meth:`Tuner.run_step`."""

    def __init__(self, groups: int = 1, *, schedule=None, **options):
        super().__init__(Method.AUTO, groups, schedule=schedule, **options)

#: The Python class of each method.
TUNER_CLASSES = {
    Method.HESSIANLR: HessianLR,
    Method.CDAT: CDAT,
    Method.GEN: GeN,
    Method.HIDLR: HiDLR,
    Method.ARMIJO: Armijo,
    Method.CONSTANT: Constant,
    Method.AUTO: Auto,
}


def method_of(method: Union[Method, int, str, type]) -> Method:
    """A Method from a Method, an int, a name (``"gen"``, ``"hessianlr"``) or a tuner class."""
    if isinstance(method, type) and issubclass(method, Tuner):
        for key, cls in TUNER_CLASSES.items():
            if issubclass(method, cls):
                return key
        raise TypeError(f"{method.__name__} is not one of the method classes")
    if isinstance(method, str):
        try:
            return Method[method.upper().replace("-", "")]
        except KeyError:
            names = ", ".join(m.name.lower() for m in Method)
            raise ValueError(f"unknown method {method!r}; methods are: {names}") from None
    return Method(int(method))


def make_tuner(method: Union[Method, int, str, type], groups: int = 1, **options) -> Tuner:
    """A tuner of ``method`` with ``groups`` groups and options by library name (``lr_max=...``,
    ``initial_lr=[...]``, ``schedule=...``): the method's class for known methods, else a plain
    :class:`Tuner`."""
    key = method_of(method)
    tuner = object.__new__(TUNER_CLASSES.get(key, Tuner))
    Tuner.__init__(tuner, key, groups, **options)  # the library's option names for every method
    return tuner
