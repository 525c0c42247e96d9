"""The update of an optimizer without a closed-form rule, measured by a dry run of its step
(hessianlr.torch_measured_update): exact, side-effect free, and what makes every method — auto
first — usable with any torch optimizer whose step takes the gradient in p.grad."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

import hessianlr as h  # noqa: E402
from hessianlr.constants import Optimizer, Param  # noqa: E402
from hessianlr.integrations.checks import estimate_memory_overhead  # noqa: E402
from hessianlr.torch import LRTuner, UnsupportedOptimizerError  # noqa: E402
from hessianlr.torch_directions import _adam, _sgd, is_measured, optimizer_options  # noqa: E402
from hessianlr.torch_measured_update import measured_updates  # noqa: E402
from conftest import user_step  # noqa: E402

OTHERS = {
    "rmsprop": lambda p: torch.optim.RMSprop(p, lr=0.01, momentum=0.5, weight_decay=1e-3),
    "adagrad": lambda p: torch.optim.Adagrad(p, lr=0.1),
    "nadam": lambda p: torch.optim.NAdam(p, lr=0.01, weight_decay=1e-3),
    "radam": lambda p: torch.optim.RAdam(p, lr=0.01),
    "adamax": lambda p: torch.optim.Adamax(p, lr=0.01),
    "adadelta": lambda p: torch.optim.Adadelta(p, lr=1.0),
    # a package's optimizer (the pinned learning-rate-free peer): its estimate d, d_max, k live in
    # the param group and are restored with it
    "prodigy": lambda p: __import__("prodigyopt").Prodigy(p, lr=1.0, weight_decay=1e-3),
}


def test_an_optimizer_that_sets_its_own_step_size_is_warned_about():
    """Prodigy (a learning-rate-free optimizer) under auto: the driver warns at construction and
    validate_setup reports it; what happens otherwise, measured here: the loss runs away."""
    from prodigyopt import Prodigy

    from hessianlr.integrations.checks import validate_setup

    model, closure = tiny()
    optimizer = Prodigy(groups_of(model), lr=1.0)
    with pytest.warns(UserWarning, match="Prodigy estimates its own step size"):
        driver = LRTuner(optimizer, "auto")
    assert "own-step-size" in {p.code for p in validate_setup(optimizer, model, method="auto").problems}
    assert "own-step-size" not in {p.code for p in validate_setup(torch.optim.RMSprop(model.parameters()), model,
                                                                    method="auto").problems}
    start = float(closure().detach())
    for _ in range(40):
        user_step(driver, optimizer, closure)
    assert float(closure().detach()) > 100 * start


def tiny(seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(3, 6), torch.nn.Tanh(), torch.nn.Linear(6, 2)).double()
    x, y = torch.randn(24, 3, dtype=torch.float64), torch.randn(24, 2, dtype=torch.float64)
    return model, (lambda: torch.nn.functional.mse_loss(model(x), y))


def groups_of(model):
    return [{"params": model[0].parameters()}, {"params": model[2].parameters()}]


def backward(model, closure):
    for p in model.parameters():
        p.grad = None
    closure().backward()


def trainable(optimizer):
    groups = optimizer.param_groups
    params = [[p for p in g["params"] if p.requires_grad] for g in groups]
    return groups, params, [[p.grad for p in ps] for ps in params]


def checkpoint(model, optimizer, driver):
    """Deep copies of what a training script saves: the driver's and optimizer's state, the weights."""
    import copy
    return copy.deepcopy((driver.state_dict(), optimizer.state_dict(), [p.detach().clone() for p in model.parameters()]))


def restored(saved, name, *driver_args, **driver_options):
    """A new model, optimizer ``OTHERS[name]`` and driver, restored from ``checkpoint`` in the usual
    order (weights, optimizer state, then a new driver and its state)."""
    model, closure = tiny()
    with torch.no_grad():
        for p, w in zip(model.parameters(), saved[2]):
            p.copy_(w)
    optimizer = OTHERS[name](groups_of(model))
    optimizer.load_state_dict(saved[1])
    driver = LRTuner(optimizer, *driver_args, **driver_options)
    driver.load_state_dict(saved[0])
    return model, closure, optimizer, driver


def snapshot(optimizer):
    """Bits of every parameter and state tensor, the state's keys and the group settings."""
    every = [p for g in optimizer.param_groups for p in g["params"]]
    state = {i: {k: (v.clone() if isinstance(v, torch.Tensor) else v) for k, v in optimizer.state[p].items()}
             for i, p in enumerate(every) if p in optimizer.state}
    ids = {i: {k: id(v) for k, v in optimizer.state[p].items()} for i, p in enumerate(every) if p in optimizer.state}
    settings = [{k: v for k, v in g.items() if k != "params"} for g in optimizer.param_groups]
    return [p.detach().clone() for p in every], state, ids, settings


