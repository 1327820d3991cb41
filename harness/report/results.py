"""The results.json document: versioned schema, environment and provenance, written atomically."""

from __future__ import annotations

import platform
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from harness import __version__
from harness.analyses.base import AnalysisResult
from harness.atomic import atomic_write_json

SCHEMA_VERSION = 1
_PACKAGES = ("torch", "transformers", "numpy", "pandas", "scipy", "statsmodels", "scikit-learn", "pyarrow")


def environment() -> dict[str, str]:
    env = {"python": sys.version.split()[0], "platform": platform.platform()}
    for pkg in _PACKAGES:
        try:
            env[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return env


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def task_block(result: AnalysisResult, metrics: dict, figures: list[str], tables: dict[str, str]) -> dict[str, Any]:
    return {
        "metrics": {k: m.to_json() for k, m in metrics.items()},
        "data": result.data,
        "figures": figures,
        "tables": tables,
    }


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


def document(model: dict, tasks: dict[str, dict], versions: dict[str, int], configs: dict[str, dict],
             wall_time_s: float) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "harness_version": __version__,
        "model": model,
        "versions": versions,
        "configs": configs,
        "results": tasks,
        "environment": environment(),
        "wall_time_s": round(wall_time_s, 3),
        "created": utc_now(),
    }


def jsonable(obj: Any) -> Any:
    """numpy scalars and arrays to Python, NaN and inf to None (JSON has neither)."""
    import math

    import numpy as np

    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def write(doc: dict[str, Any], path: Path) -> Path:
    return atomic_write_json(path, jsonable(doc))
