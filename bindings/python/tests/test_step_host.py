"""step_host: zero-copy buffers, read-only views, callbacks' exceptions, all-or-nothing."""

from __future__ import annotations

import math

import numpy as np
import pytest

import hessianlr as h
from hessianlr import Need

from reference import Quadratic


def gen_mid_run(dtype=np.float64):
    """A GeN tuner after one update, its problem and buffers."""
    problem = Quadratic(6, seed=4, dtype=dtype)
    w = np.linspace(-1, 1, 6).astype(dtype)
    tuner = h.GeN(initial_lr=0.1, update_period=1)
    tuner.step_host(0, w, problem.gradient(w), loss=problem.loss)
    return tuner, problem, w


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_loss_sees_read_only_trial_weights_and_weights_are_never_written(dtype):
    tuner, problem, w = gen_mid_run(dtype)
    g = problem.gradient(w)
    before_w, before_g = w.copy(), g.copy()
    seen = []

    def loss(trial):
        assert trial.dtype == dtype and trial.shape == w.shape and not trial.flags.writeable
        with pytest.raises(ValueError):
            trial[0] = 0
        seen.append((trial.copy(), np.shares_memory(trial, w)))
        return problem.loss(trial)

    with tuner:
        tuner.step_host(1, w, g, loss=loss)
    assert np.array_equal(w, before_w) and np.array_equal(g, before_g)
    assert len(seen) == 3 and not any(shared for _, shared in seen)
    minus, zero, plus = (trial for trial, _ in seen)
    assert np.array_equal(zero, w)  # ρ = 0 rounds back to w exactly
    # the probes are w ∓ lr·g: symmetric around w
    assert np.allclose(minus - w, -(plus - w), rtol=1e-5, atol=1e-6) and not np.array_equal(minus, w)


def test_slope_without_current_loss_calls_loss_on_the_callers_weights():
    problem = Quadratic(4, seed=0)
    w = np.ones(4)
    seen = []

    def loss(trial):
        seen.append(trial.ctypes.data)
        return problem.loss(trial)

    with h.Armijo() as tuner:
        tuner.step_host(0, w, problem.gradient(w), loss=loss)
        assert seen[0] == w.ctypes.data  # L(w) at the caller's own buffer, no copy
        assert tuner.need(0) == (Need.NOTHING, 0)


class Boom(Exception):
    pass


@pytest.mark.parametrize("which", ["loss", "hvp"])
def test_callback_exception_is_chained_and_changes_nothing(which):
    problem = Quadratic(5)
    w = np.ones(5)
    g = problem.gradient(w)
    make = (lambda: h.GeN(update_period=1)) if which == "loss" else (lambda: h.CDAT())
    with make() as tuner:
        kwargs = {"loss": problem.loss} if which == "loss" else {"hvp": problem.hvp}
        tuner.step_host(0, w, g, update=g if which == "hvp" else None, **kwargs)
        before = tuner.save()
        calls = []

        def broken(*args):
            calls.append(1)
            raise Boom(f"inside the {which}")

        with pytest.raises(h.CallbackError) as info:
            tuner.step_host(1, w, g, update=g if which == "hvp" else None, **{which: broken})
        assert isinstance(info.value.__cause__, Boom) and str(info.value.__cause__) == f"inside the {which}"
        assert info.value.code == h.Status.CALLBACK and f"{which} callback" in info.value.message.lower()
        assert calls == [1]  # aborted at the first failure
        assert tuner.save() == before
        tuner.step_host(1, w, g, update=g if which == "hvp" else None, **kwargs)  # step 1 still open
        assert tuner.info(h.Info.UPDATES) == 2


def test_loss_returning_a_non_number_is_a_callback_error():
    with h.GeN() as tuner:
        before = tuner.save()
        with pytest.raises(h.CallbackError) as info:
            tuner.step_host(0, np.ones(3), np.ones(3), loss=lambda w: "not a number")
        assert isinstance(info.value.__cause__, ValueError)
        assert tuner.save() == before


def test_keyboard_interrupt_in_loss_propagates_as_is():
    def loss(w):
        raise KeyboardInterrupt

    with h.Armijo() as tuner:
        before = tuner.save()
        with pytest.raises(KeyboardInterrupt):
            tuner.step_host(0, np.ones(2), np.ones(2), current_loss=1.0, loss=loss)
        assert tuner.save() == before


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nonfinite_loss_changes_nothing(bad):
    with h.GeN() as tuner:
        before = tuner.save()
        with pytest.raises(h.NonFiniteError, match="loss"):
            tuner.step_host(0, np.ones(3), np.ones(3), loss=lambda w: bad)
        assert tuner.save() == before


