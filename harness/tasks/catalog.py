"""The one front door to what a task's `analysis.name` stands for: a registered analysis (a pure function of score
tables, `harness.analyses.registry`) or a model-level task (it needs the model itself, such as GCG:
`harness.analyses.model_tasks`). Task checks, the pipeline, the runner and verify ask here, never the two
registries one after the other.

The registries fill when their modules are imported; `_load` imports the built-in ones (by name in the code, never
a module named by data).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, Callable

from harness.analyses.model_tasks import ModelTask


@dataclass(frozen=True)
class Entry:
    """What one analysis name stands for."""

    name: str
    fn: Callable[..., Any]  # the analysis function, or the ModelTask (whose signature validates `analysis.args`)
    scorers: frozenset[str]  # the scorer kinds it is valid for
    reads_logprobs: bool  # whether its numbers mean something when scores are log-probabilities
    model_task: ModelTask | None  # set when it needs the model (the runner calls `.run(scorer, spec)`)


def _load() -> None:
    from harness.analyses import registry  # noqa: F401 (imports every built-in analysis)
    from harness.gcg import task  # noqa: F401 (registers the GCG model task)


def model_task(name: str) -> ModelTask | None:
    """The model-level task registered as `name`, or None for a table analysis (or an unknown name)."""
    from harness.analyses import model_tasks

    _load()
    return model_tasks.get(name)


def lookup(name: str) -> Entry:
    """The entry for `name`; KeyError (listing the known names) when nothing is registered under it."""
    from harness.analyses import registry

    task = model_task(name)
    if task is not None:
        return Entry(name, task, frozenset(task.scorers), "lm_logprob" in task.scorers, task)
    fn = registry.get(name)
    return Entry(name, fn, registry.scorers(name), registry.reads_logprobs(name), None)


def names() -> list[str]:
    """Every registered name: analyses and model-level tasks."""
    from harness.analyses import model_tasks, registry

    _load()
    return sorted(set(registry.names()) | set(model_tasks.names()))


def scorers(name: str) -> frozenset[str]:
    """The scorer kinds `name` declares itself valid for."""
    return lookup(name).scorers


def reads_logprobs(name: str) -> bool:
    """Whether `name` can interpret log-probability scores (model-level tasks: as their kinds say)."""
    return lookup(name).reads_logprobs


def declared_metrics(name: str) -> dict[str, tuple[bool | None, str]] | None:
    """The metric names `name` declares (`fn.METRICS`, else its module's `METRICS`), or None."""
    fn = lookup(name).fn
    decl = getattr(fn, "METRICS", None)
    if decl is None:
        decl = getattr(sys.modules.get(fn.__module__), "METRICS", None)
    return dict(decl) if decl is not None else None


def skip_reason(name: str, kind: str, reference_free: bool = False) -> str | None:
    """One line saying why `name` does not run for scorer kind `kind`, a kind it was found not to apply to
    (None when the analysis itself has no objection: the task's own `scorer:` narrowed it)."""
    from harness.analyses import registry

    task = model_task(name)
    if task is not None:
        return f"{name} needs a {' or '.join(sorted(task.scorers))} scorer, not {kind}"
    return registry.skip_reason(name, kind, reference_free)
