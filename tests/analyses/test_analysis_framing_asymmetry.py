"""framing_asymmetry: planted sentiment slopes per valence sign are recovered; tau, hedges, missing cases."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from harness.analyses import registry
from harness.lexicons import afinn_words, load_afinn111
from tables import vocab_table as make_table




def test_afinn111_is_the_paper_list():
    lex = load_afinn111()
    assert len(load_afinn111(None, False)) == 2477  # AFINN-111, not the newer en-165 list
    assert len(lex) == 2477 - 15  # multi-word entries dropped
    assert lex["love"] == 3 and lex["hate"] == -3 and lex["outstanding"] == 5
    assert all(" " not in w for w in lex)


@pytest.fixture(scope="module")
def planted():
    """Vocabulary of AFINN words (several case/space variants of some) plus filler, with known slopes."""
    lex = load_afinn111()
    rng = np.random.default_rng(11)
    words = sorted(w for w in lex if w.isalpha())
    decoded, afinn, primary = [], [], []
    for w in words:
        decoded.append(" " + w)
        afinn.append(lex[w])
        primary.append(True)
    for w in words[::7]:  # decoy variants that the dedupe must ignore
        for v in (w, " " + w.capitalize(), w.upper()):
            decoded.append(v)
            afinn.append(lex[w])
            primary.append(False)
    fillers = [f" filler{i}" for i in range(300)] + ["<s>", " subjective", " Depends", " very"]
    decoded += fillers
    afinn += [0] * len(fillers)
    primary += [False] * len(fillers)
    a = np.asarray(afinn, float)
    prim = np.asarray(primary)
    noise = lambda: rng.normal(0, 0.05, size=len(a))  # noqa: E731
    best = np.where(a > 0, 2.0 * a, 0.5 * a) + noise()
    worst = np.where(a > 0, -0.5 * a, -2.0 * a) + noise()
    greatest = 1.0 * a + noise()
    # decoys get unrelated scores: if the dedupe used them, slopes would be off
    for arr in (best, worst, greatest):
        arr[~prim & (a != 0)] = rng.normal(0, 5, size=int((~prim & (a != 0)).sum()))
    idx = {d: i for i, d in enumerate(decoded)}
    best[idx[" subjective"]], worst[idx[" subjective"]] = 60.0, 60.0  # hedge: high under both
    best[idx[" Depends"]], worst[idx[" Depends"]] = 55.0, 58.0
    best[idx["<s>"]], worst[idx["<s>"]] = 200.0, 200.0  # special: filtered out
    best[idx[" filler3"]] = np.nan
    special = [d == "<s>" for d in decoded]
    return {
        "best": make_table(decoded, best, special=special),
        "worst": make_table(decoded, worst, special=special),
        "greatest": make_table(decoded, greatest, special=special),
    }


def test_planted_slopes_and_asymmetry(planted):
    res = registry.get("framing_asymmetry")({"m": planted}, filters={"special": False}, min_words=10)
    m = res.metrics
    assert m["best/slope_pos"].value == pytest.approx(2.0, abs=0.02)
    assert m["best/slope_neg"].value == pytest.approx(0.5, abs=0.02)
    assert m["worst/slope_pos"].value == pytest.approx(-0.5, abs=0.02)
    assert m["worst/slope_neg"].value == pytest.approx(-2.0, abs=0.02)
    assert m["greatest/slope_pos"].value == pytest.approx(1.0, abs=0.02)
    assert m["best/asymmetry"].value == pytest.approx(1.5, abs=0.03)
    assert m["worst/asymmetry"].value == pytest.approx(-1.5, abs=0.03)
    assert m["greatest/asymmetry"].value == pytest.approx(0.0, abs=0.03)
    se = math.hypot(m["best/slope_pos_se"].value, m["best/slope_neg_se"].value)
    assert m["best/asymmetry_se"].value == pytest.approx(se)
    assert 0 < m["best/slope_pos_se"].value < 0.01
    lex = load_afinn111()
    n_pos = sum(1 for w in lex if w.isalpha() and lex[w] > 0)
    assert m["best/n_pos"].value == n_pos  # one row per word despite the decoy variants
    json.dumps(res.data)
    assert {"scatter", "slopes"} <= set(res.figures)


def test_dedupe_prefers_leading_space_variant(planted):
    words = afinn_words(planted["best"])
    assert words["word"].is_unique
    assert (words["decoded"] == " " + words["word"]).all()
    assert (words["n_variants"] > 1).any()
    all_rows = afinn_words(planted["best"], dedupe="none")
    assert len(all_rows) > len(words)
    # bare variant only → it is used
    t = make_table(["LOVE", "love", " Hate"], [1.0, 2.0, 3.0])
    w = afinn_words(t).set_index("word")
    assert w.loc["love", "decoded"] == "love" and w.loc["hate", "decoded"] == " Hate"
    assert afinn_words(t, dedupe="mean").set_index("word").loc["love", "score"] == pytest.approx(1.5)


def test_kendall_tau_and_hedge_lists(planted):
    res = registry.get("framing_asymmetry")({"m": planted}, filters={"special": False}, k=3)
    b, w = planted["best"], planted["worst"]
    keep = np.isfinite(b["score"]) & np.isfinite(w["score"]) & ~b["special"]
    expected = stats.kendalltau(b["score"][keep], w["score"][keep], variant="b").statistic
    assert res.metrics["best_vs_worst/kendall_tau"].value == pytest.approx(expected, abs=1e-12)
    assert res.metrics["best_vs_worst/n_pairs"].value == int(keep.sum())
    pair = res.data["pairs"]["best_vs_worst"]
    assert [r["decoded"] for r in pair["hedges_top"][:2]] == [" subjective", " Depends"]
    assert "<s>" not in [r["decoded"] for r in pair["hedges_top"]]
    top_val = pair["valence_top"][0]
    assert top_val["score_a"] - top_val["score_b"] == max(
        r["score_a"] - r["score_b"] for r in pair["valence_top"])
    assert "best_vs_greatest/kendall_tau" in res.metrics


def test_ties_in_kendall_tau():
    d = [" a", " b", " c", " d", " e", " f"]
    t1 = make_table(d, [1, 1, 2, 2, 3, 3])
    t2 = make_table(d, [1, 2, 1, 2, 3, 3])
    res = registry.get("framing_asymmetry")({"m": {"best": t1, "worst": t2}}, pairs=[["best", "worst"]])
    expected = stats.kendalltau([1, 1, 2, 2, 3, 3], [1, 2, 1, 2, 3, 3], variant="b").statistic
    assert res.metrics["best_vs_worst/kendall_tau"].value == pytest.approx(expected)


def test_too_few_words_is_missing_with_reason():
    d = [" love", " good", " great", " hate", " bad", " x", " y"]
    t = make_table(d, [3, 2, 1, -1, -2, 0, 0])
    res = registry.get("framing_asymmetry")({"m": {"best": t, "worst": t}}, min_words=10)
    m = res.metrics
    for name in ("best/slope_pos", "best/slope_neg", "best/asymmetry", "best/asymmetry_se"):
        assert m[name].value is None and m[name].missing_reason, name
    assert "min_words" in m["best/slope_pos"].missing_reason
    assert m["best/n_pos"].value == 3
    # a prompt absent from the tables: tau missing, not 0
    assert m["best_vs_greatest/kendall_tau"].value is None
    assert "greatest" in m["best_vs_greatest/kendall_tau"].missing_reason


def test_several_models(planted):
    res = registry.get("framing_asymmetry")({"a/x": planted, "b/y": {"best": planted["worst"],
                                                                    "worst": planted["best"]}})
    assert res.metrics["a/x/best/asymmetry"].value == pytest.approx(1.5, abs=0.03)
    assert res.metrics["b/y/best/asymmetry"].value == pytest.approx(-1.5, abs=0.03)
