"""The task spec: a validated, frozen `TaskSpec` and what it answers about itself (format: docs/tasks.md).

Reading YAML is `harness.tasks.reading`, field checks `harness.tasks.checks`, finding and selecting task files
`harness.tasks.discovery`; which analysis a name stands for is `harness.tasks.catalog`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from harness.data_paths import portable, portable_path
from harness.errors import UserError
from harness.tasks import catalog


class TaskSpecError(UserError, ValueError):
    """A task file is invalid; the message names the file and the field."""

    def __init__(self, file: Path | str, field_name: str, message: str):
        self.file = str(file)
        self.field = field_name
        super().__init__(f"{file}: {field_name}: {message}" if field_name else f"{file}: {message}")


@dataclass(frozen=True)
class TaskSpec:
    task: str
    prompts: dict[str, str] = field(hash=False)
    responses: dict[str, Any] = field(hash=False)
    analysis: dict[str, Any] = field(hash=False)  # {"name": str, "args": dict}
    metadata: dict[str, Any] = field(hash=False)
    tag: tuple[str, ...] = ()
    group: str | None = None
    description: str | None = None
    metric_list: tuple[str, ...] = ()
    scope: str = "model"
    scorer: str = "any"
    source: str | None = None
    # `metadata.version` as written in the YAML ("1", "1.0", "1.5"): versions are compared on this text.
    version_text: str = ""
    # sha256 of the task file and every file it includes (provenance: results.json `computed.task_file_hash`).
    file_hash: str | None = None
    # lm-eval's optional metric_list keys, per metric name: {"aggregation": str, "higher_is_better": bool}.
    metric_options: dict[str, dict[str, Any]] = field(default_factory=dict, hash=False, compare=False)

    def __post_init__(self) -> None:
        if not self.version_text:
            object.__setattr__(self, "version_text", str(self.metadata.get("version")))

    @property
    def version(self) -> int | float:
        """The version number (int or float, as the YAML wrote it); compare `version_text` for equality."""
        return self.metadata["version"]

    @property
    def analysis_name(self) -> str:
        return self.analysis["name"]

    @property
    def analysis_args(self) -> dict[str, Any]:
        return copy.deepcopy(self.analysis.get("args", {}))

    def applies_to(self, scorer_kind: str, reference_free: bool = False) -> bool:
        """Whether the task runs for a scorer of this kind (`reference_free`: a DPO scorer without a reference
        model, refused by analyses that cannot read log-probabilities)."""
        if scorer_kind not in effective_scorers(self):
            return False
        return not (reference_free and scorer_kind == "dpo" and not catalog.reads_logprobs(self.analysis_name))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "task": self.task,
            "tag": list(self.tag),
            "group": self.group,
            "description": self.description,
            "prompts": dict(self.prompts),
            "responses": portable(self.responses),
            "scope": self.scope,
            "scorer": self.scorer,
            "analysis": {"name": self.analysis["name"], "args": portable(self.analysis.get("args", {}))},
            "metric_list": [{"metric": m, **self.metric_options.get(m, {})} for m in self.metric_list],
            "metadata": copy.deepcopy(self.metadata),
            "source": portable_path(self.source),
        }
        return out  # paths as `${SHARED_DATA}/...` or `harness/...`: the same on every machine, no local names


def effective_scorers(spec: TaskSpec) -> frozenset[str]:
    """The scorer kinds a task runs for: its analysis's declared kinds, narrowed by the task's `scorer:`."""
    valid = catalog.scorers(spec.analysis_name)
    return valid if spec.scorer == "any" else valid & {spec.scorer}


def same_version(a: Any, b: Any) -> bool:
    """Task versions are equal only as written: 1 and 1.0 differ, as do 1.5 and 1 (compare `version_text`)."""
    return str(a) == str(b)


def select_metrics(metrics: Mapping[str, Any], metric_list: Iterable[str]) -> dict[str, Any]:
    """Keep the result metrics a task asks for (all of them when `metric_list` is empty)."""
    wanted = list(metric_list)
    if not wanted:
        return dict(metrics)
    return {k: v for k, v in metrics.items() if any(k == w or k.endswith("/" + w) for w in wanted)}
