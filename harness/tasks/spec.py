"""Task YAML → validated, frozen `TaskSpec`. The format is documented in docs/tasks.md.

YAML is data: it is read with safe loading and no anchors or aliases (`harness.safe_yaml`), checked field by
field, and never executes code. Every problem raises `TaskSpecError` naming the file and the field.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import math
import os
import re
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import yaml

from harness import safe_yaml
from harness.tasks import lmeval_compat
from harness.data_paths import (  # noqa: F401 (SHARED_DATA_ENV re-exported)
    SHARED_DATA_ENV,
    SharedDataNotFound,
    package_data_dir,
    portable,
    portable_path,
    reference_source,
    shared_data_dir,
)
from harness.errors import UserError

TOP_KEYS = {
    "task", "tag", "group", "include", "description", "prompts", "responses", "scope", "scorer",
    "analysis", "metric_list", "metadata",
}
REQUIRED_KEYS = ("task", "prompts", "responses", "analysis", "metadata")
SCOPES = ("model", "models")
SCORERS = ("reward", "lm_logprob", "dpo", "any")
RESPONSE_KEYS = {
    "vocabulary": {"type"},
    "items": {"type", "path", "dataset", "subset", "split", "revision", "column", "keep_columns"},
}
METRIC_KEYS = {"metric", "aggregation", "higher_is_better"}
_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]+$")
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


class TaskSpecError(UserError, ValueError):
    """A task file is invalid; the message names the file and the field."""

    def __init__(self, file: Path | str, field_name: str, message: str):
        self.file = str(file)
        self.field = field_name
        super().__init__(f"{file}: {field_name}: {message}" if field_name else f"{file}: {message}")


def builtin_tasks_dir() -> Path:
    """The built-in task YAMLs shipped inside the package (`harness/tasks/builtin/`)."""
    folder = resources.files("harness.tasks").joinpath("builtin")
    if not isinstance(folder, Path):  # a zipped install: task files must be real files (includes, relative paths)
        raise UserError(f"built-in tasks are not on the file system ({folder}); install rm-harness unzipped")
    return folder


BUILTIN_TASKS_DIR = builtin_tasks_dir()


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
        return not (reference_free and scorer_kind == "dpo" and not analysis_reads_logprobs(self.analysis_name))

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
    valid = analysis_scorers(spec.analysis_name)
    return valid if spec.scorer == "any" else valid & {spec.scorer}


def same_version(a: Any, b: Any) -> bool:
    """Task versions are equal only as written: 1 and 1.0 differ, as do 1.5 and 1 (compare `version_text`)."""
    return str(a) == str(b)


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


def analysis_reads_logprobs(name: str) -> bool:
    """Whether an analysis can interpret log-probability scores (model-level tasks: as their kinds say)."""
    from harness.tasks import model_tasks

    task = model_tasks.get(name)
    if task is not None:
        return "lm_logprob" in task.scorers
    from harness.analyses import registry

    return registry.reads_logprobs(name)


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


RESERVED_SELECTORS = ("all",)  # `--tasks all` means every task: no task, tag or group may take the name


def _check_not_reserved(name: str, file: Path, field_name: str) -> None:
    if name in RESERVED_SELECTORS:
        raise TaskSpecError(file, field_name, f"{name!r} is reserved (`--tasks {name}` selects every task); "
                                              "choose another name")


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
    from harness.analyses.arg_rules import problem, rules

    declared = rules(fn)  # value rules (ranges, choices) declared beside each argument with Annotated[...]
    for p in params:
        if p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            if p.name not in args:
                raise TaskSpecError(file, f"analysis.args.{p.name}", "required argument missing")
        if p.name in args:
            base, arg_rules = declared.get(p.name, (p.annotation, ()))
            _check_arg_type(p.replace(annotation=base), args[p.name], file)
            why = problem(arg_rules, args[p.name])
            if why:
                raise TaskSpecError(file, f"analysis.args.{p.name}", f"{why}; fix the value")


# what a YAML value must be for a parameter annotated (or defaulted) as this type
_ARG_TYPES: dict[str, tuple[type, ...]] = {"int": (int,), "float": (int, float), "bool": (bool,), "str": (str,),
                                           "list": (list,)}
_ANNOTATION = re.compile(r"^(?:typing\.)?(?:Optional\[)?(int|float|bool|str|list|List|Sequence|tuple|Tuple)\b")


def _expected_type(p: inspect.Parameter) -> tuple[str | None, bool]:
    """(int|float|bool|str|list or None when unchecked, whether None is allowed) from annotation or default."""
    ann = p.annotation
    if ann is not inspect.Parameter.empty:
        text = (ann if isinstance(ann, str) else ann.__name__ if isinstance(ann, type) else str(ann)).strip("'\"")
        parts = [t.strip() for t in text.split("|")]
        nullable = "None" in parts or text.startswith(("Optional[", "typing.Optional["))
        m = _ANNOTATION.match(parts[0]) if len([t for t in parts if t != "None"]) == 1 else None
        if m is None:
            return None, True
        name = m.group(1).lower()
        return ("list" if name in ("list", "sequence", "tuple") else name), nullable or p.default is None
    d = p.default  # unannotated: only unambiguous defaults (a str default like "auto" often also takes an int)
    for name in ("bool", "int", "float", "list"):
        if type(d).__name__ == name:
            return name, False
    return None, True


def _check_arg_type(p: inspect.Parameter, value: Any, file: Path) -> None:
    expected, nullable = _expected_type(p)
    if expected is None or (value is None and nullable):
        return
    ok = isinstance(value, _ARG_TYPES[expected]) and not (expected in ("int", "float") and isinstance(value, bool))
    if not ok:
        raise TaskSpecError(file, f"analysis.args.{p.name}",
                            f"must be {'a' if expected != 'int' else 'an'} {expected}, got {value!r}; fix the value")
    if expected == "float" and not math.isfinite(value):  # YAML's .nan / .inf: never a meaningful setting
        raise TaskSpecError(file, f"analysis.args.{p.name}", f"must be a finite number, got {value!r}; fix the value")


def _resolve_args(value: Any, base_dir: Path, file: Path, name: str, variables: _Vars, key: str = "") -> Any:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TaskSpecError(file, f"{name}.{k}", "argument names must be strings")
            out[k] = _resolve_args(v, base_dir, file, f"{name}.{k}", variables, k)
        return out
    if isinstance(value, list):
        return [_resolve_args(v, base_dir, file, f"{name}[{i}]", variables, key) for i, v in enumerate(value)]
    if isinstance(value, str):
        if key == "path" or key.endswith("_path"):
            return resolve_path(value, base_dir, file, name, variables)
        return expand_vars(value, file, name, variables)
    return value


def is_local_dataset(dataset: str) -> bool:
    """A `responses.dataset` written as a path (absolute, `./`, `../`, `~`, `${SHARED_DATA}`), not a Hub id."""
    return dataset.startswith(("/", "./", "../", "~", "${")) or dataset in (".", "..")


def _check_responses(responses: Any, rfile: Path, variables: _Vars) -> dict[str, Any]:
    if not isinstance(responses, dict):
        raise TaskSpecError(rfile, "responses", "must be a mapping with a `type`")
    rtype = responses.get("type")
    if rtype not in RESPONSE_KEYS:
        raise TaskSpecError(rfile, "responses.type", f"must be one of {', '.join(RESPONSE_KEYS)}, got {rtype!r}")
    extra = sorted(set(responses) - RESPONSE_KEYS[rtype])
    if extra:
        raise TaskSpecError(rfile, f"responses.{extra[0]}", f"unknown key for type {rtype}")
    responses = dict(responses)
    if rtype != "items":
        return responses
    if ("path" in responses) == ("dataset" in responses):
        raise TaskSpecError(rfile, "responses.path", "type items needs exactly one of `path` (a CSV file) or `dataset`")
    if "column" not in responses:
        raise TaskSpecError(rfile, "responses.column", "required for type items")
    _check_str(responses["column"], rfile, "responses.column")
    if "path" in responses:
        for k in ("subset", "split", "revision"):
            if k in responses:
                raise TaskSpecError(rfile, f"responses.{k}", "only for a `dataset` source, not a CSV `path`")
        responses["path"] = resolve_path(responses["path"], rfile.parent, rfile, "responses.path", variables)
    else:
        dataset = _check_str(responses["dataset"], rfile, "responses.dataset")
        if is_local_dataset(dataset):
            responses["dataset"] = resolve_path(dataset, rfile.parent, rfile, "responses.dataset", variables)
        responses["split"] = _check_str(responses.get("split", "train"), rfile, "responses.split")
        for k in ("subset", "revision"):
            _check_str(responses.get(k), rfile, f"responses.{k}", optional=True)
    keep = responses.get("keep_columns", [])
    if not isinstance(keep, list) or not all(isinstance(c, str) and c for c in keep):
        raise TaskSpecError(rfile, "responses.keep_columns", f"must be a list of column names, got {keep!r}")
    responses["keep_columns"] = list(keep)
    return responses


def _check_metric_list(
    metric_list: Any, aname: str, mfile: Path
) -> tuple[list[str], dict[str, dict[str, Any]]]:
    if not isinstance(metric_list, list):
        raise TaskSpecError(mfile, "metric_list", "must be a list of {metric: name} mappings")
    metrics: list[str] = []
    options: dict[str, dict[str, Any]] = {}
    declared = declared_metrics(aname) if metric_list else None
    if metric_list and declared is None:
        raise TaskSpecError(mfile, "metric_list", f"analysis {aname!r} declares no METRICS, cannot check names")
    for i, entry in enumerate(metric_list):
        where = f"metric_list[{i}]"
        if not isinstance(entry, dict) or "metric" not in entry:
            raise TaskSpecError(mfile, where, f"must be a mapping {{metric: name}}, got {entry!r}")
        extra = sorted(set(entry) - METRIC_KEYS)
        if extra:
            allowed = ", ".join(sorted(METRIC_KEYS))
            raise TaskSpecError(mfile, f"{where}.{extra[0]}", f"unknown key (allowed: {allowed})")
        name = _check_str(entry["metric"], mfile, f"{where}.metric")
        short = name.split("/")[-1]
        if short not in declared:
            raise TaskSpecError(
                mfile, f"{where}.metric",
                f"unknown metric {name!r} for analysis {aname!r}; declared: {', '.join(sorted(declared))}",
            )
        opts: dict[str, Any] = {}
        if "aggregation" in entry:  # analyses aggregate themselves: recorded for lm-eval users, not applied
            opts["aggregation"] = _check_str(entry["aggregation"], mfile, f"{where}.aggregation")
        if "higher_is_better" in entry:
            hib = entry["higher_is_better"]
            if not isinstance(hib, bool):
                raise TaskSpecError(mfile, f"{where}.higher_is_better", f"must be true or false, got {hib!r}")
            direction = declared[short][0]
            if direction is not None and direction != hib:
                raise TaskSpecError(
                    mfile, f"{where}.higher_is_better",
                    f"{hib} contradicts analysis {aname!r}, which declares {short!r} higher_is_better={direction}",
                )
            opts["higher_is_better"] = hib
        metrics.append(name)
        if opts:
            options[name] = opts
    return metrics, options


def _check_metadata(metadata: Any, mdfile: Path, version_text: str | None) -> tuple[dict[str, Any], str]:
    if not isinstance(metadata, dict):
        raise TaskSpecError(mdfile, "metadata", "must be a mapping {version: number}")
    if "version" not in metadata:
        raise TaskSpecError(mdfile, "metadata.version", "required field missing")
    version = metadata["version"]
    ok = isinstance(version, (int, float)) and not isinstance(version, bool) and math.isfinite(version)
    if not ok or version < 0:
        raise TaskSpecError(mdfile, "metadata.version", f"must be a number >= 0 (int or float), got {version!r}")
    # Other metadata keys are free-form, as in lm-eval; they are kept and recorded in results.json `configs`.
    return dict(metadata), version_text or str(version)


def _file_hash(contents: list[bytes]) -> str:
    h = hashlib.sha256()
    for raw in contents:  # length-prefixed, so moving bytes between a file and its include changes the hash
        h.update(len(raw).to_bytes(8, "big"))
        h.update(raw)
    return h.hexdigest()


def _build(loaded: _Loaded, file: Path, variables: _Vars) -> TaskSpec:
    data, origin = loaded.data, loaded.origin
    for key in REQUIRED_KEYS:
        if key not in data:
            raise TaskSpecError(file, key, "required field missing")

    def src(key: str) -> Path:
        return origin.get(key, file)

    task = _check_str(data["task"], src("task"), "task")
    if not _NAME_RE.match(task):
        raise TaskSpecError(src("task"), "task", f"{task!r}: use letters, digits, '_', '.', '-' only")
    _check_not_reserved(task, src("task"), "task")

    tag = data.get("tag", [])
    if isinstance(tag, str):
        tag = [tag]
    if not isinstance(tag, list) or not all(isinstance(t, str) and t for t in tag):
        raise TaskSpecError(src("tag"), "tag", f"must be a string or a list of strings, got {tag!r}")
    group = _check_str(data.get("group"), src("group"), "group", optional=True)
    for name in tag:
        _check_not_reserved(name, src("tag"), "tag")
    if group is not None:
        _check_not_reserved(group, src("group"), "group")
    description = _check_str(data.get("description"), src("description"), "description", optional=True)

    prompts = data["prompts"]
    if not isinstance(prompts, dict) or not prompts:
        raise TaskSpecError(src("prompts"), "prompts", "must be a non-empty mapping key -> prompt string")
    for k, v in prompts.items():
        if not isinstance(k, str) or not _NAME_RE.match(k) or "/" in k:
            raise TaskSpecError(src("prompts"), f"prompts.{k}", "prompt keys must match [A-Za-z0-9_.-]+")
        if not isinstance(v, str) or not v.strip():
            raise TaskSpecError(src("prompts"), f"prompts.{k}", f"must be a non-empty string, got {v!r}")

    responses = _check_responses(data["responses"], src("responses"), variables)

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
    args = _resolve_args(args, afile.parent, afile, "analysis.args", variables)
    _check_analysis_args(analysis_callable(aname), args, afile)
    # an analysis may also declare how its arguments depend on the responses (e.g. where human Elo comes from)
    cross_check = getattr(analysis_callable(aname), "check_task", None)
    problem = cross_check(args, responses) if cross_check is not None else None
    if problem:
        raise TaskSpecError(afile, problem[0], problem[1])
    if scorer != "any" and scorer not in analysis_scorers(aname):  # a task may narrow the kinds, never widen
        raise TaskSpecError(src("scorer"), "scorer", f"analysis {aname!r} is not valid for {scorer!r} scorers "
                            f"(valid: {', '.join(sorted(analysis_scorers(aname)))}); use one of those or any")

    metrics, options = _check_metric_list(data.get("metric_list", []), aname, src("metric_list"))
    metadata, version_text = _check_metadata(data["metadata"], src("metadata"), loaded.version_text)

    return TaskSpec(
        task=task,
        prompts=dict(prompts),
        responses=responses,
        analysis={"name": aname, "args": args},
        metadata=metadata,
        tag=tuple(tag),
        group=group,
        description=description,
        metric_list=tuple(metrics),
        scope=scope,
        scorer=scorer,
        source=str(file),
        version_text=version_text,
        file_hash=_file_hash(loaded.contents),
        metric_options=options,
    )


def load_task(path: str | Path, shared_data: str | os.PathLike[str] | None = None) -> TaskSpec:
    """Load, merge includes, validate. Raises TaskSpecError naming file and field.

    `shared_data` is a `--shared-data` flag value for `${SHARED_DATA}` (else `$RM_HARNESS_SHARED_DATA`, else the
    checkout's `../shared/data`; see `harness.data_paths`).
    """
    return _load(path, _Vars(shared_data))


def _load(path: str | Path, variables: _Vars) -> TaskSpec:
    file = Path(os.path.normpath(Path(path).resolve()))
    return _build(_resolve_file(file, variables), file, variables)


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


def _csv_header(path: str) -> list[str]:
    """The first non-blank row of a CSV file (UTF-8, a BOM ignored), read from its first megabyte."""
    import csv
    import io

    with open(path, "rb") as fh:
        head = fh.read(1 << 20)
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        text = head[: e.start].decode("utf-8-sig")  # the cut may split a character; the header comes first
    for row in csv.reader(io.StringIO(text, newline="")):
        if row:
            return row
    return []


def check_data_columns(spec: TaskSpec) -> None:
    """Each CSV file an analysis argument names has the columns the analysis declares for it (`CsvColumns`),
    checked from the header before anything is scored. A missing file is `missing_data`'s business."""
    from harness.analyses.arg_rules import CsvColumns, rules

    args = spec.analysis.get("args", {})
    for name, (_, declared) in rules(analysis_callable(spec.analysis_name)).items():
        value = args.get(name)
        if not isinstance(value, str) or not Path(value).is_file():
            continue
        for rule in declared:
            if not isinstance(rule, CsvColumns):
                continue
            try:
                header = _csv_header(value)
            except OSError as e:
                raise TaskSpecError(spec.source, f"analysis.args.{name}", f"cannot read {value} ({e.strerror})") from None
            missing = [c for c in rule.columns if c not in header]
            if missing:
                raise TaskSpecError(
                    spec.source, f"analysis.args.{name}",
                    f"{value} has no column {missing[0]!r} (its columns: {', '.join(map(repr, header)) or 'none'}); "
                    f"analysis {spec.analysis_name!r} needs the columns {', '.join(rule.columns)}")


def missing_data(spec: TaskSpec) -> list[str]:
    """`field: data file not found: path` for each data file the task names that does not exist."""
    out = []
    for name, value in _data_paths(spec):
        if Path(value).exists():
            continue
        msg = f"{name}: data file not found: {value}"
        if _UNRESOLVED in value:
            try:
                shared_data_dir()
            except SharedDataNotFound as e:
                msg += f" ({e})"
        source = reference_source(value)
        if source:
            msg += f"; it comes from {source}"
        out.append(msg)
    return out


def _data_paths(spec: TaskSpec) -> list[tuple[str, str]]:
    out = []
    if spec.responses.get("type") == "items":
        if "path" in spec.responses:
            out.append(("responses.path", spec.responses["path"]))
        elif is_local_dataset(spec.responses["dataset"]):
            out.append(("responses.dataset", spec.responses["dataset"]))

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