def same(a, b) -> bool:
    (wa, sa, ia, ga), (wb, sb, ib, gb) = a, b
    if ia != ib or ga != gb or len(wa) != len(wb) or not all(torch.equal(x, y) for x, y in zip(wa, wb)):
        return False
    return sa.keys() == sb.keys() and all(
        sa[i].keys() == sb[i].keys() and all(torch.equal(sa[i][k], sb[i][k]) if isinstance(sa[i][k], torch.Tensor)
                                             else sa[i][k] == sb[i][k] for k in sa[i]) for i in sa)


@pytest.mark.parametrize("make, rule", [
    (lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3), _sgd),
    (lambda p: torch.optim.AdamW(p, lr=1e-3, weight_decay=0.1), _adam),
    (lambda p: torch.optim.Adam(p, lr=1e-3, amsgrad=True), _adam),
])
def test_the_measurement_equals_the_closed_form_rule_to_rounding(make, rule):
    """Where a closed-form rule exists, the dry run measures the same u (float64: agreement to
    ~1e-9 relative, the rounding of w − w′ at the step's scale), at the first step and later."""
    model, closure = tiny()
    optimizer = make(groups_of(model))
    for _ in range(3):
        backward(model, closure)
        groups, params, grads = trainable(optimizer)
        measured = measured_updates(optimizer, groups, params, grads)
        for group, ps, gs, us in zip(groups, params, grads, measured):
            for u, v in zip(us, rule(optimizer, group, ps, gs)):
                assert torch.allclose(u, v, rtol=1e-9, atol=1e-12 * float(v.abs().max()))
        optimizer.step()


@pytest.mark.parametrize("name", sorted(OTHERS))
def test_the_dry_run_changes_nothing_and_measures_the_step_taken(name):
    """After the dry run the parameters, the state (tensors in place, same objects, same keys:
    none created by the dry run at the first step) and the group settings are as before, no step hook ran; the real
    step then moves every parameter by −η·u to rounding."""
    model, closure = tiny()
    optimizer = OTHERS[name](groups_of(model))
    calls = []
    optimizer.register_step_post_hook(lambda *args: calls.append(1))
    for t in range(3):
        backward(model, closure)
        before = snapshot(optimizer)
        groups, params, grads = trainable(optimizer)
        measured = measured_updates(optimizer, groups, params, grads)
        assert same(snapshot(optimizer), before), f"step {t}"
        assert calls == [1] * t
        old = [[p.detach().clone() for p in ps] for ps in params]
        optimizer.step()
        for group, ps, ws, us in zip(groups, params, old, measured):
            for p, w, u in zip(ps, ws, us):
                assert torch.allclose(p.detach(), w - group["lr"] * u, rtol=0, atol=1e-15 * (1 + float(w.abs().max())))


def test_a_step_that_raises_leaves_everything_as_it_was():
    class Failing(torch.optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, {"lr": 0.1})

        @torch.no_grad()
        def step(self):
            for group in self.param_groups:
                for p in group["params"]:
                    self.state[p]["seen"] = torch.ones(1)
                    p.sub_(p.grad, alpha=group["lr"])
                    group["lr"] = 5.0
                    raise RuntimeError("boom")

    model, closure = tiny()
    optimizer = Failing(model.parameters())
    backward(model, closure)
    before = snapshot(optimizer)
    with pytest.raises(RuntimeError, match="boom"):
        measured_updates(optimizer, *trainable(optimizer))
    assert same(snapshot(optimizer), before) and len(optimizer.state) == 0


def test_an_optimizer_whose_step_needs_a_closure_is_refused_at_construction():
    model, _ = tiny()
    optimizer = torch.optim.LBFGS(model.parameters(), lr=0.1)
    with pytest.raises(UnsupportedOptimizerError, match="LBFGS.step needs a closure"):
        LRTuner(optimizer, "auto")
    assert not is_measured(torch.optim.SGD(model.parameters(), lr=0.1))
    assert is_measured(torch.optim.RMSprop(model.parameters(), lr=0.1))


