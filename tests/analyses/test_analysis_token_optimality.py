"""token_optimality and base_model_comparison on synthetic tables with known answers."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from harness.analyses import registry
from harness.analyses.base import AnalysisResult
from tables import vocab_table as make_table




def run(name, tables, **args) -> AnalysisResult:
    res = registry.get(name)(tables, **args)
    assert isinstance(res, AnalysisResult)
    json.dumps({k: m.to_json() for k, m in res.metrics.items()})
    json.dumps(res.data)
    assert res.figures, "every analysis draws a figure"
    for k, m in res.metrics.items():
        assert m.definition, k
        assert m.value is not None or m.missing_reason, k
    return res


@pytest.fixture(scope="module")
def skewed():
    rng = np.random.default_rng(7)
    scores = rng.gamma(2.0, 1.5, size=400)  # right-skewed
    scores[:3] = [50.0, 49.0, -20.0]  # known extremes
    scores[10] = np.nan
    scores[11] = np.inf
    scores[12] = -np.inf
    decoded = [f" w{i}" for i in range(400)]
    decoded[0], decoded[1], decoded[2] = " LOVE", " best", " kill"
    return make_table(decoded, scores)


def test_distribution_metrics_match_numpy_scipy(skewed):
    res = run("token_optimality", {"m": {"best": skewed}}, k=5)
    s = skewed["score"].to_numpy()
    f = s[np.isfinite(s)]
    m = res.metrics
    assert m["best/n"].value == len(f) == 397
    assert m["best/n_nonfinite"].value == 3  # NaN, +inf, -inf counted, not silently dropped
    assert m["best/mean"].value == pytest.approx(np.mean(f), rel=1e-12)
    assert m["best/variance"].value == pytest.approx(np.var(f, ddof=0), rel=1e-12)
    assert m["best/variance"].value != pytest.approx(np.var(f, ddof=1), rel=1e-6)
    assert m["best/skewness"].value == pytest.approx(stats.skew(f, bias=True), rel=1e-12)
    assert m["best/skewness"].value > 0
    assert m["best/n_nonfinite"].higher_is_better is False


def test_top_and_bottom_tokens(skewed):
    res = run("token_optimality", {"m": {"best": skewed}}, k=3)
    top, bottom = res.data["top"]["best"], res.data["bottom"]["best"]
    assert [r["decoded"] for r in top[:2]] == [" LOVE", " best"]
    assert top[0] == {"id": 0, "token": "ĠLOVE", "decoded": " LOVE", "score": 50.0}
    assert bottom[0]["decoded"] == " kill" and bottom[0]["score"] == -20.0
    assert len(top) == len(bottom) == 3
    assert all(math.isfinite(r["score"]) for r in top + bottom)  # inf never enters a ranking


def test_ties_are_ordered_by_id():
    df = make_table([" a", " b", " c", " d", " e"], [1.0, 3.0, 3.0, 0.0, 0.0], ids=[40, 30, 20, 10, 50])
    res = run("token_optimality", {"m": {"best": df}}, k=2)
    assert [r["id"] for r in res.data["top"]["best"]] == [20, 30]
    assert [r["id"] for r in res.data["bottom"]["best"]] == [10, 50]


def test_filters_and_degenerate_cases():
    df = make_table(["<s>", " good", "\ufffd", " bad", " ok"], [100.0, 2.0, 50.0, -1.0, 1.0],
                    special=[True, False, False, False, False], byte_fragment=[False, False, True, False, False])
    res = run("token_optimality", {"m": {"best": df}}, k=2, filters={"special": False, "byte_fragment": False})
    assert [r["decoded"] for r in res.data["top"]["best"]] == [" good", " ok"]
    assert res.metrics["best/n"].value == 3
    with pytest.raises(ValueError, match="unknown filter flag"):
        registry.get("token_optimality")({"m": {"best": df}}, filters={"nope": True})
    # constant scores: skewness missing with a reason, never 0
    const = make_table([" a", " b", " c"], [1.0, 1.0, 1.0])
    res = run("token_optimality", {"m": {"best": const}})
    assert res.metrics["best/skewness"].value is None and res.metrics["best/skewness"].missing_reason
    assert res.metrics["best/variance"].value == 0.0
    # all NaN
    nan = make_table([" a", " b"], [np.nan, np.nan])
    res = run("token_optimality", {"m": {"best": nan}})
    assert res.metrics["best/mean"].value is None and "no finite" in res.metrics["best/mean"].missing_reason
    assert res.metrics["best/n_nonfinite"].value == 2


def test_several_models_prefix_keys(skewed):
    t2 = skewed.assign(score=-skewed["score"])
    res = run("token_optimality", {"org/a": {"best": skewed}, "org/b": {"best": t2, "worst": skewed}}, k=1)
    assert res.metrics["org/a/best/mean"].value == pytest.approx(-res.metrics["org/b/best/mean"].value)
    assert "org/b/worst/mean" in res.metrics
    assert res.data["top"]["org/b/best"][0]["decoded"] == " kill"


def test_base_model_comparison_rankings_and_tau():
    rng = np.random.default_rng(3)
    n = 300
    decoded = [f" t{i}" for i in range(n)]
    lm_scores = rng.normal(size=n)
    rm_scores = lm_scores + rng.normal(scale=0.5, size=n)
    lm = make_table(decoded, lm_scores)
    lm.attrs["scorer"] = "lm_logprob"
    rm = make_table(decoded, rm_scores)
    rm.loc[5, "decoded"] = " different"  # a token that is a different string in the RM's vocabulary: excluded
    rm.loc[6, "score"] = np.nan
    res = run("base_model_comparison", {"base/lm": {"best": lm}, "org/rm": {"best": rm, "worst": rm}}, k=4)
    keep = np.ones(n, bool)
    keep[[5, 6]] = False
    expected = stats.kendalltau(lm_scores[keep], rm_scores[keep]).statistic
    assert res.metrics["base/lm/best/org/rm/kendall_tau"].value == pytest.approx(expected, abs=1e-12)
    assert res.metrics["base/lm/best/org/rm/n_shared"].value == n - 2
    assert res.data["lm_models"] == ["base/lm"] and res.data["reward_models"] == ["org/rm"]
    assert res.data["top"]["base/lm/best"][0]["id"] == int(np.argmax(lm_scores))
    # LM alone: rankings, and tau missing with a reason
    res = run("base_model_comparison", {"base/lm": {"best": lm}})
    assert res.metrics["best/kendall_tau"].value is None
    assert "no reward-model table" in res.metrics["best/kendall_tau"].missing_reason
    assert res.data["bottom"]["best"][0]["id"] == int(np.argmin(lm_scores))
