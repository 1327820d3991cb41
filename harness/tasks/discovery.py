"""Finding task files (the built-in ones and `--include-path` folders), selecting tasks by task, tag or group
name, and validating files or folders (`rm-harness tasks validate`).
"""

from __future__ import annotations

import importlib.util
import os
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterable

from harness.errors import UserError
from harness.tasks.checks import _load, check_data_columns, missing_data
from harness.tasks.reading import _Vars
from harness.tasks.spec import TaskSpec, TaskSpecError


TASKS_PACKAGE = "harness._tasks"  # setup.cfg maps it to the top-level tasks/ folder


def _source_tree_tasks() -> Path | None:
    """tasks/ of the source tree this `harness` was imported from (a checkout on PYTHONPATH), else None."""
    root = Path(__file__).resolve().parents[2]
    cfg = root / "setup.cfg"
    try:
        ours = cfg.is_file() and "name = rm-harness" in cfg.read_text(encoding="utf-8")
    except OSError:
        ours = False
    return root / "tasks" if ours and (root / "tasks").is_dir() else None


def builtin_tasks_dir() -> Path:
    """The built-in task YAMLs: the top-level tasks/ folder, their only copy. An installed wheel ships it as the
    package data `harness._tasks` (an editable install maps that name to the same folder); a source tree on
    PYTHONPATH reads its own tasks/, never another installation's."""
    local = _source_tree_tasks()
    if local is not None:
        return local
    try:
        folder = resources.files(TASKS_PACKAGE)
    except ModuleNotFoundError:
        raise UserError(f"the built-in tasks ({TASKS_PACKAGE}) are not installed; reinstall rm-harness") from None
    if isinstance(folder, Path):
        return folder
    # a data-only package has no __init__.py, so resources answers with a MultiplexedPath: one real folder is fine
    places = [Path(p) for p in (importlib.util.find_spec(TASKS_PACKAGE).submodule_search_locations or [])]
    if len(places) == 1 and places[0].is_dir():
        return places[0]
    # a zipped install: task files must be real files (includes, relative paths)
    raise UserError(f"built-in tasks are not on the file system ({folder}); install rm-harness unzipped")


BUILTIN_TASKS_DIR = builtin_tasks_dir()


def _is_fragment(path: Path) -> bool:
    return path.name.startswith("_")


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def _task_files(path: Path) -> list[Path]:
    return [path] if path.is_file() else [f for f in _yaml_files(path) if not _is_fragment(f)]


def discover(
    include_paths: Iterable[str | Path] = (), shared_data: str | os.PathLike[str] | None = None
) -> dict[str, TaskSpec]:
    """All tasks: the built-in ones plus user folders (or single files). Duplicate names are errors."""
    variables = _Vars(shared_data)
    folders: list[Path] = [BUILTIN_TASKS_DIR]
    for p in include_paths:
        p = Path(p)
        if not p.exists():
            raise TaskSpecError(p, "", "--include-path does not exist")
        if not _task_files(p):
            raise TaskSpecError(p, "", "--include-path holds no task files (*.yaml, *.yml not starting with '_')")
        folders.append(p)
    found: dict[str, TaskSpec] = {}
    seen_files: set[Path] = set()
    for folder in folders:
        for f in _task_files(folder):
            f = f.resolve()
            if f in seen_files:
                continue
            seen_files.add(f)
            spec = _load(f, variables)
            if spec.task in found:
                raise TaskSpecError(f, "task", f"duplicate task name {spec.task!r} (also in {found[spec.task].source})")
            found[spec.task] = spec
    return found


def select_tasks(tasks: dict[str, TaskSpec], names: str | list[str]) -> list[TaskSpec]:
    """The tasks named by task, tag or group names (a comma list or a list), or every task for "all".

    Order follows `names` (a tag or group expands in discovery order); each task appears once. An unknown name is
    a TaskSpecError listing the known tasks, tags and groups.
    """
    if isinstance(names, str):
        names = names.split(",")
    wanted = [n.strip() for n in names if n and n.strip()]
    if not wanted:
        raise TaskSpecError("--tasks", "", "no task named; give task, tag or group names, or 'all'")
    picked: dict[str, TaskSpec] = {}
    for name in wanted:
        if name == "all":
            matches = list(tasks.values())
        elif name in tasks:
            matches = [tasks[name]]
        else:
            matches = [t for t in tasks.values() if name in t.tag or name == t.group]
        if not matches:
            tags = sorted({g for t in tasks.values() for g in t.tag})
            groups = sorted({t.group for t in tasks.values() if t.group})
            raise TaskSpecError(
                "--tasks", "",
                f"unknown task, tag or group {name!r}; tasks: {', '.join(tasks)}; tags: {', '.join(tags)}; "
                f"groups: {', '.join(groups)}",
            )
        for t in matches:
            picked.setdefault(t.task, t)
    return list(picked.values())


def _first_error(path: Path, variables: _Vars) -> tuple[TaskSpec | None, list[str]]:
    try:
        return _load(path, variables), []
    except TaskSpecError as e:
        return None, [str(e)]


def validate_paths(
    paths: Iterable[str | Path], check_data: bool = False, shared_data: str | os.PathLike[str] | None = None,
    check_items: Callable[[TaskSpec], Any] | None = None,
    file_errors: Callable[[Path, Any], tuple[TaskSpec | None, list[str]]] | None = None,
) -> list[str]:
    """Validate task files or folders; one message per problem (empty list = all valid).

    Fragments (`_*.yaml`) are only checked as part of the tasks that include them. A missing path, or a folder
    with no task file, is an error. With `check_data`, the `responses.path` files (and local `responses.dataset`
    folders) and `*path` analysis arguments must exist, and CSV files an analysis argument names must have the
    columns the analysis declares (`CsvColumns`). `check_items(spec)` (the CLI passes the item reader the runs use)
    reads each task's item list; a UserError it raises is one more problem. `file_errors(path, variables)` (the CLI
    passes `harness.tasks.lint.file_errors`) gives every problem of a file; without it, the first one.
    """
    variables = _Vars(shared_data)
    errors: list[str] = []
    names: dict[str, str] = {}
    for p in paths:
        p = Path(p)
        if not p.exists():
            errors.append(f"{p}: file or folder not found")
            continue
        files = _task_files(p)
        if not files:
            errors.append(f"{p}: no task files (*.yaml, *.yml not starting with '_')")
        for f in files:
            spec, problems = (file_errors or _first_error)(f, variables)
            errors.extend(problems)
            if spec is None:
                continue
            if spec.task in names and names[spec.task] != spec.source:
                errors.append(f"{f}: task: duplicate task name {spec.task!r} (also in {names[spec.task]})")
            names.setdefault(spec.task, spec.source)
            if check_data:
                missing = missing_data(spec)
                errors.extend(f"{f}: {m}" for m in missing)
                if not missing:
                    try:
                        check_data_columns(spec)
                        if check_items is not None:
                            check_items(spec)
                    except TaskSpecError as e:  # names the file already
                        errors.append(e.one_line())
                    except UserError as e:
                        errors.append(f"{f}: {e.one_line()}")
    return errors
