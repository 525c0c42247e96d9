"""results.json without NaN / Infinity tokens (not JSON): non-finite floats are written as the
strings "nan", "inf", "-inf" and read back as floats."""

from __future__ import annotations

import math


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
