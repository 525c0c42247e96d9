#!/usr/bin/env python3
"""Training-outcome benchmark (issue 5): constant grid, cosine, HyperbolicLR, GeN (gen-optim)
and libhessianlr's rules (HessianLR, CDAT σ=1/2, GeN, Hi-DLR bias/weights and per layer), side by
side in one run, on scikit-learn's digits and diabetes, full batch and mini-batch, several seeds.

Usage: python benchmarks/training/bench_training.py [--out build/bench-training] [--quick]
       [--jobs 2] [--seeds N] [--steps N] [--no-ablation] [--from-results results.json]

Writes into --out: tables.md (also printed), runs.csv, results.json (every run with its curves),
loss_<setting>.png, lr_<setting>.png, sensitivity.png. See README.md next to this file.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import multiprocessing
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # benchkit

from benchkit.records import load_results, save_results, write_tables  # noqa: E402

import gen_optim_audit  # noqa: E402
import loop  # noqa: E402
import plots  # noqa: E402
import report  # noqa: E402
from plan import make_plan  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="build/bench-training", help="output directory")
    p.add_argument("--quick", action="store_true", help="smoke run: 100 steps, 1 seed, no ablation (~1-2 min)")
    p.add_argument("--jobs", type=int, default=2, help="worker processes, 1 torch thread each (default 2)")
    p.add_argument("--seeds", type=int, default=None, help="seeds (default 3; 1 with --quick)")
    p.add_argument("--steps", type=int, default=None, help="steps per run, both regimes (default 1500)")
    p.add_argument("--no-ablation", action="store_true", help="skip the lr_max ablation on digits (HessianLR without ceiling, CDAT σ=2 with ceiling 1)")
    p.add_argument("--from-results", default=None, help="re-render tables and plots from a results.json")
    return p.parse_args(argv)


def _environment() -> dict:
    import numpy
    import sklearn
    import torch

    import hessianlr

    try:
        from importlib.metadata import version

        gen = version("gen-optim")
    except Exception:  # noqa: BLE001
        gen = "missing"
    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "torch": torch.__version__, "numpy": numpy.__version__, "scikit-learn": sklearn.__version__,
            "gen-optim": gen, "hessianlr": hessianlr.__version__, "library": hessianlr.library_version}



def _work(task):
    setting, method, lr, seed = task
    return loop.run(setting, method, lr, seed)


def run_all(plan, jobs: int) -> list[dict]:
    tasks = plan.tasks()
    print(f"{len(tasks)} runs on {jobs} worker(s)", flush=True)
    runs, started = [], time.perf_counter()
    ctx = multiprocessing.get_context("fork")
    with cf.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        for i, result in enumerate(pool.map(_work, tasks, chunksize=1), start=1):
            runs.append(result)
            if i % 25 == 0 or i == len(tasks):
                print(f"  {i}/{len(tasks)} runs, {time.perf_counter() - started:.0f} s", flush=True)
    return runs


def main(argv=None) -> int:
    args = parse_args(argv)
    plan = make_plan(args.quick, args.seeds, args.steps, args.steps, ablate_lr_max=not args.no_ablation)
    os.makedirs(args.out, exist_ok=True)
    started = time.perf_counter()
    if args.from_results:
        saved = load_results(args.from_results)
        runs, env = saved["runs"], saved["environment"]
    else:
        env = _environment()
        print(" ".join(f"{k} {v}" for k, v in env.items()), flush=True)
        runs = run_all(plan, args.jobs)
        env["total_wall_s"] = round(time.perf_counter() - started, 1)
        env["jobs"] = args.jobs
        save_results(args.out, {"environment": env, "runs": runs})
    text = report.render(runs, plan) + "\n" + gen_optim_audit.run()
    header = (f"# Training benchmark results\n\nEnvironment: {', '.join(f'{k} {v}' for k, v in env.items())}\n\n"
              f"Plan: {len(plan.seeds)} seeds, {plan.settings[0].steps} steps per run, mini-batch "
              f"{next((s.batch for s in plan.settings if s.batch), '-')}, grid {list(plan.grid)}, "
              f"initial lrs {list(plan.initial_lrs)}.\n\n")
    tables = write_tables(args.out, header + text)
    report.write_runs_csv(runs, os.path.join(args.out, "runs.csv"))
    print(text)
    paths = plots.curves(runs, plan, args.out) + [plots.sensitivity(runs, plan, args.out)]
    print("figures: " + ", ".join(os.path.relpath(p) for p in paths))
    print(f"tables: {os.path.relpath(tables)}; total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
