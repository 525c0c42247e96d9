"""hessianlr.torch.HessianLRScheduler against dense Hessians; graphs only on wanted steps."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import hessianlr as h  # noqa: E402
from hessianlr import Info  # noqa: E402
from hessianlr.torch import HessianLRScheduler, LRTuner, UnsupportedOptimizerError  # noqa: E402
from conftest import flat_loss  # noqa: E402


def tiny(dtype=torch.float64, seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).to(dtype)
    x = torch.randn(16, 3, dtype=dtype)
    y = torch.randn(16, 2, dtype=dtype)
    return model, x, y


def loss_of(model, x, y):
    return torch.nn.functional.mse_loss(model(x), y)


def dense_terms(model, x, y, group_sizes):
    """s_k = ‖g_k‖², c_k = g_kᵀ H_kk g_k from the dense Hessian of the flat parameter vector."""
    names = [name for name, _ in model.named_parameters()]
    shapes = [p.shape for _, p in model.named_parameters()]
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])

    def f(vector):
        params, start = {}, 0
        for name, shape in zip(names, shapes):
            count = shape.numel()
            params[name] = vector[start : start + count].reshape(shape)
            start += count
        return torch.nn.functional.mse_loss(torch.func.functional_call(model, params, (x,)), y)

    H = torch.autograd.functional.hessian(f, flat)
    g = torch.autograd.functional.jacobian(f, flat)
    values, start = [], 0
    for size in group_sizes:
        gk = g[start : start + size]
        values += [float(gk @ gk), float(gk @ H[start : start + size, start : start + size] @ gk)]
        start += size
    return values


@pytest.mark.parametrize("split", [False, True])
def test_observation_matches_dense_hessian(split):
    model, x, y = tiny()
    first, second = model[0], model[2]
    if split:
        groups = [{"params": first.parameters(), "lr": 0.05}, {"params": second.parameters(), "lr": 0.02}]
        sizes = [sum(p.numel() for p in first.parameters()), sum(p.numel() for p in second.parameters())]
    else:
        groups = [{"params": model.parameters(), "lr": 0.05}]
        sizes = [sum(p.numel() for p in model.parameters())]
    optimizer = torch.optim.SGD(groups)
    scheduler = HessianLRScheduler(optimizer, update_period=1, smoothing_factor=0.0, lr_bounds=(1e-9, 1e9))
    expected = dense_terms(model, x, y, sizes)
    lrs = scheduler.step(loss_of(model, x, y))
    tuner = scheduler.tuner
    for k in range(len(sizes)):
        assert tuner.info(Info.LAST_SLOPE, k) == pytest.approx(expected[2 * k], rel=1e-10)
        assert tuner.info(Info.LAST_CURVATURE, k) == pytest.approx(expected[2 * k + 1], rel=1e-10)
        candidate = expected[2 * k] / expected[2 * k + 1]
        if expected[2 * k + 1] > 0:
            assert lrs[k] == pytest.approx(min(candidate, 1.0), rel=1e-10)
    assert [g["lr"] for g in optimizer.param_groups] == lrs == scheduler.get_last_lr()
    assert scheduler.hvp_count == len(sizes)
    # gradients were written into p.grad, detached
    reference = torch.autograd.grad(loss_of(model, x, y), list(model.parameters()))
    for p, g in zip(model.parameters(), reference):
        assert p.grad.grad_fn is None and torch.allclose(p.grad, g)


def test_graph_only_on_wanted_steps(monkeypatch):
    model, x, y = tiny(torch.float32)
    optimizer = torch.optim.SGD([{"params": model[0].parameters(), "lr": 0.1},
                                 {"params": model[2].parameters(), "lr": 0.05}])
    scheduler = HessianLRScheduler(optimizer, num_warmup_steps=2, update_period=3)
    assert scheduler.get_last_lr() == pytest.approx([0.1 / 2, 0.05 / 2])  # warmup rate of step 0
    calls = []
    original = torch.autograd.grad

    def recording(outputs, inputs, *args, **kwargs):
        result = original(outputs, inputs, *args, **kwargs)
        calls.append({
            "step": scheduler.step_count,
            "create_graph": kwargs.get("create_graph", False),
            "hvp": kwargs.get("grad_outputs") is not None,
            "graph_in_result": any(r is not None and r.grad_fn is not None for r in result),
        })
        return result

    monkeypatch.setattr(torch.autograd, "grad", recording)
    wanted = []
    for t in range(12):
        assert scheduler.wants_curvature() == scheduler.tuner.wants_curvature(t)
        if scheduler.wants_curvature():
            wanted.append(t)
        optimizer.zero_grad()
        scheduler.step(loss_of(model, x, y))
        optimizer.step()
        assert all(p.grad.grad_fn is None for p in model.parameters())
        assert [g["lr"] for g in optimizer.param_groups] == scheduler.tuner.lrs(t)
    assert wanted == [2, 5, 8, 11]
    gradient_calls = [c for c in calls if not c["hvp"]]
    assert [c["step"] for c in gradient_calls] == list(range(12))
    for call in gradient_calls:
        assert call["create_graph"] == (call["step"] in wanted)
        assert call["graph_in_result"] == (call["step"] in wanted)
    hvp_steps = [c["step"] for c in calls if c["hvp"]]
    assert hvp_steps == [t for t in wanted for _ in range(2)]  # one HVP per group
    assert not any(c["create_graph"] for c in calls if c["hvp"])
    assert scheduler.hvp_count == 2 * len(wanted)
    assert scheduler.tuner.info(Info.UPDATES) == len(wanted)


def test_state_dict_round_trip_continues_identically():
    def run(steps, scheduler, model, optimizer, x, y):
        out = []
        for _ in range(steps):
            scheduler.step(loss_of(model, x, y))
            optimizer.step()
            out.append(scheduler.get_last_lr())
        return out

    model, x, y = tiny(torch.float64, seed=1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    scheduler = HessianLRScheduler(optimizer, update_period=2)
    run(7, scheduler, model, optimizer, x, y)
    checkpoint = ({k: v.clone() for k, v in model.state_dict().items()}, optimizer.state_dict(), scheduler.state_dict())
    expected = run(9, scheduler, model, optimizer, x, y)

    model2, _, _ = tiny(torch.float64, seed=99)
    model2.load_state_dict(checkpoint[0])
    optimizer2 = torch.optim.SGD(model2.parameters(), lr=0.7)
    optimizer2.load_state_dict(checkpoint[1])
    scheduler2 = HessianLRScheduler(optimizer2, update_period=5)
    scheduler2.load_state_dict(checkpoint[2])
    assert scheduler2.step_count == 7 and scheduler2.hvp_count == scheduler.hvp_count - 4
    assert run(9, scheduler2, model2, optimizer2, x, y) == expected


def test_options_checked():
    model, _, _ = tiny()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match="initial_lr"):
        HessianLRScheduler(optimizer, initial_lr=0.3)
    with pytest.raises(ValueError, match="direction"):
        HessianLRScheduler(optimizer, direction="sideways")
    with pytest.raises(UnsupportedOptimizerError, match="LBFGS"):
        HessianLRScheduler(torch.optim.LBFGS(model.parameters()), direction="update")
    assert HessianLRScheduler(optimizer, direction="update").direction == h.Direction.UPDATE
    with pytest.raises(h.InvalidArgumentError, match="smoothing"):
        HessianLRScheduler(optimizer, smoothing_factor=2.0)
    assert h.HessianLRScheduler is HessianLRScheduler and issubclass(HessianLRScheduler, LRTuner)


def test_direction_update_with_momentum_matches_a_dense_hessian():
    """d = u, SGD-momentum's would-be update: s = gᵀu and c = uᵀHu per group."""
    model, x, y = tiny()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scheduler = HessianLRScheduler(optimizer, update_period=1, direction="update")
    for _ in range(2):  # a first step fills the momentum buffer
        scheduler.step(loss_of(model, x, y))
        optimizer.step()
    buffer = [optimizer.state[p]["momentum_buffer"].clone() for p in model.parameters()]
    flat, f = flat_loss(model, x, lambda out: torch.nn.functional.mse_loss(out, y))
    H = torch.autograd.functional.hessian(f, flat)
    g = torch.autograd.functional.jacobian(f, flat)
    u = 0.9 * torch.cat([b.reshape(-1) for b in buffer]) + g
    scheduler.step(loss_of(model, x, y))
    assert scheduler.tuner.info(Info.LAST_SLOPE) == pytest.approx(float(g @ u), rel=1e-10)
    assert scheduler.tuner.info(Info.LAST_CURVATURE) == pytest.approx(float(u @ H @ u), rel=1e-10)


