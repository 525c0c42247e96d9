"""LRTuner with mixed precision (issue 15): the documented torch.amp pattern on the CPU, autocast
in bfloat16 and ``torch.amp.GradScaler("cpu")`` (the scaler's mechanics, scale, ``unscale_``,
the overflow check, the skipped step and ``update``, are the CUDA scaler's):
``scaler.scale(loss).backward(); scaler.unscale_(optimizer); driver.after_backward(closure,
loss=loss); scaler.step(optimizer); scaler.update()``. The driver reads the unscaled gradient,
divides the scale out of curvature from the scaled graph, and skips the steps the scaler skips."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

if not hasattr(torch, "amp") or not hasattr(torch.amp, "GradScaler"):
    pytest.skip("torch.amp.GradScaler unavailable", allow_module_level=True)

import hessianlr as h  # noqa: E402
from hessianlr.torch import LRTuner  # noqa: E402

F = torch.nn.functional

pytestmark = pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True:UserWarning")

#: A power of two, as GradScaler's scales are: scaling and unscaling are exact.
SCALE = 2.0**12


def setup(seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
    g = torch.Generator().manual_seed(11)
    batches = [(torch.randn(32, 5, generator=g), torch.randn(32, 3, generator=g)) for _ in range(12)]
    return model, batches


def bits(model):
    return [p.detach().clone() for p in model.parameters()]


def same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a, b))


def train(method, options, *, curvature, scaled, overflow_at=(), autocast=True, steps=12):
    """The documented loop; ``scaled``: the scaler enabled (else the same loop, scaler disabled);
    ``overflow_at``: steps whose gradient gets an Inf before unscale_ (an fp16 overflow). Returns
    (rates per call, weights after each call's optimizer step, the driver, the scaler)."""
    model, batches = setup()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler("cpu", init_scale=SCALE, enabled=scaled)
    driver = LRTuner(optimizer, method, curvature=curvature, scaler=scaler, **options)
    rates, weights = [], []
    for i, (x, y) in enumerate(batches[:steps]):

        def closure(x=x, y=y):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
                return F.mse_loss(model(x).float(), y)

        optimizer.zero_grad()
        loss = closure()
        scaler.scale(loss).backward(create_graph=curvature == "graph" and driver.wants_curvature())
        if i in overflow_at:
            with torch.no_grad():
                model[0].weight.grad[0, 0] = float("inf")
        scaler.unscale_(optimizer)
        rates.append(driver.after_backward(closure, loss=loss))
        scaler.step(optimizer)
        scaler.update()
        weights.append(bits(model))
    return rates, weights, driver, scaler


@pytest.mark.parametrize("curvature", ["graph", "finite_difference"])
@pytest.mark.parametrize("method, options", [("cdat", dict(update_period=3)), ("auto", {}),
                                             ("hessianlr", dict(update_period=2, direction="update"))])
def test_the_scaled_loop_sets_the_rates_of_the_unscaled_one(method, options, curvature):
    """With the scaler enabled (the gradient and, on graph steps, its graph scaled by 2¹²) the
    rates and weights are bit-identical to the same loop with the scaler disabled: the driver
    measures the unscaled gradient and divides the scale out of the graph's curvature. The rates
    are finite and curvature was observed."""
    rates, weights, driver, _ = train(method, options, curvature=curvature, scaled=True)
    plain_rates, plain_weights, plain, _ = train(method, options, curvature=curvature, scaled=False)
    assert rates == plain_rates
    assert all(same(a, b) for a, b in zip(weights, plain_weights))
    assert all(math.isfinite(r) and r > 0 for step in rates for r in step)
    assert driver.observation_count == plain.observation_count > 0 and driver.skipped_steps == 0
    if method != "auto":
        assert driver.hvp_count > 0


def test_graph_curvature_without_the_scaler_would_be_scale_times_too_large():
    """Why the driver needs ``scaler=`` on the graph path: unscale_ divides p.grad's values but
    not its graph, so the graph's Hessian-vector product is S·Hd."""
    model, batches = setup()
    x, y = batches[0]
    curvatures = {}
    for told in (True, False):
        model, _ = setup()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        scaler = torch.amp.GradScaler("cpu", init_scale=SCALE)
        driver = LRTuner(optimizer, "cdat", update_period=1, curvature="graph", scaler=scaler if told else None)
        closure = lambda: F.mse_loss(model(x), y)  # noqa: E731
        loss = closure()
        scaler.scale(loss).backward(create_graph=True)
        scaler.unscale_(optimizer)
        driver.after_backward(closure, loss=loss)
        curvatures[told] = driver.tuner.info(h.Info.LAST_CURVATURE, 0)
    assert curvatures[False] == pytest.approx(SCALE * curvatures[True], rel=1e-5)


@pytest.mark.parametrize("curvature", ["graph", "finite_difference"])
def test_a_step_the_scaler_skips_is_skipped_by_the_driver(curvature):
    """An overflow at a step that observes (call 3: t = 3) and at one that does not (call 6:
    t = 5, the skipped call not counted): the scaler skips
    optimizer.step() and halves its scale; the driver observes nothing, does not count the step
    and returns the rates already set. The run then goes on as if those batches had not been
    there: rates and weights bit-identical to a run without them (the scale stays a power of
    two, so no gradient changes)."""
    options = dict(update_period=3)
    skipped = (3, 6)
    rates, weights, driver, scaler = train("cdat", options, curvature=curvature, scaled=True, overflow_at=skipped)
    assert driver.skipped_steps == 2 and driver.step_count == 10 and scaler.get_scale() == SCALE / 4
    assert driver.hvp_count == 4  # t = 0, 3, 6, 9
    assert rates[3] == rates[2] and rates[6] == rates[5]
    assert same(weights[3], weights[2]) and same(weights[6], weights[5])
    # the same loop on the batches without the skipped ones
    model, batches = setup()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    reference = LRTuner(optimizer, "cdat", curvature=curvature, **options)
    kept_rates, kept_weights = [], []
    for i, (x, y) in enumerate(batches):
        if i in skipped:
            continue

        def closure(x=x, y=y):
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return F.mse_loss(model(x).float(), y)

        optimizer.zero_grad()
        loss = closure()
        loss.backward(create_graph=curvature == "graph" and reference.wants_curvature())
        kept_rates.append(reference.after_backward(closure, loss=loss))
        optimizer.step()
        kept_weights.append(bits(model))
    assert [r for i, r in enumerate(rates) if i not in skipped] == kept_rates
    assert all(same(a, b) for a, b in zip([w for i, w in enumerate(weights) if i not in skipped], kept_weights))
    assert driver.tuner.save() == reference.tuner.save()
    assert driver.state_dict()["skipped_steps"] == 2


def test_after_backward_without_unscale_is_refused_with_nothing_changed():
    model, batches = setup()
    x, y = batches[0]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    scaler = torch.amp.GradScaler("cpu", init_scale=SCALE)
    driver = LRTuner(optimizer, "cdat", update_period=1, scaler=scaler)
    closure = lambda: F.mse_loss(model(x), y)  # noqa: E731
    loss = closure()
    scaler.scale(loss).backward()
    state, lr = driver.tuner.save(), optimizer.param_groups[0]["lr"]
    with pytest.raises(ValueError, match=r"scaler\.unscale_\(optimizer\)"):
        driver.after_backward(closure, loss=loss)
    assert driver.tuner.save() == state and driver.step_count == 0 and optimizer.param_groups[0]["lr"] == lr
    scaler.unscale_(optimizer)
    driver.after_backward(closure, loss=loss)
    assert driver.step_count == 1 and driver.hvp_count == 1


def test_step_and_a_wrong_scaler_are_refused():
    model, batches = setup()
    x, y = batches[0]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    with pytest.raises(TypeError, match="GradScaler"):
        LRTuner(optimizer, "cdat", scaler=object())
    driver = LRTuner(optimizer, "cdat", scaler=torch.amp.GradScaler("cpu"))
    with pytest.raises(ValueError, match="after_backward"):
        driver.step(closure=lambda: F.mse_loss(model(x), y))
    assert driver.step_count == 0
    disabled = LRTuner(optimizer, "cdat", scaler=torch.amp.GradScaler("cpu", enabled=False))
    disabled.step(closure=lambda: F.mse_loss(model(x), y))  # a disabled scaler scales nothing
    assert disabled.step_count == 1
