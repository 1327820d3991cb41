"""Task specs: YAML files → validated `TaskSpec` objects (format: docs/tasks.md)."""

from harness.tasks.spec import (
    TaskSpec,
    TaskSpecError,
    builtin_tasks_dir,
    declared_metrics,
    discover,
    load_task,
    select_metrics,
    select_tasks,
    shared_data_dir,
    validate_paths,
)

__all__ = [
    "TaskSpec",
    "TaskSpecError",
    "builtin_tasks_dir",
    "declared_metrics",
    "discover",
    "load_task",
    "select_metrics",
    "select_tasks",
    "shared_data_dir",
    "validate_paths",
]
