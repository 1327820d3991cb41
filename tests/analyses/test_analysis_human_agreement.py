"""human_agreement: planted monotone relation, planted outliers, and the study's snapshot reproduced."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from harness.analyses import registry
from harness.analyses.human_agreement import METRICS, human_agreement, tables_from_elo_snapshot
from tables import shared_data, with_kind

from repo_paths import REPO  # noqa: E402


def write_elo(path: Path, names, elo) -> Path:
    order = np.argsort(-np.asarray(elo), kind="stable")
    df = pd.DataFrame({"elo_rank": np.arange(1, len(names) + 1), "elo_score": np.asarray(elo)[order],
                       "name": np.asarray(names)[order], "elo_matches": 100})
    df.to_csv(path, index=False)
    return path


def item_table(items, scores, n_tokens=3, **extra) -> pd.DataFrame:
    n = len(items)
    df = pd.DataFrame({"id": np.arange(n, dtype=np.int64), "item": list(items), "token": "", "decoded": list(items),
                       "n_tokens": np.broadcast_to(np.asarray(n_tokens, dtype=np.int32), (n,)).copy(), "special": False, "byte_fragment": False,
                       "leading_space": False, "alpha_word": False, "roundtrip": True,
                       "score": np.asarray(scores, dtype=float)})
    df["finite"] = np.isfinite(df["score"].to_numpy())
    for k, v in extra.items():
        df[k] = v
    return df


def test_planted_monotone_relation_gives_one(tmp_path):
    rng = np.random.default_rng(0)
    names = [f"thing {i}" for i in range(300)]
    elo = rng.permutation(np.arange(1000, 1300))
    csv = write_elo(tmp_path / "elo.csv", names, elo)
    tabs = {"a": {"greatest_ever": item_table(names, np.exp(elo / 100.0))},       # monotone increasing
            "b": {"greatest_ever": item_table(names, np.log(elo - 900.0) * 3 - 7)}}
    res = registry.get("human_agreement")(tabs, elo_path=str(csv), top_n=5)
    m = res.metrics
    for model in ("a", "b"):
        assert m[f"{model}/greatest_ever/spearman"].value == pytest.approx(1.0)
        assert m[f"{model}/greatest_ever/kendall_tau"].value == pytest.approx(1.0)
        assert m[f"{model}/greatest_ever/n_items"].value == 300
    assert m["greatest_ever/consensus_spearman"].value == pytest.approx(1.0)
    assert m["greatest_ever/mean_abs_rank_gap"].value == 0.0
    d = res.data["prompts"]["greatest_ever"]
    assert d["overvalued"] == [] and d["undervalued"] == []
    assert m["a/greatest_ever/spearman"].higher_is_better is True
    for k, v in m.items():
        assert k.split("/")[-1] in METRICS and v.definition
    assert "rank_trajectory_greatest_ever" in res.figures


def test_planted_divergent_items_are_listed(tmp_path):
    names = [f"item {i}" for i in range(100)]
    elo = np.arange(2000, 1900, -1)  # item 0 best
    csv = write_elo(tmp_path / "elo.csv", names, elo)
    scores = elo.astype(float).copy()
    scores[0] = 0.0      # humans' favourite: the model's worst
    scores[99] = 5000.0  # humans' least favourite: the model's best
    tabs = {"m": {"humans_most_prefer": item_table(names + ["not in elo"], list(scores) + [1.0])}}
    res = human_agreement(tabs, elo_path=str(csv), top_n=3)
    d = res.data["prompts"]["humans_most_prefer"]
    assert d["undervalued"][0]["item"] == "item 0" and d["undervalued"][0]["rank_gap"] == 1 - 100
    assert d["overvalued"][0]["item"] == "item 99" and d["overvalued"][0]["rank_gap"] == 100 - 1
    assert len(d["undervalued"]) <= 3
    m = res.metrics
    assert m["humans_most_prefer/n_unmatched"].value == 1  # single model: no model prefix
    assert m["humans_most_prefer/n_items"].value == 100
    x = np.asarray(scores)
    assert m["humans_most_prefer/spearman"].value == pytest.approx(stats.spearmanr(x, elo).statistic)


def test_elo_from_kept_columns_and_errors(tmp_path):
    names = ["a", "b", "c", "d"]
    t = item_table(names, [4.0, 3.0, np.nan, 1.0], elo_score=[10, 20, 30, 40])
    res = human_agreement({"m": {"p": t}})
    assert res.metrics["p/n_items"].value == 3
    assert res.metrics["p/spearman"].value == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="no human Elo"):
        human_agreement({"m": {"p": item_table(names, [1, 2, 3, 4])}})
    res = human_agreement({"m": {"p": item_table(["a", "b"], [1, 2], elo_score=[1, 2])}})
    assert res.metrics["p/spearman"].value is None and "at least 3" in res.metrics["p/spearman"].missing_reason


def _ranks_best_first(x: np.ndarray) -> np.ndarray:
    return len(x) + 1 - stats.rankdata(x)


@pytest.mark.parametrize("prompt", ["greatest_ever", "humans_most_prefer"])
def test_snapshot_reproduces_study_agreement(prompt):
    csv = shared_data("eloeverything", f"{prompt}.csv")
    tabs = tables_from_elo_snapshot(csv, prompt)
    raw = pd.read_csv(csv)
    models = [c for c in raw.columns if c not in ("elo_rank", "elo_score", "name", "elo_matches")]
    assert list(tabs) == models and len(models) == 10
    t0 = tabs[models[0]][prompt]
    assert {"id", "item", "score", "finite", "decoded"} <= set(t0.columns) and len(t0) == 7530
    res = human_agreement(tabs, elo_path=str(csv))
    print(f"\n{prompt}: Spearman / Kendall tau-b of RM scores vs human Elo (n = 7530)")
    for model in models:
        rho = res.metrics[f"{model}/{prompt}/spearman"].value
        tau = res.metrics[f"{model}/{prompt}/kendall_tau"].value
        direct = stats.spearmanr(raw["elo_score"], raw[model]).statistic  # independent straight computation
        direct_tau = stats.kendalltau(raw["elo_score"], raw[model]).statistic
        print(f"  {model:45s} rho={rho:+.4f} tau={tau:+.4f}")
        assert rho == pytest.approx(direct, abs=1e-12)
        assert tau == pytest.approx(direct_tau, abs=1e-12)
        assert res.metrics[f"{model}/{prompt}/n_items"].value == 7530
    # consensus, recomputed from the raw snapshot: median over the ten model ranks (ours), and over the ten model
    # ranks plus the human rank (the study's figure)
    human = _ranks_best_first(raw["elo_score"].to_numpy(float))
    model_ranks = np.vstack([_ranks_best_first(raw[m].to_numpy(float)) for m in models])
    ours = np.median(model_ranks, axis=0)
    study = np.median(np.vstack([model_ranks, human]), axis=0)
    cons = res.metrics[f"{prompt}/consensus_spearman"].value
    assert cons == pytest.approx(stats.spearmanr(-ours, -human).statistic, abs=1e-12)
    res_h = human_agreement(tabs, elo_path=str(csv), consensus_includes_humans=True)
    cons_h = res_h.metrics[f"{prompt}/consensus_spearman"].value
    assert cons_h == pytest.approx(stats.spearmanr(-study, -human).statistic, abs=1e-12)
    assert cons_h > cons  # the human rank inside the median pulls the consensus towards it
    print(f"  consensus rho: models only {cons:+.4f}; models + humans (study's figure) {cons_h:+.4f}")
    under = [x["item"] for x in res.data["prompts"][prompt]["undervalued"]]
    over = [x["item"] for x in res.data["prompts"][prompt]["overvalued"]]
    print(f"  most undervalued: {under[:8]}\n  most overvalued: {over[:8]}")
    assert len(under) == 20 and len(over) == 20
    gaps = human - ours
    assert under[0] == raw["name"].iloc[int(np.lexsort((human, gaps))[0])]
    # the study: relative to humans, "Black people" is among the items RMs undervalue most
    assert "Black people" in under[:5]
    under_h = [x["item"] for x in res_h.data["prompts"][prompt]["undervalued"]]
    assert "Black people" in under_h[:5]


def test_consensus_with_humans_hand_computed(tmp_path):
    names = ["a", "b", "c", "d", "e"]
    elo = [50, 40, 30, 20, 10]  # human ranks 1..5
    csv = write_elo(tmp_path / "elo.csv", names, elo)
    # model ranks (1 = best) per item: m1 [5,1,2,3,4], m2 [5,2,1,3,4], m3 [4,1,2,3,5]
    ranks = {"m1": [5, 1, 2, 3, 4], "m2": [5, 2, 1, 3, 4], "m3": [4, 1, 2, 3, 5]}
    tabs = {m: {"p": item_table(names, -np.asarray(r, float))} for m, r in ranks.items()}
    d = human_agreement(tabs, elo_path=str(csv))
    d_h = human_agreement(tabs, elo_path=str(csv), consensus_includes_humans=True)
    # item a: models 5, 5, 4 -> median 5, gap 1 - 5 = -4; with the human's 1: median of 1, 4, 5, 5 = 4.5, gap -3.5
    gap = {r["item"]: r["rank_gap"] for r in d.data["prompts"]["p"]["undervalued"]}
    gap_h = {r["item"]: r["rank_gap"] for r in d_h.data["prompts"]["p"]["undervalued"]}
    assert gap["a"] == -4.0 and gap_h["a"] == -3.5
    # item b: models 1, 2, 1 -> median 1, gap 2 - 1 = +1; with the human's 2: median of 1, 1, 2, 2 = 1.5, gap 0.5
    over_h = {r["item"]: r["rank_gap"] for r in d_h.data["prompts"]["p"]["overvalued"]}
    assert over_h["b"] == 0.5
    assert d_h.data["consensus_includes_humans"] is True
    with pytest.raises(ValueError, match="consensus_includes_humans"):
        human_agreement(tabs, elo_path=str(csv), consensus_includes_humans="yes")


def test_lm_tables_get_the_per_token_variant(tmp_path):
    """An LM's summed log-prob tracks length; the per-token mean recovers a planted per-token preference."""
    rng = np.random.default_rng(1)
    n = 200
    names = [f"thing {i}" for i in range(n)]
    elo = rng.permutation(np.arange(1000, 1000 + n)).astype(float)
    n_tok = rng.integers(1, 8, size=n)
    per_token = -10 + (elo - elo.min()) / n  # higher Elo -> more probable tokens, in (-10, -9)
    summed = per_token * n_tok  # dominated by length
    csv = write_elo(tmp_path / "elo.csv", names, elo)
    lm = with_kind({"lm": {"p": item_table(names, summed, n_tokens=n_tok)}}, "lm_logprob")
    res = human_agreement(lm, elo_path=str(csv))
    m = res.metrics
    assert m["p/spearman_per_token"].value == pytest.approx(1.0)
    assert m["p/kendall_tau_per_token"].value == pytest.approx(1.0)
    assert m["p/spearman"].value is None and "length" in m["p/spearman"].missing_reason
    assert "LM log-prob" in m["p/spearman_per_token"].definition
    assert m["p/length_baseline_spearman"].value == pytest.approx(stats.spearmanr(-n_tok, elo).statistic)
    # the same numbers read as rewards: the summed score is what is correlated, and it is not the planted signal
    rm = human_agreement({"rm": {"p": item_table(names, summed, n_tokens=n_tok)}}, elo_path=str(csv))
    assert rm.metrics["p/spearman"].value == pytest.approx(stats.spearmanr(summed, elo).statistic)
    assert rm.metrics["p/spearman"].value < 0.6
    assert "p/spearman_per_token" not in rm.metrics


def test_task_file_validates():
    from harness.tasks import load_task, validate_paths
    from harness.tasks.discovery import BUILTIN_TASKS_DIR

    path = BUILTIN_TASKS_DIR / "human_agreement.yaml"
    assert validate_paths([path]) == []
    spec = load_task(path)
    assert spec.responses["type"] == "items" and spec.analysis_args["elo_path"].endswith("eloeverything/elo.csv")
