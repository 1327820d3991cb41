"""Base-model comparison: rank the vocabulary by an LM's next-token log-probability, as for a reward model,
and, where a reward model's table for the same prompt is present, measure how the two rankings agree.

Which tables are LM tables: the `lm_models` argument if given, else the models whose tables carry
`df.attrs["scorer"] == "lm_logprob"`; if neither names any, every model is treated as an LM (rankings only).
The other models are reward models. Agreement: Kendall tau-b between an LM's and an RM's scores for one prompt,
over ids finite in both whose `decoded` strings are equal (so tables from different tokenizers only meet on
tokens that are literally the same string at the same id).
Metric keys: `<lm>/<prompt>/<name>` (the LM prefix is dropped when there is a single LM and no RM);
agreement `<lm>/<prompt>/<rm>/kendall_tau`, and `<lm>/<prompt>/kendall_tau` missing (value None, with a reason) when no RM table has
the prompt.
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
    distribution_metrics,
    finite_mask,
    metric,
    top_bottom,
)
from harness.analyses.plots import new_figure, short
from harness.analyses.registration import register

METRICS: dict[str, tuple[bool | None, str]] = {
    "mean": (None, "mean of the finite LM log-probabilities"),
    "n": (None, "number of finite LM log-probabilities"),
    "n_nonfinite": (False, "number of NaN/inf LM scores (excluded)"),
    "kendall_tau": (None, "Kendall tau-b between LM log-prob and RM score over shared, equal-string ids"),
    "n_shared": (None, "number of ids finite in both tables with equal decoded strings"),
}


def lm_model_ids(tables: ScoreTables, lm_models: Sequence[str] | None) -> list[str]:
    if lm_models:
        missing = [m for m in lm_models if m not in tables]
        if missing:
            raise ValueError(f"lm_models not in the tables: {missing}")
        return list(lm_models)
    tagged = [m for m, bp in tables.items() if any(df.attrs.get("scorer") == "lm_logprob" for df in bp.values())]
    return tagged or list(tables)


def shared_frame(lm: pd.DataFrame, rm: pd.DataFrame) -> pd.DataFrame:
    a = lm.loc[finite_mask(lm), ["id", "decoded", "score"]]
    b = rm.loc[finite_mask(rm), ["id", "decoded", "score"]]
    j = a.merge(b, on="id", suffixes=("_lm", "_rm"), validate="one_to_one")
    return j[j["decoded_lm"].astype(str) == j["decoded_rm"].astype(str)]


@register("base_model_comparison", scorers=("lm_logprob",), joins=("reward", "dpo", "judge"), why_not={
    "judge": "it ranks a language model's next-token log-probs; a judge's expected rating joins it as a valuation",
    "reward": "it ranks a language model's next-token log-probs; reward-model tables join it as the comparison side",
    "dpo": "it ranks a language model's next-token log-probs; a DPO model's implicit reward is not one",
})
def base_model_comparison(tables: ScoreTables, k: Annotated[int, Range(1)] = 20, lm_models: Sequence[str] | None = None,
                          filters: Mapping[str, bool] | None = None) -> AnalysisResult:
    """Top/bottom k tokens of each LM per prompt; Kendall tau-b against each RM on the same prompt."""
    res = AnalysisResult()
    lms = lm_model_ids(tables, lm_models)
    rms = [m for m in tables if m not in lms]
    single = len(lms) == 1 and not rms
    top: dict[str, Any] = {}
    bottom: dict[str, Any] = {}
    agreement: dict[str, Any] = {}
    panels = []
    for lm in lms:
        for prompt, df in tables[lm].items():
            kk = prompt if single else f"{lm}/{prompt}"
            d = apply_filters(df, filters)
            fm = finite_mask(d)
            dm = distribution_metrics(d["score"].to_numpy(float)[fm])
            res.metrics[f"{kk}/mean"] = metric("mean", dm["mean"][0], METRICS, dm["mean"][1])
            res.metrics[f"{kk}/n"] = metric("n", dm["n"][0], METRICS)
            res.metrics[f"{kk}/n_nonfinite"] = metric("n_nonfinite", int((~fm).sum()), METRICS)
            top[kk], bottom[kk] = top_bottom(d, k)
            rms_here = [rm for rm in rms if prompt in tables[rm]]
            if not rms_here:
                res.metrics[f"{kk}/kendall_tau"] = metric(
                    "kendall_tau", None, METRICS, f"no reward-model table for prompt {prompt!r}")
            for rm in rms_here:
                j = shared_frame(d, apply_filters(tables[rm][prompt], filters))
                ak = f"{kk}/{rm}"
                res.metrics[f"{ak}/n_shared"] = metric("n_shared", len(j), METRICS)
                tau, why = None, None
                if len(j) < 2:
                    why = "fewer than 2 shared ids with equal decoded strings"
                else:
                    t = stats.kendalltau(j["score_lm"], j["score_rm"], variant="b").statistic
                    tau, why = (float(t), None) if np.isfinite(t) else (None, "tau undefined (constant scores)")
                res.metrics[f"{ak}/kendall_tau"] = metric("kendall_tau", tau, METRICS, why)
                agreement[ak] = {"lm": lm, "rm": rm, "prompt": prompt, "n_shared": len(j), "kendall_tau": tau}
                if len(j):
                    panels.append((ak, j))
    res.data = {"k": k, "lm_models": lms, "reward_models": rms, "top": top, "bottom": bottom,
                "agreement": agreement}
    if panels:
        fig, axes = new_figure(1, len(panels), width=4.2, height=3.8)
        for ax, (ak, j) in zip(axes[0], panels):
            ax.scatter(j["score_lm"], j["score_rm"], s=2, alpha=0.3, rasterized=True)
            ax.set_xlabel("LM log-probability")
            ax.set_ylabel("RM score")
            ax.set_title(short(ak, 40), fontsize=9)
        res.figures["lm_vs_rm"] = fig
    elif top:
        fig, axes = new_figure(1, 1)
        drawn = False
        for kk in top:
            lm, _, prompt = kk.rpartition("/")
            s = tables[lm or lms[0]][prompt]["score"].to_numpy(float)
            if np.isfinite(s).any():
                axes[0, 0].hist(s[np.isfinite(s)], bins=60, histtype="step", label=short(kk))
                drawn = True
        axes[0, 0].set_xlabel("log-probability")
        if drawn:
            axes[0, 0].legend(fontsize=7)
        res.figures["logprob_hist"] = fig
    return res
