"""Frequency bias ("mere exposure"): does a word's corpus frequency raise its score, sentiment held fixed?

Per model × prompt, over tokens that decode to a single-word AFINN-111 entry (one row per word, see
`lexicons.afinn_words`; default: the " word" variant if present, else "word", else a case variant), OLS
`score ~ 1 + log(frequency) + afinn_value` (natural log). Frequency: `wordfreq.word_frequency(word, "en")` by
default, or the BNC 1.1 per-million list (`source: bnc, path: ...`, surface-form frequencies, see
`lexicons.load_bnc`); words of zero/unknown frequency are left out. The log base and the frequency unit only move
the intercept or rescale the coefficient by a constant (natural log throughout).

Inference: HC3 heteroskedasticity-robust standard errors with a t reference distribution (n - 3 df); the 95%
interval and the two-sided p use them. The raw coefficient is in the model's own score units (shown on the model
page); `log_freq_beta`, the standardised coefficient (coef * sd(ln freq) / sd(score)), is scale-free and is what
the board compares across models.
Metric keys: `<prompt>/<name>` (one model) or `<model>/<prompt>/<name>`.
"""

from __future__ import annotations

from typing import Annotated, Any, Mapping, Sequence

import numpy as np
import statsmodels.api as sm

from harness.analyses.arg_rules import OneOf, Range
from harness.analyses.base import (
    AnalysisResult,
    ScoreTables,
    apply_filters,
    key,
    metric,
)
from harness.lexicons import (
    DEDUPE,
    add_log_frequency,
    afinn_words,
    frequency_lookup,
    load_afinn111,
)
from harness.analyses.plots import fit_line, new_figure, short
from harness.analyses.registration import register

SE_TYPE = "HC3"  # heteroskedasticity-consistent (MacKinnon & White 1985): word scores are far from homoskedastic
_SE = "HC3 heteroskedasticity-robust standard error, t reference distribution with n - 3 degrees of freedom"

METRICS: dict[str, tuple[bool | None, str]] = {
    "log_freq_coef": (None, "OLS coefficient of ln(word frequency) in score ~ ln(freq) + afinn (AFINN words), in "
                            "score units per unit of ln(frequency); > 0 = frequent words score higher at equal "
                            "sentiment"),
    "log_freq_se": (None, f"standard error of log_freq_coef ({_SE})"),
    "log_freq_ci_low": (None, f"lower end of the 95% confidence interval of log_freq_coef ({_SE})"),
    "log_freq_ci_high": (None, f"upper end of the 95% confidence interval of log_freq_coef ({_SE})"),
    "log_freq_p": (None, f"two-sided p-value of log_freq_coef (t test with the {SE_TYPE} standard error)"),
    "log_freq_beta": (None, "standardised coefficient of ln(frequency): log_freq_coef * sd(ln freq) / sd(score) "
                            "over the words of the fit (sample SDs): score SDs per SD of ln(frequency) at equal "
                            "sentiment; scale-free, comparable across models"),
    "log_freq_beta_ci_low": (None, "lower end of the 95% interval of log_freq_beta: the log_freq_coef interval "
                                   "times sd(ln freq) / sd(score), the SDs taken as fixed"),
    "log_freq_beta_ci_high": (None, "upper end of the 95% interval of log_freq_beta (as log_freq_beta_ci_low)"),
    "afinn_coef": (None, "OLS coefficient of the AFINN-111 value in the same model"),
    "afinn_se": (None, f"standard error of afinn_coef ({_SE})"),
    "n_words": (None, "number of distinct AFINN words with a known frequency in the fit"),
}


