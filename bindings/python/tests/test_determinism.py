"""Cross-language determinism (protocol: Tests/determinism/README.md).

Scenarios (degenerate values included) are generated here, replayed through the Python binding,
through an independent pure-Python model of the documented HessianLR rule, and through the C and
Swift replay programs named by $HLR_REPLAY_C and $HLR_REPLAY_SWIFT; all traces must be
byte-identical. A program test is skipped only when its environment variable is unset; when it
is set, a missing or failing program fails the test.
"""

from __future__ import annotations

import math
import os
import struct
import subprocess
from dataclasses import dataclass, field

import numpy as np
import pytest

import hessianlr as h
from hessianlr import Param

# -- scenario files --------------------------------------------------------------------------


def hexd(x: float) -> str:
    return "%016x" % struct.unpack("<Q", struct.pack("<d", x))[0]


def unhex(text: str) -> float:
    if len(text) != 16:
        raise ValueError(f"bad double field {text!r}")
    return struct.unpack("<d", struct.pack("<Q", int(text, 16)))[0]


@dataclass
class Scenario:
    name: str
    groups: int
    params: list = field(default_factory=list)        # (key, value) in order
    group_params: list = field(default_factory=list)  # (group, key, value) in order
    save_restore: list = field(default_factory=list)  # steps
    steps: list = field(default_factory=list)         # per step: 2G doubles
    method: int = 1

    def text(self, with_save_restore: bool = True) -> str:
        lines = ["hlr-replay 1", f"method {self.method}", f"groups {self.groups}"]
        lines += [f"param {int(key)} {hexd(value)}" for key, value in self.params]
        lines += [f"group_param {group} {int(key)} {hexd(value)}" for group, key, value in self.group_params]
        if with_save_restore:
            lines += [f"save_restore {step}" for step in self.save_restore]
        lines += [f"step {t} " + " ".join(hexd(v) for v in values) for t, values in enumerate(self.steps)]
        return "\n".join(lines) + "\n"


SPECIALS = [
    0.0, -0.0, 5e-324, 1e-310, 2.2250738585072014e-308, 1e-300, 1e-30, 1e30, 1e300,
    1.7976931348623157e308, math.nan, math.inf, -math.inf,
    struct.unpack("<d", struct.pack("<Q", 0x7FF0000000000001))[0],  # signalling-pattern NaN
    struct.unpack("<d", struct.pack("<Q", 0xFFF8000000000123))[0],  # negative NaN with payload
]


def observation(rng, direction: int, degenerate: float) -> tuple[float, float]:
    """One (s, c) pair: mostly ordinary, with probability `degenerate` something nasty."""
    if rng.random() < degenerate:
        kind = rng.integers(5)
        if kind == 0:
            return float(rng.choice(SPECIALS)), float(rng.exponential())
        if kind == 1:
            return float(rng.exponential()), float(rng.choice(SPECIALS))
        if kind == 2:
            return float(rng.choice(SPECIALS)), float(rng.choice(SPECIALS))
        if kind == 3:
            return -float(rng.exponential()), float(rng.exponential())  # negative gᵀd
        return float(rng.exponential()), -float(rng.exponential())  # negative curvature
    s = float(rng.exponential()) * 10.0 ** float(rng.uniform(-3, 3))
    if direction == 1 and rng.random() < 0.2:
        s = -s
    c = float(rng.normal(1.0, 1.0)) * 10.0 ** float(rng.uniform(-2, 4))
    return s, c


def lr_limits(rng) -> list:
    """lr_min/lr_max lines in an order that never trips lr_min <= lr_max."""
    low = float(10.0 ** rng.uniform(-8, 0))
    high = float(low * 10.0 ** rng.uniform(0, 3))
    if rng.random() < 0.1:
        high = low
    return [(Param.LR_MAX, high), (Param.LR_MIN, low)] if low > 1.0 else [(Param.LR_MIN, low), (Param.LR_MAX, high)]


