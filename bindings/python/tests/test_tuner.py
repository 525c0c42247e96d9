"""Options, schedule and the exact HessianLR arithmetic through the C ABI."""

from __future__ import annotations

import math

import numpy as np
import pytest

import hessianlr as h
from hessianlr import Flag, Info, Param, Reset

from conftest import bits

SEED_DEFAULTS = {
    Param.INITIAL_LR: 1e-3,
    Param.WARMUP_STEPS: 0,
    Param.UPDATE_PERIOD: 10,
    Param.LR_BOUND_LOW: 0.3,
    Param.LR_BOUND_HIGH: 3.0,
    Param.LR_MIN: 1e-8,
    Param.LR_MAX: 1.0,
    Param.SMOOTHING: 0.9,
    Param.NEGATIVE_CURVATURE_DECAY: 0.5,
    Param.DIRECTION: 0,
}

WIDE = dict(smoothing_factor=0.0, lr_bounds=(1e-12, 1e12), lr_min=0.0, lr_max=1e12)


def reference(current, s, c, *, low=0.3, high=3.0, beta=0.9, decay=0.5, lr_min=1e-8, lr_max=1.0):
    """Python transcription of the documented rule (same IEEE operations, so bit-identical)."""
    flags = Flag(0)

    def clamp(x):
        nonlocal flags
        if x < lr_min:
            flags |= Flag.CLAMPED_MIN
            return lr_min
        if x > lr_max:
            flags |= Flag.CLAMPED_MAX
            return lr_max
        return x

    if s == 0:
        flags |= Flag.ZERO_GRADIENT
        return clamp(current), flags
    if s < 0:
        flags |= Flag.NOT_DESCENT
        return clamp(current), flags
    if c <= 0:
        flags |= Flag.NEGATIVE_CURVATURE
        candidate = decay * current
    else:
        candidate = s / c
    if candidate < low * current:
        candidate, flags = low * current, flags | Flag.BOUNDED_LOW
    elif candidate > high * current:
        candidate, flags = high * current, flags | Flag.BOUNDED_HIGH
    return clamp(beta * current + (1 - beta) * candidate), flags


def test_param_bounds_and_seed_defaults():
    for key, default in SEED_DEFAULTS.items():
        bounds = h.param_bounds(h.Method.HESSIANLR, key)
        assert bounds.default == default, key
        assert bounds.min <= default <= bounds.max, key
    assert h.param_bounds(1, Param.SMOOTHING) == (0.0, math.nextafter(1.0, 0.0), 0.9)
    assert h.param_bounds(1, Param.DIRECTION)[:2] == (0.0, 1.0)
    assert h.param_bounds(1, Param.LR_BOUND_LOW).max == 1.0
    assert h.param_bounds(1, Param.LR_BOUND_HIGH).min == 1.0
    assert h.param_bounds(1, Param.UPDATE_PERIOD).min == 1.0
    with h.Tuner(h.Method.HESSIANLR) as tuner:
        for key, default in SEED_DEFAULTS.items():
            assert tuner.get_param(key) == default
            assert tuner.get_param(int(key)) == default


def test_convenience_class_uses_seed_names_and_defaults():
    with h.HessianLR() as tuner:
        assert tuner.method == h.Method.HESSIANLR and tuner.groups == 1
        for key, default in SEED_DEFAULTS.items():
            assert tuner.get_param(key) == default
    with h.HessianLR(groups=3, initial_lr=[0.1, 0.2, 0.3], num_warmup_steps=5, update_period=4,
                     lr_bounds=(0.5, 2.0), lr_min=1e-4, lr_max=0.5, smoothing_factor=0.7,
                     negative_curvature_decay=0.25, direction="update") as tuner:
        assert [tuner.get_group_param(k, Param.INITIAL_LR) for k in range(3)] == [0.1, 0.2, 0.3]
        assert tuner.get_param(Param.WARMUP_STEPS) == 5 and tuner.get_param(Param.UPDATE_PERIOD) == 4
        assert (tuner.get_param(Param.LR_BOUND_LOW), tuner.get_param(Param.LR_BOUND_HIGH)) == (0.5, 2.0)
        assert (tuner.get_param(Param.LR_MIN), tuner.get_param(Param.LR_MAX)) == (1e-4, 0.5)
        assert tuner.get_param(Param.SMOOTHING) == 0.7
        assert tuner.get_param(Param.NEGATIVE_CURVATURE_DECAY) == 0.25
        assert tuner.get_param(Param.DIRECTION) == h.Direction.UPDATE


@pytest.mark.parametrize("lr_min, lr_max", [(2.0, 5.0), (1e-3, 1e-2), (0.0, 1e-9), (1.0, 1.0), (3.0, 1e6)])
def test_lr_min_max_in_any_order(lr_min, lr_max):
    with h.HessianLR(lr_min=lr_min, lr_max=lr_max) as tuner:
        assert (tuner.get_param(Param.LR_MIN), tuner.get_param(Param.LR_MAX)) == (lr_min, lr_max)


