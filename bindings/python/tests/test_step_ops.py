"""``Tuner.run_step`` (``hlr_tuner_step``): the library's step driver over a Python backend.

The C tests (Tests/c/test_step.c, test_methods.c) pin the driver's arithmetic bit for bit; here:
the binding's adapter computes what driving the protocol by hand computes, callback exceptions
are raised chained and change nothing, the failure policy and the all-reduce reach Python."""

from __future__ import annotations

import math

import numpy as np
import pytest

import hessianlr as h
from hessianlr import CallbackError, Need, NonFiniteError
from reference import drive_by_hand, probe_losses

A = np.array([1.0, 2.0, 3.0, 0.5, 4.0, 1.5])
C = np.array([0.3, -0.2, 0.1, 0.4, -0.5, 0.25])
OFFSETS = [0, 3, 6]


class Quadratic:
    """L(w) = ½ Σ aᵢ (wᵢ − cᵢ)², d = g, two groups; records the calls."""

    def __init__(self, w, nan_trial_on=0, raise_on=None):
        self.w = np.array(w, dtype=np.float64)
        self.trial = None
        self.calls: list[str] = []
        self.nan_trial_on = nan_trial_on
        self.raise_on = raise_on
        self.losses = 0

    def g(self):
        return A * (self.w - C)

    def _record(self, name):
        self.calls.append(name)
        if self.raise_on == (name, self.calls.count(name)):
            raise KeyError(f"{name} failed")

    def slopes(self):
        self._record("slopes")
        g = self.g()
        return [float(g[a:b] @ g[a:b]) for a, b in zip(OFFSETS, OFFSETS[1:])]

    def curvatures(self):
        self._record("curvatures")
        g = self.g()
        return [float((A * g * g)[a:b].sum()) for a, b in zip(OFFSETS, OFFSETS[1:])]

    def set_trial(self, steps):
        self._record("set_trial")
        self.trial = list(steps)

    def loss(self):
        self._record("loss")
        w = self.w.copy()
        if self.trial is not None:
            g = self.g()
            for k, (a, b) in enumerate(zip(OFFSETS, OFFSETS[1:])):
                w[a:b] -= self.trial[k] * g[a:b]
            self.losses += 1
            if self.losses == self.nan_trial_on:
                return math.nan
        return float(0.5 * (A * (w - C) ** 2).sum())

    def restore(self):
        self._record("restore")
        self.trial = None


def by_hand(tuner, step, backend, current_loss=None):
    """The protocol driven in Python with the backend's numbers (the reference)."""
    def values_of(need, _count) -> list:
        if need == Need.CURVATURE:
            s, c = backend.slopes(), backend.curvatures()
            return [x for pair in zip(s, c) for x in pair]
        if need == Need.SLOPE:
            s = backend.slopes()
            return [current_loss if current_loss is not None else backend.loss()] + s

        def loss_at(row) -> float:
            backend.set_trial(list(row))
            return backend.loss()

        values = probe_losses(tuner, step, current_loss, loss_at)
        backend.restore()
        return values

    return drive_by_hand(tuner, step, values_of)


@pytest.mark.parametrize("method", ["hessianlr", "cdat", "gen", "hidlr", "armijo", "constant"])
@pytest.mark.parametrize("give_loss", [False, True])
def test_run_step_equals_the_protocol_driven_by_hand(method, give_loss):
    driven, reference = h.make_tuner(method, 2), h.make_tuner(method, 2)
    w = np.array([1.0, -0.5, 0.25, 2.0, 0.0, -1.0])
    for step in range(12):
        a, b = Quadratic(w), Quadratic(w)
        loss = a.loss() if give_loss else None
        a.calls.clear()
        result = driven.run_step(step, a, loss)
        rounds = by_hand(reference, step, b, loss)
        assert result.rounds == rounds and result.failures == 0
        assert a.calls == b.calls
        assert driven.save() == reference.save()
        lrs = driven.lrs(step)
        assert all(math.isfinite(x) and x > 0 for x in lrs)
        g = a.g()
        for k, (lo, hi) in enumerate(zip(OFFSETS, OFFSETS[1:])):
            w[lo:hi] -= lrs[k] * g[lo:hi]


def test_a_callback_exception_is_chained_and_changes_nothing():
    tuner = h.make_tuner("gen", 2)
    before = tuner.save()
    backend = Quadratic(np.ones(6), raise_on=("loss", 2))
    with pytest.raises(CallbackError, match="loss") as caught:
        tuner.run_step(0, backend)
    assert isinstance(caught.value.__cause__, KeyError)
    assert tuner.save() == before
    assert backend.calls[-1] == "restore" and backend.trial is None


def test_a_nan_trial_loss_is_a_failed_fit_and_a_nan_current_loss_is_refused():
    tuner = h.make_tuner("gen", 2, fit_failure_decay=0.5)
    lr0 = tuner.lrs(0)
    result = tuner.run_step(0, Quadratic(np.ones(6), nan_trial_on=1), current_loss=1.0)
    assert result == (1, 1)
    assert tuner.lrs(1) == [x * 0.5 for x in lr0]
    with pytest.raises(NonFiniteError, match="pass None"):
        h.make_tuner("gen", 2).run_step(0, Quadratic(np.ones(6)), current_loss=math.nan)


class TwinProcesses(Quadratic):
    """An all-reduce over two identical processes: the sum is 2·values (exact in binary), so the
    mean is the single-process value bit for bit."""

    def __init__(self, w, reply=None):
        super().__init__(w)
        self.reduced: list[list[float]] = []
        self.reply = reply

    def all_reduce(self, values):
        self.reduced.append(list(values))
        if self.reply is not None:
            return self.reply(values)
        return [2.0 * v for v in values]


@pytest.mark.parametrize("method", ["cdat", "gen", "armijo"])
def test_all_reduce_averages_each_observation(method):
    twin, single = h.make_tuner(method, 2), h.make_tuner(method, 2)
    w = np.array([1.0, -0.5, 0.25, 2.0, 0.0, -1.0])
    for step in range(6):
        backend = TwinProcesses(w)
        result = twin.run_step(step, backend)
        single.run_step(step, Quadratic(w))
        assert len(backend.reduced) == result.rounds
        assert all(values[-1] == 1.0 for values in backend.reduced)  # the process count's slot
        assert twin.save() == single.save()


def test_a_bad_all_reduce_is_a_callback_error():
    tuner = h.make_tuner("cdat", 2)
    before = tuner.save()
    with pytest.raises(CallbackError, match="process count"):
        tuner.run_step(0, TwinProcesses(np.ones(6), reply=lambda v: list(v[:-1]) + [0.5]))
    with pytest.raises(CallbackError, match="all_reduce") as caught:
        tuner.run_step(0, TwinProcesses(np.ones(6), reply=lambda v: list(v[:-1])))
    assert isinstance(caught.value.__cause__, ValueError) and "expected 5" in str(caught.value.__cause__)
    assert tuner.save() == before


def test_a_backend_returning_the_wrong_count_is_a_callback_error():
    class Short(Quadratic):
        def slopes(self):
            return [1.0]

    with pytest.raises(CallbackError, match="slopes") as caught:
        h.make_tuner("cdat", 2).run_step(0, Short(np.ones(6)))
    assert "returned 1 values, expected 2" in str(caught.value.__cause__)
