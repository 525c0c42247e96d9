#!/usr/bin/env python3
"""Generates ``bindings/python/hessianlr/constants.py`` and ``Sources/HessianLR/Core/Catalog.swift``
from ``include/hessianlr.h``.

The header is the one hand-written place of every numeric id of the C API (methods, options,
info keys, flags, status codes, schedule and estimator kinds, their parameter and result keys):
one typed enum per family (``typedef enum hlr_method { HLR_METHOD_HESSIANLR = 1,  /* doc */ ...
} hlr_method;``). Each member ``HLR_<FAMILY>_<NAME> = <value>`` becomes the member
``<NAME> = <value>`` of the family's IntEnum / IntFlag, documented by its trailing comment (a
block comment above a group of members describes the group, not a member: it is not copied). The
family table below is this generator's own: it maps header prefixes to Python class names and
says what each class is; every member of one C enum must belong to one family (checked). Ranges and defaults are not constants: they come from the library at run time
(``hlr_param_info``: ``hessianlr.method_params``, ``estimator_params``, ``schedule_params``).

The Swift core's id enums of the eight large families (``SWIFT`` below: methods, option and info
keys, estimator kinds, parameters and results, schedule kinds and parameters) are generated the
same way into one file: case ``<lowerCamelCase of NAME> = <value>`` documented by the header's
comment (``INITIAL_LR`` -> ``initialLR``: an ``LR`` after the first word stays upper case; the
one exception, ``HESSIANLR`` -> ``hessianLR``, is in ``SWIFT_CASE_NAMES``). What a type does
beyond its ids stays in its own hand-written file, as an extension.

    python3 tools/gen_constants.py           # rewrite both files
    python3 tools/gen_constants.py --check   # exit 1 if either is stale (make test runs it)
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
SWIFT_OUTPUT = ROOT / "Sources" / "HessianLR" / "Core" / "Catalog.swift"

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
#: (Python class of FAMILIES, Swift enum, (status, noun) of an unknown id's message, its doc comment) for the
#: Swift core's generated enums.
SWIFT = [
    ("Method", "Method", ("unknownMethod", "method id"),
     "The tuning methods of the library (`HLR_METHOD_*`); a value is never reused. `Method.rule` is each "
     "method's catalog row in the core."),
    ("Param", "ParameterKey", ("unknownKey", "parameter key"),
     "Option keys (`HLR_PARAM_*`): adding an option adds a key, never changes a signature. Which keys a "
     "method has, their ranges and defaults are in that method's options table (`Method.parameterSpecs`)."),
    ("Info", "InfoKey", ("unknownKey", "info key"), "Read-only diagnostics of a tuner (`hlr_tuner_get_info`, `HLR_INFO_*`)."),
    ("EstimatorKind", "EstimatorKind", ("unknownMethod", "estimator kind"),
     "The curvature estimators a configuration (`EstimatorConfig`) can run (`HLR_ESTIMATOR_*`); a value is "
     "never reused."),
    ("EstimatorParam", "EstimatorParameter", ("unknownKey", "estimator parameter"),
     "Numeric keys of estimator parameters (`HLR_EST_PARAM_*`; [k]: the kinds that have the key). A key "
     "means the same quantity in every kind that has it; ranges and defaults: `EstimatorKind.parameterSpecs`. "
     "Every value is a Double; counts and choices are integral. The probe seed is not a parameter (a Double "
     "would lose its bits above 2⁵³): it is `EstimatorConfig.seed`, a UInt64."),
    ("Result", "EstimatorResultKey", ("unknownKey", "estimator result"),
     "Names of the results of an estimator run (`HLR_RESULT_*`; [k]: the kinds that report the key). Every "
     "result is an array of Doubles (a scalar is an array of one; counts and flags are exact integers), "
     "except the vector results (`eigenvectors`, `diagonal`), which are backend vectors. Which kind produces "
     "which key: `EstimatorKind.resultKeys`."),
    ("ScheduleKind", "ScheduleKind", ("unknownMethod", "schedule kind"),
     "The kinds of schedule (`HLR_SCHEDULE_*`). Every kind except `join` and `warmup` is a leaf created with "
     "`Schedule(_:)` and configured by `ScheduleParameter` keys; `join` and `warmup` combine existing "
     "schedules (`Schedule.join`, `Schedule.warmup`). Steps are 0-based optimizer steps: `value(at: t)` is "
     "the rate of the t-th update, what torch's scheduler reports through `get_last_lr()` after `t` calls of "
     "`scheduler.step()`."),
    ("ScheduleParam", "ScheduleParameter", ("unknownKey", "schedule parameter"),
     "Numeric keys of schedule parameters (`HLR_SCHED_PARAM_*`); a key means the same quantity in every kind "
     "that has it. Which kinds have which key, with ranges and defaults: `ScheduleKind.parameterSpecs`. "
     "Units: rates (`base_lr`, `eta_min`, `max_lr`, `start_lr`, `final_lr`, `infimum_lr`) are in the "
     "caller's learning-rate unit; step counts are counts of 0-based optimizer steps."),
]
#: Swift case names that the lowerCamelCase rule does not give.
SWIFT_CASE_NAMES = {("Method", "HESSIANLR"): "hessianLR"}

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


def swift_case(cls: str, member: str) -> str:
    """NAME -> lowerCamelCase (``LR`` after the first word stays upper case), or the exception."""
    if (cls, member) in SWIFT_CASE_NAMES:
        return SWIFT_CASE_NAMES[(cls, member)]
    first, *rest = member.lower().split("_")
    return first + "".join("LR" if word == "lr" else word.capitalize() for word in rest)


def render_swift(members: dict[str, list[tuple[str, int, str]]]) -> str:
    def doc(text: str, indent: str) -> list[str]:
        return textwrap.wrap(text, 104, initial_indent=indent + "/// ", subsequent_indent=indent + "/// ",
                             break_on_hyphens=False)

    out = [
        "// GENERATED by tools/gen_constants.py from include/hessianlr.h: do not edit (`make constants`",
        "// rewrites it, and `make test` fails while it is stale). The raw values are the header's ids and",
        "// each case's documentation is the header member's comment; what a type does beyond its ids is",
        "// in its own file (Method.swift, InfoKey.swift, ...), as an extension.",
    ]
    for cls, name, (status, noun), text in SWIFT:
        out += ["", *doc(text, ""), f"public enum {name}: Int, ParsedCatalogEnum {{",
                f'    public static let unknownID: (kind: HLRError.Kind, noun: String) = (.{status}, "{noun}")', ""]
        for member, value, comment in members[cls]:
            if comment:
                out += doc(comment, "    ")
            out.append(f"    case {swift_case(cls, member)} = {value}")
        out.append("}")
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a generated file differs from the header's")
    args = parser.parse_args()
    members = parse(HEADER.read_text())
    outputs = [(OUTPUT, render(members)), (SWIFT_OUTPUT, render_swift(members))]
    if args.check:
        stale = [path for path, text in outputs if not path.exists() or path.read_text() != text]
        for path in stale:
            print(f"{path.relative_to(ROOT)} is stale: run `make constants` (tools/gen_constants.py)", file=sys.stderr)
        return 1 if stale else 0
    for path, text in outputs:
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