def test_the_scheduler_passes_curvature_ddp_process_group_and_scaler_to_lrtuner():
    """HessianLRScheduler(curvature=, ddp=, process_group=, scaler=) are LRTuner's: curvature by
    finite differences after the user's own backward gives LRTuner's rates bit for bit, and the
    other three are checked as LRTuner checks them (DDP itself: test_torch_distributed.py)."""
    rates = []
    for make in (lambda o: HessianLRScheduler(o, update_period=1, direction="update", curvature="finite_difference"),
                 lambda o: LRTuner(o, h.HessianLR(groups=1, initial_lr=[0.05], update_period=1, direction="update"),
                                   curvature="finite_difference")):
        model, x, y = tiny()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        driver = make(optimizer)
        assert driver.curvature == "finite_difference"
        closure = lambda: loss_of(model, x, y)  # noqa: E731
        run = []
        for _ in range(3):
            optimizer.zero_grad()
            loss = closure()
            loss.backward()  # no graph: the curvature comes from the closure
            run.append(driver.after_backward(closure, loss=loss))
            optimizer.step()
        assert driver.hvp_count == 3 and driver.gradient_count == 6
        rates.append(run)
    assert rates[0] == rates[1]
    model, x, y = tiny()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    with pytest.raises(ValueError, match="curvature must be one of"):
        HessianLRScheduler(optimizer, curvature="sideways")
    with pytest.raises(TypeError, match="ddp must be a torch.nn.parallel.DistributedDataParallel"):
        HessianLRScheduler(optimizer, ddp=model)
    if torch.distributed.is_available() and not torch.distributed.is_initialized():
        with pytest.raises(ValueError, match="process_group given but torch.distributed is not initialised"):
            HessianLRScheduler(optimizer, process_group=object())
    if hasattr(torch, "amp") and hasattr(torch.amp, "GradScaler"):
        scaler = torch.amp.GradScaler("cpu")
        assert HessianLRScheduler(optimizer, scaler=scaler).scaler is scaler
