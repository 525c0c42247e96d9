#!/usr/bin/env python3
"""The bad-input matrix of the C ABI, derived from include/hessianlr.h (issue 6).

Every exported function is an `hlr_*` prototype in the header. From each parameter's type and name
this script derives the classes of bad input the matrix must exercise for it:

    parameter                                  required tags
    -----------------------------------------  ------------------------------------------------
    hlr_tuner *t / hlr_schedule * / ...        handle:NAME   NULL, freed, garbage, other kinds
    hlr_X **out                                null:NAME
    const hlr_X *const *pieces                 null:NAME handle:NAME
    callback typedef (hlr_hvp_f32, ...)        null:NAME or optional:NAME, fail:NAME, nan:NAME
    pointer to a callback table struct         null:NAME fail:NAME nan:NAME layout:NAME
    pointer to a versioned data struct         null:NAME layout:NAME (struct_size checked)
    void *ctx                                  opaque:NAME   never dereferenced, passed through
    any other pointer                          null:NAME or optional:NAME
      ... to const float/double (input data)   + nonfinite:NAME
      ... to const size_t (offsets)            + offsets:NAME
    size_t                                     zero:NAME huge:NAME
    double                                     nan:NAME inf:NAME
    int, or an enum type (hlr_method, ...)     bad:NAME      an invalid key / kind / selector
    uint64_t                                   extreme:NAME  0 and UINT64_MAX
    (void)                                     call

Tests/c/test_errors.c holds the matrix as a table between `BEGIN MATRIX` and `END MATRIX`:

    ROW(hlr_tuner_get_lr, "handle:tuner extreme:step zero:group huge:group null:lr")

(one row per function, its tags in one string literal, adjacent literals allowed). This script
checks that every header function has a row and every row lists at least the required tags of its
prototype (extra tags of the kinds above, or `state`, `mismatch`, `constraint`, `denormal:NAME`,
`range:NAME`, `size:NAME`, are allowed but must name a real parameter when they take one). The C
test then checks at run time that every tag of every row was actually exercised by a failing
(or, for optional:NAME, an accepted) call, so the table cannot claim what the code does not do.

Functions whose name starts with a prefix in PENDING_PREFIXES and that have no row yet are listed
as PENDING instead of failing the check: a section of the header another change is still adding.
Remove the prefix once that section has landed.

Usage:
    gen_matrix.py --check      (default) exit 1 with a report if the matrix is incomplete
    gen_matrix.py --list       print every function with its required tags
    gen_matrix.py --skeleton   print C stubs (rows and case functions) for uncovered functions

Python 3 standard library only.
"""

import argparse
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_HEADER = os.path.join(HERE, "..", "..", "include", "hessianlr.h")
DEFAULT_TESTS = os.path.join(HERE, "test_errors.c")

# Header sections still being written elsewhere: uncovered functions with these prefixes are
# reported as PENDING, not as failures. Empty once every section has landed.
PENDING_PREFIXES = ()

TAG_KINDS_WITH_PARAM = {
    "handle", "null", "optional", "fail", "nan", "layout", "opaque", "nonfinite", "offsets",
    "zero", "huge", "inf", "bad", "extreme", "denormal", "range", "size",
}
TAG_KINDS_BARE = {"call", "state", "mismatch", "constraint"}


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


class Param:
    def __init__(self, text):
        text = " ".join(text.split())
        self.text = text
        match = re.match(r"^(.*?)([A-Za-z_]\w*)$", text)
        if text == "void" or not match:
            self.type, self.name = text, None
            return
        self.type = match.group(1).strip()
        self.name = match.group(2)

    @property
    def pointer_depth(self):
        return self.type.count("*")

    @property
    def base(self):
        words = [w for w in re.split(r"[\s\*]+", self.type) if w and w != "const"]
        return " ".join(words)

    @property
    def const_data(self):
        """True when the pointed-to data is const (const T * / T const *)."""
        head = self.type.split("*")[0]
        return "const" in head.split()


