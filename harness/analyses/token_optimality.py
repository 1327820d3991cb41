"""Token optimality: top and bottom tokens per prompt, and the shape of the score distribution.

Also holds the small table helpers (flag filters, ranking, metric keys) that the other vocabulary analyses reuse.

Metric keys: `<prompt>/<name>` for one model, `<model>/<prompt>/<name>` when the tables hold several models.
Data: `top` / `bottom` keyed the same way (`<prompt>` or `<model>/<prompt>`), each a list of
{id, token, decoded, score}, best first (top) or worst first (bottom).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy import stats

from harness.analyses.base import AnalysisResult, Metric, ScoreTables
from harness.analyses.plots import new_figure, short, violin
from harness.analyses.registry import register

METRICS: dict[str, tuple[bool | None, str]] = {
    "mean": (None, "mean of the finite scores (after flag filters)"),
    "variance": (None, "population variance (ddof=0) of the finite scores"),
    "skewness": (None, "skewness of the finite scores (scipy.stats.skew, bias=True)"),
    "n": (None, "number of finite scores analysed (after flag filters)"),
    "n_nonfinite": (False, "number of NaN/inf scores among the filtered rows; excluded from the other metrics"),
}

FLAG_COLUMNS = ("special", "byte_fragment", "leading_space", "alpha_word", "roundtrip", "finite")


def metric(name: str, value: float | None, declared: Mapping[str, tuple[bool | None, str]],
           missing_reason: str | None = None) -> Metric:
    """A Metric whose direction and definition come from the module's METRICS declaration."""
    hib, definition = declared[name]
    if value is None:
        return Metric.missing(missing_reason or "not computed", definition, hib)
    return Metric(float(value), hib, definition)


def key(model: str, prompt: str, multi: bool, *rest: str) -> str:
    parts = ([model] if multi else []) + [prompt, *rest]
    return "/".join(parts)


def apply_filters(df: pd.DataFrame, filters: Mapping[str, bool] | None) -> pd.DataFrame:
    """Keep rows whose boolean flag columns equal the given values, e.g. {special: False, alpha_word: True}."""
    if not filters:
        return df
    mask = np.ones(len(df), dtype=bool)
    for col, want in filters.items():
        if col not in FLAG_COLUMNS:
            raise ValueError(f"unknown filter flag {col!r}; flags: {', '.join(FLAG_COLUMNS)}")
        if not isinstance(want, bool):
            raise ValueError(f"filter {col!r} must be true or false, got {want!r}")
        if col not in df.columns:
            raise ValueError(f"score table has no column {col!r} to filter on")
        mask &= df[col].fillna(False).astype(bool).to_numpy() == want
    return df[mask]


def finite_mask(df: pd.DataFrame) -> np.ndarray:
    s = pd.to_numeric(df["score"], errors="coerce").to_numpy(dtype=float)
    return np.isfinite(s)


def ranked(df: pd.DataFrame, descending: bool = True) -> pd.DataFrame:
    """Finite rows sorted by score (descending by default); ties broken by ascending id, so order is stable."""
    d = df[finite_mask(df)]
    tmp = d.assign(_neg=-d["score"] if descending else d["score"])
    return tmp.sort_values(["_neg", "id"], kind="mergesort").drop(columns="_neg")


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in df.itertuples(index=False):
        out.append({
            "id": int(row.id),
            "token": None if not hasattr(row, "token") else str(row.token),
            "decoded": None if not hasattr(row, "decoded") else str(row.decoded),
            "score": float(row.score),
        })
    return out


def top_bottom(df: pd.DataFrame, k: int) -> tuple[list[dict], list[dict]]:
    """Top k (highest first) and bottom k (lowest first) finite rows; ties by lowest id."""
    return records(ranked(df, True).head(k)), records(ranked(df, False).head(k))


def distribution_metrics(scores: np.ndarray) -> dict[str, tuple[float | None, str | None]]:
    n = len(scores)
    if n == 0:
        why = "no finite scores"
        return {"mean": (None, why), "variance": (None, why), "skewness": (None, why), "n": (0, None)}
    var = float(np.var(scores, ddof=0))
    if n < 3 or var == 0.0:
        skew = (None, "skewness undefined: fewer than 3 scores or zero variance")
    else:
        skew = (float(stats.skew(scores, bias=True)), None)
    return {"mean": (float(np.mean(scores)), None), "variance": (var, None), "skewness": skew, "n": (n, None)}


@register("token_optimality")
def token_optimality(tables: ScoreTables, k: int = 20, filters: Mapping[str, bool] | None = None,
                     prompts: list[str] | None = None) -> AnalysisResult:
    """Top/bottom k tokens per model × prompt and mean / variance / skewness of the finite scores."""
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    res = AnalysisResult()
    multi = len(tables) > 1
    top: dict[str, list] = {}
    bottom: dict[str, list] = {}
    dist: dict[str, np.ndarray] = {}
    for model, by_prompt in tables.items():
        for prompt, df in by_prompt.items():
            if prompts is not None and prompt not in prompts:
                continue
            d = apply_filters(df, filters)
            fm = finite_mask(d)
            scores = d["score"].to_numpy(dtype=float)[fm]
            kk = key(model, prompt, multi)
            for name, (value, why) in distribution_metrics(scores).items():
                res.metrics[f"{kk}/{name}"] = metric(name, value, METRICS, why)
            res.metrics[f"{kk}/n_nonfinite"] = metric("n_nonfinite", int((~fm).sum()), METRICS)
            top[kk], bottom[kk] = top_bottom(d, k)
            dist[kk] = scores
    res.data = {"k": k, "filters": dict(filters or {}), "top": top, "bottom": bottom,
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
