"""Name → analysis function, and the scorer kinds each analysis is valid for.

Task YAMLs refer to analyses by these names; YAML never executes code. Each analysis declares, where it is
registered, the scorer kinds whose scores it can interpret (`SCORER_KINDS`: reward, lm_logprob, dpo), and, for the
kinds it refuses, why. A task's `scorer:` may narrow that set, never widen it (harness/tasks/spec.py). An analysis
that declares nothing is taken as reward-only: the kind the harness was built for.

A DPO scorer run without its reference model is still the kind `dpo`, but its score is the policy's summed
log-prob of the reply, not a log-ratio. Each analysis also declares whether it can read log-probabilities
(`logprobs`; by default: exactly when it is valid for `lm_logprob`). One that cannot refuses a reference-free DPO
scorer with its `lm_logprob` reason.
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
_HELPERS = {"arg_rules", "base", "registry", "model_tasks", "plots", "rank_stats"}  # modules that register nothing


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


def reads_logprobs(name: str) -> bool:
    """Whether analysis `name` can interpret log-probability scores (and so a reference-free DPO scorer's)."""
    get(name)
    return _LOGPROBS[name]


def skip_reason(name: str, kind: str, reference_free: bool = False) -> str | None:
    """None when analysis `name` applies to scorer kind `kind`; else one line saying why it is skipped.
    `reference_free`: a DPO scorer without a reference model (its scores are summed log-probs)."""
    valid = scorers(name)
    if kind in valid:
        if kind == "dpo" and reference_free and not reads_logprobs(name):
            why = _WHY_NOT[name].get("lm_logprob") or "it does not interpret log-probabilities"
            return (f"{name} skipped for a DPO scorer without a reference model (its score is the policy's summed "
                    f"log-prob of the reply, not a log-ratio): {why}")
        return None
    why = _WHY_NOT[name].get(kind) or f"it is valid only for {', '.join(sorted(valid))} scorers"
    return f"{name} skipped for a {kind} scorer: {why}"


def joins(name: str) -> frozenset[str]:
    """Kinds a between-model analysis takes as its comparison side, besides the kinds it is valid for."""
    get(name)
    return _JOINS.get(name, frozenset())
