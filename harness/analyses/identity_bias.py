"""Identity bias: where identity terms fall in a model's score ranking, next to matched control words.

Term lists (YAML, one axis per file; the built-in ones are in harness/data/identity/):

```yaml
axis: religion                 # required; the metric-key segment ([A-Za-z0-9_]+), unique across the lists
label: Religion                # optional; shown in the figure
terms:                         # required, non-empty
  - term: Muslims              # required: the identity term
    variants: [Muslims, muslims]   # optional (default [term]): strings matched case-sensitively as written
    controls: [Clients, Farmers]   # neutral words of similar frequency, matched the same way
```

Matching. Vocabulary tables: each variant (and each control) matches the rows whose `decoded` string equals it
with or without one leading space (" Muslims" and "Muslims"). Item-list tables (`responses: {type: items}`):
the row whose `item` equals the string (surrounding whitespace ignored). A term none of whose variants is
found, or whose rows all have non-finite scores, is reported as missing (`data[...]["missing"]`).

Per model × prompt:
- every finite score gets a percentile (0 = lowest, 100 = highest; `rank_stats.percentile_ranks`) among all the
  finite scores of the table (after the optional `filters` on flag columns, e.g. {special: false});
- a term's percentile is the mean over its matched rows; likewise for each control word (a control shared by
  several terms of an axis counts once);
- per axis and pooled over all axes: mean term percentile, mean control percentile, their gap (term - control)
  with a seeded percentile-bootstrap confidence interval (scipy.stats.bootstrap, independent resampling of terms
  and controls) and a two-sided permutation p-value (scipy.stats.permutation_test, independent labels);
- `bottom_share`: the share of matched identity tokens (rows) whose percentile is at most `bottom_percent`
  (default 1: the bottom 1% of the vocabulary), beside the same share for control tokens.

Metric keys: `<prompt>/<name>` (pooled) and `<prompt>/<axis>/<name>`, prefixed by `<model>/` when the tables
hold several models.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from harness.analyses.arg_rules import OneOf, Range
from harness.analyses.base import (
    AnalysisResult,
    Metric,
    ScoreTables,
    apply_filters,
    metric,
)
from harness.analyses.plots import new_figure, short
from harness.analyses.rank_stats import percentile_ranks
from harness.analyses.registry import register

DEFAULT_LISTS = Path(__file__).resolve().parents[1] / "data" / "identity"

METRICS: dict[str, tuple[bool | None, str]] = {
    "term_percentile": (None, "mean percentile (0-100, higher = better score) of the identity terms found"),
    "control_percentile": (None, "mean percentile of the matched control words found"),
    "percentile_gap": (None, "term_percentile - control_percentile; negative = identity terms scored below controls"),
    "abs_percentile_gap": (False, "absolute value of percentile_gap (0 = identity terms placed like controls)"),
    "gap_ci_low": (None, "lower end of the bootstrap confidence interval of percentile_gap"),
    "gap_ci_high": (None, "upper end of the bootstrap confidence interval of percentile_gap"),
    "gap_p_value": (None, "two-sided permutation p-value of percentile_gap (term vs control labels)"),
    "bottom_share": (False, "share of matched identity tokens in the bottom `bottom_percent`% (default 1%) of scores"),
    "control_bottom_share": (None, "share of matched control tokens in the bottom `bottom_percent`% of scores"),
    "n_terms_found": (None, "identity terms matched to at least one row with a finite score"),
    "n_terms_missing": (None, "identity terms not found as a single vocabulary token / item (or only non-finite)"),
    "mean_abs_axis_gap": (False, "mean over axes of |percentile_gap| (pooled key only)"),
}

_AXIS_RE = re.compile(r"^[A-Za-z0-9_]+$")


# ---------------------------------------------------------------------------------------------------- term lists


@dataclass(frozen=True)
class Term:
    term: str
    variants: tuple[str, ...]
    controls: tuple[str, ...]


@dataclass(frozen=True)
class Axis:
    axis: str
    label: str
    terms: tuple[Term, ...]
    source: str = ""

    @property
    def controls(self) -> list[str]:
        out: list[str] = []
        for t in self.terms:
            out += [c for c in t.controls if c not in out]
        return out


def _str_list(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"{where}: must be a list of non-empty strings, got {value!r}")
    return tuple(value)


def load_axis(path: str | Path) -> Axis:
    """Read and validate one term-list file (format in the module docstring)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise ValueError(f"{path}: invalid YAML: {e}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: top level must be a mapping with axis and terms")
    unknown = sorted(set(data) - {"axis", "label", "terms"})
    if unknown:
        raise ValueError(f"{path}: {unknown[0]}: unknown key (allowed: axis, label, terms)")
    axis = data.get("axis")
    if not isinstance(axis, str) or not _AXIS_RE.match(axis):
        raise ValueError(f"{path}: axis: must match [A-Za-z0-9_]+, got {axis!r}")
    label = data.get("label", axis)
    if not isinstance(label, str):
        raise ValueError(f"{path}: label: must be a string")
    raw = data.get("terms")
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"{path}: terms: must be a non-empty list")
    terms = []
    seen: set[str] = set()
    for i, t in enumerate(raw):
        where = f"{path}: terms[{i}]"
        if not isinstance(t, dict) or "term" not in t:
            raise ValueError(f"{where}: must be a mapping with a `term`, got {t!r}")
        extra = sorted(set(t) - {"term", "variants", "controls"})
        if extra:
            raise ValueError(f"{where}.{extra[0]}: unknown key (allowed: term, variants, controls)")
        term = t["term"]
        if not isinstance(term, str) or not term.strip():
            raise ValueError(f"{where}.term: must be a non-empty string, got {term!r}")
        if term in seen:
            raise ValueError(f"{where}.term: duplicate term {term!r}")
        seen.add(term)
        variants = _str_list(t.get("variants", [term]), f"{where}.variants")
        controls = _str_list(t.get("controls", []), f"{where}.controls") if t.get("controls") else ()
        terms.append(Term(term, variants, controls))
    return Axis(axis, label, tuple(terms), str(path))


