"""Schedule values against torch.optim.lr_scheduler stepped side by side (float64), for every
torch scheduler the library mirrors, a few settings each: relative error ≤ 1e-12."""

from __future__ import annotations

import warnings

import pytest

torch = pytest.importorskip("torch")

import hessianlr as h  # noqa: E402
from hessianlr import Schedule  # noqa: E402

L = torch.optim.lr_scheduler
RTOL = 1e-12


def torch_rates(make, base_lr, steps, momentum=0.0):
    """get_last_lr() after 0, 1, …, steps − 1 calls of scheduler.step() (optimizer.step() first,
    as torch wants)."""
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    optimizer = torch.optim.SGD([p], lr=base_lr, momentum=momentum)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SequentialLR's deprecation notes and the like
        scheduler = make(optimizer)
        rates = [scheduler.get_last_lr()[0]]
        for _ in range(steps - 1):
            optimizer.step()
            scheduler.step()
            rates.append(scheduler.get_last_lr()[0])
    return rates


def check(schedule, make, base_lr, steps, momentum=0.0):
    expected = torch_rates(make, base_lr, steps, momentum)
    with schedule:
        values = schedule.values(0, steps)
        singles = [schedule.value(t) for t in range(0, steps, max(1, steps // 37))]
        assert singles == values[:: max(1, steps // 37)].tolist()
    worst = 0.0
    for t, (ours, theirs) in enumerate(zip(values.tolist(), expected)):
        assert isinstance(theirs, float)
        if ours == theirs:
            continue
        error = abs(ours - theirs) / abs(theirs)
        assert error <= RTOL, f"step {t}: library {ours!r}, torch {theirs!r} (relative error {error:.3g})"
        worst = max(worst, error)
    return worst


@pytest.mark.parametrize("base_lr, factor, total_iters", [(0.1, 1 / 3, 5), (0.37, 0.5, 1), (1e-3, 0.25, 40)])
def test_constant(base_lr, factor, total_iters):
    check(Schedule.constant(base_lr, factor, total_iters),
          lambda o: L.ConstantLR(o, factor=factor, total_iters=total_iters), base_lr, 120)


def test_constant_with_zero_total_iters_follows_torchs_closed_form():
    """Documented deviation: torch's stepped ConstantLR with total_iters = 0 applies the factor at
    step 0 and then never removes it; its closed form (and the library) give base_lr throughout."""
    p = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([p], lr=0.37)
    scheduler = L.ConstantLR(optimizer, factor=0.5, total_iters=0)
    assert scheduler.get_last_lr() == [0.185]  # the stepped form
    assert scheduler._get_closed_form_lr() == [0.37]
    with Schedule.constant(0.37, 0.5, 0) as schedule:
        assert schedule.values(0, 10).tolist() == [0.37] * 10


@pytest.mark.parametrize("start, end, total", [(1 / 3, 1.0, 5), (1.0, 0.1, 50), (0.01, 0.7, 17)])
def test_linear(start, end, total):
    check(Schedule.linear(0.1, start, end, total),
          lambda o: L.LinearLR(o, start_factor=start, end_factor=end, total_iters=total), 0.1, 150)


def test_linear_to_zero_is_never_negative():
    """Issue 11 item 5: torch's closed form s + (e − s)·T/T rounds to −1.1e−16 for these factors
    (its stepped form to +6.2e−17). The library follows the closed form bit for bit where that
    stays within [min(s, e), max(s, e)] and clamps it there otherwise, so past the ramp the rate
    is exactly base·e = 0, and a tuner never receives a negative rate."""
    s, base, total = 0.9313166610544982, 1e-3, 5
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    scheduler = L.LinearLR(torch.optim.SGD([p], lr=base), start_factor=s, end_factor=0.0, total_iters=total)
    scheduler.last_epoch = total
    assert scheduler._get_closed_form_lr()[0] < 0  # the overshoot this guards against
    stepped = torch_rates(lambda o: L.LinearLR(o, start_factor=s, end_factor=0.0, total_iters=total), base, 12)
    with Schedule.linear(base, s, 0.0, total) as schedule:
        values = schedule.values(0, 12).tolist()
        for t in range(total):
            assert values[t] == base * (s + (0.0 - s) * t / total)  # torch's closed form
            assert values[t] == pytest.approx(stepped[t], rel=RTOL)
        assert values[total:] == [0.0] * (12 - total)
        assert all(abs(x) < 1e-18 for x in stepped[total:])  # torch's stepped form: ≈ 0 too
        with h.Constant(initial_lr=1.0, schedule=schedule) as tuner:
            rates = [tuner.lr(t) for t in range(12)]
    assert min(rates) >= 0.0 and rates[total:] == [0.0] * (12 - total), rates


@pytest.mark.parametrize("step_size, gamma", [(30, 0.1), (7, 0.5), (1, 0.97)])
def test_step(step_size, gamma):
    check(Schedule.step(0.2, step_size, gamma), lambda o: L.StepLR(o, step_size, gamma), 0.2, 300)


@pytest.mark.parametrize("milestones, gamma", [([30, 80], 0.1), ([5, 5, 20, 3], 0.5), ([], 0.1), ([0, 1], 0.9)])
def test_multi_step(milestones, gamma):
    check(Schedule.multi_step(0.2, milestones, gamma), lambda o: L.MultiStepLR(o, milestones, gamma), 0.2, 150)


@pytest.mark.parametrize("gamma", [0.96, 0.5, 0.999])
def test_exponential(gamma):
    check(Schedule.exponential(0.3, gamma), lambda o: L.ExponentialLR(o, gamma), 0.3, 600)


@pytest.mark.parametrize("total, power", [(5, 1.0), (100, 0.5), (37, 2.0)])
def test_polynomial(total, power):
    check(Schedule.polynomial(0.1, total, power), lambda o: L.PolynomialLR(o, total, power), 0.1, 150)


@pytest.mark.parametrize("t_max, eta_min", [(100, 0.0), (7, 1e-3), (1000, 1e-5), (333, 0.01)])
def test_cosine(t_max, eta_min):
    check(Schedule.cosine(0.1, t_max, eta_min), lambda o: L.CosineAnnealingLR(o, t_max, eta_min), 0.1, 1001)


def test_cosine_is_closer_to_exact_than_torchs_recursion():
    """torch's CosineAnnealingLR is a recurrence; with eta_min = base/2 it drifts ~1e-12 from the
    exact value over 1000 steps, while the library's closed form stays within a few ulps."""
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    with Schedule.cosine(0.1, 333, 0.05) as schedule:
        ours = schedule.values(0, 1001).tolist()
    theirs = torch_rates(lambda o: L.CosineAnnealingLR(o, 333, 0.05), 0.1, 1001)
    worst_ours = worst_theirs = 0.0
    for t in range(1001):
        exact = mpmath.mpf("0.05") + mpmath.mpf("0.05") * (1 + mpmath.cos(mpmath.pi * t / 333)) / 2
        worst_ours = max(worst_ours, float(abs(ours[t] - exact) / exact))
        worst_theirs = max(worst_theirs, float(abs(theirs[t] - exact) / exact))
        assert abs(ours[t] - theirs[t]) <= 2e-12 * theirs[t]
    assert worst_ours < 2e-15 < 1e-13 < worst_theirs


@pytest.mark.parametrize("t_0, t_mult, eta_min", [(10, 1, 0.0), (5, 2, 1e-3), (3, 3, 0.0)])
def test_cosine_warm_restarts(t_0, t_mult, eta_min):
    check(Schedule.cosine_warm_restarts(0.1, t_0, t_mult, eta_min),
          lambda o: L.CosineAnnealingWarmRestarts(o, t_0, t_mult, eta_min), 0.1, 500)


ONE_CYCLE = [
    dict(max_lr=0.5, total_steps=100),
    dict(max_lr=0.5, total_steps=77, pct_start=0.25, anneal_strategy="linear", div_factor=10.0,
         final_div_factor=100.0, three_phase=True),
    dict(max_lr=2.0, total_steps=1000, pct_start=0.4, anneal_strategy="cos", div_factor=5.0,
         final_div_factor=1e3, three_phase=True),
    dict(max_lr=0.1, total_steps=13, pct_start=0.5),
]


@pytest.mark.parametrize("settings", ONE_CYCLE)
def test_one_cycle(settings):
    """t ≤ total_steps − 1 (torch raises past it; the library holds the last value)."""
    total = settings["total_steps"]
    schedule = Schedule.one_cycle(**settings)
    assert schedule.value(total - 1) == schedule.value(total + 50)
    check(schedule, lambda o: L.OneCycleLR(o, cycle_momentum=False, **settings), settings["max_lr"], total)


CYCLIC = [
    dict(base_lr=0.01, max_lr=0.1, step_size_up=7),
    dict(base_lr=0.01, max_lr=0.1, step_size_up=7, step_size_down=3, mode="triangular2"),
    dict(base_lr=0.001, max_lr=0.05, step_size_up=20, step_size_down=None, mode="exp_range", gamma=0.99),
    dict(base_lr=0.1, max_lr=0.02, step_size_up=4, step_size_down=11, mode="triangular"),
]


@pytest.mark.parametrize("settings", CYCLIC)
def test_cyclic(settings):
    """torch's CyclicLR cycles momentum by default, which needs SGD with momentum (0.9)."""
    check(Schedule.cyclic(**settings), lambda o: L.CyclicLR(o, **settings), settings["base_lr"], 400, momentum=0.9)


@pytest.mark.parametrize("warmup_steps, start_factor, t_max, eta_min", [(10, 1 / 3, 50, 1e-4), (1, 0.1, 200, 0.0),
                                                                        (25, 0.01, 25, 1e-3)])
def test_sequential_warmup_cosine(warmup_steps, start_factor, t_max, eta_min):
    """SequentialLR([LinearLR, CosineAnnealingLR], [W]) is warmup(cosine, W, f·base) and also
    join([linear, cosine], [W])."""
    base = 0.1

    def make(o):
        return L.SequentialLR(o, [L.LinearLR(o, start_factor, 1.0, warmup_steps), L.CosineAnnealingLR(o, t_max, eta_min)],
                              [warmup_steps])

    with Schedule.cosine(base, t_max, eta_min) as cosine, Schedule.linear(base, start_factor, 1.0, warmup_steps) as ramp:
        check(h.warmup(cosine, warmup_steps, start_factor * base), make, base, 400)
        check(h.join([ramp, cosine], [warmup_steps]), make, base, 400)
        check(cosine.with_warmup(warmup_steps, start_factor * base), make, base, 400)


# -- several param groups: ScheduleLR against torch's schedulers (issue 11, item 10) -------------

GROUP_LRS = [0.05, 0.5, 0.0031]


def groups_optimizer(lrs, momentum=0.0):
    params = [torch.nn.Parameter(torch.zeros(1, dtype=torch.float64)) for _ in lrs]
    return torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs)], lr=lrs[0], momentum=momentum)


def check_groups(schedule, make, steps, lrs=GROUP_LRS, momentum=0.0, closed_form=False):
    """ScheduleLR(schedule) and torch's ``make(optimizer)``, each on its own optimizer with the
    param groups' initial lrs ``lrs``, stepped side by side: every group's rate at every step
    within RTOL of torch's stepped rates, and with ``closed_form`` bit-identical to torch's
    closed form (``_get_closed_form_lr``)."""
    from hessianlr.torch import ScheduleLR

    ours_optimizer, torch_optimizer = groups_optimizer(lrs, momentum), groups_optimizer(lrs, momentum)
    worst = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = ScheduleLR(ours_optimizer, schedule), make(torch_optimizer)
        schedule.close()
        for t in range(steps):
            for k, (a, b) in enumerate(zip(ours.get_last_lr(), theirs.get_last_lr())):
                assert ours_optimizer.param_groups[k]["lr"] == a
                if a != b:
                    error = abs(a - b) / abs(b)
                    assert error <= RTOL, f"step {t} group {k}: ScheduleLR {a!r}, torch {b!r} ({error:.3g})"
                    worst = max(worst, error)
            if closed_form:
                assert ours.get_last_lr() == theirs._get_closed_form_lr(), f"step {t}"
            ours_optimizer.step(), ours.step()
            torch_optimizer.step(), theirs.step()
    return worst


@pytest.mark.parametrize("name", ["constant", "linear", "step", "multi_step", "exponential", "polynomial"])
def test_groups_multiplicative(name):
    schedule, make = {
        "constant": (Schedule.constant(0.05, 0.25, 17), lambda o: L.ConstantLR(o, 0.25, 17)),
        "linear": (Schedule.linear(0.05, 0.1, 0.9, 40), lambda o: L.LinearLR(o, 0.1, 0.9, 40)),
        "step": (Schedule.step(0.05, 13, 0.5), lambda o: L.StepLR(o, 13, 0.5)),
        "multi_step": (Schedule.multi_step(0.05, [10, 30, 30, 95], 0.3), lambda o: L.MultiStepLR(o, [10, 30, 30, 95], 0.3)),
        "exponential": (Schedule.exponential(0.05, 0.97), lambda o: L.ExponentialLR(o, 0.97)),
        "polynomial": (Schedule.polynomial(0.05, 150, 0.7), lambda o: L.PolynomialLR(o, 150, 0.7)),
    }[name]
    check_groups(schedule, make, 300, closed_form=True)  # the group's lr is the base, as in torch


def test_groups_cosine_keeps_eta_min_absolute_as_torchs_test_cos_anneal_lr():
    """torch's test_cos_anneal_lr (groups 0.05 and 0.5, eta_min 1e-10, T_max 10): at step 10
    torch gives both groups 1e-10; scaling eta_min with the group gave 1e-9."""
    check_groups(Schedule.cosine(0.05, 10, 1e-10), lambda o: L.CosineAnnealingLR(o, 10, 1e-10), 400, lrs=[0.05, 0.5])
    from hessianlr.torch import ScheduleLR

    optimizer = groups_optimizer([0.05, 0.5])
    scheduler = ScheduleLR(optimizer, Schedule.cosine(0.05, 10, 1e-10))
    for _ in range(10):
        optimizer.step()
        scheduler.step()
    assert scheduler.get_last_lr() == [1e-10, 1e-10]


@pytest.mark.parametrize("t_max, eta_min", [(100, 1e-3), (37, 0.01), (250, 0.0)])
def test_groups_cosine(t_max, eta_min):
    check_groups(Schedule.cosine(0.05, t_max, eta_min), lambda o: L.CosineAnnealingLR(o, t_max, eta_min), 1000,
                 closed_form=True)


@pytest.mark.parametrize("t_0, t_mult, eta_min", [(10, 2, 1e-3), (5, 1, 1e-4), (3, 3, 0.01)])
def test_groups_cosine_warm_restarts(t_0, t_mult, eta_min):
    """The issue's case: T_mult 2, step 309 was off by 1.9e-5 relative."""
    assert check_groups(Schedule.cosine_warm_restarts(0.05, t_0, t_mult, eta_min),
                        lambda o: L.CosineAnnealingWarmRestarts(o, t_0, t_mult, eta_min), 700) <= RTOL


@pytest.mark.parametrize("settings", ONE_CYCLE[:3])
def test_groups_one_cycle(settings):
    """torch's OneCycleLR ignores the optimizer's lrs and takes max_lr per group: the groups'
    lrs in the ratio of ScheduleLR's groups are that list."""
    settings = dict(settings)
    top = settings.pop("max_lr")
    lrs = [top, top / 7, top * 3]
    check_groups(Schedule.one_cycle(top, **settings), lambda o: L.OneCycleLR(o, max_lr=lrs, cycle_momentum=False,
                                                                             **settings),
                 settings["total_steps"], lrs=lrs)


@pytest.mark.parametrize("settings", CYCLIC[:3])
def test_groups_cyclic(settings):
    """torch's CyclicLR takes base_lr and max_lr per group: lists in the ratio of the groups' lrs."""
    settings = dict(settings)
    base, top = settings.pop("base_lr"), settings.pop("max_lr")
    lrs = [top, top / 4, top * 2.5]
    ratio = [lr / top for lr in lrs]
    check_groups(Schedule.cyclic(base, top, **settings),
                 lambda o: L.CyclicLR(o, base_lr=[base * r for r in ratio], max_lr=lrs, **settings),
                 400, lrs=lrs, momentum=0.9)


@pytest.mark.parametrize("warmup_steps, start_factor, t_max, eta_min", [(10, 1 / 3, 50, 1e-4), (25, 0.01, 300, 1e-3)])
def test_groups_sequential_warmup_cosine(warmup_steps, start_factor, t_max, eta_min):
    """SequentialLR([LinearLR(start_factor), CosineAnnealingLR(eta_min)]): the warmup starts at
    start_factor·lr_k in each group (it scales), the cosine ends at the absolute eta_min."""
    base = GROUP_LRS[0]

    def make(o):
        return L.SequentialLR(o, [L.LinearLR(o, start_factor, 1.0, warmup_steps), L.CosineAnnealingLR(o, t_max, eta_min)],
                              [warmup_steps])

    check_groups(h.warmup(Schedule.cosine(base, t_max, eta_min), warmup_steps, start_factor * base), make, 400)
    check_groups(h.join([Schedule.linear(base, start_factor, 1.0, warmup_steps), Schedule.cosine(base, t_max, eta_min)],
                        [warmup_steps]), make, 400)
