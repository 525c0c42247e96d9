"""LRTuner under DistributedDataParallel (issue 15, item 2), on a real engine: torch.distributed
with the gloo backend, 2 and 4 processes on this machine (subprocesses running this file, a
file:// rendezvous, one torch thread each). Every process trains the same small model on its
shard of a fixed global batch; the driver reads DDP's averaged p.grad (after_backward), measures
its own shard (finite-difference curvature in no_sync, loss probes through the DDP module) and
the library averages each observation over the processes. Checked: every rank gets the same rates
and the same parameters, bit for bit, equal within float tolerance to one process training on the
whole batch (mean loss); the same with gradient accumulation (two micro-batches per optimizer step,
no_sync on the first); every rank makes the same number of forward calls of the DDP module, also
when one rank's probe loss is infinite; and what is refused on every rank alike, with nothing
changed (graph curvature under DDP, gradients that were not averaged, a non-finite loss on one
rank, copying)."""

from __future__ import annotations

import contextlib
import copy
import json
import os
import sys
from pathlib import Path

import pytest

from conftest import run_processes

torch = pytest.importorskip("torch")

F = torch.nn.functional
HERE = Path(__file__).resolve()
TIMEOUT = 120
GLOBAL_ROWS = 16  # the global batch: 8 rows per process with 2 processes, 4 with 4
STEPS = 4

pytestmark = pytest.mark.skipif(
    not (torch.distributed.is_available() and torch.distributed.is_gloo_available()),
    reason="torch.distributed with the gloo backend is unavailable")


def global_batch():
    generator = torch.Generator().manual_seed(1234)
    x = torch.randn(GLOBAL_ROWS, 3, dtype=torch.float64, generator=generator)
    y = torch.randn(GLOBAL_ROWS, 2, dtype=torch.float64, generator=generator)
    return x, y


def make_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 6), torch.nn.Tanh(), torch.nn.Linear(6, 2)).double()


def two_groups(model):
    return [{"params": model[0].parameters()}, {"params": model[2].parameters()}]


#: name → (method, optimizer, options, micro-batches per optimizer step, closure form, failing probe)
SCENARIOS = {
    "cdat": ("cdat", lambda p: torch.optim.Adam(p, lr=0.01), dict(update_period=1), 1, "single", None),
    "gen": ("gen", lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.5), dict(update_period=1), 1, "single", None),
    "cdat-accumulate": ("cdat", lambda p: torch.optim.Adam(p, lr=0.01), dict(update_period=1), 2, "list", None),
    "gen-accumulate": ("gen", lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.5), dict(update_period=1), 2, "sum",
                       None),
    # HessianLRScheduler(ddp=...): the scheduler-style wrapper passes ddp on to LRTuner
    "hessianlr-scheduler": ("scheduler", lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.5),
                            dict(update_period=1, direction="update"), 1, "single", None),
    # optimizers without a closed-form update: measured by a dry run of their step on every rank
    "auto-rmsprop": ("auto", lambda p: torch.optim.RMSprop(p, lr=1e-3, momentum=0.5), {}, 1, "single", None),
    "cdat-nadam": ("cdat", lambda p: torch.optim.NAdam(p, lr=0.01), dict(update_period=1), 1, "single", None),
    # rank 1 (one process: the only one) sees an infinite loss at its first probe of step 1
    "gen-failing-probe": ("gen", lambda p: torch.optim.SGD(p, lr=0.05), dict(update_period=1, fit_failure_decay=0.5),
                          1, "single", (1, 1)),
}
MAIN = ["cdat", "gen", "cdat-accumulate", "gen-accumulate", "hessianlr-scheduler", "auto-rmsprop", "cdat-nadam"]


