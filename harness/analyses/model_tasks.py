"""Model-level tasks: those that need the model itself rather than score tables (GCG registers here when
`harness.gcg.task` is imported; `harness.tasks.catalog` imports it).

A model task is `fn(scorer, spec) -> AnalysisResult` plus a signature for its `analysis.args` (so task YAMLs
validate like any other) and the scorer kinds it is valid for. The runner calls it with the loaded model;
`analyse` and `compare`, which have no model, skip it.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable

from harness.analyses.base import AnalysisResult


@dataclass(frozen=True)
class ModelTask:
    name: str
    run: Callable[..., AnalysisResult]  # (scorer, spec) -> AnalysisResult
    signature: inspect.Signature  # of analysis.args, first parameter standing for the model
    scorers: frozenset[str]
    metrics: dict[str, tuple[bool | None, str]]

    def __call__(self, *args, **kwargs):  # validation inspects it like an analysis function
        raise TypeError(f"{self.name} needs the model: the runner calls .run(scorer, spec)")

    @property
    def __signature__(self) -> inspect.Signature:
        return self.signature

    @property
    def METRICS(self) -> dict[str, tuple[bool | None, str]]:  # noqa: N802 (the analyses' declaration name)
        return self.metrics


_TASKS: dict[str, ModelTask] = {}


def register_model_task(task: ModelTask) -> ModelTask:
    if task.name in _TASKS and _TASKS[task.name] is not task:
        raise ValueError(f"model task {task.name!r} is registered twice")
    _TASKS[task.name] = task
    return task


def get(name: str) -> ModelTask | None:
    """The model task registered as `name` (None when none is; `harness.tasks.catalog` loads the built-in ones)."""
    return _TASKS.get(name)


def names() -> list[str]:
    return sorted(_TASKS)
