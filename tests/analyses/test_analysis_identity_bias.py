"""identity_bias: the shipped term lists are frequency-matched and neutral; planted gaps are recovered."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from harness.analyses import registry
from harness.analyses.identity_bias import DEFAULT_LISTS, METRICS, identity_bias, load_term_lists
from tables import vocab_table as make_table

from repo_paths import REPO  # noqa: E402
AXES = {"race_ethnicity", "religion", "gender", "sexual_orientation", "nationality", "disability", "age", "politics"}




def quantile_score(filler: np.ndarray, q: float) -> float:
    return float(np.quantile(filler, q / 100.0))


# ---------------------------------------------------------------------------------------------------- term lists


def test_builtin_lists_cover_the_axes_and_controls_are_matched():
    from wordfreq import zipf_frequency

    from harness.lexicons import load_afinn111

    afinn = load_afinn111()
    axes = load_term_lists()
    assert {a.axis for a in axes} == AXES
    all_terms = {v.lower() for a in axes for t in a.terms for v in (t.term, *t.variants)}
    bad = []
    for a in axes:
        assert len(a.terms) >= 10, a.axis
        for t in a.terms:
            assert t.controls, f"{a.axis}/{t.term} has no controls"
            zt = zipf_frequency(t.term, "en")
            for c in t.controls:
                zc = zipf_frequency(c, "en")
                if abs(zc - zt) > 0.5 + 1e-9:
                    bad.append(f"{t.term} ({zt}) vs {c} ({zc}): frequency not matched")
                if afinn.get(c.lower(), 0) != 0:
                    bad.append(f"{c}: AFINN {afinn[c.lower()]}")
                if c.lower() in all_terms:
                    bad.append(f"{c}: control is an identity term")
    assert not bad, bad


def test_list_format_errors_are_clear(tmp_path):
    p = tmp_path / "x.yaml"
    p.write_text("axis: x\nterms:\n  - {term: foo, control: [bar]}\n")
    with pytest.raises(ValueError, match=r"terms\[0\].control: unknown key"):
        load_term_lists(p)
    p.write_text("axis: bad name\nterms: [{term: a}]\n")
    with pytest.raises(ValueError, match="axis"):
        load_term_lists(p)
    with pytest.raises(FileNotFoundError):
        load_term_lists(tmp_path / "nope.yaml")
    q = tmp_path / "d"
    q.mkdir()
    (q / "a.yaml").write_text("axis: same\nterms: [{term: a, controls: [b]}]\n")
    (q / "b.yaml").write_text("axis: same\nterms: [{term: c, controls: [d]}]\n")
    with pytest.raises(ValueError, match="also defined"):
        load_term_lists(q)


# ---------------------------------------------------------------------------------------------------- planted signal


def planted_vocab(term_pct: dict[str, float], default_term_pct=50.0, control_pct=50.0, n_filler=20_000, seed=0,
                  drop_terms=(), jitter=0.5):
    """Filler tokens with uniform scores, each identity term (leading-space form) placed at its axis's percentile
    (± jitter), each control at `control_pct` (± jitter)."""
    rng = np.random.default_rng(seed)
    filler = rng.uniform(0.0, 1000.0, n_filler)
    decoded = [f"filler{i}" for i in range(n_filler)]
    scores = list(filler)
    for a in load_term_lists():
        pct = term_pct.get(a.axis, default_term_pct)
        for t in a.terms:
            if t.term in drop_terms:
                continue
            decoded.append(" " + t.variants[0])
            scores.append(quantile_score(filler, float(np.clip(pct + rng.uniform(-jitter, jitter), 0, 100))))
        for c in a.controls:
            if " " + c in decoded:
                continue
            decoded.append(" " + c)
            scores.append(quantile_score(filler, control_pct + rng.uniform(-jitter, jitter)))
    return make_table(decoded, scores)


def test_planted_gap_is_recovered():
    df = planted_vocab({"religion": 5.0}, drop_terms=("Sikh",))
    res = registry.get("identity_bias")({"m": {"best": df}}, n_resamples=1999)
    m = res.metrics
    assert m["best/religion/term_percentile"].value == pytest.approx(5.0, abs=0.6)
    assert m["best/religion/control_percentile"].value == pytest.approx(50.0, abs=0.6)
    gap = m["best/religion/percentile_gap"].value
    assert gap == pytest.approx(-45.0, abs=1.0)
    assert m["best/religion/gap_ci_high"].value < -40 and m["best/religion/gap_ci_low"].value > -50
    assert m["best/religion/gap_p_value"].value <= 2 / 2000  # the smallest two-sided p with 1999 resamples
    assert m["best/religion/n_terms_missing"].value == 1  # Sikh was left out of the vocabulary
    assert {"axis": "religion", "term": "Sikh", "reason": "not in vocabulary as a single token"} in \
        res.data["tables"]["best"]["missing"]
    # the other axes were planted at the controls' level (± the same jitter): no gap to speak of
    for axis in AXES - {"religion"}:
        assert abs(m[f"best/{axis}/percentile_gap"].value) < 1.0, axis
        assert m[f"best/{axis}/gap_ci_low"].value < 1.0 and m[f"best/{axis}/gap_ci_high"].value > -1.0, axis
    # the pooled gap is dragged down by religion only
    assert m["best/percentile_gap"].value < -3
    assert m["best/mean_abs_axis_gap"].value > 45.0 / 8 - 1
    assert m["best/abs_percentile_gap"].higher_is_better is False
    # every metric key ends in a declared name, with a definition
    for k, v in m.items():
        assert k.split("/")[-1] in METRICS
        assert v.definition
    assert "percentiles" in res.figures


def test_bottom_rates_and_percentile_definition():
    df = planted_vocab({"disability": 0.4}, jitter=0.3)
    res = identity_bias({"m": {"worst": df}}, n_resamples=999)
    m = res.metrics
    assert m["worst/disability/term_bottom_rate"].value == 1.0
    assert m["worst/disability/control_bottom_rate"].value == 0.0
    assert m["worst/religion/term_bottom_rate"].value == 0.0
    # one token per term here: the pooled rate is the disability terms' share of all terms found
    n_dis = m["worst/disability/n_terms_found"].value
    n_all = m["worst/n_terms_found"].value
    assert m["worst/term_bottom_rate"].value == pytest.approx(n_dis / n_all)
    # ... while the share of the bottom 1% that is identity tokens is n_dis over the size of the bottom 1%
    n_bottom = res.data["tables"]["worst"]["n_bottom"]
    assert m["worst/bottom_identity_share"].value == pytest.approx(n_dis / n_bottom)
    # percentile of a row: 100 * (average rank - 1) / (n - 1) among all the table's finite scores
    scores = df["score"].to_numpy(float)
    expected = 100.0 * (stats.rankdata(scores) - 1) / (len(scores) - 1)
    by_id = dict(zip(df["id"].to_numpy(), expected))
    rows = [r for t in res.data["tables"]["worst"]["terms"] for r in t["rows"]]
    assert rows and all(r["percentile"] == pytest.approx(by_id[r["id"]], abs=1e-9) for r in rows)


def test_variants_leading_space_case_and_nonfinite(tmp_path):
    lst = tmp_path / "t.yaml"
    lst.write_text(
        "axis: toy\nlabel: Toy\nterms:\n"
        "  - {term: Muslims, controls: [Farmers]}\n"
        "  - {term: gay, variants: [gay, Gay], controls: [annual]}\n"
        "  - {term: Zorblax, controls: [Bottle]}\n"
        "  - {term: Nanterm, controls: [Carpet]}\n"
    )
    # scores 0..99 for filler; percentiles over 100 + 9 finite rows
    decoded = [f"f{i}" for i in range(100)] + [" Muslims", "Muslims", "muslims", " gay", "Gay", " Farmers",
                                               " annual", "Bottle", " Nanterm", "Carpet"]
    scores = list(range(100)) + [10.25, 30.25, 99.5, 50.25, 70.25, 60.25, 60.75, 20.25, np.nan, 40.25]
    df = make_table(decoded, scores)
    res = identity_bias({"m": {"best": df}}, lists_path=[str(lst)], n_resamples=999)
    det = res.data["tables"]["best"]
    by_term = {t["term"]: t for t in det["terms"]}
    # " Muslims" and "Muslims" both match; lowercase "muslims" is not a listed variant
    assert sorted(r["decoded"] for r in by_term["Muslims"]["rows"]) == [" Muslims", "Muslims"]
    assert sorted(r["decoded"] for r in by_term["gay"]["rows"]) == [" gay", "Gay"]
    pct = {r["decoded"]: r["percentile"] for t in det["terms"] for r in t["rows"]}
    n = 109  # finite scores
    rank = lambda s: sum(x < s for x in scores if np.isfinite(x)) + 1  # noqa: E731  (no ties here)
    assert pct[" Muslims"] == pytest.approx(100 * (rank(10.25) - 1) / (n - 1))
    assert by_term["Muslims"]["percentile"] == pytest.approx((pct[" Muslims"] + pct["Muslims"]) / 2)
    missing = {x["term"]: x["reason"] for x in det["missing"]}
    assert missing == {"Zorblax": "not in vocabulary as a single token",
                       "Nanterm": "found but every score is non-finite"}
    assert res.metrics["best/n_terms_missing"].value == 2
    assert res.metrics["best/toy/n_terms_found"].value == 2
    # a folder of lists works too
    res2 = identity_bias({"m": {"best": df}}, lists_path=str(tmp_path), n_resamples=999)
    assert res2.metrics["best/toy/percentile_gap"].value == res.metrics["best/toy/percentile_gap"].value


def test_item_tables_match_on_item_and_multi_model_keys(tmp_path):
    lst = tmp_path / "t.yaml"
    lst.write_text("axis: race\nterms:\n  - {term: Black people, controls: [Tall people]}\n"
                   "  - {term: White people, controls: [Short people]}\n")
    items = [f"thing {i}" for i in range(50)] + ["Black people", "White people", "Tall people", "Short people"]
    scores = list(range(50)) + [1.0, 2.0, 40.0, 45.0]
    df = make_table([f"x{i}" for i in range(len(items))], scores, items=items)
    res = identity_bias({"a": {"greatest_ever": df}, "b": {"greatest_ever": df}}, lists_path=str(lst), n_resamples=999)
    assert res.data["tables"]["a/greatest_ever"]["matched_on"] == "item"
    assert res.metrics["a/greatest_ever/race/n_terms_found"].value == 2
    assert res.metrics["b/greatest_ever/race/percentile_gap"].value < -50
    assert {"percentiles__a", "percentiles__b"} <= set(res.figures)


def test_task_file_validates():
    from harness.tasks import load_task, validate_paths
    from harness.tasks.discovery import BUILTIN_TASKS_DIR

    path = BUILTIN_TASKS_DIR / "identity_bias.yaml"
    assert validate_paths([path]) == []
    spec = load_task(path)
    assert spec.analysis_name == "identity_bias" and spec.scope == "model"
    assert DEFAULT_LISTS.is_dir()
