#!/usr/bin/env python3
"""Generates ``bindings/python/hessianlr/constants.py`` from ``include/hessianlr.h``.

The header is the one hand-written place of every numeric id of the C API (methods, options,
info keys, flags, status codes, schedule and estimator kinds, their parameter and result keys):
one typed enum per family (``typedef enum hlr_method { HLR_METHOD_HESSIANLR = 1,  /* doc */ ...
} hlr_method;``). Each member ``HLR_<FAMILY>_<NAME> = <value>`` becomes the member
``<NAME> = <value>`` of the family's IntEnum / IntFlag, documented by its trailing comment (a
block comment above a group of members describes the group, not a member: it is not copied). The
family table below is this generator's own: it maps header prefixes to Python class names and
says what each class is; every member of one C enum must belong to one family (checked). Ranges and defaults are not constants: they come from the library at run time
(``hlr_param_info``: ``hessianlr.method_params``, ``estimator_params``, ``schedule_params``).

    python3 tools/gen_constants.py           # rewrite constants.py
    python3 tools/gen_constants.py --check   # exit 1 if constants.py is stale (make test runs it)
"""

from __future__ import annotations

import argparse
import re
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADER = ROOT / "include" / "hessianlr.h"
OUTPUT = ROOT / "bindings" / "python" / "hessianlr" / "constants.py"

#: (header prefixes, class, base, class docstring), in the module's order. A macro belongs to the
#: family of its longest matching prefix (HLR_PARAM_FLAG_ before HLR_PARAM_).
FAMILIES = [
    (("HLR_METHOD_",), "Method", "IntEnum", "Learning-rate rules (``HLR_METHOD_*``)."),
    (("HLR_PARAM_",), "Param", "IntEnum",
     "Option keys (``HLR_PARAM_*``); values are doubles, integer options reject fractions. Each "
     "method has a subset; ``method_params(method)`` gives their ranges and defaults."),
    (("HLR_INFO_",), "Info", "IntEnum",
     "Diagnostics keys of ``Tuner.info`` (``HLR_INFO_*``); per-group keys use the group."),
    (("HLR_FLAG_",), "Flag", "IntFlag",
     "What happened to a group's rate in its last update (``HLR_FLAG_*`` bits)."),
    (("HLR_OPTIMIZER_",), "Optimizer", "IntEnum", "The base optimizer of ``auto`` (``HLR_OPTIMIZER_*``)."),
    (("HLR_DIRECTION_",), "Direction", "IntEnum", "Direction of the quadratic model (``HLR_DIRECTION_*``)."),
    (("HLR_MODEL_",), "Model", "IntEnum", "Hi-DLR's quadratic model (``HLR_MODEL_*``)."),
    (("HLR_RESET_",), "Reset", "IntEnum", "What ``Tuner.reset`` forgets (``HLR_RESET_*``)."),
    (("HLR_OK", "HLR_ERR_"), "Status", "IntEnum", "Status codes (``HLR_OK``, ``HLR_ERR_*``)."),
    (("HLR_NEED_",), "Need", "IntEnum",
     "What a tuner needs next at a step (``HLR_NEED_*``); also the observation kinds."),
    (("HLR_SCHEDULE_",), "ScheduleKind", "IntEnum",
     "Schedule kinds (``HLR_SCHEDULE_*``); values are absolute rates, torch semantics."),
    (("HLR_SCHED_PARAM_",), "ScheduleParam", "IntEnum",
     "Schedule parameter keys (``HLR_SCHED_PARAM_*``); the keyword names of :class:`Schedule` are "
     "the lower-case member names (``base_lr``, ``t_max``, ...)."),
    (("HLR_ANNEAL_",), "AnnealStrategy", "IntEnum",
     "OneCycleLR's annealing (``HLR_ANNEAL_*``; torch's ``anneal_strategy=\"cos\"|\"linear\"``)."),
    (("HLR_CYCLIC_",), "CyclicMode", "IntEnum", "CyclicLR's amplitude policy (``HLR_CYCLIC_*``; torch's ``mode=``)."),
    (("HLR_DECAY_",), "DecayShape", "IntEnum", "Warmup-stable-decay's decay shape (``HLR_DECAY_*``)."),
    (("HLR_ESTIMATOR_",), "EstimatorKind", "IntEnum",
     "Curvature estimators (``HLR_ESTIMATOR_*``) over an HVP operator H."),
    (("HLR_EST_PARAM_",), "EstimatorParam", "IntEnum",
     "Estimator parameter keys (``HLR_EST_PARAM_*``; ranges and defaults from ``estimator_params``). "
     "[k] names the estimator kinds (EstimatorKind values) a key applies to."),
    (("HLR_WHICH_",), "Which", "IntEnum", "Which eigenvalues first (``HLR_WHICH_*``)."),
    (("HLR_PROBE_",), "ProbeDistribution", "IntEnum", "Random probe vectors (``HLR_PROBE_*``)."),
    (("HLR_TERMINATION_",), "Termination", "IntEnum", "Why a Lanczos run stopped (``HLR_TERMINATION_*``)."),
    (("HLR_RESULT_",), "Result", "IntEnum",
     "Estimator result keys (``HLR_RESULT_*``); [k] names the estimator kinds that report a key."),
    (("HLR_BATCH_SCALING_",), "BatchScaling", "IntEnum",
     "Learning-rate scaling with the batch size (``HLR_BATCH_SCALING_*``, ``hlr_scaled_lr``)."),
    (("HLR_FAMILY_",), "ParamFamily", "IntEnum", "What ``hlr_param_count`` / ``hlr_param_info`` describe (``HLR_FAMILY_*``)."),
    (("HLR_PARAM_FLAG_",), "ParamFlag", "IntFlag", "Bits of ``hlr_param_desc.flags`` (``HLR_PARAM_FLAG_*``)."),
]
#: Macros that are not ids of a family (the version lives in ``_lib.py``, checked by a test).
NOT_CONSTANTS = ("HLR_VERSION_",)

