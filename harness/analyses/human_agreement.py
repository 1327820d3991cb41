"""Human agreement: reward-model scores of an item list (EloEverything names) against human Elo ratings.

Input: item-list score tables (`item` column; `responses: {type: items}`) per model × prompt, and the human Elo
from the CSV given as `elo_path` (columns `elo_rank, elo_score, name, elo_matches`; higher Elo = preferred),
joined on `item == name` (surrounding whitespace ignored). Without `elo_path`, an `elo_score` column carried in
the score tables (`keep_columns: [elo_score]`) is used instead.

Per model × prompt (items with a finite score and an Elo): Spearman rho and Kendall tau-b between the score and
the Elo score.

Per prompt, over the items scored finitely by every model: each model's rank of an item (1 = highest score,
ties averaged), the median of those ranks over models, and the human rank (1 = highest Elo, ties averaged).
`rank_gap = human_rank - median_model_rank`: positive = models put the item higher than people do
("overvalued"), negative = lower ("undervalued"); the `top_n` largest each way are listed in
`data[prompt]["overvalued"]` / `["undervalued"]` and drawn in the rank-trajectory figure.

Consensus median. By default the median is over the models only, so it measures the models' consensus against
the human rank it is compared with. The study's figure took the median over the model columns *and* the human
column; `consensus_includes_humans: true` reproduces that. With humans in the median, every gap is pulled towards
zero (the human rank is one of the values whose median is taken), so the study's gaps are smaller and its
consensus correlation higher than ours; the order of the most over/undervalued items changes little.

Scorer kinds. Reward and DPO scores are used as they are. An LM's score for an item is the summed log-prob of its
tokens, which mostly measures the item's length (longer names are less probable), so for `lm_logprob` tables (and
a DPO policy's scored without its reference model, whose score is that same summed log-prob) the
summed metrics (`spearman`, `kendall_tau`) are reported missing with that reason, and the LM variant is given
instead: the per-token mean log-prob (`score / n_tokens`; `spearman_per_token`, `kendall_tau_per_token`), which is
also what enters the consensus for an LM. For every kind, `length_baseline_spearman` is the Spearman rho that a
scorer counting tokens alone (fewer tokens = better) gets against the Elo: a model's rho is only informative
beside it.

`tables_from_elo_snapshot(csv, prompt_key)` turns the study's snapshot (one score column per reward model, named
by Hub id) into item score tables, so this analysis reproduces the study's human-vs-RM comparison offline.

Metric keys: `<prompt>/<name>` for one model (`<model>/<prompt>/<name>` for several), plus
`<prompt>/consensus_spearman` / `<prompt>/consensus_kendall_tau` for the median model rank.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Mapping

import numpy as np
import pandas as pd
from scipy import stats

from harness.analyses.arg_rules import CsvColumns, Range
from harness.analyses.base import (
    AnalysisResult,
    Metric,
    ScoreTables,
    logprob_scores,
    metric,
    table_kind,
)
from harness.analyses.plots import new_figure, short
from harness.analyses.registration import register
from harness.data_paths import portable_path
from harness.errors import UserError

METRICS: dict[str, tuple[bool | None, str]] = {
    "spearman": (True, "Spearman rho between the model's item scores and human Elo (items with both)"),
    "kendall_tau": (True, "Kendall tau-b between the model's item scores and human Elo"),
    "n_items": (None, "items with a finite score joined to a human Elo"),
    "n_unmatched": (None, "scored items without a human Elo (no name match)"),
    "consensus_spearman": (True, "Spearman rho between the median model rank (over models; over models and the "
                                 "human rank with consensus_includes_humans) and the human rank"),
    "consensus_kendall_tau": (True, "Kendall tau-b between the median model rank and the human rank"),
    "mean_abs_rank_gap": (False, "mean |human rank - median model rank| over the items every model scored"),
    "spearman_per_token": (True, "LM only: Spearman rho between the per-token mean log-prob of the item "
                                 "(summed log-prob / n_tokens) and human Elo"),
    "kendall_tau_per_token": (True, "LM only: Kendall tau-b between the per-token mean log-prob and human Elo"),
    "length_baseline_spearman": (None, "Spearman rho between -n_tokens (fewer tokens = better) and human Elo, "
                                       "over the same items: what counting tokens alone achieves"),
}
LM_SUMMED = ("a summed log-prob of an item (an LM's, or a DPO policy's scored without its reference model) mostly "
             "measures its length; see spearman_per_token, kendall_tau_per_token and length_baseline_spearman")

ELO_COLUMNS = ("elo_rank", "elo_score", "name", "elo_matches")


def _m(name: str, value: float | None, reason: str | None = None, kind: str | None = None) -> Metric:
    return metric(name, value, METRICS, reason, kind=kind)


class EloFileError(UserError, ValueError):
    """The human Elo file cannot be used as given (a user's data file, so one line, not a traceback)."""


def load_elo(path: str | Path) -> pd.DataFrame:
    """Human Elo table: `name` (stripped) and `elo_score`, plus `elo_rank`/`elo_matches` when present."""
    df = pd.read_csv(path, keep_default_na=False, na_values=[""])  # names like 'NA' or 'null' are text
    for col in ("name", "elo_score"):
        if col not in df.columns:
            raise EloFileError(f"{path}: needs columns name and elo_score (has {', '.join(df.columns)})")
    keep = [c for c in ELO_COLUMNS if c in df.columns]
    out = df[keep].copy()
    out["name"] = out["name"].astype("string").str.strip()
    out["elo_score"] = pd.to_numeric(out["elo_score"], errors="coerce")
    out = out[out["name"].notna() & np.isfinite(out["elo_score"].to_numpy(dtype=float))]
    dup = out["name"].duplicated(keep=False)
    if dup.any():
        raise EloFileError(f"{path}: {int(dup.sum())} rows share a name (e.g. {out.loc[dup, 'name'].iloc[0]!r}); "
                         "names must be unique to join on")
    return out.reset_index(drop=True)


def check_task(args: Mapping[str, Any], responses: Mapping[str, Any]) -> tuple[str, str] | None:
    """(field, problem) when a task gives the analysis no human Elo: neither `elo_path` nor an `elo_score` column
    kept from the item file (read by the task loader, so the gap fails validation, not the run after the scan)."""
    if args.get("elo_path") is None and "elo_score" not in (responses.get("keep_columns") or []):
        return ("analysis.args.elo_path", "human_agreement needs the human Elo: give elo_path (a CSV with name and "
                                          "elo_score columns), or keep the item file's elo_score column "
                                          "(responses: {keep_columns: [elo_score]})")
    return None


def tables_from_elo_snapshot(csv_path: str | Path, prompt_key: str) -> dict[str, dict[str, pd.DataFrame]]:
    """ScoreTables from the study's EloEverything snapshot: one item table per model column (Hub id).

    The snapshot has no token ids, so `token` is empty and `n_tokens` / `roundtrip` are unknown (NA); the Elo
    columns are carried along (as `keep_columns` would).
    """
    df = pd.read_csv(csv_path, keep_default_na=False, na_values=[""])  # names like 'NA' are text
    missing = [c for c in ("name",) if c not in df.columns]
    if missing:
        raise ValueError(f"{csv_path}: no 'name' column")
    model_cols = [c for c in df.columns if c not in ELO_COLUMNS]
    if not model_cols:
        raise ValueError(f"{csv_path}: no model score columns beside {', '.join(ELO_COLUMNS)}")
    names = df["name"].astype("string")
    base = pd.DataFrame({
        "id": np.arange(len(df), dtype=np.int64),
        "item": names,
        "token": pd.Series([""] * len(df), dtype="string"),
        "decoded": names,
        "n_tokens": pd.array([pd.NA] * len(df), dtype="Int32"),
        "special": False,
        "byte_fragment": False,
        "leading_space": names.str.match(r"^\s").fillna(False).astype(bool),
        "alpha_word": names.str.strip().str.isalpha().fillna(False).astype(bool),
        "roundtrip": pd.array([pd.NA] * len(df), dtype="boolean"),
    })
    extra = df[[c for c in ELO_COLUMNS if c in df.columns and c != "name"]].reset_index(drop=True)
    out: dict[str, dict[str, pd.DataFrame]] = {}
    for col in model_cols:
        t = base.copy()
        t["score"] = pd.to_numeric(df[col], errors="coerce").astype("float64").to_numpy()
        t["finite"] = np.isfinite(t["score"].to_numpy())
        t = pd.concat([t, extra], axis=1)
        out[str(col)] = {prompt_key: t}
    return out


def _join(df: pd.DataFrame, elo: pd.DataFrame | None, per_token: bool = False) -> tuple[pd.DataFrame, int]:
    """Rows [item, score, n_tokens, elo_score] with finite score and Elo; and the number of scored items without
    Elo. `per_token`: the score is divided by the item's token count (an LM's per-token mean log-prob)."""
    if "item" not in df.columns:
        raise ValueError("human_agreement needs item-list score tables (an `item` column)")
    n_tok = pd.to_numeric(df["n_tokens"], errors="coerce") if "n_tokens" in df.columns else pd.Series(
        np.nan, index=df.index)
    score = pd.to_numeric(df["score"], errors="coerce")
    if per_token:
        score = score / n_tok.where(n_tok > 0)
    t = pd.DataFrame({"item": df["item"].astype("string").str.strip(), "score": score,
                      "n_tokens": n_tok.astype(float)})
    if elo is not None:
        t = t.merge(elo[["name", "elo_score"]], left_on="item", right_on="name", how="left").drop(columns="name")
    elif "elo_score" in df.columns:
        t["elo_score"] = pd.to_numeric(df["elo_score"], errors="coerce").to_numpy()
    else:
        raise ValueError("no human Elo: pass elo_path, or carry an elo_score column in the score tables")
    fin = np.isfinite(t["score"].to_numpy(dtype=float))
    has_elo = np.isfinite(t["elo_score"].to_numpy(dtype=float))
    joined = t[fin & has_elo]
    joined = joined[~joined["item"].duplicated(keep="first")]
    return joined.reset_index(drop=True), int((fin & ~has_elo).sum())


def _corr(x: np.ndarray, y: np.ndarray) -> tuple[float | None, float | None, str | None]:
    if len(x) < 3:
        return None, None, f"needs at least 3 items, have {len(x)}"
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return None, None, "constant scores or Elo: correlation undefined"
    return (float(stats.spearmanr(x, y).statistic), float(stats.kendalltau(x, y, variant="b").statistic), None)


# LMs: per-token metrics only (module docstring); judge: expected ratings are valuations
@register("human_agreement", scorers=("reward", "lm_logprob", "dpo", "judge"))
def human_agreement(tables: ScoreTables, elo_path: Annotated[str | None, CsvColumns("name", "elo_score")] = None,
                    top_n: Annotated[int, Range(1)] = 20,
                    prompts: list[str] | None = None, consensus_includes_humans: bool = False) -> AnalysisResult:
    """Per-model Spearman/Kendall vs human Elo, and the most over/undervalued items (module docstring)."""
    if not isinstance(top_n, int) or top_n < 1:
        raise ValueError(f"top_n must be a positive integer, got {top_n!r}")
    elo = load_elo(elo_path) if elo_path else None
    res = AnalysisResult()
    multi = len(tables) > 1
    if not isinstance(consensus_includes_humans, bool):
        raise ValueError(f"consensus_includes_humans must be true or false, got {consensus_includes_humans!r}")
    res.data = {"elo_path": portable_path(elo_path), "top_n": top_n, "prompts": {},
                "consensus_includes_humans": consensus_includes_humans}
    all_prompts: list[str] = []
    for by_prompt in tables.values():
        all_prompts += [k for k in by_prompt if k not in all_prompts and (prompts is None or k in prompts)]

    for prompt in all_prompts:
        joined: dict[str, pd.DataFrame] = {}
        per_model: dict[str, Any] = {}
        for model, by_prompt in tables.items():
            if prompt not in by_prompt:
                continue
            kind = table_kind(by_prompt[prompt])
            lm = logprob_scores(by_prompt[prompt])
            j, n_unmatched = _join(by_prompt[prompt], elo, per_token=lm)
            joined[model] = j
            rho, tau, why = _corr(j["score"].to_numpy(float), j["elo_score"].to_numpy(float))
            base = "/".join(([model] if multi else []) + [prompt])
            if lm:
                res.metrics[f"{base}/spearman"] = _m("spearman", None, LM_SUMMED, kind)
                res.metrics[f"{base}/kendall_tau"] = _m("kendall_tau", None, LM_SUMMED, kind)
            suffix = "_per_token" if lm else ""
            res.metrics[f"{base}/spearman{suffix}"] = _m(f"spearman{suffix}", rho, why, kind)
            res.metrics[f"{base}/kendall_tau{suffix}"] = _m(f"kendall_tau{suffix}", tau, why, kind)
            n_tok = j["n_tokens"].to_numpy(float)
            if np.isfinite(n_tok).all() and len(j):
                length_rho, _, length_why = _corr(-n_tok, j["elo_score"].to_numpy(float))
            else:
                length_rho, length_why = None, "token counts unknown for these items (no n_tokens column)"
            res.metrics[f"{base}/length_baseline_spearman"] = _m("length_baseline_spearman", length_rho, length_why)
            res.metrics[f"{base}/n_items"] = _m("n_items", len(j))
            res.metrics[f"{base}/n_unmatched"] = _m("n_unmatched", n_unmatched)
            per_model[model] = {"spearman": rho, "kendall_tau": tau, "n_items": len(j), "n_unmatched": n_unmatched,
                                "reason": why, "scorer": kind, "per_token": lm,
                                "length_baseline_spearman": length_rho}
        d: dict[str, Any] = {"per_model": per_model}
        res.data["prompts"][prompt] = d
        ranks = _consensus(joined, consensus_includes_humans)
        if ranks is None or len(ranks) < 3:
            why = "fewer than 3 items scored finitely by every model and joined to an Elo"
            for name in ("consensus_spearman", "consensus_kendall_tau", "mean_abs_rank_gap"):
                res.metrics[f"{prompt}/{name}"] = _m(name, None, why)
            d["overvalued"] = d["undervalued"] = []
            continue
        rho, tau, why = _corr(-ranks["median_model_rank"].to_numpy(float), -ranks["human_rank"].to_numpy(float))
        res.metrics[f"{prompt}/consensus_spearman"] = _m("consensus_spearman", rho, why)
        res.metrics[f"{prompt}/consensus_kendall_tau"] = _m("consensus_kendall_tau", tau, why)
        res.metrics[f"{prompt}/mean_abs_rank_gap"] = _m("mean_abs_rank_gap", float(ranks["rank_gap"].abs().mean()))
        over = ranks.sort_values(["rank_gap", "human_rank"], ascending=[False, True]).head(top_n)
        under = ranks.sort_values(["rank_gap", "human_rank"], ascending=[True, True]).head(top_n)
        over, under = over[over["rank_gap"] > 0], under[under["rank_gap"] < 0]
        d["n_common_items"] = int(len(ranks))
        d["models"] = list(joined)
        d["overvalued"] = _records(over)
        d["undervalued"] = _records(under)
        res.figures[f"rank_trajectory_{prompt}"] = _trajectory(ranks, over, under, prompt, len(joined),
                                                               consensus_includes_humans)
    return res


def _consensus(joined: Mapping[str, pd.DataFrame], include_humans: bool = False) -> pd.DataFrame | None:
    """Items scored by every model: human rank, each model's rank, their median (with the human rank among the
    values when `include_humans`, as in the study's figure), and the gap."""
    if not joined:
        return None
    common = None
    for j in joined.values():
        s = set(j["item"])
        common = s if common is None else common & s
    if not common:
        return None
    first = next(iter(joined.values()))
    base = first[first["item"].isin(common)][["item", "elo_score"]].set_index("item").sort_index()
    n = len(base)
    model_ranks = {}
    for m, j in joined.items():
        s = j.set_index("item")["score"].reindex(base.index).to_numpy(float)
        model_ranks[m] = n + 1 - stats.rankdata(s)  # 1 = highest score
    out = base.copy()
    out["human_rank"] = n + 1 - stats.rankdata(base["elo_score"].to_numpy(float))
    mr = np.vstack(list(model_ranks.values()))
    pool = np.vstack([mr, out["human_rank"].to_numpy(float)]) if include_humans else mr
    out["median_model_rank"] = np.median(pool, axis=0)
    out["rank_gap"] = out["human_rank"] - out["median_model_rank"]
    out["model_ranks"] = [dict(zip(model_ranks, map(float, col))) for col in mr.T]
    return out.reset_index()


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{"item": str(r.item), "elo_score": float(r.elo_score), "human_rank": float(r.human_rank),
             "median_model_rank": float(r.median_model_rank), "rank_gap": float(r.rank_gap),
             "model_ranks": r.model_ranks} for r in df.itertuples(index=False)]


