"""Inference that a reviewer can check: every p-value, interval and adjustment against an independent computation.

Independent computations: brute-force enumeration of every sign vector / permutation on small n, scipy's
reference implementations (permutation_test, spearmanr, kendalltau), a hand-written sandwich estimator, and the
coverage of each interval over seeded simulations with a known effect, accepted inside the 99% binomial band
around the nominal level.

Each `check_*` function is one such comparison. The mutants that once left every test green (a permutation p
without its +1, a Mantel test that permutes only rows, a one-sided identity test, a bootstrap at 80%) are
permanent tests below: each is monkeypatched in, and the same check must then fail.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from harness.analyses import frequency_bias as fb
from harness.analyses import rank_stats
from harness.analyses.identity_bias import METRICS as ID_METRICS
from harness.analyses.identity_bias import identity_bias
from harness.analyses.rank_stats import holm, permutation_p, rsa, sign_flip_test, upper
from tables import vocab_table as make_table

ALPHA = 0.05


def binomial_band(n: int, p: float, level: float = 0.99) -> tuple[float, float]:
    lo, hi = stats.binom.interval(level, n, p)
    return lo / n, hi / n


# ---------------------------------------------------------------------------------------------------- independent


def brute_sign_flip_p(d: np.ndarray, delta: float = 0.0) -> float:
    """Two-sided sign-flip p of mean(d - delta) = 0 over all 2^n sign vectors, written out plainly."""
    x = np.asarray(d, float) - delta
    obs = abs(x.mean())
    hits = 0
    for signs in itertools.product((1.0, -1.0), repeat=len(x)):
        if abs((np.array(signs) * x).mean()) >= obs - 1e-9 * max(1.0, obs):
            hits += 1
    return hits / 2 ** len(x)


def brute_rsa_p(a: np.ndarray, b: np.ndarray, alternative: str = "greater") -> float:
    """Mantel p over all n! relabellings of b (rows and columns together): Spearman as the Pearson correlation of
    scipy ranks of the two upper triangles, one relabelled matrix at a time."""
    n = len(a)
    ra = stats.rankdata(upper(a))

    def rho(m: np.ndarray) -> float:
        return float(np.corrcoef(ra, stats.rankdata(upper(m)))[0, 1])

    obs = rho(b)
    hits = 0
    for perm in itertools.permutations(range(n)):
        idx = np.array(perm)
        r = rho(b[np.ix_(idx, idx)])
        hits += (r >= obs - 1e-9) if alternative == "greater" else (abs(r) >= abs(obs) - 1e-9)
    return hits / math_factorial(n)


def math_factorial(n: int) -> int:
    out = 1
    for k in range(2, n + 1):
        out *= k
    return out


def hand_holm(p: list[float]) -> list[float]:
    """Holm's step-down adjustment written out: sorted ascending, p_(i) * (m - i), running maximum, capped at 1."""
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    out = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out


def symmetric(rng, n: int) -> np.ndarray:
    x = rng.normal(size=(n, n))
    return (x + x.T) / 2


def params_similarity(params) -> np.ndarray:
    p = np.asarray(params, float)
    return 1 / (1 + np.abs(p[:, None] - p[None, :]))


# ---------------------------------------------------------------------------------------------------- checks


def check_sign_flip_matches_enumeration() -> None:
    rng = np.random.default_rng(11)
    cases = [rng.normal(0.3, 1.0, 9), rng.integers(-3, 4, 10).astype(float), -np.abs(rng.normal(1, 1, 8)),
             np.array([2.0, -1.0, 3.0, 0.5, -0.5, 1.0, 4.0])]
    for d in cases:
        r = sign_flip_test(d)
        assert r.exact and r.n_resamples == 2 ** len(d)
        assert r.p_value == pytest.approx(brute_sign_flip_p(d), abs=1e-12)
        ref = stats.permutation_test((d,), np.mean, permutation_type="samples", alternative="two-sided",
                                     n_resamples=np.inf)
        assert r.p_value == pytest.approx(ref.pvalue, abs=1e-12)


def check_sign_flip_interval_inverts_the_test(confidence_level: float = 0.95) -> None:
    rng = np.random.default_rng(5)
    alpha = 1 - confidence_level
    for d in (rng.normal(0.8, 1.0, 11), rng.integers(-2, 5, 12).astype(float)):
        r = sign_flip_test(d, confidence_level=0.95)
        step = 1e-6 * (1 + np.ptp(d))
        assert brute_sign_flip_p(d, r.ci_low + step) > alpha >= brute_sign_flip_p(d, r.ci_low - step)
        assert brute_sign_flip_p(d, r.ci_high - step) > alpha >= brute_sign_flip_p(d, r.ci_high + step)


def check_monte_carlo_p(n_resamples: int = 999) -> None:
    """Monte Carlo p = (1 + hits) / (1 + B): a difference no random sign vector matches gets exactly 1 / (1 + B)."""
    d = np.linspace(1.0, 2.0, 20)  # every difference positive: only all-(+1) / all-(-1) vectors tie
    r = sign_flip_test(d, n_resamples=n_resamples)
    assert not r.exact and r.n_resamples == n_resamples
    assert r.p_value == pytest.approx(1 / (1 + n_resamples))
    params = [1, 2, 3, 5, 8, 13, 21, 34, 55]  # no two models alike: no permutation but identity leaves b alone
    b = params_similarity(params)
    res = rsa(b, b, n_permutations=n_resamples, seed=0)
    assert not res.exact and res.p_value == pytest.approx(1 / (1 + n_resamples))


def check_rsa_matches_enumeration() -> None:
    rng = np.random.default_rng(2)
    params = [1, 2, 3, 5, 8, 13]
    fam = [0, 1, 1, 2, 2, 2]  # families of 1, 2 and 3 models: ties in the model matrix
    cases = [(symmetric(rng, 5), params_similarity(params[:5])),
             (params_similarity(params[:6]) + 0.3 * symmetric(rng, 6), params_similarity(params[:6])),
             (symmetric(rng, 6), np.array([[float(fam[i] == fam[j]) for j in range(6)] for i in range(6)]))]
    for k, (a, b) in enumerate(cases):
        r = rsa(a, b, n_permutations=10_000)
        assert r.exact
        assert r.statistic == pytest.approx(stats.spearmanr(upper(a), upper(b)).statistic)
        assert r.p_value == pytest.approx(brute_rsa_p(a, b), abs=1e-12)
        if k == 0:  # and scipy's own permutation test, over the 5! relabellings
            ref = stats.permutation_test(
                (np.arange(len(a)),), lambda i: stats.spearmanr(upper(a), upper(b[np.ix_(i, i)])).statistic,
                permutation_type="pairings", alternative="greater", n_resamples=np.inf)
            assert r.p_value == pytest.approx(ref.pvalue, abs=1e-12)


