"""The registration side of the analysis registry: the `register` decorator and the tables it fills.

Each built-in analysis module imports `register` from here; the lookup side (`harness.analyses.registry`) imports
the built-in modules by a literal list. Two modules keep the arrows one way: analyses → registration ← registry →
analyses, never a cycle.
"""

from __future__ import annotations

from typing import Callable, Iterable, Mapping

from harness.analyses.base import SCORER_KINDS, AnalysisResult

AnalysisFn = Callable[..., AnalysisResult]
_REGISTRY: dict[str, AnalysisFn] = {}
_SCORERS: dict[str, frozenset[str]] = {}
_WHY_NOT: dict[str, dict[str, str]] = {}
_JOINS: dict[str, frozenset[str]] = {}
_LOGPROBS: dict[str, bool] = {}


def register(name: str, scorers: Iterable[str] = ("reward",),
             why_not: Mapping[str, str] | None = None,
             joins: Iterable[str] = (), logprobs: bool | None = None) -> Callable[[AnalysisFn], AnalysisFn]:
    """Register `fn` as analysis `name`, valid for the scorer kinds `scorers`.

    `why_not`: kind -> one-line reason the analysis does not apply to that kind (shown when it is skipped).
    `joins`: for a between-model analysis, other kinds whose tables it takes as the comparison side (it still
    needs at least one model of a kind in `scorers`).
    `logprobs`: whether its numbers mean something when the scores are log-probabilities (default: whether it is
    valid for lm_logprob); False makes it refuse a reference-free DPO scorer too.
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
        _LOGPROBS[name] = ("lm_logprob" in kinds) if logprobs is None else bool(logprobs)
        return fn

    return deco