def train(name, model, forward, x, y, *, ddp=None, rank=0):
    """STEPS optimizer steps of scenario ``name`` on rows x, y (this process's shard), the model
    called through ``forward`` (the DDP module, or the model itself in one process)."""
    from hessianlr.torch import HessianLRScheduler, LRTuner

    method, make_optimizer, options, micro, form, failing = SCENARIOS[name]
    optimizer = make_optimizer(two_groups(model))
    if method == "scheduler":
        driver = HessianLRScheduler(optimizer, ddp=ddp, **options)
    else:
        driver = LRTuner(optimizer, method, ddp=ddp, **options)
    no_sync = ddp.no_sync if ddp is not None else contextlib.nullcontext
    probes = {"step": 0, "calls": 0}

    def loss_of(xm, ym, scale):
        def closure():
            value = F.mse_loss(forward(xm), ym) / scale
            if not torch.is_grad_enabled():  # a loss probe
                probes["calls"] += 1
                if failing is not None and (probes["step"], probes["calls"]) == failing and rank == 1:
                    return value * float("inf")
            return value
        return closure

    rates = []
    for t in range(STEPS):
        probes["step"], probes["calls"] = t, 0
        closures = [loss_of(xm, ym, micro) for xm, ym in zip(x.chunk(micro), y.chunk(micro))]
        optimizer.zero_grad()
        losses = []
        for i, closure in enumerate(closures):
            with no_sync() if i < micro - 1 else contextlib.nullcontext():
                loss = closure()
                loss.backward()
                losses.append(loss)
        if form == "single":
            rates.append(driver.after_backward(closures[0], loss=losses[0]))
        elif form == "list":
            rates.append(driver.after_backward(closures))
        else:
            rates.append(driver.after_backward(lambda: sum(c() for c in closures)))
        optimizer.step()
    return {
        "rates": rates,
        "weights": [v for p in model.parameters() for v in p.detach().reshape(-1).tolist()],
        "counts": [driver.step_count, driver.hvp_count, driver.gradient_count, driver.observation_count,
                   driver.failed_observation_count],
    }


# -- one process of a gloo job (this file run as a script) ------------------------------------------


def shard(x, rank, world):
    rows = GLOBAL_ROWS // world
    return x[rank * rows:(rank + 1) * rows]


def refusals(rank, world, x, y):
    """What is refused on every rank alike; returns facts for the parent to check."""
    from hessianlr.torch import HessianLRScheduler, LRTuner

    dist = torch.distributed
    facts = {}

    def attempt(key, action, driver=None, model=None):
        state = None if driver is None else (driver.tuner.save(), driver.step_count)
        weights = None if model is None else [p.detach().clone() for p in model.parameters()]
        try:
            action()
            facts[key] = {"raised": None}
        except Exception as error:  # noqa: BLE001 - recorded for the parent's assertions
            facts[key] = {"raised": type(error).__name__, "message": str(error)}
        if driver is not None:
            facts[key]["unchanged"] = (driver.tuner.save(), driver.step_count) == state and all(
                torch.equal(a, b) for a, b in zip(weights, model.parameters()))

    xs, ys = shard(x, rank, world), shard(y, rank, world)
    model = make_model()
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    closure = lambda: F.mse_loss(ddp(xs), ys)  # noqa: E731
    attempt("graph_with_ddp", lambda: LRTuner(torch.optim.SGD(ddp.parameters(), lr=0.1), "cdat", ddp=ddp,
                                              curvature="graph"))
    attempt("scheduler_graph_with_ddp", lambda: HessianLRScheduler(torch.optim.SGD(ddp.parameters(), lr=0.1),
                                                                   ddp=ddp, curvature="graph"))

    # gradients never averaged: a model without DDP, told the process group
    plain = make_model()
    driver = LRTuner(torch.optim.SGD(plain.parameters(), lr=0.1), "cdat", update_period=1,
                     process_group=dist.group.WORLD)
    plain_closure = lambda: F.mse_loss(plain(xs), ys)  # noqa: E731
    plain_closure().backward()
    attempt("unreduced_gradients", lambda: driver.after_backward(plain_closure), driver, plain)
    scheduler = HessianLRScheduler(torch.optim.SGD(plain.parameters(), lr=0.1), update_period=1,
                                   process_group=dist.group.WORLD)
    attempt("scheduler_unreduced_gradients", lambda: scheduler.after_backward(plain_closure), scheduler, plain)
    plain.zero_grad()
    plain_closure().backward(create_graph=True)
    attempt("graph_under_process_group", lambda: driver.after_backward(plain_closure), driver, plain)
    plain.zero_grad()

    # accumulation with no_sync on every micro-batch: p.grad is each rank's own
    driver = LRTuner(torch.optim.Adam(ddp.parameters(), lr=0.01), "cdat", update_period=1, ddp=ddp)
    halves = [(lambda a=a, b=b: F.mse_loss(ddp(a), b) / 2) for a, b in zip(xs.chunk(2), ys.chunk(2))]
    with ddp.no_sync():
        for half in halves:
            half().backward()
    attempt("no_sync_on_every_micro_batch", lambda: driver.after_backward(halves), driver, model)
    driver.optimizer.zero_grad()
    for i, half in enumerate(halves):  # the fix: the last micro-batch synchronises
        with ddp.no_sync() if i == 0 else contextlib.nullcontext():
            half().backward()
    attempt("synchronised_retry", lambda: driver.after_backward(halves))
    facts["synchronised_retry"]["step_count"] = driver.step_count

    # a non-finite loss on one rank: every rank raises
    gen = LRTuner(torch.optim.SGD(ddp.parameters(), lr=0.05), "gen", update_period=1, ddp=ddp)
    gen.optimizer.zero_grad()
    loss = closure()
    loss.backward()
    bad = float("nan") if rank == 1 else loss
    attempt("non_finite_loss_on_rank_1", lambda: gen.after_backward(closure, loss=bad), gen, model)
    if rank == 1:  # an overflow on one process only (after DDP's all-reduce)
        model[0].weight.grad[0, 0] = float("inf")
    attempt("non_finite_gradient_on_rank_1", lambda: gen.after_backward(closure, loss=loss), gen, model)
    attempt("copy", lambda: copy.deepcopy(gen))
    attempt("step_without_curvature_source", lambda: LRTuner(
        torch.optim.SGD(ddp.parameters(), lr=0.1), "cdat", update_period=1, ddp=ddp).after_backward())
    dist.barrier()  # no rank was left behind in a collective
    return facts


