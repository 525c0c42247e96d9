"""LRTuner.after_backward (issue 15, item 1): the framework's own backward pass fills p.grad and
the driver reads it; curvature from the double-backward graph or by a central finite difference
of the gradient on the same batch (no graph: models with fused attention kernels); gradient
accumulation counted per optimizer step; failures change nothing. One process; several
processes (DDP) are in test_torch_distributed.py."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import hessianlr as h  # noqa: E402
from hessianlr import Need  # noqa: E402
from hessianlr.torch import DoubleBackwardError, LRTuner, UnsupportedTrainingError  # noqa: E402
from hessianlr.torch_observations import TorchStepBackend, finite_difference_step  # noqa: E402
from conftest import torch_methods  # noqa: E402

F = torch.nn.functional

# The loops below call loss.backward(create_graph=True) as users will; the driver detaches p.grad
# afterwards, which breaks the reference cycle torch warns about.
pytestmark = pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True:UserWarning")


DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA"))]


def tiny(dtype=torch.float64, seed=0, rows=24, device="cpu"):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(3, 6), torch.nn.Tanh(), torch.nn.Linear(6, 2)).to(dtype)
    x = torch.randn(rows, 3, dtype=dtype)
    y = torch.randn(rows, 2, dtype=dtype)
    return model.to(device), x.to(device), y.to(device)


def rng_states(device):
    return [torch.get_rng_state()] + ([torch.cuda.get_rng_state(device)] if device == "cuda" else [])


def two_groups(model):
    return [{"params": model[0].parameters()}, {"params": model[2].parameters()}]


def bits(model):
    return [p.detach().clone() for p in model.parameters()]


def same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a, b))


def curvatures(driver):
    return [driver.tuner.info(h.Info.LAST_CURVATURE, k) for k in range(driver.tuner.groups)]


METHODS = torch_methods(hessianlr_period=2)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_after_backward_with_the_graph_is_step_bit_for_bit(name):
    """The framework's backward (create_graph only when the driver wants curvature) gives the
    rates, gradients and weights of the all-in-one step, bit for bit, for every method; p.grad
    holds no graph afterwards (the parameter-gradient reference cycle is broken)."""
    make_optimizer, options = METHODS[name]
    method = name.split("-")[0]
    runs = []
    for mode in ("step", "after_backward"):
        model, x, y = tiny(torch.float32, seed=1)
        optimizer = make_optimizer(two_groups(model))
        driver = LRTuner(optimizer, method, **options)
        closure = lambda: F.mse_loss(model(x), y)  # noqa: E731
        rates, grads = [], []
        for _ in range(7):
            if mode == "step":
                rates.append(driver.step(closure=closure))
            else:
                optimizer.zero_grad()
                loss = closure()
                loss.backward(create_graph=driver.wants_curvature())
                rates.append(driver.after_backward(closure, loss=loss))
                assert all(p.grad.grad_fn is None and not p.grad.requires_grad for p in model.parameters())
            grads.append([p.grad.clone() for p in model.parameters()])
            assert rates[-1] == [g["lr"] for g in optimizer.param_groups] == driver.get_last_lr()
            optimizer.step()
        runs.append((rates, grads, bits(model), driver.hvp_count, driver.probe_count, driver.step_count))
    (rates_a, grads_a, w_a, *counts_a), (rates_b, grads_b, w_b, *counts_b) = runs
    assert rates_a == rates_b and counts_a == counts_b and counts_a[-1] == 7
    assert all(same(a, b) for a, b in zip(grads_a, grads_b))
    assert same(w_a, w_b)
    if method in ("hessianlr", "cdat"):
        assert counts_a[0] > 0
    if method in ("gen", "hidlr", "armijo"):
        assert counts_a[1] > 0


@pytest.mark.parametrize("method,make_optimizer", [
    ("hessianlr", lambda p: torch.optim.SGD(p, lr=0.05)),
    ("cdat", lambda p: torch.optim.Adam(p, lr=0.01)),
])
@pytest.mark.parametrize("dtype,rtol", [(torch.float64, 1e-7), (torch.float32, 3e-3)])
@pytest.mark.parametrize("device", DEVICES)
def test_finite_difference_curvature_matches_the_graph(method, make_optimizer, dtype, rtol, device):
    """d_kᵀHd_k by a central difference of the gradient (two forward and backward passes of the
    closure per group, no graph) agrees with the graph HVP, per group; the weights are restored
    bit for bit and the caller's random generators are left as they were."""
    model, x, y = tiny(dtype, device=device)
    closure = lambda: F.mse_loss(model(x), y)  # noqa: E731
    reference_model, _, _ = tiny(dtype, device=device)
    reference_closure = lambda: F.mse_loss(reference_model(x), y)  # noqa: E731
    optimizer = make_optimizer(two_groups(model))
    reference_optimizer = make_optimizer(two_groups(reference_model))
    driver = LRTuner(optimizer, method, update_period=1, curvature="finite_difference")
    reference = LRTuner(reference_optimizer, method, update_period=1, curvature="graph")
    for t in range(4):
        optimizer.zero_grad()
        loss = closure()
        loss.backward()
        before, rng = bits(model), rng_states(device)
        driver.after_backward(closure, loss=loss)
        assert same(bits(model), before) and same(rng_states(device), rng)
        assert driver.gradient_count == 2 * 2 * (t + 1) and driver.hvp_count == 2 * (t + 1)
        reference_optimizer.zero_grad()
        reference_loss = reference_closure()
        reference_loss.backward(create_graph=True)
        reference.after_backward(loss=reference_loss)
        np.testing.assert_allclose(curvatures(driver), curvatures(reference), rtol=rtol)
        np.testing.assert_allclose(driver.get_last_lr(), reference.get_last_lr(), rtol=rtol)
        optimizer.step()
        reference_optimizer.step()
        with torch.no_grad():  # the same weights again for the next comparison
            for p, q in zip(reference_model.parameters(), model.parameters()):
                q.copy_(p)


