"""Reading task YAML: safe loading without anchors (`harness.safe_yaml`), `include` merged file by file, lm-eval
fields that do not apply refused by name, `${SHARED_DATA}` expanded and paths made absolute.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.io import safe_yaml
from harness.data_paths import SharedDataNotFound, package_data_dir, shared_data_dir
from harness.tasks import lmeval_compat
from harness.tasks.spec import TaskSpecError


TOP_KEYS = {
    "task", "tag", "group", "include", "description", "prompts", "responses", "scope", "scorer",
    "analysis", "metric_list", "metadata",
}
_VAR_RE = re.compile(r"\$\{([^}]*)\}")
_UNRESOLVED = "${SHARED_DATA}"

# lm-evaluation-harness task fields that have no meaning for reward-model tasks. Each is an error that names the
# field and says what to write instead (docs/tasks.md, "lm-eval fields"), rather than a silently ignored setting.
_FROM_RESPONSES = "replies come from `responses` (vocabulary, or items with `path` or `dataset`/`split`/`column`)"
_FIXED_PROMPTS = "prompts are fixed strings under `prompts`, and replies come from `responses`"
_NOTHING_GENERATED = "nothing is generated: every reply is scored by the model's scorer"
LMEVAL_FIELDS = {
    "dataset_path": _FROM_RESPONSES, "dataset_name": _FROM_RESPONSES, "dataset_kwargs": _FROM_RESPONSES,
    "custom_dataset": _FROM_RESPONSES, "training_split": _FROM_RESPONSES, "validation_split": _FROM_RESPONSES,
    "test_split": _FROM_RESPONSES, "fewshot_split": _FROM_RESPONSES,
    "process_docs": _FIXED_PROMPTS, "doc_to_text": _FIXED_PROMPTS, "doc_to_target": _FIXED_PROMPTS,
    "doc_to_choice": _FIXED_PROMPTS, "doc_to_image": _FIXED_PROMPTS, "doc_to_audio": _FIXED_PROMPTS,
    "use_prompt": _FIXED_PROMPTS, "gen_prefix": _FIXED_PROMPTS, "target_delimiter": _FIXED_PROMPTS,
    "fewshot_delimiter": _FIXED_PROMPTS, "process_results": "metrics come from the analysis named in `analysis`",
    "num_fewshot": "tasks are zero-shot (the lm-eval export reports n-shot 0)",
    "fewshot_config": "tasks are zero-shot (the lm-eval export reports n-shot 0)",
    "output_type": "the model's scorer decides how replies are scored; restrict a task with `scorer:`",
    "generation_kwargs": _NOTHING_GENERATED, "repeats": _NOTHING_GENERATED, "filter_list": _NOTHING_GENERATED,
    "should_decontaminate": _NOTHING_GENERATED, "doc_to_decontamination_query": _NOTHING_GENERATED,
    "unsafe_code": _NOTHING_GENERATED, "class": "tasks are data only; analyses are registered in Python by name",
}


class _Vars:
    """`${SHARED_DATA}` for one load: the folder from `shared_data_dir(flag)`, looked up once.

    When the reference data cannot be found the variable stays unexpanded (the task still loads and lists), and
    `missing_data` reports the path with the reason, so an audit skips that task instead of failing.
    """

    def __init__(self, shared_data: str | os.PathLike[str] | None = None):
        self.flag = shared_data
        self._value: str | None = None
        self._looked = False

    def shared(self) -> str | None:
        if not self._looked:
            self._looked = True
            try:
                self._value = str(shared_data_dir(self.flag))
            except SharedDataNotFound:
                if self.flag is not None:
                    raise  # an explicit flag that names no folder is the user's error, said now
                self._value = None
        return self._value


def expand_vars(text: str, file: Path, field_name: str, variables: _Vars | None = None) -> str:
    variables = variables or _Vars()

    def sub(m: re.Match) -> str:
        if m.group(1) == "PACKAGE_DATA":  # product data shipped in the package (harness/data/)
            return str(package_data_dir())
        if m.group(1) != "SHARED_DATA":
            raise TaskSpecError(file, field_name, f"unknown variable ${{{m.group(1)}}} (only ${{SHARED_DATA}} "
                                                  "and ${PACKAGE_DATA})")
        found = variables.shared()
        return found if found is not None else _UNRESOLVED

    return _VAR_RE.sub(sub, text)


def resolve_path(text: str, base_dir: Path, file: Path, field_name: str, variables: _Vars | None = None) -> str:
    if not isinstance(text, str) or not text:
        raise TaskSpecError(file, field_name, f"must be a non-empty path string, got {text!r}")
    expanded = expand_vars(text, file, field_name, variables)
    if _UNRESOLVED in expanded:
        return expanded  # reference data not found: keep the variable visible (see `missing_data`)
    p = Path(os.path.expanduser(expanded))
    if not p.is_absolute():
        p = base_dir / p
    return str(Path(os.path.normpath(p)))


# ---------------------------------------------------------------------------------------------------- loading


@dataclass
class _Loaded:
    """One task file with its includes merged: the mapping, which file set each key, and what the hash covers."""

    data: dict[str, Any]
    origin: dict[str, Path]
    version_text: str | None
    contents: list[bytes]


def _written_version(text: str) -> str | None:
    """The scalar text of `metadata.version` exactly as written (safe_load would turn 1.50 into 1.5)."""
    node = safe_yaml.compose(text)
    if not isinstance(node, yaml.MappingNode):
        return None
    for key, value in node.value:
        if key.value == "metadata" and isinstance(value, yaml.MappingNode):
            for k, v in value.value:
                if k.value == "version" and isinstance(v, yaml.ScalarNode):
                    return v.value.strip()
    return None


def _read_yaml(path: Path, referrer: Path | None = None) -> tuple[dict[str, Any], str | None, bytes]:
    if not path.is_file():
        if referrer is not None:
            raise TaskSpecError(referrer, "include", f"included file not found: {path}")
        raise TaskSpecError(path, "", "file not found")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise TaskSpecError(path, "", f"not UTF-8 text (byte {e.start}); save the file as UTF-8") from None
    try:
        data = safe_yaml.load(text)
        version_text = _written_version(text) if isinstance(data, dict) else None
    except yaml.YAMLError as e:
        line = lmeval_compat.function_tag_line(e)
        if line is not None:
            raise TaskSpecError(path, "", f"line {line}: {lmeval_compat.FUNCTION_MESSAGE}") from None
        raise TaskSpecError(path, "", f"invalid YAML: {e}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise TaskSpecError(path, "", f"top level must be a mapping, got {type(data).__name__}")
    for problem in top_key_problems(path, data):
        raise problem
    return data, version_text, raw


def top_key_problems(path: Path, data: dict[str, Any]) -> list[TaskSpecError]:
    """Every top-level key problem of one file: lm-eval fields and group keys (said in lm-eval's terms), then
    unknown keys."""
    out = []
    for key in map(str, data):
        if key in LMEVAL_FIELDS:
            out.append(TaskSpecError(path, key, f"lm-eval field that does not apply here: {LMEVAL_FIELDS[key]}; "
                                                "remove it"))
        elif key in lmeval_compat.GROUP_KEYS:
            out.append(TaskSpecError(path, key, lmeval_compat.GROUP_MESSAGE))
    if isinstance(data.get("task"), list):
        out.append(TaskSpecError(path, "task", lmeval_compat.TASK_LIST_MESSAGE))
    known = TOP_KEYS | set(LMEVAL_FIELDS) | set(lmeval_compat.GROUP_KEYS)
    out += [TaskSpecError(path, key, f"unknown key (allowed: {', '.join(sorted(TOP_KEYS))})")
            for key in sorted(set(map(str, data)) - known)]
    return out


def _resolve_file(path: Path, variables: _Vars, stack: tuple[Path, ...] = (),
                  overrides: dict[Path, tuple] | None = None) -> _Loaded:
    """Load a file with its includes merged; `origin[key]` is the file that set key. `overrides` gives a file's
    already-read (data, version text, bytes) in place of reading it (`tasks validate` checking every field)."""
    path = Path(os.path.normpath(path.resolve()))
    if path in stack:
        chain = " -> ".join(str(p) for p in (*stack, path))
        raise TaskSpecError(stack[-1], "include", f"include cycle: {chain}")
    data, version_text, raw = (overrides or {}).get(path) or _read_yaml(path, stack[-1] if stack else None)
    loaded = _Loaded({}, {}, None, [])
    if "include" in data:
        inc = data["include"]
        if not isinstance(inc, str) or not inc:
            raise TaskSpecError(path, "include", f"must be a path string, got {inc!r}")
        inc_path = Path(resolve_path(inc, path.parent, path, "include", variables))
        if not inc_path.is_file():
            raise TaskSpecError(path, "include", f"included file not found: {inc_path}")
        loaded = _resolve_file(inc_path, variables, (*stack, path))
    merged, origin = loaded.data, loaded.origin
    for key, value in data.items():
        if key == "include":
            continue
        if key == "prompts" and isinstance(value, list):
            base = merged.get("prompts")
            if not isinstance(base, dict):
                raise TaskSpecError(path, "prompts", "a list of prompt keys needs an included `prompts` mapping")
            picked = {}
            for i, k in enumerate(value):
                if not isinstance(k, str) or k not in base:
                    raise TaskSpecError(
                        path, f"prompts[{i}]", f"{k!r} is not a prompt of the include (has: {', '.join(base)})"
                    )
                picked[k] = base[k]
            merged["prompts"] = picked
        else:
            merged[key] = value
        origin[key] = path
    if "metadata" in data:  # the file that sets metadata (a shallow merge) also sets how its version was written
        loaded.version_text = version_text
    loaded.contents.insert(0, raw)
    return loaded
