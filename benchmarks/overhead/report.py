"""Statistics, the targets of issue 15 item 5, the markdown table and the figure.

Per configuration (model × optimizer × path), from the kept interleaved pairs (A plain, B tuned),
each for wall time and for the process's CPU time (see steps.py: CPU time leaves out the time a
step spent preempted by other work on the shared machine):

- ``non-obs`` / ``obs``: median of the pair ratios B_i / A_i over the steps where the tuner
  observes nothing / observes, with the interquartile range [q25, q75];
- ``overall``: ΣB / ΣA over all kept steps (every step counted, observations included), and the
  IQR of the same ratio over consecutive blocks of 2 × PERIOD steps;
- ``driver µs``: median wall time of ``after_backward`` on non-observation steps;
- ``obs/step``, ``fwd/step``, ``bwd/step``: the driver's counters per step: observations; extra
  forward passes (loss probes + finite-difference passes); extra backward passes
  (finite-difference passes + graph HVPs, each one backward through the double-backward graph);
- ``Δ peak``: peak memory of the training in a fresh process running the tuned side minus that
  of one running plain training (peak RSS after the build on CPU, see
  measure.peak_memory_child; torch.cuda.max_memory_allocated on CUDA), MiB.

Targets: non-observation steps ≤ 1.01× plain; the cheapest path ≤ 1.10× overall per model ×
optimizer; double backward at its floor 1 + (obs − 1) / PERIOD, obs its observation-step ratio.
"""

from __future__ import annotations

import numpy as np

from steps import CONTROL
from workloads import PATH_BY_NAME, PERIOD

NON_OBSERVATION_TARGET = 1.01
CHEAPEST_TARGET = 1.10
MIB = 1024.0 * 1024.0


def _graph(path: str) -> bool:
    return path in PATH_BY_NAME and PATH_BY_NAME[path].graph


def _tuned(results: list[dict]) -> list[dict]:
    return [r for r in results if r["path"] != CONTROL]


def _quartiles(values) -> tuple[float, float, float]:
    if len(values) == 0:
        return float("nan"), float("nan"), float("nan")
    q25, q50, q75 = np.percentile(np.asarray(values, dtype=float), [25, 50, 75])
    return float(q50), float(q25), float(q75)


def _ratios(a, b, obs) -> dict:
    """Pair-ratio quartiles on non-observation / observation steps, ΣB/ΣA and its block IQR."""
    ratio = b / a
    block = 2 * PERIOD
    blocks = [b[i:i + block].sum() / a[i:i + block].sum() for i in range(0, len(a) - block + 1, block)]
    return {"non_obs": _quartiles(ratio[~obs]), "obs": _quartiles(ratio[obs]), "overall": float(b.sum() / a.sum()),
            "overall_iqr": _quartiles(blocks)[1:]}


def summarise(rows: dict) -> dict:
    """``wall`` and ``cpu``: the ratios of wall and CPU time (see _ratios); the rest as listed in
    the module docstring."""
    obs = np.asarray(rows["observes"], dtype=bool)
    d = np.asarray(rows["driver"], dtype=float)
    n = len(obs)
    c = rows["counters"]
    graph = _graph(rows["path"])
    as_array = lambda key: np.asarray(rows[key], dtype=float)  # noqa: E731
    return {
        "steps": n,
        "observed_steps": int(obs.sum()),
        "plain_ms": float(np.median(as_array("plain"))) * 1e3,
        "plain_cpu_ms": float(np.median(as_array("plain_cpu"))) * 1e3,
        "wall": _ratios(as_array("plain"), as_array("tuned"), obs),
        "cpu": _ratios(as_array("plain_cpu"), as_array("tuned_cpu"), obs),
        "driver_us": float(np.median(d[~obs])) * 1e6 if (~obs).any() else float("nan"),
        "obs_per_step": c["observation"] / n,
        "fwd_per_step": (c["probe"] + c["gradient"]) / n,
        "bwd_per_step": (c["gradient"] + (c["hvp"] if graph else 0)) / n,
        "counters": c,
    }