def check_interval_coverage(confidence_level: float = 0.95, n_sims: int = 1000) -> None:
    """Coverage of the sign-flip interval for a known mean, over symmetric differences (normal, t3, uniform)."""
    rng = np.random.default_rng(2024)
    hit = 0
    for i in range(n_sims):
        true = rng.uniform(-20, 20)
        n = 12
        noise = (rng.normal(size=n), rng.standard_t(3, size=n), rng.uniform(-1, 1, size=n))[i % 3]
        d = true + 10 * noise
        r = sign_flip_test(d, confidence_level=confidence_level, seed=i)
        hit += r.ci_low <= true <= r.ci_high
    lo, hi = binomial_band(n_sims, 0.95)
    assert lo <= hit / n_sims <= hi, hit / n_sims


# ---------------------------------------------------------------------------------------------------- sign flips


def test_sign_flip_p_matches_enumeration_and_scipy():
    check_sign_flip_matches_enumeration()


def test_sign_flip_p_is_two_sided():
    d = np.array([1.5, 0.7, -0.2, 2.2, 0.9, 1.1, -0.4, 1.8])
    assert sign_flip_test(d).p_value == sign_flip_test(-d).p_value == pytest.approx(brute_sign_flip_p(d))
    one_sided = stats.permutation_test((d,), np.mean, permutation_type="samples", alternative="greater",
                                       n_resamples=np.inf).pvalue
    assert sign_flip_test(d).p_value == pytest.approx(min(1.0, 2 * one_sided))  # symmetric null: twice one tail


def test_sign_flip_interval_inverts_the_test_and_agrees_with_p():
    check_sign_flip_interval_inverts_the_test()
    rng = np.random.default_rng(9)
    for i in range(300):  # ties (integers), small n, Monte Carlo n: the interval excludes 0 iff p <= alpha
        n = int(rng.integers(6, 20))
        d = rng.integers(-4, 7, n).astype(float) if i % 2 else rng.normal(rng.uniform(-1, 1), 1, n)
        r = sign_flip_test(d, n_resamples=2000, seed=i)
        assert (r.ci_low > 0 or r.ci_high < 0) == (r.p_value <= ALPHA), (d, r)


def test_monte_carlo_p_counts_the_observed_arrangement():
    check_monte_carlo_p()
    # against the exact p of n = 14 (16,384 vectors, enumerated here by hand) within Monte Carlo error
    rng = np.random.default_rng(4)
    d = rng.normal(0.45, 1.0, 14)
    exact = brute_sign_flip_p(d)
    r = sign_flip_test(d, n_resamples=9999, seed=1)
    assert not r.exact and abs(r.p_value - exact) < 4 * np.sqrt(exact * (1 - exact) / 9999) + 1e-4
    assert (r.p_value * (1 + 9999)) == pytest.approx(round(r.p_value * (1 + 9999)))  # (1 + hits) / (1 + B)


def test_smallest_attainable_p_and_too_few_pairs():
    r5 = sign_flip_test([3.0, 4.0, 5.0, 6.0, 7.0])
    assert r5.p_min == pytest.approx(2 / 32) and r5.p_value == pytest.approx(2 / 32)
    assert r5.ci_low is None and r5.ci_high is None and "smallest attainable p is 0.0625" in r5.reason
    r6 = sign_flip_test([3.0, 4.0, 5.0, 6.0, 7.0, 8.0])
    assert r6.p_min == pytest.approx(2 / 64) and r6.ci_low is not None and r6.ci_low > 0
    one = sign_flip_test([1.0])
    assert one.mean == 1.0 and one.p_value is None and "at least 2" in one.reason
    const = sign_flip_test(np.full(8, 2.5))
    assert const.ci_low == const.ci_high == 2.5 and const.p_value == pytest.approx(2 / 256)


def test_interval_coverage_on_simulated_data():
    check_interval_coverage()


def test_interval_coverage_monte_carlo_path():
    rng = np.random.default_rng(77)
    n_sims, hit = 500, 0
    for i in range(n_sims):
        true = rng.normal(0, 5)
        d = true + rng.logistic(size=18)  # 2^18 > 999: random sign vectors
        r = sign_flip_test(d, n_resamples=999, seed=i)
        assert not r.exact
        hit += r.ci_low <= true <= r.ci_high
    lo, hi = binomial_band(n_sims, 0.95)
    assert lo <= hit / n_sims <= hi


def test_confidence_level_is_the_one_asked():
    d = np.random.default_rng(1).normal(0.2, 1, 12)
    r95, r80 = sign_flip_test(d, confidence_level=0.95), sign_flip_test(d, confidence_level=0.80)
    assert r80.ci_low > r95.ci_low and r80.ci_high < r95.ci_high
    step = 1e-7
    assert brute_sign_flip_p(d, r80.ci_low + step) > 0.2 >= brute_sign_flip_p(d, r80.ci_low - step)


def test_holm_against_hand_computation():
    p = [0.01, 0.04, 0.03, 0.005, None, 0.5]
    got = holm(p)
    want = hand_holm([0.01, 0.04, 0.03, 0.005, 0.5])
    assert got[4] is None
    assert [g for g in got if g is not None] == pytest.approx(want)
    assert want == pytest.approx([0.04, 0.09, 0.09, 0.025, 0.5])


def test_permutation_p_formula():
    assert permutation_p(0, 999, exact=False) == pytest.approx(1 / 1000)
    assert permutation_p(10, 999, exact=False) == pytest.approx(11 / 1000)
    assert permutation_p(3, 120, exact=True) == pytest.approx(3 / 120)


# ---------------------------------------------------------------------------------------------------- RSA


def test_rsa_p_matches_enumeration_and_scipy():
    check_rsa_matches_enumeration()


