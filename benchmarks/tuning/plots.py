"""Figures per task × optimizer at the 1× budget: the training-set loss against the epoch, and
the learning rate against the step (log scale). Left panel: the best grid constant (black,
dashed), the schedules from it and the peers (gen-optim from the lowest and highest start);
right panel: the best constant and the library's rules from the lowest and highest start. Each
curve is the median over the seeds that finished; a configuration none of whose seeds finished
is drawn dotted from its first seed up to where it stopped. Lowest start: solid; highest:
dashed."""

from __future__ import annotations

import os

import numpy as np

from benchkit.figures import pyplot, save
from methods import METHODS
from report import best_constants


def _curve(rs, xkey, ykey):
    ok = [r for r in rs if r["status"] == "ok"]
    if ok:
        n = min(len(r[ykey]) for r in ok)
        ys = np.median(np.array([r[ykey][:n] for r in ok], dtype=float), axis=0)
        return np.asarray(ok[0][xkey][:n], dtype=float), ys, True
    if rs:
        r = min(rs, key=lambda r: r["seed"])
        n = min(len(r[xkey]), len(r[ykey]))
        return np.asarray(r[xkey][:n], dtype=float), np.asarray(r[ykey][:n], dtype=float), False
    return None, None, False


def _select(runs, task, opt, budget, method, lr0=...):
    return [r for r in runs if r["task"] == task and r["optimizer"] == opt and r["budget"] == budget
            and r["method"] == method and (lr0 is ... or r["lr0"] == lr0)]


def figures(runs, plan: dict, out_dir: str) -> list[str]:
    plt = pyplot()
    best = best_constants(runs)
    budget = max(r["budget"] for r in runs)
    paths = []
    order = list(METHODS)
    for task, opt in plan["cells"]:
        cell = [r for r in runs if r["task"] == task and r["optimizer"] == opt and r["budget"] == budget]
        if not cell:
            continue
        b = best.get((task, opt, budget))
        present = [m for m in METHODS if any(r["method"] == m for r in cell)]
        starts = sorted({r["lr0"] for r in cell if METHODS[r["method"]].kind == "library" and r["lr0"] is not None})
        extremes = [starts[0], starts[-1]] if len(starts) > 1 else starts
        left, right = [], []
        for m in present:
            kind = METHODS[m].kind
            if kind in ("schedule", "peer"):
                left.append((m, ...))
            elif kind == "peer_start":
                left += [(m, lr) for lr in extremes]
            elif kind == "library":
                right += [(m, lr) for lr in extremes]
        for what, xkey, ykey, xlabel in (("loss", "epochs", "loss_trace", "epoch"),
                                          ("lr", "lr_steps", "eff_lr_trace", "step")):
            fig, axes = plt.subplots(1, 2, figsize=(14, 5), sharey=True)
            for ax, series, title in ((axes[0], left, "schedules from the best constant, peers"),
                                      (axes[1], right, "libhessianlr rules (lowest / highest start)")):
                if b is not None:
                    x, y, _ = _curve(_select(runs, task, opt, budget, "constant", b["lr"]), xkey, ykey)
                    if x is not None:
                        ax.plot(x, y, "k--", lw=1.6, label=f"best constant {b['lr']:g}")
                for i, (m, lr) in enumerate(series):
                    rs = _select(runs, task, opt, budget, m, lr)
                    x, y, ok = _curve(rs, xkey, ykey)
                    if x is None or len(x) == 0:
                        continue
                    highest = lr is not ... and len(extremes) > 1 and lr == extremes[-1]
                    style = ":" if not ok else ("--" if highest else "-")
                    color = plt.cm.tab20((2 * order.index(m)) % 20 + (order.index(m) >= 10))
                    label = METHODS[m].label + ("" if lr is ... else f" lr0={lr:g}") + ("" if ok else " (did not finish)")
                    ax.plot(x, np.maximum(y, 1e-12), style, color=color, lw=1.2, label=label)
                ax.set_yscale("log")
                ax.set_xlabel(xlabel)
                ax.set_title(title, fontsize=10)
                ax.grid(alpha=0.3, which="both")
                ax.legend(fontsize=7, loc="best")
            axes[0].set_ylabel("training-set loss" if what == "loss" else "learning rate (log)")
            fig.suptitle(f"{task} × {opt}, budget 1×: "
                         + ("training-set loss per epoch" if what == "loss" else "learning rate per step")
                         + ", median over seeds", fontsize=11)
            paths.append(save(fig, os.path.join(out_dir, f"{what}_{task}_{opt}.png"), dpi=80))
    return paths
