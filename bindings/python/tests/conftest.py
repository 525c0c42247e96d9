"""Shared helpers of the binding's tests."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
REPO_ROOT = TESTS.parents[2]
HEADER = REPO_ROOT / "include" / "hessianlr.h"


def header_macros() -> dict[str, int]:
    """Every integer-valued #define of include/hessianlr.h."""
    text = HEADER.read_text()
    return {name: int(value) for name, value in re.findall(r"^#define\s+(HLR_\w+)\s+(-?\d+)\b", text, re.M)}


def bits(x: float) -> int:
    """The IEEE-754 bit pattern of a double (for bit-identical comparisons)."""
    return struct.unpack("<Q", struct.pack("<d", x))[0]


@pytest.fixture
def header():
    if not HEADER.exists():
        pytest.fail(f"header not found at {HEADER}")
    return header_macros()
