#!/usr/bin/env python3
"""Tuning benchmark (issue 14): does a learning-rate method run at its defaults, from a start far
from the tuned rate, land near the best tuned constant? Five tasks (MLP, CNN, MLP regression,
tiny transformer, logistic regression), mini-batch 64, several seeds, five torch optimizers, three
epoch budgets; constant grid, cosine / warmup+cosine / HyperbolicLR from the best grid rate,
libhessianlr's rules through LRTuner from a 10⁴-wide start set, and PyPI peers (Prodigy,
D-Adaptation, schedule-free, gen-optim) at their defaults.

Usage: python benchmarks/tuning/bench_tuning.py --out DIR [--quick] [--jobs N] [--seeds N]
       [--tasks ...] [--optimizers ...] [--methods ...] [--from-results DIR/results.json]

Writes into --out: tables.md (also printed), runs.csv, results.json (every run with its traces),
loss_<task>_<optimizer>.png and lr_<task>_<optimizer>.png. See README.md next to this file.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import multiprocessing
import os
import platform
import sys
import time
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # benchkit

from benchkit.records import load_results, save_results, write_tables  # noqa: E402

import loop  # noqa: E402
import plots  # noqa: E402
import report  # noqa: E402
import tasks as tasks_mod  # noqa: E402
from methods import METHODS, SCHEDULES, library_methods  # noqa: E402
from optimizers import GRID, OPTIMIZERS, STARTS  # noqa: E402

#: The default plan: the optimizers run on each task. Every task has an SGD-family and an
#: Adam-family optimizer; every optimizer runs on at least two tasks.
DEFAULT_CELLS = {
    "mlp": ("sgd", "momentum", "nesterov", "adam", "adamw"),
    "logistic": ("sgd", "momentum", "nesterov", "adam", "adamw"),
    "cnn": ("momentum", "adam"),
    "regression": ("sgd", "adam"),
    "transformer": ("momentum", "adamw"),
}
BUDGETS = (0.25, 0.5, 1.0)
SEEDS = 3
QUICK = {"tasks": ("mlp", "logistic"), "optimizers": ("momentum", "adam"), "epochs": {"mlp": 6, "logistic": 10},
         "seeds": 1, "start_positions": (0, 2, 4)}
#: Relative cost of a step per method (for ordering the runs, longest first; not a measurement).
COST = {"cdat": 3.2, "auto": 3.0, "gen_optim": 1.6, "gen": 1.4, "hidlr": 1.3, "hessianlr": 1.3}
TASK_COST = {"transformer": 12.0, "cnn": 4.0, "mlp": 1.0, "regression": 1.0, "logistic": 0.4}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: mlp and logistic, momentum and adam, 6 / 10 base epochs, 1 seed, 3 starts (lowest, middle, highest)")
    p.add_argument("--jobs", type=int, default=2, help="worker processes, 1 torch thread each (default 2)")
    p.add_argument("--seeds", type=int, default=None, help=f"seeds 0 … N−1 (default {SEEDS}; 1 with --quick)")
    p.add_argument("--tasks", nargs="+", choices=tasks_mod.NAMES, help="only these tasks")
    p.add_argument("--optimizers", nargs="+", choices=list(OPTIMIZERS),
                   help="run these optimizers on every selected task (default: the plan's cells)")
    p.add_argument("--methods", nargs="+", help="only these methods (constant is always run: it is the reference)")
    p.add_argument("--from-results", default=None, help="re-render tables and figures from a results.json")
    return p.parse_args(argv)


def make_plan(args) -> dict:
    tasks = list(args.tasks or (QUICK["tasks"] if args.quick else DEFAULT_CELLS))
    cells = []
    for t in tasks:
        opts = args.optimizers or (QUICK["optimizers"] if args.quick else DEFAULT_CELLS[t])
        cells += [(t, o) for o in opts]
    methods = list(METHODS) if not args.methods else [m for m in METHODS if m in args.methods]
    unknown = set(args.methods or ()) - set(METHODS)
    if unknown:
        raise SystemExit(f"unknown method(s) {sorted(unknown)}; known: {', '.join(METHODS)}")
    if "constant" not in methods:
        methods.insert(0, "constant")
    epochs = {t: (QUICK["epochs"].get(t, 4) if args.quick else tasks_mod.load(t).base_epochs) for t in tasks}
    seeds = args.seeds or (QUICK["seeds"] if args.quick else SEEDS)
    starts = {f: [s[i] for i in QUICK["start_positions"]] if args.quick else list(s) for f, s in STARTS.items()}
    return {"cells": cells, "methods": methods, "library": library_methods(), "budgets": list(BUDGETS),
            "seeds": list(range(seeds)), "base_epochs": epochs, "grid": {k: list(v) for k, v in GRID.items()},
            "starts": starts, "quick": bool(args.quick)}


def jobs_of(plan) -> list[dict]:
    """Every run except the schedules (they need the best grid constant first)."""
    out = []
    for task, opt in plan["cells"]:
        fam = OPTIMIZERS[opt].family
        for budget in plan["budgets"]:
            for seed in plan["seeds"]:
                base = {"task": task, "optimizer": opt, "budget": budget, "seed": seed,
                        "base_epochs": plan["base_epochs"][task]}
                for m in plan["methods"]:
                    kind = METHODS[m].kind
                    if kind == "grid":
                        out += [{**base, "method": m, "lr0": lr} for lr in plan["grid"][fam]]
                    elif kind in ("library", "peer_start"):
                        out += [{**base, "method": m, "lr0": lr} for lr in plan["starts"][fam]]
                    elif kind == "peer":
                        out.append({**base, "method": m, "lr0": None})
    return out


def _cost(job) -> float:
    return TASK_COST.get(job["task"], 1.0) * job["budget"] * job["base_epochs"] * COST.get(job["method"], 1.0)



def _work(job):
    return loop.run(job)


def run_all(plan, n_jobs: int) -> list[dict]:
    """Grid runs first (expensive tasks first), then everything else longest first; the three
    schedules of a task × optimizer × budget are queued (at the front) as soon as all its grid
    runs, every seed, are done and its best constant is known."""
    jobs = jobs_of(plan)
    grid = sorted([j for j in jobs if j["method"] == "constant"], key=lambda j: -_cost(j))
    rest = sorted([j for j in jobs if j["method"] != "constant"], key=lambda j: -_cost(j))
    schedules = [m for m in plan["methods"] if m in SCHEDULES]
    pending = grid + rest
    grid_left = defaultdict(int)
    for j in grid:
        grid_left[(j["task"], j["optimizer"], j["budget"])] += 1
    total = len(jobs) + len(schedules) * len({(j["task"], j["optimizer"], j["budget"], j["seed"]) for j in grid})
    print(f"{total} runs on {n_jobs} worker(s)", flush=True)
    runs, started, done = [], time.perf_counter(), 0
    ctx = multiprocessing.get_context("fork")
    with cf.ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx) as pool:
        running = {}
        while pending or running:
            while pending and len(running) < 2 * n_jobs:
                job = pending.pop(0)
                running[pool.submit(_work, job)] = job
            finished, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            for fut in finished:
                job = running.pop(fut)
                result = fut.result()
                result["base_epochs"] = job["base_epochs"]
                runs.append(result)
                done += 1
                if done % 100 == 0 or done == total:
                    print(f"  {done}/{total} runs, {time.perf_counter() - started:.0f} s", flush=True)
                if job["method"] != "constant":
                    continue
                cell = (job["task"], job["optimizer"], job["budget"])
                grid_left[cell] -= 1
                if grid_left[cell] == 0 and schedules:
                    best = report.best_constants([r for r in runs if (r["task"], r["optimizer"], r["budget"]) == cell])
                    b = best.get(cell)
                    if b is None:
                        print(f"  {cell}: every grid rate failed, no schedules", flush=True)
                        continue
                    new = [{"task": cell[0], "optimizer": cell[1], "budget": cell[2], "seed": s,
                            "base_epochs": job["base_epochs"], "method": m, "lr0": b["lr"]}
                           for m in schedules for s in plan["seeds"]]
                    pending[:0] = new
    return runs


def _environment() -> dict:
    from importlib.metadata import version

    import numpy
    import sklearn
    import torch

    import hessianlr

    env = {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
           "torch": torch.__version__, "numpy": numpy.__version__, "scikit-learn": sklearn.__version__,
           "hessianlr": hessianlr.__version__, "library": getattr(hessianlr, "library_version", "?"),
           "hessianlr.Method": ",".join(hessianlr.Method.__members__)}
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        import subprocess

        head = subprocess.run(["git", "-C", repo, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", repo, "status", "--porcelain", "--", "Sources", "include", "bindings/python/hessianlr"],
                               capture_output=True, text=True).stdout.strip()
        env["git"] = head + (" (library sources modified)" if dirty else "")
    except Exception:  # noqa: BLE001
        env["git"] = "?"
    try:
        so = str(hessianlr.library_path)
        env["libhessianlr.so mtime"] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(os.path.getmtime(so))) + " UTC"
    except OSError:
        pass
    for pkg in ("prodigyopt", "dadaptation", "schedulefree", "gen-optim", "scipy"):
        try:
            env[pkg] = version(pkg)
        except Exception:  # noqa: BLE001
            env[pkg] = "missing"
    return env


def task_info(names) -> dict:
    out = {}
    for name in names:
        t = tasks_mod.load(name)
        extra = ""
        if t.bayes_accuracy is not None:
            extra = f" Bayes-optimal test accuracy {t.bayes_accuracy:.1f}%."
        if t.noise_floor is not None:
            extra = f" Noise floor of the test MSE {t.noise_floor:g}."
        out[name] = {"metric": t.metric, "steps_per_epoch": t.steps_per_epoch,
                     "summary": f"Task: {t.description}; {t.steps_per_epoch} steps per epoch.{extra}"}
    return out


def main(argv=None) -> int:
    args = parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    started = time.perf_counter()
    if args.from_results:
        saved = load_results(args.from_results)
        runs, env, plan = saved["runs"], saved["environment"], saved["plan"]
        plan["cells"] = [tuple(c) for c in plan["cells"]]
    else:
        plan = make_plan(args)
        env = _environment()
        print(" ".join(f"{k} {v}" for k, v in env.items()), flush=True)
        print(f"library rules: {', '.join(plan['library'])}" + ("" if "auto" in plan["library"] else
              " (hessianlr.Method has no AUTO in this build: 'auto' not run)"), flush=True)
        runs = run_all(plan, args.jobs)
        env["total_wall_s"] = round(time.perf_counter() - started, 1)
        env["jobs"] = args.jobs
        save_results(args.out, {"environment": env, "plan": plan, "runs": runs})
    info = task_info(sorted({t for t, _ in plan["cells"]}))
    text = report.render(runs, plan, info)
    budgets = ", ".join(report.BUDGET_LABELS.get(b, str(b)) for b in plan["budgets"])
    header = (f"# Tuning benchmark results{' (--quick)' if plan.get('quick') else ''}\n\n"
              f"Environment: {', '.join(f'{k} {v}' for k, v in env.items())}\n\n"
              f"Plan: {len(plan['cells'])} task × optimizer cells ({', '.join(f'{t}×{o}' for t, o in plan['cells'])}); "
              f"seeds {plan['seeds']}; budgets {budgets} of the base epochs "
              f"({', '.join(f'{t} {e}' for t, e in plan['base_epochs'].items())}); mini-batch {tasks_mod.BATCH}; "
              f"grid {plan['grid']}; starts {plan['starts']}; library rules {plan['library']}; "
              f"{len(runs)} runs.\n\n")
    tables = write_tables(args.out, header + text)
    report.write_runs_csv(runs, os.path.join(args.out, "runs.csv"))
    print(header + text)
    paths = plots.figures(runs, plan, args.out)
    print(f"figures: {len(paths)} in {args.out}; tables: {tables}; total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
