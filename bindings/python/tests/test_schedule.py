"""Schedule objects: constructors and defaults, parameters, values, composition, snapshots, and
schedules attached to tuners (saved mid-run, restored, continuing bit for bit)."""

from __future__ import annotations

import copy
import inspect
import math
import pickle

import numpy as np
import pytest

import hessianlr as h
from hessianlr import AnnealStrategy, CyclicMode, DecayShape, Schedule, ScheduleKind, ScheduleParam

from conftest import bits
from reference import Quadratic

CONSTRUCTORS = {
    ScheduleKind.CONSTANT: Schedule.constant,
    ScheduleKind.LINEAR: Schedule.linear,
    ScheduleKind.STEP: Schedule.step,
    ScheduleKind.MULTI_STEP: Schedule.multi_step,
    ScheduleKind.EXPONENTIAL: Schedule.exponential,
    ScheduleKind.POLYNOMIAL: Schedule.polynomial,
    ScheduleKind.COSINE: Schedule.cosine,
    ScheduleKind.COSINE_WARM_RESTARTS: Schedule.cosine_warm_restarts,
    ScheduleKind.ONE_CYCLE: Schedule.one_cycle,
    ScheduleKind.CYCLIC: Schedule.cyclic,
    ScheduleKind.WARMUP_STABLE_DECAY: Schedule.warmup_stable_decay,
    ScheduleKind.HYPERBOLIC: Schedule.hyperbolic,
    ScheduleKind.EXP_HYPERBOLIC: Schedule.exp_hyperbolic,
}
@pytest.mark.parametrize("kind", list(CONSTRUCTORS))
def test_constructors_name_every_parameter_and_write_no_default(kind):
    """Each constructor takes every parameter of its kind by name; none writes a default of its
    own (None: the library's), so a constructor called bare builds the library's schedule.
    (milestones and the hyperbolic kinds' warmup_steps are the binding's own: they build
    structure, not a parameter of the kind.)"""
    signature = inspect.signature(CONSTRUCTORS[kind])
    defaults = {name: p.default for name, p in signature.parameters.items()
                if name not in ("milestones", "warmup_steps") or kind == ScheduleKind.WARMUP_STABLE_DECAY}
    expected = h.schedule_params(kind)
    assert {ScheduleParam[name.upper()] for name in defaults} == set(expected)
    assert all(default is None for default in defaults.values()), defaults
    with CONSTRUCTORS[kind]() as made, Schedule(kind) as plain, Schedule(kind.name.lower()) as named:
        assert made.kind == plain.kind == named.kind == kind
        assert made.save() == plain.save() == named.save()
        assert made.params() == {name.name.lower(): b.default for name, b in expected.items()}


def test_parameters_by_name_enum_or_int():
    with Schedule("one_cycle", max_lr=0.3, anneal_strategy="linear", three_phase=True) as s:
        assert s.get("anneal_strategy") == AnnealStrategy.LINEAR and s.get(ScheduleParam.THREE_PHASE) == 1.0
        s.set(anneal_strategy=AnnealStrategy.COS, total_steps=10)
        assert s.get(16) == 0 and s.get("total_steps") == 10
    with Schedule.cyclic(step_size_down=5, mode="exp_range") as s:
        assert s.get("step_size_down") == 5 and s.get("mode") == CyclicMode.EXP_RANGE
        s.set(step_size_down=None)
        assert s.get("step_size_down") == -1
    with pytest.raises(h.InvalidArgumentError, match="mode must be one of 'triangular', 'triangular2', 'exp_range'"):
        Schedule.cyclic(mode="sawtooth")
    with Schedule("cosine", T_max=5) as s:  # names are case-insensitive (torch spells T_max)
        assert s.get("t_max") == 5
    with pytest.raises(h.UnknownKeyError, match="unknown schedule parameter 'tmax'"):
        Schedule("cosine", tmax=5)
    with pytest.raises(h.UnknownKeyError, match="schedule kind cosine has no parameter gamma"):
        Schedule.cosine().set(gamma=0.5)
    with pytest.raises(h.UnknownMethodError, match="unknown schedule kind 'lambda'"):
        Schedule("lambda")
    with pytest.raises(h.UnknownMethodError, match="unknown schedule kind 99"):
        Schedule(99)
    with pytest.raises(h.InvalidArgumentError, match="hlr_schedule_join in C, Schedule.join in Swift and Python"):
        Schedule(ScheduleKind.JOIN)