class Function:
    def __init__(self, name, returns, params):
        self.name = name
        self.returns = returns
        self.params = params

    def required(self, kinds):
        """List of requirements; each is a set of alternatives (one of them must be present)."""
        handles, callbacks, tables, structs, enums = kinds
        needs = []
        real = [p for p in self.params if p.name]
        if not real:
            return [{"call"}]
        for p in real:
            n = p.name
            depth = p.pointer_depth
            base = p.base
            if base in handles and depth == 1:
                needs.append({f"handle:{n}"})
            elif base in handles and depth == 2:
                needs.append({f"null:{n}"})
                if "*const" in p.type.replace(" ", ""):
                    needs.append({f"handle:{n}"})
            elif base in callbacks and depth == 0:
                needs += [{f"null:{n}", f"optional:{n}"}, {f"fail:{n}"}, {f"nan:{n}"}]
            elif base in tables and depth == 1:
                needs += [{f"null:{n}"}, {f"fail:{n}"}, {f"nan:{n}"}, {f"layout:{n}"}]
            elif base in structs and depth == 1:
                needs += [{f"null:{n}"}, {f"layout:{n}"}]
            elif base == "void" and depth == 1 and n == "ctx":
                needs.append({f"opaque:{n}"})
            elif depth >= 1:
                needs.append({f"null:{n}", f"optional:{n}"})
                if p.const_data and base in ("float", "double"):
                    needs.append({f"nonfinite:{n}"})
                if p.const_data and base == "size_t":
                    needs.append({f"offsets:{n}"})
            elif base == "size_t":
                needs += [{f"zero:{n}"}, {f"huge:{n}"}]
            elif base == "double":
                needs += [{f"nan:{n}"}, {f"inf:{n}"}]
            elif base == "int" or base in enums:
                needs.append({f"bad:{n}"})
            elif base == "uint64_t":
                needs.append({f"extreme:{n}"})
        return needs