def floor(s: dict, clock: str = "cpu") -> float:
    """1 + (observation-step ratio − 1) / PERIOD."""
    return 1.0 + (s[clock]["obs"][0] - 1.0) / PERIOD


def _fmt_q(q) -> str:
    return f"{q[0]:.3f} [{q[1]:.3f}, {q[2]:.3f}]" if np.isfinite(q[0]) else "–"


def _fmt_us(s) -> str:
    return "–" if s["driver_us"] == 0 else f"{s['driver_us']:.0f}"


def _fmt_mem(r) -> str:
    delta = r.get("memory_delta_bytes")
    return "not measured" if delta is None else f"{delta / MIB:+.1f}"


def _fmt_path(r) -> str:
    k = r.get("diverged_at")
    return r["path"] if k is None else f"{r['path']} (diverged at pair {k}: {r['summary']['steps']} pairs kept)"


def table(results: list[dict]) -> str:
    """The markdown table, one row per configuration."""
    head = ("| model | optimizer | path | plain ms wall / CPU | non-obs wall [IQR] | non-obs CPU [IQR] | obs CPU [IQR] "
            "| overall wall [block IQR] | overall CPU [block IQR] | floor (CPU) | driver µs (non-obs) | obs/step "
            "| extra fwd/step | extra bwd/step | Δ peak MiB |")
    lines = [head, "|" + "---|" * 3 + "---:|" * 12]
    for r in results:
        s = r["summary"]
        w, c = s["wall"], s["cpu"]
        lines.append(
            f"| {r['model']} | {r['optimizer']} | {_fmt_path(r)} | {s['plain_ms']:.2f} / {s['plain_cpu_ms']:.2f} "
            f"| {_fmt_q(w['non_obs'])} | {_fmt_q(c['non_obs'])} | {_fmt_q(c['obs'])} "
            f"| {w['overall']:.3f} [{w['overall_iqr'][0]:.3f}, {w['overall_iqr'][1]:.3f}] "
            f"| {c['overall']:.3f} [{c['overall_iqr'][0]:.3f}, {c['overall_iqr'][1]:.3f}] "
            f"| {_fmt_floor(r)} | {_fmt_us(s)} | {s['obs_per_step']:.3f} "
            f"| {s['fwd_per_step']:.2f} | {s['bwd_per_step']:.2f} | {_fmt_mem(r)} |")
    return "\n".join(lines)


def _fmt_floor(r) -> str:
    return f"{floor(r['summary']):.3f}" if _graph(r["path"]) else "–"


def _verdict(value: float, target: float) -> str:
    return f"{value:.3f} ({'met' if value <= target else 'MISSED'}, {100 * (value - target):+.1f} points)"


