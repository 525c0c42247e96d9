"""The benchmark's figures (matplotlib, Agg backend)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from metrics import smoothed  # noqa: E402


def density_figure(path, eigenvalues, ours, theirs, sigma, title):
    """Left: exact eigenvalue histogram with both smoothed SLQ densities (same σ), log scale.
    Right: the cumulative distributions (W1 is the area between a CDF and the exact one)."""
    ev = np.sort(eigenvalues)
    low, high = ev[0] - 5 * sigma, ev[-1] + 5 * sigma
    grid = np.linspace(low, high, 3000)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2))
    left.hist(ev, bins=200, range=(low, high), density=True, color="0.8", label="exact eigenvalues (histogram)")
    left.plot(grid, smoothed(ev, np.full(ev.size, 1 / ev.size), grid, sigma), color="k", lw=1,
              label="exact, smoothed")
    for (nodes, weights), name, color in ((ours, "libhessianlr SLQ", "C0"), (theirs, "PyHessian density()", "C3")):
        left.plot(grid, smoothed(nodes, weights, grid, sigma), color=color, lw=1.2, label=f"{name}, smoothed")
    left.set_yscale("log")
    left.set_ylim(1e-3, None)
    left.set_xlabel("eigenvalue")
    left.set_ylabel("density")
    left.set_title(title)
    left.legend(fontsize=8)
    right.step(ev, np.arange(1, ev.size + 1) / ev.size, where="post", color="k", lw=1, label="exact")
    for (nodes, weights), name, color in ((ours, "libhessianlr SLQ", "C0"), (theirs, "PyHessian", "C3")):
        order = np.argsort(nodes)
        right.step(np.asarray(nodes)[order], np.cumsum(np.asarray(weights)[order]) / np.sum(weights), where="post",
                   color=color, lw=1.2, label=name)
    right.set_xscale("symlog", linthresh=1e-3)
    right.set_xlabel("eigenvalue (symlog)")
    right.set_ylabel("cumulative spectral mass")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def lambda_figure(path, curves, points, target=1e-6):
    """Relative error of λ_max vs HVPs: median (band: min–max over seeds) per iterate for the
    curves, and (median HVPs, median error) of each stopping-rule setting as points."""
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    for name, (hvps, errors), color in curves:
        errors = np.maximum(np.asarray(errors), 1e-17)
        ax.plot(hvps, np.median(errors, axis=0), color=color, lw=1.5, label=f"{name} (median over seeds)")
        ax.fill_between(hvps, errors.min(axis=0), errors.max(axis=0), color=color, alpha=0.15)
    for name, xs, ys, color, marker in points:
        ax.scatter(xs, np.maximum(ys, 1e-17), color=color, marker=marker, s=36, zorder=3, label=name)
    ax.axhline(target, color="0.4", ls="--", lw=1)
    ax.set_yscale("log")
    ax.set_xlabel("Hessian-vector products")
    ax.set_ylabel("relative error of λ_max")
    ax.set_xlim(0, 64)
    ax.legend(fontsize=7, loc="upper right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def trace_figure(path, series, adaptive):
    """Median (line) and 90th percentile (dashed) relative trace error vs HVP budget."""
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    for index, (name, budgets, medians, p90s) in enumerate(series):
        color = f"C{index}"
        ax.plot(budgets, medians, marker="o", color=color, label=name)
        ax.plot(budgets, p90s, ls="--", color=color, lw=0.8)
    for name, hvps, error, marker in adaptive:
        ax.scatter([hvps], [error], marker=marker, s=60, color="k", zorder=3, label=name)
    ax.axhline(0.005, color="0.4", ls=":", lw=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("Hessian-vector products")
    ax.set_ylabel("relative trace error (solid: median, dashed: p90 over seeds)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
