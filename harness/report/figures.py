"""Figures of an analysis result saved as PNG files beside results.json."""

from __future__ import annotations

from pathlib import Path

from harness.analyses.base import AnalysisResult


def save_figures(result: AnalysisResult, task: str, out_dir: Path) -> list[str]:
    """Write each figure as figures/<task>__<name>.png; return paths relative to out_dir."""
    import matplotlib.pyplot as plt

    paths = []
    for name, fig in result.figures.items():
        rel = Path("figures") / f"{task}__{name}.png"
        (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out_dir / rel, dpi=110, bbox_inches="tight")
        plt.close(fig)
        paths.append(rel.as_posix())
    return paths
