#!/usr/bin/env python3
"""Stop tuning the learning rate: ``auto`` against constants, a tuned grid and Prodigy.

The main job of libhessianlr (``make demo``). A small PyTorch MLP (64-64-10, ReLU, float32) on
scikit-learn's digits (1797 8×8 images, fixed stratified 75/25 split, standardised on the
training part), mini-batches of 64, the same initialisation and the same batch sequence for
every run of a seed, trained with two optimizers people use:

* **AdamW** (weight_decay 0.01) and **SGD with momentum 0.9**;
* **constant** rates from a start far too low and one far too high (what a user who guessed
  wrong gets), and a **grid** of constants (the best of which a tuning sweep would find);
* **auto** (``hessianlr.torch.LRTuner(optimizer, "auto")``) started from the same two wrong
  rates: a bracket search at the first step, then forward-loss quadratic models along the
  optimizer's previous update (no Hessian-vector products);
* **Prodigy** (``prodigyopt``, the learning-rate-free optimizer a user could pick instead), at
  its defaults (lr = 1.0, weight_decay 0.01 for the AdamW panel, 0 for the SGD panel).

It prints one table per optimizer (final full-training-set loss, its ratio to the best grid
constant, test accuracy, the forward passes auto added per step, the final rate), auto's wall
time per step over a constant's (A/B interleaved step by step) and a verdict computed from the
numbers, and writes ``demo_auto.png`` (loss
and learning-rate curves) and ``runs.csv`` into --out.

Usage: python examples/python/demo_auto.py --out build/demo [--steps 400] [--seeds 1]
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import statistics
import time

import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from hessianlr.torch import LRTuner

EVAL_EVERY = 10

#: Per optimizer: (name, the two wrong starts, the grid).
OPTIMIZERS = {
    "adamw": ((1e-5, 0.3), (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2)),
    "momentum": ((1e-4, 3.0), (3e-3, 1e-2, 3e-2, 1e-1, 3e-1)),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="examples/python/out", help="output directory (PNG and CSV)")
    parser.add_argument("--steps", type=int, default=400, help="optimizer steps per run (default 400)")
    parser.add_argument("--batch", type=int, default=64, help="mini-batch size (default 64)")
    parser.add_argument("--seeds", type=int, default=1, help="seeds (default 1)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    args = parser.parse_args(argv)
    for name in ("steps", "batch", "seeds", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1, got {getattr(args, name)}")
    return args


def load_data():
    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.data, digits.target, test_size=0.25, random_state=0, stratify=digits.target)
    scaler = StandardScaler().fit(x_train)
    as_x = lambda a: torch.tensor(scaler.transform(a), dtype=torch.float32)  # noqa: E731
    as_y = lambda a: torch.tensor(a, dtype=torch.long)  # noqa: E731
    return as_x(x_train), as_y(y_train), as_x(x_test), as_y(y_test)


def make_model(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))


def make_optimizer(kind: str, params, lr: float):
    if kind == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    return torch.optim.SGD(params, lr=lr, momentum=0.9)


def make_prodigy(kind: str, params):
    from prodigyopt import Prodigy  # pinned in bindings/python/requirements.txt

    return Prodigy(params, lr=1.0, weight_decay=0.01 if kind == "adamw" else 0.0)


def full_loss(model, x, y) -> float:
    with torch.no_grad():
        return float(torch.nn.functional.cross_entropy(model(x), y))


def train(kind: str, method: str, lr: float, seed: int, data, args) -> dict:
    """One run: ``method`` is "constant", "auto" or "prodigy"."""
    x_train, y_train, x_test, y_test = data
    model = make_model(seed)
    if method == "prodigy":
        optimizer = make_prodigy(kind, model.parameters())
    else:
        optimizer = make_optimizer(kind, model.parameters(), lr)
    driver = LRTuner(optimizer, "auto") if method == "auto" else None
    batches = torch.Generator().manual_seed(1000 + seed)
    n = x_train.shape[0]
    curve_steps, curve_loss, lrs = [], [], []
    diverged = False
    start = time.perf_counter()
    for step in range(args.steps):
        index = torch.randint(n, (args.batch,), generator=batches)
        x, y = x_train[index], y_train[index]
        if driver is None:
            optimizer.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
        else:
            closure = lambda: torch.nn.functional.cross_entropy(model(x), y)  # noqa: E731
            loss = closure()
            if math.isfinite(float(loss.detach())):
                driver.step(loss, closure=closure)  # the gradient, auto's probes, the rates
        if not math.isfinite(float(loss.detach())):
            diverged = True
            break
        group = optimizer.param_groups[0]
        # Prodigy's effective rate is d·lr (its adapted distance estimate times lr).
        lrs.append(float(group["lr"]) * float(group.get("d", 1.0)))
        optimizer.step()
        if (step + 1) % EVAL_EVERY == 0 or step == 0:
            curve_steps.append(step + 1)
            curve_loss.append(full_loss(model, x_train, y_train))
    wall = time.perf_counter() - start
    final = full_loss(model, x_train, y_train)
    diverged = diverged or not math.isfinite(final)
    with torch.no_grad():
        accuracy = float((model(x_test).argmax(dim=1) == y_test).float().mean())
    return {
        "optimizer": kind, "method": method, "initial_lr": lr, "seed": seed,
        "final_train_loss": math.nan if diverged else final,
        "test_accuracy": math.nan if diverged else accuracy,
        "diverged": diverged, "step_s": wall / max(len(lrs), 1),
        "forwards": driver.probe_count if driver else 0,
        "final_lr": lrs[-1] if lrs else math.nan,
        "curve_steps": curve_steps, "curve_loss": curve_loss, "lrs": lrs,
    }


def median(values):
    finite = [v for v in values if math.isfinite(v)]
    return statistics.median(finite) if finite else math.nan


def summarise(runs, kind):
    """Per (method, start): medians over seeds; the best grid constant."""
    rows = {}
    for r in runs:
        if r["optimizer"] == kind:
            rows.setdefault((r["method"], r["initial_lr"]), []).append(r)
    grid = {lr: median([r["final_train_loss"] for r in rows[("constant", lr)]]) for lr in OPTIMIZERS[kind][1]}
    best_lr = min(grid, key=lambda lr: grid[lr] if math.isfinite(grid[lr]) else math.inf)
    return rows, best_lr, grid[best_lr]


def overhead(kind: str, data, args) -> float:
    """Wall time per step of auto over a constant rate, A/B interleaved step by step in one
    process (the machine's noise hits both alike): two runs of the same model from the first
    wrong start, one step of each in turn; the sums of their step times."""
    x_train, y_train, _, _ = data
    lr = OPTIMIZERS[kind][0][0]
    models = [make_model(0), make_model(0)]
    optimizers = [make_optimizer(kind, m.parameters(), lr) for m in models]
    driver = LRTuner(optimizers[1], "auto")
    batches = torch.Generator().manual_seed(1000)
    elapsed = [0.0, 0.0]
    for _ in range(args.steps):
        index = torch.randint(x_train.shape[0], (args.batch,), generator=batches)
        x, y = x_train[index], y_train[index]
        for which in (0, 1):
            model, optimizer = models[which], optimizers[which]
            start = time.perf_counter()
            closure = lambda: torch.nn.functional.cross_entropy(model(x), y)  # noqa: E731
            loss = closure()
            if which == 0:
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
            else:
                driver.step(loss, closure=closure)
            optimizer.step()
            elapsed[which] += time.perf_counter() - start
    return elapsed[1] / elapsed[0]


def report(runs, args, overheads) -> str:
    lines = []
    verdicts = []
    for kind, (starts, grid_lrs) in OPTIMIZERS.items():
        rows, best_lr, best = summarise(runs, kind)
        lines.append(f"\n{kind}: best grid constant lr = {best_lr:g} (final train loss {best:.3g}; grid "
                     f"{', '.join(f'{lr:g}' for lr in grid_lrs)})")
        lines.append(f"{'method':<10} {'start':>8} {'final loss':>11} {'× best':>8} {'test acc':>9} "
                     f"{'fwd/step':>9} {'final lr':>9}")
        order = [("constant", lr) for lr in starts] + [("auto", lr) for lr in starts] + [("prodigy", 1.0)] + \
                [("constant", best_lr)]
        for method, lr in order:
            group = rows[(method, lr)]
            loss = median([r["final_train_loss"] for r in group])
            ratio = loss / best if math.isfinite(loss) else math.inf
            label = "best grid" if (method, lr) == ("constant", best_lr) else method
            diverged = sum(r["diverged"] for r in group)
            loss_text = f"{loss:11.3g}" if math.isfinite(loss) else f"{'diverged':>11}"
            lines.append(
                f"{label:<10} {lr:8.0e} {loss_text} {ratio:8.2f} "
                f"{median([r['test_accuracy'] for r in group]):9.3f} "
                f"{median([r['forwards'] for r in group]) / args.steps:9.2f} "
                f"{median([r['final_lr'] for r in group]):9.3g}" + (f"  ({diverged} diverged)" if diverged else ""))
        auto = {lr: median([r["final_train_loss"] for r in rows[("auto", lr)]]) / best for lr in starts}
        const = {lr: median([r["final_train_loss"] for r in rows[("constant", lr)]]) / best for lr in starts}
        prodigy = median([r["final_train_loss"] for r in rows[("prodigy", 1.0)]]) / best
        overhead = overheads[kind]
        worst_auto = max(auto.values())
        verdicts.append(
            f"{kind}: auto from {starts[0]:g} and {starts[1]:g} ends at "
            f"{' and '.join(f'{auto[lr]:.2g}×' for lr in starts)} the best grid constant's loss "
            f"({'within' if worst_auto <= 2 else 'NOT within'} 2×), where the constants at those starts end at "
            f"{' and '.join('diverged' if not math.isfinite(const[lr]) else f'{const[lr]:.3g}×' for lr in starts)}; "
            f"Prodigy at its defaults {prodigy:.2g}×; auto's time per step {overhead:.2f}× the constant's "
            "(A/B interleaved, all of auto's forward passes included).")
    return "\n".join(lines) + "\n\nVerdict (computed from this run):\n" + "\n".join(verdicts)


def plot(runs, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 8), sharex="col")
    for col, (kind, (starts, _)) in enumerate(OPTIMIZERS.items()):
        rows, best_lr, _ = summarise(runs, kind)
        series = [("constant", starts[0], "tab:blue", ":"), ("constant", starts[1], "tab:red", ":"),
                  ("auto", starts[0], "tab:blue", "-"), ("auto", starts[1], "tab:red", "-"),
                  ("constant", best_lr, "black", "--"), ("prodigy", 1.0, "tab:green", "-.")]
        for method, lr, color, style in series:
            run = rows[(method, lr)][0]
            label = f"best grid {lr:g}" if (method, lr) == ("constant", best_lr) else \
                ("Prodigy" if method == "prodigy" else f"{method} from {lr:g}")
            if run["curve_loss"]:
                axes[0][col].plot(run["curve_steps"], run["curve_loss"], style, color=color, label=label)
            if run["lrs"]:
                axes[1][col].plot(range(1, len(run["lrs"]) + 1), run["lrs"], style, color=color, label=label)
        axes[0][col].set_title(f"{kind}: training loss (full training set)")
        axes[0][col].set_yscale("log")
        axes[1][col].set_yscale("log")
        axes[1][col].set_title(f"{kind}: learning rate")
        axes[1][col].set_xlabel("step")
        axes[0][col].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    data = load_data()
    runs = []
    started = time.perf_counter()
    for kind in OPTIMIZERS:  # warm-up (first-call costs stay out of the timed runs)
        train(kind, "constant", 1e-3, 0, data, argparse.Namespace(**{**vars(args), "steps": 20}))
    for seed in range(args.seeds):
        for kind, (starts, grid_lrs) in OPTIMIZERS.items():
            for lr in sorted(set(starts) | set(grid_lrs)):
                runs.append(train(kind, "constant", lr, seed, data, args))
            for lr in starts:
                runs.append(train(kind, "auto", lr, seed, data, args))
            runs.append(train(kind, "prodigy", 1.0, seed, data, args))
    overheads = {kind: overhead(kind, data, args) for kind in OPTIMIZERS}
    text = report(runs, args, overheads)
    print(text)
    print(f"\n{len(runs)} runs of {args.steps} steps in {time.perf_counter() - started:.1f} s")
    plot(runs, os.path.join(args.out, "demo_auto.png"))
    with open(os.path.join(args.out, "runs.csv"), "w", newline="") as handle:
        fields = ["optimizer", "method", "initial_lr", "seed", "final_train_loss", "test_accuracy", "diverged",
                  "step_s", "forwards", "final_lr"]
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for r in runs:
            writer.writerow({k: r[k] for k in fields})
    print(f"wrote {os.path.join(args.out, 'demo_auto.png')} and runs.csv")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
