"""Task specs: YAML files → validated `TaskSpec` objects (format: docs/tasks.md)."""

from harness.tasks.spec import (
    TaskSpec,
    TaskSpecError,
    declared_metrics,
    discover,
    load_task,
    select_metrics,
    shared_data_dir,
    validate_paths,
)

__all__ = [
    "TaskSpec",
    "TaskSpecError",
    "declared_metrics",
    "discover",
    "load_task",
    "select_metrics",
    "shared_data_dir",
    "validate_paths",
]