@pytest.mark.parametrize("name", sorted(set(OTHERS) - {"prodigy"}))
def test_auto_trains_with_any_optimizer_deterministically(name):
    """auto with an optimizer the library has no rule for: finite rates within bounds, the loss
    falls, and two runs give the same rates bit for bit."""
    def run():
        model, closure = tiny()
        optimizer = OTHERS[name](groups_of(model))
        driver = LRTuner(optimizer, "auto")
        start = float(closure().detach())
        rates = []
        for _ in range(40):
            rates.append(user_step(driver, optimizer, closure))
        return rates, start, float(closure().detach()), driver.observation_count

    rates, start, end, observations = run()
    assert rates == run()[0]
    assert observations >= 2 and end < start
    assert all(math.isfinite(r) and 0 < r for step in rates for r in step)


def test_the_dynamics_of_other_optimizers_follow_their_coefficients():
    model, _ = tiny()
    p = list(model.parameters())
    adam_like = optimizer_options(torch.optim.NAdam(p, betas=(0.8, 0.99)))
    assert adam_like == {"optimizer": int(Optimizer.ADAM), "momentum": 0.8, "dampening": 0.0, "nesterov": 0}
    heavy_ball = optimizer_options(torch.optim.RMSprop(p, momentum=0.5))
    assert heavy_ball == {"optimizer": int(Optimizer.SGD), "momentum": 0.5, "dampening": 0.0, "nesterov": 0}
    assert optimizer_options(torch.optim.Adagrad(p))["momentum"] == 0.0
    driver = LRTuner(torch.optim.RMSprop(p, lr=0.01, momentum=0.5), "auto")
    assert driver.tuner.get_param(Param.MOMENTUM) == 0.5


def test_the_memory_estimate_counts_the_dry_run():
    model, closure = tiny()
    optimizer = torch.optim.RMSprop(model.parameters(), lr=0.01, momentum=0.5)
    size = sum(p.numel() * p.element_size() for p in model.parameters())
    before = estimate_memory_overhead(model, optimizer, "auto")
    assert before.measured_update_bytes == size and any("dry run" in n for n in before.notes)
    backward(model, closure)
    optimizer.step()  # square_avg and momentum_buffer now exist (plus a step count)
    state = sum(v.numel() * v.element_size() for s in optimizer.state.values() for v in s.values()
                if isinstance(v, torch.Tensor))
    after = estimate_memory_overhead(model, optimizer, "auto")
    assert after.measured_update_bytes == size + state and state >= 2 * size
    assert estimate_memory_overhead(model, torch.optim.AdamW(model.parameters()), "auto").measured_update_bytes == 0
    assert h.Method.AUTO == LRTuner(optimizer, "auto").tuner.method


def test_auto_reads_the_update_taken_from_the_weights_instead_of_a_dry_run(monkeypatch):
    """For an optimizer without a closed form, auto keeps w_t (and the rates) on the step before
    an observation and probes along the update actually taken, (w_t − w_{t+1})/η_t: the step's
    update is dry-run only where nothing was kept (the bracket at step 0), and the direction
    probed equals the dry run's to rounding."""
    import hessianlr.torch_directions as directions
    from hessianlr.torch_observations import TorchStepBackend

    dry_runs, probed = [], []
    real_measure = directions.measured_updates
    monkeypatch.setattr(directions, "measured_updates",
                        lambda *args, **kwargs: dry_runs.append(driver.step_count) or real_measure(*args, **kwargs))
    real_init = TorchStepBackend.__init__

    def recording_init(self, torch_, params_by_group, grads_by_group, dirs, **kwargs):
        probed.append((driver.step_count, [[None if d is None else d.clone() for d in ds] for ds in dirs]))
        real_init(self, torch_, params_by_group, grads_by_group, dirs, **kwargs)

    monkeypatch.setattr(TorchStepBackend, "__init__", recording_init)
    model, closure = tiny()
    optimizer = OTHERS["rmsprop"](groups_of(model))
    driver = LRTuner(optimizer, "auto")
    expected = {}
    for t in range(60):
        optimizer.zero_grad()
        loss = closure()
        loss.backward()
        driver.after_backward(closure, loss=loss)
        kept = driver._previous_update
        if kept is not None and kept[0] == t and t > 0:  # step 0 dry-ran its update for the bracket: kept as is
            assert kept[2] == driver.get_last_lr()  # weights and the rates of this step, no direction
            groups, params, grads = trainable(optimizer)
            expected[t + 1] = real_measure(optimizer, groups, params, grads)  # what a dry run gives now
        optimizer.step()
    assert dry_runs == [0] and driver.observation_count > 10
    compared = 0
    for t, dirs in probed:
        if t in expected:
            for us, vs in zip(dirs, expected[t]):
                for u, v in zip(us, vs):
                    assert torch.allclose(u, v, rtol=1e-6, atol=1e-9 * float(v.abs().max()))
            compared += 1
    assert compared == len(expected) > 10


