"""HVPs in blocks (issue 12, item 5): what `hvp_block` buys through the torch backend, side by side
with curvlinops 3.0.1, which applies its Hessian operator to all probes of a call as one matrix.

On the four models of `models.py` (a CNN, a logistic regression, a tanh MLP at initialisation, a
near-low-rank MLP; float64, their HVPs take about a millisecond, so per-call overhead matters),
at a budget of 100 HVPs:

- trace: ours `Hutchinson(samples=100)` and `XTrace(matvecs=100)` with hvp_block 1 (one backward
  per product, the default), 10 and the whole budget, vs curvlinops `hutchinson_trace` and
  `xtrace` (100 matvecs);
- diagonal: ours `Diagonal(samples=100)` with hvp_block 1, 10, 100 vs curvlinops
  `hutchinson_diag` (100 matvecs);
- spectral density: ours `SpectralDensity(runs=10, steps=10)` with hvp_block 1 (one run after
  another) and 10 (the ten runs in lockstep, one block of 10 products per Lanczos step) vs
  PyHessian 0.1's `density(iter=10, n_v=10)` (curvlinops has no SLQ), 100 HVPs each.

Each round runs every configuration once, in an order rotated from round to round (A/B
interleaved: the machine is shared); the tables give the median wall time over the rounds, its
ratio to hvp_block 1 and to the peer (curvlinops; PyHessian for the density), and the largest relative difference between our blocked
and one-at-a-time estimates (batched kernels round differently; the library's arithmetic is the
same bits given the same products, tested in C and Swift).

A program, not a test: prints the tables, writes `tables.md`, `results.json` and `blocks.png`
into --out. Run: `make bench-blocks` (see benchmarks/curvature/README.md).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import hessianlr as h  # noqa: E402

import models  # noqa: E402
import peers  # noqa: E402

BUDGET = 100
BLOCKS = (1, 10, BUDGET)
#: The spectral density's runs × steps (= BUDGET HVPs); hvp_block steps that many runs together.
SLQ_RUNS, SLQ_STEPS = 10, 10
PEERS = ("curvlinops", "pyhessian")


def log(message):
    print(message, file=sys.stderr, flush=True)


def configurations(model):
    """name -> (family, call returning (estimate, wall seconds)); estimate: a float or an array."""
    from curvlinops import HessianLinearOperator, hutchinson_diag, hutchinson_trace
    from curvlinops.trace.epperly2024xtrace import xtrace

    params = [p for p in model.model.parameters() if p.requires_grad]
    theirs = HessianLinearOperator(model.model, model.loss_fn, params, [(model.inputs, model.targets)])
    op = model.op

    def ours(make, pick):
        def call():
            result = make().run_torch(op)
            return pick(result), result.timing.wall
        return call

    def peer(function, convert):
        def call():
            torch.manual_seed(0)
            start = time.perf_counter()
            value = function(theirs, BUDGET)
            return convert(value), time.perf_counter() - start
        return call

    out = {}
    for block in BLOCKS:
        out[f"ours Hutchinson, hvp_block {block}"] = (
            "trace (Hutchinson)", ours(lambda b=block: h.Hutchinson(samples=BUDGET, hvp_block=b), lambda r: r.trace))
    out["curvlinops hutchinson_trace"] = ("trace (Hutchinson)", peer(hutchinson_trace, float))
    for block in BLOCKS:
        b = min(block, BUDGET // 2)
        out[f"ours XTrace, hvp_block {b}"] = (
            "trace (XTrace)", ours(lambda b=b: h.XTrace(matvecs=BUDGET, hvp_block=b), lambda r: r.trace))
    out["curvlinops xtrace"] = ("trace (XTrace)", peer(xtrace, float))
    for block in BLOCKS:
        out[f"ours Diagonal, hvp_block {block}"] = (
            "diagonal (Hutchinson)",
            ours(lambda b=block: h.Diagonal(samples=BUDGET, hvp_block=b), lambda r: r.diagonal.numpy().copy()))
    out["curvlinops hutchinson_diag"] = (
        "diagonal (Hutchinson)", peer(hutchinson_diag, lambda d: d.detach().numpy().copy()))
    for block in (1, SLQ_RUNS):
        out[f"ours SpectralDensity, hvp_block {block}"] = (
            "density (SLQ)",
            ours(lambda b=block: h.SpectralDensity(runs=SLQ_RUNS, steps=SLQ_STEPS, hvp_block=b),
                 lambda r: np.sort(np.concatenate(r.nodes))))
    pyhessian = peers.PyHessian(model)

    def pyhessian_density():
        nodes, _, _, wall = pyhessian.density(0, iterations=SLQ_STEPS, runs=SLQ_RUNS)
        return np.sort(np.concatenate(nodes)), wall
    out["pyhessian density"] = ("density (SLQ)", pyhessian_density)
    return out


def relative_difference(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def bench_model(name, rounds):
    model = models.build(name)
    log(f"{name}: n = {model.n}, {model.description}")
    configs = configurations(model)
    names = list(configs)
    for config in names:  # warm-up: imports, first-call allocations, autograd's caches
        configs[config][1]()
    walls = {config: [] for config in names}
    estimates = {}
    for round_ in range(rounds):
        order = names[round_ % len(names):] + names[:round_ % len(names)]
        for config in order:
            estimate, wall = configs[config][1]()
            walls[config].append(wall)
            estimates.setdefault(config, estimate)
    rows = []
    for config in names:
        family = configs[config][0]
        single = next(c for c in names if configs[c][0] == family and c.endswith("hvp_block 1"))
        peer = next(c for c in names if configs[c][0] == family and c.startswith(PEERS))
        median = float(np.median(walls[config]))
        rows.append({
            "config": config, "family": family, "median_ms": 1e3 * median,
            "vs_block_1": median / float(np.median(walls[single])),
            "vs_peer": median / float(np.median(walls[peer])),
            "difference_vs_block_1": (relative_difference(estimates[config], estimates[single])
                                      if config.startswith("ours") else None),
        })
    return {"name": name, "n": model.n, "description": model.description, "rounds": rounds, "rows": rows,
            "walls_ms": {c: [1e3 * w for w in walls[c]] for c in names}}


def tables(results) -> str:
    lines = []
    for model in results["models"]:
        lines += [f"### {model['name']} (n = {model['n']}): {model['description']}", "",
                  "| configuration | median ms | × hvp_block 1 | × peer | max rel. diff. vs hvp_block 1 |",
                  "|---|---:|---:|---:|---:|"]
        for row in model["rows"]:
            diff = "" if row["difference_vs_block_1"] is None else f"{row['difference_vs_block_1']:.1e}"
            single = "" if row["config"].startswith(PEERS) else f"{row['vs_block_1']:.2f}"
            lines.append(f"| {row['config']} | {row['median_ms']:.1f} | {single} | {row['vs_peer']:.2f} | {diff} |")
        lines.append("")
    return "\n".join(lines)


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results["models"]), figsize=(5 * len(results["models"]), 5), squeeze=False)
    for ax, model in zip(axes[0], results["models"]):
        rows = model["rows"]
        colors = ["tab:gray" if r["config"].startswith(PEERS) else "tab:blue" for r in rows]
        ax.barh(range(len(rows)), [r["median_ms"] for r in rows], color=colors)
        ax.set_yticks(range(len(rows)), [r["config"] for r in rows], fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel(f"median wall ms, {BUDGET} HVPs")
        ax.set_title(f"{model['name']} (n = {model['n']})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, required=True)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--models", nargs="+", default=list(models.NAMES), choices=models.NAMES)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)  # one core per run: the machine is shared, timings stay comparable
    results = {"budget": BUDGET, "blocks": list(BLOCKS), "torch": torch.__version__,
               "models": [bench_model(name, args.rounds) for name in args.models]}
    text = tables(results)
    print(text)
    (args.out / "tables.md").write_text(text + "\n")
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    plot(results, args.out / "blocks.png")
    log(f"wrote {args.out}/tables.md, results.json, blocks.png")


if __name__ == "__main__":
    main()
