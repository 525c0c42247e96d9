"""hessianlr.torch.LRTuner for every method, the optimizer update directions, loss probes that
restore the weights bit for bit, HVPs only on needed steps, checkpoints, ScheduleLR."""

from __future__ import annotations

import copy
import io
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import hessianlr as h  # noqa: E402
from hessianlr import Need  # noqa: E402
from hessianlr.torch import (  # noqa: E402
    LRTuner, ScheduleLR, UnsupportedOptimizerError, UnsupportedTrainingError, update_directions)
from conftest import torch_methods, user_step  # noqa: E402


DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA"))]


def tiny(dtype=torch.float64, seed=0, device="cpu"):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(3, 6), torch.nn.Tanh(), torch.nn.Linear(6, 2)).to(dtype)
    x = torch.randn(24, 3, dtype=dtype)
    y = torch.randn(24, 2, dtype=dtype)
    model, x, y = model.to(device), x.to(device), y.to(device)
    return model, (lambda: torch.nn.functional.mse_loss(model(x), y))


def two_groups(model):
    return [{"params": model[0].parameters()}, {"params": model[2].parameters()}]


def weight_bits(model):
    return [p.detach().clone().view(torch.int64 if p.dtype == torch.float64 else torch.int32) for p in model.parameters()]


def same_bits(a, b):
    return all(torch.equal(x, y) for x, y in zip(a, b))


# -- the update direction ------------------------------------------------------------------------

OPTIMIZERS = {
    "sgd": lambda p: torch.optim.SGD(p, lr=0.1),
    "sgd-wd-maximize": lambda p: torch.optim.SGD(p, lr=0.1, weight_decay=0.01, maximize=True),
    "sgd-momentum": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=1e-3),
    "sgd-nesterov": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.8, nesterov=True, foreach=True),
    "adam": lambda p: torch.optim.Adam(p, lr=0.01),
    "adam-amsgrad-wd": lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.9), weight_decay=0.1, amsgrad=True),
    "adam-decoupled": lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
    "adamw": lambda p: torch.optim.AdamW(p, lr=0.01, eps=1e-6, foreach=False),
    "adamw-maximize": lambda p: torch.optim.AdamW(p, lr=0.02, maximize=True, amsgrad=True),
}


def state_snapshot(optimizer):
    return copy.deepcopy(optimizer.state_dict()["state"])


