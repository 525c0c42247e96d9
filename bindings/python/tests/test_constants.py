"""The IntEnums equal the header's ids (#defines and typed enum members), both ways (every family
is mirrored), and constants.py is what tools/gen_constants.py generates from the header today."""

import subprocess
import sys

from hessianlr import (
    AnnealStrategy,
    BatchScaling,
    CyclicMode,
    DecayShape,
    Direction,
    EstimatorKind,
    EstimatorParam,
    Flag,
    Info,
    Method,
    Model,
    Need,
    Optimizer,
    Param,
    ProbeDistribution,
    Reset,
    Result,
    ScheduleKind,
    ScheduleParam,
    Status,
    Termination,
    Which,
)
from hessianlr.constants import ParamFamily, ParamFlag

from conftest import REPO_ROOT

PREFIXES = [
    ("HLR_METHOD_", Method),
    ("HLR_PARAM_", Param),
    ("HLR_INFO_", Info),
    ("HLR_FLAG_", Flag),
    ("HLR_DIRECTION_", Direction),
    ("HLR_OPTIMIZER_", Optimizer),
    ("HLR_MODEL_", Model),
    ("HLR_RESET_", Reset),
    ("HLR_ERR_", Status),
    ("HLR_NEED_", Need),
    ("HLR_SCHEDULE_", ScheduleKind),
    ("HLR_SCHED_PARAM_", ScheduleParam),
    ("HLR_ANNEAL_", AnnealStrategy),
    ("HLR_CYCLIC_", CyclicMode),
    ("HLR_DECAY_", DecayShape),
    ("HLR_ESTIMATOR_", EstimatorKind),
    ("HLR_EST_PARAM_", EstimatorParam),
    ("HLR_WHICH_", Which),
    ("HLR_PROBE_", ProbeDistribution),
    ("HLR_TERMINATION_", Termination),
    ("HLR_RESULT_", Result),
    ("HLR_BATCH_SCALING_", BatchScaling),
    ("HLR_FAMILY_", ParamFamily),
    ("HLR_PARAM_FLAG_", ParamFlag),
]
# A macro belongs to the longest prefix it starts with (HLR_PARAM_FLAG_ before HLR_PARAM_).
PREFIXES.sort(key=lambda entry: -len(entry[0]))


def test_prefixes_are_unambiguous():
    # Nested prefixes are allowed only where no member of the shorter one could be read as the
    # longer one (no Param member starts with FLAG_).
    for prefix, enum in PREFIXES:
        assert [p for p, _ in PREFIXES if p == prefix] == [prefix]
        for longer, _ in PREFIXES:
            if longer != prefix and longer.startswith(prefix):
                rest = longer[len(prefix):]
                assert not [m for m in enum.__members__ if m.startswith(rest)], (prefix, longer)


def test_every_header_id_has_its_member(header):
    seen = {enum: set() for _, enum in PREFIXES}
    for name, value in header.items():
        if name.startswith("HLR_VERSION_"):
            continue
        if name == "HLR_OK":
            assert Status.OK == value == 0
            seen[Status].add("OK")
            continue
        for prefix, enum in PREFIXES:
            if name.startswith(prefix):
                member = name[len(prefix):]
                assert member in enum.__members__, f"{name} has no {enum.__name__}.{member}"
                assert int(enum[member]) == value, f"{name} = {value}, {enum.__name__}.{member} = {int(enum[member])}"
                seen[enum].add(member)
                break
        else:
            raise AssertionError(f"header id {name} is not mirrored by any enum")
    for _, enum in PREFIXES:
        assert seen[enum] == set(enum.__members__), f"{enum.__name__} has members the header lacks: {set(enum.__members__) - seen[enum]}"


def test_flags_combine():
    combined = Flag.BOUNDED_HIGH | Flag.CLAMPED_MAX
    assert int(combined) == 10 and Flag(10) == combined
    assert Flag.FIT_REJECTED | Flag.POOR_FIT == 384


def test_constants_module_is_generated_from_the_current_header():
    generator = REPO_ROOT / "tools" / "gen_constants.py"
    result = subprocess.run([sys.executable, str(generator), "--check"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
