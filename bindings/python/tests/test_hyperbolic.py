"""HyperbolicLR / ExpHyperbolicLR (seed 004, Kim 2024) against the paper's formulas written here.

With x the step (after warmup), N = max_iter, U = upper_bound ≥ N, η₀ = base_lr, η_inf:
    h(x) = √((N − x)/U · (2 − (N + x)/U))
    HyperbolicLR:     η = η₀ + (η₀ − η_inf)·(h(x) − h(0))
    ExpHyperbolicLR:  η = η₀·(η₀/η_inf)^(h(x) − h(0))
    warmup (W steps): η = η_inf + (η₀ − η_inf)·x/W, then the curve with N = max_iter − W.
"""

from __future__ import annotations

import math

import pytest

import hessianlr as h
from hessianlr import Schedule

RTOL = 1e-12


def h_of(x, n, u):
    return math.sqrt((n - x) / u * (2 - (n + x) / u))


def hyperbolic(t, eta0, n, u, inf):
    x = min(t, n)  # defined past max_iter: held at its value at N
    return eta0 + (eta0 - inf) * (h_of(x, n, u) - h_of(0, n, u))


def exp_hyperbolic(t, eta0, n, u, inf):
    x = min(t, n)
    return eta0 * (eta0 / inf) ** (h_of(x, n, u) - h_of(0, n, u))


def with_warmup(curve, t, eta0, max_iter, u, inf, w):
    if t < w:
        return inf + (eta0 - inf) * t / w
    return curve(t - w, eta0, max_iter - w, u, inf)


SETTINGS = [(1e-3, 100, 250.0, 1e-6), (0.1, 250, 250.0, 1e-4), (0.5, 37, 1000.0, 0.01), (2.0, 1, 1.0, 1e-3)]


def close(ours, theirs):
    return ours == theirs or abs(ours - theirs) <= RTOL * abs(theirs)


@pytest.mark.parametrize("eta0, n, u, inf", SETTINGS)
def test_hyperbolic_matches_the_paper(eta0, n, u, inf):
    with Schedule.hyperbolic(eta0, n, u, inf) as schedule:
        values = schedule.values(0, 3 * n + 5).tolist()
        assert schedule.nominal == eta0
    for t, value in enumerate(values):
        assert close(value, hyperbolic(t, eta0, n, u, inf)), t
    assert values[0] == eta0 and all(a >= b for a, b in zip(values, values[1:]))  # decreasing
    assert values[-1] == values[n] >= inf * (1 - 1e-12)  # held past max_iter, at or above the infimum (= at N = U)


@pytest.mark.parametrize("eta0, n, u, inf", SETTINGS)
def test_exp_hyperbolic_matches_the_paper(eta0, n, u, inf):
    with Schedule.exp_hyperbolic(eta0, n, u, inf) as schedule:
        values = schedule.values(0, 3 * n + 5).tolist()
    for t, value in enumerate(values):
        assert close(value, exp_hyperbolic(t, eta0, n, u, inf)), t
    assert values[0] == eta0 and values[-1] == values[n]


@pytest.mark.parametrize("kind, curve", [("hyperbolic", hyperbolic), ("exp_hyperbolic", exp_hyperbolic)])
@pytest.mark.parametrize("warmup_steps", [1, 10, 30])
def test_warmup_variant(kind, curve, warmup_steps):
    eta0, max_iter, u, inf = 0.1, 100, 250.0, 1e-4
    with getattr(Schedule, kind)(eta0, max_iter, u, inf, warmup_steps=warmup_steps) as schedule:
        assert schedule.kind == h.ScheduleKind.WARMUP
        values = schedule.values(0, 2 * max_iter).tolist()
    assert values[0] == inf
    for t, value in enumerate(values):
        assert close(value, with_warmup(curve, t, eta0, max_iter, u, inf, warmup_steps)), t


def test_defined_for_every_step():
    with Schedule.hyperbolic() as a, Schedule.exp_hyperbolic() as b:
        for schedule in (a, b):
            last = schedule.value(100)
            assert schedule.value(101) == schedule.value(2**40) == schedule.value(2**64 - 1) == last
            assert math.isfinite(last)


def test_epoch_insensitivity():
    """For fixed U the early rates of longer runs never fall faster (paper's claim)."""
    u = 1000.0
    runs = [Schedule.hyperbolic(0.1, n, u, 1e-4).values(0, 50) for n in (100, 200, 400, 1000)]
    for shorter, longer in zip(runs, runs[1:]):
        assert (longer >= shorter).all()
    line = [0.1 - (0.1 - 1e-4) * x / u for x in range(50)]
    assert all(close(a, b) or abs(a - b) < 1e-15 for a, b in zip(runs[-1].tolist(), line))  # N = U: a line


def test_constraints():
    with pytest.raises(h.InvalidArgumentError, match="infimum_lr must be > 0"):
        Schedule.exp_hyperbolic(0.1, 100, 250.0, 0.0)
    with Schedule.hyperbolic(0.1, 100, 250.0, 0.0) as linear_floor:  # allowed for the plain form
        assert linear_floor.value(100) > 0
    with pytest.raises(h.InvalidArgumentError, match=r"upper_bound \(50.0\) must be >= max_iter \(100.0\)"):
        Schedule.hyperbolic(0.1, 100, 50.0)
    with pytest.raises(h.InvalidArgumentError, match="must be < base_lr"):
        Schedule.hyperbolic(0.1, 100, 250.0, 0.1)
    with Schedule.exp_hyperbolic(0.1, 100, 250.0, 1e-4) as schedule:
        before = schedule.save()
        with pytest.raises(h.InvalidArgumentError, match="infimum_lr must be > 0"):
            schedule.set(infimum_lr=0.0)
        with pytest.raises(h.InvalidArgumentError, match="upper_bound"):
            schedule.set(max_iter=300)
        schedule.set(max_iter=300, upper_bound=300.0)  # together: valid
        assert schedule.get("max_iter") == 300
        schedule.set(max_iter=100, upper_bound=250.0)
        assert schedule.save() == before


@pytest.mark.parametrize("kind", ["hyperbolic", "exp_hyperbolic"])
def test_warmup_step_zero_is_the_infimum_and_step_one_the_first_ramp_step(kind):
    """Decided (issue 11, item 12): step 0 runs at η_inf, as the formula η_inf + (η₀ − η_inf)·x/W
    and torch's warmups do. The reference runs step 0 at η₀ only because it never writes the lr
    before its first step(); from step 1 on it agrees."""
    eta0, inf, w = 0.1, 1e-4, 10
    with getattr(Schedule, kind)(eta0, 100, 250.0, inf, warmup_steps=w) as schedule:
        assert schedule.value(0) == inf
        assert schedule.value(1) == inf + (eta0 - inf) * (1 / w)
        assert schedule.value(w) == eta0
