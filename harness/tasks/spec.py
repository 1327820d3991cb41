"""Task YAML → validated, frozen `TaskSpec`. The format is documented in docs/tasks.md.

YAML is data: it is read with `yaml.safe_load`, checked field by field, and never executes code. Every problem
raises `TaskSpecError` naming the file and the field.
"""

from __future__ import annotations

import copy
import inspect
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from harness.errors import UserError

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILTIN_TASKS_DIR = REPO_ROOT / "tasks"
SHARED_DATA_ENV = "RM_HARNESS_SHARED_DATA"

TOP_KEYS = {
    "task", "tag", "group", "include", "description", "prompts", "responses", "scope", "scorer",
    "analysis", "metric_list", "metadata",
}
REQUIRED_KEYS = ("task", "prompts", "responses", "analysis", "metadata")
SCOPES = ("model", "models")
SCORERS = ("reward", "lm_logprob", "any")
RESPONSE_KEYS = {"vocabulary": {"type"}, "items": {"type", "path", "column", "keep_columns"}}
_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]+$")
_VAR_RE = re.compile(r"\$\{([^}]*)\}")


class TaskSpecError(UserError, ValueError):
    """A task file is invalid; the message names the file and the field."""

    def __init__(self, file: Path | str, field_name: str, message: str):
        self.file = str(file)
        self.field = field_name
        super().__init__(f"{file}: {field_name}: {message}" if field_name else f"{file}: {message}")


def shared_data_dir() -> Path:
    """`$RM_HARNESS_SHARED_DATA`, else `<repo>/../shared/data`."""
    env = os.environ.get(SHARED_DATA_ENV)
    return Path(env) if env else (REPO_ROOT.parent / "shared" / "data")


def expand_vars(text: str, file: Path, field_name: str) -> str:
    def sub(m: re.Match) -> str:
        if m.group(1) != "SHARED_DATA":
            raise TaskSpecError(file, field_name, f"unknown variable ${{{m.group(1)}}} (only ${{SHARED_DATA}})")
        return str(shared_data_dir())

    return _VAR_RE.sub(sub, text)


def resolve_path(text: str, base_dir: Path, file: Path, field_name: str) -> str:
    if not isinstance(text, str) or not text:
        raise TaskSpecError(file, field_name, f"must be a non-empty path string, got {text!r}")
    p = Path(os.path.expanduser(expand_vars(text, file, field_name)))
    if not p.is_absolute():
        p = base_dir / p
    return str(Path(os.path.normpath(p)))


# ---------------------------------------------------------------------------------------------------- dataclass


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

    @property
    def version(self) -> int:
        return int(self.metadata["version"])

    @property
    def analysis_name(self) -> str:
        return self.analysis["name"]

    @property
    def analysis_args(self) -> dict[str, Any]:
        return copy.deepcopy(self.analysis.get("args", {}))

    def applies_to(self, scorer_kind: str) -> bool:
        return scorer_kind in effective_scorers(self)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "task": self.task,
            "tag": list(self.tag),
            "group": self.group,
            "description": self.description,
            "prompts": dict(self.prompts),
            "responses": copy.deepcopy(self.responses),
            "scope": self.scope,
            "scorer": self.scorer,
            "analysis": {"name": self.analysis["name"], "args": copy.deepcopy(self.analysis.get("args", {}))},
            "metric_list": [{"metric": m} for m in self.metric_list],
            "metadata": copy.deepcopy(self.metadata),
            "source": self.source,
        }
        return out


def effective_scorers(spec: TaskSpec) -> frozenset[str]:
    """The scorer kinds a task runs for: its analysis's declared kinds, narrowed by the task's `scorer:`."""
    valid = analysis_scorers(spec.analysis_name)
    return valid if spec.scorer == "any" else valid & {spec.scorer}


# ---------------------------------------------------------------------------------------------------- metrics


def analysis_callable(name: str) -> Any:
    """The analysis function, or the model-level task (GCG), registered under `name`."""
    from harness.tasks import model_tasks

    task = model_tasks.get(name)
    if task is not None:
        return task
    from harness.analyses import registry

    return registry.get(name)


def analysis_names() -> list[str]:
    from harness.analyses import registry
    from harness.tasks import model_tasks

    return sorted(set(registry.names()) | set(model_tasks.names()))


def analysis_scorers(name: str) -> frozenset[str]:
    """The scorer kinds an analysis (or model-level task) declares itself valid for."""
    from harness.tasks import model_tasks

    task = model_tasks.get(name)
    if task is not None:
        return frozenset(task.scorers)
    from harness.analyses import registry

    return registry.scorers(name)