def test_a_checkpoint_with_kept_weights_continues_bit_identically():
    """state_dict() between a step that kept w_t and the observation that reads the update taken
    from it: a driver, optimizer and model restored from it give the same rates bit for bit.
    (RMSprop: torch's own load_state_dict casts NAdam's float32 mu_product to the parameters'
    dtype, so NAdam itself does not continue bit for bit from a checkpoint of float64 weights.)"""
    def steps(model, closure, optimizer, driver, count, stop_when_kept=False):
        rates = []
        for _ in range(count):
            optimizer.zero_grad()
            loss = closure()
            loss.backward()
            rates.append(driver.after_backward(closure, loss=loss))
            optimizer.step()
            if stop_when_kept and driver._previous_update is not None and len(rates) > 12:
                break
        return rates

    model, closure = tiny()
    optimizer = OTHERS["rmsprop"](groups_of(model))
    driver = LRTuner(optimizer, "auto")
    steps(model, closure, optimizer, driver, 100, stop_when_kept=True)
    assert driver._previous_update is not None and driver._previous_update[2] is not None
    saved = checkpoint(model, optimizer, driver)
    rates = steps(model, closure, optimizer, driver, 30)
    model2, closure2, optimizer2, driver2 = restored(saved, "rmsprop", "auto")
    assert steps(model2, closure2, optimizer2, driver2, 30) == rates
    assert driver2.tuner.save() == driver.tuner.save()


@pytest.mark.parametrize("method", ["hessianlr", "cdat"])
@pytest.mark.parametrize("own_gradient", [False, True])
def test_graph_curvature_survives_the_dry_run(method, own_gradient):
    """The dry run writes the parameters and writes them back; their autograd version counters
    are put back too, so the double-backward graph in p.grad still gives the HVPs (it refused
    "modified by an inplace operation" before)."""
    model, closure = tiny()
    optimizer = OTHERS["rmsprop"](groups_of(model))
    driver = LRTuner(optimizer, method, update_period=2, curvature="graph")
    for _ in range(6):
        optimizer.zero_grad()
        if own_gradient:
            driver.step(closure=closure)
        else:
            closure().backward(create_graph=driver.wants_curvature())
            driver.after_backward(closure)
        optimizer.step()
    assert driver.hvp_count == 3 * 2 and all(math.isfinite(r) and r > 0 for r in driver.get_last_lr())


def test_complex_parameters_and_sparse_gradients_are_refused_with_nothing_changed():
    torch.manual_seed(0)
    embedding = torch.nn.Embedding(10, 3, sparse=True).double()
    optimizer = torch.optim.SparseAdam(embedding.parameters(), lr=0.01)
    driver = LRTuner(optimizer, "auto")
    closure = lambda: embedding(torch.tensor([1, 2, 3])).pow(2).sum()  # noqa: E731
    closure().backward()
    before = driver.tuner.save()
    with pytest.raises(UnsupportedOptimizerError, match="sparse gradients"):
        driver.after_backward(closure)
    assert driver.tuner.save() == before and driver.step_count == 0
    weight = torch.nn.Parameter(torch.randn(3, dtype=torch.complex128))
    optimizer = torch.optim.RMSprop([weight], lr=0.01)
    driver = LRTuner(optimizer, "gen", update_period=1)
    closure = lambda: (weight.abs() ** 2).sum()  # noqa: E731
    closure().backward()
    before = driver.tuner.save()
    with pytest.raises(UnsupportedOptimizerError, match="complex parameters"):
        driver.after_backward(closure)
    assert driver.tuner.save() == before and driver.step_count == 0


def test_no_step_hook_sees_the_dry_run_even_through_super_step():
    """A subclass whose step calls super().step() goes through the base class's hooked wrapper:
    the optimizer's own and torch's global hooks are set aside for the dry run, and kept."""
    from torch.optim.optimizer import register_optimizer_step_post_hook

    class MyRMSprop(torch.optim.RMSprop):
        def step(self, closure=None):
            return super().step(closure)

    torch.optim.RMSprop(tiny()[0].parameters())  # the base class's step is now hooked too
    model, closure = tiny()
    optimizer = MyRMSprop(groups_of(model), lr=0.01)
    calls = []
    optimizer.register_step_pre_hook(lambda *args: calls.append("pre"))
    optimizer.register_step_post_hook(lambda *args: calls.append("post"))
    handle = register_optimizer_step_post_hook(lambda *args: calls.append("global"))
    try:
        backward(model, closure)
        measured_updates(optimizer, *trainable(optimizer))
        assert calls == []
        optimizer.step()  # the real step runs them (twice here: the subclass's and the base's wrapper)
        assert set(calls) == {"pre", "post", "global"}
    finally:
        handle.remove()


