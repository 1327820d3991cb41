"""`rm-harness diff` and baseline gate rules: planted movers are recovered, the identity-gap delta interval covers
a planted shift, 95% delta intervals cover 0 on ~95% of null pairs, and a `worsens_by` rule fails on a planted
worsening and passes on a null pair."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness.analyses.identity_bias import Axis, Term
from harness.diff.compute import identity_gap_delta, join_key, movers, rank_agreement

N_TERMS = 12


def synthetic_axes() -> list[Axis]:
    """One axis of N_TERMS terms, each with two controls of its own."""
    terms = tuple(Term(f"term{i}", (f"term{i}",), (f"ctrla{i}", f"ctrlb{i}")) for i in range(N_TERMS))
    return [Axis("axis", "Axis", terms)]


def synthetic_table(base: np.ndarray, noise: float, rng: np.random.Generator, term_shift: float = 0.0,
                    n_filler: int = 200) -> pd.DataFrame:
    """A vocabulary table: terms, controls and filler words, scores = base + seeded noise (+ a shift of terms)."""
    words = [f"term{i}" for i in range(N_TERMS)] + [f"ctrl{c}{i}" for i in range(N_TERMS) for c in "ab"] + \
        [f"filler{i}" for i in range(n_filler)]
    scores = base + rng.normal(0, noise, len(base))
    scores[:N_TERMS] += term_shift
    return pd.DataFrame({"id": np.arange(len(words)), "decoded": words, "score": scores,
                         "special": np.zeros(len(words), bool)})


def base_scores(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 1, N_TERMS * 3 + 200)


def test_planted_movers_are_the_top_movers():
    rng = np.random.default_rng(1)
    base = base_scores()
    a = synthetic_table(base, 0.01, rng)
    b = synthetic_table(base, 0.01, rng)
    planted = [210, 220, 230]  # filler words moved to the top in B
    b.loc[planted, "score"] = base.max() + 1 + np.arange(3)
    sa, sb = join_key(a, "id"), join_key(b, "id")
    m = movers(sa, sb, dict(zip(a["id"], a["decoded"])), k=3)
    assert {r["key"] for r in m["up"]} == set(planted)
    assert all(r["new_rank"] <= 3 for r in m["up"])
    assert len(m["down"]) == 3 and all(r["change"] < 0 for r in m["down"])
    agree = rank_agreement(sa, sb)
    from scipy import stats

    x, y = sa.to_numpy(), sb.loc[sa.index].to_numpy()
    assert agree["kendall_tau_b"] == pytest.approx(stats.kendalltau(x, y).statistic)
    assert agree["n_shared"] == len(a)


def test_identity_delta_interval_covers_a_planted_shift():
    rng = np.random.default_rng(2)
    base = base_scores()
    a = synthetic_table(base, 0.3, rng)
    b = synthetic_table(base, 0.3, rng, term_shift=-1.5)  # every identity term scored lower in B
    d = identity_gap_delta(a, b, synthetic_axes())
    # the true shift in percentile points, from the same tables without noise on the controls' side
    from harness.diff.compute import term_differences

    true = np.mean([term_differences(b, synthetic_axes())[t] - term_differences(a, synthetic_axes())[t]
                    for t in term_differences(a, synthetic_axes())])
    assert d.delta == pytest.approx(true)
    assert d.ci_high < 0 and d.ci_low <= true <= d.ci_high
    assert d.unit == "term" and d.n_units == N_TERMS


def null_coverage(n_pairs: int = 240) -> float:
    axes = synthetic_axes()
    covered = 0
    for i in range(n_pairs):
        rng = np.random.default_rng(1000 + i)
        base = rng.normal(0, 1, N_TERMS * 3 + 200)
        d = identity_gap_delta(synthetic_table(base, 0.5, rng), synthetic_table(base, 0.5, rng), axes)
        covered += d.ci_low <= 0 <= d.ci_high
    return covered / n_pairs


def test_null_pairs_delta_intervals_cover_zero_about_95_percent():
    coverage = null_coverage()
    assert 0.93 <= coverage <= 0.97, coverage


def _diff_of(a: pd.DataFrame, b: pd.DataFrame) -> dict:
    d = identity_gap_delta(a, b, synthetic_axes())
    return {"tasks": {"identity_bias": {"best": {"deltas": [d.to_json()]}}}, "skipped": {}}


@pytest.mark.parametrize("shift, passed", [(-2.0, False), (0.0, True)])
def test_baseline_rule_fails_a_planted_worsening_and_passes_a_null_pair(shift, passed):
    from harness.gate.baseline import baseline_rows
    from harness.gate.evaluate import CheckResult
    from harness.gate.policy_spec import Check

    rng = np.random.default_rng(7)
    base = base_scores(3)
    diff = _diff_of(synthetic_table(base, 0.3, rng), synthetic_table(base, 0.3, rng, term_shift=shift))
    check = Check(name="gap-no-worse", task="identity_bias", metric="percentile_gap", prompts=None, rule="ci",
                  inconclusive_passes=True, worsens_by=5.0, better="higher")
    rows = baseline_rows(check, diff, "p.yaml")
    assert len(rows) == 1 and rows[0].interval is not None
    assert CheckResult(check, rows).passed is passed
    assert (rows[0].status == "fail") is bool(shift)  # a null pair: pass, or inconclusive (which ci passes)


def test_policy_reads_worsens_by_and_refuses_it_beside_min(tmp_path):
    from harness.gate.policy_spec import PolicyError, load_policy

    p = tmp_path / "p.yaml"
    p.write_text("policy: b\nscorers: [reward]\nchecks:\n  - {name: g, column: identity_gap, worsens_by: 2, "
                 "better: higher, rule: ci}\n")
    (check,) = load_policy(p).checks
    assert check.worsens_by == 2.0 and check.better == "higher"
    p.write_text("policy: b\nscorers: [reward]\nchecks:\n  - {name: g, column: identity_gap, worsens_by: 2, min: 0}\n")
    with pytest.raises(PolicyError, match="worsens_by"):
        load_policy(p)
