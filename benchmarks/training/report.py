"""Aggregation over seeds, the tables (Markdown) and the assessment of the issue's two targets.

- A configuration is (setting, method, initial lr); its final train loss is the mean ± std over
  seeds of the loss on the whole training set after the last step. A configuration with a
  diverged seed gets an infinite mean for the comparisons (and its finite seeds are shown).
- The best grid constant of a setting is chosen AFTER the runs: the grid rate with the lowest mean
  final train loss among those with no diverged seed.
- Target 1: a rule started from each initial rate ends within 3× of that loss (ratio ≤ 3).
- Target 2: CDAT σ=2 ends below that loss in full batch (mean over seeds; per-seed wins against
  the same constant on the same seed are shown too).
"""

from __future__ import annotations

import csv
import math
import statistics
from collections import defaultdict

from methods import METHODS

TARGET_RATIO = 3.0


def aggregate(runs: list[dict]) -> dict:
    """{(setting, method, lr): summary dict}."""
    groups = defaultdict(list)
    for r in runs:
        groups[(r["setting"], r["method"], r["initial_lr"])].append(r)
    out = {}
    for key, rs in groups.items():
        rs = sorted(rs, key=lambda r: r["seed"])
        ok = [r for r in rs if not r["diverged"]]
        losses = [r["final_train_loss"] for r in ok]
        metrics = [r["test_metric"] for r in ok]
        ngroups = max(len(r["final_rates"]) for r in rs) if rs else 0
        final_rates = [statistics.median(r["final_rates"][k] for r in ok) if ok else math.nan for k in range(ngroups)]
        shares = [r["share_at_lr_max"] for r in rs if not math.isnan(r["share_at_lr_max"])]
        out[key] = {
            "setting": key[0], "method": key[1], "initial_lr": key[2],
            "n": len(rs), "diverged": len(rs) - len(ok),
            "loss_mean": statistics.mean(losses) if losses else math.nan,
            "loss_std": statistics.stdev(losses) if len(losses) > 1 else 0.0,
            "loss_for_target": statistics.mean(losses) if losses and len(ok) == len(rs) else math.inf,
            "loss_by_seed": {r["seed"]: (r["final_train_loss"] if not r["diverged"] else math.inf) for r in rs},
            "metric_mean": statistics.mean(metrics) if metrics else math.nan,
            "metric_std": statistics.stdev(metrics) if len(metrics) > 1 else 0.0,
            "wall_mean": statistics.mean(r["wall_s"] for r in rs),
            "hvps": statistics.mean(r["hvps"] for r in rs),
            "forwards": statistics.mean(r["forwards"] for r in rs),
            "final_rates": final_rates,
            "at_lr_max": statistics.mean(shares) if shares else math.nan,
            "failed_fits": statistics.mean(r["failed_fits"] for r in rs),
            "rejected_share": (sum(r.get("rejected", 0) for r in rs) / sum(r.get("updates", 0) for r in rs)
                               if sum(r.get("updates", 0) for r in rs) else math.nan),
            "errors": [r["error"] for r in rs if r["error"]],
        }
    return out


def best_constant(agg: dict, setting: str):
    """The summary of the best grid constant of ``setting`` (None if every rate diverged)."""
    candidates = [a for a in agg.values() if a["setting"] == setting and a["method"] == "constant"
                  and a["diverged"] == 0]
    return min(candidates, key=lambda a: a["loss_mean"]) if candidates else None


