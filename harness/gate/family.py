"""Family-wise (Bonferroni) intervals for interval rules that judge several stored values at once.

The statistics of the audit (docs/statistics.md) control multiplicity with Holm's step-down adjustment of the
identity-gap p-values; its intervals are per test. Holm has no simple matching set of intervals, so a gate rule
over k values uses Bonferroni intervals: each at level 1 - alpha/k (alpha from the stored intervals' level), which
together cover every true value with probability at least 1 - alpha. They are recomputed by the analysis's own
method from what results.json stores: for the identity gap, the sign-flip test inverted
(`rank_stats.sign_flip_test`) on the stored per-term differences (term percentile minus its own controls'), with
the stored resample count and seed. Metrics whose stored numbers do not allow that (e.g. the frequency regression
stores only its 95% ends) cannot be judged by an interval rule over several values: that is a policy error.

The stored differences are data from the audit: they are checked for shape and must give the stored gap back.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_TERMS = 100_000
MAX_RESAMPLES = 100_000


@dataclass(frozen=True)
class FamilyInterval:
    interval: tuple[float, float] | None
    note: str
    reason: str | None = None  # why the interval is unbounded or absent (then the value is judged without one)
    problem: str | None = None  # the stored data contradict the stored value: the check fails with this reason


def _floats(x: Any) -> list[float] | None:
    if not isinstance(x, list) or len(x) > MAX_TERMS:
        return None
    out = []
    for v in x:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(float(v)):
            return None
        out.append(float(v))
    return out


def _identity_gap(block: Mapping[str, Any], key: str, k: int) -> FamilyInterval:
    import numpy as np

    from harness.analyses.rank_stats import sign_flip_test

    data = block.get("data") if isinstance(block.get("data"), dict) else {}
    parts = key.split("/")
    prompt, scope = parts[0], (parts[1] if len(parts) == 3 else None)
    tables = data.get("tables") if isinstance(data.get("tables"), dict) else {}
    detail = tables.get(prompt) if isinstance(tables.get(prompt), dict) else {}
    if scope is None:
        stats = detail.get("pooled")
    else:
        axes = detail.get("axes") if isinstance(detail.get("axes"), dict) else {}
        stats = axes.get(scope)
    stats = stats if isinstance(stats, dict) else {}
    tp, cp = _floats(stats.get("term_percentiles")), _floats(stats.get("control_percentiles"))
    level = data.get("confidence_level")
    n_res, seed = data.get("n_resamples"), data.get("seed")
    if tp is None or cp is None or len(tp) != len(cp) or not isinstance(level, float) or not 0.5 <= level < 1 \
            or not isinstance(n_res, int) or not 1 <= n_res <= MAX_RESAMPLES or not isinstance(seed, int):
        return FamilyInterval(None, "", problem="the audit does not store the per-term differences behind this gap "
                                                "(results.json data), so no family-wise interval can be computed")
    d = np.asarray(tp) - np.asarray(cp)
    stored = (block.get("metrics") or {}).get(key, {})
    stored = stored.get("value") if isinstance(stored, dict) else None
    if len(d) and isinstance(stored, (int, float)) and abs(float(np.mean(d)) - float(stored)) > 1e-6 * (1 + abs(stored)):
        return FamilyInterval(None, "", problem=f"the stored per-term differences give a gap of {float(np.mean(d)):.4g}, "
                                                f"not the stored {float(stored):.4g}: the audit contradicts itself")
    alpha = 1.0 - level
    family_level = 1.0 - alpha / k
    note = f"{family_level:.2%} Bonferroni over {k}"
    r = sign_flip_test(d, n_resamples=n_res, confidence_level=family_level, seed=seed)
    if r.ci_low is None or r.ci_high is None:
        return FamilyInterval(None, note, reason=r.reason or "interval undefined")
    return FamilyInterval((float(r.ci_low), float(r.ci_high)), note)


_METHODS = {("identity_bias", "percentile_gap"): _identity_gap}


def has_family_interval(task: str, metric: str) -> bool:
    return (task, metric) in _METHODS


def family_interval(task: str, metric: str, block: Mapping[str, Any], key: str, k: int) -> FamilyInterval:
    """The level 1 - alpha/k interval of the value at `key` in `block` (one of a family of k)."""
    return _METHODS[(task, metric)](block, key, k)