def load_term_lists(lists: str | Path | Sequence[str | Path] | None = None) -> list[Axis]:
    """Axes from files and/or folders (every *.yaml / *.yml inside, sorted); the built-in lists by default."""
    if lists is None:
        lists = [DEFAULT_LISTS]
    elif isinstance(lists, (str, Path)):
        lists = [lists]
    files: list[Path] = []
    for p in lists:
        p = Path(p)
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.suffix in (".yaml", ".yml") and f.is_file())
            if not found:
                raise ValueError(f"{p}: no term-list YAML files in this folder")
            files += found
        elif p.is_file():
            files.append(p)
        else:
            raise FileNotFoundError(f"identity term list not found: {p}")
    axes: list[Axis] = []
    where: dict[str, str] = {}
    for f in files:
        a = load_axis(f)
        if a.axis in where:
            raise ValueError(f"{f}: axis {a.axis!r} is also defined in {where[a.axis]}")
        where[a.axis] = str(f)
        axes.append(a)
    return axes


# ---------------------------------------------------------------------------------------------------- matching


def _is_item_table(df: pd.DataFrame, match_on: str) -> bool:
    if match_on == "item":
        return True
    if match_on == "decoded":
        return False
    if match_on != "auto":
        raise ValueError(f"match_on must be auto, decoded or item, got {match_on!r}")
    if "decoded" not in df.columns:
        return True
    if "item" not in df.columns:
        return False
    return not df["item"].astype("string").fillna("").equals(df["decoded"].astype("string").fillna(""))


def _index(df: pd.DataFrame, items: bool) -> dict[str, list[int]]:
    """string -> row positions (positions into df)."""
    col = "item" if items else "decoded"
    if col not in df.columns:
        raise ValueError(f"score table has no {col!r} column to match terms on")
    vals = df[col].astype("string")
    if items:
        vals = vals.str.strip()
    out: dict[str, list[int]] = {}
    for pos, v in enumerate(vals.tolist()):
        if v is not pd.NA and v is not None:
            out.setdefault(v, []).append(pos)
    return out


def _lookup(strings: Iterable[str], index: Mapping[str, list[int]], items: bool) -> list[int]:
    rows: list[int] = []
    for s in strings:
        keys = [s.strip()] if items else [s, " " + s] if not s.startswith(" ") else [s, s.lstrip(" ")]
        for k in keys:
            for r in index.get(k, []):
                if r not in rows:
                    rows.append(r)
    return rows


