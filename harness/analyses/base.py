"""Types shared by every analysis: metrics with a direction and a definition, and the analysis result."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import pandas as pd

# model id -> prompt key -> score table (see docs/architecture.md for the columns)
ScoreTables = Mapping[str, Mapping[str, pd.DataFrame]]


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