def test_rsa_is_one_sided_and_reports_its_smallest_p():
    b = params_similarity([1, 2, 3, 5, 8, 13])
    opposite = -b  # ranks the pairs exactly the wrong way round
    assert rsa(opposite, b).p_value == pytest.approx(1.0)
    assert rsa(opposite, b, alternative="two-sided").p_value == pytest.approx(brute_rsa_p(opposite, b, "two"))
    perfect = rsa(b, b)
    assert perfect.p_min == pytest.approx(1 / 720) == perfect.p_value
    # two families of 2 and 3: the 2! * 3! relabellings inside families leave the matrix as it is
    fam = np.array([[float((i < 2) == (j < 2)) for j in range(5)] for i in range(5)])
    r = rsa(symmetric(np.random.default_rng(0), 5), fam)
    assert r.p_min == pytest.approx(2 * 6 / 120)
    assert r.p_value is None and r.statistic is not None and "too few models" in r.reason


def test_rsa_metrics_name_the_side_and_carry_p_min():
    from harness.analyses.heterogeneity import METRICS, rsa_against_facts

    tau = pd.DataFrame(params_similarity([1, 2, 3, 5, 8]), index=list("abcde"), columns=list("abcde"))
    facts = {m: {"base_family": "x" if m in "ab" else "y", "developer": m, "params": p, "rank": i}
             for i, (m, p) in enumerate(zip("abcde", [1, 2, 3, 5, 8]))}
    out = rsa_against_facts(tau, facts)
    assert out["rsa_params"]["p_min"] == pytest.approx(1 / 120) and out["rsa_params"]["p_value"] == pytest.approx(1 / 120)
    assert out["rsa_same_base"]["p_value"] is None and out["rsa_same_base"]["p_min"] > ALPHA
    assert "rsa_params_p_min" in METRICS and "one-sided" not in METRICS["rsa_params_p"][1].lower()  # filled in at use
    from harness.analyses.heterogeneity import _m

    assert "One-sided (greater" in _m("rsa_params_p", 0.1).definition


# ---------------------------------------------------------------------------------------------------- identity


def paired_vocab(n_terms=12, shift=-3.0, spread=30.0, seed=0, tmp=None):
    """A term list whose terms sit `shift` percentile points from their own controls, while pairs spread widely
    along the ranking (what frequency matching is for): paired inference sees the shift, unpaired cannot."""
    rng = np.random.default_rng(seed)
    lines = ["axis: toy", "terms:"]
    n_filler = 4000
    filler = rng.uniform(0, 100, n_filler)
    decoded = [f"f{i}" for i in range(n_filler)]
    scores = list(filler)
    for i in range(n_terms):
        level = 50 + rng.uniform(-spread, spread)
        lines.append(f"  - {{term: T{i}, controls: [Ca{i}, Cb{i}]}}")
        decoded += [f" T{i}", f" Ca{i}", f" Cb{i}"]
        scores += [level + shift + rng.normal(0, 0.5), level + rng.normal(0, 0.5), level + rng.normal(0, 0.5)]
    path = Path(tmp) / "toy.yaml"
    path.write_text("\n".join(lines) + "\n")
    return make_table(decoded, scores), path


def test_paired_gap_equals_its_definition_and_uses_the_pairing(tmp_path):
    df, lst = paired_vocab(tmp=tmp_path)
    res = identity_bias({"m": {"best": df}}, lists_path=str(lst))
    m = res.metrics
    pct = 100 * (stats.rankdata(df["score"]) - 1) / (len(df) - 1)
    by = dict(zip(df["decoded"], pct))
    d = np.array([by[f" T{i}"] - (by[f" Ca{i}"] + by[f" Cb{i}"]) / 2 for i in range(12)])
    assert m["best/toy/percentile_gap"].value == pytest.approx(d.mean())
    assert m["best/toy/term_percentile"].value - m["best/toy/control_percentile"].value == pytest.approx(d.mean())
    ref = sign_flip_test(d)
    assert m["best/toy/gap_p_value"].value == pytest.approx(ref.p_value)
    assert (m["best/toy/gap_ci_low"].value, m["best/toy/gap_ci_high"].value) == pytest.approx((ref.ci_low, ref.ci_high))
    assert m["best/toy/gap_p_value"].value <= 2 / 4096 * 2  # every term below its own controls
    # an unpaired test on the same percentiles sees nothing: the pairs' spread swamps the shift
    terms = [by[f" T{i}"] for i in range(12)]
    controls = [by[f" C{k}{i}"] for i in range(12) for k in "ab"]
    unpaired = stats.mannwhitneyu(terms, controls).pvalue
    assert unpaired > 0.2
    assert m["best/toy/n_pairs"].value == 12 and m["best/toy/low_n"].value == 0


def test_holm_family_is_every_gap_test_of_the_model(tmp_path):
    df, lst = paired_vocab(tmp=tmp_path)
    other, _ = paired_vocab(shift=0.0, seed=3, tmp=tmp_path / "..")
    tables = {"m": {"best": df, "worst": other, "greatest": df}, "n": {"best": other}}
    res = identity_bias(tables, lists_path=str(lst))
    m = res.metrics
    keys = [k for k in m if k.startswith("m/") and k.endswith("/gap_p_value")]
    assert len(keys) == 6  # 3 prompts x (toy axis + pooled)
    raw = [m[k].value for k in keys]
    for k, want in zip(keys, hand_holm(raw)):
        assert m[k.replace("gap_p_value", "gap_p_holm")].value == pytest.approx(want)
    # another model is another family: its one prompt has two tests of its own
    n_keys = [k for k in m if k.startswith("n/") and k.endswith("/gap_p_value")]
    for k, want in zip(n_keys, hand_holm([m[k].value for k in n_keys])):
        assert m[k.replace("gap_p_value", "gap_p_holm")].value == pytest.approx(want)


def test_bottom_rate_and_bottom_share_differ_as_defined(tmp_path):
    """1,000 rows; the bottom 1% is the 10 lowest. 4 of the 8 identity tokens are among them: the rate of identity
    tokens in the bottom is 4/8, the share of the bottom that is identity tokens 4/10."""
    lst = tmp_path / "t.yaml"
    lst.write_text("axis: toy\nterms:\n" + "".join(f"  - {{term: T{i}, controls: [C{i}]}}\n" for i in range(8)))
    decoded = [f" T{i}" for i in range(8)] + [f" C{i}" for i in range(8)] + [f"f{i}" for i in range(984)]
    # bottom 10: T0-T3, C0 and the 5 lowest fillers; the other terms and controls are at the top
    scores = [0, 1, 2, 3, 5000, 5001, 5002, 5003] + [4, 5004, 5005, 5006, 5007, 5008, 5009, 5010] + \
        list(range(10, 994))
    res = identity_bias({"m": {"best": make_table(decoded, scores)}}, lists_path=str(lst), n_resamples=999)
    m = res.metrics
    assert res.data["tables"]["best"]["n_bottom"] == 10  # percentile <= 1: rank <= 1 + 0.01 * 999
    assert m["best/toy/term_bottom_rate"].value == pytest.approx(4 / 8)
    assert m["best/toy/control_bottom_rate"].value == pytest.approx(1 / 8)
    assert m["best/toy/bottom_identity_share"].value == pytest.approx(4 / 10)


