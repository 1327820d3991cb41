"""Name → analysis function. Task YAMLs refer to analyses by these names; YAML never executes code."""

from __future__ import annotations

from typing import Callable

from harness.analyses.base import AnalysisResult

AnalysisFn = Callable[..., AnalysisResult]
_REGISTRY: dict[str, AnalysisFn] = {}


def register(name: str) -> Callable[[AnalysisFn], AnalysisFn]:
    def deco(fn: AnalysisFn) -> AnalysisFn:
        if name in _REGISTRY and _REGISTRY[name] is not fn:
            raise ValueError(f"analysis {name!r} is registered twice")
        _REGISTRY[name] = fn
        return fn

    return deco


def _load_builtin() -> None:
    # Importing the modules runs their @register decorators.
    import importlib
    import pkgutil

    import harness.analyses as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        if mod.name not in {"base", "registry"}:
            importlib.import_module(f"harness.analyses.{mod.name}")


def get(name: str) -> AnalysisFn:
    _load_builtin()
    if name not in _REGISTRY:
        raise KeyError(f"unknown analysis {name!r}; known: {', '.join(sorted(_REGISTRY)) or '(none)'}")
    return _REGISTRY[name]


def names() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY)
