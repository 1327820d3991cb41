"""Field checks: a task file's merged mapping → a `TaskSpec` (every problem a `TaskSpecError` naming file and
field), and the reference-data checks a run makes before scoring (files present, CSV columns).
"""

from __future__ import annotations

import hashlib
import inspect
import math
import os
import re
from pathlib import Path
from typing import Any

from harness.data_paths import SharedDataNotFound, reference_source, shared_data_dir
from harness.models.kinds import SCORER_KINDS
from harness.tasks import catalog
from harness.tasks.reading import _UNRESOLVED, _Loaded, _resolve_file, _Vars, expand_vars, resolve_path
from harness.tasks.spec import TaskSpec, TaskSpecError


REQUIRED_KEYS = ("task", "prompts", "responses", "analysis", "metadata")
SCOPES = ("model", "models")
SCORERS = (*SCORER_KINDS, "any")
RESPONSE_KEYS = {
    "vocabulary": {"type"},
    "items": {"type", "path", "dataset", "subset", "split", "revision", "column", "keep_columns"},
}
METRIC_KEYS = {"metric", "aggregation", "higher_is_better"}
_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]+$")


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
    declared = catalog.declared_metrics(aname) if metric_list else None
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
    known = catalog.names()
    if aname not in known:
        raise TaskSpecError(afile, "analysis.name", f"unknown analysis {aname!r}; known: {', '.join(known)}")
    args = analysis.get("args") or {}
    if not isinstance(args, dict):
        raise TaskSpecError(afile, "analysis.args", "must be a mapping")
    args = _resolve_args(args, afile.parent, afile, "analysis.args", variables)
    _check_analysis_args(catalog.lookup(aname).fn, args, afile)
    # an analysis may also declare how its arguments depend on the responses (e.g. where human Elo comes from)
    cross_check = getattr(catalog.lookup(aname).fn, "check_task", None)
    problem = cross_check(args, responses) if cross_check is not None else None
    if problem:
        raise TaskSpecError(afile, problem[0], problem[1])
    if scorer != "any" and scorer not in catalog.scorers(aname):  # a task may narrow the kinds, never widen
        raise TaskSpecError(src("scorer"), "scorer", f"analysis {aname!r} is not valid for {scorer!r} scorers "
                            f"(valid: {', '.join(sorted(catalog.scorers(aname)))}); use one of those or any")

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
    for name, (_, declared) in rules(catalog.lookup(spec.analysis_name).fn).items():
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