def test_controls_are_looked_up_in_the_casings_their_term_was_found_in(tmp_path):
    lst = tmp_path / "t.yaml"
    lst.write_text("axis: toy\nterms:\n  - {term: atheist, variants: [atheist, Atheist], controls: [attic]}\n"
                   "  - {term: deaf, variants: [deaf, Deaf], controls: [oval]}\n")
    decoded = [f"f{i}" for i in range(100)] + [" atheist", "Atheist", " attic", " Attic", " deaf", " oval", " Oval"]
    scores = list(range(100)) + [10.5, 20.5, 30.5, 40.5, 50.5, 60.5, 70.5]
    res = identity_bias({"m": {"best": make_table(decoded, scores)}}, lists_path=str(lst), n_resamples=999)
    det = res.data["tables"]["best"]
    pct = {r["decoded"]: r["percentile"] for t in det["terms"] for r in t["rows"]}
    pct |= {r["decoded"]: r["percentile"] for c in det["controls"] for r in c["rows"]}
    terms = {t["term"]: t for t in det["terms"]}
    # atheist was found in both casings, so attic is too; deaf only lower case, so " Oval" is not used
    assert terms["atheist"]["casings"] == ["as written", "capitalised"]
    assert terms["atheist"]["control_percentile"] == pytest.approx((pct[" attic"] + pct[" Attic"]) / 2)
    assert terms["deaf"]["casings"] == ["as written"]
    assert terms["deaf"]["control_percentile"] == pytest.approx(pct[" oval"])
    assert " Oval" not in pct


def test_percentile_base_leaves_special_tokens_out_and_says_so(tmp_path):
    lst = tmp_path / "t.yaml"
    lst.write_text("axis: toy\nterms:\n  - {term: T, controls: [C]}\n")
    decoded = ["<s>", "</s>", " T", " C"] + [f"f{i}" for i in range(96)]
    scores = [-50.0, 999.0, 10.0, 20.0] + [float(i) for i in range(96)]
    special = [True, True] + [False] * 98
    df = make_table(decoded, scores, special=special)
    res = identity_bias({"m": {"best": df}}, lists_path=str(lst), n_resamples=999)
    keep = ~np.array(special)
    base = np.array(scores)[keep]
    want = 100 * (stats.rankdata(base)[0] - 1) / (len(base) - 1)  # " T" is the first non-special row
    assert res.metrics["best/term_percentile"].value == pytest.approx(want)
    assert res.data["tables"]["best"]["n_scored"] == 98 and "special=false" in res.data["percentile_base"]
    assert "special=false" in res.metrics["best/term_percentile"].definition
    every = identity_bias({"m": {"best": df}}, lists_path=str(lst), n_resamples=999, filters={})
    assert every.data["tables"]["best"]["n_scored"] == 100
    assert every.metrics["best/term_percentile"].value != pytest.approx(want)


def test_low_n_axes_are_marked(tmp_path):
    df, lst = paired_vocab(n_terms=9, tmp=tmp_path)
    m = identity_bias({"m": {"best": df}}, lists_path=str(lst)).metrics
    assert m["best/toy/low_n"].value == 1 and m["best/toy/n_pairs"].value == 9


def test_definitions_state_method_level_resamples_and_unit(tmp_path):
    df, lst = paired_vocab(tmp=tmp_path)
    m = identity_bias({"m": {"best": df}}, lists_path=str(lst), n_resamples=4999, seed=3).metrics
    ci = m["best/toy/gap_ci_low"].definition
    for words in ("95%", "sign-flip", "4999", "seed 3", "term", "invert"):
        assert words in ci, words
    assert "two-sided" in m["best/toy/gap_p_value"].definition
    assert "Holm" in m["best/toy/gap_p_holm"].definition
    assert "bottom 1%" in m["best/toy/term_bottom_rate"].definition
    assert "{" not in "".join(v.definition for v in m.values())  # every placeholder filled
    assert set(k.split("/")[-1] for k in m) <= set(ID_METRICS)


# ---------------------------------------------------------------------------------------------------- frequency


def frequency_words(n=300, beta=0.5, seed=0, hetero=True):
    rng = np.random.default_rng(seed)
    x = rng.normal(-9, 2, n)
    afinn = rng.integers(-5, 6, n).astype(float)
    sd = 0.3 + (np.abs(x + 9) ** 2 if hetero else 1.0)
    y = 1.0 + beta * x + 0.2 * afinn + rng.normal(0, 1, n) * sd
    return pd.DataFrame({"log_freq": x, "afinn": afinn, "score": y})


def check_frequency_inference(words: pd.DataFrame) -> None:
    """HC3 sandwich written out, t with n - 3 df, and the standardised coefficient as the OLS slope of z-scores."""
    fit = fb.fit_frequency(words)
    X = np.column_stack([np.ones(len(words)), words["log_freq"], words["afinn"]])
    y = words["score"].to_numpy(float)
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    e = y - X @ beta
    bread = np.linalg.inv(X.T @ X)
    h = np.einsum("ij,jk,ik->i", X, bread, X)
    meat = X.T @ (X * (e**2 / (1 - h) ** 2)[:, None])
    se = np.sqrt(np.diag(bread @ meat @ bread))
    df = len(y) - 3
    t = stats.t.ppf(0.975, df)
    assert fit["log_freq_coef"] == pytest.approx(beta[1]) and fit["intercept"] == pytest.approx(beta[0])
    assert fit["afinn_coef"] == pytest.approx(beta[2]) and fit["se_type"] == "HC3"
    assert fit["log_freq_se"] == pytest.approx(se[1], rel=1e-9)
    assert fit["afinn_se"] == pytest.approx(se[2], rel=1e-9)
    assert (fit["log_freq_ci_low"], fit["log_freq_ci_high"]) == pytest.approx((beta[1] - t * se[1], beta[1] + t * se[1]))
    assert fit["log_freq_p"] == pytest.approx(2 * stats.t.sf(abs(beta[1] / se[1]), df))
    z = lambda v: (v - v.mean()) / v.std(ddof=1)  # noqa: E731
    Z = np.column_stack([np.ones(len(y)), z(words["log_freq"].to_numpy(float)), words["afinn"]])
    std_beta = np.linalg.lstsq(Z, z(y), rcond=None)[0][1]
    assert fit["log_freq_beta"] == pytest.approx(std_beta)
    assert fit["log_freq_beta_ci_low"] / fit["log_freq_ci_low"] == pytest.approx(std_beta / beta[1])
    assert fit["log_freq_beta_ci_high"] / fit["log_freq_ci_high"] == pytest.approx(std_beta / beta[1])


