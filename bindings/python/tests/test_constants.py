"""The IntEnums equal the header's ids (typed enum members), both ways (every family of the
generator's table is mirrored), and constants.py is what tools/gen_constants.py generates from the
header today."""

import subprocess
import sys

import hessianlr.constants as constants
from hessianlr.constants import Flag, Status

from conftest import REPO_ROOT, load_tool

#: (header prefix, IntEnum) from the generator's own family table (HLR_OK is checked by name).
PREFIXES = [
    (prefix, getattr(constants, name))
    for prefixes, name, _, _ in load_tool("gen_constants").FAMILIES
    for prefix in prefixes
    if prefix != "HLR_OK"
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
