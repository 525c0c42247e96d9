#!/usr/bin/env python3
"""Sharpness diagnostic (a program, not a test): why CDAT σ=2 beats the best grid constant in
full batch on digits and not on diabetes.

Full batch, one seed, the benchmark's models and initial weights: the best grid constant of each
data set (as the benchmark finds it: digits 3, diabetes 0.3), CDAT σ=1 and CDAT σ=2 (library
defaults). Every ``--every`` steps, at the weights w_t before step t, it measures

- λ_max: the largest eigenvalue of the full-batch training-loss Hessian at w_t [loss/w²], by
  libhessianlr's Lanczos (``which="largest_algebraic"``, ``eigenvalue_tolerance=1e-6``) on the
  model's HVPs (``TorchOperator``);
- η_t: the rate step t then uses [w²/loss · loss/w² = 1/λ units], and η_t·λ_max (2 = the edge of
  stability of gradient descent on the local quadratic);
- the training loss L(w_t).

Usage: python benchmarks/training/sharpness.py [--out build/bench-training] [--steps 1500]
       [--every 50] [--seed 0]
Writes ``sharpness.md`` (the tables, also printed) and ``sharpness.png`` into --out.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

import datasets  # noqa: E402
import hessianlr  # noqa: E402
import loop  # noqa: E402
from hessianlr.torch_curvature import TorchOperator  # noqa: E402
from methods import METHODS, Context  # noqa: E402
from models import make_model  # noqa: E402

#: The best grid constant of each data set in the benchmark's recorded runs (results/tables.md).
BEST_CONSTANT = {"digits": 3.0, "diabetes": 0.3}
RUNS = (("constant", "best constant"), ("cdat1", "CDAT σ=1"), ("cdat2", "CDAT σ=2"))
LANCZOS = dict(which="largest_algebraic", eigenvalue_tolerance=1e-6)


def sharpness(model, d) -> tuple[float, int]:
    """λ_max of the full-batch training loss at the model's weights, and the HVPs it took."""
    with TorchOperator.from_model(model, d.loss_fn, d.x_train, d.y_train) as op:
        result = hessianlr.Lanczos(**LANCZOS).run_torch(op)
        return float(result.eigenvalues[0]), int(result.hvps)


def trace(dataset: str, method: str, steps: int, every: int, seed: int) -> list[dict]:
    """(step, loss, λ_max, η, η·λ_max) every ``every`` steps of one full-batch run."""
    torch.set_num_threads(1)
    d = loop.data(dataset)
    lr = BEST_CONSTANT[dataset]
    model = make_model(d.n_features, d.n_outputs, seed)
    ctx = Context(model, d.loss_fn, lr, steps, seed, datasets.probe_stream(d, None, seed))
    stepper = METHODS[method].build(ctx)
    rows = []
    for t in range(steps):
        measure = t % every == 0 or t == steps - 1
        if measure:
            lam, hvps = sharpness(model, d)
        loss = stepper.step(d.x_train, d.y_train)
        if measure:
            eta = float(stepper.rates[0])
            rows.append({"step": t, "loss": loss, "lambda_max": lam, "lr": eta, "edge": eta * lam, "hvps": hvps})
    stepper.close()
    return rows


def render(traces: dict) -> str:
    out = []
    for dataset, runs in traces.items():
        out.append(f"### {dataset}, full batch (best constant {BEST_CONSTANT[dataset]:g})\n")
        out.append("| step | " + " | ".join(f"{label}: loss / λ_max / η·λ_max" for _, label in RUNS) + " |")
        out.append("|---:|" + "---|" * len(RUNS))
        steps = [r["step"] for r in runs[RUNS[0][0]]]
        for i, step in enumerate(steps):
            if step not in (0, 50, 100, 250, 500, 750, 1000, 1250) and i != len(steps) - 1:
                continue
            cells = []
            for method, _ in RUNS:
                r = runs[method][i]
                cells.append(f"{r['loss']:.3g} / {r['lambda_max']:.3g} / {r['edge']:.2f}")
            out.append(f"| {step} | " + " | ".join(cells) + " |")
        out.append("")
        for method, label in RUNS:
            rs = runs[method]
            first, last = rs[0]["lambda_max"], rs[-1]["lambda_max"]
            late = [r["edge"] for r in rs[len(rs) // 2:]]
            out.append(f"- {label}: λ_max {first:.3g} → {last:.3g} ({last / first:.2g}×); η·λ_max over the "
                       f"second half: median {sorted(late)[len(late) // 2]:.2f}, range {min(late):.2f}–{max(late):.2f}")
        out.append("")
    return "\n".join(out)


def plot(traces: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(traces), 3, figsize=(15, 4 * len(traces)), squeeze=False)
    for row, (dataset, runs) in enumerate(traces.items()):
        for method, label in RUNS:
            rs = runs[method]
            steps = [r["step"] for r in rs]
            axes[row][0].semilogy(steps, [r["loss"] for r in rs], label=label)
            axes[row][1].semilogy(steps, [r["lambda_max"] for r in rs], label=label)
            axes[row][2].plot(steps, [r["edge"] for r in rs], label=label)
        axes[row][2].axhline(2.0, color="k", ls="--", lw=1, label="edge (2)")
        for col, title in enumerate(("train loss", "λ_max (full-batch Hessian)", "η·λ_max")):
            axes[row][col].set_title(f"{dataset}: {title}")
            axes[row][col].set_xlabel("step")
            axes[row][col].grid(alpha=0.3)
        axes[row][2].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="build/bench-training")
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--every", type=int, default=50)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    started = time.perf_counter()
    traces = {ds: {m: trace(ds, m, args.steps, args.every, args.seed) for m, _ in RUNS} for ds in BEST_CONSTANT}
    text = (f"## Sharpness along full-batch runs (seed {args.seed}, {args.steps} steps; λ_max by "
            f"libhessianlr Lanczos, eigenvalue_tolerance 1e-6)\n\nCells: train loss / λ_max / η·λ_max "
            f"at the weights before that step (η: the rate the step used; 2 = edge of stability).\n\n"
            + render(traces))
    with open(os.path.join(args.out, "sharpness.md"), "w") as f:
        f.write(text)
    plot(traces, os.path.join(args.out, "sharpness.png"))
    print(text)
    print(f"wrote {os.path.join(args.out, 'sharpness.md')}, sharpness.png; {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
