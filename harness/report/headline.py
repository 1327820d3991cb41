"""The headline metrics (headline.yaml): which numbers the board, the model page summary and the end-of-run
summary show first, with plain-language names, definitions, direction and range."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

HEADLINE_PATH = Path(__file__).with_name("headline.yaml")
ALPHA = 0.05  # a value is marked significant when its adjusted p is at most this
DIRECTION_WORDS = {"higher": "higher is better", "lower": "lower is better", "target": "closer to {target} is better",
                   "none": "no better direction"}
ARROWS = {"higher": "↑", "lower": "↓", "target": "→{target}", "none": ""}


@dataclass(frozen=True)
class Headline:
    """One headline metric (one board column before comparability splits)."""

    id: str
    task: str
    metric: str
    label: str
    definition: str
    direction: str = "none"
    range: str = ""
    prompt: str = "switch"
    fallback: str | None = None
    ci: tuple[str, str] | None = None
    scale_free: bool = True
    source: str = "results"
    significance: str | None = None  # metric holding the family-wise adjusted p that marks the value significant
    low_n: str | None = None  # metric that is 1 when the value rests on few observations
    target: float | None = None  # direction "target": the value that is best (e.g. 0 for no gap)
    why_none: str = ""  # direction "none": why the column is descriptive

    @property
    def per_prompt(self) -> bool:
        return self.prompt == "switch"

    @property
    def direction_words(self) -> str:
        words = DIRECTION_WORDS.get(self.direction, DIRECTION_WORDS["none"]).format(target=_num_text(self.target))
        return f"{words}: {self.why_none}" if self.why_none and self.direction == "none" else words

    @property
    def arrow(self) -> str:
        return ARROWS.get(self.direction, ARROWS["none"]).format(target=_num_text(self.target))

    def prompt_for(self, selected: str, available: set[str]) -> str | None:
        """The prompt key this metric is read under when the reader picked `selected`."""
        if not self.per_prompt:
            return self.prompt if self.prompt in available else None
        if selected in available:
            return selected
        return self.fallback if self.fallback in available else None


def _num_text(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


def _one(raw: Mapping[str, Any]) -> Headline:
    ci = raw.get("ci")
    direction = str(raw.get("direction", "none"))
    if direction == "target" and not isinstance(raw.get("target"), (int, float)):
        raise ValueError(f"headline {raw.get('id')}: direction target needs a numeric target")
    if direction == "none" and not raw.get("why_none"):
        raise ValueError(f"headline {raw.get('id')}: direction none needs why_none (why no value is better)")
    return Headline(id=str(raw["id"]), task=str(raw["task"]), metric=str(raw["metric"]), label=str(raw["label"]),
                    definition=" ".join(str(raw.get("definition", "")).split()),
                    direction=direction, range=str(raw.get("range", "")),
                    prompt=str(raw.get("prompt", "switch")), fallback=raw.get("fallback"),
                    ci=(str(ci[0]), str(ci[1])) if ci else None, scale_free=bool(raw.get("scale_free", True)),
                    source=str(raw.get("source", "results")),
                    significance=str(raw["significance"]) if raw.get("significance") else None,
                    low_n=str(raw["low_n"]) if raw.get("low_n") else None,
                    target=float(raw["target"]) if direction == "target" else None,
                    why_none=" ".join(str(raw.get("why_none", "")).split()))


@lru_cache(maxsize=4)
def load_headlines(path: str | None = None) -> tuple[Headline, ...]:
    """The headline metrics, in board order."""
    data = yaml.safe_load(Path(path or HEADLINE_PATH).read_text(encoding="utf-8")) or {}
    return tuple(_one(c) for c in data.get("columns", []))


def prompts_of(block: Mapping[str, Any]) -> set[str]:
    """Prompt keys (the part before the last `/<metric>`) present in a results block's metrics."""
    return {k.rsplit("/", 1)[0] for k in (block.get("metrics") or {}) if "/" in k}


def metric_value(block: Mapping[str, Any] | None, key: str) -> tuple[float | None, str | None]:
    """(value, reason when missing) of `key` in a results block."""
    if not block:
        return None, "task not run"
    raw = (block.get("metrics") or {}).get(key)
    if raw is None:
        return None, "not reported"
    v = raw.get("value") if isinstance(raw, Mapping) else raw
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None, (raw.get("missing_reason") if isinstance(raw, Mapping) else None) or "not computed"
    if not math.isfinite(v):
        return None, "not finite"
    return float(v), None