@pytest.mark.parametrize("settings, needle", [
    (dict(base_lr=-0.1), "base_lr"),
    (dict(t_max=0), "t_max"),
    (dict(t_max=2.5), "must be an integer, got 2.5"),
    (dict(base_lr=math.inf), "must be finite"),
    (dict(base_lr=math.nan), "must be finite"),
])
def test_refused_parameters_change_nothing(settings, needle):
    with Schedule.cosine(base_lr=0.1, t_max=10) as s:
        before = s.save()
        with pytest.raises(h.InvalidArgumentError) as info:
            s.set(eta_min=0.01, **settings)  # the valid eta_min is not applied either
        assert needle in info.value.message and info.value.message.startswith("hlr_schedule_set_params")
        assert s.save() == before


def test_milestones():
    with Schedule.multi_step(1.0, [5, 2, 5], 0.5) as s:
        assert s.values(0, 7).tolist() == [1.0, 1.0, 0.5, 0.5, 0.5, 0.125, 0.125]
        s.set_milestones([])
        assert s.value(100) == 1.0
        with pytest.raises(h.InvalidArgumentError, match="at most 4096"):
            s.set_milestones(range(4097))
        with pytest.raises(h.InvalidArgumentError, match="milestone"):
            s.set_milestones([-1])
    with pytest.raises(h.InvalidArgumentError, match="only multi_step has"):
        Schedule.cosine().set_milestones([3])


def test_values_and_value_agree_everywhere():
    top = 2**64 - 1
    with Schedule.cosine_warm_restarts(0.1, 7, 2, 0.001) as s:
        assert s.values(0, 0).shape == (0,)
        values = s.values(0, 200)
        assert values.dtype == np.float64 and values.tolist() == [s.value(t) for t in range(200)]
        assert s(17) == s.value(17)
        tail = s.values(top - 2, 3)  # the last three steps
        assert tail.tolist() == [s.value(top - 2), s.value(top - 1), s.value(top)]
        assert np.isfinite(tail).all()
        with pytest.raises(h.InvalidArgumentError, match="exceeds 2\\^64"):  # steps past 2^64 − 1
            s.values(top - 2, 5)
        with pytest.raises(h.InvalidArgumentError, match="step"):
            s.value(-1)
        with pytest.raises(h.InvalidArgumentError, match="step"):
            s.value(2**64)


def test_nominal_and_factor():
    cases = [
        (Schedule.cosine(0.1, 10, 0.2), 0.2),  # max(base_lr, eta_min)
        (Schedule.one_cycle(0.5, 100, div_factor=0.5), 1.0),  # max(max_lr, initial = max_lr/div, ...)
        (Schedule.cyclic(0.1, 0.02), 0.1),
        (Schedule.warmup_stable_decay(0.3, start_lr=0.5), 0.5),
        (Schedule.exponential(0.7), 0.7),
    ]
    for schedule, nominal in cases:
        with schedule:
            assert schedule.nominal == nominal
            assert schedule.factor(3) == schedule.value(3) / nominal
    with Schedule.constant(0.0) as zero:
        assert zero.nominal == 0.0 and zero.factor(5) == 0.0