def states_equal(a, b):
    if a.keys() != b.keys():
        return False
    for key in a:
        if a[key].keys() != b[key].keys():
            return False
        for name in a[key]:
            x, y = a[key][name], b[key][name]
            if isinstance(x, torch.Tensor) and not torch.equal(x, y):
                return False
    return True


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_update_direction_is_the_optimizers_step_without_taking_it(name):
    model, closure = tiny()
    optimizer = OPTIMIZERS[name](two_groups(model))
    groups = optimizer.param_groups
    for _ in range(4):
        optimizer.zero_grad()
        closure().backward()
        grads = [[p.grad.detach().clone() for p in g["params"]] for g in groups]
        before_state = state_snapshot(optimizer)
        before = [p.detach().clone() for p in model.parameters()]
        directions = update_directions(optimizer, groups, grads)
        assert states_equal(state_snapshot(optimizer), before_state)  # nothing was changed
        assert same_bits(weight_bits(model), [b.view(torch.int64) for b in before])
        optimizer.step()
        flat = [u for us in directions for u in us]
        for p, p0, u in zip(model.parameters(), before, flat):
            lr = next(g["lr"] for g in groups if any(q is p for q in g["params"]))
            torch.testing.assert_close((p0 - p.detach()) / lr, u, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("method", ["auto", "hessianlr", "cdat", "gen", "armijo"])
def test_a_maximising_optimizer_is_refused_by_every_tuning_method(method):
    """With maximize=True the optimizer climbs the closure's value while every tuner minimises it
    (probe losses, slopes along p.grad): auto diverged silently (MSE 2e33 in 40 steps), CDAT and
    Armijo sank to lr_min. Refused at construction, naming the group; ``constant`` tunes nothing."""
    model, _ = tiny()
    groups = two_groups(model)
    groups[1]["maximize"] = True
    with pytest.raises(ValueError, match="param group 1 has maximize=True"):
        LRTuner(torch.optim.Adam(groups, lr=1e-2), method)
    LRTuner(torch.optim.Adam(two_groups(model), lr=1e-2, maximize=True), "constant")


def _adam_direction_out_of_place(optimizer, group, p, g):
    """The docstring's Adam/AdamW u, written out of place (the reference for the in-place code)."""
    beta1, beta2 = group["betas"]
    state = optimizer.state.get(p, {})
    t = float(state["step"]) + 1 if "step" in state else 1.0
    decoupled = isinstance(optimizer, torch.optim.AdamW)
    d = -g if group["maximize"] else g
    if group["weight_decay"] != 0 and not decoupled:
        d = d.add(p.detach(), alpha=group["weight_decay"])
    m = d.mul(1 - beta1) if "exp_avg" not in state else torch.lerp(state["exp_avg"], d, 1 - beta1)
    v = d.mul(d).mul_(1 - beta2) if "exp_avg_sq" not in state else state["exp_avg_sq"].mul(beta2).addcmul_(
        d, d, value=1 - beta2)
    if group["amsgrad"] and state.get("max_exp_avg_sq") is not None:
        v = torch.maximum(state["max_exp_avg_sq"], v)
    u = (m / (1 - beta1**t)) / (v.sqrt() / (1 - beta2**t) ** 0.5 + group["eps"])
    if group["weight_decay"] != 0 and decoupled:
        u = u.add(p.detach(), alpha=group["weight_decay"])
    return u


@pytest.mark.parametrize("make", [
    lambda ps: torch.optim.Adam(ps, lr=1e-2),
    lambda ps: torch.optim.Adam(ps, lr=1e-2, weight_decay=0.1, amsgrad=True, maximize=True),
    lambda ps: torch.optim.AdamW(ps, lr=1e-2, weight_decay=0.05),
    lambda ps: torch.optim.AdamW(ps, lr=1e-2, amsgrad=True)])
def test_adams_direction_in_place_is_the_out_of_place_expression_bit_for_bit(make):
    """update_directions computes Adam's u in place on its fresh m and v (fewer allocations): the
    same operations in the same order as the out-of-place expression, so the same bits, at the
    first step (no state) and later, and the optimizer's state is left as it was."""
    model, closure = tiny(dtype=torch.float32)
    optimizer = make(model.parameters())
    group = optimizer.param_groups[0]
    for _ in range(3):
        optimizer.zero_grad()
        closure().backward()
        grads = [p.grad.detach().clone() for p in group["params"]]
        before_state = state_snapshot(optimizer)
        (directions,) = update_directions(optimizer, [group], [grads])
        assert states_equal(state_snapshot(optimizer), before_state)
        for p, g, u in zip(group["params"], grads, directions):
            assert torch.equal(u, _adam_direction_out_of_place(optimizer, group, p, g))
        optimizer.step()


def test_unsupported_optimizer():
    """An optimizer without a closed-form rule has its update measured (test_torch_measured_update);
    one whose step needs a closure cannot be dry-run and is refused for every method that steps
    along the update; direction 'gradient' is refused for any optimizer other than SGD."""
    model, closure = tiny()
    lbfgs = torch.optim.LBFGS(model.parameters(), lr=0.01)
    with pytest.raises(UnsupportedOptimizerError, match="LBFGS.step needs a closure"):
        LRTuner(lbfgs, "gen")
    with pytest.raises(UnsupportedOptimizerError):
        LRTuner(lbfgs, "cdat")  # CDAT's default direction is the update
    assert LRTuner(torch.optim.RMSprop(model.parameters(), lr=0.01), "cdat").direction == h.Direction.UPDATE
    # Measuring along g for an optimizer that steps along its own update would hand it an
    # SGD-scale rate: refused.
    with pytest.raises(ValueError, match="SGD-scale rate"):
        LRTuner(torch.optim.RMSprop(model.parameters(), lr=0.01), "gen", direction="gradient", update_period=1)
    with pytest.raises(ValueError, match="disagrees"):
        LRTuner(torch.optim.SGD(model.parameters(), lr=0.1), h.CDAT(), direction="gradient")


# -- every method on a tiny model ------------------------------------------------------------------

METHODS = torch_methods(hessianlr_period=3)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", sorted(METHODS))
def test_every_method_drives_a_torch_optimizer(name, device, monkeypatch):
    model, closure = tiny(torch.float32, seed=1, device=device)
    make_optimizer, options = METHODS[name]
    optimizer = make_optimizer(two_groups(model))
    method = name.split("-")[0]
    driver = LRTuner(optimizer, method, **options)
    tuner = driver.tuner
    assert isinstance(tuner, h.TUNER_CLASSES[h.method_of(method)]) and tuner.groups == 2

    calls, probes_seen = [], []
    original = torch.autograd.grad

    def recording(outputs, inputs, *args, **kwargs):
        calls.append((driver.step_count, kwargs.get("create_graph", False), kwargs.get("grad_outputs") is not None))
        return original(outputs, inputs, *args, **kwargs)

    monkeypatch.setattr(torch.autograd, "grad", recording)

    def probing_closure():
        if not torch.is_grad_enabled():
            probes_seen.append(driver.step_count)
        return closure()

    curvature_steps, start = [], closure().item()
    for t in range(9):
        need, _ = tuner.need(t)
        if need == Need.CURVATURE:
            curvature_steps.append(t)
        before = weight_bits(model)
        rates = driver.step(closure=probing_closure)
        assert same_bits(weight_bits(model), before)  # probes restored the weights exactly
        assert tuner.need(t) == (Need.NOTHING, 0)  # every need was satisfied
        assert rates == tuner.lrs(t) == [g["lr"] for g in optimizer.param_groups] == driver.get_last_lr()
        assert all(np.isfinite(rates)) and all(r > 0 for r in rates)
        optimizer.step()
    gradients = [c for c in calls if not c[2]]
    assert [c[0] for c in gradients] == list(range(9))  # one gradient per step
    assert [c[0] for c in gradients if c[1]] == curvature_steps  # double-backward graph only when needed
    hvps = [c[0] for c in calls if c[2]]
    assert hvps == [t for t in curvature_steps for _ in range(2)] and driver.hvp_count == len(hvps)
    assert driver.probe_count == len(probes_seen)
    if method in ("hessianlr", "cdat"):
        assert curvature_steps and not probes_seen
    elif method in ("gen", "hidlr", "armijo"):
        assert probes_seen and not curvature_steps
        assert tuner.info(h.Info.UPDATES) >= 3
    else:
        assert not probes_seen and not curvature_steps
        assert driver.get_last_lr() == pytest.approx([h.Schedule.cosine(0.05, 10).value(8)] * 2)
    assert closure().item() < start  # it trained


def test_probe_points_are_w_minus_xi_d_and_zero_rows_reuse_the_loss():
    model, closure = tiny(torch.float32)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    driver = LRTuner(optimizer, "gen", update_period=1)
    w = [p.detach().clone() for p in model.parameters()]
    seen = []

    def recording():
        seen.append([p.detach().clone() for p in model.parameters()])
        return closure()

    loss = closure()
    driver.step(loss, closure=recording)
    g = [p.grad for p in model.parameters()]
    assert len(seen) == 2  # ρ = −1 and +1; ρ = 0 is the step's loss
    for trial, xi in zip(seen, (-0.1, 0.1)):
        for t, w0, g0 in zip(trial, w, g):
            expected = (w0.double() - g0.double() * xi).float()  # one rounding, as the library's host mode
            assert torch.equal(t, expected)


class Boom(Exception):
    pass


def test_failure_mid_step_restores_weights_and_tuner():
    model, closure = tiny(torch.float64)
    optimizer = torch.optim.SGD(two_groups(model), lr=0.05)
    driver = LRTuner(optimizer, "hidlr", update_period=1)
    driver.step(closure=closure)
    optimizer.step()
    before_tuner, before_weights = driver.tuner.save(), weight_bits(model)
    counts = (driver.probe_count, driver.hvp_count, driver.step_count)
    calls = []

    def failing():
        calls.append(1)
        if len(calls) == 3:
            raise Boom("third forward pass")
        return closure()

    with pytest.raises(Boom):
        driver.step(closure=failing)
    assert same_bits(weight_bits(model), before_weights)
    assert driver.tuner.save() == before_tuner
    assert (driver.probe_count, driver.hvp_count, driver.step_count) == counts
    driver.step(closure=closure)  # the same step again
    assert driver.step_count == counts[2] + 1


@pytest.mark.parametrize("method", ["gen", "hidlr"])
def test_a_non_finite_probe_loss_is_a_failed_fit_that_decays_the_rates(method):
    model, closure = tiny(torch.float64)
    groups = two_groups(model) if method == "hidlr" else model.parameters()
    optimizer = torch.optim.SGD(groups, lr=0.05)
    driver = LRTuner(optimizer, method, update_period=1, fit_failure_decay=0.25)
    before = driver.tuner.lrs(0)
    weights = weight_bits(model)
    calls = []

    def diverging():
        calls.append(1)
        return closure() * float("inf") if len(calls) == 2 else closure()

    rates = driver.step(closure=diverging)
    assert rates == [0.25 * r for r in before]
    assert [g["lr"] for g in optimizer.param_groups] == rates
    assert driver.failed_observation_count == 1 and driver.observation_count == 1
    assert same_bits(weight_bits(model), weights)  # probes restored the weights
    flags = h.Flag(int(driver.tuner.info(h.Info.LAST_FLAGS, 0)))
    assert flags == h.Flag.FIT_REJECTED | h.Flag.OBSERVATION_FAILED
    assert driver.state_dict()["failed_observation_count"] == 1
    optimizer.step()
    driver.step(closure=closure)  # a finite step fits again
    assert driver.failed_observation_count == 1
    assert not h.Flag(int(driver.tuner.info(h.Info.LAST_FLAGS, 0))) & h.Flag.OBSERVATION_FAILED


def test_probe_closure_evaluates_every_probe_row_on_its_own_batch():
    model, closure = tiny(torch.float64)
    torch.manual_seed(5)
    x2, y2 = torch.randn(24, 3, dtype=torch.float64), torch.randn(24, 2, dtype=torch.float64)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    driver = LRTuner(optimizer, "gen", update_period=1)
    reference = h.GeN(initial_lr=0.05, update_period=1)
    seen = []

    def other_batch():
        seen.append([p.detach().clone() for p in model.parameters()])
        return torch.nn.functional.mse_loss(model(x2), y2)

    w = [p.detach().clone() for p in model.parameters()]
    rates = driver.step(closure(), probe_closure=other_batch)
    g = [p.grad for p in model.parameters()]
    assert len(seen) == 3 and driver.probe_count == 3  # ρ = −1, 0, +1, all on the other batch
    assert all(torch.equal(a, b) for a, b in zip(seen[1], w))  # the zero row at w itself
    # The same losses, computed by hand, give the library the same rates.
    losses = []
    for xi in (-0.05, 0.0, 0.05):
        with torch.no_grad():
            for p, w0, g0 in zip(model.parameters(), w, g):
                p.copy_(w0 - xi * g0)
            losses.append(float(torch.nn.functional.mse_loss(model(x2), y2)))
        with torch.no_grad():
            for p, w0 in zip(model.parameters(), w):
                p.copy_(w0)
    reference.observe(0, Need.LOSSES, losses)
    assert rates == reference.lrs(0)
    with pytest.raises(ValueError, match="probe_closure is for GeN and Hi-DLR"):
        LRTuner(torch.optim.SGD(model.parameters(), lr=0.1), "armijo").step(closure(), closure=closure,
                                                                             probe_closure=other_batch)


def test_probe_closure_serves_every_hidlr_probe_row_and_restores_the_weights():
    model, closure = tiny(torch.float64)
    torch.manual_seed(6)
    x2, y2 = torch.randn(24, 3, dtype=torch.float64), torch.randn(24, 2, dtype=torch.float64)
    optimizer = torch.optim.SGD(two_groups(model), lr=0.05)
    driver = LRTuner(optimizer, "hidlr", update_period=1, seed=3)
    need, rows = driver.tuner.need(0)
    assert need == Need.LOSSES
    before = weight_bits(model)
    seen = []

    def other_batch():
        seen.append([p.detach().clone() for p in model.parameters()])
        return torch.nn.functional.mse_loss(model(x2), y2)

    driver.step(closure(), probe_closure=other_batch)
    assert len(seen) == rows == driver.probe_count == 4 * 2  # every row, the origin included
    assert any(all(torch.equal(a, b.view(a.dtype)) for a, b in zip(row, before)) for row in seen)
    assert all(torch.equal(a, b) for a, b in zip(weight_bits(model), before))  # restored bit for bit


def test_armijo_backtracks_past_a_non_finite_trial_loss():
    model, closure = tiny(torch.float64)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    driver = LRTuner(optimizer, "armijo", initial_lr=1.0)
    calls = []

    def first_trial_overflows():
        calls.append(1)
        return closure() * float("nan") if len(calls) == 1 else closure()

    rates = driver.step(closure(), closure=first_trial_overflows)  # the step's own loss is finite
    assert driver.failed_observation_count == 1
    assert rates[0] <= 0.8  # the first trial (1.0) was rejected
    assert h.Flag(int(driver.tuner.info(h.Info.LAST_FLAGS, 0))) & h.Flag.OBSERVATION_FAILED


def test_closure_is_required_when_losses_are():
    model, closure = tiny()
    driver = LRTuner(torch.optim.SGD(model.parameters(), lr=0.1), "armijo")
    before = driver.tuner.save()
    with pytest.raises(ValueError, match="needs slope.*closure="):
        driver.step(closure())
    with pytest.raises(TypeError, match="loss"):
        LRTuner(torch.optim.SGD(model.parameters(), lr=0.1)).step()
    assert driver.tuner.save() == before and driver.step_count == 0


def test_construction_checks():
    model, _ = tiny()
    sgd = torch.optim.SGD(two_groups(model), lr=0.1)
    with pytest.raises(ValueError, match="the tuner has 1 groups, the optimizer 2"):
        LRTuner(sgd, h.GeN())
    with pytest.raises(TypeError, match="configure the given tuner"):
        LRTuner(sgd, h.GeN(groups=2), lr_max=0.5)
    with pytest.raises(TypeError, match="torch.optim.Optimizer"):
        LRTuner(object(), "gen")
    with pytest.raises(ValueError, match="armijo has one rate"):
        LRTuner(torch.optim.SGD([{"params": model[0].parameters(), "lr": 0.1},
                                 {"params": model[2].parameters(), "lr": 0.2}]), "armijo")
    driver = LRTuner(sgd, "hidlr", lr_max=0.5, initial_lr=[0.01, 0.02])
    assert driver.tuner.options()["initial_lr"] == [0.01, 0.02] and driver.get_last_lr() == [0.01, 0.02]
    assert [g["initial_lr"] for g in sgd.param_groups] == [0.1, 0.1]


def test_state_dict_round_trip_continues_identically():
    def run(steps, driver, optimizer, closure):
        out = []
        for _ in range(steps):
            driver.step(closure=closure)
            optimizer.step()
            out.append(driver.get_last_lr())
        return out

    model, closure = tiny(torch.float64, seed=3)
    optimizer = torch.optim.Adam(two_groups(model), lr=0.01)
    driver = LRTuner(optimizer, "gen", update_period=2, schedule=h.Schedule.exponential(0.01, 0.9))
    run(5, driver, optimizer, closure)
    buffer = io.BytesIO()
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "driver": driver.state_dict()}, buffer)
    expected = run(6, driver, optimizer, closure)

    model2, closure2 = tiny(torch.float64, seed=3)
    buffer.seek(0)
    checkpoint = torch.load(buffer, weights_only=False)
    model2.load_state_dict(checkpoint["model"])
    optimizer2 = torch.optim.Adam(two_groups(model2), lr=0.5)
    optimizer2.load_state_dict(checkpoint["optimizer"])
    driver2 = LRTuner(optimizer2, "gen", update_period=9)
    driver2.load_state_dict(checkpoint["driver"])
    assert driver2.step_count == 5 and driver2.tuner.get_schedule() == h.Schedule.exponential(0.01, 0.9)
    assert run(6, driver2, optimizer2, closure2) == expected


