"""Value rules for analysis arguments, declared beside the argument with `typing.Annotated`:

    def token_optimality(tables, k: Annotated[int, Range(1)] = 20, ...)

`tasks validate` (and every run, before any model loads) checks a task's `analysis.args` against these rules, so a
`k: 0` fails in validation instead of crashing the analysis after the scan. Rules: `Range` (numbers: bounds, and
always finite), `OneOf` (a fixed set of values) and `CsvColumns` (a path argument naming a CSV file that must have
these columns). This module imports nothing heavy, so configuration classes (GCG) use it too.
"""

from __future__ import annotations

import inspect
import math
import typing
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Range:
    """A finite number within [low, high] (bounds optional; `open_low`/`open_high` exclude the bound itself)."""

    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False

    def describe(self) -> str:
        if self.low is not None and self.high is not None:
            return (f"a number {'above' if self.open_low else 'from'} {self.low:g} "
                    f"{'and below' if self.open_high else 'to'} {self.high:g}")
        if self.low is not None:
            return f"a number {'above' if self.open_low else 'of at least'} {self.low:g}"
        if self.high is not None:
            return f"a number {'below' if self.open_high else 'of at most'} {self.high:g}"
        return "a finite number"

    def problem(self, value: Any) -> str | None:
        """Why `value` breaks the rule, or None (None values and non-numbers are the type check's business)."""
        if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        if not math.isfinite(value):
            return f"must be {self.describe()}, got {value!r}"
        too_low = self.low is not None and (value <= self.low if self.open_low else value < self.low)
        too_high = self.high is not None and (value >= self.high if self.open_high else value > self.high)
        return f"must be {self.describe()}, got {value!r}" if too_low or too_high else None


@dataclass(frozen=True, init=False)
class OneOf:
    """One of a fixed set of values."""

    choices: tuple[Any, ...]

    def __init__(self, *choices: Any):
        object.__setattr__(self, "choices", tuple(choices))

    def problem(self, value: Any) -> str | None:
        if value is None or value in self.choices:
            return None
        return f"must be one of {', '.join(map(str, self.choices))}, got {value!r}"


@dataclass(frozen=True, init=False)
class CsvColumns:
    """The CSV file a path argument names must have these columns (checked with the data, when the file exists:
    harness.tasks.spec.check_data_columns)."""

    columns: tuple[str, ...]

    def __init__(self, *columns: str):
        object.__setattr__(self, "columns", tuple(columns))

    def problem(self, value: Any) -> str | None:
        return None


RULE_TYPES = (Range, OneOf, CsvColumns)


def rules(fn: Any) -> dict[str, tuple[Any, tuple[Any, ...]]]:
    """Per parameter of `fn` (a function; an object with a `__signature__`, whose annotations are objects; or a
    dataclass, per field): (its annotation without the rules, the rules). Parameters without rules are left out."""
    if hasattr(fn, "__signature__") and not inspect.isclass(fn):  # a model task: its signature is built, not written
        hints = {n: p.annotation for n, p in fn.__signature__.parameters.items()}
    else:
        try:
            hints = typing.get_type_hints(fn, include_extras=True)
        except Exception:  # noqa: BLE001 - unresolvable annotations declare no rules
            hints = {}
    out = {}
    for name, hint in hints.items():
        meta = tuple(m for m in getattr(hint, "__metadata__", ()) if isinstance(m, RULE_TYPES))
        if meta:
            out[name] = (typing.get_args(hint)[0], meta)
    return out


def problem(declared: tuple[Any, ...], value: Any) -> str | None:
    """The first rule `value` breaks (a list value is checked item by item), or None."""
    values = value if isinstance(value, (list, tuple)) else [value]
    for rule in declared:
        for v in values:
            why = rule.problem(v)
            if why:
                return why
    return None