def random_scenario(name: str, seed: int, *, groups=None, steps=None, degenerate=0.15, direction=None,
                    save_points=None, full_options=True) -> Scenario:
    rng = np.random.default_rng(seed)
    groups = groups or int(rng.integers(1, 5))
    steps = steps or int(rng.integers(30, 80))
    direction = int(rng.integers(2)) if direction is None else direction
    scenario = Scenario(name, groups)
    if full_options:
        scenario.params += [(Param.INITIAL_LR, float(10.0 ** rng.uniform(-4, -0.5)))]
        scenario.params += [(Param.WARMUP_STEPS, float(rng.integers(0, 8))),
                            (Param.UPDATE_PERIOD, float(rng.integers(1, 7)))]
        scenario.params += [(Param.LR_BOUND_LOW, float(rng.uniform(0.05, 1.0))),
                            (Param.LR_BOUND_HIGH, float(rng.uniform(1.0, 6.0)))]
        scenario.params += lr_limits(rng)
        scenario.params += [(Param.SMOOTHING, float(rng.choice([0.0, 0.5, 0.9, 0.99, rng.uniform(0, 1)]))),
                            (Param.NEGATIVE_CURVATURE_DECAY, float(rng.uniform(0.05, 1.0))),
                            (Param.DIRECTION, float(direction))]
        for group in range(groups):
            if rng.random() < 0.6:
                scenario.group_params.append((group, Param.INITIAL_LR, float(10.0 ** rng.uniform(-5, 0.5))))
    elif direction:
        scenario.params.append((Param.DIRECTION, 1.0))
    for _ in range(steps):
        values = []
        for _ in range(groups):
            values += observation(rng, direction, degenerate)
        scenario.steps.append(values)
    if save_points is None:
        count = int(rng.integers(0, 4))
        save_points = sorted({int(x) for x in rng.integers(0, steps, size=count)})
    scenario.save_restore = list(save_points)
    return scenario


def scenarios() -> list[Scenario]:
    out = [
        random_scenario("defaults_one_group", 1, groups=1, steps=60, degenerate=0.0, direction=0,
                        save_points=[], full_options=False),
        random_scenario("defaults_degenerate", 2, groups=2, steps=70, degenerate=0.5, direction=0,
                        save_points=[0, 10, 35], full_options=False),
        random_scenario("update_direction", 3, groups=3, degenerate=0.3, direction=1),
        random_scenario("many_groups", 4, groups=6, steps=50, degenerate=0.2),
        random_scenario("save_every_step", 5, groups=2, steps=40, save_points=list(range(40))),
    ]
    warmup = random_scenario("warmup_and_period", 6, groups=2, steps=45, degenerate=0.1, direction=0,
                             save_points=[3, 4, 20])
    warmup.params = [(k, v) for k, v in warmup.params if k not in (Param.WARMUP_STEPS, Param.UPDATE_PERIOD)]
    warmup.params += [(Param.WARMUP_STEPS, 6.0), (Param.UPDATE_PERIOD, 4.0)]
    out.append(warmup)
    clamps = Scenario("tight_clamps", 2, params=[(Param.LR_MAX, 5.0), (Param.LR_MIN, 2.0), (Param.INITIAL_LR, 3.0),
                                                 (Param.UPDATE_PERIOD, 1.0), (Param.SMOOTHING, 0.0)],
                      group_params=[(1, Param.INITIAL_LR, 1e-3)], save_restore=[7])
    rng = np.random.default_rng(7)
    for _ in range(30):
        clamps.steps.append([float(x) for x in rng.exponential(size=4) * 10.0 ** rng.uniform(-6, 6, size=4)])
    out.append(clamps)
    extremes = Scenario("extreme_values", 1, params=[(Param.UPDATE_PERIOD, 1.0), (Param.LR_MAX, 1.7976931348623157e308),
                                                    (Param.LR_MIN, 0.0), (Param.LR_BOUND_LOW, 2.2250738585072014e-308),
                                                    (Param.LR_BOUND_HIGH, 1e300)], save_restore=[5])
    for s in SPECIALS:
        for c in SPECIALS:
            extremes.steps.append([s, c])
    out.append(extremes)
    out += [random_scenario(f"random_{seed}", 100 + seed) for seed in range(4)]
    return out