# -- ScheduleLR ---------------------------------------------------------------------------------


def test_schedule_lr_gives_each_group_the_schedule_rescaled_to_its_lr():
    """Group k follows schedule.rescaled(initial_lr_k): the group at the nominal rate gets the
    schedule exactly, the others torch's schedule for their lr (eta_min stays absolute; the
    side-by-side comparisons with torch are in test_schedule_torch.py)."""
    model, _ = tiny()
    schedule = h.warmup(h.Schedule.cosine(0.1, 40, 0.001), 5, 0.0)
    optimizer = torch.optim.SGD([{"params": model[0].parameters(), "lr": 0.1},
                                 {"params": model[2].parameters(), "lr": 0.02}], lr=0.1)
    scheduler = ScheduleLR(optimizer, schedule)
    second = schedule.rescaled(0.02)
    schedule.close()  # the scheduler keeps its own copy
    rates = []
    for t in range(60):
        value = scheduler.schedule.value(t)
        assert scheduler.get_last_lr() == [g["lr"] for g in optimizer.param_groups]
        assert scheduler.get_last_lr() == [value, second.value(t)]  # initial lr = nominal: exactly the schedule
        rates.append(scheduler.get_last_lr())
        optimizer.step()
        scheduler.step()
    assert rates[45] == [0.001, 0.001]  # at the cosine's end both groups are at the absolute eta_min
    # The documented LambdaLR alternative scales the whole schedule, eta_min included.
    reference = torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in (0.1, 0.02)])
    lambda_like = torch.optim.lr_scheduler.LambdaLR(reference, scheduler.schedule.factor)
    for _ in range(45):
        reference.step()
        lambda_like.step()
    assert lambda_like.get_last_lr() == pytest.approx([0.001, 0.02 * 0.001 / 0.1], rel=1e-12)


