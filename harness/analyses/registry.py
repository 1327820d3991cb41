"""Name → analysis function, and the scorer kinds each analysis is valid for.

Task YAMLs refer to analyses by these names; YAML never executes code. Each analysis declares, where it is
registered, the scorer kinds whose scores it can interpret (`SCORER_KINDS`: reward, lm_logprob, dpo), and, for the
kinds it refuses, why. A task's `scorer:` may narrow that set, never widen it (harness/tasks/spec.py). An analysis
that declares nothing is taken as reward-only: the kind the harness was built for.
"""

from __future__ import annotations

from typing import Callable, Iterable, Mapping

from harness.analyses.base import SCORER_KINDS, AnalysisResult

AnalysisFn = Callable[..., AnalysisResult]
_REGISTRY: dict[str, AnalysisFn] = {}
_SCORERS: dict[str, frozenset[str]] = {}
_WHY_NOT: dict[str, dict[str, str]] = {}
_JOINS: dict[str, frozenset[str]] = {}
_HELPERS = {"arg_rules", "base", "registry", "lexicons", "plots", "rank_stats"}  # modules that register nothing


def register(name: str, scorers: Iterable[str] = ("reward",),
             why_not: Mapping[str, str] | None = None,
             joins: Iterable[str] = ()) -> Callable[[AnalysisFn], AnalysisFn]:
    """Register `fn` as analysis `name`, valid for the scorer kinds `scorers`.

    `why_not`: kind -> one-line reason the analysis does not apply to that kind (shown when it is skipped).
    `joins`: for a between-model analysis, other kinds whose tables it takes as the comparison side (it still
    needs at least one model of a kind in `scorers`).
    """
    kinds = frozenset(scorers)
    unknown = sorted(kinds - set(SCORER_KINDS))
    if not kinds or unknown:
        raise ValueError(f"analysis {name!r}: scorers must be a non-empty subset of {SCORER_KINDS}, got {sorted(kinds)}")
    bad = sorted(set(why_not or {}) & kinds)
    if bad:
        raise ValueError(f"analysis {name!r}: why_not names kinds it is valid for: {bad}")

    def deco(fn: AnalysisFn) -> AnalysisFn:
        if name in _REGISTRY and _REGISTRY[name] is not fn:
            raise ValueError(f"analysis {name!r} is registered twice")
        _REGISTRY[name] = fn
        _SCORERS[name] = kinds
        _WHY_NOT[name] = dict(why_not or {})
        _JOINS[name] = frozenset(joins)
        return fn

    return deco


def _load_builtin() -> None:
    # Importing the modules runs their @register decorators.
    import importlib
    import pkgutil

    import harness.analyses as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        if mod.name not in _HELPERS:
            importlib.import_module(f"harness.analyses.{mod.name}")


def get(name: str) -> AnalysisFn:
    _load_builtin()
    if name not in _REGISTRY:
        raise KeyError(f"unknown analysis {name!r}; known: {', '.join(sorted(_REGISTRY)) or '(none)'}")
    return _REGISTRY[name]


def names() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY)


def scorers(name: str) -> frozenset[str]:
    """The scorer kinds analysis `name` is valid for."""
    get(name)
    return _SCORERS[name]


def skip_reason(name: str, kind: str) -> str | None:
    """None when analysis `name` applies to scorer kind `kind`; else one line saying why it is skipped."""
    valid = scorers(name)
    if kind in valid:
        return None
    why = _WHY_NOT[name].get(kind) or f"it is valid only for {', '.join(sorted(valid))} scorers"
    return f"{name} skipped for a {kind} scorer: {why}"


def joins(name: str) -> frozenset[str]:
    """Kinds a between-model analysis takes as its comparison side, besides the kinds it is valid for."""
    get(name)
    return _JOINS.get(name, frozenset())