def test_step_with_finite_differences_builds_no_graph(monkeypatch):
    """The all-in-one step with curvature='finite_difference': the gradient without
    create_graph, the curvature from the closure's gradients at w ± ε d."""
    model, x, y = tiny()
    closure = lambda: F.mse_loss(model(x), y)  # noqa: E731
    driver = LRTuner(torch.optim.SGD(two_groups(model), lr=0.05), "hessianlr", update_period=1,
                     curvature="finite_difference")
    calls = []
    original = torch.autograd.grad

    def recording(outputs, inputs, *args, **kwargs):
        calls.append((kwargs.get("create_graph", False), kwargs.get("grad_outputs") is not None))
        return original(outputs, inputs, *args, **kwargs)

    monkeypatch.setattr(torch.autograd, "grad", recording)
    driver.step(closure=closure)
    monkeypatch.undo()
    assert calls and not any(create or hvp for create, hvp in calls)
    assert len(calls) == 1 + 2 * 2 and driver.gradient_count == 4 and driver.hvp_count == 2
    graph_model, _, _ = tiny()
    graph = LRTuner(torch.optim.SGD(two_groups(graph_model), lr=0.05), "hessianlr", update_period=1)
    graph.step(closure=lambda: F.mse_loss(graph_model(x), y))
    np.testing.assert_allclose(curvatures(driver), curvatures(graph), rtol=1e-7)
    with pytest.raises(ValueError, match="finite_difference.*pass closure="):
        LRTuner(torch.optim.SGD(model.parameters(), lr=0.05), "hessianlr", update_period=1,
                curvature="finite_difference").step(closure())


def test_finite_difference_step_size():
    """ε = ∛eps·(1 + ‖w‖)/‖d‖: the weights move by ∛eps·(1 + ‖w‖) whatever the scale of d."""
    eps32 = torch.finfo(torch.float32).eps
    assert finite_difference_step(eps32, 0.0, 1.0) == pytest.approx(eps32 ** (1 / 3))
    assert finite_difference_step(eps32, 3.0, 2.0) * 2.0 == pytest.approx(4 * eps32 ** (1 / 3))
    assert finite_difference_step(1e-16, 9.0, 1e-3) * 1e-3 == pytest.approx(10 * 1e-16 ** (1 / 3))