BAD_LRS = [math.nan, math.inf, -math.inf, -1e-3]


@pytest.mark.parametrize("bad", BAD_LRS)
def test_schedule_lr_refuses_a_bad_group_lr_at_construction(bad):
    model, _ = tiny()
    optimizer = torch.optim.SGD([{"params": model[0].parameters(), "lr": 0.1},
                                 {"params": model[2].parameters(), "lr": bad}], lr=0.1)
    with pytest.raises(ValueError, match=r"param group 1's initial lr is -?(nan|inf|-0\.001)"):
        ScheduleLR(optimizer, h.Schedule.cosine(0.1, 40))
    assert all("initial_lr" not in group for group in optimizer.param_groups)  # nothing written


@pytest.mark.parametrize("bad", BAD_LRS)
def test_schedule_lr_refuses_a_bad_group_lr_at_a_step(bad):
    model, _ = tiny()
    optimizer = torch.optim.SGD([{"params": model[0].parameters(), "lr": 0.1},
                                 {"params": model[2].parameters(), "lr": 0.05}], lr=0.1)
    scheduler = ScheduleLR(optimizer, h.Schedule.cosine(0.1, 40))
    optimizer.step()
    scheduler.step()
    optimizer.param_groups[0]["lr"] = bad
    with pytest.raises(ValueError, match="param group 0's lr"):
        scheduler.step()
    scheduler.base_lrs[1] = bad  # the scheduler's own copy of the bases, edited
    optimizer.param_groups[0]["lr"] = 0.1
    with pytest.raises(ValueError, match="param group 1's base lr"):
        scheduler.step()
    scheduler.base_lrs[1] = 0.07  # a good new base: the group's schedule is rebuilt for it
    scheduler.step()
    assert scheduler.get_last_lr()[1] == h.Schedule.cosine(0.07, 40).value(scheduler.last_epoch)


def test_schedule_lr_load_state_dict_is_all_or_nothing():
    model, _ = tiny()
    optimizer = torch.optim.SGD([{"params": model[0].parameters(), "lr": 0.1},
                                 {"params": model[2].parameters(), "lr": 0.05}], lr=0.1)
    scheduler = ScheduleLR(optimizer, h.Schedule.cosine(0.1, 40, 1e-3))
    for _ in range(3):
        optimizer.step()
        scheduler.step()
    other_optimizer = torch.optim.SGD([{"params": model[0].parameters(), "lr": 0.3},
                                       {"params": model[2].parameters(), "lr": 0.2}], lr=0.3)
    other = ScheduleLR(other_optimizer, h.Schedule.step(0.3, 5))
    for _ in range(9):
        other_optimizer.step()
        other.step()
    good = other.state_dict()
    assert "_rescaled" not in good and isinstance(good["schedule"], bytes)
    before = scheduler.state_dict()
    corrupt = bytearray(good["schedule"])
    corrupt[len(corrupt) // 2] ^= 0x40
    bad_states = [
        (dict(good, schedule=bytes(corrupt)), h.SnapshotCorruptError),
        (dict(good, schedule=good["schedule"][:-3]), h.SnapshotCorruptError),
        (dict(good, base_lrs=[0.3, math.nan]), ValueError),
        (dict(good, base_lrs=[0.3, -0.2]), ValueError),
        (dict(good, base_lrs=[0.3]), ValueError),
        (dict(good, last_epoch=2.5), ValueError),
        (dict(good, last_epoch=-7), ValueError),
    ]
    for state, error in bad_states:
        with pytest.raises(error):
            scheduler.load_state_dict(state)
        after = scheduler.state_dict()
        assert after == before  # last_epoch, base_lrs, the schedule: all as they were
    expected = [h.Schedule.cosine(0.1, 40, 1e-3).rescaled(lr).value(4) for lr in (0.1, 0.05)]
    optimizer.step()
    scheduler.step()
    assert scheduler.get_last_lr() == expected
    scheduler.load_state_dict(good)
    assert scheduler.last_epoch == 9 and scheduler.schedule == h.Schedule.step(0.3, 5)
    optimizer.step()
    scheduler.step()
    assert scheduler.get_last_lr() == [h.Schedule.step(0.3, 5).rescaled(lr).value(10) for lr in (0.3, 0.2)]


def test_schedule_lr_state_dict():
    model, _ = tiny()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.3)
    scheduler = ScheduleLR(optimizer, h.Schedule.one_cycle(0.3, 50))
    for _ in range(7):
        optimizer.step()
        scheduler.step()
    buffer = io.BytesIO()
    torch.save(scheduler.state_dict(), buffer)
    assert isinstance(scheduler.state_dict()["schedule"], bytes)
    optimizer2 = torch.optim.SGD(model.parameters(), lr=0.3)
    scheduler2 = ScheduleLR(optimizer2, h.Schedule.constant(0.3))
    buffer.seek(0)
    scheduler2.load_state_dict(torch.load(buffer, weights_only=False))
    assert scheduler2.last_epoch == 7 and scheduler2.schedule == scheduler.schedule
    optimizer2.step()
    scheduler2.step()
    assert scheduler2.get_last_lr() == [scheduler.schedule.value(8)]
    with pytest.raises(TypeError, match="hessianlr.Schedule"):
        ScheduleLR(optimizer, lambda t: 1.0)


