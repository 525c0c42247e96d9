"""``ParamBounds``: the (min, max, default) of one option, schedule or estimator parameter, as
``hlr_param_bounds`` / ``hlr_schedule_param_bounds`` / ``hlr_estimator_param_bounds`` report it
(one type for all three)."""

from __future__ import annotations

from collections import namedtuple

__all__ = ["ParamBounds"]

ParamBounds = namedtuple("ParamBounds", ["min", "max", "default"])