def _g(x: float, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if math.isinf(x):
        return "∞"
    return f"{x:.{digits}g}"


def _loss_cell(a: dict) -> str:
    if a["diverged"] == a["n"]:
        return "diverged"
    cell = f"{_g(a['loss_mean'])} ± {_g(a['loss_std'], 2)}"
    return cell + (f" ({a['diverged']}/{a['n']} div.)" if a["diverged"] else "")


def _metric_cell(a: dict, dataset: str) -> str:
    if math.isnan(a["metric_mean"]):
        return "–"
    if dataset == "digits":
        return f"{100 * a['metric_mean']:.1f} ± {100 * a['metric_std']:.1f}%"
    return f"{a['metric_mean']:.3f} ± {a['metric_std']:.3f}"


def _ordered_methods(agg: dict, setting: str) -> list[str]:
    present = {a["method"] for a in agg.values() if a["setting"] == setting}
    return [m for m in METHODS if m in present]


def setting_table(agg: dict, setting, plan) -> str:
    """The Markdown table of one setting."""
    best = best_constant(agg, setting.key)
    metric = "test acc" if setting.dataset == "digits" else "test MSE"
    lines = [f"#### {setting.title}", ""]
    if best is not None:
        lines.append(f"Best grid constant (chosen after the runs): lr = {best['initial_lr']:g}, final train loss "
                     f"{_g(best['loss_mean'], 4)}. `× best` = mean final train loss / that loss.")
        lines.append("")
    lines.append(f"| method | lr0 | final train loss | × best | {metric} | wall s | HVPs | forwards | final lr | at lr_max | rejected |")
    lines.append("|---|---:|---|---:|---|---:|---:|---:|---|---:|---:|")
    for method in _ordered_methods(agg, setting.key):
        for lr in sorted({a["initial_lr"] for a in agg.values() if a["setting"] == setting.key and a["method"] == method}):
            a = agg[(setting.key, method, lr)]
            ratio = a["loss_for_target"] / best["loss_mean"] if best and best["loss_mean"] > 0 else math.nan
            name = METHODS[method].label + (" ★" if best is not None and a is best else "")
            rates = "/".join(_g(r, 2) for r in a["final_rates"])
            at_max = "–" if math.isnan(a["at_lr_max"]) else f"{100 * a['at_lr_max']:.0f}%"
            rejected = "–" if math.isnan(a["rejected_share"]) else f"{100 * a['rejected_share']:.0f}%"
            lines.append(
                f"| {name} | {lr:g} | {_loss_cell(a)} | {_g(ratio, 2)} | {_metric_cell(a, setting.dataset)} | "
                f"{a['wall_mean']:.2f} | {a['hvps']:.0f} | {a['forwards']:.0f} | {rates} | "
                f"{at_max} | {rejected} |")
    lines.append("")
    lines.append("Columns: means over seeds; wall s = time in the training steps only; HVPs and forwards per run "
                 "(forwards: the step's own plus every probe); final lr per group (median over seeds); at lr_max = "
                 "share of steps at the tuner's clamp; rejected = share of the rule's measuring steps whose fit "
                 "was rejected or saw c ≤ 0 (ours: library flags FIT_REJECTED / NEGATIVE_CURVATURE), or, for "
                 "gen-optim, that left the rate unchanged (its a ≤ 0, b ≤ 0, R² ≤ 0.99 branch) or raised.")
    errors = sorted({(m, lr, e.split(':')[1].strip() if ':' in e else e)
                     for (s, m, lr), a in agg.items() if s == setting.key for e in a["errors"]})
    if errors:
        lines.append("")
        lines.append("Runs stopped by an exception: " + "; ".join(f"{METHODS[m].label} lr0 {lr:g}: {e}" for m, lr, e in errors[:8]))
    return "\n".join(lines)


def target1(agg: dict, plan, methods: list[str]) -> tuple[str, dict]:
    """Ratios to the best constant per rule, setting and initial lr; verdict per (rule, setting)."""
    verdicts = {}
    header = "| rule | " + " | ".join(s.key for s in plan.settings) + " |"
    lines = [header, "|---|" + "---|" * len(plan.settings)]
    for method in methods:
        cells = []
        for s in plan.settings:
            best = best_constant(agg, s.key)
            if not any((s.key, method, lr) in agg for lr in plan.initial_lrs):
                cells.append("not run")
                continue
            ratios = []
            for lr in plan.initial_lrs:
                a = agg.get((s.key, method, lr))
                ratios.append(a["loss_for_target"] / best["loss_mean"] if a and best else math.nan)
            met = all(r <= TARGET_RATIO for r in ratios)
            verdicts[(method, s.key)] = (met, ratios)
            cells.append(" / ".join(_g(r, 2) for r in ratios) + (" ✓" if met else " ✗"))
        lines.append(f"| {METHODS[method].label} | " + " | ".join(cells) + " |")
    return "\n".join(lines), verdicts


def target2(agg: dict, plan) -> tuple[str, dict]:
    lines = ["| data set | best constant (lr: loss) | CDAT σ=2 lr0 | CDAT σ=2 loss | × best | seeds below | CDAT σ=1 loss | beats? |",
             "|---|---|---:|---|---:|---:|---|---|"]
    verdicts = {}
    for s in plan.settings:
        if s.batch is not None:
            continue
        best = best_constant(agg, s.key)
        for lr in plan.initial_lrs:
            a = agg.get((s.key, "cdat2", lr))
            b = agg.get((s.key, "cdat1", lr))
            if a is None or best is None:
                continue
            wins = sum(a["loss_by_seed"][seed] < best["loss_by_seed"][seed] for seed in a["loss_by_seed"])
            beats = a["loss_for_target"] < best["loss_mean"]
            verdicts[(s.key, lr)] = beats
            lines.append(f"| {s.dataset} | {best['initial_lr']:g}: {_g(best['loss_mean'], 4)} | {lr:g} | {_loss_cell(a)} | "
                         f"{_g(a['loss_for_target'] / best['loss_mean'], 2)} | {wins}/{a['n']} | "
                         f"{_loss_cell(b) if b else '–'} | {'yes' if beats else 'no'} |")
    return "\n".join(lines), verdicts


def write_runs_csv(runs: list[dict], path: str) -> None:
    fields = ["setting", "method", "initial_lr", "seed", "final_train_loss", "test_metric", "wall_s", "hvps",
              "forwards", "steps_done", "diverged", "failed_fits", "updates", "rejected", "max_rate", "share_at_lr_max", "final_rates", "error"]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        for r in runs:
            row = {k: r.get(k, "") for k in fields}
            row["final_rates"] = "/".join(f"{x:.6g}" for x in r["final_rates"])
            w.writerow(row)


def render(runs: list[dict], plan) -> str:
    from methods import ABLATION, BASELINES, DIAGNOSTIC, OURS

    agg = aggregate(runs)
    parts = ["## Tables", ""]
    for s in plan.settings:
        parts += [setting_table(agg, s, plan), ""]
    parts += ["## Target 1: within 3× of the best grid constant from every initial lr",
              "", "Cells: mean final train loss / best constant's, for lr0 = "
              + " / ".join(f"{lr:g}" for lr in plan.initial_lrs) + " (∞: a seed diverged); ✓ = all ≤ 3.", ""]
    present = {a["method"] for a in agg.values()}
    t1, _ = target1(agg, plan, [m for m in OURS + DIAGNOSTIC + BASELINES + ABLATION if m in present])
    parts += [t1, "", "## Target 2: CDAT σ=2 below the best grid constant in full batch", ""]
    t2, _ = target2(agg, plan)
    parts += [t2, ""]
    return "\n".join(parts)