def test_schedule_lr_resumed_after_the_optimizer_puts_the_restored_rate_in_the_groups():
    """The usual resume order (optimizer state loaded, scheduler built, scheduler state loaded):
    the first optimizer.step() after resuming uses the restored step's rate, as with torch's
    CosineAnnealingLR resumed the same way (the constructor set value(0) into the groups)."""
    rates = {}
    for name, make in (("ours", lambda opt: ScheduleLR(opt, h.Schedule.cosine(0.1, 30, 1e-3))),
                       ("torch", lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, 30, 1e-3))):
        model, _ = tiny()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        scheduler = make(optimizer)
        for _ in range(11):
            optimizer.step()
            scheduler.step()
        saved = (copy.deepcopy(optimizer.state_dict()), copy.deepcopy(scheduler.state_dict()))
        optimizer2 = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        optimizer2.load_state_dict(saved[0])
        scheduler2 = make(optimizer2)
        scheduler2.load_state_dict(saved[1])
        rates[name] = (optimizer.param_groups[0]["lr"], optimizer2.param_groups[0]["lr"], scheduler2.get_last_lr()[0])
    assert rates["ours"][1] == rates["ours"][0] == rates["ours"][2]
    assert rates["ours"][1] == pytest.approx(rates["torch"][1], rel=1e-12)


def test_schedule_lr_pieces_in_sequential_lr_follow_the_joined_schedule():
    """As documented: SequentialLR of ScheduleLRs restarts each piece by its closed form, and
    the rates are those of hessianlr.join of the same pieces."""
    model, _ = tiny()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.2)
    first, second = h.Schedule.linear(0.2, 0.1, 1.0, 5), h.Schedule.cosine(0.2, 20, 1e-3)
    sequential = torch.optim.lr_scheduler.SequentialLR(
        optimizer, [ScheduleLR(optimizer, first), ScheduleLR(optimizer, second)], milestones=[5])
    joined = h.join([first, second], [5])
    for t in range(1, 30):
        optimizer.step()
        sequential.step()
        assert optimizer.param_groups[0]["lr"] == pytest.approx(joined.value(t), rel=1e-12, abs=1e-15), t


def test_schedule_lr_resume_in_torchs_documented_order_and_inside_sequential_lr():
    """Optimizer and scheduler built, the optimizer's state loaded, then the scheduler's (torch's
    documented order), for a ScheduleLR alone and for a SequentialLR of two, resumed inside the
    first piece: every rate after resuming is the uninterrupted run's."""
    def build(model, which):
        optimizer = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
        if which == "alone":
            return optimizer, ScheduleLR(optimizer, h.Schedule.cosine(0.2, 25, 1e-3))
        first, second = h.Schedule.linear(0.2, 0.1, 1.0, 8), h.Schedule.cosine(0.2, 20, 1e-3)
        return optimizer, torch.optim.lr_scheduler.SequentialLR(
            optimizer, [ScheduleLR(optimizer, first), ScheduleLR(optimizer, second)], milestones=[8])

    for which in ("alone", "sequential"):
        model, _ = tiny()
        optimizer, scheduler = build(model, which)
        rates = []
        for t in range(20):
            if t == 5:
                saved = (copy.deepcopy(optimizer.state_dict()), copy.deepcopy(scheduler.state_dict()))
            rates.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            scheduler.step()
        model2, _ = tiny()
        optimizer2, scheduler2 = build(model2, which)
        optimizer2.load_state_dict(saved[0])
        scheduler2.load_state_dict(saved[1])
        resumed = []
        for _ in range(5, 20):
            resumed.append(optimizer2.param_groups[0]["lr"])
            optimizer2.step()
            scheduler2.step()
        assert resumed == pytest.approx(rates[5:], rel=1e-12), which


def test_register_update_rule_for_another_optimizer():
    from hessianlr.torch import register_update_rule

    class SignSGD(torch.optim.Optimizer):
        def __init__(self, params, lr):
            super().__init__(params, {"lr": lr})

        @torch.no_grad()
        def step(self):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.add_(p.grad.sign(), alpha=-group["lr"])

    model, closure = tiny()
    optimizer = SignSGD(model.parameters(), lr=0.01)
    measured = LRTuner(optimizer, "armijo")  # no rule yet: the update is measured by a dry run
    measured.step(closure=closure)
    g = [p.grad for p in model.parameters()]
    slope = sum(float(x.abs().sum()) for x in g)  # gᵀsign(g)
    assert measured.tuner.info(h.Info.LAST_SLOPE) == pytest.approx(slope, rel=1e-12)
    register_update_rule(SignSGD, lambda opt, group, params, grads: [None if g is None else g.sign() for g in grads])
    driver = LRTuner(optimizer, "armijo")
    driver.step(closure=closure)
    assert driver.tuner.info(h.Info.LAST_SLOPE) == pytest.approx(slope, rel=1e-12)
    assert LRTuner(torch.optim.SGD(model.parameters(), lr=0.1), "gen").direction == h.Direction.UPDATE  # built-ins kept


def test_the_direction_follows_the_optimizer_by_default():
    """The rates are measured along what the optimizer steps along: its update (momentum buffer,
    Adam's preconditioned step) unless it is plain SGD, where u = g; never an SGD-scale rate for
    an adaptive optimizer."""
    model, _ = tiny()
    params = list(model.parameters())
    cases = [
        (torch.optim.SGD(params, lr=0.1), h.Direction.GRADIENT),
        (torch.optim.SGD(params, lr=0.1, momentum=0.9), h.Direction.UPDATE),
        (torch.optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True), h.Direction.UPDATE),
        (torch.optim.SGD(params, lr=0.1, weight_decay=1e-4), h.Direction.UPDATE),
        (torch.optim.Adam(params, lr=1e-3), h.Direction.UPDATE),
        (torch.optim.AdamW(params, lr=1e-3), h.Direction.UPDATE),
    ]
    for optimizer, expected in cases:
        driver = LRTuner(optimizer, "hessianlr")
        assert driver.direction == expected, type(optimizer).__name__
        assert h.Direction(int(driver.tuner.get_param(h.Param.DIRECTION))) == expected
    for name in ("hessianlr", "gen", "cdat"):
        with pytest.raises(ValueError, match="SGD-scale rate"):
            LRTuner(torch.optim.AdamW(params, lr=1e-3), name, direction="gradient")
    # An explicit choice for SGD with momentum stays the caller's.
    assert LRTuner(torch.optim.SGD(params, lr=0.1, momentum=0.9), "hessianlr",
                   direction="gradient").direction == h.Direction.GRADIENT


