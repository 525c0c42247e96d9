"""Aggregation over seeds, the Markdown tables and runs.csv.

Definitions (all fixed before the runs):

- A *cell* is task × optimizer × budget. Its **best grid constant** is chosen after the runs:
  the grid rate with the lowest median (over seeds) final train loss, a non-finished seed
  (diverged or error) counting as +∞. It is *interior* if it is neither end of the grid.
- A *row* is cell × method × start (start: the grid rate for ``constant``, the best grid rate
  for the schedules, lr0 for the library rules and gen-optim, ``default`` for the other peers).
  ``× best`` = the row's median final train loss over seeds / the best constant's median (worst:
  the largest seed's loss / the same; ∞ if a seed did not finish).
- **Targets** (per row): median ``× best`` ≤ 2; the median test metric within 0.5 points of the
  best constant's median (accuracy ≥ best − 0.5; MSE ≤ 1.1 × best); no seed diverged or failed.
"""

from __future__ import annotations

import csv
import math
import statistics
from collections import defaultdict

from methods import METHODS
from optimizers import OPTIMIZERS

LOSS_TARGET = 2.0
ACC_POINTS = 0.5
MSE_FACTOR = 1.1
BUDGET_LABELS = {0.25: "¼", 0.5: "½", 1.0: "1×"}


def _median(xs):
    xs = [x for x in xs if not (isinstance(x, float) and math.isnan(x))]
    return statistics.median(xs) if xs else math.nan


def start_key(run) -> str:
    kind = METHODS[run["method"]].kind if run["method"] in METHODS else "peer"
    if kind == "schedule":
        return "best"
    if run["lr0"] is None:
        return "default"
    return f"{run['lr0']:g}"


def _loss(run) -> float:
    return run["final_train_loss"] if run["status"] == "ok" else math.inf


def best_constants(runs) -> dict:
    """{(task, optimizer, budget): {lr, loss, metric, interior, grid}} (None if every rate failed)."""
    by = defaultdict(lambda: defaultdict(list))
    for r in runs:
        if r["method"] == "constant":
            by[(r["task"], r["optimizer"], r["budget"])][r["lr0"]].append(r)
    out = {}
    for cell, per_lr in by.items():
        grid = sorted(per_lr)
        scored = [(statistics.median(_loss(r) for r in rs), lr) for lr, rs in per_lr.items()]
        loss, lr = min(scored, key=lambda s: (s[0], s[1]))
        if not math.isfinite(loss):
            out[cell] = None
            continue
        metric = _median(r["test_metric"] for r in per_lr[lr] if r["status"] == "ok")
        out[cell] = {"lr": lr, "loss": loss, "metric": metric, "grid": grid,
                     "interior": grid[0] < lr < grid[-1]}
    return out


def metric_ok(task_metric: str, value: float, best: float) -> bool:
    if math.isnan(value) or math.isnan(best):
        return False
    if task_metric == "mse":
        return value <= MSE_FACTOR * best
    return value >= best - ACC_POINTS


def aggregate(runs, metrics: dict) -> dict:
    """{(task, optimizer, budget, method, start): row summary}; ``metrics`` = {task: "accuracy"|"mse"}."""
    best = best_constants(runs)
    groups = defaultdict(list)
    for r in runs:
        groups[(r["task"], r["optimizer"], r["budget"], r["method"], start_key(r))].append(r)
    rows = {}
    for key, rs in groups.items():
        task, opt, budget, method, start = key
        b = best.get((task, opt, budget))
        losses = [_loss(r) for r in rs]
        ok = [r for r in rs if r["status"] == "ok"]
        med = statistics.median(losses)
        ratio = med / b["loss"] if b and b["loss"] > 0 else math.nan
        worst = max(losses) / b["loss"] if b and b["loss"] > 0 else math.nan
        metric = _median(r["test_metric"] for r in ok)
        diverged = sum(r["status"] == "diverged" for r in rs)
        errors = sum(r["status"] == "error" for r in rs)
        loss_ok = ratio <= LOSS_TARGET if not math.isnan(ratio) else False
        m_ok = metric_ok(metrics[task], metric, b["metric"]) if b else False
        rows[key] = {
            "task": task, "optimizer": opt, "budget": budget, "method": method, "start": start,
            "lr0": rs[0]["lr0"], "n": len(rs), "diverged": diverged, "errors": errors,
            "error_messages": sorted({r["error"] for r in rs if r["status"] == "error" and r["error"]}),
            "loss": med, "ratio": ratio, "worst": worst, "metric": metric,
            "time_ratio": _median(r["time_ratio"] for r in rs),
            "step_ms": _median(r["step_ms"] for r in rs),
            "hvps_per_step": _median(r["hvps"] / max(r["steps_done"], 1) for r in rs),
            "extra_fwd_per_step": _median(r["extra_forwards"] / max(r["steps_done"], 1) for r in rs),
            "hvps": _median(r["hvps"] for r in ok) if ok else math.nan,
            "extra_forwards": _median(r["extra_forwards"] for r in ok) if ok else math.nan,
            "final_lr": _median(r["final_lr"] for r in ok) if ok else math.nan,
            "loss_ok": loss_ok, "metric_ok": m_ok, "no_div": diverged + errors == 0,
            "meets": loss_ok and m_ok and diverged + errors == 0,
            "is_best": method == "constant" and b is not None and rs[0]["lr0"] == b["lr"],
        }
    return rows