def test_inconsistent_min_max_is_refused():
    with pytest.raises(h.InvalidArgumentError, match="lr_min"):
        h.HessianLR(lr_min=0.5, lr_max=0.1)
    with pytest.raises(h.InvalidArgumentError, match="2 values"):
        h.HessianLR(groups=3, initial_lr=[0.1, 0.2])


def test_group_params_and_lrs():
    with h.Tuner(h.Method.HESSIANLR, groups=3) as tuner:
        tuner.set_param(Param.INITIAL_LR, 0.01)
        tuner.set_group_param(2, Param.INITIAL_LR, 0.5)
        assert tuner.lrs(0) == [0.01, 0.01, 0.5]
        assert tuner.lr(7, group=2) == 0.5
        assert tuner.get_param(Param.INITIAL_LR) == 0.01  # group 0
        with pytest.raises(h.InvalidArgumentError, match="smoothing"):
            tuner.set_group_param(0, Param.SMOOTHING, 0.5)
        with pytest.raises(h.InvalidArgumentError, match="group 3"):
            tuner.set_group_param(3, Param.INITIAL_LR, 0.5)


@pytest.mark.parametrize("lam", [4.0, 0.5, 3.0, 1e-3, 123.456])
def test_eigenvector_gives_inverse_eigenvalue(lam):
    """H = diag(λ), g ∝ e_i: gᵀg / gᵀHg = 1/λ (smoothing 0, bounds and clamp out of the way)."""
    eigenvalues = np.array([7.0, lam, 0.25, 2.0])
    g = np.zeros(4)
    g[1] = 0.3
    with h.HessianLR(initial_lr=1.0, **WIDE) as tuner:
        tuner.observe_host(0, g, lambda v, out: np.multiply(eigenvalues, v, out=out))
        assert tuner.lr(0) == pytest.approx(1.0 / lam, rel=1e-15)
        assert tuner.info(Info.LAST_CANDIDATE) == pytest.approx(1.0 / lam, rel=1e-15)
        assert tuner.info(Info.LAST_FLAGS) == 0
    with h.HessianLR(initial_lr=1.0, **WIDE) as tuner:  # observation mode, same numbers
        s = float(g @ g)
        tuner.observe_curvature(0, [s, float(g @ (eigenvalues * g))])
        assert tuner.lr(0) == pytest.approx(1.0 / lam, rel=1e-15)
    if lam in (4.0, 0.5):  # powers of two: exact
        with h.HessianLR(initial_lr=1.0, **WIDE) as tuner:
            tuner.observe_curvature(0, [1.0, lam])
            assert tuner.lr(0) == 1.0 / lam


def run_sequence(options, observations, **reference_options):
    """Feeds (s, c) at every wanted step and checks rates and flags against `reference` bit for bit."""
    with h.HessianLR(**options) as tuner:
        current = options.get("initial_lr", 1e-3)
        step = 0
        for s, c in observations:
            while not tuner.wants_curvature(step):
                step += 1
            tuner.observe_curvature(step, [s, c])
            current, flags = reference(current, s, c, **reference_options)
            assert bits(tuner.lr(step)) == bits(current), (step, s, c)
            assert Flag(int(tuner.info(Info.LAST_FLAGS))) == flags, (step, s, c)
            assert tuner.info(Info.LAST_SLOPE) == s and tuner.info(Info.LAST_CURVATURE) == c
            step += 1
        return current


def test_bounds_ema_and_clamp_exact():
    # candidate 10 from lr 0.1: bounded to 3·0.1, EMA 0.9, ...
    run_sequence(dict(initial_lr=0.1), [(10.0, 1.0), (1.0, 1000.0), (1.0, 1.1), (5.0, 2.0)])
    # smoothing 0: the bound alone
    run_sequence(dict(initial_lr=0.1, smoothing_factor=0.0), [(10.0, 1.0), (1e-6, 1.0)], beta=0.0)
    # clamp at lr_max and lr_min
    run_sequence(dict(initial_lr=0.5, lr_max=0.6, smoothing_factor=0.0), [(100.0, 1.0), (100.0, 1.0)], beta=0.0, lr_max=0.6)
    run_sequence(dict(initial_lr=1e-3, lr_min=5e-4, smoothing_factor=0.0), [(1e-9, 1.0), (1e-9, 1.0)], beta=0.0, lr_min=5e-4)
    # a long random run of the default rule
    rng = np.random.default_rng(3)
    observations = [(float(s), float(c)) for s, c in zip(rng.exponential(size=60), rng.normal(1.0, 2.0, size=60))]
    run_sequence(dict(initial_lr=0.05, update_period=3), observations)