@pytest.mark.filterwarnings("ignore:LRTuner.after_backward at step")  # two calls at the same weights, on purpose
def test_auto_takes_the_graph_when_p_grad_carries_one_and_finite_differences_otherwise(monkeypatch):
    model, x, y = tiny()
    closure = lambda: F.mse_loss(model(x), y)  # noqa: E731
    driver = LRTuner(torch.optim.SGD(model.parameters(), lr=0.05), "hessianlr", update_period=1)
    assert driver.curvature == "auto"
    hvps = []
    original = torch.autograd.grad

    def recording(outputs, inputs, *args, **kwargs):
        hvps.append(kwargs.get("grad_outputs") is not None)
        return original(outputs, inputs, *args, **kwargs)

    monkeypatch.setattr(torch.autograd, "grad", recording)
    closure().backward(create_graph=True)
    driver.after_backward(closure)  # the graph: one HVP, the closure unused
    assert hvps == [True] and driver.gradient_count == 0 and driver.hvp_count == 1
    graph_curvature = curvatures(driver)
    hvps.clear()
    model.zero_grad()
    closure().backward()
    driver.after_backward(closure)  # no graph: finite differences through the closure
    assert hvps == [False, False] and driver.gradient_count == 2 and driver.hvp_count == 2
    np.testing.assert_allclose(curvatures(driver), graph_curvature, rtol=1e-7)  # same weights, same batch


def test_a_missing_curvature_source_is_refused_and_changes_nothing():
    model, x, y = tiny()
    closure = lambda: F.mse_loss(model(x), y)  # noqa: E731
    cases = [
        ("auto", False, None, "pass closure=.*or build the graph"),
        ("graph", False, closure, "curvature='graph'.*carries none.*create_graph=driver.wants_curvature"),
        ("finite_difference", True, None, r"pass closure= \(the step's loss on the same batch\)"),
    ]
    for curvature, create_graph, given, message in cases:
        driver = LRTuner(torch.optim.SGD(model.parameters(), lr=0.05), "cdat", update_period=1, curvature=curvature)
        assert driver.wants_curvature()
        model.zero_grad()
        closure().backward(create_graph=create_graph)
        grads, state, weights = [p.grad for p in model.parameters()], driver.tuner.save(), bits(model)
        with pytest.raises(ValueError, match=message):
            driver.after_backward(given)
        assert driver.step_count == 0 and driver.tuner.save() == state and same(bits(model), weights)
        assert all(p.grad is g for p, g in zip(model.parameters(), grads))  # the graph, if any, kept
        assert [g["lr"] for g in driver.optimizer.param_groups] == driver.get_last_lr()


class Attention(torch.nn.Module):
    """One head of self-attention through torch's fused scaled_dot_product_attention (the CPU
    flash kernel, whose backward has no derivative) unless ``kernel`` says otherwise."""

    def __init__(self, width=8, heads=2):
        super().__init__()
        self.heads = heads
        self.qkv = torch.nn.Linear(width, 3 * width)
        self.out = torch.nn.Linear(width, 1)
        self.kernel = torch.nn.attention.SDPBackend.FLASH_ATTENTION

    def forward(self, x):
        q, k, v = self.qkv(x).unflatten(-1, (3, self.heads, -1)).permute(2, 0, 3, 1, 4)
        with torch.nn.attention.sdpa_kernel(self.kernel):
            mixed = F.scaled_dot_product_attention(q, k, v)
        return self.out(mixed.transpose(1, 2).flatten(-2)).mean(1)


def attention_setup():
    torch.manual_seed(3)
    model = Attention().double()
    x, y = torch.randn(4, 5, 8, dtype=torch.float64), torch.randn(4, 1, dtype=torch.float64)
    return model, (lambda: F.mse_loss(model(x), y))


def test_fused_attention_cannot_give_graph_curvature_and_says_so():
    model, closure = attention_setup()
    probe = torch.autograd.grad(closure(), list(model.parameters()), create_graph=True)
    try:
        torch.autograd.grad(probe, list(model.parameters()), grad_outputs=[g.detach() for g in probe])
        pytest.skip("this torch's CPU flash attention kernel has a second derivative")
    except RuntimeError:
        pass
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    driver = LRTuner(optimizer, "cdat", update_period=1)
    state, weights = driver.tuner.save(), bits(model)
    closure().backward(create_graph=driver.wants_curvature())
    grads = [p.grad for p in model.parameters()]
    with pytest.raises(DoubleBackwardError, match="cannot be differentiated twice.*curvature='finite_difference'") as info:
        driver.after_backward(closure)
    assert isinstance(info.value, RuntimeError) and "scaled_dot_product" in str(info.value.__cause__)
    assert driver.step_count == 0 and driver.tuner.save() == state and same(bits(model), weights)
    assert all(p.grad is g for p, g in zip(model.parameters(), grads))
    with pytest.raises(DoubleBackwardError, match="sdpa_kernel"):
        driver.step(closure=closure)  # the all-in-one step builds the graph itself: the same explanation
    assert driver.step_count == 0 and driver.tuner.save() == state and same(bits(model), weights)


