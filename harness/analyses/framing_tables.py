"""Framing tables: how a model's scores under two framings of one question (e.g. `best` vs `worst`) relate.

Valid for every scorer kind; this is what the study's appendix tables give for language models too (its
tables A4 and A5: best + worst and best - worst of the LMs' next-token log-probs).

Per model and pair (a, b), over the ids finite under both prompts (after the optional flag `filters`):
- Kendall tau-b between the two prompts' scores (`<a>_vs_<b>/kendall_tau`, with `n_pairs`);
- `hedges_top` / `hedges_bottom`: the k ids highest / lowest by score_a + score_b (table A4: high under both
  framings, e.g. hedges like "subjective", "Depends"); for an LM, log P_a + log P_b, i.e. likely under both;
- `valence_top` / `valence_bottom`: the k ids highest / lowest by score_a - score_b (table A5: most
  valence-discriminating); for an LM, the log of the probability ratio between the framings.
Ties are broken by the lower id. Each list entry: {id, token, decoded, score_a, score_b}.
Metric keys: `<a>_vs_<b>/<name>` (one model) or `<model>/<a>_vs_<b>/<name>`; lists in `data["pairs"][same key]`.
"""

from __future__ import annotations

from typing import Annotated, Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from harness.analyses.arg_rules import Range
from harness.analyses.base import (
    AnalysisResult,
    ScoreTables,
    apply_filters,
    key,
    metric,
    model_kind,
    pair_frame,
    ranked_by,
)
from harness.analyses.plots import new_figure, short
from harness.analyses.registration import register

METRICS: dict[str, tuple[bool | None, str]] = {
    "kendall_tau": (None, "Kendall tau-b between the two prompts' scores over ids finite under both"),
    "n_pairs": (None, "number of ids finite under both prompts"),
}


def framing_pairs(tables: ScoreTables, pairs: Sequence[Sequence[str]], k: int,
                  filters: Mapping[str, bool] | None, res: AnalysisResult,
                  declared: Mapping[str, tuple[bool | None, str]] = METRICS) -> tuple[dict[str, Any], list]:
    """Fill `res.metrics` with each pair's tau and n_pairs; return (data["pairs"], scatter panels)."""
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    multi = len(tables) > 1
    out: dict[str, Any] = {}
    panels: list[tuple[str, pd.DataFrame, str, str]] = []
    for model, by_prompt in tables.items():
        kind = model_kind(by_prompt)
        for pair in pairs:
            if len(pair) != 2:
                raise ValueError(f"each pair must name two prompts, got {pair!r}")
            a, b = pair
            kk = key(model, f"{a}_vs_{b}", multi)
            if a not in by_prompt or b not in by_prompt:
                why = f"prompt {a if a not in by_prompt else b!r} has no score table"
                res.metrics[f"{kk}/kendall_tau"] = metric("kendall_tau", None, declared, why, kind=kind)
                continue
            frame = pair_frame(apply_filters(by_prompt[a], filters), apply_filters(by_prompt[b], filters))
            res.metrics[f"{kk}/n_pairs"] = metric("n_pairs", len(frame), declared, kind=kind)
            if len(frame) < 2:
                tau, why = None, "fewer than 2 shared ids"
            else:
                tau = stats.kendalltau(frame["score_a"], frame["score_b"], variant="b").statistic
                why = None if np.isfinite(tau) else "tau undefined (a constant score column)"
            res.metrics[f"{kk}/kendall_tau"] = metric("kendall_tau", tau, declared, why, kind=kind)
            total = frame["score_a"].to_numpy() + frame["score_b"].to_numpy()
            diff = frame["score_a"].to_numpy() - frame["score_b"].to_numpy()
            out[kk] = {
                "a": a, "b": b, "scorer": kind,
                "hedges_top": ranked_by(frame, total, k, True),  # table A4: high under both framings
                "hedges_bottom": ranked_by(frame, total, k, False),  # low under both
                "valence_top": ranked_by(frame, diff, k, True),  # table A5: a >> b (e.g. best >> worst)
                "valence_bottom": ranked_by(frame, diff, k, False),
            }
            panels.append((kk, frame, a, b))
    return out, panels


# judge: rank-based tables of its ratings
@register("framing_tables", scorers=("reward", "lm_logprob", "dpo", "judge"))
def framing_tables(tables: ScoreTables, pairs: Sequence[Sequence[str]] = (("best", "worst"),),
                   k: Annotated[int, Range(1)] = 20,
                   filters: Mapping[str, bool] | None = None) -> AnalysisResult:
    """Kendall tau-b, best+worst and best-worst tables per model and prompt pair (module docstring)."""
    res = AnalysisResult()
    data, panels = framing_pairs(tables, pairs, k, filters, res)
    res.data = {"k": k, "filters": dict(filters or {}), "pairs": data,
                "tables": {"hedges": "score_a + score_b (study's table A4)",
                           "valence": "score_a - score_b (study's table A5)"}}
    if panels:
        res.figures["scatter"] = scatter_figure(panels)
    return res


def scatter_figure(panels: Sequence[tuple[str, pd.DataFrame, str, str]]):
    """One scatter per (key, pair frame, prompt a, prompt b): score under a vs score under b."""
    fig, axes = new_figure(1, len(panels), width=4.5, height=4.2)
    for ax, (kk, frame, a, b) in zip(axes[0], panels):
        ax.scatter(frame["score_a"], frame["score_b"], s=2, alpha=0.3, rasterized=True)
        ax.set_xlabel(f"score | {a}")
        ax.set_ylabel(f"score | {b}")
        ax.set_title(short(kk, 40), fontsize=9)
    return fig