def _trajectory(ranks: pd.DataFrame, over: pd.DataFrame, under: pd.DataFrame, prompt: str, n_models: int,
                with_humans: bool = False):
    fig, axes = new_figure(1, 2, width=5.2, height=max(4.5, 0.2 * max(len(over), len(under)) + 2))
    n = len(ranks)
    for ax, sel, color, title in ((axes[0, 0], over, "C2", "overvalued by models"),
                                  (axes[0, 1], under, "C3", "undervalued by models")):
        bg = ranks.sample(min(300, n), random_state=0)
        for r in bg.itertuples(index=False):
            ax.plot([0, 1], [r.human_rank, r.median_model_rank], color="0.88", lw=0.4, zorder=1)
        label_y = _spread(sel["median_model_rank"].to_numpy(float), gap=n / 38.0, lo=1.0, hi=float(n))
        for r, ly in zip(sel.itertuples(index=False), label_y):
            ax.plot([0, 1], [r.human_rank, r.median_model_rank], color=color, lw=1.0, zorder=2)
            ax.plot([1, 1.08], [r.median_model_rank, ly], color=color, lw=0.4, zorder=2)
            ax.text(1.1, ly, short(str(r.item), 24), fontsize=6, va="center")
        ax.set_xlim(-0.1, 1.75)
        ax.set_ylim(n + 1, 0)
        ax.set_xticks([0, 1])
        pooled = f"{n_models} model{'s' if n_models != 1 else ''}" + (" + humans" if with_humans else "")
        ax.set_xticklabels(["human rank", f"median model rank\n({pooled})"],
                           fontsize=8)
        ax.set_ylabel("rank (1 = best)")
        ax.set_title(f"{prompt}: {len(sel)} most {title}", fontsize=9)
    return fig


def _spread(y: np.ndarray, gap: float, lo: float, hi: float) -> np.ndarray:
    """Label positions near `y`, at least `gap` apart (kept in order), inside [lo, hi] when they fit."""
    if len(y) == 0:
        return y
    order = np.argsort(y, kind="stable")
    pos = y[order].astype(float).copy()
    for i in range(1, len(pos)):
        pos[i] = max(pos[i], pos[i - 1] + gap)
    if pos[-1] > hi:
        pos[-1] = hi
        for i in range(len(pos) - 2, -1, -1):
            pos[i] = min(pos[i], pos[i + 1] - gap)
    pos = np.maximum(pos, lo) if pos[0] < lo else pos
    out = np.empty_like(pos)
    out[order] = pos
    return out


human_agreement.check_task = check_task  # read by the task loader (harness.tasks.spec)