def test_join_and_warmup():
    with Schedule.constant(0.2) as flat, Schedule.cosine(0.1, 10) as cosine:
        joined = h.join([flat, cosine], [3])
        assert joined.kind == ScheduleKind.JOIN and joined.params() == {}
        assert joined.values(0, 5).tolist() == [0.2, 0.2, 0.2, cosine.value(0), cosine.value(1)]
        assert joined.nominal == 0.2
        ramp = h.warmup(cosine, 4, 0.02)
        assert ramp.kind == ScheduleKind.WARMUP and ramp.params() == {"warmup_steps": 4, "start_lr": 0.02}
        assert ramp.values(0, 6).tolist() == pytest.approx([0.02, 0.04, 0.06, 0.08, 0.1, cosine.value(1)], rel=1e-15)
        nested = h.join([ramp, joined], [50])
        assert nested.value(53) == joined.value(3)
    # the pieces were copied: closing them does not affect the composites
    assert flat.closed and joined.value(0) == 0.2 and ramp.value(4) == 0.1
    with pytest.raises(h.InvalidArgumentError, match="2 pieces need 1 boundaries, got 0"):
        h.join([joined, ramp], [])
    with pytest.raises(h.InvalidArgumentError, match="strictly increasing"):
        h.join([joined, ramp, joined], [5, 5])
    with pytest.raises(h.InvalidArgumentError, match="at least one piece"):
        h.join([], [])
    with pytest.raises(TypeError, match="pieces\\[1\\] must be a hessianlr.Schedule"):
        h.join([joined, 0.1], [3])
    with pytest.raises(h.InvalidHandleError):
        h.warmup(flat, 3)  # closed


def test_tree_limits():
    s = Schedule.constant(0.1)
    for _ in range(15):
        s = h.warmup(s, 1, 0.0)
    with pytest.raises(h.InvalidArgumentError, match="levels deep"):
        h.warmup(s, 1, 0.0)