def check_frequency_coverage(n_sims: int = 500) -> None:
    """Coverage of the 95% interval of the log-frequency coefficient under strong heteroskedasticity."""
    hit = 0
    for i in range(n_sims):
        fit = fb.fit_frequency(frequency_words(n=120, seed=1000 + i))
        hit += fit["log_freq_ci_low"] <= 0.5 <= fit["log_freq_ci_high"]
    lo, hi = binomial_band(n_sims, 0.95)
    assert lo <= hit / n_sims <= hi, hit / n_sims


def test_frequency_inference_against_hand_computation():
    check_frequency_inference(frequency_words())
    check_frequency_inference(frequency_words(hetero=False, seed=3))


def test_frequency_interval_coverage_under_heteroskedasticity():
    check_frequency_coverage()


def test_ordinary_standard_errors_would_fail_the_coverage_check(monkeypatch):
    monkeypatch.setattr(fb, "SE_TYPE", "nonrobust")
    with pytest.raises(AssertionError):
        check_frequency_coverage(n_sims=200)


# ---------------------------------------------------------------------------------------------------- human agreement


def test_human_agreement_correlations_match_scipy_with_ties(tmp_path):
    from harness.analyses.human_agreement import human_agreement

    rng = np.random.default_rng(8)
    n = 60
    items = [f"thing {i}" for i in range(n)]
    elo = np.round(rng.normal(1000, 100, n), -1)  # ties in the Elo
    score = np.round(0.01 * elo + rng.normal(0, 1, n))  # and in the scores
    csv = tmp_path / "elo.csv"
    pd.DataFrame({"elo_rank": range(1, n + 1), "elo_score": elo, "name": items, "elo_matches": 10}).to_csv(csv)
    df = make_table([f"x{i}" for i in range(n)], score, items=items)
    m = human_agreement({"a": {"greatest_ever": df}}, elo_path=str(csv)).metrics
    assert m["greatest_ever/spearman"].value == pytest.approx(stats.spearmanr(score, elo).statistic)
    assert m["greatest_ever/kendall_tau"].value == pytest.approx(stats.kendalltau(score, elo, variant="b").statistic)


# ---------------------------------------------------------------------------------------------------- the mutants


def test_mutant_permutation_p_without_plus_one_is_caught(monkeypatch):
    def no_plus_one(hits, n, exact):
        h = np.asarray(hits, float)
        out = h / n
        return float(out) if out.ndim == 0 else out

    monkeypatch.setattr(rank_stats, "permutation_p", no_plus_one)
    with pytest.raises(AssertionError):
        check_monte_carlo_p()


def test_mutant_mantel_permuting_only_rows_is_caught(monkeypatch):
    def rows_only(rank_mat, perms, iu, ju):
        return rank_mat[perms[:, iu], ju[None, :]]

    monkeypatch.setattr(rank_stats, "_joint_permuted", rows_only)
    with pytest.raises(AssertionError):
        check_rsa_matches_enumeration()


def test_mutant_one_sided_identity_test_is_caught(monkeypatch):
    real = rank_stats.extreme

    def one_sided(null, observed, alternative):
        return real(null, observed, "greater" if alternative == "two-sided" else alternative)

    monkeypatch.setattr(rank_stats, "extreme", one_sided)
    with pytest.raises(AssertionError):
        check_sign_flip_matches_enumeration()


def test_mutant_interval_at_80_percent_is_caught(monkeypatch):
    real = rank_stats.sign_flip_interval

    def at_80(d, signs, exact, alpha):
        return real(d, signs, exact, 0.20)

    monkeypatch.setattr(rank_stats, "sign_flip_interval", at_80)
    with pytest.raises(AssertionError):
        check_sign_flip_interval_inverts_the_test()
    with pytest.raises(AssertionError):
        check_interval_coverage(n_sims=500)


# ---------------------------------------------------------------------------------------------------- boundaries
# Each pins a comparison at its boundary, where `<` and `<=` (or a neighbouring constant) give different answers.


def test_sign_flip_boundaries():
    d12 = np.random.default_rng(3).normal(size=12)
    assert sign_flip_test(d12, n_resamples=4096).exact and not sign_flip_test(d12, n_resamples=4095).exact
    # a test rejects at p <= alpha: with 5 differences the smallest p is 2/32 = 0.0625, so at level 1 - 0.0625
    # the interval exists (and excludes 0 for all-positive differences), at any level above it does not
    d5 = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    at = sign_flip_test(d5, confidence_level=1 - 2 / 32)
    assert at.p_value == at.p_min == 2 / 32 and at.ci_low is not None and at.ci_low > 0
    assert sign_flip_test(d5, confidence_level=1 - 1 / 32).ci_low is None
    two = sign_flip_test([1.0, 2.0])
    assert two.p_value == pytest.approx(2 / 4) and two.ci_low is None and two.n == 2
    assert sign_flip_test([]).mean is None and sign_flip_test([]).reason == "no differences"
    with pytest.raises(ValueError, match="confidence_level"):
        sign_flip_test(d5, confidence_level=1.0)


