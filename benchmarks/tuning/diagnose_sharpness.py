"""Sharpness along training at a constant rate, against heavy ball's edge of stability (issue 14).

A diagnostic program, not a test and not a method. The question it answers: would a λ_max guard
at the optimizer's edge of stability — the stability check that auto lacks — tell a good rate
from one that fails? For every cell (default: the two SGD-momentum cells whose misses the tuning
benchmark's README explains, mlp × momentum and cnn × momentum) it trains the cell's best grid
constant η* (of a recorded `runs.csv`, as `diagnose_rates.py`) and 3·η* — the range where the
line search from w_{t−1} put its rates on mlp × momentum (0.18–0.28 against η* = 0.1) — with the
benchmark's batches, seeds 0 and 1, and at the end of every epoch records:

- the training-set loss;
- λ_max, the largest eigenvalue of the Hessian of the whole training set's loss, by the
  library's Lanczos (`hessianlr.Lanczos(count=1)` on a `TorchOperator`, to its default
  accuracy);
- η·λ_max / edge with heavy ball's edge 2(1 + β) (torch's SGD form, no dampening; `OptimizerDynamics.edge`):
  below 1 the update is linearly stable along the top eigenvector of the full-batch Hessian;
- the same for mini-batch Hessians: the mean over the next `BATCH_SAMPLES` batches of the
  benchmark's order of η·λ_max(H_B) / edge, H_B the Hessian of one batch of 64 (what a step
  actually follows; SGD's linear stability depends on the batch Hessians, not only on their mean:
  Wu, Ma, E, NeurIPS 2018).

Prints one table per cell and writes `tables.md` and `results.json` into --out.

    .venv/bin/python benchmarks/tuning/diagnose_sharpness.py --out build/diagnose-sharpness
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

import torch

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import diagnose_rates  # noqa: E402
import optimizers  # noqa: E402
import report  # noqa: E402
import tasks  # noqa: E402
import hessianlr as h  # noqa: E402
from hessianlr.torch_curvature import TorchOperator  # noqa: E402

MULTIPLES = (1.0, 3.0)
SEEDS = (0, 1)
BATCH_SAMPLES = 4


def heavy_ball_edge(spec) -> float:
    """2(1 + β) for torch's heavy ball without dampening (the cells measured here)."""
    if spec.family != "sgd" or spec.nesterov or spec.momentum == 0:
        raise ValueError(f"{spec.name}: this diagnostic covers SGD with heavy-ball momentum only")
    return 2 * (1 + spec.momentum)


def lambda_max(model, loss_fn, inputs, targets) -> float:
    """λ_max of the Hessian of loss_fn(model(inputs), targets), by the library's Lanczos."""
    with TorchOperator.from_model(model, loss_fn, inputs, targets) as op:
        return float(h.Lanczos(count=1).run_torch(op).eigenvalues[0])


def trace(task_name: str, optimizer_name: str, lr: float, seed: int) -> list[dict]:
    """Per epoch: training-set loss, λ_max of its Hessian and the mean λ_max of the next batches'."""
    task = tasks.load(task_name)
    model = task.make_model(seed)
    params = [p for p in model.parameters() if p.requires_grad]
    spec = optimizers.OPTIMIZERS[optimizer_name]
    optimizer = spec.make(params, lr)
    steps = task.base_epochs * task.steps_per_epoch
    order = tasks.batch_order(task, seed, steps)
    rows = []
    for t in range(steps):
        x, y = task.x_train[order[t]], task.y_train[order[t]]
        optimizer.zero_grad(set_to_none=True)
        task.loss_fn(model(x), y).backward()
        optimizer.step()
        if (t + 1) % task.steps_per_epoch == 0:
            with torch.no_grad():
                loss = float(task.loss_fn(model(task.x_train), task.y_train))
            row = {"epoch": (t + 1) // task.steps_per_epoch, "loss": loss, "lambda_max": float("nan"),
                   "batch_lambda_max": float("nan")}
            if loss == loss and loss < float("inf"):
                row["lambda_max"] = lambda_max(model, task.loss_fn, task.x_train, task.y_train)
                batches = [order[(t + 1 + b) % steps] for b in range(BATCH_SAMPLES)]
                row["batch_lambda_max"] = sum(
                    lambda_max(model, task.loss_fn, task.x_train[i], task.y_train[i]) for i in batches) / BATCH_SAMPLES
            rows.append(row)
            if not loss < 1e3:
                break
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=pathlib.Path, default=HERE / "results" / "full" / "runs.csv")
    parser.add_argument("--out", type=pathlib.Path, required=True)
    parser.add_argument("--cells", nargs="*", default=["mlp:momentum", "cnn:momentum"], help="task:optimizer")
    args = parser.parse_args()
    torch.set_num_threads(1)
    best = report.best_constants(diagnose_rates.read_runs(args.runs))
    command = " ".join(["benchmarks/tuning/diagnose_sharpness.py"] + sys.argv[1:])
    lines, results = [f"`{command}`", ""], []
    for cell in args.cells:
        task_name, optimizer_name = cell.split(":")
        edge = heavy_ball_edge(optimizers.OPTIMIZERS[optimizer_name])
        best_lr = best[(task_name, optimizer_name, 1.0)]["lr"]
        runs = {(m, s): trace(task_name, optimizer_name, m * best_lr, s) for m in MULTIPLES for s in SEEDS}
        results.append({"task": task_name, "optimizer": optimizer_name, "best_lr": best_lr, "edge": edge,
                        "runs": [{"lr": m * best_lr, "seed": s, "epochs": rows} for (m, s), rows in runs.items()]})
        header = " | ".join(f"η = {m:g}·η*, seed {s}: loss, η·λ_max/edge (full / batch)" for m in MULTIPLES for s in SEEDS)
        lines += [f"### {task_name} × {optimizer_name}: η* = {best_lr:g}, edge 2(1 + β) = {edge:g}", "",
                  f"| epoch | {header} |", "|---:|" + "---|" * len(runs)]
        epochs = max(len(rows) for rows in runs.values())
        for e in range(epochs):
            cells = []
            for (m, s), rows in runs.items():
                if e < len(rows):
                    r = rows[e]
                    cells.append(f"{r['loss']:.3g}, {m * best_lr * r['lambda_max'] / edge:.2f} / "
                                 f"{m * best_lr * r['batch_lambda_max'] / edge:.2f}")
                else:
                    cells.append("–")
            lines.append(f"| {e + 1} | " + " | ".join(cells) + " |")
        lines.append("")
        print("\n".join(lines[-(epochs + 4):]), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "tables.md").write_text("\n".join(lines) + "\n")
    (args.out / "results.json").write_text(json.dumps({"cells": results}, indent=1))


if __name__ == "__main__":
    main()