def test_fused_attention_gets_finite_difference_curvature():
    """The graph-free path serves the fused kernel; its curvature equals the graph HVP through the
    math kernel (which can be differentiated twice) on the same weights and batch."""
    model, closure = attention_setup()
    reference_model, reference_closure = attention_setup()
    reference_model.kernel = torch.nn.attention.SDPBackend.MATH
    driver = LRTuner(torch.optim.Adam(model.parameters(), lr=1e-3), "cdat", update_period=1,
                     curvature="finite_difference")
    reference = LRTuner(torch.optim.Adam(reference_model.parameters(), lr=1e-3), "cdat", update_period=1)
    for _ in range(3):
        for m, d, c, graph in ((model, driver, closure, False), (reference_model, reference, reference_closure, True)):
            d.optimizer.zero_grad()
            loss = c()
            loss.backward(create_graph=graph)
            d.after_backward(c, loss=loss)
            d.optimizer.step()
        np.testing.assert_allclose(curvatures(driver), curvatures(reference), rtol=1e-6)
        np.testing.assert_allclose(driver.get_last_lr(), reference.get_last_lr(), rtol=1e-6)
    np.testing.assert_allclose([p.detach().numpy() for p in model.parameters()][0],
                               [p.detach().numpy() for p in reference_model.parameters()][0], rtol=1e-6, atol=1e-9)


def accumulate(driver, model, micro_batches, closure_kind):
    """One optimizer step over micro-batches: backward per micro-batch (loss scaled by their
    count), then one driver call."""
    scaled = [(lambda x=x, y=y: F.mse_loss(model(x), y) / len(micro_batches)) for x, y in micro_batches]
    driver.optimizer.zero_grad()
    for micro in scaled:
        micro().backward()
    if closure_kind == "list":
        return driver.after_backward(scaled)
    return driver.after_backward(lambda: sum(micro() for micro in scaled))


@pytest.mark.parametrize("closure_kind", ["list", "sum"])
@pytest.mark.parametrize("method,make_optimizer", [
    ("cdat", lambda p: torch.optim.Adam(p, lr=0.01)),
    ("gen", lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.5)),
    ("armijo", lambda p: torch.optim.SGD(p, lr=0.5)),
])
def test_gradient_accumulation_is_the_full_batch(method, make_optimizer, closure_kind):
    """Two micro-batches per optimizer step (one driver call each step, after the last backward)
    give the rates and weights of the full batch in one backward pass."""
    model, x, y = tiny(rows=24)
    full_model, _, _ = tiny(rows=24)
    options = {} if method == "armijo" else dict(update_period=1)
    driver = LRTuner(make_optimizer(two_groups(model)), method, **options)
    full = LRTuner(make_optimizer(two_groups(full_model)), method, **options)
    full_closure = lambda: F.mse_loss(full_model(x), y)  # noqa: E731
    micro_batches = [(x[:12], y[:12]), (x[12:], y[12:])]
    for t in range(4):
        rates = accumulate(driver, model, micro_batches, closure_kind)
        full.optimizer.zero_grad()
        full_loss = full_closure()
        full_loss.backward()
        full_rates = full.after_backward(full_closure, loss=full_loss)
        np.testing.assert_allclose(rates, full_rates, rtol=1e-9)
        driver.optimizer.step()
        full.optimizer.step()
        assert driver.step_count == full.step_count == t + 1  # optimizer steps, not micro-batches
    for p, q in zip(model.parameters(), full_model.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-7, atol=1e-10)
    assert driver.observation_count == full.observation_count
    if method == "cdat":
        assert driver.gradient_count == (4 if closure_kind == "list" else 2) * 2 * 4
    else:
        assert driver.probe_count == full.probe_count + 4  # L(w) not given: one closure call more per step