def test_rsa_boundaries():
    b = params_similarity([1, 2, 3, 5, 8])
    assert rsa(b, b, n_permutations=120).exact and not rsa(b, b, n_permutations=119).exact
    # three models of one size and two others: 3! of the 5! relabellings tie, so a perfect match gives exactly 0.05
    f = params_similarity([1, 1, 1, 5, 20])
    r = rsa(f, f)
    assert r.p_min == r.p_value == 6 / 120 == ALPHA  # p <= alpha can reject: reported, not withheld
    rng = np.random.default_rng(6)
    a = symmetric(rng, 6)
    b6 = params_similarity([1, 2, 3, 5, 8, 13])
    less = rsa(a, b6, alternative="less")
    assert less.p_value == pytest.approx(brute_rsa_p(-a, b6))  # "less" for a is "greater" for -a
    assert rsa(-b6, b6, alternative="less").p_min == pytest.approx(1 / 720)
    assert rsa(a, b6, alternative="two-sided").p_value == pytest.approx(brute_rsa_p(a, b6, "two"))
    with pytest.raises(ValueError, match="alternative"):
        rsa(a, b6, alternative="bigger")
    assert rsa(a[:2, :2], b6[:2, :2]).reason == "needs at least 3 models, got 2"
    for x, y in ((np.eye(3), np.eye(4)), (np.eye(4), np.ones((4, 3)))):
        with pytest.raises(ValueError, match=r"need two square matrices of the same size, got \(\d, \d\) and"):
            rsa(x, y)
    # defaults: 10,000 random permutations with seed 0 beyond 7 models
    b9 = params_similarity([1, 2, 3, 5, 8, 13, 21, 34, 55])
    a9 = b9 + symmetric(np.random.default_rng(2), 9)
    default = rsa(a9, b9)
    assert default.n_permutations == 10_000 and not default.exact
    assert default.p_value == rsa(a9, b9, n_permutations=10_000, seed=0).p_value
    assert default.p_value != rsa(a9, b9, n_permutations=10_000, seed=1).p_value


def test_identity_low_n_and_bottom_boundaries(tmp_path):
    df, lst = paired_vocab(n_terms=10, tmp=tmp_path)
    m = identity_bias({"m": {"best": df}}, lists_path=str(lst)).metrics
    assert m["best/toy/n_pairs"].value == 10 and m["best/toy/n_controls_found"].value == 20
    assert m["best/toy/low_n"].value == 0  # 10 pairs and 20 controls: not low
    few = tmp_path / "few.yaml"  # 10 terms sharing two controls: enough pairs, too few control words
    few.write_text("axis: few\nterms:\n" + "".join(f"  - {{term: T{i}, controls: [Ca0, Cb0]}}\n" for i in range(10)))
    m = identity_bias({"m": {"best": df}}, lists_path=str(few)).metrics
    assert m["best/few/n_pairs"].value == 10 and m["best/few/n_controls_found"].value == 2
    assert m["best/few/low_n"].value == 1
    # 101 rows: percentiles are whole numbers, and a term exactly at percentile 1 is in the bottom 1%
    lst1 = tmp_path / "one.yaml"
    lst1.write_text("axis: one\nterms:\n  - {term: T, controls: [C]}\n")
    rows = [" low", " T", " C"] + [f"f{i}" for i in range(98)]
    res = identity_bias({"m": {"best": make_table(rows, [0.0, 1.0, 50.0] + list(range(100, 198)))}},
                        lists_path=str(lst1), n_resamples=999)
    assert res.data["tables"]["best"]["terms"][0]["percentile"] == 1.0
    assert res.metrics["best/one/term_bottom_rate"].value == 1.0
    assert res.metrics["best/one/bottom_identity_share"].value == pytest.approx(1 / 2)  # " low" and " T"


def test_every_casing_of_a_term_is_mirrored_in_its_controls(tmp_path):
    lst = tmp_path / "t.yaml"
    lst.write_text("axis: toy\nterms:\n  - {term: Muslims, variants: [Muslims, muslims, MUSLIMS], controls: [Clients]}\n"
                   "  - {term: Jew, variants: [Jew, Hebrew], controls: [Candle]}\n")
    decoded = [f"f{i}" for i in range(50)] + [" Muslims", " muslims", " MUSLIMS", " Clients", " clients", " CLIENTS",
                                              " Jew", " Hebrew", " Candle"]
    scores = list(range(50)) + [5.5, 15.5, 25.5, 35.5, 45.5, 48.5, 10.5, 30.5, 40.5]
    res = identity_bias({"m": {"best": make_table(decoded, scores)}}, lists_path=str(lst), n_resamples=999)
    det = res.data["tables"]["best"]
    terms = {t["term"]: t for t in det["terms"]}
    assert terms["Muslims"]["casings"] == ["as written", "lower", "upper"]
    assert terms["Muslims"]["controls"][0]["forms"] == ["Clients", "clients", "CLIENTS"]
    assert terms["Jew"]["casings"] == ["as written"]  # another spelling is not a casing: the control as written
    assert terms["Jew"]["controls"][0]["forms"] == ["Candle"]
    pct = {r["decoded"]: r["percentile"] for c in det["controls"] for r in c["rows"]}
    assert terms["Muslims"]["control_percentile"] == pytest.approx(np.mean([pct[" Clients"], pct[" clients"],
                                                                             pct[" CLIENTS"]]))