SCENARIOS = scenarios()
IDS = [s.name for s in SCENARIOS]

# -- the Python replay (through the binding) --------------------------------------------------


def replay_python(text: str) -> str:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    assert lines[0] == "hlr-replay 1"
    method = groups = None
    save_points, out = set(), []
    tuner = None
    for line in lines[1:]:
        fields = line.split(" ")
        kind = fields[0]
        if kind == "method":
            method = int(fields[1])
        elif kind == "groups":
            groups = int(fields[1])
            tuner = h.Tuner(method, groups)
        elif kind == "param":
            tuner.set_param(int(fields[1]), unhex(fields[2]))
        elif kind == "group_param":
            tuner.set_group_param(int(fields[1]), int(fields[2]), unhex(fields[3]))
        elif kind == "save_restore":
            save_points.add(int(fields[1]))
        elif kind == "step":
            t = int(fields[1])
            values = [unhex(x) for x in fields[2:]]
            wants = tuner.wants_curvature(t)
            status = 0
            if wants:
                try:
                    tuner.observe_curvature(t, values)
                except h.HessianLRError as error:
                    status = error.code
            out.append(f"{t} {int(wants)} {status} " + " ".join(hexd(x) for x in tuner.lrs(t)))
            if t in save_points:
                blob = tuner.save()
                tuner.close()
                tuner = h.Tuner(method, groups)
                tuner.restore(blob)
        else:
            raise ValueError(f"unknown record {line!r}")
    tuner.close()
    return "\n".join(out) + "\n"


# -- an independent model of the documented rule (no library) ----------------------------------


def replay_model(scenario: Scenario) -> str:
    options = {Param.INITIAL_LR: 1e-3, Param.WARMUP_STEPS: 0, Param.UPDATE_PERIOD: 10, Param.LR_BOUND_LOW: 0.3,
               Param.LR_BOUND_HIGH: 3.0, Param.LR_MIN: 1e-8, Param.LR_MAX: 1.0, Param.SMOOTHING: 0.9,
               Param.NEGATIVE_CURVATURE_DECAY: 0.5, Param.DIRECTION: 0}
    initial = [1e-3] * scenario.groups
    for key, value in scenario.params:
        options[key] = value
        if key == Param.INITIAL_LR:
            initial = [value] * scenario.groups
    for group, key, value in scenario.group_params:
        initial[group] = value
    W, P = int(options[Param.WARMUP_STEPS]), int(options[Param.UPDATE_PERIOD])
    lo, hi = options[Param.LR_MIN], options[Param.LR_MAX]

    def clamp(x):
        return lo if x < lo else hi if x > hi else x

    def scheduled(k, t):
        return clamp(initial[k] * ((t + 1) / W)) if t < W else clamp(initial[k])

    current, updates, last = [None] * scenario.groups, 0, None
    out = []
    for t, values in enumerate(scenario.steps):
        wants = (last is None or t > last) and t >= W and (t - W) % P == 0
        status = 0
        if wants:
            for k in range(scenario.groups):
                s, c = values[2 * k], values[2 * k + 1]
                if not math.isfinite(s) or not math.isfinite(c):
                    status = 6
                    break
                if options[Param.DIRECTION] == 0 and s < 0:
                    status = 3
                    break
            if status == 0:
                for k in range(scenario.groups):
                    rate = current[k] if updates else scheduled(k, t)
                    s, c = values[2 * k], values[2 * k + 1]
                    if s <= 0:  # zero gradient or not a descent direction: keep
                        current[k] = clamp(rate)
                        continue
                    candidate = options[Param.NEGATIVE_CURVATURE_DECAY] * rate if c <= 0 else s / c
                    low, high = options[Param.LR_BOUND_LOW] * rate, options[Param.LR_BOUND_HIGH] * rate
                    candidate = low if candidate < low else high if candidate > high else candidate
                    beta = options[Param.SMOOTHING]
                    current[k] = clamp(beta * rate + (1 - beta) * candidate)
                updates, last = updates + 1, t
        rates = [scheduled(k, t) if t < W or not updates else clamp(current[k]) for k in range(scenario.groups)]
        out.append(f"{t} {int(wants)} {status} " + " ".join(hexd(x) for x in rates))
    return "\n".join(out) + "\n"


