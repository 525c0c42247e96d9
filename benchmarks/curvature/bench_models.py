"""Estimators on four more kinds of model (a CNN, a convex logistic regression, an indefinite tanh MLP
at initialisation, a near-low-rank fitted MLP; `models.py`), each with its exact dense Hessian,
side by side with the peers from PyPI in one run:

- top eigenvalue (largest magnitude): ours `Lanczos` (default stop, and eigenvalue_tolerance 1e-6)
  vs PyHessian 0.1 `eigenvalues` (power iteration, its defaults) vs hessian-eigenthings 1.0.0a5
  `lanczos` (its defaults, and max_iter 40) and `deflated_power_iteration` (its defaults);
- trace at budgets 30 / 99 / 300 HVPs: ours `Hutchinson`, `HutchPlusPlus`, `XTrace` vs curvlinops
  3.0.1 `hutchinson_trace`, `hutchpp_trace`, `xtrace` vs hessian-eigenthings `trace` (hutchinson,
  hutch++); plus the coverage of our reported standard errors (share of seeds whose true error is
  within 1 and 2 standard errors; nominal 68% / 95%);
- diagonal at equal budgets 30 / 98 / 300 HVPs (even: curvlinops' `xdiag` needs one): ours
  `Diagonal` and `XDiag` vs curvlinops `hutchinson_diag` and `xdiag`, relative L2 error; plus the
  coverage of our per-block standard errors of the block means (one block per parameter tensor,
  `op.offsets`; pooled over blocks and seeds).

A program, not a test: prints the tables, writes `tables.md`, `results.json` and `models.png`
into --out. Run: `make bench-models` (see benchmarks/curvature/README.md).
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

BUDGETS = (30, 99, 300)
DIAG_BUDGETS = (30, 98, 300)


def log(message):
    print(message, file=sys.stderr, flush=True)


def median(values):
    return float(np.median(values)) if len(values) else float("nan")


class Eigenthings:
    """hessian-eigenthings as its README calls it: a HessianOperator over a one-batch loader."""

    def __init__(self, m):
        import hessian_eigenthings as he

        self.he = he
        self.operator = he.HessianOperator(m.model, [(m.inputs, m.targets)], he.supervised_loss(m.loss_fn))
        self.hvps = 0
        original = self.operator.matvec

        def counted(v):
            self.hvps += 1
            return original(v)

        self.operator.matvec = counted

    def run(self, function, **kwargs):
        self.hvps = 0
        start = time.perf_counter()
        out = function(self.operator, **kwargs)
        return out, self.hvps, time.perf_counter() - start


def top_eigenvalue(m, seeds, py, eg):
    exact = float(m.eigenvalues[np.argmax(np.abs(m.eigenvalues))])
    rows = {}

    def record(label, runs):
        errors = [abs(v - exact) / abs(exact) for v, _, _ in runs]
        rows[label] = {"median_rel_error": median(errors), "max_rel_error": float(np.max(errors)),
                       "median_hvps": median([k for _, k, _ in runs]), "median_seconds": median([t for _, _, t in runs])}

    def ours(**kw):
        out = []
        for s in seeds:
            start = time.perf_counter()
            r = h.Lanczos(which="largest_magnitude", seed=s, **kw).run_torch(m.op)
            out.append((float(r.eigenvalues[0]), r.hvps, time.perf_counter() - start))
        return out

    record("ours Lanczos (default stop)", ours())
    record("ours Lanczos (eigenvalue_tolerance 1e-6)", ours(eigenvalue_tolerance=1e-6))
    record("PyHessian eigenvalues (defaults: maxIter 100, tol 1e-3)", [py.lambda_max(1000 + s)[:3] for s in seeds])

    def eigenthings(function, **kw):
        out = []
        for s in seeds:
            r, k, t = eg.run(function, seed=1000 + s, **kw)
            out.append((float(r.eigenvalues[0]), k, t))
        return out

    record("eigenthings lanczos (defaults: k 1 → max_iter 2, tol 1e-4)",
           eigenthings(eg.he.lanczos, k=1, which="LM"))
    record("eigenthings lanczos (max_iter 40)", eigenthings(eg.he.lanczos, k=1, which="LM", max_iter=40))
    record("eigenthings deflated_power_iteration (defaults: max_iter 100, tol 1e-4)",
           eigenthings(eg.he.deflated_power_iteration, k=1))
    return exact, rows


def traces(m, seeds, cl, eg):
    exact = m.trace
    rows = {}
    coverage = {}
    for budget in BUDGETS:
        ours = {
            "ours Hutchinson": lambda s: h.Hutchinson(samples=budget, seed=s),
            "ours Hutch++": lambda s: h.HutchPlusPlus(matvecs=budget, seed=s),
            "ours XTrace": lambda s: h.XTrace(matvecs=2 * (budget // 2), seed=s),
        }
        for label, make in ours.items():
            runs = [make(s).run_torch(m.op) for s in seeds]
            errors = [abs(r.trace - exact) for r in runs]
            rows.setdefault(label, {})[budget] = {
                "median_rel_error": median([e / abs(exact) for e in errors]),
                "median_hvps": median([r.hvps for r in runs])}
            se = [r.standard_error for r in runs]
            coverage.setdefault(label, {})[budget] = {
                "within_1se": float(np.mean([e <= s for e, s in zip(errors, se)])),
                "within_2se": float(np.mean([e <= 2 * s for e, s in zip(errors, se)]))}
        for label, function in (("curvlinops hutchinson_trace", cl.hutchinson), ("curvlinops hutchpp_trace", cl.hutchpp),
                                ("curvlinops xtrace", cl.xtrace)):
            runs = [function(1000 + s, budget) for s in seeds]
            rows.setdefault(label, {})[budget] = {
                "median_rel_error": median([abs(v - exact) / abs(exact) for v, _, _ in runs]),
                "median_hvps": median([k for _, k, _ in runs])}
        for label, method in (("eigenthings trace hutchinson", "hutchinson"), ("eigenthings trace hutch++", "hutch++")):
            runs = [eg.run(eg.he.trace, num_matvecs=budget, method=method, seed=1000 + s) for s in seeds]
            rows.setdefault(label, {})[budget] = {
                "median_rel_error": median([abs(r.estimate - exact) / abs(exact) for r, _, _ in runs]),
                "median_hvps": median([k for _, k, _ in runs])}
    return exact, rows, coverage


def diagonals(m, seeds, cl):
    from curvlinops import hutchinson_diag
    from curvlinops.diagonal.epperly2024xtrace import xdiag

    exact = m.diagonal
    norm = np.linalg.norm(exact)
    offsets = m.op.offsets
    block_truth = np.array([exact[a:b].mean() for a, b in zip(offsets[:-1], offsets[1:])])
    rows = {}
    coverage = {}

    def record(label, budget, estimates):
        rows.setdefault(label, {})[budget] = {
            "median_rel_l2_error": median([np.linalg.norm(e - exact) / norm for e in estimates])}

    def host(result):
        d = result.diagonal
        return d.detach().numpy() if isinstance(d, torch.Tensor) else np.asarray(d)

    def ours(label, budget, make):
        runs = [make(s).run_torch(m.op) for s in seeds]
        record(label, budget, [host(r) for r in runs])
        misses = np.concatenate([np.abs(r.block_means - block_truth) for r in runs])
        errors = np.concatenate([r.block_mean_errors for r in runs])
        coverage.setdefault(label, {})[budget] = {
            "within_1se": float(np.mean(misses <= errors)), "within_2se": float(np.mean(misses <= 2 * errors))}

    def theirs(label, budget, function):
        out = []
        for s in seeds:
            torch.manual_seed(1000 + s)
            out.append(function(cl.operator, budget).detach().numpy())
        record(label, budget, out)

    for budget in DIAG_BUDGETS:
        ours("ours Diagonal (Hutchinson)", budget, lambda s: h.Diagonal(samples=budget, seed=s, blocks=offsets))
        ours("ours XDiag", budget, lambda s: h.XDiag(matvecs=budget, seed=s, blocks=offsets))
        theirs("curvlinops hutchinson_diag", budget, hutchinson_diag)
        theirs("curvlinops xdiag", budget, xdiag)
    return {"rows": rows, "coverage": coverage, "blocks": len(offsets) - 1}


def table(headers, rows):
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def report(results) -> str:
    out = []
    for name, r in results["models"].items():
        out.append(f"### {name}: {r['description']}\n")
        ev = r["eigenvalues"]
        out.append(f"n = {r['n']}, λ_max = {ev['max']:.6g}, λ_min = {ev['min']:.6g}, "
                   f"{ev['negative']} negative eigenvalues, tr H = {r['trace']:.6g}, "
                   f"HVP asymmetry {r['asymmetry']:.1e}\n")
        out.append(f"**Top eigenvalue** (largest magnitude, exact {r['top']['exact']:.8g}; {r['seeds']} seeds)\n")
        out.append(table(["method", "median rel. error", "max rel. error", "median HVPs"],
                         [[k, f"{v['median_rel_error']:.1e}", f"{v['max_rel_error']:.1e}", f"{v['median_hvps']:.0f}"]
                          for k, v in r["top"]["rows"].items()]))
        out.append(f"\n**Trace** (median relative error; exact {r['traces']['exact']:.6g})\n")
        out.append(table(["method"] + [f"{b} HVPs" for b in BUDGETS],
                         [[k] + [f"{v[b]['median_rel_error']:.2e}" for b in BUDGETS]
                          for k, v in r["traces"]["rows"].items()]))
        out.append("\n**Our standard errors**: share of seeds with |error| ≤ 1 s.e. / ≤ 2 s.e. (nominal 68% / 95%)\n")
        out.append(table(["method"] + [f"{b} HVPs" for b in BUDGETS],
                         [[k] + [f"{v[b]['within_1se']:.0%} / {v[b]['within_2se']:.0%}" for b in BUDGETS]
                          for k, v in r["traces"]["coverage"].items()]))
        diagonal = r["diagonal"]
        out.append("\n**Diagonal** at equal HVPs (median relative L2 error)\n")
        out.append(table(["method"] + [f"{b} HVPs" for b in DIAG_BUDGETS],
                         [[k] + [f"{v[b]['median_rel_l2_error']:.3g}" for b in DIAG_BUDGETS]
                          for k, v in diagonal["rows"].items()]))
        out.append(f"\n**Our block-mean standard errors** ({diagonal['blocks']} blocks, one per parameter tensor): "
                   "share of (seed, block) with |error| ≤ 1 s.e. / ≤ 2 s.e. (nominal 68% / 95%)\n")
        out.append(table(["method"] + [f"{b} HVPs" for b in DIAG_BUDGETS],
                         [[k] + [f"{v[b]['within_1se']:.0%} / {v[b]['within_2se']:.0%}" for b in DIAG_BUDGETS]
                          for k, v in diagonal["coverage"].items()]))
        out.append("")
    return "\n".join(out)


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results["models"])
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.6), squeeze=False)
    for ax, name in zip(axes[0], names):
        rows = results["models"][name]["traces"]["rows"]
        for label, per in rows.items():
            style = "-o" if label.startswith("ours") else "--s"
            ax.loglog(BUDGETS, [max(per[b]["median_rel_error"], 1e-17) for b in BUDGETS], style, label=label, ms=4)
        ax.set_title(f"{name}: trace")
        ax.set_xlabel("HVPs")
    axes[0][0].set_ylabel("median relative error")
    axes[0][-1].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="build/bench-models")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--models", default=",".join(models.NAMES))
    parser.add_argument("--quick", action="store_true", help="3 seeds (a smoke run)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    seeds = list(range(3 if args.quick else args.seeds))
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = {"command": " ".join(sys.argv), "seeds": len(seeds), "models": {}}
    start = time.perf_counter()
    for name in args.models.split(","):
        m = models.build(name)
        log(f"{name}: n = {m.n}, dense Hessian built")
        py, cl, eg = peers.PyHessian(m), peers.Curvlinops(m), Eigenthings(m)
        top_exact, top_rows = top_eigenvalue(m, seeds, py, eg)
        log(f"{name}: top eigenvalue done")
        trace_exact, trace_rows, coverage = traces(m, seeds, cl, eg)
        log(f"{name}: traces done")
        diag_rows = diagonals(m, seeds, cl)
        log(f"{name}: diagonals done")
        ev = m.eigenvalues
        results["models"][name] = {
            "description": m.description, "n": m.n, "seeds": len(seeds), "asymmetry": m.asymmetry,
            "trace": m.trace,
            "eigenvalues": {"max": float(ev[-1]), "min": float(ev[0]), "negative": int((ev < 0).sum())},
            "top": {"exact": top_exact, "rows": top_rows},
            "traces": {"exact": trace_exact, "rows": trace_rows, "coverage": coverage},
            "diagonal": diag_rows}
    results["wall_seconds"] = time.perf_counter() - start
    text = report(results)
    print(text)
    (out / "tables.md").write_text(text + "\n")
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    plot(results, out / "models.png")
    log(f"wrote {out}/tables.md, results.json, models.png ({results['wall_seconds']:.0f} s)")


if __name__ == "__main__":
    main()
