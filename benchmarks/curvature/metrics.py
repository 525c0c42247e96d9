"""Error measures and summaries.

Density distance. The exact spectral measure of H is μ = (1/n) Σ_j δ(λ_j); an SLQ run with n_v
probes estimates it by the quadrature measure μ̂ = (1/n_v) Σ_r Σ_i w_ri δ(θ_ri) (nodes θ, weights w
summing to 1 per probe). We report

- W1(μ̂, μ) / (λ_max − λ_min): the 1-Wasserstein (earth mover's) distance ∫ |F̂(t) − F(t)| dt
  between the two cumulative distribution functions, relative to the spectral width. It compares
  the estimate that SLQ actually produces, needs no smoothing width or histogram bins (so it does
  not favour either implementation's smoothing), is exact for discrete measures, and is in
  eigenvalue units (0.01 = mass misplaced by 1% of the spectrum's width on average);
- L1 of the smoothed densities: ∫ |φ̂(t) − φ(t)| dt ∈ [0, 2], both measures convolved with the same
  Gaussian (σ = 1% of λ_max − λ_min, the library's default relative width), on one grid. It is
  what a plot of the densities shows, but depends on σ.
"""

from __future__ import annotations

import math

import numpy as np


def relative_error(estimate: float, exact: float) -> float:
    return abs(float(estimate) - exact) / abs(exact)


def wasserstein1(nodes, weights, eigenvalues) -> float:
    """W1 between Σ weights·δ(nodes) (weights summing to 1) and the uniform measure on eigenvalues."""
    nodes = np.asarray(nodes, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    order = np.argsort(nodes, kind="stable")
    nodes, weights = nodes[order], weights[order] / weights.sum()
    eigenvalues = np.sort(np.asarray(eigenvalues, dtype=np.float64))
    points = np.union1d(nodes, eigenvalues)
    f_hat = np.concatenate([[0.0], np.cumsum(weights)])[np.searchsorted(nodes, points, side="right")]
    f = np.searchsorted(eigenvalues, points, side="right") / eigenvalues.size
    return float(np.sum(np.abs(f_hat - f)[:-1] * np.diff(points)))


def smoothed(nodes, weights, grid, sigma: float) -> np.ndarray:
    nodes = np.asarray(nodes, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64) / np.sum(weights)
    t = np.asarray(grid, dtype=np.float64)[:, None]
    return (np.exp(-0.5 * ((t - nodes) / sigma) ** 2) @ weights) / (sigma * math.sqrt(2 * math.pi))


def smoothed_l1(nodes, weights, eigenvalues, sigma: float, points: int = 4000) -> float:
    ev = np.asarray(eigenvalues, dtype=np.float64)
    low = min(ev.min(), np.min(nodes)) - 6 * sigma
    high = max(ev.max(), np.max(nodes)) + 6 * sigma
    grid = np.linspace(low, high, points)
    estimate = smoothed(nodes, weights, grid, sigma)
    exact = smoothed(ev, np.full(ev.size, 1.0 / ev.size), grid, sigma)
    return float(np.trapezoid(np.abs(estimate - exact), grid))


def summary(values) -> dict:
    values = np.asarray(values, dtype=np.float64)
    return {
        "median": float(np.median(values)),
        "p90": float(np.percentile(values, 90)),
        "max": float(values.max()),
        "min": float(values.min()),
    }


def fmt(x: float, digits: int = 2) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if x == 0:
        return "0"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if abs(x) >= 1e-2 and abs(x) < 1e4:
        return f"{x:.{digits + 1}g}"
    return f"{x:.{digits - 1}e}"


def percent(x: float) -> str:
    return f"{100 * x:.2f}%"


def markdown_table(header, rows) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