def rank_main(rank: int, world: int, rendezvous: str, out: str, scenarios: list, check_refusals: bool) -> None:
    import datetime

    torch.set_num_threads(1)
    dist = torch.distributed
    dist.init_process_group("gloo", init_method=f"file://{rendezvous}", rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=60))
    x, y = global_batch()
    results = {}
    for name in scenarios:
        model = make_model()
        ddp = torch.nn.parallel.DistributedDataParallel(model)
        forwards = [0]
        ddp.register_forward_pre_hook(lambda module, args: forwards.__setitem__(0, forwards[0] + 1))
        record = train(name, model, ddp, shard(x, rank, world), shard(y, rank, world), ddp=ddp, rank=rank)
        record["ddp_forwards"] = forwards[0]
        results[name] = record
    if check_refusals:
        results["refusals"] = refusals(rank, world, x, y)
    Path(out).write_text(json.dumps(results))
    dist.barrier()
    dist.destroy_process_group()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # skips the interpreter's teardown of torch's and gloo's threads (nothing left to do)


# -- the tests -----------------------------------------------------------------------------------


def run_ranks(world: int, tmp: Path, scenarios: list, check_refusals: bool) -> list:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join([str(HERE.parents[1])] + [p for p in [env.get("PYTHONPATH")] if p])
    rendezvous = tmp / f"rendezvous-{world}"
    outs = [tmp / f"rank-{world}-{rank}.json" for rank in range(world)]
    argv = [json.dumps(scenarios), "1" if check_refusals else "0"]
    results = run_processes([[sys.executable, str(HERE), str(rank), str(world), str(rendezvous), str(out)] + argv
                             for rank, out in enumerate(outs)], TIMEOUT, env=env)
    for rank, (returncode, _, err) in enumerate(results):
        assert returncode == 0, f"rank {rank} of {world}: {err[-4000:]}"
    return [json.loads(out.read_text()) for out in outs]


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    return run_ranks(2, tmp_path_factory.mktemp("gloo2"), MAIN + ["gen-failing-probe"], check_refusals=True)


@pytest.fixture(scope="module")
def four_processes(tmp_path_factory):
    return run_ranks(4, tmp_path_factory.mktemp("gloo4"), MAIN, check_refusals=False)


@pytest.fixture(scope="module")
def references():
    """Each scenario in one process on the whole global batch (no DDP, no process group)."""
    x, y = global_batch()
    out = {}
    for name in SCENARIOS:
        model = make_model()
        out[name] = train(name, model, model, x, y, rank=1)
    return out


