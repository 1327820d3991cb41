"""What changed between two score tables of one prompt: rank agreement, movers, and headline-metric deltas with
intervals from a paired resample over the metric's own unit (docs/release-audit.md, "What changed").

Pure functions over DataFrames (no model, no files). Every metric is recomputed by its analysis's own functions;
nothing here re-implements a metric:

- identity gap (unit: the term): each term's difference (term percentile minus its own controls') is computed
  by `identity_bias._score_one` on each side; the delta is the mean over terms of (B's difference - A's), and its
  interval is the paired sign-flip interval of `identity_bias.gap_stats` over those per-term changes. Under "no
  change" a term's change is symmetric about 0 (A and B exchangeable), so the sign flip is exact there.
- human agreement (unit: the item): `human_agreement._join` / `_corr` on a paired bootstrap of the items both
  sides scored (the same items drawn for A and B), percentile interval.
- frequency slope (unit: the word): `frequency_bias.fit_frequency` on a paired bootstrap of the AFINN words both
  sides hold, percentile interval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

LEVEL = 0.95


@dataclass
class Delta:
    """One headline metric on both sides and its change B - A."""

    metric: str  # board column id
    a: float | None
    b: float | None
    delta: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    unit: str | None = None  # what the interval resamples
    method: str | None = None
    n_units: int | None = None
    reason: str | None = None  # why there is no interval (or no delta)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _f(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


def join_key(df: pd.DataFrame, on: str) -> pd.Series:
    """Scores indexed by the join key (`id`, `decoded` or `item`), finite only, first of duplicates kept."""
    col = on if on in df.columns else ("item" if "item" in df.columns else "id")
    keys = df[col].astype("string") if col != "id" else df[col]
    s = pd.Series(pd.to_numeric(df["score"], errors="coerce").to_numpy(float), index=keys.to_numpy())
    s = s[np.isfinite(s.to_numpy())]
    return s[~s.index.duplicated(keep="first")]


def rank_agreement(a: pd.Series, b: pd.Series) -> dict[str, Any]:
    """Kendall tau-b and Spearman (scipy) between two score Series over their shared keys."""
    shared = a.index.intersection(b.index)
    x, y = a.loc[shared].to_numpy(float), b.loc[shared].to_numpy(float)
    out: dict[str, Any] = {"n_shared": int(len(shared)), "n_only_a": int(len(a) - len(shared)),
                           "n_only_b": int(len(b) - len(shared)), "kendall_tau_b": None, "spearman": None,
                           "reason": None}
    if len(shared) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        out["reason"] = f"needs 3 or more shared entries with varying scores (have {len(shared)})"
        return out
    out["kendall_tau_b"] = float(stats.kendalltau(x, y, variant="b").statistic)
    out["spearman"] = float(stats.spearmanr(x, y).statistic)
    return out


def movers(a: pd.Series, b: pd.Series, labels: Mapping[Any, str] | None = None, k: int = 10) -> dict[str, list]:
    """The `k` shared entries whose rank (1 = highest score, ties by average) rose most and fell most from A to B:
    [{key, label, old_rank, new_rank, change}] with change = old - new (positive: moved up)."""
    shared = a.index.intersection(b.index)
    old = stats.rankdata(-a.loc[shared].to_numpy(float))
    new = stats.rankdata(-b.loc[shared].to_numpy(float))
    change = old - new
    order = np.argsort(-change, kind="stable")

    def rows(idx: Sequence[int]) -> list[dict[str, Any]]:
        out = []
        for i in idx:
            if change[i] == 0:
                continue
            key = shared[i]
            out.append({"key": key.item() if hasattr(key, "item") else key,
                        "label": str((labels or {}).get(key, key)), "old_rank": float(old[i]),
                        "new_rank": float(new[i]), "change": float(change[i])})
        return out

    return {"up": [r for r in rows(order[:k]) if r["change"] > 0],
            "down": [r for r in rows(order[::-1][:k]) if r["change"] < 0]}


def _percentile_ci(values: np.ndarray) -> tuple[float | None, float | None]:
    v = values[np.isfinite(values)]
    if len(v) < 0.9 * len(values) or not len(v):
        return None, None
    tail = (1 - LEVEL) / 2 * 100
    return float(np.percentile(v, tail)), float(np.percentile(v, 100 - tail))


def term_differences(df: pd.DataFrame, axes=None, match_on: str = "auto") -> dict[str, float]:
    """term -> (its percentile - its own controls' mean percentile) in one table, pooled over axes (a term listed
    under two axes counts once), as the identity analysis computes it."""
    from harness.analyses.base import apply_filters
    from harness.analyses.identity_bias import DEFAULT_FILTERS, _is_item_table, _score_one, load_term_lists

    axes = load_term_lists(None) if axes is None else axes
    d = apply_filters(df, DEFAULT_FILTERS).reset_index(drop=True)
    # n_resamples=1: only the per-term differences are used here, not the one-sided table's own test
    detail, _ = _score_one(d, axes, _is_item_table(d, match_on), 1.0, 1, LEVEL, 0)
    out: dict[str, float] = {}
    for t in detail["terms"]:
        if t["difference"] is not None and t["term"] not in out:
            out[t["term"]] = float(t["difference"])
    return out


def identity_gap_delta(df_a: pd.DataFrame, df_b: pd.DataFrame, axes=None, n_resamples: int = 9999,
                       seed: int = 0) -> Delta:
    """The pooled identity gap's change with the paired sign-flip interval over terms (module docstring)."""
    from harness.analyses.identity_bias import gap_stats

    da, db = term_differences(df_a, axes), term_differences(df_b, axes)
    shared = [t for t in da if t in db]
    a = float(np.mean(list(da.values()))) if da else None
    b = float(np.mean(list(db.values()))) if db else None
    if len(shared) < 2:
        return Delta("identity_gap", a, b, None if a is None or b is None else b - a, unit="term",
                     reason=f"{len(shared)} identity terms found with a control on both sides; an interval needs 2+")
    g = gap_stats([db[t] for t in shared], [da[t] for t in shared], n_resamples, LEVEL, seed)
    return Delta("identity_gap", a, b, g["gap"], g["ci_low"], g["ci_high"], "term",
                 f"paired sign-flip over terms ({'exact' if g['exact'] else g['n_resamples']} sign vectors)",
                 len(shared), g["reason"])