@pytest.mark.parametrize("device", DEVICES)
def test_dropout_masks_are_replayed_in_both_finite_difference_passes(device):
    """With dropout in train mode both passes of the central difference draw the same masks, so
    the curvature is the HVP of that one masked loss; the caller's generators are left as they were."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 16), torch.nn.Tanh(), torch.nn.Dropout(0.5),
                                torch.nn.Linear(16, 1)).double().to(device)
    x = torch.randn(32, 3, dtype=torch.float64).to(device)
    y = torch.randn(32, 1, dtype=torch.float64).to(device)
    closure = lambda: F.mse_loss(model(x), y)  # noqa: E731
    driver = LRTuner(torch.optim.SGD(model.parameters(), lr=0.05), "hessianlr", update_period=1,
                     curvature="finite_difference")
    closure().backward()
    state = rng_states(device)
    driver.after_backward(closure)
    assert same(rng_states(device), state)
    params = list(model.parameters())
    g = [p.grad for p in params]
    gradient = torch.autograd.grad(closure(), params, create_graph=True)  # the masks of state
    hvp = torch.autograd.grad(gradient, params, grad_outputs=g)
    expected = sum(float((a * b).sum()) for a, b in zip(g, hvp))
    assert curvatures(driver)[0] == pytest.approx(expected, rel=1e-7)


class Boom(Exception):
    pass


def test_a_failed_step_changes_nothing_and_can_be_retried():
    model, x, y = tiny()
    closure = lambda: F.mse_loss(model(x), y)  # noqa: E731
    optimizer = torch.optim.SGD(two_groups(model), lr=0.05)
    driver = LRTuner(optimizer, "hessianlr", update_period=1, curvature="finite_difference")
    closure().backward()
    grads, state, weights = [p.grad.clone() for p in model.parameters()], driver.tuner.save(), bits(model)
    calls = []

    def failing():
        calls.append(1)
        if len(calls) == 3:  # the second group's first pass
            raise Boom("forward pass failed")
        return closure()

    with pytest.raises(Boom):
        driver.after_backward(failing)
    assert same(bits(model), weights) and driver.tuner.save() == state and driver.step_count == 0
    assert same([p.grad for p in model.parameters()], grads)
    assert (driver.hvp_count, driver.gradient_count) == (0, 0)
    driver.after_backward(closure)
    assert driver.step_count == 1 and driver.hvp_count == 2


def test_a_failure_after_the_graph_hvps_keeps_the_graph_for_a_retry(monkeypatch):
    model, x, y = tiny()
    closure = lambda: F.mse_loss(model(x), y)  # noqa: E731
    driver = LRTuner(torch.optim.SGD(two_groups(model), lr=0.05), "cdat", update_period=1)
    closure().backward(create_graph=True)
    grads, state = [p.grad for p in model.parameters()], driver.tuner.save()
    original = TorchStepBackend.curvatures

    def then_fail(self):
        original(self)
        raise Boom("after the HVPs")

    monkeypatch.setattr(TorchStepBackend, "curvatures", then_fail)
    with pytest.raises(Boom):
        driver.after_backward()
    monkeypatch.undo()
    assert driver.tuner.save() == state and driver.step_count == 0
    assert all(p.grad is g and g.requires_grad for p, g in zip(model.parameters(), grads))
    driver.after_backward()  # the same graph again
    assert driver.step_count == 1 and all(not p.grad.requires_grad for p in model.parameters())


def test_bad_input_is_refused_with_nothing_changed():
    model, x, y = tiny()
    closure = lambda: F.mse_loss(model(x), y)  # noqa: E731
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    with pytest.raises(ValueError, match="curvature must be one of"):
        LRTuner(optimizer, "cdat", curvature="hvp")
    with pytest.raises(TypeError, match="DistributedDataParallel"):
        LRTuner(optimizer, "cdat", ddp=model)
    if torch.distributed.is_available() and not torch.distributed.is_initialized():
        with pytest.raises(ValueError, match="not initialised"):
            LRTuner(optimizer, "cdat", process_group=object())
    driver = LRTuner(optimizer, "hessianlr", update_period=1, curvature="finite_difference")
    state = driver.tuner.save()
    with pytest.raises(ValueError, match="no parameter has one: call loss.backward"):
        driver.after_backward(closure)
    closure().backward()
    weights = bits(model)
    with pytest.raises(TypeError, match="callable or a non-empty list"):
        driver.after_backward([])
    with pytest.raises(TypeError, match="tensor with its graph.*got float"):
        driver.after_backward(lambda: closure().item())
    with pytest.raises(TypeError, match="without a graph"):
        driver.after_backward(lambda: closure().detach())
    with pytest.raises(h.NonFiniteError, match="loss at the current weights is nan"):
        driver.after_backward(closure, loss=float("nan"))
    grads = [p.grad.clone() for p in model.parameters()]

    def lbfgs_style():  # torch.optim's closure convention: it runs backward itself
        loss = closure()
        loss.backward()
        return loss

    with pytest.raises(TypeError, match="closure ran a backward pass"):
        driver.after_backward(lbfgs_style)
    assert same([p.grad for p in model.parameters()], grads)  # its gradients were discarded
    assert driver.tuner.save() == state and driver.step_count == 0 and same(bits(model), weights)
    gen = LRTuner(torch.optim.SGD(model.parameters(), lr=0.05), "gen", update_period=1)
    with pytest.raises(ValueError, match="needs losses.*pass closure="):
        gen.after_backward(loss=closure())
    with pytest.raises(ValueError, match="probe_closure is for GeN and Hi-DLR"):
        driver.after_backward(closure, probe_closure=closure)


def test_step_and_after_backward_mix():
    """after_backward leaves nothing for step's replacement check to trip over, and step's
    refusal of someone else's p.grad points to after_backward."""
    model, x, y = tiny()
    closure = lambda: F.mse_loss(model(x), y)  # noqa: E731
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    driver = LRTuner(optimizer, "gen", update_period=1)
    driver.step(closure=closure)
    optimizer.step()
    optimizer.zero_grad()
    closure().backward()
    with pytest.raises(UnsupportedTrainingError, match="after_backward"):
        driver.step(closure=closure)
    driver.after_backward(closure)  # uses the gradient the backward left
    optimizer.step()
    driver.step(closure=closure)
    assert driver.step_count == 3