def close(a, b, rtol, atol=0.0):
    return all(abs(u - v) <= atol + rtol * abs(v) for u, v in zip(a, b)) and len(a) == len(b)


@pytest.mark.parametrize("name", MAIN)
@pytest.mark.parametrize("world", [2, 4])
def test_every_rank_gets_the_rates_and_parameters_of_one_process_on_the_whole_batch(request, references, world, name):
    ranks = request.getfixturevalue("two_processes" if world == 2 else "four_processes")
    records = [r[name] for r in ranks]
    first = records[0]
    for rank, record in enumerate(records[1:], 1):
        assert record["rates"] == first["rates"], f"rank {rank} of {world}: other rates"
        assert record["weights"] == first["weights"], f"rank {rank} of {world}: other parameters"
        assert record["counts"] == first["counts"]
        assert record["ddp_forwards"] == first["ddp_forwards"]  # the same forward calls of the DDP module
    reference = references[name]
    for t, (rates, expected) in enumerate(zip(first["rates"], reference["rates"])):
        assert close(rates, expected, 1e-8), f"step {t}: {rates} vs one process {expected}"
    assert close(first["weights"], reference["weights"], 1e-8, 1e-12)
    step_count, hvps, gradients, observations, failures = first["counts"]
    assert step_count == STEPS and observations == STEPS and failures == 0  # optimizer steps, not micro-batches
    assert [step_count, hvps, observations] == [reference["counts"][i] for i in (0, 1, 3)]
    if name.startswith("cdat") or name == "hessianlr-scheduler":
        micro = SCENARIOS[name][3]
        assert hvps == 2 * STEPS and gradients == micro * 2 * 2 * STEPS  # two passes per group and micro-batch
    else:
        assert hvps == 0 and gradients == 0


def test_a_failed_probe_on_one_rank_fails_the_fit_on_every_rank(two_processes, references):
    records = [r["gen-failing-probe"] for r in two_processes]
    assert records[0]["rates"] == records[1]["rates"] and records[0]["weights"] == records[1]["weights"]
    assert records[0]["counts"][4] == records[1]["counts"][4] == 1  # one failed observation, on both ranks
    # every probe row was evaluated on both ranks (rank 0 saw only finite losses): the same forward calls
    assert records[0]["ddp_forwards"] == records[1]["ddp_forwards"] == STEPS * 3
    reference = references["gen-failing-probe"]
    assert reference["counts"][4] == 1
    assert records[0]["rates"][1] == [0.5 * r for r in records[0]["rates"][0]]  # fit_failure_decay
    for rates, expected in zip(records[0]["rates"], reference["rates"]):
        assert close(rates, expected, 1e-8)


REFUSED = {
    "graph_with_ddp": ("ValueError", "curvature='graph' with a process group"),
    "scheduler_graph_with_ddp": ("ValueError", "curvature='graph' with a process group"),
    "scheduler_unreduced_gradients": ("UnsupportedTrainingError", "the gradient differs between the processes"),
    "unreduced_gradients": ("UnsupportedTrainingError", "the gradient differs between the processes"),
    "graph_under_process_group": ("ValueError", "carries a double-backward graph"),
    "no_sync_on_every_micro_batch": ("UnsupportedTrainingError", "no_sync"),
    "non_finite_loss_on_rank_1": ("NonFiniteError", "not finite on at least one process"),
    "non_finite_gradient_on_rank_1": ("NonFiniteError", "is not finite: an overflowed gradient"),
    "copy": ("TypeError", "cannot be copied"),
    "step_without_curvature_source": ("ValueError", "needs curvature: pass closure="),
}


def test_what_is_refused_is_refused_on_every_rank_with_nothing_changed(two_processes):
    for rank, result in enumerate(two_processes):
        facts = result["refusals"]
        for key, (error, message) in REFUSED.items():
            fact = facts[key]
            assert fact["raised"] == error and message in fact["message"], f"rank {rank}, {key}: {fact}"
            assert fact.get("unchanged", True), f"rank {rank}, {key}: the driver or the weights changed"
        assert facts["synchronised_retry"] == {"raised": None, "step_count": 1}


if __name__ == "__main__":
    rank_main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], json.loads(sys.argv[5]), sys.argv[6] == "1")