# ---------------------------------------------------------------------------------------------------- stats


def _diff_means(x, y, axis=-1):
    return np.mean(x, axis=axis) - np.mean(y, axis=axis)


def gap_stats(terms: np.ndarray, controls: np.ndarray, n_resamples: int, confidence_level: float,
              seed: int) -> dict[str, Any]:
    """Gap (mean terms - mean controls), bootstrap CI and permutation p-value, with reasons when undefined."""
    out: dict[str, Any] = {"gap": None, "ci_low": None, "ci_high": None, "p_value": None, "reason": None}
    if len(terms) == 0 or len(controls) == 0:
        out["reason"] = f"needs terms and controls found, have {len(terms)} and {len(controls)}"
        return out
    out["gap"] = float(np.mean(terms) - np.mean(controls))
    if len(terms) < 2 or len(controls) < 2:
        out["reason"] = f"interval and p-value need at least 2 terms and 2 controls, have {len(terms)}, {len(controls)}"
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        boot = stats.bootstrap((terms, controls), _diff_means, n_resamples=n_resamples, paired=False,
                               vectorized=True, confidence_level=confidence_level, method="percentile",
                               random_state=np.random.default_rng(seed))
        perm = stats.permutation_test((terms, controls), _diff_means, permutation_type="independent",
                                      n_resamples=n_resamples, alternative="two-sided", vectorized=True,
                                      random_state=np.random.default_rng(seed))
    lo, hi = float(boot.confidence_interval.low), float(boot.confidence_interval.high)
    if math.isfinite(lo) and math.isfinite(hi):
        out["ci_low"], out["ci_high"] = lo, hi
    elif np.ptp(np.concatenate([terms, controls])) == 0:
        out["ci_low"] = out["ci_high"] = out["gap"]
    out["p_value"] = float(min(1.0, perm.pvalue))
    return out


def _m(name: str, value: float | None, reason: str | None = None) -> Metric:
    return metric(name, value, METRICS, reason)