def declared_metrics(analysis_name: str) -> dict[str, tuple[bool | None, str]] | None:
    """The metric names an analysis declares (`fn.METRICS`, else its module's `METRICS`), or None."""
    fn = analysis_callable(analysis_name)
    decl = getattr(fn, "METRICS", None)
    if decl is None:
        decl = getattr(sys.modules.get(fn.__module__), "METRICS", None)
    return dict(decl) if decl is not None else None


def select_metrics(metrics: Mapping[str, Any], metric_list: Iterable[str]) -> dict[str, Any]:
    """Keep the result metrics a task asks for (all of them when `metric_list` is empty)."""
    wanted = list(metric_list)
    if not wanted:
        return dict(metrics)
    return {k: v for k, v in metrics.items() if any(k == w or k.endswith("/" + w) for w in wanted)}


# ---------------------------------------------------------------------------------------------------- loading


def _read_yaml(path: Path, referrer: Path | None = None) -> dict[str, Any]:
    if not path.is_file():
        if referrer is not None:
            raise TaskSpecError(referrer, "include", f"included file not found: {path}")
        raise TaskSpecError(path, "", "file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise TaskSpecError(path, "", f"invalid YAML: {e}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise TaskSpecError(path, "", f"top level must be a mapping, got {type(data).__name__}")
    unknown = sorted(set(map(str, data)) - TOP_KEYS)
    if unknown:
        raise TaskSpecError(path, unknown[0], f"unknown key (allowed: {', '.join(sorted(TOP_KEYS))})")
    return data


def _resolve_file(path: Path, stack: tuple[Path, ...] = ()) -> tuple[dict[str, Any], dict[str, Path]]:
    """Load a file with its includes merged. Returns (mapping, origin) where origin[key] is the file that set key."""
    path = Path(os.path.normpath(path.resolve()))
    if path in stack:
        chain = " -> ".join(str(p) for p in (*stack, path))
        raise TaskSpecError(stack[-1], "include", f"include cycle: {chain}")
    data = _read_yaml(path, stack[-1] if stack else None)
    merged: dict[str, Any] = {}
    origin: dict[str, Path] = {}
    if "include" in data:
        inc = data["include"]
        if not isinstance(inc, str) or not inc:
            raise TaskSpecError(path, "include", f"must be a path string, got {inc!r}")
        inc_path = Path(resolve_path(inc, path.parent, path, "include"))
        if not inc_path.is_file():
            raise TaskSpecError(path, "include", f"included file not found: {inc_path}")
        merged, origin = _resolve_file(inc_path, (*stack, path))
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
    return merged, origin


def _check_str(value: Any, file: Path, name: str, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        raise TaskSpecError(file, name, f"must be a non-empty string, got {value!r}")
    return value


def _check_analysis_args(fn: Any, args: dict[str, Any], file: Path) -> None:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return
    params = list(sig.parameters.values())[1:]  # the first parameter receives the tables
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return
    accepted = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    for key in args:
        if key not in accepted:
            raise TaskSpecError(
                file, f"analysis.args.{key}", f"unknown argument (accepted: {', '.join(sorted(accepted)) or 'none'})"
            )
    for p in params:
        if p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            if p.name not in args:
                raise TaskSpecError(file, f"analysis.args.{p.name}", "required argument missing")


def _resolve_args(value: Any, base_dir: Path, file: Path, name: str, key: str = "") -> Any:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TaskSpecError(file, f"{name}.{k}", "argument names must be strings")
            out[k] = _resolve_args(v, base_dir, file, f"{name}.{k}", k)
        return out
    if isinstance(value, list):
        return [_resolve_args(v, base_dir, file, f"{name}[{i}]", key) for i, v in enumerate(value)]
    if isinstance(value, str):
        if key == "path" or key.endswith("_path"):
            return resolve_path(value, base_dir, file, name)
        return expand_vars(value, file, name)
    return value


def _build(data: dict[str, Any], origin: dict[str, Path], file: Path) -> TaskSpec:
    for key in REQUIRED_KEYS:
        if key not in data:
            raise TaskSpecError(file, key, "required field missing")

    def src(key: str) -> Path:
        return origin.get(key, file)

    task = _check_str(data["task"], src("task"), "task")
    if not _NAME_RE.match(task):
        raise TaskSpecError(src("task"), "task", f"{task!r}: use letters, digits, '_', '.', '-' only")

    tag = data.get("tag", [])
    if isinstance(tag, str):
        tag = [tag]
    if not isinstance(tag, list) or not all(isinstance(t, str) and t for t in tag):
        raise TaskSpecError(src("tag"), "tag", f"must be a string or a list of strings, got {tag!r}")
    group = _check_str(data.get("group"), src("group"), "group", optional=True)
    description = _check_str(data.get("description"), src("description"), "description", optional=True)

    prompts = data["prompts"]
    if not isinstance(prompts, dict) or not prompts:
        raise TaskSpecError(src("prompts"), "prompts", "must be a non-empty mapping key -> prompt string")
    for k, v in prompts.items():
        if not isinstance(k, str) or not _NAME_RE.match(k) or "/" in k:
            raise TaskSpecError(src("prompts"), f"prompts.{k}", "prompt keys must match [A-Za-z0-9_.-]+")
        if not isinstance(v, str) or not v.strip():
            raise TaskSpecError(src("prompts"), f"prompts.{k}", f"must be a non-empty string, got {v!r}")

    responses = data["responses"]
    rfile = src("responses")
    if not isinstance(responses, dict):
        raise TaskSpecError(rfile, "responses", "must be a mapping with a `type`")
    rtype = responses.get("type")
    if rtype not in RESPONSE_KEYS:
        raise TaskSpecError(rfile, "responses.type", f"must be one of {', '.join(RESPONSE_KEYS)}, got {rtype!r}")
    extra = sorted(set(responses) - RESPONSE_KEYS[rtype])
    if extra:
        raise TaskSpecError(rfile, f"responses.{extra[0]}", f"unknown key for type {rtype}")
    responses = dict(responses)
    if rtype == "items":
        for k in ("path", "column"):
            if k not in responses:
                raise TaskSpecError(rfile, f"responses.{k}", "required for type items")
        responses["path"] = resolve_path(responses["path"], rfile.parent, rfile, "responses.path")
        _check_str(responses["column"], rfile, "responses.column")
        keep = responses.get("keep_columns", [])
        if not isinstance(keep, list) or not all(isinstance(c, str) and c for c in keep):
            raise TaskSpecError(rfile, "responses.keep_columns", f"must be a list of column names, got {keep!r}")
        responses["keep_columns"] = list(keep)

    scope = data.get("scope", "model")
    if scope not in SCOPES:
        raise TaskSpecError(src("scope"), "scope", f"must be one of {', '.join(SCOPES)}, got {scope!r}")
    scorer = data.get("scorer", "any")
    if scorer not in SCORERS:
        raise TaskSpecError(src("scorer"), "scorer", f"must be one of {', '.join(SCORERS)}, got {scorer!r}")

    analysis = data["analysis"]
    afile = src("analysis")
    if not isinstance(analysis, dict):
        raise TaskSpecError(afile, "analysis", "must be a mapping {name: ..., args: {...}}")
    extra = sorted(set(analysis) - {"name", "args"})
    if extra:
        raise TaskSpecError(afile, f"analysis.{extra[0]}", "unknown key (allowed: name, args)")
    if "name" not in analysis:
        raise TaskSpecError(afile, "analysis.name", "required field missing")
    aname = _check_str(analysis["name"], afile, "analysis.name")
    known = analysis_names()
    if aname not in known:
        raise TaskSpecError(afile, "analysis.name", f"unknown analysis {aname!r}; known: {', '.join(known)}")
    args = analysis.get("args") or {}
    if not isinstance(args, dict):
        raise TaskSpecError(afile, "analysis.args", "must be a mapping")
    args = _resolve_args(args, afile.parent, afile, "analysis.args")
    _check_analysis_args(analysis_callable(aname), args, afile)
    if scorer != "any" and scorer not in analysis_scorers(aname):  # a task may narrow the kinds, never widen
        raise TaskSpecError(src("scorer"), "scorer", f"analysis {aname!r} is not valid for {scorer!r} scorers "
                            f"(valid: {', '.join(sorted(analysis_scorers(aname)))}); use one of those or any")

    mfile = src("metric_list")
    metric_list = data.get("metric_list", [])
    if not isinstance(metric_list, list):
        raise TaskSpecError(mfile, "metric_list", "must be a list of {metric: name} mappings")
    metrics: list[str] = []
    declared = declared_metrics(aname) if metric_list else None
    if metric_list and declared is None:
        raise TaskSpecError(mfile, "metric_list", f"analysis {aname!r} declares no METRICS, cannot check names")
    for i, entry in enumerate(metric_list):
        where = f"metric_list[{i}]"
        if not isinstance(entry, dict) or "metric" not in entry:
            raise TaskSpecError(mfile, where, f"must be a mapping {{metric: name}}, got {entry!r}")
        extra = sorted(set(entry) - {"metric"})
        if extra:
            raise TaskSpecError(mfile, f"{where}.{extra[0]}", "unknown key (allowed: metric)")
        name = _check_str(entry["metric"], mfile, f"{where}.metric")
        if name.split("/")[-1] not in declared:
            raise TaskSpecError(
                mfile, f"{where}.metric",
                f"unknown metric {name!r} for analysis {aname!r}; declared: {', '.join(sorted(declared))}",
            )
        metrics.append(name)

    mdfile = src("metadata")
    metadata = data["metadata"]
    if not isinstance(metadata, dict):
        raise TaskSpecError(mdfile, "metadata", "must be a mapping {version: int}")
    extra = sorted(set(metadata) - {"version"})
    if extra:
        raise TaskSpecError(mdfile, f"metadata.{extra[0]}", "unknown key (allowed: version)")
    version = metadata.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise TaskSpecError(mdfile, "metadata.version", f"must be an integer >= 0, got {version!r}")

    return TaskSpec(
        task=task,
        prompts=dict(prompts),
        responses=responses,
        analysis={"name": aname, "args": args},
        metadata={"version": version},
        tag=tuple(tag),
        group=group,
        description=description,
        metric_list=tuple(metrics),
        scope=scope,
        scorer=scorer,
        source=str(file),
    )


def load_task(path: str | Path) -> TaskSpec:
    """Load, merge includes, validate. Raises TaskSpecError naming file and field."""
    file = Path(os.path.normpath(Path(path).resolve()))
    data, origin = _resolve_file(file)
    return _build(data, origin, file)


def _is_fragment(path: Path) -> bool:
    return path.name.startswith("_")


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def discover(include_paths: Iterable[str | Path] = ()) -> dict[str, TaskSpec]:
    """All tasks: the built-in `tasks/` folder plus user folders (or single files). Duplicate names are errors."""
    folders: list[Path] = []
    if BUILTIN_TASKS_DIR.is_dir():
        folders.append(BUILTIN_TASKS_DIR)
    for p in include_paths:
        p = Path(p)
        if not p.exists():
            raise TaskSpecError(p, "", "--include-path does not exist")
        folders.append(p)
    found: dict[str, TaskSpec] = {}
    seen_files: set[Path] = set()
    for folder in folders:
        files = [folder] if folder.is_file() else _yaml_files(folder)
        for f in files:
            f = f.resolve()
            if f in seen_files or _is_fragment(f):
                continue
            seen_files.add(f)
            spec = load_task(f)
            if spec.task in found:
                raise TaskSpecError(f, "task", f"duplicate task name {spec.task!r} (also in {found[spec.task].source})")
            found[spec.task] = spec
    return found


def validate_paths(paths: Iterable[str | Path], check_data: bool = False) -> list[str]:
    """Validate task files or folders; one message per problem (empty list = all valid).

    Fragments (`_*.yaml`) are only checked as part of the tasks that include them. With `check_data`, the
    `responses.path` files and `*path` analysis arguments must exist.
    """
    errors: list[str] = []
    names: dict[str, str] = {}
    for p in paths:
        p = Path(p)
        if not p.exists():
            errors.append(f"{p}: file not found")
            continue
        files = [p] if p.is_file() else [f for f in _yaml_files(p) if not _is_fragment(f)]
        for f in files:
            try:
                spec = load_task(f)
            except TaskSpecError as e:
                errors.append(str(e))
                continue
            if spec.task in names and names[spec.task] != spec.source:
                errors.append(f"{f}: task: duplicate task name {spec.task!r} (also in {names[spec.task]})")
            names.setdefault(spec.task, spec.source)
            if check_data:
                errors.extend(f"{f}: {m}" for m in missing_data(spec))
    return errors


def missing_data(spec: TaskSpec) -> list[str]:
    """`field: data file not found: path` for each data file the task names that does not exist."""
    return [f"{name}: data file not found: {value}" for name, value in _data_paths(spec) if not Path(value).exists()]


def _data_paths(spec: TaskSpec) -> list[tuple[str, str]]:
    out = []
    if spec.responses.get("type") == "items":
        out.append(("responses.path", spec.responses["path"]))

    def walk(v: Any, name: str, key: str) -> None:
        if isinstance(v, dict):
            for k, x in v.items():
                walk(x, f"{name}.{k}", k)
        elif isinstance(v, list):
            for i, x in enumerate(v):
                walk(x, f"{name}[{i}]", key)
        elif isinstance(v, str) and (key == "path" or key.endswith("_path")):
            out.append((name, v))

    walk(spec.analysis.get("args", {}), "analysis.args", "")
    return out


def select_tasks(tasks: dict[str, TaskSpec], names: str | list[str] | None) -> list[TaskSpec]:
    """Tasks named by task, tag or group (comma list), or all; unknown names are a TaskSpecError."""
    if not names or names == "all":
        return list(tasks.values())
    wanted = [n.strip() for n in (names.split(",") if isinstance(names, str) else names) if n.strip()]
    out: dict[str, TaskSpec] = {}
    for name in wanted:
        hits = [t for t in tasks.values() if name in (t.task, t.group) or name in t.tag]
        if not hits:
            raise TaskSpecError("--tasks", name, f"unknown task, tag or group; known tasks: {', '.join(sorted(tasks))}")
        out.update((t.task, t) for t in hits)
    return list(out.values())
