"""Every method's protocol: need/probes/observe driven by hand (with the library's host arithmetic
transcribed in Python) and step_host give the same rates and snapshots, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

import hessianlr as h
from hessianlr import Need

from conftest import bits
from reference import Quadratic, observe_by_hand, ranges

OFFSETS = [0, 9, 9, 17, 23]  # 4 groups, group 1 empty
N = OFFSETS[-1]

CASES = {
    "hessianlr-gradient": (lambda: h.HessianLR(groups=4, initial_lr=0.05, update_period=2, smoothing_factor=0.5), False),
    "hessianlr-update": (lambda: h.HessianLR(groups=4, initial_lr=0.05, update_period=3, direction="update"), True),
    "cdat": (lambda: h.CDAT(groups=4, initial_lr=0.05, smoothing=0.5), True),
    "cdat-gradient": (lambda: h.CDAT(groups=4, initial_lr=[0.05, 0.1, 0.2, 0.3], direction="gradient", sigma=1.0), False),
    "gen": (lambda: h.GeN(groups=4, initial_lr=0.05, update_period=2, probe_count=5), False),
    "gen-update": (lambda: h.GeN(groups=4, initial_lr=0.05, update_period=1), True),
    "hidlr": (lambda: h.HiDLR(groups=4, initial_lr=0.05, update_period=2, r2_threshold=0.5), False),
    "hidlr-full": (lambda: h.HiDLR(groups=4, initial_lr=0.05, update_period=3, model="full", seed=7), True),
    "armijo": (lambda: h.Armijo(groups=4, initial_lr=2.0, lr_max=4.0), False),
    "armijo-update": (lambda: h.Armijo(groups=4, decrease_factor=0.5, max_backtracks=3), True),
    "constant": (lambda: h.Constant(groups=4, initial_lr=0.1, schedule=h.Schedule.cosine(base_lr=0.1, t_max=5)), False),
}


def run(make, use_update, dtype, steps, given_loss):
    problem_a = Quadratic(N, seed=3, dtype=dtype)
    problem_b = Quadratic(N, seed=3, dtype=dtype)
    precondition = np.linspace(0.5, 2.0, N).astype(dtype)
    w = np.random.default_rng(1).normal(size=N).astype(dtype)
    trace = []
    with make() as host, make() as by_hand:
        for t in range(steps):
            g = problem_a.gradient(w)
            u = (g * precondition).astype(dtype) if use_update else None
            current = problem_a.loss(w) if given_loss(t) else None
            rounds_host = host.step_host(t, w, g, update=u, group_offsets=OFFSETS, current_loss=current,
                                         hvp=problem_a.hvp, loss=problem_a.loss)
            rounds_hand = observe_by_hand(by_hand, t, w, g, g if u is None else u, OFFSETS, problem_b, current)
            assert rounds_host == rounds_hand, t
            lrs_host, lrs_hand = host.lrs(t), by_hand.lrs(t)
            assert [bits(x) for x in lrs_host] == [bits(x) for x in lrs_hand], t
            assert host.save() == by_hand.save(), t
            assert host.need(t) == (Need.NOTHING, 0)
            trace.append(lrs_host)
            d = g if u is None else u
            for k, part in enumerate(ranges(OFFSETS, N)):
                w[part] = (w[part] - lrs_host[k] * d[part]).astype(dtype)
        assert problem_a.hvp_calls == problem_b.hvp_calls
        return trace, host.info(h.Info.UPDATES)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", sorted(CASES))
def test_step_host_equals_protocol_by_hand(case, dtype):
    make, use_update = CASES[case]
    trace, updates = run(make, use_update, dtype, steps=10, given_loss=lambda t: t % 2 == 0)
    assert all(np.isfinite(trace).ravel())
    if not case.startswith("constant"):
        assert updates >= 3  # the rule did run
        assert len({tuple(x) for x in trace}) > 1  # and moved the rates


def test_current_loss_saves_loss_calls():
    problem = Quadratic(N, seed=1)
    w = np.ones(N)
    g = problem.gradient(w)
    with h.GeN(groups=4) as tuner:  # 3 probes: ρ = −1, 0, +1
        assert tuner.step_host(0, w, g, group_offsets=OFFSETS, loss=problem.loss) == 1
        assert problem.loss_calls == 3
    problem.loss_calls = 0
    with h.GeN(groups=4) as tuner:
        tuner.step_host(0, w, g, group_offsets=OFFSETS, loss=problem.loss, current_loss=problem.loss(w))
        assert problem.loss_calls == 1 + 2


def test_steps_that_need_nothing_make_no_calls():
    problem = Quadratic(5)
    w = np.ones(5)
    with h.HessianLR(update_period=4) as tuner:
        assert tuner.step_host(0, w, problem.gradient(w), hvp=problem.hvp) == 1
        for t in (1, 2, 3):
            assert tuner.step_host(t, w, problem.gradient(w), hvp=None, loss=None) == 0
        assert problem.hvp_calls == 1
    with h.Constant() as tuner:
        assert tuner.step_host(0, w, w) == 0


def test_armijo_protocol_sequence():
    """SLOPE, then one LOSSES probe [η, …, η] per trial, then NOTHING; the accepted rate passes
    the Armijo test and the rejected ones fail it."""
    problem = Quadratic(6, seed=2, scale=4.0)
    w = np.random.default_rng(0).normal(size=6)
    g = problem.gradient(w)
    loss0 = problem.loss(w)
    with h.Armijo(groups=2, initial_lr=1.0) as tuner:
        assert tuner.need(0) == (Need.SLOPE, 3)
        tuner.observe(0, Need.SLOPE, [loss0, float(g[:3] @ g[:3]), float(g[3:] @ g[3:])])
        slope = float(g @ g)
        trials = []
        while True:
            need, count = tuner.need(0)
            if need == Need.NOTHING:
                break
            assert (need, count) == (Need.LOSSES, 1)
            probes = tuner.probes(0)
            assert probes.shape == (1, 2) and probes[0, 0] == probes[0, 1]
            eta = probes[0, 0]
            assert tuner.info(h.Info.TRIAL_LR) == eta
            trials.append(eta)
            tuner.observe(0, Need.LOSSES, [problem.loss(w - eta * g)])
        accepted = tuner.lr(0)
        assert accepted == trials[-1] and len(trials) >= 2
        assert problem.loss(w - accepted * g) <= loss0 - 1e-4 * accepted * slope
        for eta in trials[:-1]:
            assert problem.loss(w - eta * g) > loss0 - 1e-4 * eta * slope
        assert [trials[i + 1] / trials[i] for i in range(len(trials) - 1)] == pytest.approx([0.8] * (len(trials) - 1))
        assert tuner.info(h.Info.BACKTRACKS) == len(trials) - 1
        assert tuner.info(h.Info.REFERENCE_LOSS) == loss0


def test_gen_three_probe_fit_is_exact():
    """With probes ξ ∈ {−lr, 0, +lr}: b = (L₋ − L₊)/(2ξ), a = (L₊ + L₋ − 2L₀)/ξ², candidate b/a."""
    with h.GeN(initial_lr=0.1, smoothing=0.0, lr_bound_low=1e-6, lr_bound_high=1e6) as tuner:
        need, count = tuner.need(0)
        probes = tuner.probes(0)
        assert (need, count) == (Need.LOSSES, 3) and probes[:, 0].tolist() == [-0.1, 0.0, 0.1]
        # L(ξ) = 5 − 2ξ + ½·8ξ²: b = 2, a = 8, minimiser 0.25
        losses = [5 - 2 * x + 4 * x * x for x in probes[:, 0]]
        tuner.observe(0, Need.LOSSES, losses)
        assert tuner.info(h.Info.FIT_SLOPE) == pytest.approx(2.0, rel=1e-12)
        assert tuner.info(h.Info.FIT_CURVATURE) == pytest.approx(8.0, rel=1e-12)
        assert tuner.lr(0) == pytest.approx(0.25, rel=1e-12)


def test_cdat_rule_by_hand():
    """η = σ·n̂/d̂ with n = max(gᵀu, 0), d = |uᵀHu| + ε and EMAs from 0."""
    beta, sigma, eps = 0.5, 2.0, 1e-12
    with h.CDAT(smoothing=beta, sigma=sigma, lr_max=100.0) as tuner:
        n_hat = d_hat = 0.0
        for t, (s, c) in enumerate([(2.0, 4.0), (1.0, -8.0), (-1.0, 2.0), (3.0, 1.0)]):
            tuner.observe_curvature(t, [s, c])
            n_hat = beta * n_hat + (1 - beta) * max(s, 0.0)
            d_hat = beta * d_hat + (1 - beta) * (abs(c) + eps)
            assert bits(tuner.lr(t)) == bits(sigma * n_hat / d_hat)
            assert tuner.info(h.Info.SMOOTHED_NUMERATOR) == n_hat
            assert tuner.info(h.Info.SMOOTHED_DENOMINATOR) == d_hat
