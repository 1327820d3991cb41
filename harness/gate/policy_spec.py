"""Release policies: the YAML format, its dataclasses and the one reader (docs/release-audit.md has the format).

A policy is data from anywhere (docs/security.md): it is read through harness.io.safe_yaml (safe loading, no anchors
or aliases), within a size cap, and every key and value is checked here; an unknown key is an error naming it.
`include: FILE` works as in task files (a path relative to the including file; cycles refused): the included
policy is the base, the including file's top-level keys replace its keys, and its `checks` are merged by `name`
(a check of the same name replaces the base's in its place, new names are added after them). `--policy release-default` (or
any name without a path separator or .yaml suffix) is a built-in policy from harness/gate/policies/.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from harness.io import safe_yaml, untrusted
from harness.errors import UserError
from harness.models.identity import SCORER_KINDS

MAX_POLICY_BYTES = 1 << 20
MAX_CHECKS = 500
RULES = ("point", "ci", "strict")
SANITY_TASK = "sanity"  # the pseudo-task whose metric `accuracy` is the scorer sanity check (results.json `sanity`)
TOP_KEYS = {"policy", "description", "include", "scorers", "sanity_min", "checks"}
CHECK_KEYS = {"name", "description", "task", "metric", "prompt", "column", "min", "max", "rule",
              "inconclusive_passes", "allow_missing", "worsens_by", "better"}
_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
_KEY_PART = re.compile(r"^[A-Za-z0-9_.*-]{1,100}$")


class PolicyError(UserError, ValueError):
    """A policy file that cannot be used as written; the message names the file and the field."""

    def __init__(self, file: Path | str, field_name: str, message: str):
        super().__init__(f"{file}: {field_name}: {message}" if field_name else f"{file}: {message}")


@dataclass(frozen=True)
class Check:
    """One condition on one stored metric (or a family of them: several prompts, or a `*` metric segment)."""

    name: str
    task: str | None  # None when `column` names a board column (resolved against headline.yaml when judged)
    metric: str | None  # the key after the prompt, e.g. "percentile_gap" or "*/percentile_gap" (every axis)
    prompts: tuple[str, ...] | None  # None: every prompt the audit holds for the task ("all")
    min: float | None = None
    max: float | None = None
    rule: str = "point"
    inconclusive_passes: bool | None = None  # None for point rules
    allow_missing: bool = False
    column: str | None = None
    description: str = ""
    binomial_rule: bool = False  # `sanity_min: rule`: judged by the shipped binomial rule, not a threshold
    worsens_by: float | None = None  # a baseline rule: fails when the change from the baseline worsens by more
    better: str | None = None  # which way is better for a baseline rule: higher | lower (default: the column's)

    @property
    def needs_interval(self) -> bool:
        return self.rule != "point"

    def rule_text(self) -> str:
        bounds = [f"worsens by <= {self.worsens_by:g} vs baseline"] if self.worsens_by is not None else []
        if self.min is not None:
            bounds.append(f">= {self.min:g}")
        if self.max is not None:
            bounds.append(f"<= {self.max:g}")
        return " and ".join(bounds)


@dataclass(frozen=True)
class Policy:
    name: str
    scorers: tuple[str, ...]
    checks: tuple[Check, ...]
    source: str  # the file it was read from (a built-in policy: its name)
    description: str = ""
    sanity_min: float | str | None = None  # a number in [0, 1], "rule" (the shipped binomial rule) or None
    files: tuple[str, ...] = field(default=())  # every file read, the policy and its includes


def builtin_policies_dir() -> Path:
    folder = resources.files("harness.gate").joinpath("policies")
    if not isinstance(folder, Path):
        raise UserError(f"built-in policies are not on the file system ({folder}); install rm-harness unzipped")
    return folder


def builtin_names() -> list[str]:
    return sorted(p.stem for p in builtin_policies_dir().glob("*.yaml"))


def policy_path(name_or_path: str) -> Path:
    """The file `--policy` names: a built-in policy by name, else a path."""
    text = str(name_or_path)
    if text and os.sep not in text and "/" not in text and not text.endswith((".yaml", ".yml")):
        path = builtin_policies_dir() / f"{text}.yaml"
        if not path.is_file():
            raise PolicyError(text, "", f"no built-in policy of that name (built-in: {', '.join(builtin_names())}); "
                                        "give a path to your own policy file")
        return path
    return Path(text)


def _read(path: Path, referrer: Path | None) -> dict[str, Any]:
    try:
        raw = untrusted.read_bytes(path, "policy file", max_bytes=MAX_POLICY_BYTES)
    except FileNotFoundError:
        if referrer is not None:
            raise PolicyError(referrer, "include", f"included file not found: {path}") from None
        raise PolicyError(path, "", "file not found; give a policy file or a built-in name "
                                    f"({', '.join(builtin_names())})") from None
    except IsADirectoryError:
        raise PolicyError(path, "", "is a folder, not a policy file") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise PolicyError(path, "", f"not UTF-8 text (byte {e.start}); save the file as UTF-8") from None
    try:
        data = safe_yaml.load(text)
    except yaml.YAMLError as e:
        raise PolicyError(path, "", f"invalid YAML: {' '.join(str(e).split())}") from None
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise PolicyError(path, "", f"top level must be a mapping, got {type(data).__name__}")
    unknown = sorted(str(k) for k in data if str(k) not in TOP_KEYS or not isinstance(k, str))
    if unknown:
        raise PolicyError(path, unknown[0], f"unknown key (allowed: {', '.join(sorted(TOP_KEYS))})")
    return data


def _merged(path: Path, stack: tuple[Path, ...] = ()) -> tuple[dict[str, Any], list[tuple[dict, Path]], list[Path]]:
    """(top-level keys, [(raw check, file)], files) of `path` with its includes merged (see the module doc)."""
    path = Path(os.path.normpath(path.resolve()))
    if path in stack:
        raise PolicyError(stack[-1], "include", "include cycle: " + " -> ".join(str(p) for p in (*stack, path)))
    data = _read(path, stack[-1] if stack else None)
    top: dict[str, Any] = {}
    checks: list[tuple[dict, Path]] = []
    files: list[Path] = []
    if "include" in data:
        inc = data["include"]
        if not isinstance(inc, str) or not inc or "\x00" in inc:
            raise PolicyError(path, "include", f"must be a path string, got {inc!r}")
        inc_path = Path(os.path.expanduser(inc))
        top, checks, files = _merged(inc_path if inc_path.is_absolute() else path.parent / inc_path, (*stack, path))
    for key, value in data.items():
        if key == "include":
            continue
        if key == "checks":
            if not isinstance(value, list):
                raise PolicyError(path, "checks", f"must be a list of checks, got {type(value).__name__}")
            for i, raw in enumerate(value):
                if not isinstance(raw, dict):
                    raise PolicyError(path, f"checks[{i}]", "must be a mapping")
                at = [j for j, (c, _) in enumerate(checks) if c.get("name") == raw.get("name")]
                if at:  # same name: replaces the included check where it stood
                    checks[at[0]] = (raw, path)
                else:
                    checks.append((raw, path))
        else:
            top[key] = value
    return top, checks, [*files, path]


def _number(value: Any, file: Path, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
        raise PolicyError(file, where, f"must be a finite number, got {value!r}")
    return float(value)


def _text(value: Any, file: Path, where: str, pattern: re.Pattern = _KEY_PART) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise PolicyError(file, where, f"must be a name of letters, digits and _ . - (at most 100), got {value!r}")
    return value


def _check(raw: dict[str, Any], file: Path, i: int) -> Check:
    where = f"checks[{i}]"
    unknown = sorted(str(k) for k in raw if k not in CHECK_KEYS)
    if unknown:
        raise PolicyError(file, f"{where}.{unknown[0]}", f"unknown key (allowed: {', '.join(sorted(CHECK_KEYS))})")
    name = _text(raw.get("name"), file, f"{where}.name", _NAME)
    where = f"checks[{name}]"
    column = raw.get("column")
    if column is not None:
        column = _text(column, file, f"{where}.column")
        if "task" in raw or "metric" in raw:
            raise PolicyError(file, where, "give either `column` (a board column id) or `task` and `metric`, not both")
        task = metric = None
    else:
        if "task" not in raw or "metric" not in raw:
            raise PolicyError(file, where, "needs `task` and `metric` (the key after the prompt), or `column`")
        task = _text(raw["task"], file, f"{where}.task")
        metric = raw["metric"]
        if not isinstance(metric, str) or not metric or len(metric) > 300 or \
                not all(_KEY_PART.match(p) for p in metric.split("/")):
            raise PolicyError(file, f"{where}.metric", f"must be a metric key such as percentile_gap or "
                                                       f"*/percentile_gap, got {metric!r}")
        if any("*" in p and p != "*" for p in metric.split("/")):
            raise PolicyError(file, f"{where}.metric", "`*` stands for a whole key segment (e.g. */percentile_gap)")
    prompt = raw.get("prompt", "all")
    if prompt == "all":
        prompts = None
    elif isinstance(prompt, str):
        prompts = (_text(prompt, file, f"{where}.prompt"),)
    elif isinstance(prompt, list) and prompt:
        prompts = tuple(_text(p, file, f"{where}.prompt") for p in prompt)
    else:
        raise PolicyError(file, f"{where}.prompt", f"must be a prompt key, a list of them or `all`, got {prompt!r}")
    lo = _number(raw["min"], file, f"{where}.min") if "min" in raw else None
    hi = _number(raw["max"], file, f"{where}.max") if "max" in raw else None
    worsens = _number(raw["worsens_by"], file, f"{where}.worsens_by") if "worsens_by" in raw else None
    better = raw.get("better")
    if better is not None and better not in ("higher", "lower"):
        raise PolicyError(file, f"{where}.better", f"must be higher or lower, got {better!r}")
    if worsens is not None:
        if worsens < 0 or lo is not None or hi is not None:
            raise PolicyError(file, f"{where}.worsens_by", "a baseline rule takes a tolerance >= 0 and no min/max")
    elif better is not None:
        raise PolicyError(file, f"{where}.better", "applies only to a baseline rule (worsens_by)")
    if lo is None and hi is None and worsens is None:
        raise PolicyError(file, where, "needs a threshold: `min`, `max` or both (or `worsens_by` against a baseline)")
    if lo is not None and hi is not None and lo > hi:
        raise PolicyError(file, where, f"min {lo:g} is above max {hi:g}: no value could pass")
    rule = raw.get("rule", "point")
    if rule not in RULES:
        raise PolicyError(file, f"{where}.rule", f"must be one of {', '.join(RULES)}, got {rule!r}")
    passes = raw.get("inconclusive_passes")
    if passes is not None and not isinstance(passes, bool):
        raise PolicyError(file, f"{where}.inconclusive_passes", f"must be true or false, got {passes!r}")
    if rule == "point" and passes is not None:
        raise PolicyError(file, f"{where}.inconclusive_passes", "applies only to the interval rules (ci, strict): "
                                                                "a point value is never inconclusive")
    if rule != "point" and passes is None:
        passes = rule == "ci"  # ci: benefit of the doubt; strict: the interval must clear the threshold
    allow = raw.get("allow_missing", False)
    if not isinstance(allow, bool):
        raise PolicyError(file, f"{where}.allow_missing", f"must be true or false, got {allow!r}")
    desc = raw.get("description", "")
    if not isinstance(desc, str) or len(desc) > 2000:
        raise PolicyError(file, f"{where}.description", "must be text of at most 2,000 characters")
    return Check(name=name, task=task, metric=metric, prompts=prompts, min=lo, max=hi, rule=rule,
                 inconclusive_passes=passes, allow_missing=allow, column=column, description=" ".join(desc.split()),
                 worsens_by=worsens, better=better)


def load_policy(name_or_path: str | os.PathLike[str]) -> Policy:
    """Read, merge includes, validate. Raises PolicyError (exit 2) naming the file and the field."""
    path = policy_path(str(name_or_path))
    top, raw_checks, files = _merged(path)
    where = files[-1]
    name = top.get("policy")
    if not isinstance(name, str) or not _NAME.match(name):
        raise PolicyError(where, "policy", f"needs a name (letters, digits, _ . - :), got {name!r}")
    scorers = top.get("scorers")
    if isinstance(scorers, str):
        scorers = [scorers]
    if not isinstance(scorers, list) or not scorers or any(s not in SCORER_KINDS for s in scorers):
        raise PolicyError(where, "scorers", f"must list the scorer kinds this policy gates ({', '.join(SCORER_KINDS)})"
                                            f", got {scorers!r}")
    sanity = top.get("sanity_min")
    if sanity is not None and sanity != "rule":
        sanity = _number(sanity, where, "sanity_min")
        if not 0.0 <= sanity <= 1.0:
            raise PolicyError(where, "sanity_min", f"is an accuracy between 0 and 1 (or `rule`), got {sanity:g}")
    if len(raw_checks) > MAX_CHECKS:
        raise PolicyError(where, "checks", f"{len(raw_checks)} checks, over the limit of {MAX_CHECKS}")
    checks = tuple(_check(raw, file, i) for i, (raw, file) in enumerate(raw_checks))
    names = [c.name for c in checks] + (["sanity"] if sanity is not None else [])
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise PolicyError(where, f"checks[{dup[0]}]", "two checks share this name (the name `sanity` is taken by "
                                                      "sanity_min)")
    if not checks and sanity is None:
        raise PolicyError(where, "checks", "the policy checks nothing: add checks or sanity_min")
    desc = top.get("description", "")
    return Policy(name=name, scorers=tuple(scorers), checks=checks, source=str(name_or_path),
                  description=" ".join(str(desc).split()) if isinstance(desc, str) else "",
                  sanity_min=sanity, files=tuple(str(f) for f in files))
