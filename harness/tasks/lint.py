"""`rm-harness tasks validate`: every error in a task file, not only the first.

The loader (`spec.py`) stops at the first problem, which is what a run needs. Here a file is read once
leniently (an lm-eval `!function` tag reads as null, each one reported with its line; every top-level key problem
is reported), then built again and again with each offending field taken out, so one pass names every field that
is wrong. A complaint caused by taking a field out (it is now missing, or the mapping holding it is now empty)
is not reported.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml

from harness.io import safe_yaml
from harness.tasks import lmeval_compat
from harness.tasks import checks, reading
from harness.tasks import spec as task_spec

MAX_ERRORS = 50  # one file cannot hold more distinct field problems than this in practice; stops a loop for sure
_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _drop(data: Any, field_name: str) -> bool:
    """Remove the value at a dotted field path (`analysis.args.k`, `prompts[0]`, `metric_list[1].metric`) from
    `data`; False when there is no such path (nothing can be taken out)."""
    parts = [(m.group(1), m.group(2)) for m in _PART.finditer(field_name or "")]
    if not parts:
        return False
    node = data
    for i, (key, index) in enumerate(parts):
        last = i == len(parts) - 1
        if index is not None:
            if not isinstance(node, list) or int(index) >= len(node):
                return False
            if last:
                node.pop(int(index))
                return True
            node = node[int(index)]
        else:
            if not isinstance(node, dict) or key not in node:
                return False
            if last:
                del node[key]
                return True
            node = node[key]
    return False


def _related(field_name: str, dropped: str) -> bool:
    """Whether a complaint about `field_name` may be caused by taking out `dropped` (the same field, one inside
    it, or the one holding it, e.g. a mapping left empty)."""
    def inside(a: str, b: str) -> bool:
        return a == b or a.startswith(b + ".") or a.startswith(b + "[")
    return inside(field_name, dropped) or inside(dropped, field_name)


def file_errors(path: str | os.PathLike[str], variables: Any) -> tuple[task_spec.TaskSpec | None, list[str]]:
    """(the spec when the file is valid, every problem found in it, one message each)."""
    file = Path(os.path.normpath(Path(path).resolve()))
    try:
        reading._read_yaml(file)  # the ordinary reader first: a clean file needs nothing more
        first = None
    except task_spec.TaskSpecError as e:
        first = e
    if first is None:
        try:
            return checks._load(file, variables), []
        except task_spec.TaskSpecError:
            pass
    try:
        raw = file.read_bytes()
        text = raw.decode("utf-8")
        data = yaml.load(text, Loader=lmeval_compat.TolerantLoader)  # noqa: S506 - a SafeLoader subclass
        safe_yaml.compose(re.sub(r"!function\b", "", text))  # anchors and aliases stay refused
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None, [str(first)] if first is not None else []
    if not isinstance(data, dict):
        return None, [str(first)]
    errors = [f"{file}: line {n}: {lmeval_compat.FUNCTION_MESSAGE}" for n in lmeval_compat.function_tag_lines(text)]
    dropped: list[str] = []
    for problem in reading.top_key_problems(file, data):
        errors.append(str(problem))
        data.pop(problem.field, None)
        dropped.append(problem.field)
    for _ in range(MAX_ERRORS):
        try:
            loaded = reading._resolve_file(file, variables, overrides={file: (data, reading._written_version(text),
                                                                                 raw)})
            spec = checks._build(loaded, file, variables)
            return (spec if not errors else None), errors
        except task_spec.TaskSpecError as e:
            if not any(_related(e.field, d) for d in dropped):  # not a consequence of a field taken out
                errors.append(str(e))
            if Path(e.file) != file or not _drop(data, e.field):
                break  # in an included file, or not a path we can take out: stop here
            dropped.append(e.field)
    return None, errors
