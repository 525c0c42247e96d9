"""LRTuner with ``auto``: the optimizer's dynamics become auto's options, the probes run along the
optimizer's previous update, and checkpoints continue bit for bit."""

from __future__ import annotations

import copy
import math

import pytest

torch = pytest.importorskip("torch")

import hessianlr as h  # noqa: E402
from hessianlr import Info, Need, Optimizer, Param  # noqa: E402
from hessianlr.torch import LRTuner  # noqa: E402
from hessianlr.torch_directions import is_plain_sgd, update_directions  # noqa: E402
from conftest import user_step  # noqa: E402

def problem(seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)).double()
    x = torch.randn(40, 6, dtype=torch.float64)
    y = torch.randint(0, 3, (40,))
    return model, x, y


def batches(x, y, steps, size=8):
    g = torch.Generator().manual_seed(7)
    return [torch.randint(0, x.shape[0], (size,), generator=g) for _ in range(steps)]


@pytest.mark.parametrize("make, expected", [
    (lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1),
     {"optimizer": Optimizer.SGD, "momentum": 0.9, "dampening": 0.1, "nesterov": 0}),
    (lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.8, nesterov=True),
     {"optimizer": Optimizer.SGD, "momentum": 0.8, "dampening": 0.0, "nesterov": 1}),
    (lambda p: torch.optim.AdamW(p, lr=1e-3, betas=(0.85, 0.99)),
     {"optimizer": Optimizer.ADAM, "momentum": 0.85, "dampening": 0.0, "nesterov": 0}),
])
def test_the_optimizers_dynamics_become_autos_options(make, expected):
    model, _, _ = problem()
    driver = LRTuner(make(model.parameters()), "auto")
    for key, value in expected.items():
        assert driver.tuner.get_param(Param[key.upper()]) == float(value)
    # An explicit option wins over the optimizer's.
    assert LRTuner(make(model.parameters()), "auto", momentum=0.5).tuner.get_param(Param.MOMENTUM) == 0.5


def test_param_groups_with_different_momenta_are_refused():
    model, _, _ = problem()
    groups = [{"params": model[0].parameters(), "momentum": 0.9}, {"params": model[2].parameters(), "momentum": 0.5}]
    with pytest.raises(ValueError, match="param group 1"):
        LRTuner(torch.optim.SGD(groups, lr=0.1), "auto")


class PreviousUpdate:
    """A step backend probing along a given direction (the reference of the driver's choice)."""

    def __init__(self, params, dirs, closure):
        self.params, self.dirs, self.closure, self.saved = params, dirs, closure, None

    def set_trial(self, steps):
        with torch.no_grad():
            if self.saved is None:
                self.saved = [p.detach().clone() for p in self.params]
            for p, s, d in zip(self.params, self.saved, self.dirs):
                p.copy_(s.double() - steps[0] * d.double())

    def loss(self):
        with torch.no_grad():
            return float(self.closure())

    def restore(self):
        if self.saved is not None:
            with torch.no_grad():
                for p, s in zip(self.params, self.saved):
                    p.copy_(s)


@pytest.mark.parametrize("make", [lambda p: torch.optim.SGD(p, lr=1e-3, momentum=0.9),
                                  lambda p: torch.optim.SGD(p, lr=1e-3),  # u = p.grad: the kept copy matters
                                  lambda p: torch.optim.AdamW(p, lr=1e-5)])
def test_probes_run_along_the_previous_update(make):
    """The driver's rates equal a hand-written loop that probes along the update kept at the
    step before each observation (the current one at the first), telling the tuner which
    (probe_previous), bit for bit."""
    steps = 30
    model_a, x, y = problem()
    model_b, _, _ = problem()
    opt_a, opt_b = make(model_a.parameters()), make(model_b.parameters())
    driver = LRTuner(opt_a, "auto")
    reference = h.make_tuner("auto", 1, initial_lr=opt_b.param_groups[0]["lr"],
                             **{k: v for k, v in _options(opt_b).items()})
    params_b = list(model_b.parameters())
    kept = None
    for t, index in enumerate(batches(x, y, steps)):
        xb, yb = x[index], y[index]
        closure_a = lambda: torch.nn.functional.cross_entropy(model_a(xb), yb)  # noqa: E731
        closure_b = lambda: torch.nn.functional.cross_entropy(model_b(xb), yb)  # noqa: E731
        opt_a.zero_grad(set_to_none=False)  # the next backward writes into the same p.grad
        loss_a = closure_a()
        loss_a.backward()
        driver.after_backward(closure_a, loss=loss_a)
        opt_b.zero_grad()
        loss_b = closure_b()
        loss_b.backward()
        grads = [p.grad.detach() for p in params_b]
        u = grads if is_plain_sgd(opt_b, opt_b.param_groups[0]) else update_directions(opt_b, opt_b.param_groups, [grads])[0]
        if reference.need(t)[0] != Need.NOTHING:
            previous = kept is not None and kept[0] == t - 1
            dirs = kept[1] if previous else u
            reference.set_param(h.Param.PROBE_PREVIOUS, float(previous))  # row −1 is the previous iterate
            reference.run_step(t, PreviousUpdate(params_b, dirs, closure_b), float(loss_b))
        kept = (t, [d.clone() for d in u]) if reference.info(Info.NEXT_UPDATE_STEP) == t + 1 else None
        for group in opt_b.param_groups:
            group["lr"] = reference.lr(t)
        assert driver.get_last_lr() == reference.lrs(t)
        opt_a.step()
        opt_b.step()
    assert driver.tuner.save() == reference.save()
    assert driver.observation_count > 3