def test_human_agreement_constant_sides_and_common_items(tmp_path):
    from harness.analyses.human_agreement import human_agreement

    items = [f"i{k}" for k in range(6)]
    elo = [60, 50, 40, 30, 20, 10]  # i0 is the people's favourite
    csv = tmp_path / "elo.csv"
    pd.DataFrame({"elo_rank": range(6), "elo_score": elo, "name": items, "elo_matches": 1}).to_csv(csv)

    def run(scores_by_model):
        tabs = {m: {"p": make_table([f"x{k}" for k in range(6)], s, items=items)} for m, s in scores_by_model.items()}
        return human_agreement(tabs, elo_path=str(csv), top_n=6)

    const = run({"a": [1, 1, 1, 1, 1, 1]}).metrics["p/spearman"]
    assert const.value is None and const.missing_reason == "constant scores or Elo: correlation undefined"
    binary = run({"a": [0, 0, 0, 1, 1, 1]}).metrics  # a range of exactly 1 is not constant
    assert binary["p/spearman"].value == pytest.approx(stats.spearmanr([0, 0, 0, 1, 1, 1], elo).statistic)
    flat_elo = tmp_path / "flat.csv"
    pd.DataFrame({"elo_rank": range(6), "elo_score": 7, "name": items, "elo_matches": 1}).to_csv(flat_elo)
    tabs = {"a": {"p": make_table([f"x{k}" for k in range(6)], [1, 2, 3, 4, 5, 6], items=items)}}
    assert human_agreement(tabs, elo_path=str(flat_elo)).metrics["p/spearman"].value is None
    two_level = tmp_path / "two.csv"  # an Elo whose range is exactly 1 is not constant either
    pd.DataFrame({"elo_rank": range(6), "elo_score": [1, 1, 1, 2, 2, 2], "name": items, "elo_matches": 1}).to_csv(
        two_level)
    got = human_agreement(tabs, elo_path=str(two_level)).metrics["p/spearman"].value
    assert got == pytest.approx(stats.spearmanr([1, 2, 3, 4, 5, 6], [1, 1, 1, 2, 2, 2]).statistic)
    three = run({"a": [3, 1, 2, np.nan, np.nan, np.nan]}).metrics["p/spearman"]
    assert three.value == pytest.approx(stats.spearmanr([3, 1, 2], elo[:3]).statistic)  # 3 items are enough
    # the consensus is over the items every model scored: b has no score for i0, c none for i5
    res = run({"a": [1, 2, 3, 4, 5, 6], "b": [np.nan, 2, 3, 6, 4, 5], "c": [2, 1, 3, 4, 5, np.nan]})
    d = res.data["prompts"]["p"]
    assert d["n_common_items"] == 4
    rows = {r["item"]: r for r in d["overvalued"] + d["undervalued"]}
    assert rows["i4"]["model_ranks"] == {"a": 1.0, "b": 2.0, "c": 1.0}  # ranks among the 4 common items
    assert rows["i4"]["median_model_rank"] == 1.0 and rows["i4"]["human_rank"] == 4.0


def test_percentile_ranks_edges():
    from harness.analyses.rank_stats import percentile_ranks

    one = percentile_ranks([np.nan, 3.0, np.inf])
    assert np.isnan(one[0]) and one[1] == 50.0 and np.isnan(one[2])
    assert np.isnan(percentile_ranks([np.nan, -np.inf])).all() and percentile_ranks([]).shape == (0,)
    x = np.array([5.0, 1.0, 3.0, 3.0, np.nan, 9.0])
    fin = np.isfinite(x)
    want = 100 * (stats.rankdata(x[fin]) - 1) / (fin.sum() - 1)
    got = percentile_ranks(x)
    assert np.allclose(got[fin], want) and np.isnan(got[~fin]).all()


def test_rsa_against_facts_entries_and_similarity_matrices():
    from harness.analyses.heterogeneity import rsa_against_facts, similarity_matrix

    models = [f"m{i}" for i in range(8)]
    params = [1, 2, 3, 5, 8, 13, 21, 34]
    tau = pd.DataFrame(params_similarity(params) + 0.05 * symmetric(np.random.default_rng(1), 8),
                       index=models, columns=models)
    facts = {m: {"base_family": "A" if i < 4 else "B", "developer": f"d{i % 3}", "params": str(p), "rank": i + 1}
             for i, (m, p) in enumerate(zip(models, params))}  # numbers as text (as YAML may give them)
    kept, sim, excluded = similarity_matrix(models, facts, "params", "inverse_distance")
    assert kept == models and excluded == {}
    assert np.allclose(sim, params_similarity(params))  # exactly 1 / (1 + |params_i - params_j|)
    fam = similarity_matrix(models, facts, "base_family", "same")[1]
    assert np.array_equal(fam, [[float((i < 4) == (j < 4)) for j in range(8)] for i in range(8)])
    odd = {**facts, "m1": {"params": "big"}, "m2": {"params": float("inf")}, "m3": {}}
    kept, sim, excluded = similarity_matrix(models, odd, "params", "inverse_distance")
    assert excluded == {"m1": "'params' is not a number: 'big'", "m2": "'params' is not finite",
                        "m3": "no 'params' fact"}
    assert kept == ["m0", "m4", "m5", "m6", "m7"]  # the models after a bad one are still read
    # defaults: 10,000 seeded permutations (seed 0), one-sided greater
    out = rsa_against_facts(tau, facts)
    entry = out["rsa_params"]
    ref = rsa(tau.to_numpy(), params_similarity(params), n_permutations=10_000, seed=0)
    assert entry["n_permutations"] == 10_000 and entry["exact"] is False and entry["alternative"] == "greater"
    assert entry["p_value"] == ref.p_value and entry["p_min"] == ref.p_min and entry["rho"] == ref.statistic
    assert set(entry) == {"fact", "models", "excluded", "similarity", "n_permutations", "exact", "p_min",
                          "alternative", "rho", "p_value", "reason"}
    # arguments are passed through
    two = rsa_against_facts(tau, facts, n_permutations=999, seed=4, alternative="two-sided")["rsa_params"]
    ref = rsa(tau.to_numpy(), params_similarity(params), n_permutations=999, seed=4, alternative="two-sided")
    assert two["n_permutations"] == 999 and two["p_value"] == ref.p_value and two["alternative"] == "two-sided"
    # exactly three models with the fact are enough; two are not, and the reason names who lacks it
    three = {m: ({"params": p} if i < 3 else {}) for i, (m, p) in enumerate(zip(models, params))}
    got = rsa_against_facts(tau, three)["rsa_params"]
    assert got["models"] == ["m0", "m1", "m2"] and got["rho"] is not None
    two_only = {m: ({"params": p} if i < 2 else {}) for i, (m, p) in enumerate(zip(models, params))}
    got = rsa_against_facts(tau, two_only)["rsa_params"]
    assert got["rho"] is None and got["reason"] == (
        "needs at least 3 models with a 'params' fact, have 2 (lacking: m2, m3, m4, m5, m6, m7)")


