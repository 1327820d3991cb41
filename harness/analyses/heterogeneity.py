"""Heterogeneity between models (scope: models): how differently reward models rank the same vocabulary.

For each prompt, over the *shared vocabulary* of the models compared:
  - Kendall tau-b, Spearman rho and rank-biased overlap matrices (heatmaps);
  - metric MDS of the dissimilarity 1 - tau (sklearn, precomputed, seeded) as a scatter;
  - representational similarity analysis (RSA): Spearman rho between the upper triangle of the tau matrix and of
    each model-similarity matrix (same base family, same developer, 1/(1+|params_i - params_j|) in billions,
    1/(1+|rank_i - rank_j|) RewardBench rank), with a one-sided Mantel permutation p-value (alternative
    "greater": more similar models agree more; model labels permuted jointly on rows and columns, exact over all
    n! permutations when n! <= n_permutations, else seeded random ones) and, beside it, the smallest p that test
    can give for those models (`_p_min`); the p is None with the reason when that smallest p exceeds 0.05 (too
    few models to ever reject). See `harness.analyses.rank_stats.rsa`.

Shared vocabulary (the study's rule): rows are matched across models by their decoded string (`decoded`; case and
leading space kept). A string that several ids of one model decode to is removed (for every model), and a string
whose score is NaN/inf in a model is not usable for that model (counted in `data[...]["dropped"]`). The shared
vocabulary is the set of strings usable in every model. A model that shares nothing with the others is excluded
with a reason; the comparison goes on with the rest when at least two remain.

Ties: tau-b and Spearman (average ranks) account for ties. RBO ranks best first and breaks ties by the shared
strings' sorted order. RBO variant: truncated at `depth` (default 132, p = 0.9), i.e.
RBO@k = (1-p) * sum_{d<=k} p^(d-1) * |A_d ∩ B_d| / d, as in the study ("truncated at depth 132"); the diagonal
holds a model's RBO with itself (1 - p^k). `rbo_variant: ext` gives the extrapolated RBO instead.

Model facts for RSA: `model_facts` ({model id: {base_family, developer, params, rank}}; aliases `params_b`,
`rewardbench_rank`, optional `short` used as the plot label, optional `base_version` not used by RSA), else
`model_facts_path` (YAML: that mapping, or `{models: mapping}` as in harness/models/registry.yaml), else
harness/models/registry.yaml when present. "Same base" compares the base *family* (Gemma vs Llama; Llama 3 and
Llama 3.1 are the same base), as the study does; a fact named plain `base` is refused as ambiguous. A model lacking
a fact is left out of that RSA, with the reason in `data[prompt]["rsa"][matrix]["excluded"]`.

Metric keys: `<prompt>/<name>` for the whole comparison and `<prompt>/<model id>/<name>` for one model's mean
agreement with the others.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from harness.io import safe_yaml
from harness.analyses.arg_rules import OneOf, Range
from harness.analyses.base import AnalysisResult, Metric, ScoreTables, metric
from harness.analyses.plots import new_figure, short
from harness.analyses.rank_stats import mds_embedding, rank_order, rbo, rsa, stress1  # noqa: F401 (stress1 re-exported)
from harness.analyses.registration import register
from harness.data_paths import portable

METRICS: dict[str, tuple[bool | None, str]] = {
    "n_models": (None, "number of models in the comparison (models with a shared vocabulary)"),
    "shared_vocab_size": (None, "decoded strings usable in every compared model (duplicates and NaN removed)"),
    "mean_kendall_tau": (None, "mean Kendall tau-b over model pairs (or, per model, over its pairs) on the shared vocabulary"),
    "min_kendall_tau": (None, "lowest Kendall tau-b over model pairs"),
    "max_kendall_tau": (None, "highest Kendall tau-b over model pairs"),
    "mean_spearman": (None, "mean Spearman rho over model pairs (or, per model, over its pairs) on the shared vocabulary"),
    "mean_rbo": (None, "mean rank-biased overlap of the top rankings over model pairs (p=0.9, truncated at depth 132 by default)"),
    "mds_stress": (False, "Kruskal's Stress-1 of the 2-D metric MDS of 1 - tau, from the returned coordinates: "
                          "sqrt(sum (d_ij - delta_ij)^2 / sum d_ij^2); 0 = distances reproduce 1 - tau exactly"),
    "rsa_same_base": (None, "RSA: Spearman rho between tau and the same-base-family matrix (upper triangles)"),
    "rsa_same_developer": (None, "RSA: Spearman rho between tau and the same-developer matrix"),
    "rsa_params": (None, "RSA: Spearman rho between tau and 1/(1+|params_i-params_j|) (billions)"),
    "rsa_rank": (None, "RSA: Spearman rho between tau and 1/(1+|rank_i-rank_j|) (RewardBench rank)"),
}
_RSA_P = ("{sided} Mantel permutation p-value of {name} (model labels permuted jointly on the rows and columns of "
          "the similarity matrix; all n! permutations when n! <= n_permutations, else n_permutations random ones, "
          "p = (1 + hits) / (1 + n_permutations)); missing when rsa_{short}_p_min exceeds 0.05 (too few models)")
_RSA_P_MIN = ("smallest p-value the permutation test of {name} can give with these models and this similarity "
              "matrix (the p of a perfect match; permutations that leave the matrix unchanged always tie)")
for _name in ("rsa_same_base", "rsa_same_developer", "rsa_params", "rsa_rank"):
    METRICS[f"{_name}_p"] = (None, _RSA_P.format(sided="{sided}", name=_name, short=_name[4:]))
    METRICS[f"{_name}_p_min"] = (None, _RSA_P_MIN.format(name=_name))
SIDED = {"greater": "one-sided (greater: tau is higher between more similar models)",
         "less": "one-sided (less: tau is lower between more similar models)", "two-sided": "two-sided"}

RSA_MATRICES = {  # metric name -> (fact, kind)
    "rsa_same_base": ("base_family", "same"),
    "rsa_same_developer": ("developer", "same"),
    "rsa_params": ("params", "inverse_distance"),
    "rsa_rank": ("rank", "inverse_distance"),
}
FACT_ALIASES = {"params_b": "params", "rewardbench_rank": "rank"}
DEFAULT_FACTS = Path(__file__).resolve().parents[1] / "models" / "registry.yaml"


def _m(name: str, value: float | None, reason: str | None = None, alternative: str = "greater") -> Metric:
    out = metric(name, value, METRICS, reason)
    out.definition = out.definition.replace("{sided}", SIDED.get(alternative, alternative).capitalize())
    return out


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return x if math.isfinite(x) else None
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def _frame_json(df: pd.DataFrame) -> dict[str, dict[str, float | None]]:
    return {str(r): {str(c): _jsonable(df.loc[r, c]) for c in df.columns} for r in df.index}


# ---------------------------------------------------------------------------------------------------- agreement


@dataclass
class PairwiseAgreement:
    """Pairwise rank agreement of models over their shared vocabulary (square DataFrames indexed by model id)."""

    models: list[str]
    shared: list[str]
    tau: pd.DataFrame
    spearman: pd.DataFrame
    rbo: pd.DataFrame
    dropped: dict[str, dict[str, int]] = field(default_factory=dict)  # model -> {n_duplicate_ids, n_nonfinite, ...}
    excluded: dict[str, str] = field(default_factory=dict)  # model -> why it is not in the matrices
    message: str | None = None  # set when no comparison was possible
    p: float = 0.9
    depth: int = 132
    rbo_variant: str = "truncated"

    @property
    def n_shared(self) -> int:
        return len(self.shared)

    def mean_agreement(self, measure: str = "tau") -> pd.Series:
        """Each model's mean agreement with the other models (off-diagonal row mean); NaN with one model."""
        m = {"tau": self.tau, "spearman": self.spearman, "rbo": self.rbo}[measure]
        if len(m) < 2:
            return pd.Series(np.nan, index=m.index, dtype=float)
        vals = m.to_numpy(dtype=float).copy()
        np.fill_diagonal(vals, np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a constant model's row is all NaN
            return pd.Series(np.nanmean(vals, axis=1), index=m.index)


def _usable_strings(df: pd.DataFrame, column: str) -> tuple[pd.Series, dict[str, int], set]:
    """decoded string -> score for one model's table: duplicated strings and non-finite scores removed."""
    if column not in df.columns:
        raise ValueError(f"score table has no {column!r} column to match models on")
    strings = df[column].astype("string")
    scores = pd.to_numeric(df["score"], errors="coerce").to_numpy(dtype=float)
    valid = strings.notna().to_numpy()
    counts = strings[valid].value_counts()
    dup_strings = set(counts.index[counts > 1])
    is_dup = strings.isin(dup_strings).to_numpy() & valid
    finite = np.isfinite(scores)
    keep = valid & ~is_dup & finite
    info = {
        "n_rows": int(len(df)),
        "n_duplicate_ids": int(is_dup.sum()),  # ids whose string several ids decode to
        "n_duplicate_strings": int(len(dup_strings)),
        "n_nonfinite": int((valid & ~is_dup & ~finite).sum()),  # unique strings dropped for a NaN/inf score
        "n_missing_string": int((~valid).sum()),
        "n_usable": int(keep.sum()),
    }
    return pd.Series(scores[keep], index=strings[keep].to_numpy(dtype=object)), info, dup_strings


def shared_vocabulary(tables_by_model: Mapping[str, pd.DataFrame], column: str = "decoded") -> tuple[
        list[str], dict[str, pd.Series], dict[str, dict[str, int]], dict[str, str]]:
    """(shared strings sorted, per-model string->score, per-model drop counts, excluded models -> reason)."""
    usable: dict[str, pd.Series] = {}
    dropped: dict[str, dict[str, int]] = {}
    excluded: dict[str, str] = {}
    all_dups: set = set()
    for model, df in tables_by_model.items():
        s, info, dups = _usable_strings(df, column)
        usable[model], dropped[model] = s, info
        all_dups |= dups
    for model, s in usable.items():
        if len(s) == 0:
            excluded[model] = (f"no usable rows ({dropped[model]['n_rows']} rows: "
                               f"{dropped[model]['n_duplicate_ids']} duplicated, {dropped[model]['n_nonfinite']} non-finite)")

    def intersect(models: Sequence[str]) -> set:
        if not models:
            return set()
        out = set(usable[models[0]].index)
        for m in models[1:]:
            out &= set(usable[m].index)
        return out - all_dups

    live = [m for m in usable if m not in excluded]
    shared = intersect(live)
    if not shared and len(live) > 2:
        # Drop models that share nothing with the intersection of all the others, then try again.
        for m in list(live):
            others = [o for o in live if o != m]
            if not (intersect(others) & set(usable[m].index)) and intersect(others):
                excluded[m] = "shares no decoded string with the other models' shared vocabulary"
        live = [m for m in live if m not in excluded]
        shared = intersect(live)
    for m in usable:
        dropped[m]["n_removed_as_duplicate_elsewhere"] = int(len(set(usable[m].index) & all_dups))
    return sorted(shared), {m: usable[m] for m in live}, dropped, excluded


def pairwise_agreement(tables_by_model: Mapping[str, pd.DataFrame], p: float = 0.9, depth: int = 132,
                       rbo_variant: str = "truncated", column: str = "decoded") -> PairwiseAgreement:
    """Kendall tau-b, Spearman and RBO matrices over the models' shared vocabulary (see the module docstring).

    `tables_by_model`: model id -> score table for ONE prompt. Models excluded (no shared vocabulary) are listed
    in `.excluded`; when fewer than two models remain, the matrices are empty and `.message` says why.
    """
    shared, usable, dropped, excluded = shared_vocabulary(tables_by_model, column)
    models = list(usable)
    empty = pd.DataFrame(dtype=float)
    if len(models) < 2 or len(shared) < 2:
        if len(tables_by_model) < 2:
            msg = f"need at least two models, got {len(tables_by_model)}"
        elif len(models) < 2:
            msg = f"fewer than two models with a shared vocabulary (excluded: {excluded})"
        else:
            msg = f"shared vocabulary has {len(shared)} string(s) across {len(models)} models; need at least 2"
        return PairwiseAgreement(models, shared, empty, empty.copy(), empty.copy(), dropped, excluded, msg,
                                 p, depth, rbo_variant)
    mat = np.vstack([usable[m].reindex(shared).to_numpy(dtype=float) for m in models])
    n = len(models)
    tau = np.eye(n)
    ranks = np.vstack([stats.rankdata(row) for row in mat])
    with np.errstate(invalid="ignore", divide="ignore"):
        sp = np.corrcoef(ranks) if n > 1 else np.eye(1)
    const = np.ptp(mat, axis=1) == 0
    orders = [rank_order(row).tolist() for row in mat]
    rb = np.zeros((n, n))
    for i in range(n):
        rb[i, i] = rbo(orders[i], orders[i], p=p, depth=depth, variant=rbo_variant)
        for j in range(i + 1, n):
            if const[i] or const[j]:
                t = np.nan
            else:
                t = stats.kendalltau(mat[i], mat[j], variant="b").statistic
            tau[i, j] = tau[j, i] = t
            rb[i, j] = rb[j, i] = rbo(orders[i], orders[j], p=p, depth=depth, variant=rbo_variant)
    for i in np.flatnonzero(const):
        tau[i, i] = np.nan
        sp[i, :] = sp[:, i] = np.nan
    np.fill_diagonal(sp, np.where(const, np.nan, 1.0))
    f = lambda a: pd.DataFrame(a, index=models, columns=models)  # noqa: E731
    return PairwiseAgreement(models, shared, f(tau), f(sp), f(rb), dropped, excluded, None, p, depth, rbo_variant)


# ---------------------------------------------------------------------------------------------------- facts


def load_model_facts(model_facts: Mapping[str, Mapping[str, Any]] | None = None,
                     model_facts_path: str | None = None) -> tuple[dict[str, dict[str, Any]], str]:
    """Model facts {id: {base_family, developer, params, rank, short?}} and where they came from."""
    if model_facts is not None:
        raw, source = model_facts, "args"
    else:
        path = Path(model_facts_path) if model_facts_path else DEFAULT_FACTS
        if not path.is_file():
            if model_facts_path:
                raise FileNotFoundError(f"model_facts_path not found: {path}")
            return {}, "none (no model_facts given and no harness/models/registry.yaml)"
        raw = safe_yaml.load(path.read_text(encoding="utf-8")) or {}
        if isinstance(raw, dict) and isinstance(raw.get("models"), dict):
            raw = raw["models"]
        source = str(path)
    if not isinstance(raw, Mapping):
        raise ValueError(f"model facts must map model id -> {{base_family, developer, params, rank}}, "
                         f"got {type(raw).__name__}")
    out: dict[str, dict[str, Any]] = {}
    for mid, facts in raw.items():
        if not isinstance(facts, Mapping):
            raise ValueError(f"model facts for {mid!r} must be a mapping, got {facts!r}")
        if "base" in facts:  # "Llama 3" vs "Llama 3.1": a version compared as a family gives the wrong RSA
            raise ValueError(f"model facts for {mid!r} ({source}): `base` is ambiguous; give base_family "
                             "(e.g. Llama) and, if useful, base_version (e.g. Llama 3.1)")
        out[str(mid)] = {FACT_ALIASES.get(k, k): v for k, v in facts.items()}
    return out, source


def similarity_matrix(models: Sequence[str], facts: Mapping[str, Mapping[str, Any]], fact: str,
                      kind: str) -> tuple[list[str], np.ndarray, dict[str, str]]:
    """Models having `fact`, their similarity matrix, and excluded models -> reason."""
    excluded: dict[str, str] = {}
    vals: dict[str, Any] = {}
    for m in models:
        v = (facts.get(m) or {}).get(fact)
        if v is None or (isinstance(v, str) and not v.strip()):
            excluded[m] = f"no {fact!r} fact"
            continue
        if kind == "inverse_distance":
            try:
                v = float(v)
            except (TypeError, ValueError):
                excluded[m] = f"{fact!r} is not a number: {v!r}"
                continue
            if not math.isfinite(v):
                excluded[m] = f"{fact!r} is not finite"
                continue
        vals[m] = v
    kept = list(vals)
    n = len(kept)
    sim = np.eye(n)
    for i in range(n):
        for j in range(i + 1, n):
            a, b = vals[kept[i]], vals[kept[j]]
            s = float(a == b) if kind == "same" else 1.0 / (1.0 + abs(a - b))
            sim[i, j] = sim[j, i] = s
    return kept, sim, excluded


def rsa_against_facts(tau: pd.DataFrame, facts: Mapping[str, Mapping[str, Any]], n_permutations: int = 10_000,
                      seed: int = 0, alternative: str = "greater") -> dict[str, dict[str, Any]]:
    """RSA of a model × model tau matrix against each fact matrix of `RSA_MATRICES` (JSON-able entries).

    Each entry: fact, models kept, excluded models -> reason, the similarity matrix, rho, p_value, reason (why
    rho is missing), and for computed ones n_permutations and exact.
    """
    out: dict[str, dict[str, Any]] = {}
    for name, (fact, kind) in RSA_MATRICES.items():
        kept, sim, missing = similarity_matrix(list(tau.index), facts, fact, kind)
        entry: dict[str, Any] = {"fact": fact, "models": kept, "excluded": missing, "similarity": sim.tolist()}
        if len(kept) < 3:
            why = f"needs at least 3 models with a {fact!r} fact, have {len(kept)}"
            if missing:
                why += f" (lacking: {', '.join(sorted(missing))})"
            r_stat, r_p, reason = None, None, why
        else:
            r = rsa(tau.loc[kept, kept].to_numpy(dtype=float), sim, n_permutations=n_permutations, seed=seed,
                    alternative=alternative)
            r_stat, r_p, reason = r.statistic, r.p_value, r.reason
            entry.update({"n_permutations": r.n_permutations, "exact": r.exact, "p_min": r.p_min,
                          "alternative": alternative})
        entry.update({"rho": r_stat, "p_value": r_p, "reason": reason})
        out[name] = _jsonable(entry)
    return out


# ---------------------------------------------------------------------------------------------------- analysis


# judge: its ranking of tokens compares with reward models' (RewardBench ranks judges too)
@register("heterogeneity", scorers=("reward", "dpo", "judge"), why_not={
    "lm_logprob": "it compares reward models' rankings with each other and with RewardBench facts; an LM's ranking "
                  "is compared with reward models by base_model_comparison",
})
def heterogeneity(tables: ScoreTables, prompts: list[str] | None = None,
                  p: Annotated[float, Range(0, 1, open_low=True, open_high=True)] = 0.9,
                  depth: Annotated[int, Range(1)] = 132,
                  rbo_variant: Annotated[str, OneOf("truncated", "ext")] = "truncated",
                  model_facts: Mapping[str, Mapping[str, Any]] | None = None,
                  model_facts_path: str | None = None, n_permutations: Annotated[int, Range(1)] = 10_000,
                  seed: Annotated[int, Range(0)] = 0,
                  alternative: Annotated[str, OneOf("greater", "less", "two-sided")] = "greater",
                  column: str = "decoded") -> AnalysisResult:
    """Cross-model agreement matrices, MDS and RSA per prompt (module docstring)."""
    if not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be a positive integer, got {depth!r}")
    facts, facts_source = load_model_facts(model_facts, model_facts_path)
    res = AnalysisResult()
    all_prompts: list[str] = []
    for by_prompt in tables.values():
        all_prompts += [k for k in by_prompt if k not in all_prompts]
    if prompts is not None:
        all_prompts = [k for k in all_prompts if k in prompts]
    res.data = {"p": p, "depth": depth, "rbo_variant": rbo_variant, "facts_source": portable(facts_source),
                "n_permutations": n_permutations, "seed": seed, "alternative": alternative, "prompts": {}}
    labels = {m: str((facts.get(m) or {}).get("short") or m.split("/")[-1]) for m in tables}

    for prompt in all_prompts:
        by_model = {m: t[prompt] for m, t in tables.items() if prompt in t}
        lacking = {m: f"no score table for prompt {prompt!r}" for m in tables if prompt not in tables[m]}
        agr = pairwise_agreement(by_model, p=p, depth=depth, rbo_variant=rbo_variant, column=column)
        excluded = {**lacking, **agr.excluded}
        d: dict[str, Any] = {"models": agr.models, "excluded": excluded, "dropped": agr.dropped,
                             "shared_vocab_size": agr.n_shared, "message": agr.message}
        res.data["prompts"][prompt] = d
        res.metrics[f"{prompt}/n_models"] = _m("n_models", len(agr.models) if agr.message is None else None,
                                               agr.message)
        res.metrics[f"{prompt}/shared_vocab_size"] = _m("shared_vocab_size", agr.n_shared)
        for m, why in excluded.items():
            for name in ("mean_kendall_tau", "mean_spearman", "mean_rbo"):
                res.metrics[f"{prompt}/{m}/{name}"] = _m(name, None, f"model excluded: {why}")
        if agr.message is not None:
            for name in METRICS:
                if name not in ("n_models", "shared_vocab_size"):
                    res.metrics[f"{prompt}/{name}"] = _m(name, None, agr.message, alternative)
            for m in agr.models:
                for name in ("mean_kendall_tau", "mean_spearman", "mean_rbo"):
                    res.metrics[f"{prompt}/{m}/{name}"] = _m(name, None, agr.message)
            continue

        d["kendall_tau"] = _frame_json(agr.tau)
        d["spearman"] = _frame_json(agr.spearman)
        d["rbo"] = _frame_json(agr.rbo)
        tau_u = agr.tau.to_numpy()[np.triu_indices(len(agr.models), 1)]
        sp_u = agr.spearman.to_numpy()[np.triu_indices(len(agr.models), 1)]
        rb_u = agr.rbo.to_numpy()[np.triu_indices(len(agr.models), 1)]
        nan_reason = "all pair values are NaN (constant scores)"

        def agg(fn, v):
            v = v[np.isfinite(v)]
            return float(fn(v)) if len(v) else None

        res.metrics[f"{prompt}/mean_kendall_tau"] = _m("mean_kendall_tau", agg(np.mean, tau_u), nan_reason)
        res.metrics[f"{prompt}/min_kendall_tau"] = _m("min_kendall_tau", agg(np.min, tau_u), nan_reason)
        res.metrics[f"{prompt}/max_kendall_tau"] = _m("max_kendall_tau", agg(np.max, tau_u), nan_reason)
        res.metrics[f"{prompt}/mean_spearman"] = _m("mean_spearman", agg(np.mean, sp_u), nan_reason)
        res.metrics[f"{prompt}/mean_rbo"] = _m("mean_rbo", agg(np.mean, rb_u), nan_reason)
        for measure, name in (("tau", "mean_kendall_tau"), ("spearman", "mean_spearman"), ("rbo", "mean_rbo")):
            for m, v in agr.mean_agreement(measure).items():
                res.metrics[f"{prompt}/{m}/{name}"] = _m(name, float(v), nan_reason)

        # MDS of 1 - tau
        diss = 1.0 - agr.tau.to_numpy()
        np.fill_diagonal(diss, 0.0)
        coords = None
        if len(agr.models) < 3:
            res.metrics[f"{prompt}/mds_stress"] = _m("mds_stress", None, "MDS needs at least 3 models")
        elif not np.all(np.isfinite(diss)):
            res.metrics[f"{prompt}/mds_stress"] = _m("mds_stress", None, "tau matrix has NaN entries")
        else:
            coords, stress = mds_embedding(diss, seed=seed)
            res.metrics[f"{prompt}/mds_stress"] = _m("mds_stress", stress)
            d["mds"] = {m: [float(x), float(y)] for m, (x, y) in zip(agr.models, coords)}

        # RSA against model-similarity matrices
        d["rsa"] = rsa_against_facts(agr.tau, facts, n_permutations=n_permutations, seed=seed,
                                     alternative=alternative)
        for name, entry in d["rsa"].items():
            res.metrics[f"{prompt}/{name}"] = _m(name, entry["rho"], entry["reason"])
            res.metrics[f"{prompt}/{name}_p"] = _m(f"{name}_p", entry["p_value"], entry["reason"], alternative)
            res.metrics[f"{prompt}/{name}_p_min"] = _m(f"{name}_p_min", entry.get("p_min"), entry["reason"])

        res.figures[f"heatmaps_{prompt}"] = _heatmaps(agr, labels, prompt)
        if coords is not None:
            res.figures[f"mds_{prompt}"] = _mds_figure(agr.models, coords, labels, facts, prompt)
    return res


def _heatmaps(agr: PairwiseAgreement, labels: Mapping[str, str], prompt: str):
    names = [short(labels.get(m, m), 18) for m in agr.models]
    n = len(names)
    fig, axes = new_figure(1, 3, width=max(3.6, 0.45 * n + 2.2), height=max(3.2, 0.45 * n + 1.6))
    for ax, (title, df) in zip(axes[0], (("Kendall tau-b", agr.tau), ("Spearman", agr.spearman),
                                         (f"RBO (p={agr.p}, depth {agr.depth})", agr.rbo))):
        vals = df.to_numpy(dtype=float)
        vmin = float(np.nanmin(vals)) if np.isfinite(vals).any() else 0.0
        im = ax.imshow(vals, cmap="viridis", vmin=vmin, vmax=1)
        ax.set_xticks(range(n))
        ax.set_xticklabels(names, rotation=60, ha="right", fontsize=7)
        ax.set_yticks(range(n))
        ax.set_yticklabels(names, fontsize=7)
        if n <= 12:
            for i in range(n):
                for j in range(n):
                    if np.isfinite(vals[i, j]):
                        light = (vals[i, j] - vmin) / max(1e-9, 1 - vmin) > 0.6
                        ax.text(j, i, f"{vals[i, j]:.2f}", ha="center", va="center", fontsize=6,
                                color="k" if light else "w")
        ax.set_title(title, fontsize=9)
        fig.colorbar(im, ax=ax, shrink=0.8)
    fig.suptitle(f"{prompt}: agreement over {agr.n_shared} shared strings", fontsize=10)
    return fig


def _mds_figure(models: Sequence[str], coords: np.ndarray, labels: Mapping[str, str],
                facts: Mapping[str, Mapping[str, Any]], prompt: str):
    fig, axes = new_figure(1, 1, width=5.5, height=4.5)
    ax = axes[0, 0]
    bases = [str((facts.get(m) or {}).get("base_family", "unknown")) for m in models]
    for b in sorted(set(bases)):
        idx = [i for i, x in enumerate(bases) if x == b]
        ax.scatter(coords[idx, 0], coords[idx, 1], label=b, s=40)
    for i, m in enumerate(models):
        ax.annotate(short(labels.get(m, m), 20), coords[i], fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_title(f"{prompt}: MDS of 1 - Kendall tau", fontsize=10)
    ax.set_xlabel("MDS 1")
    ax.set_ylabel("MDS 2")
    ax.legend(fontsize=7, title="base family", title_fontsize=7)
    return fig