def _options(optimizer):
    from hessianlr.torch_directions import optimizer_options

    return optimizer_options(optimizer)


def test_a_checkpoint_continues_bit_identically():
    model, x, y = problem()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
    driver = LRTuner(optimizer, "auto")
    order = batches(x, y, 40)
    saved = None
    rates = []
    for t, index in enumerate(order):
        if t == 17:
            saved = copy.deepcopy((driver.state_dict(), optimizer.state_dict(), list(model.parameters())))
        closure = lambda: torch.nn.functional.cross_entropy(model(x[index]), y[index])  # noqa: E731
        driver.step(closure=closure)
        rates.append(driver.get_last_lr()[0])
        optimizer.step()
    model2, _, _ = problem()
    with torch.no_grad():
        for p, s in zip(model2.parameters(), saved[2]):
            p.copy_(s)
    optimizer2 = torch.optim.SGD(model2.parameters(), lr=1e-2, momentum=0.9)
    optimizer2.load_state_dict(saved[1])
    driver2 = LRTuner(optimizer2, "auto")
    driver2.load_state_dict(saved[0])
    for t, index in enumerate(order[17:], start=17):
        closure = lambda: torch.nn.functional.cross_entropy(model2(x[index]), y[index])  # noqa: E731
        driver2.step(closure=closure)
        assert driver2.get_last_lr()[0] == rates[t], f"step {t}"
        optimizer2.step()
    assert driver2.tuner.save() == driver.tuner.save()
    assert all(math.isfinite(r) and r > 0 for r in rates)


def test_a_layer_frozen_or_unfrozen_between_steps_probes_along_the_current_update():
    """The update kept at step t − 1 is over the parameters trainable then; when a layer is
    frozen (or unfrozen) before step t it is not the direction of step t's parameters, so the
    observation runs along the current update (probe_previous 0) instead of failing on the
    shapes."""
    model, x, y = problem()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    driver = LRTuner(optimizer, "auto")
    closure = lambda: torch.nn.functional.cross_entropy(model(x), y)  # noqa: E731
    changed = []
    for t in range(40):
        kept = driver._previous_update is not None and driver._previous_update[0] == t - 1
        if kept and len(changed) < 2:  # the next step would probe along the kept update
            model[0].weight.requires_grad_(bool(changed))  # frozen, then unfrozen
            changed.append(t)
        optimizer.zero_grad()
        loss = closure()
        loss.backward()
        driver.after_backward(closure, loss=loss)
        if changed and changed[-1] == t:
            assert driver.tuner.get_param(Param.PROBE_PREVIOUS) == 0.0
        optimizer.step()
    assert len(changed) == 2 and all(math.isfinite(lr) for lr in driver.get_last_lr())


def test_a_batch_trained_to_zero_loss_keeps_the_rate_bounded():
    """Interpolating one batch (float32 cross-entropy reaches exactly 0): flat probes after an
    informative fit hold the rate instead of doubling it. Before, the rate doubled at every
    observation once the loss was 0 — 6·10⁸ by step 554 — until the weights overflowed and the
    driver raised NonFiniteError at step 561."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    driver = LRTuner(optimizer, "auto")
    x, y = torch.randn(64, 64), torch.randint(0, 10, (64,))
    closure = lambda: torch.nn.functional.cross_entropy(model(x), y)  # noqa: E731
    rates = []
    for _ in range(1000):
        rates.extend(user_step(driver, optimizer, closure))
    assert float(closure()) < 1e-6
    assert all(math.isfinite(r) for r in rates) and max(rates[500:]) <= 4 * max(rates[:500])


@pytest.mark.parametrize("first", ["constant", "zero"])
@pytest.mark.parametrize("make, lr0", [
    (lambda p, lr: torch.optim.Adam(p, lr=lr), 1e-3),
    (lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9), 1e-2),
    (lambda p, lr: torch.optim.Adam(p, lr=lr), 1e-12),  # a start below the loss's resolution
])
def test_a_first_batch_without_gradient_does_not_trap_the_rate(first, make, lr0):
    """A first batch whose loss does not depend on the weights (a constant, or a fully masked
    batch at loss 0) gives a bracket whose rows all equal the current loss, and the next step
    probes along that zero update again. Before, an unresolved bracket counted as "every step
    increases the loss": the rate fell by 4⁻⁷ per step to lr_min (1e-12) and stayed there, every
    later bracket unresolved too, 13 forward passes a step, the loss never moving."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
    x, y = torch.randn(64, 6), torch.randint(0, 3, (64,))
    optimizer = make(model.parameters(), lr0)
    driver = LRTuner(optimizer, "auto")
    loss_fn = lambda: torch.nn.functional.cross_entropy(model(x), y)  # noqa: E731
    initial = float(loss_fn())
    for step in range(60):
        if step == 0:
            closure = (lambda: 0.0 * loss_fn() + 1.5) if first == "constant" else (lambda: 0.0 * loss_fn())
        else:
            closure = loss_fn
        user_step(driver, optimizer, closure)
    assert driver.get_last_lr()[0] > 1e-5
    assert float(loss_fn()) < 0.8 * initial