def test_missing_callback_and_bad_current_loss():
    with h.GeN() as tuner:
        before = tuner.save()
        with pytest.raises(h.NullPointerError, match="loss"):
            tuner.step_host(0, np.ones(3), np.ones(3))
        with pytest.raises(h.NonFiniteError, match="current_loss"):
            tuner.step_host(0, np.ones(3), np.ones(3), current_loss=math.inf, loss=lambda w: 0.0)
        with pytest.raises(h.NonFiniteError, match="current_loss is NaN"):
            tuner.step_host(0, np.ones(3), np.ones(3), current_loss=math.nan, loss=lambda w: 0.0)
        assert tuner.save() == before
    with h.HessianLR() as tuner:
        with pytest.raises(h.NullPointerError, match="hvp"):
            tuner.step_host(0, np.ones(3), np.ones(3), loss=lambda w: 0.0)


def test_buffer_checks():
    loss = lambda w: 0.0  # noqa: E731
    with h.GeN(groups=2) as tuner:
        before = tuner.save()
        with pytest.raises(TypeError, match="numpy.ndarray"):
            tuner.step_host(0, [1.0, 2.0], np.ones(2), loss=loss)
        with pytest.raises(TypeError, match="int64"):
            tuner.step_host(0, np.arange(3), np.ones(3), loss=loss)
        with pytest.raises(TypeError, match="must match"):
            tuner.step_host(0, np.ones(3, dtype=np.float32), np.ones(3), loss=loss)
        with pytest.raises(TypeError, match="must match"):
            tuner.step_host(0, np.ones(3), np.ones(3), update=np.ones(3, dtype=np.float32), loss=loss)
        with pytest.raises(ValueError, match="elements"):
            tuner.step_host(0, np.ones(3), np.ones(4), loss=loss)
        with pytest.raises(ValueError, match="C-contiguous"):
            tuner.step_host(0, np.ones(6)[::2], np.ones(3), loss=loss)
        with pytest.raises(TypeError, match="callable"):
            tuner.step_host(0, np.ones(3), np.ones(3), loss=3.0)
        with pytest.raises(h.NullPointerError, match="group_offsets"):
            tuner.step_host(0, np.ones(3), np.ones(3), loss=loss)
        with pytest.raises(h.InvalidArgumentError, match="must not decrease"):
            tuner.step_host(0, np.ones(3), np.ones(3), group_offsets=[0, 2, 1], loss=loss)
        with pytest.raises(h.InvalidArgumentError, match="non-negative"):
            tuner.step_host(0, np.ones(3), np.ones(3), group_offsets=[0, -1, 3], loss=loss)
        with pytest.raises(h.InvalidArgumentError, match="step"):
            tuner.step_host(-1, np.ones(3), np.ones(3), group_offsets=[0, 1, 3], loss=loss)
        with pytest.raises(h.NonFiniteError, match="weights"):
            tuner.step_host(0, np.array([1.0, np.nan, 0]), np.ones(3), group_offsets=[0, 1, 3], loss=loss)
        assert tuner.save() == before


def test_callback_may_call_the_library_on_the_same_handle():
    problem = Quadratic(4)
    w = np.ones(4)
    with h.GeN(initial_lr=0.5) as tuner:
        rates = []

        def loss(trial):
            rates.append(tuner.lr(0))
            return problem.loss(trial)

        tuner.step_host(0, w, problem.gradient(w), loss=loss)
        assert rates == [0.5] * 3 and tuner.info(h.Info.UPDATES) == 1


def test_another_call_changing_the_tuner_meanwhile_is_wrong_state():
    problem = Quadratic(4)
    w = np.ones(4)
    g = problem.gradient(w)
    with h.GeN(initial_lr=0.5) as tuner:
        def loss(trial):
            if not hasattr(loss, "done"):
                loss.done = True
                tuner.set_param(h.Param.LR_MAX, 0.75)  # a concurrent change of the same handle
            return problem.loss(trial)

        with pytest.raises(h.WrongStateError):
            tuner.step_host(0, w, g, loss=loss)
        assert tuner.get_param(h.Param.LR_MAX) == 0.75 and tuner.info(h.Info.UPDATES) == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_single_group_hvp_sees_the_callers_direction_buffer(dtype):
    problem = Quadratic(7, dtype=dtype)
    w = np.ones(7, dtype=dtype)
    g = problem.gradient(w)
    u = (2 * g).astype(dtype)
    seen = []

    def hvp(v, out):
        seen.append((v.ctypes.data, v.dtype, out.flags.writeable, v.flags.writeable))
        problem.hvp(v, out)

    with h.CDAT() as tuner:
        assert tuner.step_host(0, w, g, update=u, hvp=hvp) == 1
        assert seen == [(u.ctypes.data, np.dtype(dtype), True, False)]
        assert tuner.info(h.Info.LAST_SLOPE) == pytest.approx(float(g.astype(np.float64) @ u.astype(np.float64)), rel=1e-6)