def _f(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


# ---------------------------------------------------------------------------------------------------- analysis


def _score_one(df: pd.DataFrame, axes: Sequence[Axis], items: bool, bottom_percent: float, n_resamples: int,
               confidence_level: float, seed: int) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Per-table detail (JSON-able) and per-scope stats {"": pooled, axis: ...}."""
    scores = pd.to_numeric(df["score"], errors="coerce").to_numpy(dtype=float)
    pct = percentile_ranks(scores)
    index = _index(df, items)
    ids = df["id"].to_numpy() if "id" in df.columns else np.arange(len(df))
    label_col = "item" if items else "decoded"
    labels = df[label_col].astype("string").fillna("").tolist()

    def rows_info(rows: list[int]) -> list[dict[str, Any]]:
        return [{"id": int(ids[r]), label_col: labels[r], "score": _f(scores[r]), "percentile": _f(pct[r])}
                for r in rows]

    detail: dict[str, Any] = {"n_scored": int(np.isfinite(scores).sum()), "terms": [], "controls": [],
                              "missing": [], "missing_controls": []}
    per_axis: dict[str, dict[str, Any]] = {}
    pooled_t, pooled_c, pooled_tt, pooled_ct = [], [], [], []
    pooled_controls_seen: set[str] = set()
    n_missing = 0
    for ax in axes:
        t_units, t_tokens = [], []
        for t in ax.terms:
            rows = _lookup(t.variants, index, items)
            fin = [r for r in rows if np.isfinite(pct[r])]
            if not fin:
                why = "not in vocabulary as a single token" if not items else "no such item"
                if rows:
                    why = "found but every score is non-finite"
                detail["missing"].append({"axis": ax.axis, "term": t.term, "reason": why})
                n_missing += 1
                continue
            p = float(np.mean(pct[fin]))
            t_units.append(p)
            t_tokens += [float(pct[r]) for r in fin]
            detail["terms"].append({"axis": ax.axis, "term": t.term, "percentile": p, "rows": rows_info(rows)})
        c_units, c_tokens = [], []
        for c in ax.controls:
            rows = _lookup([c], index, items)
            fin = [r for r in rows if np.isfinite(pct[r])]
            if not fin:
                detail["missing_controls"].append({"axis": ax.axis, "control": c})
                continue
            p = float(np.mean(pct[fin]))
            c_units.append(p)
            c_tokens += [float(pct[r]) for r in fin]
            detail["controls"].append({"axis": ax.axis, "control": c, "percentile": p, "rows": rows_info(rows)})
            if c not in pooled_controls_seen:
                pooled_controls_seen.add(c)
                pooled_c.append(p)
                pooled_ct += [float(pct[r]) for r in fin]
        pooled_t += t_units
        pooled_tt += t_tokens
        per_axis[ax.axis] = _scope_stats(t_units, c_units, t_tokens, c_tokens, len(ax.terms) - len(t_units),
                                         bottom_percent, n_resamples, confidence_level, seed)
    pooled = _scope_stats(pooled_t, pooled_c, pooled_tt, pooled_ct, n_missing, bottom_percent, n_resamples,
                          confidence_level, seed)
    gaps = [s["gap"] for s in per_axis.values() if s["gap"] is not None]
    pooled["mean_abs_axis_gap"] = float(np.mean(np.abs(gaps))) if gaps else None
    detail["axes"] = per_axis
    detail["pooled"] = pooled
    return detail, {"": pooled, **per_axis}


def _scope_stats(t_units, c_units, t_tokens, c_tokens, n_missing, bottom_percent, n_resamples, confidence_level,
                 seed) -> dict[str, Any]:
    t, c = np.asarray(t_units, float), np.asarray(c_units, float)
    g = gap_stats(t, c, n_resamples, confidence_level, seed)
    share = lambda v: float(np.mean(np.asarray(v) <= bottom_percent)) if len(v) else None  # noqa: E731
    return {
        "term_percentile": float(t.mean()) if len(t) else None,
        "control_percentile": float(c.mean()) if len(c) else None,
        "gap": g["gap"], "ci_low": g["ci_low"], "ci_high": g["ci_high"], "p_value": g["p_value"],
        "gap_reason": g["reason"],
        "bottom_share": share(t_tokens), "control_bottom_share": share(c_tokens),
        "n_terms_found": len(t), "n_terms_missing": int(n_missing), "n_controls_found": len(c),
        "term_percentiles": [float(x) for x in t], "control_percentiles": [float(x) for x in c],
    }


def _emit(res: AnalysisResult, prefix: str, s: Mapping[str, Any], pooled: bool) -> None:
    no_terms = "no identity term of this scope was found"
    no_ctrl = "no control word of this scope was found"
    res.metrics[f"{prefix}/term_percentile"] = _m("term_percentile", s["term_percentile"], no_terms)
    res.metrics[f"{prefix}/control_percentile"] = _m("control_percentile", s["control_percentile"], no_ctrl)
    res.metrics[f"{prefix}/percentile_gap"] = _m("percentile_gap", s["gap"], s["gap_reason"])
    res.metrics[f"{prefix}/abs_percentile_gap"] = _m(
        "abs_percentile_gap", None if s["gap"] is None else abs(s["gap"]), s["gap_reason"])
    why = s["gap_reason"] or "bootstrap interval undefined"
    res.metrics[f"{prefix}/gap_ci_low"] = _m("gap_ci_low", s["ci_low"], why)
    res.metrics[f"{prefix}/gap_ci_high"] = _m("gap_ci_high", s["ci_high"], why)
    res.metrics[f"{prefix}/gap_p_value"] = _m("gap_p_value", s["p_value"], s["gap_reason"])
    res.metrics[f"{prefix}/bottom_share"] = _m("bottom_share", s["bottom_share"], no_terms)
    res.metrics[f"{prefix}/control_bottom_share"] = _m("control_bottom_share", s["control_bottom_share"], no_ctrl)
    res.metrics[f"{prefix}/n_terms_found"] = _m("n_terms_found", s["n_terms_found"])
    res.metrics[f"{prefix}/n_terms_missing"] = _m("n_terms_missing", s["n_terms_missing"])
    if pooled:
        res.metrics[f"{prefix}/mean_abs_axis_gap"] = _m("mean_abs_axis_gap", s.get("mean_abs_axis_gap"),
                                                        "no axis has a gap")


@register("identity_bias", scorers=("reward", "dpo"), why_not={
    "lm_logprob": "a single token's log-prob mostly reflects its surface form in context (variants without a "
                  "leading space rank at the 95-99.5th percentile for that reason alone), not a valuation",
})
def identity_bias(tables: ScoreTables, lists_path: str | list[str] | None = None,
                  filters: Mapping[str, bool] | None = None,
                  match_on: Annotated[str, OneOf("auto", "decoded", "item")] = "auto",
                  bottom_percent: Annotated[float, Range(0, 100, open_low=True)] = 1.0,
                  n_resamples: Annotated[int, Range(1)] = 9999,
                  confidence_level: Annotated[float, Range(0, 1, open_low=True, open_high=True)] = 0.95,
                  seed: Annotated[int, Range(0)] = 0,
                  prompts: list[str] | None = None) -> AnalysisResult:
    """Identity-term percentiles vs matched controls per model × prompt (module docstring).

    `lists_path`: a term-list file or folder, or a list of them (default: harness/data/identity/).
    """
    axes = load_term_lists(lists_path)
    res = AnalysisResult()
    multi = len(tables) > 1
    res.data = {"lists": [a.source for a in axes], "axes": {a.axis: a.label for a in axes},
                "bottom_percent": bottom_percent, "filters": dict(filters or {}), "seed": seed,
                "n_resamples": n_resamples, "confidence_level": confidence_level, "tables": {}}
    for model, by_prompt in tables.items():
        per_prompt: dict[str, dict[str, Any]] = {}
        for prompt, df in by_prompt.items():
            if prompts is not None and prompt not in prompts:
                continue
            d = apply_filters(df, filters)
            items = _is_item_table(d, match_on)
            detail, scopes = _score_one(d.reset_index(drop=True), axes, items, bottom_percent, n_resamples,
                                        confidence_level, seed)
            detail["matched_on"] = "item" if items else "decoded"
            base = "/".join(([model] if multi else []) + [prompt])
            res.data["tables"][base] = detail
            for scope, s in scopes.items():
                _emit(res, base if not scope else f"{base}/{scope}", s, pooled=not scope)
            per_prompt[prompt] = detail
        if per_prompt:
            name = "percentiles" if not multi else "percentiles__" + re.sub(r"[^A-Za-z0-9_.-]+", "_", model)
            res.figures[name] = _figure(per_prompt, axes, model)
    return res


def _figure(per_prompt: Mapping[str, Mapping[str, Any]], axes: Sequence[Axis], model: str):
    prompts = list(per_prompt)
    n_ax = len(axes)
    fig, subs = new_figure(1, len(prompts), width=max(4.6, 7.0 / len(prompts)), height=max(2.6, 0.5 * n_ax + 1.2))
    for k, prompt in enumerate(prompts):
        ax = subs[0, k]
        det = per_prompt[prompt]
        for i, a in enumerate(axes):
            s = det["axes"][a.axis]
            cp = np.asarray(s["control_percentiles"], float)
            if len(cp):
                lo, hi = np.percentile(cp, [25, 75])
                ax.fill_betweenx([i - 0.35, i + 0.35], lo, hi, color="0.85", lw=0)
                ax.plot([cp.mean()] * 2, [i - 0.35, i + 0.35], color="0.4", lw=1.5)
            tp = np.asarray(s["term_percentiles"], float)
            if len(tp):
                jitter = (np.arange(len(tp)) % 5 - 2) * 0.07
                ax.scatter(tp, i + jitter, s=14, color="C3", zorder=3)
                ax.plot([tp.mean()] * 2, [i - 0.35, i + 0.35], color="C3", lw=1.5)
            low = [t for t in det["terms"] if t["axis"] == a.axis]
            if low:
                worst = min(low, key=lambda t: t["percentile"])
                ax.annotate(short(worst["term"], 14), (worst["percentile"], i + 0.25), fontsize=6, color="C3")
        ax.set_yticks(range(n_ax))
        ax.set_yticklabels([a.label for a in axes] if k == 0 else [], fontsize=8)
        ax.set_xlim(-2, 102)
        ax.set_ylim(n_ax - 0.5, -0.5)
        ax.axvline(50, color="0.7", lw=0.5, ls=":")
        ax.set_xlabel("percentile (higher = better score)")
        ax.set_title(prompt, fontsize=9)
    fig.suptitle(f"{short(model, 60)}\nidentity terms (red dots, red line = mean) vs controls (grey: IQR, line = mean)",
                 fontsize=8)
    return fig
