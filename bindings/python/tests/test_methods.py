"""The method classes: their keyword defaults are the library's, options by name, per-group lists,
and refused values raise the library's message and change nothing."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

import hessianlr as h
from hessianlr import Direction, Method, Model, Param

NEW_CLASSES = [h.CDAT, h.GeN, h.HiDLR, h.Armijo, h.Constant, h.Auto]
#: Options that another option's value requires (Nesterov needs momentum, as torch).
COMPANIONS = {"nesterov": {"momentum": 0.5}}
SEED_DEFAULTS = {"initial_lr": 1e-3, "num_warmup_steps": 0, "update_period": 10, "lr_bounds": (0.3, 3.0),
                 "lr_min": 1e-8, "lr_max": 1.0, "smoothing_factor": 0.9, "negative_curvature_decay": 0.5,
                 "direction": "gradient"}


def assert_library_defaults(options, method, groups):
    params = h.method_params(method)
    assert set(options) == {p.name.lower() for p in params}
    for key, bounds in params.items():
        assert options[key.name.lower()] in (bounds.default, [bounds.default] * groups), key


@pytest.mark.parametrize("cls", NEW_CLASSES)
def test_a_method_class_has_the_librarys_defaults_and_takes_every_option_by_name(cls):
    method = h.method_of(cls)
    assert cls.method_id == method
    with cls(groups=2) as tuner:
        assert tuner.method == method and tuner.groups == 2
        assert_library_defaults(tuner.options(), method, 2)
    # every option by its library name, at an end of its range other than the default
    chosen = {}
    for key, bounds in h.method_params(method).items():
        if key in (Param.LR_MIN, Param.LR_MAX):
            continue  # constrained together; covered below
        span = [v for v in (bounds.min, bounds.max) if math.isfinite(v) and v != bounds.default]
        if span:
            chosen[key.name.lower()] = span[0]
    for name, value in chosen.items():  # one at a time: some options constrain others
        with cls(groups=2, **COMPANIONS.get(name, {}), **{name: value}) as tuner:
            assert tuner.options()[name] in (value, [value, value]), name
    with pytest.raises(h.UnknownKeyError, match="unknown option 'num_warmup_stepz'"):
        cls(num_warmup_stepz=3)


def test_hessianlr_keeps_the_seed_names_positions_and_defaults():
    names = [n for n in inspect.signature(h.HessianLR.__init__).parameters if n not in ("self", "schedule")]
    assert names == ["groups", *SEED_DEFAULTS]
    with h.HessianLR() as tuner:  # the library's defaults are the seed's
        options = tuner.options()
        assert_library_defaults(options, Method.HESSIANLR, 1)
        seed = dict(SEED_DEFAULTS, lr_bound_low=0.3, lr_bound_high=3.0, warmup_steps=0, smoothing=0.9,
                    direction=float(Direction.GRADIENT), initial_lr=[1e-3])
        for name, value in options.items():
            assert value == seed[name], name
    with h.HessianLR(2, 0.5, 3, 7, (0.25, 4.0), 1e-6, 2.0, 0.8, 0.25, "update") as tuner:  # positional, seed order
        assert tuner.options() == {"initial_lr": [0.5, 0.5], "warmup_steps": 3.0, "update_period": 7.0,
                                   "lr_bound_low": 0.25, "lr_bound_high": 4.0, "lr_min": 1e-6, "lr_max": 2.0,
                                   "smoothing": 0.8, "negative_curvature_decay": 0.25,
                                   "direction": float(Direction.UPDATE)}


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


def test_set_params_checks_the_cross_constraints_on_the_result():
    """hlr_tuner_set_params: options that no order of single settings reaches (each step crosses
    lr_min <= lr_max, or auto's 'nesterov needs momentum') are taken together; a refusal names the
    settings and changes nothing."""
    tuner = h.HessianLR()
    with pytest.raises(h.InvalidArgumentError):
        tuner.set_param("lr_min", 2.0)
    tuner.set_params({"lr_min": 2.0, h.Param.LR_MAX: 10.0})
    assert (tuner.get_param("lr_min"), tuner.get_param("lr_max")) == (2.0, 10.0)
    before = tuner.save()
    with pytest.raises(h.InvalidArgumentError, match="set lr_min = 0.5, lr_max = 0.1 rejected"):
        tuner.set_params({"lr_min": 0.5, "lr_max": 0.1})
    assert tuner.save() == before
    auto = h.Auto()
    auto.set_params({"nesterov": 1, "momentum": 0.9})
    auto.configure(optimizer=1, nesterov=0)  # options given one number go through set_params
    assert auto.get_param("optimizer") == 1 and auto.get_param("nesterov") == 0
