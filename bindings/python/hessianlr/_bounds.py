"""``ParamBounds``: the (min, max, default) of one option, schedule or estimator parameter, as
``hlr_param_bounds`` / ``hlr_schedule_param_bounds`` / ``hlr_estimator_param_bounds`` report it
(one type for all three); ``param_infos``: every parameter of a method or kind as
``hlr_param_info`` describes it (key, flags, bounds), so nothing is discovered by trial."""

from __future__ import annotations

import ctypes
from collections import namedtuple
from ctypes import byref, c_size_t

from . import _lib
from .errors import check

__all__ = ["ParamBounds", "ParamInfo", "param_infos"]

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
