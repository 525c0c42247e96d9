"""Figures of the benchmark programs: matplotlib without a display, and a finished figure
written to a file."""

from __future__ import annotations


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (no display needed); imported on first use, so a
    program that draws nothing does not need matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, path: str, dpi: int) -> str:
    """Lays ``fig`` out, writes it to ``path`` at ``dpi`` and closes it; returns ``path``."""
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    pyplot().close(fig)
    return path