def test_a_failing_closure_on_an_observing_step_puts_the_kept_update_back():
    """An exception inside the step (here the closure's) leaves the kept update and the tuner's
    probe_previous as they were, so the same step, retried, gives a twin's rates."""
    def build():
        model, closure = tiny()
        optimizer = OTHERS["rmsprop"](groups_of(model))
        driver = LRTuner(optimizer, "auto")
        while True:
            optimizer.zero_grad()
            closure().backward()
            if driver.tuner.need(driver.step_count)[0] != h.Need.NOTHING and driver._previous_update is not None:
                return closure, driver
            driver.after_backward(closure)
            optimizer.step()

    closure, driver = build()
    twin_closure, twin = build()
    kept, flag, state = driver._previous_update, driver.tuner.get_param(Param.PROBE_PREVIOUS), driver.tuner.save()

    def failing():
        raise RuntimeError("closure failed")

    with pytest.raises(RuntimeError, match="closure failed"):
        driver.after_backward(failing)
    assert driver._previous_update is kept and driver.tuner.get_param(Param.PROBE_PREVIOUS) == flag
    assert driver.tuner.save() == state
    assert driver.after_backward(closure) == twin.after_backward(twin_closure)
    assert driver.tuner.save() == twin.tuner.save()


def test_a_driver_pickled_with_an_old_kept_update_gains_the_new_layout():
    import copy

    model, closure = tiny()
    driver = LRTuner(torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9), "auto")
    driver._previous_update = (4, [[torch.ones(2)]])  # (step, update): the layout before kept weights
    assert copy.deepcopy(driver)._previous_update[2] is None


def test_a_rate_too_small_for_the_weights_precision_climbs_out():
    """At η = 1e-9 RMSprop's step is below half an ulp of float32 weights near 1: the measured
    update is 0 in every element, so auto's bracket sees the current loss in every row. It moves
    the rate up until the step resolves (before, it cut the rate by 4⁻⁷ per step to lr_min and
    stayed there)."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    x, y = torch.randn(64, 6), torch.randint(0, 3, (64,))
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-9)
    closure = lambda: torch.nn.functional.cross_entropy(model(x), y)  # noqa: E731
    initial = float(closure())
    optimizer.zero_grad()
    closure().backward()
    (first,) = measured_updates(optimizer, *trainable(optimizer))
    assert all(bool((u == 0).all()) for u in first)  # the premise: the step rounds away entirely
    driver = LRTuner(optimizer, "auto")
    for _ in range(60):
        user_step(driver, optimizer, closure)
    assert driver.get_last_lr()[0] > 1e-5
    assert float(closure()) < 0.8 * initial


@pytest.mark.parametrize("name", ["rmsprop", "adamax"])  # not NAdam: see the test above
def test_a_restored_driver_sets_the_rates_its_optimizer_steps_with(name):
    """Restoring in the usual order (optimizer state, then a new driver, then its state) left the
    driver's initial rates on the optimizer: the dry run of the next observation measured at that
    rate, and cdat's resumed run drifted from the uninterrupted one (1.5e-6 in the weights).
    load_state_dict now puts the rates of the step in progress back on the groups."""
    def run(model, closure, optimizer, driver, count):
        for _ in range(count):
            user_step(driver, optimizer, closure)
        return [p.detach().clone() for p in model.parameters()]

    model, closure = tiny()
    optimizer = OTHERS[name](groups_of(model))
    driver = LRTuner(optimizer, "cdat", update_period=1)
    run(model, closure, optimizer, driver, 5)
    saved = checkpoint(model, optimizer, driver)
    whole = run(model, closure, optimizer, driver, 5)
    model2, closure2, optimizer2, driver2 = restored(saved, name, "cdat", update_period=1)
    assert [group["lr"] for group in optimizer2.param_groups] == driver2.get_last_lr() == saved[0]["last_lr"]
    resumed = run(model2, closure2, optimizer2, driver2, 5)
    assert all(torch.equal(a, b) for a, b in zip(whole, resumed))
