"""results.json without NaN / Infinity tokens (not JSON): non-finite floats are written as the
strings "nan", "inf", "-inf" and read back as floats; the tables a program renders from them."""

from __future__ import annotations

import json
import math
import os


def json_safe(obj):
    """`obj` with every non-finite float replaced by its string (dicts, lists and tuples walked)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else str(obj)
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def from_json_safe(obj):
    """The inverse of `json_safe` on what `json.load` returns."""
    if isinstance(obj, str) and obj in ("nan", "inf", "-inf"):
        return float(obj)
    if isinstance(obj, dict):
        return {k: from_json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [from_json_safe(v) for v in obj]
    return obj


def save_results(out_dir: str, record: dict) -> None:
    """Writes ``record`` (environment, plan, runs) to ``out_dir/results.json`` (`json_safe`)."""
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump(json_safe(record), f)


def load_results(path: str) -> dict:
    """What `save_results` wrote (``--from-results``), non-finite floats restored."""
    with open(path) as f:
        return from_json_safe(json.load(f))


def write_tables(out_dir: str, markdown: str) -> str:
    """Writes the rendered tables to ``out_dir/tables.md``; returns that path."""
    path = os.path.join(out_dir, "tables.md")
    with open(path, "w") as f:
        f.write(markdown)
    return path
