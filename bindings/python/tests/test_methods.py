"""The method classes: their keyword defaults are the library's, options by name, per-group lists,
and refused values raise the library's message and change nothing."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

import hessianlr as h
from hessianlr import Direction, Method, Model, Param

NEW_CLASSES = [h.CDAT, h.GeN, h.HiDLR, h.Armijo, h.Constant]
CHOICES = {"direction": Direction, "model": Model}


def keyword_defaults(cls):
    return {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()
            if name not in ("self", "groups", "schedule")}


@pytest.mark.parametrize("cls", NEW_CLASSES)
def test_keywords_are_the_methods_options_with_the_librarys_defaults(cls):
    method = h.method_of(cls)
    expected = h.method_params(method)
    defaults = keyword_defaults(cls)
    assert {Param[name.upper()] for name in defaults} == set(expected), cls
    for name, default in defaults.items():
        bounds = h.param_bounds(method, Param[name.upper()])
        value = CHOICES[name][default.upper()] if name in CHOICES else default
        assert float(value) == bounds.default, (cls.__name__, name)
        assert bounds.min <= float(value) <= bounds.max
    with cls(groups=2) as tuner:
        assert tuner.method == method and tuner.groups == 2
        for name, value in tuner.options().items():
            expected_default = expected[Param[name.upper()]].default
            assert value == ([expected_default] * 2 if isinstance(value, list) else expected_default), name


def test_hessianlr_keeps_the_seed_names_and_defaults():
    seed = {"initial_lr": 1e-3, "num_warmup_steps": 0, "update_period": 10, "lr_bounds": (0.3, 3.0),
            "lr_min": 1e-8, "lr_max": 1.0, "smoothing_factor": 0.9, "negative_curvature_decay": 0.5,
            "direction": "gradient"}
    assert keyword_defaults(h.HessianLR) == seed
    with h.HessianLR() as tuner:
        library = {name: bounds.default for name, bounds in
                   ((p.name.lower(), b) for p, b in h.method_params(Method.HESSIANLR).items())}
        options = tuner.options()
        assert {k: (v[0] if isinstance(v, list) else v) for k, v in options.items()} == library


def test_every_method_class_is_registered():
    assert set(h.TUNER_CLASSES) == set(Method)
    for method, cls in h.TUNER_CLASSES.items():
        assert h.method_of(cls) == method == h.method_of(method.name.lower()) == h.method_of(int(method))
    with pytest.raises(ValueError, match="unknown method 'sgd'"):
        h.method_of("sgd")


@pytest.mark.parametrize("method", list(Method))
def test_make_tuner_uses_the_librarys_names(method):
    options = {"lr_max": 0.5} if Param.LR_MAX in h.method_params(method) else {}
    with h.make_tuner(method.name.lower(), 3, initial_lr=0.25, **options) as tuner:
        assert isinstance(tuner, h.TUNER_CLASSES[method]) and tuner.groups == 3
        assert tuner.get_group_param(2, Param.INITIAL_LR) == 0.25
        if options:
            assert tuner.get_param(Param.LR_MAX) == 0.5


def test_per_group_options_take_lists():
    with h.CDAT(groups=3, initial_lr=[0.1, 0.2, 0.3], sharpness=np.array([1.0, 2.0, 4.0])) as tuner:
        assert tuner.options()["initial_lr"] == [0.1, 0.2, 0.3]
        assert tuner.options()["sharpness"] == [1.0, 2.0, 4.0]
        assert tuner.lrs(0) == [0.1, 0.2, 0.3]
        assert [tuner.info(h.Info.EDGE_OF_STABILITY, k) for k in range(3)] == [0.1, 0.4, 1.2]
    with h.GeN(groups=2, initial_lr=(0.5, 0.05)) as tuner:
        assert tuner.lrs(0) == [0.5, 0.05]
    with pytest.raises(h.InvalidArgumentError, match="initial_lr has 2 values, the tuner has 3 groups"):
        h.HiDLR(groups=3, initial_lr=[0.1, 0.2])
    with pytest.raises(h.InvalidArgumentError, match="initial_lr"):  # armijo: one rate for all groups
        h.Armijo(groups=2, initial_lr=[0.1, 0.2])


def test_choices_by_name_enum_or_int():
    for direction in ("gradient", Direction.GRADIENT, 0):
        with h.CDAT(direction=direction) as tuner:
            assert tuner.get_param(Param.DIRECTION) == 0
    with h.HiDLR(groups=2, model="full") as tuner:
        assert tuner.get_param("model") == Model.FULL
    with pytest.raises(h.InvalidArgumentError, match="'diagonal' or 'full', got 'dense'"):
        h.HiDLR(model="dense")
    with pytest.raises(TypeError, match="sigma must be a number"):
        h.CDAT(sigma="two")


def test_cross_constraints_in_any_order():
    with h.GeN(lr_min=2.0, lr_max=5.0) as tuner:
        assert (tuner.get_param("lr_min"), tuner.get_param("lr_max")) == (2.0, 5.0)
    with h.CDAT(lr_max=1e-9, lr_min=1e-10) as tuner:
        assert tuner.get_param("lr_max") == 1e-9
    with h.HiDLR(groups=2, probe_count=6, model="full") as tuner:  # full needs 6 unknowns at K = 2
        assert tuner.get_param("probe_count") == 6
    with pytest.raises(h.InvalidArgumentError, match="probe_count 5 is below the 6 unknowns"):
        h.HiDLR(groups=2, probe_count=5, model="full")
    with pytest.raises(h.InvalidArgumentError, match="model full needs at most 16 groups"):
        h.HiDLR(groups=17, model="full")


BAD = [
    (h.CDAT, {"sigma": 0.0}, "sigma"),
    (h.CDAT, {"smoothing": 1.0}, "smoothing"),
    (h.CDAT, {"sharpness": -1.0}, "sharpness"),
    (h.GeN, {"probe_count": 2}, "probe_count"),
    (h.GeN, {"r2_threshold": 1.0}, "r2_threshold"),
    (h.GeN, {"update_period": 2.5}, "2.5"),
    (h.HiDLR, {"eigen_floor": 0.0}, "eigen_floor"),
    (h.HiDLR, {"seed": -1}, "seed"),
    (h.Armijo, {"decrease_factor": 1.0}, "decrease_factor"),
    (h.Armijo, {"max_backtracks": 1001}, "max_backtracks"),
    (h.Armijo, {"increase_factor": 0.5}, "increase_factor"),
    (h.Constant, {"initial_lr": 0.0}, "initial_lr"),
    (h.Constant, {"initial_lr": math.nan}, "initial_lr"),
]


@pytest.mark.parametrize("cls, options, needle", BAD)
def test_refused_options_raise_the_librarys_message_and_change_nothing(cls, options, needle):
    with pytest.raises(h.InvalidArgumentError) as info:
        cls(**options)
    assert needle in info.value.message and info.value.message.startswith("hlr_tuner_set")
    with cls(groups=2) as tuner:
        before = tuner.save()
        with pytest.raises(h.InvalidArgumentError) as again:
            tuner.configure(lr_max=0.5, **options) if h.Param.LR_MAX in h.method_params(tuner.method) \
                else tuner.configure(**options)
        assert again.value.message == info.value.message
        assert tuner.save() == before  # configure is all or nothing


def test_unknown_options_and_keys():
    with pytest.raises(h.UnknownKeyError, match="unknown option 'learning_rate'"):
        h.CDAT().configure(learning_rate=0.1)
    with h.Armijo() as tuner:
        before = tuner.save()
        with pytest.raises(h.UnknownKeyError, match="armijo has no parameter smoothing"):
            tuner.configure(lr_max=0.5, smoothing=0.5)
        assert tuner.save() == before
    with pytest.raises(h.UnknownKeyError, match="lr_min"):
        h.Tuner(Method.ARMIJO, lr_min=0.1)
    with pytest.raises(h.UnknownKeyError, match="hidlr has no info key"):
        h.HiDLR().info(h.Info.SMOOTHED_NUMERATOR)


@pytest.mark.parametrize("cls", [h.CDAT, h.GeN, h.HiDLR, h.Armijo])
def test_observation_errors_change_nothing(cls):
    with cls(groups=2) as tuner:
        need, count = tuner.need(0)
        assert need != h.Need.NOTHING
        before = tuner.save()
        with pytest.raises(h.InvalidArgumentError, match=f"got {count + 1}"):
            tuner.observe(0, need, [1.0] * (count + 1))
        with pytest.raises(h.NonFiniteError):
            tuner.observe(0, need, [math.nan] * count)
        wrong = h.Need.CURVATURE if need != h.Need.CURVATURE else h.Need.LOSSES
        with pytest.raises(h.WrongStateError):
            tuner.observe(0, wrong, [1.0] * count)
        with pytest.raises(h.InvalidArgumentError, match="kind must be"):
            tuner.observe(0, 9, [1.0] * count)
        assert tuner.save() == before


def test_constant_needs_nothing():
    with h.Constant(groups=2, initial_lr=[0.1, 0.2]) as tuner:
        assert all(tuner.need(t) == (h.Need.NOTHING, 0) for t in range(5))
        assert tuner.lrs(3) == [0.1, 0.2]
        with pytest.raises(h.WrongStateError, match="constant needs no observations"):
            tuner.observe(0, h.Need.CURVATURE, [1.0] * 4)


def test_generic_tuner_and_repr():
    with h.Tuner(Method.GEN, 2, update_period=7) as tuner:
        assert type(tuner) is h.Tuner and tuner.get_param("update_period") == 7
        assert repr(tuner) == "<Tuner method=GEN groups=2>"
    assert repr(tuner) == "<Tuner closed>"
    with pytest.raises(h.InvalidHandleError):
        tuner.options()


@pytest.mark.parametrize("cls", [h.GeN, h.HiDLR])
def test_observe_failure_decays_every_rate(cls):
    tuner = cls(groups=2, initial_lr=[0.1, 0.4], fit_failure_decay=0.5)
    need, _ = tuner.need(0)
    assert need == h.Need.LOSSES
    tuner.observe_failure(0)
    assert tuner.lrs(0) == [0.05, 0.2]
    assert h.Flag(int(tuner.info(h.Info.LAST_FLAGS, 1))) == h.Flag.FIT_REJECTED | h.Flag.OBSERVATION_FAILED
    assert tuner.info(h.Info.UPDATES, 0) == 1


def test_observe_failure_rejects_an_armijo_trial():
    tuner = h.Armijo(initial_lr=1.0)
    tuner.observe(0, h.Need.SLOPE, [5.0, 100.0])
    tuner.observe_failure(0)
    assert np.array_equal(tuner.probes(0), [[0.8]])


@pytest.mark.parametrize("cls", [h.HessianLR, h.CDAT, h.Constant])
def test_observe_failure_is_refused_without_a_loss_need(cls):
    tuner = cls()
    before = tuner.save()
    for step in (0, 1, 2**64 - 1):
        with pytest.raises(h.WrongStateError):
            tuner.observe_failure(step)
    assert tuner.save() == before
    with pytest.raises(h.InvalidArgumentError):
        tuner.observe_failure(-1)
