"""Smoke run of the overhead benchmark (benchmarks/overhead, issue 15 item 5): ``--quick`` runs
every configuration and writes a table with finite ratios, and each curvature path makes the
passes it is documented to make (the driver's counters). No timing is asserted."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from conftest import REPO_ROOT

pytest.importorskip("torch")
pytest.importorskip("matplotlib")

SCRIPT = REPO_ROOT / "benchmarks" / "overhead" / "bench_overhead.py"
sys.path.insert(0, str(SCRIPT.parent))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench-overhead-quick")
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--out", str(out)], capture_output=True,
                          text=True, cwd=REPO_ROOT, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return out, json.loads((out / "results.json").read_text()), done.stdout


def test_every_configuration_with_finite_ratios(run):
    from steps import CONTROL
    from workloads import MODELS, OPTIMIZERS, PATHS

    out, data, stdout = run
    got = {(r["model"], r["optimizer"], r["path"]) for r in data["results"]}
    expected = {(m, o, p) for m in MODELS for o in OPTIMIZERS for p in [CONTROL] + [q.name for q in PATHS]}
    assert got == expected
    for r in data["results"]:
        s = r["summary"]
        assert r["diverged_at"] is None, r
        assert s["steps"] > 0 and s["plain_ms"] > 0
        for clock in ("wall", "cpu"):
            ratios = s[clock]
            assert math.isfinite(ratios["non_obs"][0]) and ratios["non_obs"][0] > 0, r
            assert math.isfinite(ratios["overall"]) and ratios["overall"] > 0, r
            if r["path"] != CONTROL:
                assert s["observed_steps"] > 0 and math.isfinite(ratios["obs"][0]) and ratios["obs"][0] > 0, r
    table = (out / "tables.md").read_text()
    for m, o, p in expected:
        assert f"| {m} | {o} | {p} |" in table
    assert (out / "overhead.png").stat().st_size > 0
    assert "Cheapest path" in stdout


def test_counters_match_each_curvature_path(run):
    """Graph paths: one HVP per observation, no extra forward/backward of the closure; finite
    differences: two closure passes per HVP; auto: loss probes only, no HVP; the fixed-period
    rules observe every 10th step."""
    from workloads import PATH_BY_NAME, PERIOD

    _, data, _ = run
    for r in data["results"]:
        if r["path"] not in PATH_BY_NAME:
            assert r["summary"]["counters"] == {"hvp": 0, "probe": 0, "gradient": 0, "observation": 0}
            continue
        path, s = PATH_BY_NAME[r["path"]], r["summary"]
        c = s["counters"]
        if path.method == "auto":
            assert c["hvp"] == 0 and c["gradient"] == 0 and c["probe"] > 0, r
            continue
        assert c["observation"] == s["observed_steps"] == s["steps"] // PERIOD, r
        assert c["hvp"] == c["observation"] and c["probe"] == 0, r
        assert c["gradient"] == (0 if path.graph else 2 * c["hvp"]), r
