"""Figures: per setting, loss curves and LR curves (one panel per method, the initial rates in
colour, the best grid constant as a black dashed reference), and one sensitivity figure (final
train loss against the initial rate, every setting). Curves are the mean over the seeds that did
not diverge (a configuration whose every seed diverged is drawn dotted from seed 0, up to where
it stopped)."""

from __future__ import annotations

import math
import os

import numpy as np

from benchkit.figures import pyplot, save
from methods import METHODS
from report import TARGET_RATIO, aggregate, best_constant

GROUP_STYLES = ["-", "--", ":", "-."]


def _runs_of(runs, setting, method, lr):
    return [r for r in runs if r["setting"] == setting and r["method"] == method and r["initial_lr"] == lr]


def _mean_curve(rs, xkey, ykey, group=None):
    ok = [r for r in rs if not r["diverged"]]
    if ok:
        xs = ok[0][xkey]
        ys = [r[ykey] if group is None else [v[group] for v in r[ykey]] for r in ok]
        n = min(len(y) for y in ys)
        return np.asarray(xs[:n]), np.exp(np.mean(np.log(np.maximum([y[:n] for y in ys], 1e-300)), axis=0)), True
    if rs:
        r = rs[0]
        ys = r[ykey] if group is None else [v[group] for v in r[ykey]]
        return np.asarray(r[xkey][: len(ys)]), np.asarray(ys, dtype=float), False
    return None, None, False


def _methods(runs, setting):
    present = {r["method"] for r in runs if r["setting"] == setting}
    return [m for m in METHODS if m in present]


def curves(runs, plan, out_dir) -> list[str]:
    plt = pyplot()
    agg = aggregate(runs)
    paths = []
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for s in plan.settings:
        best = best_constant(agg, s.key)
        methods = [m for m in _methods(runs, s.key) if METHODS[m].family != "ablation"]
        for kind in ("loss", "lr"):
            cols = 4
            rows = math.ceil(len(methods) / cols)
            fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), sharex=True, sharey=True, squeeze=False)
            for ax, method in zip(axes.flat, methods):
                lrs = plan.grid if method == "constant" else plan.initial_lrs
                for i, lr in enumerate(lrs):
                    rs = _runs_of(runs, s.key, method, lr)
                    if not rs:
                        continue
                    color = colors[i % len(colors)] if method != "constant" else plt.cm.viridis(i / max(len(lrs) - 1, 1))
                    ngroups = len(rs[0]["groups"]) if kind == "lr" else 1
                    for k in range(ngroups):
                        if kind == "loss":
                            x, y, ok = _mean_curve(rs, "curve_steps", "curve_loss")
                        else:
                            x, y, ok = _mean_curve(rs, "rate_steps", "rates", k)
                        if x is None or len(x) == 0:
                            continue
                        style = ":" if not ok else GROUP_STYLES[k % len(GROUP_STYLES)]
                        label = f"lr0={lr:g}" if k == 0 else None
                        if kind == "lr" and ngroups > 1 and i == 0:
                            label = f"lr0={lr:g} [{rs[0]['groups'][k]}]"
                        ax.plot(x, y, style, color=color, lw=1.2, label=label)
                if best is not None and method != "constant":
                    rs = _runs_of(runs, s.key, "constant", best["initial_lr"])
                    if kind == "loss":
                        x, y, _ = _mean_curve(rs, "curve_steps", "curve_loss")
                        ax.plot(x, y, "k--", lw=1, label=f"best const {best['initial_lr']:g}")
                    else:
                        ax.axhline(best["initial_lr"], color="k", ls="--", lw=1, label=f"best const {best['initial_lr']:g}")
                ax.set_title(METHODS[method].label, fontsize=10)
                ax.set_yscale("log")
                ax.legend(fontsize=6, loc="best")
                ax.grid(alpha=0.3)
            for ax in axes.flat[len(methods):]:
                ax.set_visible(False)
            for ax in axes[-1]:
                ax.set_xlabel("step")
            for ax in axes[:, 0]:
                ax.set_ylabel("full train loss" if kind == "loss" else "learning rate")
            what = "training loss (whole training set)" if kind == "loss" else "learning rate used by each step"
            fig.suptitle(f"{s.title}: {what}, geometric mean over seeds", fontsize=12)
            paths.append(save(fig, os.path.join(out_dir, f"{kind}_{s.key}.png"), dpi=90))
    return paths


def sensitivity(runs, plan, out_dir) -> str:
    plt = pyplot()
    agg = aggregate(runs)
    n = len(plan.settings)
    cols = 2
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(7.5 * cols, 4.8 * rows), squeeze=False)
    markers = "osD^v<>pPX*h"
    for ax, s in zip(axes.flat, plan.settings):
        best = best_constant(agg, s.key)
        grid = [(lr, agg.get((s.key, "constant", lr))) for lr in plan.grid]
        gx = [lr for lr, a in grid if a and a["diverged"] == 0]
        ax.plot(gx, [agg[(s.key, "constant", lr)]["loss_mean"] for lr in gx], "k-o", lw=2, ms=4, label="constant grid")
        if best is not None:
            ax.axhline(TARGET_RATIO * best["loss_mean"], color="k", ls=":", lw=1, label="3 × best constant")
        rules = [m for m in _methods(runs, s.key) if METHODS[m].family in ("baseline", "ours", "diagnostic")]
        top = ax.get_xaxis_transform()  # x in data, y in axes units: diverged marks along the top
        for lr, a in grid:
            if a and a["diverged"]:
                ax.plot([lr], [0.97], "kx", ms=7, transform=top)
        for j, m in enumerate(rules):
            xs, ys, dx = [], [], []
            for lr in plan.initial_lrs:
                a = agg.get((s.key, m, lr))
                x = lr * (1.06 ** (j - len(rules) / 2))  # small offset so markers do not overlap
                if a and a["diverged"] == 0:
                    xs.append(x)
                    ys.append(a["loss_mean"])
                elif a:
                    dx.append(x)
            style = "-" if METHODS[m].family == "ours" else "--"
            line, = ax.plot(xs, ys, style, marker=markers[j % len(markers)], ms=5, lw=1, label=METHODS[m].label)
            if dx:
                ax.plot(dx, [0.92] * len(dx), linestyle="none", marker=markers[j % len(markers)], ms=5,
                        mfc="none", color=line.get_color(), transform=top)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("initial (or constant) learning rate")
        ax.set_ylabel("final train loss (mean over seeds)")
        ax.set_title(s.title, fontsize=10)
        ax.grid(alpha=0.3, which="both")
    axes.flat[0].legend(fontsize=7, ncol=2)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    fig.suptitle("Final train loss vs initial learning rate (mean over seeds; marks along the top: a seed diverged, × = constant)")
    return save(fig, os.path.join(out_dir, "sensitivity.png"), dpi=90)
