"""Greedy Coordinate Gradient over a reward model's reply tokens (see harness/gcg/optimizer.py).

    from harness.gcg import GCGConfig, run_gcg
    result = run_gcg(scorer, "What, in one word, is the best thing ever?", GCGConfig(direction="minimize"))
    result.best.best_text, result.best.best_score, result.best.rescore

The optimiser (torch) is imported on first use, so that reading the config or a saved result stays light.
"""

from harness.gcg.config import DIRECTIONS, GCGConfig, GCGError
from harness.gcg.result import GCGResult, RestartResult, StepRecord, trajectory_figure

__all__ = ["DIRECTIONS", "GCGConfig", "GCGError", "GCGResult", "RescoreMismatch", "RestartResult", "StepRecord",
           "allowed_tokens", "run_gcg", "trajectory_figure"]


def __getattr__(name: str):
    if name in ("run_gcg", "allowed_tokens", "RescoreMismatch", "GCG"):
        from harness.gcg import optimizer

        return getattr(optimizer, name)
    raise AttributeError(f"module 'harness.gcg' has no attribute {name!r}")
