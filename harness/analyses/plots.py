"""Small plotting helpers shared by the analyses.

Figures are built with `matplotlib.figure.Figure` directly (no pyplot global state, nothing to close, no GUI):
saving one to PNG uses the Agg canvas. `matplotlib.use("Agg")` is set too, for code that does import pyplot.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402


def new_figure(nrows: int = 1, ncols: int = 1, width: float = 5.0, height: float = 3.6, squeeze: bool = False):
    """A Figure and a 2-D array of axes (unless squeeze)."""
    fig = Figure(figsize=(max(1, ncols) * width, max(1, nrows) * height), layout="constrained")
    axes = fig.subplots(max(1, nrows), max(1, ncols), squeeze=squeeze)
    return fig, axes


def violin(ax, series: Sequence[np.ndarray], labels: Sequence[str], ylabel: str = "score") -> None:
    """Violin per series; empty series are skipped but keep their label slot."""
    pos = [i for i, s in enumerate(series) if len(s) > 1]
    if pos:
        ax.violinplot([thin(series[i]) for i in pos], positions=pos, showmeans=True, showextrema=True)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)


def thin(values, max_points: int = 20000) -> np.ndarray:
    """At most `max_points` evenly spaced quantiles (min and max kept): same shape for a KDE, much faster.

    Only for drawing; every statistic is computed on the full data."""
    v = np.asarray(values, dtype=float)
    if len(v) <= max_points:
        return v
    return np.quantile(v, np.linspace(0.0, 1.0, max_points))


def short(label: str, n: int = 28) -> str:
    return label if len(label) <= n else label[: n - 1] + "…"


def fit_line(ax, x: np.ndarray, slope: float, intercept: float, **kw) -> None:
    if len(x) == 0:
        return
    xs = np.linspace(float(np.min(x)), float(np.max(x)), 50)
    ax.plot(xs, intercept + slope * xs, **kw)
