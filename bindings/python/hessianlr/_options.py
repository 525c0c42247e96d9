"""Options by name: ``initial_lr=[0.1, 0.01]``, ``direction="update"``, ``model="full"``.

The keyword name of an option is its ``Param`` member in lower case (``Param.LR_MIN`` is
``lr_min``). A per-group option (``initial_lr``; CDAT's ``sharpness``) takes one number for
every group or a sequence with one value per group. Choices take their enum member, its int or
its lower-case name. The options given one number are set together (``hlr_tuner_set_params``:
the library checks ``lr_min ≤ lr_max``, Hi-DLR's probe count vs. model, auto's optimizer
coefficients on the result); a per-group sequence is set group by group around them, retried
after the others if a constraint with another option refused it, so any order of a consistent
set works.

What the library says about each parameter: ``ParamBounds``, the (min, max, default) of one
option, schedule or estimator parameter, as ``hlr_param_bounds`` / ``hlr_schedule_param_bounds``
/ ``hlr_estimator_param_bounds`` report it (one type for all three); ``param_infos``: every
parameter of a method or kind as ``hlr_param_info`` describes it (key, flags, bounds), so
nothing is discovered by trial.
"""

from __future__ import annotations

import ctypes
import numbers
from collections import namedtuple
from collections.abc import Mapping, Sequence
from ctypes import byref, c_size_t
from enum import IntEnum

from . import _args, _lib
from ._lib import check
from .constants import Direction, Model, Param
from .errors import InvalidArgumentError, UnknownKeyError, UnknownMethodError

__all__ = ["param_key", "option_name", "choice_value", "apply_options", "ParamBounds", "ParamInfo", "param_infos",
           "known_params"]

_CHOICES = {Param.DIRECTION: Direction, Param.MODEL: Model}


def param_key(name) -> Param:
    """The :class:`Param` of an option name (or a Param / int)."""
    if isinstance(name, str):
        return _args.member(Param, name, lambda names: UnknownKeyError(
            f"unknown option {name!r}; options are: {', '.join(names)}"))
    return Param(int(name))


def option_name(key) -> str:
    """The keyword name of a Param."""
    return Param(int(key)).name.lower()


def choice_value(key: Param, value) -> float:
    """A number for the library: enum names become their values, bools 0/1."""
    enum = _CHOICES.get(key)
    if enum is not None and isinstance(value, str):
        def refused(names: list[str]) -> Exception:
            listed = "' or '".join(names)
            return InvalidArgumentError(f"{option_name(key)} must be '{listed}', got {value!r}")

        return float(_args.member(enum, value, refused))
    if isinstance(value, bool):
        return float(value)
    if not isinstance(value, numbers.Real):
        raise TypeError(f"{option_name(key)} must be a number, got {type(value).__name__} {value!r}")
    return float(value)


def _is_sequence(value) -> bool:
    """Lists, tuples, 1-D numpy arrays (not strings, not numbers)."""
    if isinstance(value, (str, bytes)):
        return False
    if isinstance(value, Sequence):
        return True
    return getattr(value, "ndim", 0) >= 1


def _setter(tuner, key: Param, value):
    """A zero-argument callable applying a per-group sequence, one value per group."""
    values = [choice_value(key, v) for v in value]
    if len(values) != tuner.groups:
        raise InvalidArgumentError(
            f"{option_name(key)} has {len(values)} values, the tuner has {tuner.groups} groups")

    def apply():
        for group, v in enumerate(values):
            tuner.set_group_param(group, key, v)

    return apply


def apply_options(tuner, options: Mapping) -> None:
    """Sets ``options`` (name → value; None values are skipped) on ``tuner``. All or nothing:
    on any failure the tuner's options and state are restored and the first error raised."""
    pending = [(param_key(name), value) for name, value in options.items() if value is not None]
    if not pending:
        return
    numbers = {key: choice_value(key, value) for key, value in pending if not _is_sequence(value)}
    setters = [(key, _setter(tuner, key, value)) for key, value in pending if _is_sequence(value)]
    if numbers:
        setters.insert(0, (None, lambda: tuner.set_params(numbers)))
    before = tuner.save()
    try:
        first_error = None
        while setters:
            retry = []
            for key, apply in setters:
                try:
                    apply()
                except InvalidArgumentError as error:  # maybe a cross-constraint: try again later
                    retry.append((key, apply))
                    first_error = first_error or error
            if len(retry) == len(setters):
                raise first_error
            setters, first_error = retry, None
    except BaseException:
        tuner.restore(before)
        raise


# -- what the library says about each parameter ----------------------------------------------

ParamBounds = namedtuple("ParamBounds", ["min", "max", "default"])

#: One ``hlr_param_desc``: the raw key, its snake_case name, ``HLR_PARAM_FLAG_*`` bits and bounds.
ParamInfo = namedtuple("ParamInfo", ["key", "name", "flags", "bounds"])


def param_infos(family: int, kind: int) -> list:
    """Every parameter of ``kind`` of ``family`` (``HLR_FAMILY_*``) in the library's order, as
    :class:`ParamInfo`; the library's error for an unknown family or kind."""
    count = c_size_t()
    check(_lib.lib.hlr_param_count(int(family), int(kind), byref(count)))
    result = []
    for index in range(count.value):
        desc = _lib.ParamDesc()
        desc.struct_size = ctypes.sizeof(_lib.ParamDesc)
        check(_lib.lib.hlr_param_info(int(family), int(kind), index, byref(desc)))
        result.append(ParamInfo(desc.key, desc.name.decode("ascii"), desc.flags,
                                ParamBounds(desc.min, desc.max, desc.default_value)))
    return result


def known_params(family: int, kind: int, keys: type[IntEnum]) -> list:
    """:func:`param_infos` of the parameters this binding knows (members of ``keys``), in key
    order; [] for a kind the library does not have."""
    try:
        infos = param_infos(family, kind)
    except UnknownMethodError:
        return []
    known = set(keys.__members__.values())
    return sorted((i for i in infos if i.key in known), key=lambda i: i.key)
