"""pickle, copy.copy and copy.deepcopy of handle objects (issue 11, item 8): a copy is a new,
independent handle that continues bit-identically (tuners and schedules through their snapshot,
estimators through their configuration); a raw handle value is never pickled."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import hessianlr as h
from hessianlr import Direction, EstimatorKind, Method, Param
from hessianlr.tuner import method_params
from hessianlr._lib import OwnedHandle
from hessianlr.tuners import TUNER_CLASSES, make_tuner

from reference import Quadratic

COPIES = {
    "pickle": lambda x: pickle.loads(pickle.dumps(x)),
    "pickle-0": lambda x: pickle.loads(pickle.dumps(x, protocol=0)),
    "deepcopy": copy.deepcopy,
    "copy": copy.copy,
}


def drive(tuner, problem, w, first, steps):
    """Runs steps first … first + steps − 1 with host mode (every method), stepping the weights;
    returns the rates of every step."""
    rates = []
    along_update = Param.DIRECTION in method_params(tuner.method) and tuner.get_param("direction") == Direction.UPDATE
    for t in range(first, first + steps):
        g = problem.gradient(w)
        tuner.step_host(t, w, g, update=g if along_update else None, hvp=problem.hvp, loss=problem.loss)
        lr = tuner.lrs(t)
        rates.append(lr)
        w = w - lr[0] * g
    return rates, w


def mid_run(method):
    problem = Quadratic(5, seed=3)
    tuner = make_tuner(method, 1, schedule=h.Schedule.cosine(base_lr=0.2, t_max=40, eta_min=0.01))
    if method in (Method.HESSIANLR, Method.CDAT):
        tuner.set_param("update_period", 1)
    w = np.linspace(-1, 1, 5)
    _, w = drive(tuner, problem, w, 0, 6)
    return tuner, problem, w


@pytest.mark.parametrize("how", sorted(COPIES))
@pytest.mark.parametrize("method", list(TUNER_CLASSES))
def test_tuner_copy_is_independent_and_continues_bit_identically(method, how):
    tuner, problem, w = mid_run(method)
    clone = COPIES[how](tuner)
    assert type(clone) is type(tuner) and clone is not tuner
    assert clone._handle != tuner._handle
    assert clone.save() == tuner.save() and clone.groups == tuner.groups and clone.method == method
    expected, w_expected = drive(tuner, problem, w.copy(), 6, 8)
    tuner.close()  # closing the original leaves the copy alive
    got, w_got = drive(clone, problem, w.copy(), 6, 8)
    assert got == expected and np.array_equal(w_got, w_expected)
    clone.close()


def test_closing_a_copy_leaves_the_original_alone():
    with h.HessianLR(groups=2, initial_lr=[0.1, 0.2]) as tuner:
        before = tuner.save()
        clone = copy.deepcopy(tuner)
        clone.close()
        del clone
        assert tuner.save() == before and tuner.lrs(0) == [0.1, 0.2]


def test_unpickled_in_another_process_it_is_itself_not_a_local_handle():
    """The issue's case: unpickled where another tuner holds the same raw handle id, a pickled
    HessianLR became that process's CDAT and freed it when collected."""
    with h.HessianLR(groups=2, initial_lr=[0.1, 0.2], update_period=1) as tuner:
        tuner.observe_curvature(0, [1.0, 2.0, 3.0, 4.0])
        blob, expected = pickle.dumps(tuner), tuner.save()
    script = textwrap.dedent(f"""
        import gc, pickle, hessianlr as h
        other = h.CDAT(groups=2)
        other_state = other.save()
        copy = pickle.loads({blob!r})
        assert copy.method == h.Method.HESSIANLR, copy.method
        assert copy._handle != other._handle
        assert copy.save() == {expected!r}
        del copy
        gc.collect()
        assert other.save() == other_state and other.method == h.Method.CDAT
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_a_subclass_keeps_its_attributes():
    class Tagged(h.GeN):
        pass

    tuner = object.__new__(Tagged)
    h.Tuner.__init__(tuner, Method.GEN, 1, initial_lr=0.3)
    tuner.tag = ["mine"]
    clone = copy.deepcopy(tuner)
    assert type(clone) is Tagged and clone.tag == ["mine"] and clone.tag is not tuner.tag
    assert clone.save() == tuner.save()


@pytest.mark.parametrize("make", [
    lambda: h.HessianLR(),
    lambda: h.Schedule.cosine(base_lr=0.1, t_max=10),
    lambda: h.Hutchinson(),
])
def test_a_closed_object_refuses_to_be_copied(make):
    thing = make()
    thing.close()
    for how in COPIES.values():
        with pytest.raises(h.InvalidHandleError, match="closed"):
            how(thing)


def test_a_handle_class_without_a_rebuild_refuses_with_type_error():
    class Bare(OwnedHandle):
        _free_function = "hlr_tuner_free"

    bare = Bare()
    bare._handle = None
    bare._handle = 1  # never freed: __del__ would pass it to the library
    try:
        for how in COPIES.values():
            with pytest.raises(TypeError, match="cannot be pickled or copied"):
                how(bare)
    finally:
        bare._handle = None


def test_schedule_copies_are_independent():
    schedule = h.warmup(h.Schedule.one_cycle(max_lr=0.3, total_steps=100), steps=10)
    for how in COPIES.values():
        clone = how(schedule)
        assert clone == schedule and clone._handle != schedule._handle
        assert np.array_equal(clone.values(0, 130), schedule.values(0, 130))
        clone.close()
        assert schedule.value(3) > 0


# -- estimators: copied through their configuration ---------------------------------------------

ESTIMATORS = {
    EstimatorKind.LANCZOS: lambda: h.Lanczos(count=2, which="LA", max_dimension=7, compute_vectors=True, seed=11),
    EstimatorKind.POWER_ITERATION: lambda: h.PowerIteration(count=2, max_iterations=30, seed=12),
    EstimatorKind.HUTCHINSON: lambda: h.Hutchinson(samples=9, relative_tolerance=0.1, min_samples=3, seed=13,
                                                    blocks=[0, 4, 9, 12]),
    EstimatorKind.HUTCH_PLUS_PLUS: lambda: h.HutchPlusPlus(matvecs=12, sketch_size=3, seed=14, blocks=[0, 5, 12]),
    EstimatorKind.XTRACE: lambda: h.XTrace(matvecs=10, seed=15),
    EstimatorKind.DIAGONAL: lambda: h.Diagonal(samples=6, seed=16, blocks=[0, 6, 12]),
    EstimatorKind.XDIAG: lambda: h.XDiag(matvecs=8, seed=18, blocks=[0, 6, 12]),
    EstimatorKind.SPECTRAL_DENSITY: lambda: h.SpectralDensity(runs=2, steps=6, grid_points=50, sigma=0.3,
                                                              grid_lower=-5.0, seed=17),
}


def result_arrays(result):
    out = {}
    for name, value in vars(result).items():
        if name == "timing":
            continue
        out[name] = np.asarray(value, dtype=object if value is None else None)
    return out


@pytest.mark.parametrize("how", sorted(COPIES))
@pytest.mark.parametrize("kind", list(ESTIMATORS))
def test_estimator_copy_has_the_same_configuration_and_results(kind, how):
    estimator = ESTIMATORS[kind]()
    clone = COPIES[how](estimator)
    assert type(clone) is type(estimator) and clone._handle != estimator._handle
    assert clone.kind == estimator.kind and clone.seed == estimator.seed
    assert clone.params() == estimator.params() and clone._blocks == estimator._blocks
    problem = Quadratic(12, seed=5)
    expected = result_arrays(estimator.run_host(12, problem.hvp))
    estimator.close()
    got = result_arrays(clone.run_host(12, problem.hvp))
    assert got.keys() == expected.keys()
    for name in expected:
        assert np.array_equal(got[name], expected[name]), name
    clone.close()


def test_estimator_copy_after_clearing_blocks_has_none():
    estimator = h.Hutchinson(blocks=[0, 2, 4])
    estimator.set_blocks(None)
    clone = copy.deepcopy(estimator)
    assert clone._blocks is None and clone.run_host(4, Quadratic(4).hvp).block_traces is None


# -- the torch driver: copied with its optimizer, as torch's own schedulers are ------------------

@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
@pytest.mark.parametrize("method", ["hessianlr", "gen", "armijo"])
def test_lr_tuner_copied_with_its_model_and_optimizer_continues_bit_identically(method, how):
    """An LRTuner holds its optimizer, so copying it copies the optimizer (torch's schedulers do
    the same); copied together with the model, the three continue exactly as the originals."""
    torch = pytest.importorskip("torch")
    from hessianlr.torch import LRTuner

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 1)).double()
    x, y = torch.randn(16, 3, dtype=torch.float64), torch.randn(16, 1, dtype=torch.float64)
    second_lr = 0.1 if method == "armijo" else 0.05  # Armijo has one rate for all groups
    optimizer = torch.optim.SGD([{"params": model[0].parameters()}, {"params": model[2].parameters(), "lr": second_lr}],
                                lr=0.1, momentum=0.5)
    options = {"update_period": 2} if method != "armijo" else {}
    driver = LRTuner(optimizer, method, **options)

    def train(model, optimizer, driver, steps):
        rates = []
        for _ in range(steps):
            closure = lambda: torch.nn.functional.mse_loss(model(x), y)  # noqa: E731
            rates.append(driver.step(closure=closure))
            optimizer.step()
        return rates

    train(model, optimizer, driver, 3)
    clone_model, clone_optimizer, clone_driver = COPIES[how]((model, optimizer, driver))
    assert clone_driver.optimizer is clone_optimizer and clone_driver.tuner._handle != driver.tuner._handle
    assert clone_optimizer.param_groups[0]["params"][0] is clone_model[0].weight
    expected = train(model, optimizer, driver, 6)
    driver.close()
    got = train(clone_model, clone_optimizer, clone_driver, 6)
    assert got == expected
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), clone_model.parameters()))
    clone_driver.close()