def test_flags_for_degenerate_observations():
    run_sequence(dict(initial_lr=0.2), [(1.0, -2.0), (1.0, 0.0)])  # negative / zero curvature: decay
    with h.HessianLR(initial_lr=0.2) as tuner:
        tuner.observe_curvature(0, [1.0, -2.0])
        assert Flag(int(tuner.info(Info.LAST_FLAGS))) == Flag.NEGATIVE_CURVATURE
        assert math.isnan(tuner.info(Info.LAST_CANDIDATE))
        assert tuner.lr(0) == 0.9 * 0.2 + (1 - 0.9) * (0.5 * 0.2)
    with h.HessianLR(initial_lr=0.2) as tuner:  # zero gradient: rate kept
        tuner.observe_curvature(0, [0.0, 5.0])
        assert Flag(int(tuner.info(Info.LAST_FLAGS))) == Flag.ZERO_GRADIENT and tuner.lr(0) == 0.2
        assert math.isnan(tuner.info(Info.LAST_CANDIDATE))
    with h.HessianLR(initial_lr=0.2, direction="update") as tuner:  # not a descent direction
        tuner.observe_curvature(0, [-1.0, 5.0])
        assert Flag(int(tuner.info(Info.LAST_FLAGS))) == Flag.NOT_DESCENT and tuner.lr(0) == 0.2
    run_sequence(dict(initial_lr=0.2, direction="update"), [(-1.0, 5.0), (0.0, 1.0), (2.0, 1.0)])


def test_warmup_and_schedule():
    with h.HessianLR(initial_lr=0.1, num_warmup_steps=4, update_period=3) as tuner:
        assert [tuner.lr(t) for t in range(6)] == [0.1 * ((t + 1) / 4) for t in range(4)] + [0.1, 0.1]
        assert [t for t in range(20) if tuner.wants_curvature(t)] == [4, 7, 10, 13, 16, 19]
        assert tuner.info(Info.LAST_STEP) == -1 and tuner.info(Info.UPDATES) == 0
        assert tuner.info(Info.NEXT_CURVATURE_STEP) == 4
        tuner.observe_curvature(4, [1.0, 20.0])  # candidate 0.05
        assert tuner.lr(4) == 0.9 * 0.1 + (1 - 0.9) * 0.05
        assert not tuner.wants_curvature(4)
        assert tuner.info(Info.LAST_STEP) == 4 and tuner.info(Info.UPDATES) == 1
        assert tuner.info(Info.NEXT_CURVATURE_STEP) == 7
        # skipping a wanted step is allowed; the rate stays until the next observation
        assert tuner.lr(12) == tuner.lr(5)
        tuner.observe_curvature(10, [1.0, 20.0])
        assert tuner.info(Info.UPDATES) == 2


def test_reset():
    with h.HessianLR(initial_lr=0.1, update_period=2) as tuner:
        tuner.observe_curvature(0, [1.0, 1.0])
        assert tuner.lr(0) != 0.1
        tuner.reset(Reset.STATE)
        assert tuner.lr(0) == 0.1 and tuner.get_param(Param.UPDATE_PERIOD) == 2
        assert tuner.info(Info.UPDATES) == 0 and tuner.wants_curvature(0)
        tuner.reset(Reset.OPTIONS)
        assert tuner.get_param(Param.UPDATE_PERIOD) == 10 and tuner.lr(0) == 1e-3
        tuner.observe_curvature(0, [1.0, 1.0])
        tuner.reset()
        assert tuner.info(Info.UPDATES) == 0


def test_observation_count_and_multi_group():
    with h.HessianLR(groups=2, initial_lr=[0.1, 0.01], **WIDE) as tuner:
        tuner.observe_curvature(0, np.array([1.0, 4.0, 2.0, 1.0]))
        assert tuner.lrs(0) == [0.25, 2.0]
        assert [tuner.info(Info.LAST_SLOPE, k) for k in range(2)] == [1.0, 2.0]


def test_generic_need_protocol_matches_curvature_shorthand():
    """need/observe are the general protocol; for HessianLR they mirror wants/observe_curvature."""
    from hessianlr import Need, WrongStateError

    options = dict(groups=2, update_period=3, smoothing_factor=0.0, lr_max=10.0)
    with h.HessianLR(**options) as general, h.HessianLR(**options) as shorthand:
        for step in range(10):
            need, count = general.need(step)
            assert (need == Need.CURVATURE) == shorthand.wants_curvature(step)
            assert count == (4 if need == Need.CURVATURE else 0)
            if need == Need.CURVATURE:
                values = [1.0, 2.0 + step, 0.5, 4.0]
                general.observe(step, Need.CURVATURE, values)
                shorthand.observe_curvature(step, values)
                assert general.need(step) == (Need.NOTHING, 0)
            assert general.lrs(step) == shorthand.lrs(step)
        assert general.save() == shorthand.save()
        with pytest.raises(WrongStateError, match="no losses"):
            general.probes(9)
        with pytest.raises(WrongStateError, match="curvature only"):
            general.observe(9, Need.LOSSES, [1.0])
        with pytest.raises(h.InvalidArgumentError, match="kind must be"):
            general.observe(9, 7, [1.0])