def test_identity_gap_stats_pass_their_settings_and_say_why_when_undefined(tmp_path):
    from harness.analyses.identity_bias import _bottom, gap_stats

    rng = np.random.default_rng(12)
    t, c = rng.normal(40, 5, 20), rng.normal(45, 5, 20)  # 2^20 sign vectors: the random path, where seeds matter
    got = gap_stats(t, c, 999, 0.9, 7)
    ref = sign_flip_test(t - c, n_resamples=999, confidence_level=0.9, seed=7)
    assert (got["p_value"], got["ci_low"], got["ci_high"]) == (ref.p_value, ref.ci_low, ref.ci_high)
    assert got["n_resamples"] == 999 and got["exact"] is False and got["p_min"] == ref.p_min and got["reason"] is None
    one = gap_stats([50.0], [40.0], 999, 0.95, 0)
    assert one["gap"] == 10.0 and one["p_value"] is None and one["reason"] == "a test needs at least 2 differences, have 1"
    none = gap_stats([], [], 999, 0.95, 0)
    assert none["gap"] is None and none["reason"] == (
        "no identity term of this scope was found together with one of its controls")
    assert _bottom(set(), np.array([True, False])) is None and _bottom({1}, np.array([True, False])) == 0.0
    # the analysis passes its seed and resample count down (16 pairs: random sign vectors)
    df, lst = paired_vocab(n_terms=16, tmp=tmp_path)
    res = identity_bias({"m": {"best": df}}, lists_path=str(lst), n_resamples=999, seed=5)
    s = res.data["tables"]["best"]["axes"]["toy"]
    d = np.array(s["term_percentiles"]) - np.array(s["control_percentiles"])
    ref = sign_flip_test(d, n_resamples=999, seed=5)
    assert (s["p_value"], s["ci_low"], s["ci_high"]) == (ref.p_value, ref.ci_low, ref.ci_high)
    assert set(s) == {"term_percentile", "control_percentile", "gap", "ci_low", "ci_high", "p_value", "p_holm",
                      "p_min", "n_resamples_used", "exact", "gap_reason", "term_bottom_rate", "control_bottom_rate",
                      "bottom_identity_share", "n_bottom", "n_term_tokens", "n_control_tokens", "n_pairs",
                      "n_terms_found", "n_terms_missing", "n_controls_found", "low_n", "term_percentiles",
                      "control_percentiles"}
    assert s["n_resamples_used"] == 999 and s["exact"] is False and s["p_min"] == ref.p_min
    assert (s["n_term_tokens"], s["n_control_tokens"], s["n_bottom"]) == (16, 32, 41)  # bottom 1% of 4,048 rows


def test_identity_scopes_without_pairs_and_odd_tables(tmp_path):
    lst = tmp_path / "t.yaml"
    lst.write_text("axis: lonely\nterms:\n  - {term: T0, controls: [Nowhere]}\n")
    ten = tmp_path / "ten.yaml"  # ten terms with one control each: 10 pairs, 10 control words, not low n
    ten.write_text("axis: ten\nterms:\n" + "".join(f"  - {{term: T{i}, controls: [Ca{i}]}}\n" for i in range(10)))
    df, _ = paired_vocab(n_terms=10, tmp=tmp_path / "..")
    m = identity_bias({"m": {"best": df}}, lists_path=[str(lst), str(ten)]).metrics
    assert m["best/ten/n_pairs"].value == 10 and m["best/ten/n_controls_found"].value == 10
    assert m["best/ten/low_n"].value == 0
    # T0 is found but none of its controls: no pair, so no percentiles, gap or rates for the scope's pairs
    assert m["best/lonely/n_terms_found"].value == 1 and m["best/lonely/n_pairs"].value == 0
    for name in ("term_percentile", "control_percentile", "percentile_gap", "gap_p_value", "control_bottom_rate"):
        assert m[f"best/lonely/{name}"].value is None, name
    assert m["best/lonely/term_bottom_rate"].value is not None
    # ids come from the table's id column (or are row numbers without one); a non-numeric score is not finite
    rows = [" T0", " Ca0", " x", " y"]
    odd = make_table(rows, [1.0, 2.0, 3.0, 4.0], ids=[70, 71, 72, 73])
    res = identity_bias({"m": {"best": odd}}, lists_path=str(ten), n_resamples=99)
    assert res.data["tables"]["best"]["terms"][0]["rows"][0]["id"] == 70
    no_id = odd.drop(columns="id")
    no_id["score"] = pd.Series([1.0, "oops", 3.0, 4.0], dtype=object)
    res = identity_bias({"m": {"best": no_id}}, lists_path=str(ten), n_resamples=99)
    det = res.data["tables"]["best"]
    assert det["terms"][0]["rows"][0]["id"] == 0 and det["n_scored"] == 3
    assert {"axis": "ten", "control": "Ca0", "forms": ["Ca0"]} in det["missing_controls"]


def test_identity_item_tables_report_items(tmp_path):
    lst = tmp_path / "t.yaml"
    lst.write_text('axis: race\nterms:\n  - {term: "White people ", controls: [Short people]}\n'
                   "  - {term: Purple people, controls: [Tall people]}\n")
    items = [f"thing {i}" for i in range(50)] + ["White people", "Short people", "Tall people"]
    df = make_table([f"x{i}" for i in range(len(items))], list(range(50)) + [1.5, 40.5, 30.5], items=items,
                    ids=range(500, 553))
    res = identity_bias({"m": {"greatest_ever": df}}, lists_path=str(lst), n_resamples=99)
    det = res.data["tables"]["greatest_ever"]
    assert det["matched_on"] == "item"
    (term,) = det["terms"]  # "White people " matches the item "White people": surrounding whitespace ignored
    assert term["rows"] == [{"id": 550, "item": "White people", "score": 1.5,
                             "percentile": pytest.approx(100 * 2 / 52)}]
    assert det["missing"] == [{"axis": "race", "term": "Purple people", "reason": "no such item"}]


def test_undefined_results_are_complete_and_helpers_strict():
    from harness.analyses.rank_stats import RSAResult, extreme

    b4 = params_similarity([1, 2, 3, 5])
    assert rsa(np.eye(2), np.eye(2)) == RSAResult(None, None, 0, False, 2, "needs at least 3 models, got 2")
    nan = b4.copy()
    nan[0, 1] = nan[1, 0] = np.nan
    for x, y in ((nan, b4), (b4, nan)):
        assert rsa(x, y) == RSAResult(None, None, 0, False, 4, "a matrix has non-finite entries")
    const = RSAResult(None, None, 0, False, 4, "a matrix is constant off the diagonal (correlation undefined)")
    assert rsa(np.ones((4, 4)), b4) == const and rsa(b4, np.ones((4, 4))) == const
    two_valued = np.array([[float((i < 2) == (j < 2)) for j in range(4)] for i in range(4)])  # range exactly 1
    assert rsa(two_valued, b4).statistic is not None
    with pytest.raises(ValueError, match=r"^alternative must be one of two-sided, greater, less, got 'bogus'$"):
        extreme(np.zeros(2), 0.0, "bogus")
    assert type(permutation_p(3, 10, True)) is float and permutation_p(np.array([0, 9]), 9, False).shape == (2,)