def test_probe_closure_with_after_backward():
    model, x, y = tiny()
    torch.manual_seed(7)
    x2, y2 = torch.randn(24, 3, dtype=torch.float64), torch.randn(24, 2, dtype=torch.float64)
    seen = []

    def other():
        seen.append(1)
        return F.mse_loss(model(x2), y2)

    driver = LRTuner(torch.optim.SGD(model.parameters(), lr=0.05), "gen", update_period=1)
    F.mse_loss(model(x), y).backward()
    reference_model, _, _ = tiny()
    reference = LRTuner(torch.optim.SGD(reference_model.parameters(), lr=0.05), "gen", update_period=1)
    rates = driver.after_backward(probe_closure=other)
    assert len(seen) == 3 and driver.probe_count == 3  # every row on the other batch, L(w) too
    reference.step(F.mse_loss(reference_model(x), y), probe_closure=lambda: F.mse_loss(reference_model(x2), y2))
    assert rates == reference.get_last_lr()


def test_wants_curvature_says_when_to_build_the_graph():
    model, x, y = tiny()
    driver = LRTuner(torch.optim.SGD(model.parameters(), lr=0.05), "hessianlr", update_period=3, warmup_steps=0)
    wanted = []
    for _ in range(7):
        wanted.append(driver.wants_curvature())
        assert wanted[-1] == (driver.need()[0] == Need.CURVATURE)
        driver.optimizer.zero_grad()
        F.mse_loss(model(x), y).backward(create_graph=wanted[-1])
        driver.after_backward()
        driver.optimizer.step()
    assert wanted == [True, False, False, True, False, False, True] and driver.hvp_count == 3