# -- what the driver keeps between steps ---------------------------------------------------------

def _run_with_changes(driver, model, closure, steps=12):
    """Steps with the changes a loop may make between them: a layer frozen then unfrozen, the
    user's own lr (the driver sets its rate over it), the optimizer's load_state_dict (new
    param-group dicts). Returns the rates and the weights' bits after each step."""
    optimizer, history = driver.optimizer, []
    for t in range(steps):
        if t == 3:
            model[0].weight.requires_grad_(False)
        if t == 6:
            model[0].weight.requires_grad_(True)
        if t == 4:
            optimizer.param_groups[0]["lr"] = 123.0
        if t == 5:
            optimizer.load_state_dict(copy.deepcopy(optimizer.state_dict()))
        optimizer.zero_grad()
        closure().backward()
        rates = driver.after_backward(closure)
        optimizer.step()
        history.append((rates, weight_bits(model)))
    return history


@pytest.mark.parametrize("method, options", [("cdat", dict(update_period=2)), ("auto", {}),
                                             ("hessianlr", dict(update_period=3, direction="update"))])
def test_the_kept_param_group_layout_changes_no_rate(method, options):
    """The driver checks the param groups' parameters (sharded ones are refused) only when the
    groups changed; a driver that checks them at every call (its layout dropped before each)
    gives bit-identical rates and weights, through freezing, user lrs and load_state_dict."""
    runs = []
    for recheck in (False, True):
        model, closure = tiny()
        driver = LRTuner(torch.optim.Adam(two_groups(model), lr=0.01), method, **options)
        if recheck:
            original = driver._check_supported

            def check_afresh(*args, _original=original, _driver=driver, **kwargs):
                _driver._layout = None
                return _original(*args, **kwargs)

            driver._check_supported = check_afresh
        runs.append(_run_with_changes(driver, model, closure))
    for (rates_a, bits_a), (rates_b, bits_b) in zip(*runs):
        assert rates_a == rates_b and same_bits(bits_a, bits_b)


@pytest.mark.filterwarnings("ignore:LRTuner.after_backward at step")  # two calls at the same weights, on purpose
def test_changed_param_groups_are_checked_again_for_sharded_parameters(monkeypatch):
    """A parameter appended to a group's list, or groups replaced by the optimizer's
    load_state_dict, are checked again at the next call (here a parameter marked as sharded)."""
    import hessianlr.torch_driver as driver_module

    marked, seen = set(), []
    real = driver_module._sharded

    def sharded(p):
        seen.append(id(p))
        return "a test shard" if id(p) in marked else real(p)

    monkeypatch.setattr(driver_module, "_sharded", sharded)
    model, closure = tiny()
    optimizer = torch.optim.SGD(model[0].parameters(), lr=0.1)
    driver = LRTuner(optimizer, "cdat", update_period=2)
    for _ in range(2):
        optimizer.zero_grad()
        closure().backward()
        driver.after_backward(closure)
        optimizer.step()
    checked_at_construction = len(seen)
    assert checked_at_construction == 2  # the two parameters, once: not again at the steps
    optimizer.load_state_dict(optimizer.state_dict())  # new group dicts: checked again
    optimizer.zero_grad()
    closure().backward()
    driver.after_backward(closure)
    assert len(seen) == 2 * checked_at_construction
    extra = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    marked.add(id(extra))
    optimizer.param_groups[0]["params"].append(extra)
    state, step = driver.tuner.save(), driver.step_count
    with pytest.raises(UnsupportedTrainingError, match="parameter 2 of param group 0 is a test shard"):
        driver.after_backward(closure)
    assert driver.tuner.save() == state and driver.step_count == step


def test_a_param_group_added_after_construction_is_refused_with_nothing_changed():
    """The tuner has one group per param group of the optimizer it was built for: a group added
    later would keep its own lr until the next observation failed on a count mismatch; the next
    call says so instead, changing nothing."""
    model, closure = tiny()
    optimizer = torch.optim.SGD(model[0].parameters(), lr=0.1)
    driver = LRTuner(optimizer, "cdat", update_period=3)
    optimizer.zero_grad()
    closure().backward()
    driver.after_backward(closure)
    optimizer.step()
    optimizer.add_param_group({"params": model[2].parameters(), "lr": 0.5})
    state, step = driver.tuner.save(), driver.step_count
    optimizer.zero_grad()
    closure().backward()
    for call in (lambda: driver.after_backward(closure), lambda: driver.step(closure=closure)):
        with pytest.raises(ValueError, match="the optimizer has 2 param groups, the tuner 1"):
            call()
        assert driver.tuner.save() == state and driver.step_count == step
    assert optimizer.param_groups[1]["lr"] == 0.5


# -- the steps between observations --------------------------------------------------------------

class _CountingTuner:
    """Counts the driver's calls into the library through one tuner (need, lrs, plan, info)."""

    def __init__(self, tuner):
        self.calls = []
        for name in ("need", "lrs", "plan", "info"):
            original = getattr(tuner, name)

            def counted(*args, _name=name, _original=original, **kwargs):
                self.calls.append(_name)
                return _original(*args, **kwargs)

            setattr(tuner, name, counted)


@pytest.mark.parametrize("method", ["auto", "gen", "cdat", "hidlr"])
def test_steps_between_observations_call_the_library_not_at_all_and_keep_its_rates(method):
    """Between observations the driver reuses the rates hlr_tuner_plan promised (steady_until):
    no library call on those steps, and every rate it sets is the library's rate of that step,
    bit for bit (checked with tuner.lrs(t) afterwards)."""
    model, closure = tiny()
    optimizer = torch.optim.SGD(two_groups(model), lr=0.05, momentum=0.9)
    options = {} if method == "auto" else {"update_period": 4}
    driver = LRTuner(optimizer, method, **options)
    counting = _CountingTuner(driver.tuner)
    quiet = 0
    for t in range(40):
        observes = driver.tuner.need(t)[0] != Need.NOTHING
        counting.calls.clear()
        rates = driver.step(closure=closure)
        assert rates == driver.tuner.lrs(t), f"step {t}"
        if not observes and t > 0 and counting.calls == ["lrs"]:  # only the assert's own call
            quiet += 1
        optimizer.step()
    assert quiet >= 15, f"{quiet} of 40 steps made no library call"


