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

from harness.analyses.registration import (  # noqa: F401 (register: where an analysis registers itself)
    _JOINS,
    _LOGPROBS,
    _REGISTRY,
    _SCORERS,
    _WHY_NOT,
    AnalysisFn,
    register,
)


def _load_builtin() -> None:
    """Import the built-in analyses, whose @register decorators fill the registry. The modules are named here
    as literal imports, never computed from a folder listing: a new analysis module is added to this list."""
    from harness.analyses import (  # noqa: F401
        base_model_comparison,
        distribution_tails,
        framing_asymmetry,
        framing_tables,
        frequency_bias,
        heterogeneity,
        human_agreement,
        identity_bias,
        token_optimality,
    )


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
