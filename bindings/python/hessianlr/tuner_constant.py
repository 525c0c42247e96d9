"""A constant learning rate per group; with a schedule attached, the schedule's shape."""

from __future__ import annotations

from typing import Sequence, Union

from .constants import Method
from .tuner import Tuner

__all__ = ["Constant"]


class Constant(Tuner):
    """lr_k(t) = initial_lr_k, needing no observations (Need.NOTHING at every step).

    With a base schedule attached (``schedule=`` or :meth:`set_schedule`) the rates are
    initial_lr_k·value(t)/nominal: with ``initial_lr = schedule.nominal`` they are the schedule's
    values (to within an ulp), which is how a schedule is driven through the tuner interface
    (per-group rates, snapshots). ``initial_lr`` takes one value or one per group.
    """

    def __init__(self, groups: int = 1, *, initial_lr: Union[float, Sequence[float]] = 1e-3, schedule=None):
        super().__init__(Method.CONSTANT, groups, initial_lr=initial_lr, schedule=schedule)