def read(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as error:
        raise SystemExit(f"gen_matrix: cannot read {path}: {error.strerror}")


def parse_header(path):
    raw = read(path)
    text = strip_comments(raw)
    handles = set(re.findall(r"typedef\s+struct\s+(hlr_\w+)\s+\1\s*;", text))
    callbacks = set(re.findall(r"typedef\s+[\w\s\*]+\(\s*\*\s*(hlr_\w+)\s*\)\s*\(", text))
    # Callback tables (struct bodies with function pointers) vs plain versioned output structs
    # (hlr_param_desc: struct_size first, data only).
    bodies = dict((m.group(1), m.group(2)) for m in
                  re.finditer(r"typedef\s+struct\s+(hlr_\w+)\s*\{(.*?)\}", text, flags=re.S))
    tables = {name for name, body in bodies.items() if "(*" in body.replace(" ", "")}
    structs = {name for name, body in bodies.items() if name not in tables}
    enums = set(re.findall(r"typedef\s+enum\s+(hlr_\w+)\s*\{", text))
    # Drop struct bodies (their fields are callbacks, not exported functions).
    flat = re.sub(r"typedef\s+struct\s+\w+\s*\{.*?\}\s*\w+\s*;", " ", text, flags=re.S)
    functions = []
    proto = re.compile(
        r"((?:const\s+)?(?:unsigned|int|void|char|double|size_t|uint64_t)(?:\s+const)?\s*\**)"
        r"\s*\b(hlr_\w+)\s*\(([^()]*)\)\s*$", re.S)
    for statement in re.split(r"[;{}]", flat):
        statement = re.sub(r"^\s*#[^\n]*$", " ", statement, flags=re.M).strip()
        if not statement or statement.startswith("typedef"):
            continue
        match = proto.search(statement)
        if not match or match.start() != 0:
            continue
        returns, name, params = match.group(1), match.group(2), match.group(3)
        parts = [p for p in (s.strip() for s in params.split(",")) if p]
        functions.append(Function(name, " ".join(returns.split()), [Param(p) for p in parts]))
    names = [f.name for f in functions]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise SystemExit(f"gen_matrix: duplicate prototypes in {path}: {sorted(dupes)}")
    # Cross-check: every hlr_x( the header mentions outside typedefs is a parsed prototype.
    mentioned = set(re.findall(r"\b(hlr_[a-z0-9_]+)\s*\(", flat)) - callbacks
    missing = mentioned - set(names)
    if missing:
        raise SystemExit(f"gen_matrix: could not parse the prototypes of {sorted(missing)}")
    return functions, (handles, callbacks, tables, structs, enums)


def parse_rows(path):
    text = read(path)
    begin = text.find("BEGIN MATRIX")
    end = text.find("END MATRIX")
    if begin < 0 or end < 0 or end < begin:
        raise SystemExit(f"gen_matrix: {path} has no BEGIN MATRIX ... END MATRIX table")
    block = strip_comments(text[begin:end].split("\n", 1)[1])
    rows = {}
    order = []
    for match in re.finditer(r"ROW\(\s*(hlr_\w+)\s*,((?:\s*\"[^\"]*\")+)\s*\)", block):
        name = match.group(1)
        tags = "".join(re.findall(r"\"([^\"]*)\"", match.group(2))).split()
        if name in rows:
            raise SystemExit(f"gen_matrix: {name} has two rows")
        rows[name] = tags
        order.append(name)
    leftover = re.sub(r"ROW\(\s*(hlr_\w+)\s*,((?:\s*\"[^\"]*\")+)\s*\)\s*,?", " ", block)
    if "ROW(" in leftover:
        raise SystemExit("gen_matrix: a ROW(...) entry of the matrix could not be parsed")
    return rows, order


def check(functions, kinds, rows):
    errors = []
    pending = []
    by_name = {f.name: f for f in functions}
    for f in functions:
        if f.name not in rows:
            if any(f.name.startswith(p) for p in PENDING_PREFIXES):
                pending.append(f.name)
            else:
                errors.append(f"{f.name}: no ROW in the matrix (required: {format_needs(f.required(kinds))})")
            continue
        tags = set(rows[f.name])
        params = {p.name for p in f.params if p.name}
        for tag in sorted(tags):
            kind, _, param = tag.partition(":")
            if param:
                if kind not in TAG_KINDS_WITH_PARAM:
                    errors.append(f"{f.name}: unknown tag kind in '{tag}'")
                elif param not in params:
                    errors.append(f"{f.name}: tag '{tag}' names no parameter (has {sorted(params)})")
            elif kind not in TAG_KINDS_BARE:
                errors.append(f"{f.name}: unknown tag '{tag}'")
        for alternatives in f.required(kinds):
            if not alternatives & tags:
                errors.append(f"{f.name}: missing {' or '.join(sorted(alternatives))}")
    for name in rows:
        if name not in by_name:
            errors.append(f"{name}: has a ROW but is not declared in the header")
    return errors, pending


def format_needs(needs):
    return " ".join("|".join(sorted(a)) for a in needs)


def skeleton(functions, kinds, rows):
    out = []
    for f in functions:
        if f.name in rows:
            continue
        tags = " ".join(sorted(a)[0] if len(a) == 1 else sorted(a)[0] for a in f.required(kinds))
        out.append(f"/* {f.returns} {f.name}({', '.join(p.text for p in f.params)}) */")
        out.append(f"static void case_{f.name}(void) {{")
        out.append("    /* BAD(\"tag\", call, expected status, \"text the message must contain\"); */")
        out.append("}")
        out.append(f"    ROW({f.name}, \"{tags}\"),")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--header", default=DEFAULT_HEADER)
    parser.add_argument("--tests", default=DEFAULT_TESTS)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true")
    mode.add_argument("--list", action="store_true")
    mode.add_argument("--skeleton", action="store_true")
    args = parser.parse_args()

    functions, kinds = parse_header(args.header)
    if args.list:
        for f in functions:
            print(f"{f.name}: {format_needs(f.required(kinds))}")
        return 0
    rows, _ = parse_rows(args.tests)
    if args.skeleton:
        print(skeleton(functions, kinds, rows))
        return 0
    errors, pending = check(functions, kinds, rows)
    for name in pending:
        print(f"gen_matrix: PENDING {name}: declared in the header, no matrix row yet")
    if errors:
        print(f"gen_matrix: the bad-input matrix in {os.path.relpath(args.tests)} does not cover "
              f"{os.path.relpath(args.header)}:")
        for e in errors:
            print(f"  {e}")
        print("  (gen_matrix.py --skeleton prints stubs for the missing rows)")
        return 1
    tags = sum(len(rows[f.name]) for f in functions if f.name in rows)
    print(f"gen_matrix: {len(functions) - len(pending)} of {len(functions)} header functions covered "
          f"by the matrix ({tags} tags){', ' + str(len(pending)) + ' pending' if pending else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
