"""Where the best constant learning rate sits against the one-step line search (issue 14).

A diagnostic program, not a test and not a method. For every task × optimizer cell it trains the
cell's best grid constant η* of a recorded run (`runs.csv`: the lowest median final training loss
over seeds at budget 1×, `report.best_constants`), seed 0, with the benchmark's batches, and every
`--every` steps measures on the step's own batch, at w_t:

- η_ls, the exact line search from w_{t−1} along the optimizer's previous update u_{t−1} (auto's
  three probes L(w_t + ρ·η*·u_{t−1}), ρ = −1, 0, +1, with κ = 1: the minimiser of the quadratic
  through them, measured from ρ = −1, in units of the lr; w_t + η*·u_{t−1} = w_{t−1});
- η̄_ls, the same line search as auto averages it: the ratio of the phase's means of max(b, 0)
  and |a| (b the slope at ρ = −1, a the curvature of the three probes), not a median of ratios;
- η_noise = ⟨g_t, u_{t−1}⟩ / u_tᵀH_Bu_t, the one-step greedy rate for the update actually taken
  (u_t, the current update, which carries this batch's noise) with the noise kept out of the
  numerator: for heavy ball, E[L(w_t − η u_t)] is minimised at (β·ḡᵀu_{t−1} + |ḡ|²)/E[u_tᵀHu_t],
  the curvature term includes tr(HΣ) through the fresh gradient, and in steady state
  |ḡ|² ≈ (1 − β)·ḡᵀu_{t−1}, so the numerator ≈ ḡᵀu_{t−1}, which the slope along u_{t−1} estimates
  without bias (Adam and plain SGD give the same form). Measured with two more probes along u_t
  (L(w_t ± η*·u_t)); ratio of the phase's means of max(numerator, 0) and |curvature|;
- φ, the correlation of consecutive gradients ⟨g_t, g_{t−1}⟩_P / ½(|g_t|²_P + |g_{t−1}|²_P), with
  P = 1, or Adam's 1/(√v̂ + ε): the signal fraction |G|²/E|g|² if consecutive batches were
  independent samples at one point (McCandlish et al. 2018's noise scale, Schaul et al. 2013).

It prints, per cell and per phase of training (0–10 %, 10–50 %, 50–100 % of the steps), the
medians of η*/η_ls and of φ, η*/(φ·η_ls) where φ > 0 (a rule η = c·φ·η_ls would need that column
near one constant c), η*/η̄_ls and η*/η_noise (a rule that explains the best constant would have
its column near 1 in every cell and phase). Writes `tables.md` and `results.json` into --out.

    .venv/bin/python benchmarks/tuning/diagnose_rates.py --out build/diagnose-rates
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import pathlib
import statistics
import sys

import torch

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_tuning  # noqa: E402
import optimizers  # noqa: E402
import report  # noqa: E402
import tasks  # noqa: E402
from hessianlr.torch_directions import update_directions  # noqa: E402

PHASES = ((0.0, 0.1), (0.1, 0.5), (0.5, 1.01))


def read_runs(path: pathlib.Path) -> list[dict]:
    """The constant-rate runs of a recorded runs.csv, with the fields `report.best_constants` reads."""
    runs = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row["method"] != "constant":
                continue
            runs.append({"task": row["task"], "optimizer": row["optimizer"], "method": row["method"],
                         "lr0": float(row["lr0"]), "budget": float(row["budget"]), "status": row["status"],
                         "final_train_loss": float(row["final_train_loss"] or "nan"),
                         "test_metric": float(row["test_metric"] or "nan")})
    return runs


def flat(tensors) -> torch.Tensor:
    return torch.cat([t.reshape(-1) for t in tensors])


def metric_weights(optimizer, params, like: torch.Tensor) -> torch.Tensor:
    """P⁻¹ of the optimizer's step: Adam's 1/(√v̂ + ε) once it has state, else ones."""
    group = optimizer.param_groups[0]
    states = [optimizer.state.get(p, {}) for p in params]
    if not all("exp_avg_sq" in s for s in states):
        return torch.ones_like(like)
    step = float(states[0]["step"])
    vhat = flat([s["exp_avg_sq"] for s in states]) / (1 - group["betas"][1] ** step)
    return 1 / (vhat.sqrt() + group["eps"])


def measure(task_name: str, optimizer_name: str, lr: float, every: int) -> list[dict]:
    """At every measured step: the fraction of training, η_ls, φ, the line search's b and a, and
    η_noise's numerator and curvature (see the module's documentation)."""
    task = tasks.load(task_name)
    model = task.make_model(0)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = optimizers.OPTIMIZERS[optimizer_name].make(params, lr)
    steps = task.base_epochs * task.steps_per_epoch
    order = tasks.batch_order(task, 0, steps)
    sizes = [p.numel() for p in params]
    previous_gradient = previous_update = None
    rows = []
    for t in range(steps):
        x, y = task.x_train[order[t]], task.y_train[order[t]]
        optimizer.zero_grad(set_to_none=True)
        loss = task.loss_fn(model(x), y)
        loss.backward()
        gradient = flat([p.grad for p in params]).detach().clone()
        group = optimizer.param_groups[0]
        update = flat(update_directions(optimizer, [group], [[p.grad.detach() for p in params]])[0]).clone()
        if previous_gradient is not None and t % every == 0:
            weights = metric_weights(optimizer, params, gradient)
            both = float((weights * gradient * previous_gradient).sum())
            each = 0.5 * float((weights * gradient * gradient).sum() + (weights * previous_gradient ** 2).sum())
            with torch.no_grad():
                def at(rho, direction):  # L(w_t − ρ·lr·direction) on the step's batch, weights restored exactly
                    pieces = torch.split(direction, sizes)
                    saved = [p.detach().clone() for p in params]
                    for p, d in zip(params, pieces):
                        p.add_(d.view_as(p), alpha=-rho * lr)
                    value = float(task.loss_fn(model(x), y))
                    for p, s in zip(params, saved):
                        p.copy_(s)
                    return value
                minus, plus = at(-1.0, previous_update), at(1.0, previous_update)
                current_minus, current_plus = at(-1.0, update), at(1.0, update)
            current = float(loss.detach())
            a = (plus + minus - 2 * current) / lr ** 2
            b = (minus - plus) / (2 * lr) + lr * a  # the slope at ρ = −1, i.e. at w_{t−1}
            rows.append({"fraction": t / steps, "line_search": b / a if a > 0 and b > 0 else math.nan,
                         "phi": both / each if each > 0 else math.nan, "b": b, "a": a,
                         "noise_numerator": (minus - plus) / (2 * lr),  # g_tᵀu_{t−1}
                         "noise_curvature": (current_plus + current_minus - 2 * current) / lr ** 2})  # u_tᵀH_Bu_t
        previous_update = update
        previous_gradient = gradient
        optimizer.step()
    return rows


def summary(rows, lr):
    def averaged_rate(rows, numerator, curvature):  # auto's ratio of averages of max(b, 0) and |a|
        if not rows:
            return math.nan
        top = statistics.fmean(max(r[numerator], 0) for r in rows)
        bottom = statistics.fmean(abs(r[curvature]) for r in rows)
        return top / bottom if top > 0 and bottom > 0 else math.nan

    out = []
    for lo, hi in PHASES:
        phase = [r for r in rows if lo <= r["fraction"] < hi]
        ls = [r["line_search"] for r in phase if math.isfinite(r["line_search"])]
        phi = [r["phi"] for r in phase if math.isfinite(r["phi"])]
        ratio = lr / statistics.median(ls) if ls else math.nan
        signal = statistics.median(phi) if phi else math.nan
        out.append({"best_over_line_search": ratio, "phi": signal,
                    "best_over_phi_line_search": ratio / signal if signal > 0 else math.nan,
                    "best_over_averaged_line_search": lr / averaged_rate(phase, "b", "a"),
                    "best_over_noise_rate": lr / averaged_rate(phase, "noise_numerator", "noise_curvature")})
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=pathlib.Path, default=HERE / "results" / "full" / "runs.csv")
    parser.add_argument("--out", type=pathlib.Path, required=True)
    parser.add_argument("--every", type=int, default=5, help="measure every this many steps (default 5)")
    parser.add_argument("--cells", nargs="*", help="task:optimizer (default: every cell of the benchmark)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    best = report.best_constants(read_runs(args.runs))
    cells = ([tuple(c.split(":")) for c in args.cells] if args.cells
             else [(t, o) for t, names in bench_tuning.DEFAULT_CELLS.items() for o in names])
    results = []
    lines = ["| cell | η* | η*/η_ls (0–10 / 10–50 / 50–100 %) | φ | η*/(φ·η_ls) | η*/η̄_ls | η*/η_noise |",
             "|---|---:|---|---|---|---|---|"]
    for task_name, optimizer_name in cells:
        lr = best[(task_name, optimizer_name, 1.0)]["lr"]
        phases = summary(measure(task_name, optimizer_name, lr, args.every), lr)
        results.append({"task": task_name, "optimizer": optimizer_name, "lr": lr, "phases": phases})

        def col(key):
            return " / ".join("–" if not math.isfinite(p[key]) else f"{p[key]:.3g}" for p in phases)

        lines.append(f"| {task_name} × {optimizer_name} | {lr:g} | {col('best_over_line_search')} | {col('phi')} | "
                     f"{col('best_over_phi_line_search')} | {col('best_over_averaged_line_search')} | "
                     f"{col('best_over_noise_rate')} |")
        print(lines[-1], flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    command = " ".join(["benchmarks/tuning/diagnose_rates.py"] + sys.argv[1:])
    (args.out / "tables.md").write_text(f"`{command}`\n\n" + "\n".join(lines) + "\n")
    (args.out / "results.json").write_text(json.dumps({"every": args.every, "cells": results}, indent=1))


if __name__ == "__main__":
    main()
