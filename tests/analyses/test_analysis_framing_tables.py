"""framing_tables: planted hedges (best + worst) and valence tokens (best - worst) are recovered, for an LM too."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from harness.analyses import registry
from tables import with_kind
from tables import vocab_table as make_table


def planted_lm(n: int = 500, seed: int = 5):
    """LM-like log-probs: a shared prior (frequency) plus a framing term; three planted tokens."""
    rng = np.random.default_rng(seed)
    decoded = [f" w{i}" for i in range(n)] + [" I", " Well", " wonderful", " terrible", "<bos>"]
    prior = rng.normal(-18, 2, size=len(decoded))
    valence = rng.normal(0, 0.3, size=len(decoded))
    idx = {d: i for i, d in enumerate(decoded)}
    prior[idx[" I"]], prior[idx[" Well"]] = -1.0, -1.5  # likely under both framings: the LM's hedges
    valence[idx[" wonderful"]], valence[idx[" terrible"]] = 6.0, -6.0  # framing-specific
    prior[idx["<bos>"]] = 0.0  # a special token, filtered out
    best, worst = prior + valence, prior - valence
    special = [d == "<bos>" for d in decoded]
    return {"best": make_table(decoded, best, special=special),
            "worst": make_table(decoded, worst, special=special)}, best, worst, special


def test_planted_hedges_and_valence_for_an_lm():
    tabs, best, worst, special = planted_lm()
    res = registry.get("framing_tables")(with_kind({"lm": tabs}, "lm_logprob"), k=3, filters={"special": False})
    pair = res.data["pairs"]["best_vs_worst"]
    assert [r["decoded"] for r in pair["hedges_top"][:2]] == [" I", " Well"]  # table A4
    assert pair["valence_top"][0]["decoded"] == " wonderful"  # table A5
    assert pair["valence_bottom"][0]["decoded"] == " terrible"
    assert "<bos>" not in [r["decoded"] for r in pair["hedges_top"]]
    assert len(pair["hedges_top"]) == 3 and pair["scorer"] == "lm_logprob"
    keep = ~np.asarray(special)
    m = res.metrics
    assert m["best_vs_worst/n_pairs"].value == int(keep.sum())
    assert m["best_vs_worst/kendall_tau"].value == pytest.approx(
        stats.kendalltau(best[keep], worst[keep], variant="b").statistic)
    assert "LM log-prob" in m["best_vs_worst/kendall_tau"].definition
    assert "scatter" in res.figures


def test_framing_asymmetry_lists_are_the_framing_tables():
    """framing_asymmetry (reward models) builds its hedge / valence lists with the same code."""
    tabs, *_ = planted_lm()
    a = registry.get("framing_tables")({"m": tabs}, k=5)
    b = registry.get("framing_asymmetry")({"m": tabs}, pairs=[["best", "worst"]], k=5)
    assert a.data["pairs"] == b.data["pairs"]
    assert a.metrics["best_vs_worst/kendall_tau"].value == b.metrics["best_vs_worst/kendall_tau"].value
    # a reward model's metric definitions carry no kind label
    assert "[scores:" not in a.metrics["best_vs_worst/kendall_tau"].definition


def test_missing_prompt_and_several_models():
    tabs, *_ = planted_lm(n=50)
    res = registry.get("framing_tables")({"x": tabs, "y": {"best": tabs["best"]}})
    assert res.metrics["x/best_vs_worst/kendall_tau"].value is not None
    assert res.metrics["y/best_vs_worst/kendall_tau"].value is None
    assert "no score table" in res.metrics["y/best_vs_worst/kendall_tau"].missing_reason
    with pytest.raises(ValueError, match="k must be"):
        registry.get("framing_tables")({"x": tabs}, k=0)


def test_valid_for_every_kind_and_task_file_validates():
    from harness.tasks import load_task, validate_paths
    from harness.tasks.discovery import BUILTIN_TASKS_DIR

    assert registry.scorers("framing_tables") == {"reward", "lm_logprob", "dpo", "judge"}
    path = BUILTIN_TASKS_DIR / "framing_tables.yaml"
    assert validate_paths([path]) == []
    spec = load_task(path)
    assert spec.applies_to("lm_logprob") and spec.applies_to("reward")
