"""``hlr_param_count`` / ``hlr_param_info`` through the binding: the metadata functions read the
library's self-description and agree with the per-key bounds functions; per-group keys come from
the PER_GROUP flag (no throw-away tuner)."""

import ctypes

import pytest

import hessianlr as h
from hessianlr import _lib
from hessianlr._options import ParamBounds, param_infos
from hessianlr.constants import ParamFamily, ParamFlag
from hessianlr.tuner import _per_group_keys


@pytest.mark.parametrize("method", list(h.Method))
def test_method_params_agree_with_param_bounds(method):
    params = h.method_params(method)
    assert params and list(params) == sorted(params)
    for key, bounds in params.items():
        assert isinstance(bounds, ParamBounds)
        assert bounds == h.param_bounds(method, key)
    infos = param_infos(ParamFamily.TUNER, method)
    assert [i.key for i in infos if i.key in set(params)] == [i.key for i in infos]
    assert {i.name for i in infos} == {k.name.lower() for k in params}


@pytest.mark.parametrize("method", list(h.Method))
def test_per_group_keys_are_what_set_group_param_accepts(method):
    keys = _per_group_keys(int(method))
    assert (h.Param.INITIAL_LR in keys) == (method != h.Method.ARMIJO)
    tuner = h.Tuner(method, groups=2)
    try:
        for key, bounds in h.method_params(method).items():
            try:
                tuner.set_group_param(0, key, bounds.default)
                accepted = True
            except h.HessianLRError:
                accepted = False
            assert accepted == (key in keys), key
    finally:
        tuner.close()


def test_schedule_and_estimator_params():
    for kind in h.ScheduleKind:
        params = h.schedule_params(kind)
        assert list(params) == sorted(params)
        for key, bounds in params.items():
            assert bounds == h.schedule_param_bounds(kind, key)
    assert h.schedule_params(h.ScheduleKind.JOIN) == {}
    for kind in h.EstimatorKind:
        params = h.estimator_params(kind)
        assert params and list(params) == sorted(params)
        for key, bounds in params.items():  # the catalogs are keyed alike: enum members
            assert isinstance(key, h.EstimatorParam)
            assert bounds == h.estimator_param_bounds(kind, key) == h.estimator_param_bounds(kind, key.name.lower())
        with h.Estimator(kind) as est:
            assert est.params() == {key.name.lower(): bounds.default for key, bounds in params.items()}
    assert all(isinstance(key, h.ScheduleParam) for kind in h.ScheduleKind for key in h.schedule_params(kind))
    step = {i.name: i for i in param_infos(ParamFamily.SCHEDULE, h.ScheduleKind.STEP)}
    assert step["step_size"].flags == ParamFlag.INTEGRAL


def test_param_desc_layout():
    # size_t struct_size; int key; unsigned flags; double min, max, default_value; char name[48].
    word = ctypes.sizeof(ctypes.c_size_t)
    assert _lib.ParamDesc.key.offset == word
    assert _lib.ParamDesc.min.offset == word + 8
    assert _lib.ParamDesc.name.offset == word + 32
    assert ctypes.sizeof(_lib.ParamDesc) == word + 32 + 48


def test_param_info_refusals():
    desc = _lib.ParamDesc()
    desc.struct_size = ctypes.sizeof(desc)
    assert _lib.lib.hlr_param_info(9, 1, 0, ctypes.byref(desc)) == h.Status.INVALID_ARGUMENT
    assert "family 9" in _lib.last_error()
    assert _lib.lib.hlr_param_info(ParamFamily.TUNER, 99, 0, ctypes.byref(desc)) == h.Status.UNKNOWN_METHOD
    count = ctypes.c_size_t()
    assert _lib.lib.hlr_param_count(ParamFamily.TUNER, h.Method.GEN, ctypes.byref(count)) == 0
    assert _lib.lib.hlr_param_info(ParamFamily.TUNER, h.Method.GEN, count.value, ctypes.byref(desc)) \
        == h.Status.INVALID_ARGUMENT
    assert f"index {count.value}" in _lib.last_error()
    desc.struct_size = ctypes.sizeof(desc) - 1
    assert _lib.lib.hlr_param_info(ParamFamily.TUNER, h.Method.GEN, 0, ctypes.byref(desc)) == h.Status.INVALID_ARGUMENT
    assert "struct_size" in _lib.last_error()
    with pytest.raises(h.UnknownMethodError):
        param_infos(ParamFamily.ESTIMATOR, 0)
