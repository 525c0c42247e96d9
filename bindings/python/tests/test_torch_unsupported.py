"""What LRTuner refuses rather than trains wrongly (issue 11, item 13; issue 15): under
torch.distributed with more than one process (real gloo process groups on 127.0.0.1, in
subprocesses with a time limit) step's own gradient and a driver without the process group;
sharded (DTensor) parameters; gradients written into p.grad by someone else between step calls
(after_backward serves those loops: test_torch_backward.py, test_torch_distributed.py); and what
it still accepts (one process, in-place changes of p.grad)."""

from __future__ import annotations

import socket
import sys
import textwrap

import pytest

from conftest import run_processes

torch = pytest.importorskip("torch")

import hessianlr as h  # noqa: E402
from hessianlr.torch import LRTuner, UnsupportedTrainingError  # noqa: E402

TIMEOUT = 120

pytestmark = pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed unavailable")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


COMMON = textwrap.dedent("""
    import sys, datetime
    import torch
    import torch.distributed as dist
    import hessianlr as h
    from hessianlr.torch import LRTuner, UnsupportedTrainingError

    rank, world, port = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)).double()
    g = torch.Generator().manual_seed(100 + rank)  # every rank its own batch, as in data parallelism
    x, y = torch.randn(8, 3, dtype=torch.float64, generator=g), torch.randn(8, 1, dtype=torch.float64, generator=g)
""")

DATA_PARALLEL = COMMON + textwrap.dedent("""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    early = LRTuner(optimizer, "hessianlr", update_period=1)  # built before the process group: allowed
    before = early.tuner.save()
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=60))
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    weights = [p.detach().clone() for p in model.parameters()]
    try:
        early.step(closure=lambda: torch.nn.functional.mse_loss(ddp(x), y))
        raise SystemExit("step under 2 processes was accepted")
    except UnsupportedTrainingError as error:
        assert f"{world} processes" in str(error) and "DistributedDataParallel" in str(error), error
    assert early.step_count == 0 and early.tuner.save() == before
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(a, b) for a, b in zip(weights, model.parameters()))
    try:
        LRTuner(torch.optim.SGD(ddp.parameters(), lr=0.1), "gen")
        raise SystemExit("construction under 2 processes without ddp= was accepted")
    except UnsupportedTrainingError as error:
        assert "does not know which processes" in str(error) and "ddp=" in str(error), error
    served = LRTuner(torch.optim.SGD(ddp.parameters(), lr=0.1), "gen", ddp=ddp)  # DDP's group: accepted
    state = served.tuner.save()
    try:
        served.step(closure=lambda: torch.nn.functional.mse_loss(ddp(x), y))
        raise SystemExit("step's own gradient under 2 processes was accepted")
    except UnsupportedTrainingError as error:
        assert "after_backward" in str(error), error
    assert served.step_count == 0 and served.tuner.save() == state
    assert all(p.grad is None for p in model.parameters())
    dist.barrier()
    dist.destroy_process_group()
    print("ok", rank)
""")

ONE_PROCESS = COMMON + textwrap.dedent("""
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=0, world_size=1,
                            timeout=datetime.timedelta(seconds=60))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    driver = LRTuner(optimizer, "hessianlr", update_period=1)  # one process: nothing to all-reduce
    for _ in range(3):
        driver.step(closure=lambda: torch.nn.functional.mse_loss(model(x), y))
        optimizer.step()
    assert driver.step_count == 3 and driver.hvp_count == 3
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor import Replicate, distribute_tensor
    mesh = init_device_mesh("cpu", (1,))
    sharded = torch.nn.Parameter(distribute_tensor(torch.ones(4, dtype=torch.float64), mesh, [Replicate()]))
    try:
        LRTuner(torch.optim.SGD([sharded], lr=0.1), "cdat")
        raise SystemExit("a DTensor parameter was accepted")
    except UnsupportedTrainingError as error:
        assert "DTensor" in str(error) and "param group 0" in str(error), error
    dist.destroy_process_group()
    print("ok", 0)
""")


