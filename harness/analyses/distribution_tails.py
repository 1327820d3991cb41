"""Distribution tails: score distributions across models, and which kinds of token fill the top and bottom n.

Each token gets one class, first match wins:
  special        the table's `special` flag
  byte_fragment  the table's `byte_fragment` flag, or the decoded text contains U+FFFD
  non_english    the stripped text contains a non-ASCII letter (any script other than basic Latin)
  word           the stripped text is ASCII letters, optionally joined by ' or - ("don't", "well-being")
  code           the stripped text is printable ASCII with at least one digit, punctuation, bracket or operator
                 (and no space inside): "()", "+=", "x2", "</", "0.5"
  other          everything else: whitespace-only or empty, emoji and symbols, text with inner spaces
Shares are over the top (bottom) n finite scores, ties by lowest id.
Metric keys: `<prompt>/<tail>_share_<class>` (one model) or `<model>/<prompt>/<tail>_share_<class>`.
"""

from __future__ import annotations

import re
import string
from typing import Annotated, Any, Mapping, Sequence

import numpy as np
import pandas as pd

from harness.analyses.arg_rules import Range
from harness.analyses.base import (
    AnalysisResult,
    ScoreTables,
    apply_filters,
    finite_mask,
    key,
    metric,
    model_kind,
    ranked,
)
from harness.analyses.plots import new_figure, short, violin
from harness.analyses.registration import register

CLASSES = ("word", "code", "non_english", "special", "byte_fragment", "other")
TAILS = ("top", "bottom")

METRICS: dict[str, tuple[bool | None, str]] = {
    f"{tail}_share_{c}": (None, f"share of the {tail} n tokens (finite scores) classed as {c}")
    for tail in TAILS for c in CLASSES
}
METRICS["n_tail"] = (None, "tokens per tail (n, or fewer if fewer finite scores)")

_WORD = re.compile(r"^[A-Za-z]+(?:['’\-][A-Za-z]+)*$")
_ASCII_PRINTABLE = set(string.printable) - set(string.whitespace)


def classify(decoded: Any, special: bool = False, byte_fragment: bool = False) -> str:
    if special:
        return "special"
    text = "" if decoded is None or (isinstance(decoded, float) and np.isnan(decoded)) else str(decoded)
    if byte_fragment or "\ufffd" in text:
        return "byte_fragment"
    s = text.strip()
    if not s:
        return "other"
    if any(ch.isalpha() and ord(ch) > 127 for ch in s):
        return "non_english"
    if _WORD.match(s):
        return "word"
    if all(ch in _ASCII_PRINTABLE for ch in s) and any(not ch.isalpha() for ch in s):
        return "code"
    return "other"


def classify_frame(df: pd.DataFrame) -> pd.Series:
    sp = df["special"].fillna(False).astype(bool) if "special" in df else pd.Series(False, index=df.index)
    bf = df["byte_fragment"].fillna(False).astype(bool) if "byte_fragment" in df else pd.Series(False, index=df.index)
    return pd.Series([classify(d, s, b) for d, s, b in zip(df["decoded"], sp, bf)], index=df.index, dtype=object)


# token classes of the tails: scale-free; judge: expected ratings are valuations
@register("distribution_tails", scorers=("reward", "lm_logprob", "dpo", "judge"))
def distribution_tails(tables: ScoreTables, n: Annotated[int, Range(1)] = 100,
                       filters: Mapping[str, bool] | None = None,
                       standardize: bool = False, prompts: Sequence[str] | None = None) -> AnalysisResult:
    """Class shares in the top/bottom n per model × prompt, and the score distributions side by side."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    res = AnalysisResult()
    multi = len(tables) > 1
    shares: dict[str, dict[str, dict[str, float]]] = {}
    examples: dict[str, dict[str, dict[str, list[str]]]] = {}
    dist: dict[str, np.ndarray] = {}
    for model, by_prompt in tables.items():
        kind = model_kind(by_prompt)
        for prompt, df in by_prompt.items():
            if prompts is not None and prompt not in prompts:
                continue
            kk = key(model, prompt, multi)
            d = apply_filters(df, filters)
            scores = d["score"].to_numpy(dtype=float)[finite_mask(d)]
            if standardize and len(scores) > 1 and np.std(scores) > 0:
                scores = (scores - scores.mean()) / scores.std()
            dist[kk] = scores
            shares[kk], examples[kk] = {}, {}
            for tail in TAILS:
                part = ranked(d, descending=(tail == "top")).head(n)
                cls = classify_frame(part)
                m = len(part)
                res.metrics[f"{kk}/n_tail"] = metric("n_tail", m, METRICS, kind=kind)
                shares[kk][tail] = {}
                examples[kk][tail] = {}
                for c in CLASSES:
                    name = f"{tail}_share_{c}"
                    if m == 0:
                        res.metrics[f"{kk}/{name}"] = metric(name, None, METRICS, "no finite scores", kind=kind)
                        continue
                    share = float((cls == c).sum()) / m
                    res.metrics[f"{kk}/{name}"] = metric(name, share, METRICS, kind=kind)
                    shares[kk][tail][c] = share
                    examples[kk][tail][c] = [str(x) for x in part.loc[cls == c, "decoded"].head(5)]
    res.data = {"n": n, "classes": list(CLASSES), "shares": shares, "examples": examples,
                "standardized": standardize}
    if dist:
        res.figures["violin"] = _violin(dist, standardize)
        res.figures["tail_classes"] = _stacked(shares)
    return res


def _violin(dist, standardize):
    labels = list(dist)
    fig, axes = new_figure(1, 1, width=max(5.0, 0.6 * len(labels)), height=4.0)
    violin(axes[0, 0], [dist[l] for l in labels], [short(l) for l in labels],
           ylabel="z-scored score" if standardize else "score")
    axes[0, 0].set_title("score distribution per model and prompt")
    return fig


def _stacked(shares):
    bars = [(kk, tail) for kk in shares for tail in TAILS if shares[kk].get(tail)]
    fig, axes = new_figure(1, 1, width=max(5.0, 0.5 * len(bars) + 2), height=4.2)
    ax = axes[0, 0]
    bottom = np.zeros(len(bars))
    for c in CLASSES:
        vals = np.array([shares[kk][tail].get(c, 0.0) for kk, tail in bars])
        ax.bar(range(len(bars)), vals, bottom=bottom, label=c)
        bottom += vals
    ax.set_xticks(range(len(bars)))
    ax.set_xticklabels([f"{short(kk, 24)} {tail}" for kk, tail in bars], rotation=45, ha="right", fontsize=7)
    ax.set_ylabel("share of tail")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title("token classes in the top and bottom tails")
    return fig