_MEMBER = re.compile(r"^[ \t]+(HLR_\w+)[ \t]*=[ \t]*(-?\d+)[ \t]*,?[ \t]*(/\*.*?\*/)?", re.M | re.S)
_ENUM = re.compile(r"^typedef enum (hlr_\w+) \{(.*?)^\} (\w+);", re.M | re.S)
_STRAY = re.compile(r"^#define[ \t]+(HLR_\w+)[ \t]+-?\d+\b", re.M)


def _clean(comment: str) -> str:
    """The text of a C comment on one line: no delimiters, no leading '*', white space folded."""
    body = comment.strip()[2:-2]
    body = re.sub(r"^[ \t]*\*(?!/)", "", body, flags=re.M)
    return " ".join(body.split())


def _family(name: str):
    matches = [(len(prefix), prefix, family) for family in FAMILIES for prefix in family[0] if name.startswith(prefix)]
    if not matches:
        return None, None
    _, prefix, family = max(matches)
    return family, prefix


def parse(text: str) -> dict[str, list[tuple[str, int, str]]]:
    """Family class name -> [(member, value, doc)] in header order."""
    members: dict[str, list[tuple[str, int, str]]] = {family[1]: [] for family in FAMILIES}
    for stray in _STRAY.finditer(text):
        if not stray.group(1).startswith(NOT_CONSTANTS):
            raise SystemExit(f"gen_constants: {stray.group(1)} is a macro; ids are members of a typed enum")
    for enum in _ENUM.finditer(text):
        if enum.group(1) != enum.group(3):
            raise SystemExit(f"gen_constants: typedef enum {enum.group(1)} {{ ... }} {enum.group(3)}: names differ")
        classes = set()
        for match in _MEMBER.finditer(enum.group(2)):
            name, value, trailing = match.group(1), int(match.group(2)), match.group(3)
            family, prefix = _family(name)
            if family is None:
                raise SystemExit(f"gen_constants: {name} belongs to no family; add its prefix to FAMILIES")
            classes.add(family[1])
            member = name[len(prefix):] or name[len("HLR_"):]  # HLR_OK -> OK
            members[family[1]].append((member, value, _clean(trailing) if trailing else ""))
        if len(classes) != 1:
            raise SystemExit(f"gen_constants: enum {enum.group(1)} spans the families {sorted(classes)}")
    return members


def render(members: dict[str, list[tuple[str, int, str]]]) -> str:
    out = [
        '"""The numeric ids of ``include/hessianlr.h`` as IntEnums — GENERATED by',
        "``tools/gen_constants.py`` from the header; do not edit (``make constants`` rewrites it, and",
        "``make test`` fails while it is stale).",
        "",
        "Naming: the header's ``HLR_<FAMILY>_<NAME>`` is ``<Family>.<NAME>`` (``HLR_PARAM_LR_MIN`` is",
        "``Param.LR_MIN``); status codes drop their ``ERR_`` (``HLR_ERR_NONFINITE`` is",
        "``Status.NONFINITE``, ``HLR_OK`` is ``Status.OK``). Each member's comment is the header's.",
        "Ranges and defaults are the library's, at run time (``method_params``, ``estimator_params``,",
        "``schedule_params``).",
        '"""',
        "",
        "from enum import IntEnum, IntFlag",
        "",
        "__all__ = [",
        *[f'    "{family[1]}",' for family in FAMILIES],
        "]",
    ]
    for _, cls, base, doc in FAMILIES:
        out += ["", "", f"class {cls}({base}):"]
        out += textwrap.wrap(f'"""{doc}"""', 112, initial_indent="    ", subsequent_indent="    ")
        out.append("")
        for member, value, text in members[cls]:
            if text:
                out += textwrap.wrap(text, 112, initial_indent="    #: ", subsequent_indent="    #: ",
                                     break_on_hyphens=False)
            out.append(f"    {member} = {value}")
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if constants.py differs from the header's")
    args = parser.parse_args()
    generated = render(parse(HEADER.read_text()))
    if args.check:
        if OUTPUT.read_text() != generated:
            print(f"{OUTPUT.relative_to(ROOT)} is stale: run `make constants` (tools/gen_constants.py)", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(generated)
    return 0


if __name__ == "__main__":
    sys.exit(main())
