"""frequency_bias: a planted log-frequency coefficient is recovered (wordfreq and BNC); the BNC loader."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from harness.analyses import registry
from harness.lexicons import load_afinn111, load_bnc, wordfreq_frequency
from tables import SHARED_DATA
from tables import vocab_table as make_table

BNC = SHARED_DATA / "bnc" / "1_1_all_alpha.txt"
needs_bnc = pytest.mark.skipif(not BNC.is_file(), reason=f"BNC frequency list absent ({BNC}); shared data not here")




def planted_table(freq_of, coef=1.5, afinn_coef=0.3, noise=0.1, seed=5, decoys=True):
    """score = coef*ln(freq) + afinn_coef*afinn + noise over real AFINN words; decoy variants get junk scores."""
    lex = load_afinn111()
    rng = np.random.default_rng(seed)
    words = sorted(w for w in lex if w.isalpha() and freq_of(w) > 0)
    decoded, scores = [], []
    for w in words:
        decoded.append(" " + w)
        scores.append(coef * math.log(freq_of(w)) + afinn_coef * lex[w] + rng.normal(0, noise))
    if decoys:
        for w in words[::5]:
            decoded.append(w.capitalize())  # a second token decoding to the same word, must not count twice
            scores.append(rng.normal(0, 30))
    decoded += [" zzqxv", "<unk>", " the"]  # no AFINN entry: ignored
    scores += [100.0, np.nan, 50.0]
    return make_table(decoded, scores), len(words)


def test_wordfreq_coefficient_recovered():
    table, n_words = planted_table(wordfreq_frequency)
    res = registry.get("frequency_bias")({"m": {"best": table}})
    m = res.metrics
    assert m["best/n_words"].value == n_words
    assert m["best/log_freq_coef"].value == pytest.approx(1.5, abs=0.02)
    assert m["best/afinn_coef"].value == pytest.approx(0.3, abs=0.02)
    assert m["best/log_freq_ci_low"].value < 1.5 < m["best/log_freq_ci_high"].value
    assert m["best/log_freq_ci_low"].value == pytest.approx(
        m["best/log_freq_coef"].value - 1.96 * m["best/log_freq_se"].value, abs=1e-3)
    assert m["best/log_freq_p"].value < 1e-10
    json.dumps(res.data)
    assert "partial_regression" in res.figures


def test_zero_coefficient_is_not_significant():
    table, _ = planted_table(wordfreq_frequency, coef=0.0, noise=1.0, seed=9)
    m = registry.get("frequency_bias")({"m": {"worst": table}}).metrics
    assert abs(m["worst/log_freq_coef"].value) < 4 * m["worst/log_freq_se"].value
    assert m["worst/log_freq_ci_low"].value < 0 < m["worst/log_freq_ci_high"].value


def test_too_few_words_is_missing():
    table = make_table([" love", " hate", " good", " x"], [1.0, 2.0, 3.0, 4.0])
    m = registry.get("frequency_bias")({"m": {"best": table}}, min_words=10).metrics
    assert m["best/n_words"].value == 3
    for name in ("log_freq_coef", "log_freq_se", "log_freq_p", "afinn_coef"):
        assert m[f"best/{name}"].value is None
        assert "min_words" in m[f"best/{name}"].missing_reason


def test_unknown_source_and_missing_path():
    table = make_table([" love"], [1.0])
    with pytest.raises(ValueError, match="unknown frequency source"):
        registry.get("frequency_bias")({"m": {"best": table}}, source="google")
    with pytest.raises(ValueError, match="needs a path"):
        registry.get("frequency_bias")({"m": {"best": table}}, source="bnc")


@needs_bnc
def test_bnc_loader_on_real_file():
    forms = load_bnc(str(BNC))
    assert forms["love"] == 148 + 86  # noun form + verb form; the two lemma totals (150, 150) are skipped
    assert forms["loved"] == 46
    assert forms["the"] == 61847
    assert forms["worst"] == 46 and forms["zones"] == 12
    assert forms["bases"] == 12 + 1 + 3  # base (noun, "12#": '#' stripped) + base (verb) + basis: summed
    assert "lie (/lay)" not in forms and forms["lain"] == 3
    assert len(forms) > 10000
    heads = load_bnc(str(BNC), "headword")
    assert heads["love"] == 300 and "loved" not in heads
    with pytest.raises(ValueError, match="variants"):
        load_bnc(str(BNC), "lemmas")


@needs_bnc
def test_bnc_coefficient_recovered():
    forms = load_bnc(str(BNC))
    table, n_words = planted_table(lambda w: forms.get(w, 0.0), coef=0.8, afinn_coef=-0.4)
    res = registry.get("frequency_bias")({"m": {"best": table}}, source="bnc", path=str(BNC))
    m = res.metrics
    assert m["best/n_words"].value == n_words > 300
    assert m["best/log_freq_coef"].value == pytest.approx(0.8, abs=0.03)
    assert m["best/afinn_coef"].value == pytest.approx(-0.4, abs=0.03)