def targets(results: list[dict]) -> str:
    """Each target, met or not and by how much, on CPU time and on wall time."""
    control = [r for r in results if r["path"] == CONTROL]
    out = []
    if control:
        out.append("A/A control (plain vs plain: the harness's own bias and spread), non-obs median [IQR] and "
                   "overall, CPU | wall:")
        for r in control:
            c, w = r["summary"]["cpu"], r["summary"]["wall"]
            out.append(f"- {r['model']}/{r['optimizer']}: CPU {_fmt_q(c['non_obs'])}, {c['overall']:.3f} | "
                       f"wall {_fmt_q(w['non_obs'])}, {w['overall']:.3f}")
        out.append("")
    results = _tuned(results)
    out.append(f"Non-observation steps ≤ {NON_OBSERVATION_TARGET:.2f}× plain (median pair ratio), CPU | wall:")
    for r in results:
        s = r["summary"]
        out.append(f"- {r['model']}/{r['optimizer']}/{r['path']}: {_verdict(s['cpu']['non_obs'][0], NON_OBSERVATION_TARGET)}"
                   f" | {_verdict(s['wall']['non_obs'][0], NON_OBSERVATION_TARGET)}")
    out.append(f"\nCheapest path ≤ {CHEAPEST_TARGET:.2f}× per step overall (ΣB/ΣA), CPU | wall:")
    cells = list(dict.fromkeys((r["model"], r["optimizer"]) for r in results))
    for model, opt in cells:
        rs = [r for r in results if r["model"] == model and r["optimizer"] == opt]
        by_cpu = min(rs, key=lambda r: r["summary"]["cpu"]["overall"])
        by_wall = min(rs, key=lambda r: r["summary"]["wall"]["overall"])
        out.append(f"- {model}/{opt}: {by_cpu['path']} {_verdict(by_cpu['summary']['cpu']['overall'], CHEAPEST_TARGET)}"
                   f" | {by_wall['path']} {_verdict(by_wall['summary']['wall']['overall'], CHEAPEST_TARGET)}")
    out.append(f"\nDouble backward at its floor 1 + (obs − 1)/{PERIOD}, obs the observation-step CPU ratio "
               "(excess = overall − floor, what the non-observation steps add):")
    for r in results:
        if not _graph(r["path"]):
            continue
        s = r["summary"]
        out.append(f"- {r['model']}/{r['optimizer']}/{r['path']}: overall CPU {s['cpu']['overall']:.3f}, "
                   f"floor {floor(s):.3f}, excess {s['cpu']['overall'] - floor(s):+.3f}")
    return "\n".join(out)


def figure(results: list[dict], path: str) -> None:
    """Two panels: non-observation pair ratio and overall ratio per path (bars: CPU time,
    whiskers its IQR; black dots: wall time), one bar group per model × optimizer; the targets
    as dashed lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = list(dict.fromkeys(r["path"] for r in results))
    cells = list(dict.fromkeys((r["model"], r["optimizer"]) for r in results))
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    width = 0.8 / max(1, len(cells))
    for panel, (ax, key, target, title) in enumerate(zip(
            axes, ("non_obs", "overall"), (NON_OBSERVATION_TARGET, CHEAPEST_TARGET),
            ("steps where the tuner observes nothing (median pair ratio)", "all steps (ΣB/ΣA)"))):
        for j, cell in enumerate(cells):
            xs, ys, lo, hi, walls = [], [], [], [], []
            for i, p in enumerate(paths):
                r = next((r for r in results if (r["model"], r["optimizer"]) == cell and r["path"] == p), None)
                if r is None:
                    continue
                s = r["summary"]
                if key == "non_obs":
                    y, q25, q75 = s["cpu"]["non_obs"]
                    walls.append(s["wall"]["non_obs"][0])
                else:
                    y, (q25, q75) = s["cpu"]["overall"], s["cpu"]["overall_iqr"]
                    walls.append(s["wall"]["overall"])
                xs.append(i + (j - (len(cells) - 1) / 2) * width)
                ys.append(y)
                lo.append(max(0.0, y - q25))
                hi.append(max(0.0, q75 - y))
            ax.bar(xs, ys, width, yerr=[lo, hi], capsize=2, label=f"{cell[0]} / {cell[1]} (CPU)")
            ax.plot(xs, walls, "k.", markersize=5, label="wall" if j == 0 else None)
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.axhline(target, color="red", linestyle="--", linewidth=1, label=f"target {target:.2f}×")
        ax.set_xticks(range(len(paths)))
        paths_labels = [p.replace(" (A/A control)", "\n(A/A)") for p in paths]
        ax.set_xticklabels(paths_labels, rotation=20, fontsize=8)
        ax.set_ylabel("tuned / plain wall time")
        ax.set_title(title, fontsize=10)
        lows = [r["summary"]["cpu"]["non_obs"][0] if key == "non_obs" else r["summary"]["cpu"]["overall"]
                for r in results]
        ax.set_ylim(min(0.9, min(lows) - 0.02), None)
        if panel == 1:
            ax.legend(fontsize=8)
    fig.suptitle(f"LRTuner overhead vs plain training, A/B-interleaved, period {PERIOD}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