# -- formatting ---------------------------------------------------------------------------------

def _g(x, digits=3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, float) and math.isinf(x):
        return "∞"
    return f"{x:.{digits}g}"


def _metric(x, kind) -> str:
    if x is None or math.isnan(x):
        return "–"
    return f"{x:.3f}" if kind == "mse" else f"{x:.1f}"


def _method_order(present) -> list[str]:
    return [m for m in METHODS if m in present]


def _start_order(starts) -> list[str]:
    def key(s):
        try:
            return (0, float(s))
        except ValueError:
            return (1, 0.0)

    return sorted(starts, key=key)


def _label(method) -> str:
    return METHODS[method].label if method in METHODS else method


def cell_table(rows, best, task, opt, budget, metric_kind, task_info="") -> str:
    b = best.get((task, opt, budget))
    title = f"#### {task} × {opt} ({OPTIMIZERS[opt].description if opt in OPTIMIZERS else opt}), budget {BUDGET_LABELS.get(budget, budget)}"
    lines = [title, ""]
    if task_info:
        lines += [task_info, ""]
    if b is None:
        lines += ["Every grid rate diverged or failed: no best constant.", ""]
    else:
        lines += [f"Best grid constant (chosen after the runs): lr = {b['lr']:g} "
                  f"({'interior' if b['interior'] else 'AT THE GRID EDGE'} of {b['grid'][0]:g} … {b['grid'][-1]:g}), "
                  f"median final train loss {_g(b['loss'], 4)}, median test {'MSE' if metric_kind == 'mse' else 'accuracy'} "
                  f"{_metric(b['metric'], metric_kind)}.", ""]
    mname = "test MSE" if metric_kind == "mse" else "test acc %"
    lines.append(f"| method | start | final train loss | × best (median / worst) | {mname} | div/err | meets | time × plain | HVPs | extra fwd | final lr |")
    lines.append("|---|---:|---:|---:|---:|---:|:-:|---:|---:|---:|---:|")
    cell_rows = [r for k, r in rows.items() if k[:3] == (task, opt, budget)]
    present = {r["method"] for r in cell_rows}
    for method in _method_order(present):
        mrows = {r["start"]: r for r in cell_rows if r["method"] == method}
        for start in _start_order(mrows):
            r = mrows[start]
            name = _label(method) + (" ★" if r["is_best"] else "")
            start_txt = f"{r['lr0']:g}" if start == "best" and r["lr0"] is not None else start
            divs = f"{r['diverged']}/{r['errors']}" if r["diverged"] or r["errors"] else "0"
            lines.append(
                f"| {name} | {start_txt} | {_g(r['loss'])} | {_g(r['ratio'], 2)} / {_g(r['worst'], 2)} | "
                f"{_metric(r['metric'], metric_kind)} | {divs} | {'✓' if r['meets'] else '✗'} | "
                f"{_g(r['time_ratio'], 2)} | {_g(r['hvps'], 4)} | {_g(r['extra_forwards'], 4)} | {_g(r['final_lr'], 2)} |")
    errs = sorted({(r["method"], r["start"], m) for r in cell_rows for m in r["error_messages"]})
    if errs:
        lines += ["", "Errors (status error, message as raised):"]
        shown = {}
        for method, start, msg in errs:
            shown.setdefault((method, msg.split(": ", 1)[-1]), []).append(start)
        for (method, msg), starts in shown.items():
            lines.append(f"- {_label(method)} (start {', '.join(starts)}): `{msg[:300]}`")
    return "\n".join(lines)


