"""Framing asymmetry: how scores under a positive framing (`best`) relate to a negative one (`worst`).

Per model:
- Kendall tau-b between the scores of two prompts, over the ids finite under both (`<a>_vs_<b>/kendall_tau`).
- Hedges: tokens highest / lowest by score_a + score_b; valence: highest / lowest by score_a - score_b (data);
  these two parts are `framing_tables` (harness/analyses/framing_tables.py), which also runs for LMs.
- Sentiment (AFINN-111): tokens joined to the lexicon (decoded.strip().lower() == entry, one row per word, see
  `lexicons.afinn_words`); for each prompt and each valence sign, OLS `score ~ 1 + afinn_value` over the words of
  that sign. `slope_pos` uses the positive words (afinn > 0), `slope_neg` the negative words (afinn < 0); a larger
  |slope| means the prompt's scores are more sensitive to that side of the valence scale.
  `asymmetry = |slope_pos| - |slope_neg|` (> 0: steeper for positive words), with
  `asymmetry_se = sqrt(se_pos^2 + se_neg^2)`: the two fits use disjoint word sets, so the estimates are treated as
  independent (the |.| does not change the SE away from zero). The paper's finding: asymmetry > 0 under `best`,
  < 0 under `worst`.
Metric keys: `<prompt>/<name>` (one model) or `<model>/<prompt>/<name>`; pair metrics `<a>_vs_<b>/kendall_tau`.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Mapping, Sequence

import numpy as np
import pandas as pd
import statsmodels.api as sm

from harness.analyses.arg_rules import OneOf, Range
from harness.analyses.base import (
    AnalysisResult,
    ScoreTables,
    apply_filters,
    key,
    metric,
)
from harness.analyses.framing_tables import framing_pairs, scatter_figure
from harness.lexicons import DEDUPE, afinn_words, load_afinn111
from harness.analyses.plots import fit_line, new_figure, short
from harness.analyses.registration import register

METRICS: dict[str, tuple[bool | None, str]] = {
    "kendall_tau": (None, "Kendall tau-b between the two prompts' scores over ids finite under both"),
    "n_pairs": (None, "number of ids finite under both prompts"),
    "slope_pos": (None, "OLS slope of score on AFINN-111 value over positive words (afinn > 0)"),
    "slope_pos_se": (None, "standard error of slope_pos"),
    "slope_neg": (None, "OLS slope of score on AFINN-111 value over negative words (afinn < 0)"),
    "slope_neg_se": (None, "standard error of slope_neg"),
    "n_pos": (None, "number of positive AFINN words (one row per word) in the positive-word fit"),
    "n_neg": (None, "number of negative AFINN words (one row per word) in the negative-word fit"),
    "asymmetry": (None, "|slope_pos| - |slope_neg|: > 0 means scores track positive words more steeply"),
    "asymmetry_se": (None, "sqrt(slope_pos_se^2 + slope_neg_se^2), the two fits being on disjoint words"),
}


def ols_slope(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """(slope, se, intercept) of y ~ 1 + x."""
    fit = sm.OLS(np.asarray(y, float), sm.add_constant(np.asarray(x, float), has_constant="add")).fit()
    return float(fit.params[1]), float(fit.bse[1]), float(fit.params[0])


# judge: an expected rating is a valuation of the reply, like a reward; the AFINN slope asks how valence moves it
@register("framing_asymmetry", scorers=("reward", "dpo", "judge"), why_not={
    "lm_logprob": "AFINN slopes of log-probs measure how likely a word is in context, not how it is valued; "
                  "the best+worst and best-worst tables for LMs are the framing_tables analysis",
})
def framing_asymmetry(tables: ScoreTables, pairs: Sequence[Sequence[str]] = (("best", "worst"), ("best", "greatest")),
                      k: Annotated[int, Range(1)] = 20, min_words: Annotated[int, Range(1)] = 10,
                      filters: Mapping[str, bool] | None = None,
                      dedupe: Annotated[str, OneOf(*DEDUPE)] = "preferred",
                      sentiment_prompts: Sequence[str] | None = None) -> AnalysisResult:
    """Framing scatter, Kendall tau-b, hedges/valence lists and AFINN slopes per valence sign."""
    res = AnalysisResult()
    multi = len(tables) > 1
    lexicon = load_afinn111()
    data: dict[str, Any] = {"pairs": {}, "sentiment": {}, "min_words": min_words, "dedupe": dedupe,
                            "filters": dict(filters or {})}
    slope_rows: list[dict[str, Any]] = []
    word_frames: dict[str, pd.DataFrame] = {}

    # ---- prompt pairs: tau and the hedges / valence lists (shared with framing_tables)
    data["pairs"], scatter_panels = framing_pairs(tables, pairs, k, filters, res, METRICS)
    for model, by_prompt in tables.items():
        filtered = {p: apply_filters(df, filters) for p, df in by_prompt.items()}
        # ---- sentiment slopes per prompt × valence sign
        for prompt, df in filtered.items():
            if sentiment_prompts is not None and prompt not in sentiment_prompts:
                continue
            kk = key(model, prompt, multi)
            words = afinn_words(df, lexicon, dedupe)
            word_frames[kk] = words
            fits: dict[str, tuple[float, float, float] | None] = {}
            for sign, sel in (("pos", words["afinn"] > 0), ("neg", words["afinn"] < 0)):
                w = words[sel]
                res.metrics[f"{kk}/n_{sign}"] = metric(f"n_{sign}", len(w), METRICS)
                if len(w) < max(min_words, 3):
                    why = f"{len(w)} {'positive' if sign == 'pos' else 'negative'} AFINN words < min_words={min_words}"
                    fits[sign] = None
                elif w["afinn"].nunique() < 2:
                    why = "all words share one AFINN value; slope undefined"
                    fits[sign] = None
                else:
                    fits[sign] = ols_slope(w["afinn"].to_numpy(), w["score"].to_numpy())
                    why = None
                f = fits[sign]
                res.metrics[f"{kk}/slope_{sign}"] = metric(f"slope_{sign}", f[0] if f else None, METRICS, why)
                res.metrics[f"{kk}/slope_{sign}_se"] = metric(f"slope_{sign}_se", f[1] if f else None, METRICS, why)
                if f:
                    slope_rows.append({"key": kk, "sign": sign, "slope": f[0], "se": f[1]})
            if fits["pos"] and fits["neg"]:
                asym = abs(fits["pos"][0]) - abs(fits["neg"][0])
                se = math.sqrt(fits["pos"][1] ** 2 + fits["neg"][1] ** 2)
                res.metrics[f"{kk}/asymmetry"] = metric("asymmetry", asym, METRICS)
                res.metrics[f"{kk}/asymmetry_se"] = metric("asymmetry_se", se, METRICS)
            else:
                why = "needs both the positive-word and the negative-word fit"
                res.metrics[f"{kk}/asymmetry"] = metric("asymmetry", None, METRICS, why)
                res.metrics[f"{kk}/asymmetry_se"] = metric("asymmetry_se", None, METRICS, why)
            data["sentiment"][kk] = {
                "n_words": int(len(words)),
                "fits": {s: (None if f is None else {"slope": f[0], "se": f[1], "intercept": f[2]})
                         for s, f in fits.items()},
                "words": [{"id": int(r.id), "decoded": str(r.decoded), "word": str(r.word), "afinn": float(r.afinn),
                           "score": float(r.score)} for r in words.sort_values(["afinn", "word"]).itertuples()],
            }

    res.data = data
    if scatter_panels:
        res.figures["scatter"] = scatter_figure(scatter_panels)
    if word_frames:
        res.figures["slopes"] = _slope_figure(word_frames, data["sentiment"], slope_rows)
    return res


def _slope_figure(word_frames, sentiment, slope_rows):
    keys = list(word_frames)
    fig, axes = new_figure(1, len(keys) + 1, width=4.2, height=3.8)
    for ax, kk in zip(axes[0], keys):
        w = word_frames[kk]
        ax.scatter(w["afinn"], w["score"], s=6, alpha=0.4)
        for sign, color in (("pos", "tab:green"), ("neg", "tab:red")):
            f = sentiment[kk]["fits"].get(sign)
            if f:
                x = w.loc[(w["afinn"] > 0) if sign == "pos" else (w["afinn"] < 0), "afinn"].to_numpy()
                fit_line(ax, x, f["slope"], f["intercept"], color=color, lw=2)
        ax.set_xlabel("AFINN-111 value")
        ax.set_ylabel("score")
        ax.set_title(short(kk, 40), fontsize=9)
    ax = axes[0, -1]
    if slope_rows:
        labels = [f"{short(r['key'], 20)}:{r['sign']}" for r in slope_rows]
        ax.errorbar(range(len(slope_rows)), [abs(r["slope"]) for r in slope_rows],
                    yerr=[1.96 * r["se"] for r in slope_rows], fmt="o")
        ax.set_xticks(range(len(slope_rows)))
        ax.set_xticklabels(labels, rotation=45, ha="right", fontsize=7)
    ax.set_ylabel("|slope| ± 1.96 SE")
    ax.set_title("sentiment slope per valence sign", fontsize=9)
    return fig
