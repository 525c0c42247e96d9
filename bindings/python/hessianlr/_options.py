"""Options by name: ``initial_lr=[0.1, 0.01]``, ``direction="update"``, ``model="full"``.

The keyword name of an option is its ``Param`` member in lower case (``Param.LR_MIN`` is
``lr_min``). A per-group option (``initial_lr``; CDAT's ``sharpness``) takes one number for
every group or a sequence with one value per group. Choices take their enum member, its int or
its lower-case name. Options are applied in order; one refused only because of a constraint
with another option not yet set (``lr_min ≤ lr_max``, Hi-DLR's probe count vs. model) is retried
after the others, so any order of a consistent set works.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

from .constants import Direction, Model, Param
from .errors import InvalidArgumentError, UnknownKeyError

__all__ = ["param_key", "option_name", "choice_value", "apply_options"]

_CHOICES = {Param.DIRECTION: Direction, Param.MODEL: Model}


def param_key(name) -> Param:
    """The :class:`Param` of an option name (or a Param / int)."""
    if isinstance(name, str):
        try:
            return Param[name.upper()]
        except KeyError:
            names = ", ".join(p.name.lower() for p in Param)
            raise UnknownKeyError(f"unknown option {name!r}; options are: {names}") from None
    return Param(int(name))


def option_name(key) -> str:
    """The keyword name of a Param."""
    return Param(int(key)).name.lower()


def choice_value(key: Param, value) -> float:
    """A number for the library: enum names become their values, bools 0/1."""
    enum = _CHOICES.get(key)
    if enum is not None and isinstance(value, str):
        try:
            return float(enum[value.upper()])
        except KeyError:
            names = "' or '".join(m.name.lower() for m in enum)
            raise InvalidArgumentError(f"{option_name(key)} must be '{names}', got {value!r}") from None
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
    """A zero-argument callable applying one option (all groups or one per group)."""
    if _is_sequence(value):
        values = [choice_value(key, v) for v in value]
        if len(values) != tuner.groups:
            raise InvalidArgumentError(
                f"{option_name(key)} has {len(values)} values, the tuner has {tuner.groups} groups")

        def apply():
            for group, v in enumerate(values):
                tuner.set_group_param(group, key, v)

        return apply
    number = choice_value(key, value)
    return lambda: tuner.set_param(key, number)


def apply_options(tuner, options: Mapping) -> None:
    """Sets ``options`` (name → value; None values are skipped) on ``tuner``. All or nothing:
    on any failure the tuner's options and state are restored and the first error raised."""
    pending = [(param_key(name), value) for name, value in options.items() if value is not None]
    if not pending:
        return
    setters = [(key, _setter(tuner, key, value)) for key, value in pending]
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
