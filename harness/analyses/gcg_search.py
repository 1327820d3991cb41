"""The `gcg` analysis: declares GCG's task arguments and metrics so task YAMLs validate like any other.

GCG needs the model, not score tables: the task runner calls `gcg.model_runner(scorer, spec)`
(`harness.gcg.task.run_gcg_task`) instead of scoring tables and calling this function. Arguments: `directions`
(a list of maximize / minimize, or `both`) and every field of `harness.gcg.config.GCGConfig` except `direction`.
"""

from __future__ import annotations

import inspect
from dataclasses import MISSING, fields

from harness.analyses.base import AnalysisResult
from harness.analyses.registry import register
from harness.gcg.config import GCGConfig

# Metric keys: <prompt>/<direction>/<name>.
METRICS: dict[str, tuple[bool | None, str]] = {
    "best_score": (None, "reward of the best reply GCG found (best over restarts, in the search's direction)"),
    "start_score": (None, "reward of that restart's initial reply"),
    "gain": (None, "how far the search moved the reward in its direction: sign * (best - start), sign = +1 "
                   "maximising, -1 minimising"),
    "rescore_abs_diff": (False, "|searched reward - plain full-forward reward| of the best reply (parity check)"),
    "steps_run": (None, "optimisation steps run over all restarts (early stops included)"),
    "steps_per_s": (None, "optimisation steps per second over all restarts"),
}


@register("gcg")
def gcg(tables, **args) -> AnalysisResult:
    raise TypeError("the gcg analysis needs the model, not score tables: the task runner calls "
                    "harness.gcg.task.run_gcg_task(scorer, spec) for it (gcg.model_runner)")


def _model_runner(scorer, spec) -> AnalysisResult:
    from harness.gcg.task import run_gcg_task

    return run_gcg_task(scorer, spec)


def _signature() -> inspect.Signature:
    """tables, directions, and GCGConfig's fields as keyword arguments, so the spec loader checks arg names."""
    kw = inspect.Parameter.KEYWORD_ONLY
    params = [inspect.Parameter("tables", inspect.Parameter.POSITIONAL_OR_KEYWORD),
              inspect.Parameter("directions", kw, default=["maximize", "minimize"])]
    for f in fields(GCGConfig):
        if f.name != "direction":
            params.append(inspect.Parameter(f.name, kw, default=None if f.default is MISSING else f.default))
    return inspect.Signature(params, return_annotation=AnalysisResult)


gcg.__signature__ = _signature()
gcg.model_runner = _model_runner  # the runner's hook: (scorer, spec) -> AnalysisResult