def summary_table(rows, budget=1.0, methods=None) -> str:
    """Per method: the share of task × optimizer × start rows meeting all targets, each target
    alone, and the median × best."""
    by = defaultdict(list)
    for r in rows.values():
        if r["budget"] == budget:
            by[r["method"]].append(r)
    lines = ["| method | rows | meets all | loss ≤ 2× | test metric ok | no div/err | median × best | median time × plain | HVPs / step | extra fwd / step |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for method in _method_order(by if methods is None else [m for m in methods if m in by]):
        rs = by[method]
        n = len(rs)
        frac = lambda key: f"{sum(r[key] for r in rs)}/{n} ({100 * sum(r[key] for r in rs) / n:.0f}%)"  # noqa: E731
        lines.append(
            f"| {_label(method)}{' (each grid rate)' if method == 'constant' else ''} | {n} | {frac('meets')} | "
            f"{frac('loss_ok')} | {frac('metric_ok')} | {frac('no_div')} | "
            f"{_g(statistics.median(r['ratio'] for r in rs), 3)} | {_g(_median(r['time_ratio'] for r in rs), 2)} | "
            f"{_g(_median(r['hvps_per_step'] for r in rs), 2)} | {_g(_median(r['extra_fwd_per_step'] for r in rs), 2)} |")
    return "\n".join(lines)


def summary_by_start(rows, budget=1.0) -> str:
    """Library rules and gen-optim: the share meeting all targets per start (position in the
    family's start set: 1 = lowest)."""
    from optimizers import STARTS

    by = defaultdict(lambda: defaultdict(list))
    for r in rows.values():
        if r["budget"] != budget or METHODS.get(r["method"]) is None:
            continue
        if METHODS[r["method"]].kind not in ("library", "peer_start") or r["lr0"] is None:
            continue
        fam = OPTIMIZERS[r["optimizer"]].family
        pos = STARTS[fam].index(r["lr0"]) if r["lr0"] in STARTS[fam] else -1
        by[r["method"]][pos].append(r)
    positions = sorted({p for d in by.values() for p in d})
    head = " | ".join(f"start {p + 1} ({STARTS['sgd'][p]:g} / {STARTS['adam'][p]:g})" for p in positions)
    lines = [f"| method | {head} |", "|---|" + "---:|" * len(positions)]
    for method in _method_order(by):
        cells = []
        for p in positions:
            rs = by[method].get(p, [])
            cells.append(f"{sum(r['meets'] for r in rs)}/{len(rs)}, × {_g(statistics.median(r['ratio'] for r in rs), 2)}" if rs else "–")
        lines.append(f"| {_label(method)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def budget_table(rows, budgets) -> str:
    by = defaultdict(list)
    for r in rows.values():
        by[(r["method"], r["budget"])].append(r)
    methods = _method_order({m for m, _ in by})
    head = " | ".join(f"{BUDGET_LABELS.get(b, b)}: meets / median × best" for b in budgets)
    lines = [f"| method | {head} |", "|---|" + "---:|" * len(budgets)]
    for method in methods:
        cells = []
        for b in budgets:
            rs = by.get((method, b), [])
            cells.append(f"{sum(r['meets'] for r in rs)}/{len(rs)} / {_g(statistics.median(r['ratio'] for r in rs), 2)}" if rs else "–")
        lines.append(f"| {_label(method)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def budget_metric_table(rows, best, task, opt, budgets, metric_kind) -> str:
    """Median test metric (over starts and seeds) per method and budget, and the best constant's."""
    lines = [f"| {task} × {opt} | " + " | ".join(BUDGET_LABELS.get(b, str(b)) for b in budgets) + " |",
             "|---|" + "---:|" * len(budgets)]
    cells = []
    for b in budgets:
        bc = best.get((task, opt, b))
        cells.append("–" if bc is None else f"{_metric(bc['metric'], metric_kind)} (lr {bc['lr']:g}, loss {_g(bc['loss'], 3)})")
    lines.append("| best constant | " + " | ".join(cells) + " |")
    present = {r["method"] for r in rows.values() if r["task"] == task and r["optimizer"] == opt}
    for method in _method_order(present):
        if method == "constant":
            continue
        cells = []
        for b in budgets:
            rs = [r for r in rows.values() if r["task"] == task and r["optimizer"] == opt and r["budget"] == b and r["method"] == method]
            if not rs:
                cells.append("–")
                continue
            m = _median(r["metric"] for r in rs)
            cells.append(f"{_metric(m, metric_kind)} (× {_g(statistics.median(r['ratio'] for r in rs), 2)})")
        lines.append(f"| {_label(method)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render(runs, plan: dict, task_info: dict) -> str:
    metrics = {t: info["metric"] for t, info in task_info.items()}
    rows = aggregate(runs, metrics)
    best = best_constants(runs)
    budgets = sorted({r["budget"] for r in runs})
    top = max(budgets)
    cells = [(t, o) for t, o in plan["cells"] if any(r["task"] == t and r["optimizer"] == o for r in runs)]
    parts = ["## Summary (budget 1×)", "",
             f"Targets per row (task × optimizer × start): final train loss ≤ {LOSS_TARGET:g}× the best grid "
             f"constant's (medians over seeds), median test metric within {ACC_POINTS:g} points of the best "
             f"constant's (test MSE ≤ {MSE_FACTOR:g}×), no seed diverged or failed. `constant (each grid rate)` "
             "counts every grid rate as a row: how forgiving the cells are to an untuned constant.", "",
             summary_table(rows, top), "",
             "### By start (library rules and gen-optim; budget 1×): rows meeting all targets / rows, median × best", "",
             summary_by_start(rows, top), "",
             "## Budgets: rows meeting all targets / rows, median × best (each budget against its own best constant)", "",
             budget_table(rows, budgets), "",
             "### Best grid constants per budget", "",
             "| task × optimizer | " + " | ".join(f"{BUDGET_LABELS.get(b, b)}: lr (loss)" for b in budgets) + " | interior at every budget |",
             "|---|" + "---:|" * len(budgets) + ":-:|"]
    for t, o in cells:
        bs = [best.get((t, o, b)) for b in budgets]
        parts.append(f"| {t} × {o} | " + " | ".join("–" if x is None else f"{x['lr']:g} ({_g(x['loss'], 3)})" for x in bs)
                     + f" | {'yes' if all(x and x['interior'] for x in bs) else 'NO'} |")
    parts += ["", "### Test metric by budget (median over starts and seeds; in brackets the median × best)", ""]
    for t, o in cells:
        parts += [budget_metric_table(rows, best, t, o, budgets, metrics[t]), ""]
    parts += ["## Per task × optimizer (budget 1×)", "",
              "Columns: medians over seeds. `× best` = final train loss / best constant's (median / worst seed). "
              "div/err = seeds diverged / failed with an exception. meets = all three targets. time × plain = mean "
              "CPU time of a step / mean CPU time of a plain step of the same optimizer at a constant rate, timed "
              "interleaved in the same process (thread CPU time, robust to preemption on a shared machine). HVPs and extra fwd (forwards beyond the step's own) per run. final lr: "
              "param_groups[0]['lr'] at the last step (Prodigy, D-Adaptation, schedule-free: the rate they step "
              "with, see methods.py).", ""]
    for t, o in cells:
        info = task_info.get(t, {})
        parts += [cell_table(rows, best, t, o, top, metrics[t], info.get("summary", "")), ""]
    return "\n".join(parts)


CSV_FIELDS = ["task", "optimizer", "method", "lr0", "seed", "budget", "steps", "status", "diverged", "final_train_loss",
              "test_metric", "initial_loss", "steps_done", "step_ms", "step_ms_median", "ref_step_ms", "step_cpu_ms",
              "ref_step_cpu_ms", "time_ratio", "time_ratio_wall",
              "wall_s", "hvps", "probes", "forwards", "extra_forwards", "failed_fits", "final_lr", "max_lr", "error"]


def write_runs_csv(runs, path) -> None:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        w.writeheader()
        for r in runs:
            row = {k: r.get(k, "") for k in CSV_FIELDS}
            row["diverged"] = int(r["status"] == "diverged")  # the flag: non-finite or > 10× initial loss
            w.writerow(row)