def run_ranks(script: str, world: int) -> None:
    port = free_port()
    results = run_processes([[sys.executable, "-c", script, str(rank), str(world), str(port)] for rank in range(world)],
                            TIMEOUT)
    for rank, (returncode, out, err) in enumerate(results):
        assert returncode == 0 and out.split() == ["ok", str(rank)], f"rank {rank}: {err[-3000:]}"


def test_step_and_a_driver_without_process_group_are_refused_under_two_gloo_processes():
    run_ranks(DATA_PARALLEL, 2)


def test_one_process_group_is_served_and_dtensor_parameters_are_refused():
    run_ranks(ONE_PROCESS, 1)


# -- p.grad written by someone else between steps ------------------------------------------------

def setup():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2)).double()
    x, y = torch.randn(16, 3, dtype=torch.float64), torch.randn(16, 2, dtype=torch.float64)
    optimizer = torch.optim.SGD([{"params": model[0].parameters()}, {"params": model[2].parameters()}], lr=0.1)
    return model, optimizer, (lambda: torch.nn.functional.mse_loss(model(x), y))


def test_a_backward_between_steps_is_refused_and_changes_nothing():
    model, optimizer, closure = setup()
    driver = LRTuner(optimizer, "hessianlr", update_period=1)
    driver.step(closure=closure)
    optimizer.step()
    optimizer.zero_grad()  # set_to_none
    for _ in range(2):  # gradient accumulation over two micro-batches
        closure().backward()
    accumulated = [p.grad.clone() for p in model.parameters()]
    state, weights = driver.tuner.save(), [p.detach().clone() for p in model.parameters()]
    with pytest.raises(UnsupportedTrainingError, match="discarded silently.*after_backward"):
        driver.step(closure=closure)
    assert driver.step_count == 1 and driver.tuner.save() == state
    assert all(torch.equal(p.grad, g) for p, g in zip(model.parameters(), accumulated))
    assert all(torch.equal(p, w) for p, w in zip(model.parameters(), weights))
    optimizer.zero_grad()  # the way out: drop them
    driver.step(closure=closure)
    assert driver.step_count == 2


def test_a_gradient_given_to_a_parameter_the_loss_did_not_reach_is_refused():
    model, optimizer, closure = setup()
    extra = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    optimizer.add_param_group({"params": [extra]})
    driver = LRTuner(optimizer, "cdat")
    driver.step(closure=closure)
    assert extra.grad is None
    extra.grad = torch.ones(2, dtype=torch.float64)
    with pytest.raises(UnsupportedTrainingError, match="parameter 0 of param group 2"):
        driver.step(closure=closure)


@pytest.mark.parametrize("between", ["nothing", "zero_grad", "zero_grad_in_place", "clip", "unscale"])
def test_usual_loops_are_not_refused(between):
    """The documented loop, with what trainers usually do between steps: p.grad left as step
    wrote it, set to None, zeroed or scaled in place."""
    model, optimizer, closure = setup()
    driver = LRTuner(optimizer, "gen", update_period=2)
    for _ in range(4):
        driver.step(closure=closure)
        if between == "clip":
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.01)
        elif between == "unscale":
            for p in model.parameters():
                p.grad.mul_(0.5)
        optimizer.step()
        if between == "zero_grad":
            optimizer.zero_grad()
        elif between == "zero_grad_in_place":
            optimizer.zero_grad(set_to_none=False)
    assert driver.step_count == 4


def test_gradients_before_the_first_step_are_not_refused():
    model, optimizer, closure = setup()
    closure().backward()  # e.g. left over from training without the driver
    driver = LRTuner(optimizer, "hessianlr")
    driver.step(closure=closure)
    reference = torch.autograd.grad(closure(), list(model.parameters()))
    assert all(torch.equal(p.grad, g) for p, g in zip(model.parameters(), reference))  # replaced, as documented


def test_a_refused_setup_error_is_a_runtime_error():
    assert issubclass(UnsupportedTrainingError, RuntimeError)
    assert h.torch.UnsupportedTrainingError is UnsupportedTrainingError