def test_snapshots():
    with Schedule.one_cycle(0.4, 300, three_phase=True) as s:
        blob = s.save()
        assert blob[:4] == b"HLSC"
        loaded = Schedule.load(blob)
        assert loaded == s and loaded.save() == blob and loaded is not s
        assert loaded.values(0, 300).tolist() == s.values(0, 300).tolist()
        assert pickle.loads(pickle.dumps(s)) == s and copy.deepcopy(s) == s
        other = s.copy()
        other.set(max_lr=0.5)
        assert other != s and s.get("max_lr") == 0.4
        for length in (0, 3, len(blob) - 1):
            with pytest.raises(h.SnapshotCorruptError):
                Schedule.load(blob[:length])
        damaged = bytearray(blob)
        damaged[len(blob) // 2] ^= 0x10
        with pytest.raises(h.SnapshotCorruptError):
            Schedule.load(bytes(damaged))
    with pytest.raises(h.SnapshotCorruptError):
        Schedule.load(h.HessianLR().save())  # a tuner snapshot is not a schedule


def test_lifetime():
    s = Schedule.cosine()
    s.close()
    s.close()
    assert s.closed and repr(s) == "<Schedule closed>"
    with pytest.raises(h.InvalidHandleError):
        s.value(0)
    with Schedule.step(0.1, 3) as s:
        assert repr(s).startswith("<Schedule step(base_lr=0.1, step_size=3, gamma=0.1)")


# -- schedules attached to tuners ----------------------------------------------------------------


def test_constant_tuner_follows_its_schedule():
    with Schedule.one_cycle(0.3, 50) as schedule, h.Constant(groups=2, initial_lr=[0.3, 0.03], schedule=schedule) as tuner:
        for t in range(60):
            value = schedule.value(t)
            rate, other = tuner.lrs(t)
            assert abs(rate - value) <= math.ulp(value)  # initial_lr = nominal: the values
            assert other == pytest.approx(value / 10, rel=1e-15)


def test_set_get_and_detach():
    with h.HessianLR(initial_lr=0.1) as tuner:
        assert tuner.get_schedule() is None
        with Schedule.step(0.5, 2, 0.5) as schedule:
            tuner.set_schedule(schedule)
            copy_back = tuner.get_schedule()
            assert copy_back == schedule and copy_back is not schedule
        assert [tuner.lr(t) for t in range(5)] == [0.1, 0.1, 0.05, 0.05, 0.025]  # rate × value/nominal
        tuner.set_schedule(None)
        assert tuner.get_schedule() is None and tuner.lr(4) == 0.1
        tuner.set_schedule(copy_back)
        tuner.reset(h.Reset.STATE)
        assert tuner.get_schedule() == copy_back
        tuner.reset(h.Reset.OPTIONS)
        assert tuner.get_schedule() is None
        with pytest.raises(TypeError, match="hessianlr.Schedule or None"):
            tuner.set_schedule(0.5)
        closed = Schedule.cosine()
        closed.close()
        before = tuner.save()
        with pytest.raises(h.InvalidHandleError):
            tuner.set_schedule(closed)
        assert tuner.save() == before


@pytest.mark.parametrize("make", [
    lambda: h.GeN(groups=2, initial_lr=[0.05, 0.1], update_period=2, probe_count=5),
    lambda: h.HessianLR(groups=2, initial_lr=0.05, update_period=3),
    lambda: h.HiDLR(groups=2, initial_lr=0.05, update_period=2, r2_threshold=0.5),
    lambda: h.Armijo(groups=2),
])
def test_tuner_with_schedule_saved_mid_run_continues_bit_identically(make):
    offsets = [0, 4, 9]
    problem = Quadratic(9, seed=5)
    w0 = np.random.default_rng(2).normal(size=9)

    def run(tuner, w, first, last):
        trace = []
        for t in range(first, last):
            g = problem.gradient(w)
            tuner.step_host(t, w, g, group_offsets=offsets, hvp=problem.hvp, loss=problem.loss)
            rates = tuner.lrs(t)
            trace.append([bits(r) for r in rates])
            w = w - np.repeat(rates, np.diff(offsets)) * g
        return trace, w

    schedule = h.warmup(Schedule.cosine(1.0, 30, 0.1), 5, 0.1)
    with make() as original:
        original.set_schedule(schedule)
        _, w_mid = run(original, w0.copy(), 0, 12)
        blob = original.save()
        expected, _ = run(original, w_mid.copy(), 12, 30)
        final = original.save()
    with make() as restored:
        assert restored.get_schedule() is None
        restored.restore(blob)
        assert restored.get_schedule() == schedule and restored.save() == blob
        assert run(restored, w_mid.copy(), 12, 30)[0] == expected
        assert restored.save() == final
    with make() as plain:
        with pytest.raises(h.SnapshotCorruptError):
            plain.restore(blob[: len(blob) - 10])  # the schedule section cut short


def test_rescaled_is_the_schedule_for_another_group_lr():
    """Schedule.rescaled(lr) (hlr_schedule_rescale): rate parameters follow the new nominal rate,
    exactly where they equal the old one; eta_min of the cosine kinds stays absolute."""
    cosine = Schedule.cosine(0.1, 50, 1e-3)
    group = cosine.rescaled(0.02)
    assert group.params() == dict(cosine.params(), base_lr=0.02) and group._handle != cosine._handle
    assert cosine.get("base_lr") == 0.1  # the original is unchanged
    assert cosine.rescaled(cosine.nominal) == cosine
    cycle = Schedule.one_cycle(0.4, 100)
    assert cycle.rescaled(0.04).params() == dict(cycle.params(), max_lr=0.04)
    wsd = Schedule.warmup_stable_decay(base_lr=0.1, start_lr=0.01, final_lr=0.001)
    scaled = wsd.rescaled(0.3)
    assert scaled.get("base_lr") == 0.3 and scaled.get("start_lr") == 0.01 * (0.3 / 0.1)
    assert scaled.get("final_lr") == 0.001 * (0.3 / 0.1)
    composite = h.join([h.warmup(cosine, 5, 0.01), Schedule.constant(0.05)], [40])
    expected = h.join([h.warmup(group, 5, 0.01 * (0.02 / 0.1)), Schedule.constant(0.05 * (0.02 / 0.1))], [40])
    assert composite.rescaled(0.02) == expected
    for bad in (math.nan, math.inf, -math.inf, -0.1, 2e300):
        with pytest.raises(h.InvalidArgumentError, match="nominal"):
            cosine.rescaled(bad)
    assert Schedule.hyperbolic(base_lr=0.1).rescaled(0.0).values(0, 10).tolist() == [0.0] * 10