@pytest.mark.parametrize("method", ["cdat", "gen"])
def test_an_overflowed_gradient_raises_with_nothing_changed(method):
    """GradScaler's overflow (an inf in p.grad) on a step that observes: NonFiniteError, nothing
    changed, so the loop can skip the step as the scaler skips optimizer.step()."""
    model, x, y = tiny()
    closure = lambda: F.mse_loss(model(x), y)  # noqa: E731
    driver = LRTuner(torch.optim.Adam(model.parameters(), lr=0.01), method, update_period=1)
    closure().backward()
    model[0].weight.grad[0, 0] = float("inf")
    state, weights = driver.tuner.save(), bits(model)
    with pytest.raises(h.NonFiniteError):
        driver.after_backward(closure)
    assert driver.tuner.save() == state and driver.step_count == 0 and same(bits(model), weights)
    assert driver.get_last_lr() == [g["lr"] for g in driver.optimizer.param_groups]


@pytest.mark.parametrize("create_graph", [False, True])
def test_steady_steps_take_the_fast_path_with_the_full_paths_results(create_graph, monkeypatch):
    """after_backward on a step that the kept plan covers together with the next one (nothing to
    observe, nothing to keep) takes _steady_step: over 80 steps of auto (adaptive period up to 16)
    with AdamW the rates, weights and tuner state are bit for bit those of the full path, and a
    p.grad graph is detached either way. What the fast path cannot decide goes to the full path,
    which refuses as before: no gradient, a closure of the wrong type."""
    original = LRTuner._steady_step

    def run(fast):
        model, x, y = tiny()
        closure = lambda: F.mse_loss(model(x), y)  # noqa: E731
        optimizer = torch.optim.AdamW(model.parameters(), lr=0.01)
        driver = LRTuner(optimizer, "auto")
        taken = []

        def spy(self, *args):
            rates = original(self, *args) if fast else None
            taken.append(rates is not None)
            return rates

        monkeypatch.setattr(LRTuner, "_steady_step", spy)
        rates = []
        for _ in range(80):
            optimizer.zero_grad()
            loss = closure()
            loss.backward(create_graph=create_graph)
            rates.append(driver.after_backward(closure, loss=loss))
            assert not any(p.grad.requires_grad for p in model.parameters())
            optimizer.step()
        return rates, bits(model), driver.tuner.save(), taken, driver, closure, optimizer

    fast, full = run(True), run(False)
    assert fast[0] == full[0] and same(fast[1], full[1]) and fast[2] == full[2]
    assert sum(fast[3]) >= 40 and len(fast[3]) == len(full[3]) and not any(full[3])  # most of the 80 were steady
    driver, closure, optimizer = fast[4], fast[5], fast[6]
    kept = driver._kept_plan(driver.step_count)
    while kept is None or driver.step_count + 1 >= kept.steady_until:  # reach a steady step
        optimizer.zero_grad()
        closure().backward()
        driver.after_backward(closure)
        kept = driver._kept_plan(driver.step_count)
    state, step = driver.tuner.save(), driver.step_count
    optimizer.zero_grad(set_to_none=True)
    with pytest.raises(ValueError, match="no parameter has one: call loss.backward"):
        driver.after_backward(closure)
    closure().backward()
    with pytest.raises(TypeError, match="callable or a non-empty list"):
        driver.after_backward([])
    assert driver.tuner.save() == state and driver.step_count == step


def test_step_on_steady_steps_matches_the_full_after_backward_path(monkeypatch):
    """step(closure) returns right after the gradient on a step the kept plan covers together with
    the next one; over 80 steps of auto with SGD+momentum its rates, weights and tuner state are bit
    for bit those of loss.backward() + after_backward on its full path (the fast path switched off),
    and p.grad is the plain gradient either way."""
    def run(use_step):
        model, x, y = tiny()
        closure = lambda: F.mse_loss(model(x), y)  # noqa: E731
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        driver = LRTuner(optimizer, "auto")
        rates = []
        for _ in range(80):
            optimizer.zero_grad()
            if use_step:
                rates.append(driver.step(closure=closure))
            else:
                loss = closure()
                loss.backward()
                rates.append(driver.after_backward(closure, loss=loss))
            assert not any(p.grad.requires_grad for p in model.parameters())
            optimizer.step()
        return rates, bits(model), driver.tuner.save()

    monkeypatch.setattr(LRTuner, "_steady_step", lambda self, *args: None)
    by_step, by_backward = run(True), run(False)
    assert by_step[0] == by_backward[0] and same(by_step[1], by_backward[1]) and by_step[2] == by_backward[2]
