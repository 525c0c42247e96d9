#!/usr/bin/env python3
"""HessianLR vs constant learning rates: a small PyTorch MLP on scikit-learn's digits.

The main job of libhessianlr (``make demo``). For every initial learning rate of a grid and a few
seeds it trains the same MLP (64-32-10, ReLU, float32) with plain SGD on the same mini-batches
twice:

* ``constant``: the learning rate stays at its initial value;
* ``hessianlr``: ``hessianlr.torch.HessianLRScheduler`` starts from the same rate and every
  ``update_period`` steps measures s = gᵀg and c = gᵀHg on the current mini-batch (one
  Hessian-vector product), then moves the rate towards s/c (bounded, EMA-smoothed, clamped).

It prints a table (final full-train-set loss mean ± std over seeds, test accuracy, wall time,
HVPs), and writes into --out a PNG (train-loss and learning-rate curves), ``runs.csv`` (one row
per run) and ``curves.csv`` (per-step values). Nothing is tuned in favour of either method: the
data split, model, batches and step budget are fixed before either runs.

Usage: python examples/python/train_digits.py --out build/demo [--steps 600] [--seeds 3]
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import statistics
import sys
import time

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import hessianlr
from hessianlr.torch import HessianLRScheduler

EVAL_EVERY = 10


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="examples/python/out", help="output directory (PNG and CSVs)")
    parser.add_argument("--steps", type=int, default=600, help="SGD steps per run (default 600)")
    parser.add_argument("--batch", type=int, default=128, help="mini-batch size (default 128)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per configuration (default 3)")
    parser.add_argument("--lrs", type=float, nargs="+", default=[0.003, 0.03, 0.3], help="initial learning rates")
    parser.add_argument("--reference-lrs", type=float, nargs="*", default=[1.0],
                        help="extra constant-only rates (default 1.0 = HessianLR's lr_max, the rate it can reach)")
    parser.add_argument("--lr-max", type=float, default=1.0, help="HessianLR lr_max (default 1.0, the seed's)")
    parser.add_argument("--update-period", type=int, default=10, help="HessianLR update_period (default 10)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    args = parser.parse_args(argv)
    for name in ("steps", "batch", "seeds", "update_period", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    return args


def load_data():
    """Digits (1797 8×8 images, 10 classes): fixed stratified 75/25 split, standardised on train."""
    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.data, digits.target, test_size=0.25, random_state=0, stratify=digits.target)
    scaler = StandardScaler().fit(x_train)
    as_x = lambda a: torch.tensor(scaler.transform(a), dtype=torch.float32)  # noqa: E731
    as_y = lambda a: torch.tensor(a, dtype=torch.long)  # noqa: E731
    return as_x(x_train), as_y(y_train), as_x(x_test), as_y(y_test)


def make_model(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))


def full_loss(model, x, y) -> float:
    with torch.no_grad():
        return float(torch.nn.functional.cross_entropy(model(x), y))


def accuracy(model, x, y) -> float:
    with torch.no_grad():
        return float((model(x).argmax(dim=1) == y).float().mean())


def train(method: str, lr: float, seed: int, data, args, options: dict) -> dict:
    """One run; the mini-batch sequence depends only on the seed (same for both methods)."""
    x_train, y_train, x_test, y_test = data
    model = make_model(seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    scheduler = HessianLRScheduler(optimizer, **options) if method == "hessianlr" else None
    batches = torch.Generator().manual_seed(1000 + seed)
    n = x_train.shape[0]
    curve_steps, curve_loss, lrs = [], [], []
    candidates, flags = [], []  # per HessianLR update: raw s/c (NaN when c <= 0) and decision flags
    diverged = False
    start = time.perf_counter()
    for step in range(args.steps):
        index = torch.randint(n, (args.batch,), generator=batches)
        loss = torch.nn.functional.cross_entropy(model(x_train[index]), y_train[index])
        if not torch.isfinite(loss):
            diverged = True
            break
        if scheduler is None:
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
        else:
            measured = scheduler.wants_curvature()
            scheduler.step(loss)  # gradients into p.grad (+ one HVP on wanted steps), sets the lr
            if measured:
                candidates.append(scheduler.tuner.info(hessianlr.Info.LAST_CANDIDATE))
                flags.append(hessianlr.Flag(int(scheduler.tuner.info(hessianlr.Info.LAST_FLAGS))))
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        if (step + 1) % EVAL_EVERY == 0 or step == 0:
            curve_steps.append(step + 1)
            curve_loss.append(full_loss(model, x_train, y_train))
    wall = time.perf_counter() - start
    final = full_loss(model, x_train, y_train)
    if not math.isfinite(final):
        diverged = True
    result = {
        "method": method,
        "initial_lr": lr,
        "seed": seed,
        "final_train_loss": final if not diverged else math.nan,
        "test_accuracy": accuracy(model, x_test, y_test) if not diverged else math.nan,
        "wall_s": wall,
        "hvps": scheduler.hvp_count if scheduler else 0,
        "final_lr": lrs[-1] if lrs else math.nan,
        "diverged": diverged,
        "curve_steps": curve_steps,
        "curve_loss": curve_loss,
        "lrs": lrs,
        "candidates": candidates,
        "flags": flags,
    }
    if scheduler is not None:
        scheduler.close()
    return result


def mean_std(values):
    values = [v for v in values if math.isfinite(v)]
    if not values:
        return "diverged"
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f}"


def configurations(args):
    """(method, initial lr) pairs in table order: the grid for both methods, then the references."""
    pairs = [(method, lr) for lr in args.lrs for method in ("constant", "hessianlr")]
    return pairs + [("constant", lr) for lr in args.reference_lrs if lr not in args.lrs]


def print_table(runs, args, options):
    print()
    print(f"digits MLP 64-32-10, SGD, {args.steps} steps of batch {args.batch}, {args.seeds} seeds; "
          f"final loss = cross-entropy on the full training set (mean ± std over seeds)")
    print(f"HessianLR options: {options}; the rest at the seed's defaults (lr_bounds (0.3, 3.0), "
          f"smoothing_factor 0.9, lr_min 1e-8, negative_curvature_decay 0.5)")
    header = (f"{'method':<10} {'init lr':>8} {'final train loss':>18} {'test acc':>16} {'wall s':>7} "
              f"{'HVPs':>5} {'final lr':>9} {'median s/c':>10} {'c<=0':>5} {'at max':>6}")
    print(header)
    print("-" * len(header))
    for method, lr in configurations(args):
        group = [r for r in runs if r["method"] == method and r["initial_lr"] == lr]
        finals = [r["final_lr"] for r in group if math.isfinite(r["final_lr"])]
        line = (f"{method:<10} {lr:>8g} {mean_std([r['final_train_loss'] for r in group]):>18} "
                f"{mean_std([r['test_accuracy'] for r in group]):>16} "
                f"{statistics.mean(r['wall_s'] for r in group):>7.2f} "
                f"{statistics.mean(r['hvps'] for r in group):>5.0f} "
                f"{(statistics.mean(finals) if finals else math.nan):>9.4g}")
        if method == "hessianlr":
            candidates = [c for r in group for c in r["candidates"] if math.isfinite(c)]
            flags = [f for r in group for f in r["flags"]]
            negative = sum(bool(f & hessianlr.Flag.NEGATIVE_CURVATURE) for f in flags)
            at_max = sum(bool(f & hessianlr.Flag.CLAMPED_MAX) for f in flags)
            median = statistics.median(candidates) if candidates else math.nan
            line += f" {median:>10.3g} {negative / max(len(flags), 1):>5.0%} {at_max / max(len(flags), 1):>6.0%}"
        else:
            line += f" {'-':>10} {'-':>5} {'-':>6}"
        print(line)
    print("median s/c: raw candidate gᵀg/gᵀHg of the mini-batch at each update; c<=0: share of updates with "
          "non-positive curvature; at max: share of updates clamped to lr_max.")
    diverged = [r for r in runs if r["diverged"]]
    if diverged:
        print(f"diverged runs: {[(r['method'], r['initial_lr'], r['seed']) for r in diverged]}")


def write_csvs(runs, out):
    runs_path = os.path.join(out, "runs.csv")
    with open(runs_path, "w", newline="") as f:
        fields = ["method", "initial_lr", "seed", "final_train_loss", "test_accuracy", "wall_s", "hvps", "final_lr", "diverged"]
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for r in runs:
            writer.writerow({k: r[k] for k in fields})
    curves_path = os.path.join(out, "curves.csv")
    with open(curves_path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["method", "initial_lr", "seed", "step", "lr", "full_train_loss"])
        for r in runs:
            losses = dict(zip(r["curve_steps"], r["curve_loss"]))
            for step, lr in enumerate(r["lrs"], start=1):
                loss = losses.get(step, "")
                writer.writerow([r["method"], r["initial_lr"], r["seed"], step, lr, loss])
    return runs_path, curves_path


def plot(runs, args, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 8), sharex=True)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    rates_in_order = list(dict.fromkeys(lr for _, lr in configurations(args)))
    for method, lr in configurations(args):
        color = colors[rates_in_order.index(lr) % len(colors)]
        style = "--" if method == "constant" else "-"
        group = [r for r in runs if r["method"] == method and r["initial_lr"] == lr and not r["diverged"]]
        if not group:
            continue
        steps = group[0]["curve_steps"]
        loss = np.mean([r["curve_loss"] for r in group], axis=0)
        top.plot(steps, loss, style, color=color, label=f"{method} lr₀={lr:g}")
        rates = np.mean([r["lrs"] for r in group], axis=0)
        bottom.plot(np.arange(1, len(rates) + 1), rates, style, color=color, label=f"{method} lr₀={lr:g}")
    top.set_yscale("log")
    top.set_ylabel("full training loss (mean over seeds)")
    top.set_title(f"digits MLP, SGD batch {args.batch}: constant (dashed) vs HessianLR "
                  f"(solid, update_period {args.update_period}, lr_max {args.lr_max:g})")
    top.legend(fontsize=8, ncol=2)
    bottom.set_yscale("log")
    bottom.set_ylabel("learning rate (mean over seeds)")
    bottom.set_xlabel("step")
    fig.tight_layout()
    path = os.path.join(out, "train_digits.png")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    options = {"update_period": args.update_period, "lr_max": args.lr_max}
    print(f"hessianlr {hessianlr.__version__} (library {hessianlr.library_version} at {hessianlr.library_path}), "
          f"torch {torch.__version__}")
    data = load_data()
    print(f"digits: {data[0].shape[0]} train / {data[2].shape[0]} test samples, 64 standardised features")
    runs = []
    started = time.perf_counter()
    for method, lr in configurations(args):
        for seed in range(args.seeds):
            run = train(method, lr, seed, data, args, options)
            runs.append(run)
            print(f"  {method:<9} lr0={lr:<6g} seed={seed}  loss={run['final_train_loss']:.4f}  "
                  f"acc={run['test_accuracy']:.4f}  lr_end={run['final_lr']:.4g}  {run['wall_s']:.2f}s", flush=True)
    print_table(runs, args, options)
    runs_path, curves_path = write_csvs(runs, args.out)
    png = plot(runs, args, args.out)
    print(f"\nplot: {os.path.abspath(png)}")
    print(f"csv:  {os.path.abspath(runs_path)}, {os.path.abspath(curves_path)}")
    print(f"total time {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
