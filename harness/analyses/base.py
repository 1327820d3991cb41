"""What every analysis shares: metrics with a direction and a definition, the analysis result, metric keys,
flag filters and ranking helpers over score tables, and the scorer kind a table was produced by.

Scorer kinds: a score table may carry `df.attrs["scorer"]` ("reward", "lm_logprob" or "dpo"), set by whoever
loads it (the runner knows the model's kind), and `df.attrs["reference_free"]` for a DPO policy scored without
its reference model (a summed log-prob; see `logprob_scores`). Numbers of different kinds mean different things (a reward, a
natural-log probability, a DPO implicit reward), so `metric(..., kind=...)` says which one a value is in its
definition.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy import stats

from harness.models.kinds import KINDS, SCORER_KINDS  # noqa: F401 (SCORER_KINDS re-exported)

# model id -> prompt key -> score table (see docs/architecture.md for the columns)
ScoreTables = Mapping[str, Mapping[str, pd.DataFrame]]
# metric name -> (higher_is_better, definition): each analysis module declares its METRICS this way
Declared = Mapping[str, tuple[bool | None, str]]

KIND_LABELS = {k.name: k.label for k in KINDS.values()}
FLAG_COLUMNS = ("special", "byte_fragment", "leading_space", "alpha_word", "roundtrip", "finite")


@dataclass
class Metric:
    """One number for results.json and the leaderboard; `value=None` with a reason when it cannot be computed."""

    value: float | None
    higher_is_better: bool | None
    definition: str
    missing_reason: str | None = None

    def __post_init__(self) -> None:
        if self.value is not None:
            v = float(self.value)
            if not math.isfinite(v):
                self.missing_reason = self.missing_reason or f"not finite ({v})"
                self.value = None
            else:
                self.value = v

    @classmethod
    def missing(cls, reason: str, definition: str, higher_is_better: bool | None = None) -> "Metric":
        return cls(None, higher_is_better, definition, reason)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "value": self.value,
            "higher_is_better": self.higher_is_better,
            "definition": self.definition,
        }
        if self.missing_reason:
            out["missing_reason"] = self.missing_reason
        return out


@dataclass
class AnalysisResult:
    """What an analysis returns: metrics, JSON-able detail, and matplotlib figures keyed by short name."""

    metrics: dict[str, Metric] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------------- metrics


def metric(name: str, value: float | None, declared: Declared, missing_reason: str | None = None,
           kind: str | None = None) -> Metric:
    """A Metric whose direction and definition come from a module's METRICS declaration.

    `value` None (or not finite) gives a missing metric with `missing_reason`. With `kind` other than "reward",
    the definition says what the scored numbers are (e.g. LM log-probabilities), so a mean of log-probs is never
    read as a mean reward.
    """
    hib, definition = declared[name]
    if kind is not None and kind != "reward":
        definition = f"{definition} [scores: {KIND_LABELS.get(kind, kind)}]"
    if value is None or (isinstance(value, (float, np.floating)) and not math.isfinite(float(value))):
        return Metric.missing(missing_reason or "not computed", definition, hib)
    return Metric(float(value), hib, definition)


def key(model: str, prompt: str, multi: bool, *rest: str) -> str:
    """Metric / data key: `<prompt>/...` for one model, `<model>/<prompt>/...` when the tables hold several."""
    parts = ([model] if multi else []) + [prompt, *rest]
    return "/".join(parts)


# ---------------------------------------------------------------------------------------------------- kinds


def table_kind(df: pd.DataFrame) -> str | None:
    """The scorer kind recorded on a score table (`df.attrs["scorer"]`), or None when unrecorded."""
    kind = df.attrs.get("scorer")
    return str(kind) if kind else None


def logprob_scores(df: pd.DataFrame) -> bool:
    """Whether a table's scores are log-probabilities: an LM's, or a DPO policy's scored without its reference
    model (`df.attrs["reference_free"]`, set by whoever loads the table)."""
    kind = table_kind(df)
    return (kind in KINDS and KINDS[kind].logprob) or (kind == "dpo" and bool(df.attrs.get("reference_free")))


def model_kind(by_prompt: Mapping[str, pd.DataFrame]) -> str | None:
    """The scorer kind of one model's tables (the first recorded one)."""
    for df in by_prompt.values():
        kind = table_kind(df)
        if kind:
            return kind
    return None


# ---------------------------------------------------------------------------------------------------- tables


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
    """Rows as {id, token, decoded, score} (token / decoded None when the table lacks them)."""
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
    """name -> (value, why missing) for mean, population variance, skewness and n of finite scores."""
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


def pair_frame(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Ids finite in both tables: id, token / decoded (from `a`), score_a, score_b."""
    cols = [c for c in ("id", "token", "decoded", "score") if c in a.columns]
    left = a.loc[finite_mask(a), cols]
    right = b.loc[finite_mask(b), ["id", "score"]]
    return left.merge(right, on="id", suffixes=("_a", "_b"), validate="one_to_one")


def ranked_by(frame: pd.DataFrame, values: np.ndarray, k: int, descending: bool) -> list[dict[str, Any]]:
    """The k rows of a `pair_frame` with the highest (lowest) `values`; ties by lowest id."""
    d = frame.assign(_v=-values if descending else values).sort_values(["_v", "id"], kind="mergesort").head(k)
    out = []
    for row in d.itertuples(index=False):
        out.append({"id": int(row.id), "token": getattr(row, "token", None), "decoded": getattr(row, "decoded", None),
                    "score_a": float(row.score_a), "score_b": float(row.score_b)})
    return out