def _paired_bootstrap(n: int, fn, n_boot: int, seed: int) -> np.ndarray:
    """fn(index array) -> delta, over `n_boot` draws of n units with replacement (the same draw for A and B)."""
    rng = np.random.default_rng(seed)
    out = np.empty(n_boot)
    for i in range(n_boot):
        v = fn(rng.integers(0, n, n))
        out[i] = np.nan if v is None else v
    return out


def human_agreement_delta(df_a: pd.DataFrame, df_b: pd.DataFrame, elo: pd.DataFrame | None = None,
                          n_boot: int = 999, seed: int = 0) -> Delta:
    """Change of the Spearman correlation with human Elo, paired bootstrap over the items both sides scored."""
    from harness.analyses.human_agreement import _corr, _join

    ja, _ = _join(df_a, elo)
    jb, _ = _join(df_b, elo)
    m = ja.merge(jb[["item", "score"]], on="item", suffixes=("_a", "_b"))
    a, _, why_a = _corr(ja["score"].to_numpy(float), ja["elo_score"].to_numpy(float))
    b, _, why_b = _corr(jb["score"].to_numpy(float), jb["elo_score"].to_numpy(float))
    if a is None or b is None:
        return Delta("human_rho", a, b, None, unit="item", reason=why_a or why_b)
    xa, xb, y = (m[c].to_numpy(float) for c in ("score_a", "score_b", "elo_score"))

    def fn(idx: np.ndarray) -> float | None:
        ra, _, _ = _corr(xa[idx], y[idx])
        rb, _, _ = _corr(xb[idx], y[idx])
        return None if ra is None or rb is None else rb - ra

    lo, hi = _percentile_ci(_paired_bootstrap(len(m), fn, n_boot, seed))
    return Delta("human_rho", a, b, b - a, lo, hi, "item", f"paired bootstrap over items ({n_boot} draws)", len(m),
                 None if lo is not None else "too many resamples undefined")


def frequency_delta(df_a: pd.DataFrame, df_b: pd.DataFrame, n_boot: int = 499, seed: int = 0,
                    lookup=None) -> Delta:
    """Change of the standardised log-frequency slope, paired bootstrap over the AFINN words both sides hold."""
    from harness.analyses.frequency_bias import fit_frequency
    from harness.lexicons import add_log_frequency, afinn_words, frequency_lookup, load_afinn111

    lookup = lookup or frequency_lookup("wordfreq")
    lex = load_afinn111()
    wa, wb = (add_log_frequency(afinn_words(d, lex), lookup) for d in (df_a, df_b))
    m = wa.merge(wb[["word", "score"]], on="word", suffixes=("", "_b"))
    if len(m) < 10 or m["log_freq"].nunique() < 2 or m["afinn"].nunique() < 2:
        return Delta("frequency_beta", None, None, None, unit="word",
                     reason=f"{len(m)} AFINN words with a known frequency on both sides (10+ needed)")
    a = fit_frequency(wa)["log_freq_beta"]
    b = fit_frequency(wb)["log_freq_beta"]
    wb_m = m.assign(score=m["score_b"])

    def fn(idx: np.ndarray) -> float | None:
        sa, sb = m.iloc[idx], wb_m.iloc[idx]
        if sa["log_freq"].nunique() < 2 or sa["afinn"].nunique() < 2:
            return None
        return fit_frequency(sb)["log_freq_beta"] - fit_frequency(sa)["log_freq_beta"]

    lo, hi = _percentile_ci(_paired_bootstrap(len(m), fn, n_boot, seed))
    return Delta("frequency_beta", a, b, b - a, lo, hi, "word", f"paired bootstrap over words ({n_boot} draws)",
                 len(m), None if lo is not None else "too many resamples undefined")


def point_delta(metric: str, a: float | None, b: float | None, why: str) -> Delta:
    """A headline metric without a resampling unit: the stored values' change, no interval, and why."""
    a, b = _f(a), _f(b)
    return Delta(metric, a, b, None if a is None or b is None else b - a, reason=why)
