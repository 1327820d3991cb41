"""GCG as a model-level task: registered under the name `gcg`, the runner calls `run_gcg_task(scorer, spec)` with
the loaded model. Its AnalysisResult lands in results.json and the report like any other task's. Arguments:
`directions` (a list of maximize / minimize, or `both`) and every field of GCGConfig except `direction`."""

from __future__ import annotations

import inspect
import logging
import math
from dataclasses import MISSING, fields
from typing import Any

from harness.analyses.base import AnalysisResult, Metric
from harness.gcg.config import DIRECTIONS, GCGConfig, GCGError
from harness.gcg.optimizer import RescoreMismatch, run_gcg
from harness.gcg.result import GCGResult, trajectory_figure
from harness.analyses.model_tasks import ModelTask, register_model_task
from harness.models.kinds import optimisable

log = logging.getLogger(__name__)

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

def _metric(name: str, value: float | None, reason: str | None = None) -> Metric:
    hib, definition = METRICS[name]
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return Metric.missing(reason or "not finite", definition, hib)
    return Metric(float(value), hib, definition)


def split_args(args: dict[str, Any]) -> tuple[list[str], GCGConfig]:
    """`analysis.args` of a gcg task → (directions, base config). `directions` is a list or `both`."""
    args = dict(args)
    directions = args.pop("directions", list(DIRECTIONS))
    if isinstance(directions, str):
        directions = list(DIRECTIONS) if directions == "both" else [directions]
    if not directions or any(d not in DIRECTIONS for d in directions):
        raise GCGError(f"directions must be a list of {', '.join(DIRECTIONS)} (or 'both'), got {directions!r}")
    args.pop("direction", None)
    return list(directions), GCGConfig.from_dict(args)


def result_rows(res: GCGResult) -> list[dict[str, Any]]:
    """Final best per restart, best first, as the report's token-list rows (decoded, id, score)."""
    rows = sorted(res.restarts, key=lambda r: -res.sign * r.best_score if math.isfinite(r.best_score) else math.inf)
    return [{"decoded": r.best_text, "id": r.best_ids, "score": r.best_score, "rescore": r.rescore,
             "restart": r.restart, "init_text": r.init_text, "init_score": r.init_score, "stopped": r.stopped}
            for r in rows]


def run_gcg_task(scorer, spec) -> AnalysisResult:
    """Every prompt of the task x every direction in `analysis.args.directions`; metrics, data and figures."""
    directions, base = split_args(spec.analysis_args)
    searched: dict[str, GCGResult] = {}
    for key, prompt in spec.prompts.items():
        for direction in directions:
            name = f"{key}/{direction}"
            try:
                searched[name] = run_gcg(scorer, prompt, base.with_(direction=direction))
            except RescoreMismatch as e:  # keep the search; the metric shows the disagreement
                log.warning("task %s, %s: %s", spec.task, name, e)
                searched[name] = e.result
    return assemble(spec, searched)


def assemble(spec, searched: dict[str, GCGResult], draw: bool = True) -> AnalysisResult:
    """The task's metrics, data and figures from its searches (`<prompt>/<direction>` -> result): the one place
    a GCG block is built, for a run and for `verify`, which rebuilds it from the recorded searches (`draw`
    False: the figures are named but not drawn)."""
    directions, base = split_args(spec.analysis_args)
    out = AnalysisResult()
    runs: dict[str, Any] = {}
    top: dict[str, list] = {}
    bottom: dict[str, list] = {}
    for key, prompt in spec.prompts.items():
        results = []
        for direction in directions:
            name = f"{key}/{direction}"
            res = searched[name]
            results.append(res)
            best = res.best
            m = out.metrics
            m[f"{name}/best_score"] = _metric("best_score", best.best_score)
            m[f"{name}/start_score"] = _metric("start_score", best.init_score)
            m[f"{name}/gain"] = _metric("gain", res.sign * (best.best_score - best.init_score))
            m[f"{name}/rescore_abs_diff"] = _metric("rescore_abs_diff", best.rescore_diff)
            m[f"{name}/steps_run"] = _metric("steps_run", res.steps_run)
            m[f"{name}/steps_per_s"] = _metric("steps_per_s", res.steps_per_s)
            runs[name] = res.to_json()
            (top if direction == "maximize" else bottom)[name] = result_rows(res)
        out.figures[f"trajectory_{key}"] = trajectory_figure(results, title=f"GCG — {key}: {prompt}") if draw else None
    out.data = {"config": base.to_dict(), "directions": directions, "top": top, "bottom": bottom, "runs": runs}
    return out


def _signature() -> inspect.Signature:
    """model, directions, and GCGConfig's fields as keyword arguments, with their declared rules (ranges), so the
    spec loader checks arg names and values."""
    from typing import Annotated, get_type_hints

    from harness.analyses.arg_rules import OneOf

    hints = get_type_hints(GCGConfig, include_extras=True)
    kw = inspect.Parameter.KEYWORD_ONLY
    params = [inspect.Parameter("model", inspect.Parameter.POSITIONAL_OR_KEYWORD),
              inspect.Parameter("directions", kw, default=["maximize", "minimize"],
                                annotation=Annotated[list[str] | str, OneOf(*DIRECTIONS, "both")])]
    for f in fields(GCGConfig):
        if f.name != "direction":
            default = None if f.default is MISSING else f.default
            ruled = getattr(hints[f.name], "__metadata__", None)  # only fields with declared rules carry a type
            params.append(inspect.Parameter(f.name, kw, default=default,
                                            annotation=hints[f.name] if ruled else inspect.Parameter.empty))
    return inspect.Signature(params, return_annotation=AnalysisResult)


GCG_TASK = register_model_task(ModelTask("gcg", run_gcg_task, _signature(), optimisable(), METRICS))
