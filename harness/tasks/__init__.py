"""Task specs: YAML files → validated `TaskSpec` objects (format: docs/tasks.md)."""

from harness.data_paths import shared_data_dir
from harness.tasks.catalog import declared_metrics
from harness.tasks.checks import load_task
from harness.tasks.discovery import builtin_tasks_dir, discover, select_tasks, validate_paths
from harness.tasks.spec import TaskSpec, TaskSpecError, select_metrics

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
