"""Overhead of ``hessianlr.torch.LRTuner`` per training step against plain training (issue 15,
item 5): every curvature path at period 10, A/B-interleaved step by step, medians and spread,
extra passes per step and peak memory. A program, not a test: it prints a table and writes
``tables.md``, ``results.json`` and ``overhead.png`` to ``--out``.

    .venv/bin/python benchmarks/overhead/bench_overhead.py --out benchmarks/overhead/results
    .venv/bin/python benchmarks/overhead/bench_overhead.py --quick --out build/bench-overhead-quick

One torch thread (``--threads``), float32. ``--device cuda`` keeps the models, data and the
driver's tensor work on the GPU (only scalars cross; each timed step synchronises the device).
See README.md next to this file for what is measured and a recorded run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402

import measure  # noqa: E402
import report  # noqa: E402
from steps import CONTROL  # noqa: E402
from workloads import MODELS, OPTIMIZERS, PATHS  # noqa: E402

QUICK = {"steps": 20, "warmup": 2}
FULL = {"steps": 400, "warmup": 20}
MEMORY_STEPS = 30
#: The configuration profiled in full runs (the driver's own cost on non-observation steps).
PROFILED = (("mlp", "adamw", "cdat-graph"), ("mlp", "adamw", "auto"))
PROFILE_STEPS = 400


def _args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="build/bench-overhead", help="output folder")
    p.add_argument("--quick", action="store_true",
                   help=f"{QUICK['steps']} kept steps per configuration, no memory processes, no profile")
    p.add_argument("--device", default="cpu", help="cpu or cuda (cuda[:N])")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--models", nargs="+", choices=sorted(MODELS), default=list(MODELS))
    p.add_argument("--optimizers", nargs="+", choices=sorted(OPTIMIZERS), default=list(OPTIMIZERS))
    p.add_argument("--paths", nargs="+", choices=[q.name for q in PATHS], default=[q.name for q in PATHS])
    p.add_argument("--no-control", action="store_true", help="skip the A/A control (plain vs plain)")
    p.add_argument("--steps", type=int, help="kept interleaved pairs per configuration")
    p.add_argument("--warmup", type=int, help="pairs run before the kept ones")
    p.add_argument("--memory", dest="memory", action="store_true", default=None,
                   help="peak memory in fresh processes (default: on, off with --quick)")
    p.add_argument("--no-memory", dest="memory", action="store_false")
    p.add_argument("--memory-steps", type=int, default=MEMORY_STEPS)
    p.add_argument("--profile", dest="profile", action="store_true", default=None,
                   help="cProfile of after_backward on non-observation steps (default: on, off with --quick)")
    p.add_argument("--no-profile", dest="profile", action="store_false")
    p.add_argument("--memory-child", nargs=3, metavar=("MODEL", "OPTIMIZER", "PATH"), help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = _args(argv)
    torch.set_num_threads(args.threads)
    # backward(create_graph=True) warns of the parameter ↔ gradient cycle; the driver breaks it
    # (it detaches p.grad after a graph step).
    warnings.filterwarnings("ignore", message="Using backward\\(\\) with create_graph=True")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("--device cuda: torch.cuda.is_available() is False on this machine")
    if args.memory_child:
        print(json.dumps(measure.peak_memory_child(*args.memory_child, args.device, args.memory_steps)))
        return 0
    plan = QUICK if args.quick else FULL
    steps = args.steps or plan["steps"]
    warmup = plan["warmup"] if args.warmup is None else args.warmup
    memory = (not args.quick) if args.memory is None else args.memory
    profile = (not args.quick) if args.profile is None else args.profile
    os.makedirs(args.out, exist_ok=True)
    began = time.time()
    results = []
    plain_peak = {}
    for model in args.models:
        for opt in args.optimizers:
            if memory:
                plain_peak[(model, opt)] = measure.peak_memory(
                    os.path.abspath(__file__), model, opt, "plain", args.device, args.memory_steps)
            for path in ([] if args.no_control else [CONTROL]) + args.paths:
                rows = measure.interleaved(model, opt, path, args.device, steps, warmup)
                rows["path"] = path
                r = {"model": model, "optimizer": opt, "path": path, "summary": report.summarise(rows),
                     "final_lr": rows["final_lr"], "on_device": rows.get("on_device"),
                     "diverged_at": rows["diverged_at"]}
                if memory:
                    peak = measure.peak_memory(os.path.abspath(__file__), model, opt, path, args.device,
                                               args.memory_steps)
                    r["memory_kind"] = peak["kind"]
                    r["memory_delta_bytes"] = peak["peak_bytes"] - plain_peak[(model, opt)]["peak_bytes"]
                    r["memory_plain_bytes"] = plain_peak[(model, opt)]["peak_bytes"]
                    glibc = {"heap_in_use_bytes": "memory_heap_in_use_delta_bytes",  # see measure._heap_retention
                             "rss_after_trim_bytes": "memory_rss_after_trim_delta_bytes"}
                    for key, field in glibc.items():
                        if key in peak and key in plain_peak[(model, opt)]:
                            r[field] = peak[key] - plain_peak[(model, opt)][key]
                results.append(r)
                s = r["summary"]
                c = s["cpu"]
                print(f"{model:4s} {opt:8s} {path:20s} plain {s['plain_cpu_ms']:6.2f} ms CPU  non-obs {c['non_obs'][0]:.3f}  "
                      f"obs {c['obs'][0]:.3f}  overall {c['overall']:.3f} (wall {s['wall']['overall']:.3f})", flush=True)
    profiles = []
    if profile:
        for model, opt, path in PROFILED:
            if model in args.models and opt in args.optimizers and path in args.paths:
                profiles.extend(measure.profile_driver(model, opt, path, args.device, PROFILE_STEPS))
    elapsed = time.time() - began
    command = "benchmarks/overhead/bench_overhead.py " + " ".join(sys.argv[1:] if argv is None else argv)
    setup = (f"device {args.device}, torch {torch.__version__}, {args.threads} thread(s), {steps} kept pairs "
             f"after {warmup} warm-up pairs per configuration, memory over {args.memory_steps} steps per process; "
             f"{elapsed:.0f} s")
    table = report.table(results)
    verdicts = report.targets(results)
    print("\n" + table + "\n\n" + verdicts)
    for text in profiles:
        print("\n" + text)
    with open(os.path.join(args.out, "tables.md"), "w") as f:
        f.write(f"# LRTuner overhead vs plain training\n\n`{command}` ({setup})\n\n{table}\n\n{verdicts}\n")
        for text in profiles:
            f.write(f"\n```\n{text.strip()}\n```\n")
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"command": command, "setup": setup, "results": results, "profiles": profiles}, f, indent=1)
    report.figure(results, os.path.join(args.out, "overhead.png"))
    print(f"\nwrote {args.out}/tables.md, results.json, overhead.png ({elapsed:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