def fit_frequency(words) -> dict[str, float]:
    """OLS score ~ 1 + ln(freq) + afinn with HC3 standard errors (t with n - 3 df), and the standardised
    coefficient of ln(freq)."""
    x = words[["log_freq", "afinn"]].to_numpy(float)
    y = words["score"].to_numpy(float)
    fit = sm.OLS(y, sm.add_constant(x, has_constant="add")).fit(cov_type=SE_TYPE, use_t=True)
    ci = fit.conf_int(0.05)
    scale = float(np.std(x[:, 0], ddof=1) / np.std(y, ddof=1))
    return {
        "intercept": float(fit.params[0]),
        "log_freq_coef": float(fit.params[1]), "log_freq_se": float(fit.bse[1]),
        "log_freq_ci_low": float(ci[1, 0]), "log_freq_ci_high": float(ci[1, 1]),
        "log_freq_p": float(fit.pvalues[1]),
        "log_freq_beta": float(fit.params[1]) * scale,
        "log_freq_beta_ci_low": float(ci[1, 0]) * scale, "log_freq_beta_ci_high": float(ci[1, 1]) * scale,
        "afinn_coef": float(fit.params[2]), "afinn_se": float(fit.bse[2]),
        "se_type": SE_TYPE,
    }


# judge: a judge's expected rating is its valuation of the reply, like a reward, so a frequency coefficient is a bias
@register("frequency_bias", scorers=("reward", "dpo", "judge"), why_not={
    "lm_logprob": "an LM's log-prob is itself a frequency estimate, so a positive log-frequency coefficient is "
                  "expected by construction and says nothing about bias",
})
def frequency_bias(tables: ScoreTables, source: Annotated[str, OneOf("wordfreq", "bnc")] = "wordfreq",
                   path: str | None = None, lang: str = "en",
                   bnc_variants: Annotated[str, OneOf("forms", "headword")] = "forms",
                   min_words: Annotated[int, Range(1)] = 10, dedupe: Annotated[str, OneOf(*DEDUPE)] = "preferred",
                   filters: Mapping[str, bool] | None = None, prompts: Sequence[str] | None = None) -> AnalysisResult:
    """score ~ ln(frequency) + afinn per model × prompt."""
    res = AnalysisResult()
    multi = len(tables) > 1
    lookup = frequency_lookup(source, path, lang, bnc_variants)
    lexicon = load_afinn111()
    data: dict[str, Any] = {"source": source, "path": path, "dedupe": dedupe, "min_words": min_words, "fits": {}}
    panels = []
    for model, by_prompt in tables.items():
        for prompt, df in by_prompt.items():
            if prompts is not None and prompt not in prompts:
                continue
            kk = key(model, prompt, multi)
            words = add_log_frequency(afinn_words(apply_filters(df, filters), lexicon, dedupe), lookup)
            n = len(words)
            res.metrics[f"{kk}/n_words"] = metric("n_words", n, METRICS)
            why = None
            if n < max(min_words, 4):
                why = f"{n} AFINN words with a known frequency < min_words={min_words}"
            elif words["log_freq"].nunique() < 2 or words["afinn"].nunique() < 2:
                why = "no variation in log frequency or AFINN value"
            fit = None if why else fit_frequency(words)
            for name in METRICS:
                if name != "n_words":
                    res.metrics[f"{kk}/{name}"] = metric(name, fit[name] if fit else None, METRICS, why)
            data["fits"][kk] = {"n_words": n, **(fit or {"missing_reason": why})}
            if fit:
                panels.append((kk, words, fit))
    res.data = data
    if panels:
        res.figures["partial_regression"] = _figure(panels)
    return res


def _residual(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    X = np.column_stack([np.ones_like(x), x])
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    return y - X @ beta


def _figure(panels):
    """Added-variable plot: score and ln(freq), each with AFINN (and intercept) partialled out."""
    fig, axes = new_figure(1, len(panels), width=4.2, height=3.8)
    for ax, (kk, words, fit) in zip(axes[0], panels):
        af = words["afinn"].to_numpy(float)
        rx = _residual(words["log_freq"].to_numpy(float), af)
        ry = _residual(words["score"].to_numpy(float), af)
        ax.scatter(rx, ry, s=6, alpha=0.4)
        fit_line(ax, rx, fit["log_freq_coef"], 0.0, color="tab:red", lw=2)
        ax.set_xlabel("ln(frequency) | afinn")
        ax.set_ylabel("score | afinn")
        ax.set_title(f"{short(kk, 30)}  b={fit['log_freq_coef']:.3g}±{fit['log_freq_se']:.2g}", fontsize=9)
    return fig