# -- tests -----------------------------------------------------------------------------------


def first_difference(a: str, b: str) -> str:
    for index, (x, y) in enumerate(zip(a.split("\n"), b.split("\n"))):
        if x != y:
            return f"line {index + 1}:\n  expected {x}\n  got      {y}"
    return f"lengths differ: {len(a)} vs {len(b)} bytes"


def test_scenarios_exercise_every_outcome():
    statuses, wants = set(), set()
    for scenario in SCENARIOS:
        for line in replay_python(scenario.text()).splitlines():
            _, w, status, *_ = line.split(" ")
            wants.add(w)
            statuses.add(int(status))
    assert statuses == {0, 3, 6} and wants == {"0", "1"}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=IDS)
def test_python_binding_matches_model(scenario):
    expected = replay_model(scenario)
    got = replay_python(scenario.text())
    assert got == expected, first_difference(expected, got)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=IDS)
def test_save_restore_does_not_change_the_trace(scenario):
    assert replay_python(scenario.text(True)) == replay_python(scenario.text(False))


def run_program(variable: str, scenario: Scenario, tmp_path) -> str:
    program = os.environ.get(variable)
    if not program:
        pytest.skip(f"${variable} is not set (run through `make test-python`)")
    assert os.path.isfile(program) and os.access(program, os.X_OK), f"${variable} = {program} is not an executable file"
    path = tmp_path / f"{scenario.name}.txt"
    path.write_text(scenario.text(), encoding="ascii")
    result = subprocess.run([program, str(path)], capture_output=True, timeout=120)
    assert result.returncode == 0, f"{program} {path} exited {result.returncode}: {result.stderr.decode(errors='replace')}"
    return result.stdout.decode("ascii")


@pytest.mark.parametrize("scenario", SCENARIOS, ids=IDS)
def test_c_replay_matches_python(scenario, tmp_path):
    got = run_program("HLR_REPLAY_C", scenario, tmp_path)
    expected = replay_python(scenario.text())
    assert got == expected, first_difference(expected, got)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=IDS)
def test_swift_replay_matches_python(scenario, tmp_path):
    got = run_program("HLR_REPLAY_SWIFT", scenario, tmp_path)
    expected = replay_python(scenario.text())
    assert got == expected, first_difference(expected, got)


@pytest.mark.parametrize("variable", ["HLR_REPLAY_C", "HLR_REPLAY_SWIFT"])
def test_malformed_scenario_exits_2(variable, tmp_path):
    program = os.environ.get(variable)
    if not program:
        pytest.skip(f"${variable} is not set")
    for name, text in [("header", "hlr-replay 9\nmethod 1\ngroups 1\n"),
                       ("param", "hlr-replay 1\nmethod 1\ngroups 1\nparam 8 3ff8000000000000\n")]:  # smoothing 1.5
        path = tmp_path / f"bad_{name}.txt"
        path.write_text(text)
        result = subprocess.run([program, str(path)], capture_output=True, timeout=60)
        assert result.returncode == 2 and result.stderr, (name, result)
