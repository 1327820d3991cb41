"""Token optimality: top and bottom tokens per prompt, and the shape of the score distribution.

Valid for every scorer kind. For an LM (`lm_logprob`) the scores are natural-log next-token probabilities: the
moments are of log-probs (means near -18 are normal), and each metric's definition says so, so they are never read
as rewards; the board keeps kinds in separate columns.

Metric keys: `<prompt>/<name>` for one model, `<model>/<prompt>/<name>` when the tables hold several models.
Data: `top` / `bottom` keyed the same way (`<prompt>` or `<model>/<prompt>`), each a list of
{id, token, decoded, score}, best first (top) or worst first (bottom).
"""

from __future__ import annotations

from typing import Annotated, Mapping

import numpy as np

from harness.analyses.arg_rules import Range
from harness.analyses.base import (
    AnalysisResult,
    ScoreTables,
    apply_filters,
    distribution_metrics,
    finite_mask,
    key,
    metric,
    model_kind,
    top_bottom,
)
from harness.analyses.plots import new_figure, short, violin
from harness.analyses.registration import register

METRICS: dict[str, tuple[bool | None, str]] = {
    "mean": (None, "mean of the finite scores (after flag filters)"),
    "variance": (None, "population variance (ddof=0) of the finite scores"),
    "skewness": (None, "skewness of the finite scores (scipy.stats.skew, bias=True)"),
    "n": (None, "number of finite scores analysed (after flag filters)"),
    "n_nonfinite": (False, "number of NaN/inf scores among the filtered rows; excluded from the other metrics"),
}

# LM metrics say they are log-probs; judge: expected ratings are valuations
@register("token_optimality", scorers=("reward", "lm_logprob", "dpo", "judge"))
def token_optimality(tables: ScoreTables, k: Annotated[int, Range(1)] = 20, filters: Mapping[str, bool] | None = None,
                     prompts: list[str] | None = None) -> AnalysisResult:
    """Top/bottom k tokens per model × prompt and mean / variance / skewness of the finite scores."""
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    res = AnalysisResult()
    multi = len(tables) > 1
    top: dict[str, list] = {}
    bottom: dict[str, list] = {}
    dist: dict[str, np.ndarray] = {}
    kinds: dict[str, str | None] = {}
    for model, by_prompt in tables.items():
        kind = kinds[model] = model_kind(by_prompt)
        for prompt, df in by_prompt.items():
            if prompts is not None and prompt not in prompts:
                continue
            d = apply_filters(df, filters)
            fm = finite_mask(d)
            scores = d["score"].to_numpy(dtype=float)[fm]
            kk = key(model, prompt, multi)
            for name, (value, why) in distribution_metrics(scores).items():
                res.metrics[f"{kk}/{name}"] = metric(name, value, METRICS, why, kind=kind)
            res.metrics[f"{kk}/n_nonfinite"] = metric("n_nonfinite", int((~fm).sum()), METRICS, kind=kind)
            top[kk], bottom[kk] = top_bottom(d, k)
            dist[kk] = scores
    res.data = {"k": k, "filters": dict(filters or {}), "top": top, "bottom": bottom, "scorer_kinds": kinds,
                "tie_break": "equal scores are ordered by ascending id"}
    if dist:
        res.figures["distribution"] = _figure(dist)
    return res


def _figure(dist: dict[str, np.ndarray]):
    labels = list(dist)
    fig, axes = new_figure(1, 2, width=6.0, height=4.0)
    violin(axes[0, 0], [dist[l] for l in labels], [short(l) for l in labels])
    axes[0, 0].set_title("score distribution (finite scores)")
    ax = axes[0, 1]
    for l in labels:
        if len(dist[l]):
            ax.hist(dist[l], bins=60, histtype="step", density=True, label=short(l))
    ax.set_xlabel("score")
    ax.set_ylabel("density")
    ax.set_title("histogram")
    if any(len(dist[l]) for l in labels):
        ax.legend(fontsize=7)
    return fig