def test_an_observation_step_asks_no_more_than_its_plan_when_the_next_is_later():
    """auto keeps a copy of the update only when the next step observes; after an observation at
    t the plan the step's rates come from already says whether t + 1 is steady (steady_until),
    so the driver asks nothing else: the step's need (a plan) and its new rates (the plan after
    the observation). It used to ask info(NEXT_UPDATE_STEP) at every observation as well."""
    model, closure = tiny()
    optimizer = torch.optim.SGD(two_groups(model), lr=0.05, momentum=0.9)
    driver = LRTuner(optimizer, "auto")
    counting = _CountingTuner(driver.tuner)
    checked = 0
    for t in range(60):
        observes = driver.tuner.need(t)[0] != Need.NOTHING
        counting.calls.clear()
        driver.step(closure=closure)
        calls = list(counting.calls)
        if observes and driver.tuner.info(h.Info.NEXT_UPDATE_STEP) > t + 1:
            assert calls == ["plan", "plan"], f"step {t}: {calls}"  # the step's need, then its new rates
            checked += 1
        optimizer.step()
    assert checked >= 5, f"{checked} observation steps were followed by a steady one"


def test_an_observations_tensors_are_freed_when_the_step_returns(monkeypatch):
    """The step backend of an observation (trial weights, saved parameters, directions) is freed
    by reference counting as soon as the step returns, with Python's cyclic collector off: the
    callback table of hlr_tuner_step refers back to its call, and that cycle kept the backend's
    tensors until the collector ran (3–23 MiB on a 265k-parameter MLP)."""
    import gc
    import weakref

    from hessianlr import torch_observations

    created = []
    original_init = torch_observations.TorchStepBackend.__init__

    def recording_init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        created.append(weakref.ref(self))

    monkeypatch.setattr(torch_observations.TorchStepBackend, "__init__", recording_init)
    model, closure = tiny()
    optimizer = torch.optim.SGD(two_groups(model), lr=0.05, momentum=0.9)
    driver = LRTuner(optimizer, "auto")
    gc.collect()
    gc.disable()
    try:
        for _ in range(12):
            driver.step(closure=closure)
            optimizer.step()
            assert all(ref() is None for ref in created), "a step backend outlived its step"
    finally:
        gc.enable()
    assert len(created) >= 5


def test_processes_are_asked_only_on_steps_that_observe(monkeypatch):
    """A step that observes nothing takes its rates from the plan, which only observations change,
    so processes cannot drift apart there: the driver asks torch.distributed for the world size
    on observing steps only (it cost a fifth of the driver's work on the others)."""
    from hessianlr import torch_driver as driver_module

    asked = []
    original = driver_module._world_size
    monkeypatch.setattr(driver_module, "_world_size", lambda torch: asked.append(1) or original(torch))
    model, closure = tiny()
    optimizer = torch.optim.SGD(two_groups(model), lr=0.05, momentum=0.9)
    driver = LRTuner(optimizer, "gen", update_period=4)
    for t in range(12):
        observes = driver.tuner.need(t)[0] != Need.NOTHING
        asked.clear()
        optimizer.zero_grad()
        closure().backward()
        driver.after_backward(closure)
        assert bool(asked) == observes, f"step {t}"
        optimizer.step()


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_a_non_finite_direction_on_an_observing_step_is_refused_and_changes_nothing(bad):
    """One process: the direction's finiteness is checked (a sum per tensor, one transfer)
    before an observation; a non-finite element raises NonFiniteError and the tuner is as it was."""
    model, closure = tiny()
    optimizer = torch.optim.SGD(two_groups(model), lr=0.05, momentum=0.9)
    driver = LRTuner(optimizer, "auto")
    optimizer.zero_grad()
    closure().backward()
    next(model.parameters()).grad.view(-1)[0] = bad
    before = driver.tuner.save()
    with pytest.raises(h.NonFiniteError, match="direction at step 0 .* is not finite"):
        driver.after_backward(closure)
    assert driver.tuner.save() == before and driver.step_count == 0


def _auto_until_it_probes_the_kept_update(optimizer_factory):
    """A driver of auto with the model and closure, stepped to the first step t ≥ 1 that observes
    along the update kept at t − 1 (backward done, after_backward not called yet)."""
    model, closure = tiny()
    optimizer = optimizer_factory(two_groups(model))
    driver = LRTuner(optimizer, "auto")
    while True:
        optimizer.zero_grad()
        closure().backward()
        kept = driver._previous_update
        if driver.tuner.need(driver.step_count)[0] != Need.NOTHING and kept is not None:
            return model, closure, driver
        driver.after_backward(closure)
        optimizer.step()


@pytest.mark.parametrize("bad", [math.inf, math.nan])
def test_a_non_finite_gradient_where_auto_probes_the_kept_update_is_refused_and_changes_nothing(bad):
    """Where auto probes along the update kept at the previous step, the step's own update is not
    computed: the gradient it would come from is checked instead. A non-finite element raises
    NonFiniteError with the tuner, the kept update and the step count as they were, and the same
    step with the gradient mended gives the rates, weights and tuner state of a run that never
    failed (a twin built the same way)."""
    momentum = lambda groups: torch.optim.SGD(groups, lr=0.05, momentum=0.9)  # noqa: E731
    model, closure, driver = _auto_until_it_probes_the_kept_update(momentum)
    twin_model, twin_closure, twin = _auto_until_it_probes_the_kept_update(momentum)
    t, before, kept = driver.step_count, driver.tuner.save(), driver._previous_update
    assert t >= 1 and twin.step_count == t
    grad = next(model.parameters()).grad
    good = grad.view(-1)[0].item()
    grad.view(-1)[0] = bad
    with pytest.raises(h.NonFiniteError, match=f"direction at step {t} .* is not finite"):
        driver.after_backward(closure)
    assert driver.tuner.save() == before and driver.step_count == t and driver._previous_update is kept
    grad.view(-1)[0] = good
    assert driver.after_backward(closure) == twin.after_backward(twin_closure)
    assert driver.tuner.save() == twin.tuner.save()
    for p, q in zip(model.parameters(), twin_model.parameters()):
        assert torch.equal(p, q)


def test_the_finiteness_check_is_exact_where_a_float32_sum_overflows():
    """_all_finite decides by one sum per tensor; a sum that overflows although every element is
    finite is settled element by element (finite), and any inf or NaN element is found."""
    huge = torch.full((4, 3), 3e38, dtype=torch.float32)
    assert not math.isfinite(float(huge.sum()))
    assert LRTuner._all_finite(torch, [[huge, None], [torch.ones(2)]])
    assert LRTuner._all_finite(torch, [[None], []])
    for bad in (math.inf, -math.inf, math.nan):
        mixed = huge.clone()
        mixed[1, 2] = bad
        assert not LRTuner._all_finite(torch, [[torch.ones(2)], [mixed]])


