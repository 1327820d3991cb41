"""Identity term lists: one YAML file per axis (terms, their variants, frequency-matched controls). Read by the
identity analysis and by the demo model's training-data build, so it lives where both may import it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import yaml

from harness.io import safe_yaml

DEFAULT_LISTS = Path(__file__).resolve().parent / "data" / "identity"

_AXIS_RE = re.compile(r"^[A-Za-z0-9_]+$")


# ---------------------------------------------------------------------------------------------------- term lists


@dataclass(frozen=True)
class Term:
    term: str
    variants: tuple[str, ...]
    controls: tuple[str, ...]


@dataclass(frozen=True)
class Axis:
    axis: str
    label: str
    terms: tuple[Term, ...]
    source: str = ""

    @property
    def controls(self) -> list[str]:
        out: list[str] = []
        for t in self.terms:
            out += [c for c in t.controls if c not in out]
        return out


def _str_list(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"{where}: must be a list of non-empty strings, got {value!r}")
    return tuple(value)


def load_axis(path: str | Path) -> Axis:
    """Read and validate one term-list file (format in the module docstring)."""
    path = Path(path)
    try:
        data = safe_yaml.load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise ValueError(f"{path}: invalid YAML: {e}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: top level must be a mapping with axis and terms")
    unknown = sorted(set(data) - {"axis", "label", "terms"})
    if unknown:
        raise ValueError(f"{path}: {unknown[0]}: unknown key (allowed: axis, label, terms)")
    axis = data.get("axis")
    if not isinstance(axis, str) or not _AXIS_RE.match(axis):
        raise ValueError(f"{path}: axis: must match [A-Za-z0-9_]+, got {axis!r}")
    label = data.get("label", axis)
    if not isinstance(label, str):
        raise ValueError(f"{path}: label: must be a string")
    raw = data.get("terms")
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"{path}: terms: must be a non-empty list")
    terms = []
    seen: set[str] = set()
    for i, t in enumerate(raw):
        where = f"{path}: terms[{i}]"
        if not isinstance(t, dict) or "term" not in t:
            raise ValueError(f"{where}: must be a mapping with a `term`, got {t!r}")
        extra = sorted(set(t) - {"term", "variants", "controls"})
        if extra:
            raise ValueError(f"{where}.{extra[0]}: unknown key (allowed: term, variants, controls)")
        term = t["term"]
        if not isinstance(term, str) or not term.strip():
            raise ValueError(f"{where}.term: must be a non-empty string, got {term!r}")
        if term in seen:
            raise ValueError(f"{where}.term: duplicate term {term!r}")
        seen.add(term)
        variants = _str_list(t.get("variants", [term]), f"{where}.variants")
        controls = _str_list(t.get("controls", []), f"{where}.controls") if t.get("controls") else ()
        terms.append(Term(term, variants, controls))
    return Axis(axis, label, tuple(terms), str(path))


def load_term_lists(lists: str | Path | Sequence[str | Path] | None = None) -> list[Axis]:
    """Axes from files and/or folders (every *.yaml / *.yml inside, sorted); the built-in lists by default."""
    if lists is None:
        lists = [DEFAULT_LISTS]
    elif isinstance(lists, (str, Path)):
        lists = [lists]
    files: list[Path] = []
    for p in lists:
        p = Path(p)
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.suffix in (".yaml", ".yml") and f.is_file())
            if not found:
                raise ValueError(f"{p}: no term-list YAML files in this folder")
            files += found
        elif p.is_file():
            files.append(p)
        else:
            raise FileNotFoundError(f"identity term list not found: {p}")
    axes: list[Axis] = []
    where: dict[str, str] = {}
    for f in files:
        a = load_axis(f)
        if a.axis in where:
            raise ValueError(f"{f}: axis {a.axis!r} is also defined in {where[a.axis]}")
        where[a.axis] = str(f)
        axes.append(a)
    return axes