def test_auto_computes_the_update_of_an_observing_step_only_when_the_next_step_observes(monkeypatch):
    """Probing along the kept previous update, an observing step does not need its own update
    unless step t + 1 observes too (then it is kept for t + 1): over 60 steps of auto with AdamW
    the optimizer's update is computed exactly on the steps followed by an observing step."""
    import hessianlr.torch_driver as driver_module

    computed = []
    real = driver_module.update_directions

    def counting(optimizer, groups, grads_by_group):
        computed.append(driver.step_count)
        return real(optimizer, groups, grads_by_group)

    monkeypatch.setattr(driver_module, "update_directions", counting)
    model, closure = tiny()
    optimizer = torch.optim.AdamW(two_groups(model), lr=1e-3)
    driver = LRTuner(optimizer, "auto")
    observing = []
    for t in range(60):
        if driver.tuner.need(t)[0] != Need.NOTHING:
            observing.append(t)
        optimizer.zero_grad()
        closure().backward()
        driver.after_backward(closure)
        optimizer.step()
    assert len(observing) > 10
    assert computed == sorted({0} | {t - 1 for t in observing if t >= 1})


def test_a_change_to_the_tuner_between_observations_applies_at_the_next_step():
    """The kept plan is dropped when anything may have changed the tuner (its revision): a lower
    lr_max set between observations caps the very next step's rates."""
    model, closure = tiny()
    optimizer = torch.optim.SGD(two_groups(model), lr=0.05, momentum=0.9)
    driver = LRTuner(optimizer, "gen", update_period=8)
    for _ in range(3):
        driver.step(closure=closure)
        optimizer.step()
    assert driver.tuner.need(3)[0] == Need.NOTHING
    driver.tuner.set_param("lr_max", 1e-4)
    assert driver.step(closure=closure) == driver.tuner.lrs(3) == [1e-4, 1e-4]
    replacement = h.Tuner(h.Method.CONSTANT, 2, initial_lr=[0.5, 0.25])
    driver.tuner = replacement  # another tuner: its own rates at once
    assert driver.step(closure=closure) == [0.5, 0.25]


# -- trial weights -------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_trial_weights_in_kept_buffers_are_the_float64_formula_bit_for_bit(dtype):
    """set_trial computes round(float64(w) − ξ·float64(d)) in two work buffers it keeps in the
    caller's scratch dict (grown to the largest parameter, reused across trials and steps)
    instead of temporaries: the weights are those of the formula, bit for bit, for every
    parameter dtype, and restore() brings w back."""
    from hessianlr.torch_observations import TorchStepBackend

    gen = torch.Generator().manual_seed(3)
    params = [torch.nn.Parameter(torch.randn(shape, generator=gen).to(dtype)) for shape in ((7, 5), (13,), (2, 3, 4))]
    dirs = [torch.randn(p.shape, generator=gen).to(dtype) for p in params]
    before = [p.detach().clone() for p in params]
    scratch = {}
    for xi in (0.3, -1.7e-3, 4.0 ** 6):
        backend = TorchStepBackend(torch, [params[:2], params[2:]], [[None] * 2, [None]], [dirs[:2], dirs[2:]],
                                   closure=lambda: 0.0, graph=False, device=torch.device("cpu"), scratch=scratch)
        backend.set_trial([xi, 2 * xi])
        for k, (p, d, w) in enumerate(zip(params, dirs, before)):
            step = xi if k < 2 else 2 * xi
            expected = (w.to(torch.float64) - d.to(torch.float64) * step).to(dtype)
            assert torch.equal(p.detach(), expected), (dtype, xi, k)
        backend.restore()
        assert all(torch.equal(p.detach(), w) for p, w in zip(params, before))
    first, second = scratch[(torch.device("cpu"), torch.float64)]
    assert first.dtype == torch.float64 and first.numel() == second.numel() == 35  # the largest parameter


def test_inputs_a_new_user_gets_wrong_are_refused_with_a_message_naming_them():
    """Found by a new-user test; each failed with a torch error from deep inside the driver."""
    model, closure = tiny()
    # A param group at lr 0 (a way to freeze it): the message names the group and the fix.
    groups = two_groups(model)
    groups[1]["lr"] = 0.0
    with pytest.raises(ValueError, match="param group 1 has lr 0.0"):
        LRTuner(torch.optim.SGD(groups, lr=0.1), "auto")
    LRTuner(torch.optim.SGD(two_groups(model), lr=0.1), "auto", initial_lr=0.1)  # an explicit start is taken
    # A loss that was not reduced (reduction="none"): was "shape '[]' is invalid for input of size 24".
    unreduced = lambda: torch.nn.functional.mse_loss(model(torch.ones(24, 3, dtype=torch.float64)),  # noqa: E731
                                                    torch.zeros(24, 2, dtype=torch.float64), reduction="none")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    driver = LRTuner(optimizer, "auto")
    loss = unreduced()
    loss.mean().backward()
    with pytest.raises(ValueError, match=r"shape \(24, 2\).*reduce it"):
        driver.after_backward(unreduced, loss=loss)
    with pytest.raises(ValueError, match=r"shape \(24, 2\).*reduce it"):
        driver.after_backward(unreduced)
    with pytest.raises(ValueError, match=r"shape \(24, 2\).*reduce it"):
        LRTuner(torch.optim.SGD(model.parameters(), lr=0.1), "hessianlr").step(closure=unreduced)
    assert driver.step_count == 0
    # Sparse gradients with plain SGD (u = g, no update rule to refuse them): was "copy_() between
    # dense and sparse Tensors" from the probes, after nothing but the check could stop it.
    embedding = torch.nn.Embedding(10, 3, sparse=True).double()
    optimizer = torch.optim.SGD(embedding.parameters(), lr=0.1)
    for method in ("auto", "hessianlr", "gen"):
        driver = LRTuner(optimizer, method)
        sparse = lambda: embedding(torch.tensor([1, 2, 3])).pow(2).sum()  # noqa: E731
        optimizer.zero_grad()
        sparse().backward()
        before = driver.tuner.save()
        with pytest.raises(UnsupportedOptimizerError, match="sparse gradient at step 0"):
            driver.after_backward(sparse)
        assert driver.tuner.save() == before and driver.step_count == 0


@pytest.mark.parametrize("make", [lambda p: torch.optim.SGD(p, lr=0.1),
                                  lambda p: torch.optim.Adam(p, lr=1e-2, fused=True)])
def test_after_backward_again_without_an_optimizer_step_is_warned_about(make):
    """Found by a new-user test: a second after_backward with no optimizer.step() in between
    counted a step that did not happen and moved the rates, silently. The optimizer's step
    post-hook counts its steps (fused optimizers do not bump the parameters' versions); one
    warning per driver; a normal loop, and a copied driver (no hook), never warn."""
    import warnings
    model, closure = tiny()
    optimizer = make(model.parameters())
    driver = LRTuner(optimizer, "auto")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(20):
            user_step(driver, optimizer, closure)
        copied = copy.deepcopy(driver)
        assert copied._step_hook is None
    optimizer.zero_grad()
    closure().backward()
    driver.after_backward(closure)
    with pytest.warns(UserWarning, match="no optimizer.step\\(\\) in between"):
        driver.after_backward(closure)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        driver.after_backward(closure)  # once per driver
