"""distribution_tails: token classes and their shares in planted top/bottom tails."""

from __future__ import annotations

import json

import numpy as np
import pytest

from harness.analyses import registry
from harness.analyses.distribution_tails import CLASSES, classify
from tables import vocab_table as make_table




@pytest.mark.parametrize(
    "decoded, special, byte_fragment, expected",
    [
        (" love", False, False, "word"),
        ("LOVE", False, False, "word"),
        (" don't", False, False, "word"),
        (" well-being", False, False, "word"),
        ("<|eot_id|>", True, False, "special"),
        ("\ufffd", False, False, "byte_fragment"),
        ("\xe2", False, True, "byte_fragment"),
        (" любовь", False, False, "non_english"),
        ("愛", False, False, "non_english"),
        (" café", False, False, "non_english"),
        ("();", False, False, "code"),
        (" +=", False, False, "code"),
        ("x2", False, False, "code"),
        ("</", False, False, "code"),
        ("0.5", False, False, "code"),
        ("   ", False, False, "other"),
        ("", False, False, "other"),
        ("🙂", False, False, "other"),
        (" a b", False, False, "other"),
    ],
)
def test_classify(decoded, special, byte_fragment, expected):
    assert classify(decoded, special, byte_fragment) == expected


def test_planted_tail_shares():
    # top 10: 6 words, 3 code, 1 special; bottom 10: 5 non-English, 5 byte fragments; middle: filler words
    top = [(" love", 100), (" joy", 99), (" peace", 98), (" hope", 97), (" kind", 96), (" calm", 95),
           ("{}", 94), ("+=", 93), ("x2", 92), ("<s>", 91)]
    bottom = [(" ненависть", -100), ("死", -99), (" haß", -98), ("ç", -97), ("é", -96),
              ("\ufffd", -95), ("\ufffd\ufffd", -94), (" \ufffd", -93), ("\ufffd ", -92), ("\ufffdx", -91)]
    middle = [(f" w{i}", 0.01 * i) for i in range(200)]
    rows = top + bottom + middle + [(" nan", np.nan), (" inf", np.inf)]
    decoded = [d for d, _ in rows]
    t = make_table(decoded, [s for _, s in rows], special=[d == "<s>" for d in decoded])
    res = registry.get("distribution_tails")({"org/m": {"best": t}}, n=10)
    m = res.metrics
    assert m["best/top_share_word"].value == pytest.approx(0.6)
    assert m["best/top_share_code"].value == pytest.approx(0.3)
    assert m["best/top_share_special"].value == pytest.approx(0.1)
    assert m["best/bottom_share_non_english"].value == pytest.approx(0.5)
    assert m["best/bottom_share_byte_fragment"].value == pytest.approx(0.5)
    assert m["best/bottom_share_word"].value == 0.0
    for tail in ("top", "bottom"):
        assert sum(m[f"best/{tail}_share_{c}"].value for c in CLASSES) == pytest.approx(1.0)
    assert m["best/n_tail"].value == 10
    assert res.data["examples"]["best"]["top"]["special"] == ["<s>"]
    json.dumps(res.data)
    assert {"violin", "tail_classes"} <= set(res.figures)


def test_several_models_and_small_tables():
    a = make_table([" a", " b", "{"], [1.0, 2.0, 3.0])
    b = make_table([" a", " b", "{"], [np.nan, np.nan, np.nan])
    res = registry.get("distribution_tails")({"x/a": {"best": a}, "y/b": {"best": b}}, n=100)
    m = res.metrics
    assert m["x/a/best/n_tail"].value == 3  # fewer than n tokens: shares over what is there
    assert m["x/a/best/top_share_word"].value == pytest.approx(2 / 3)
    assert m["y/b/best/top_share_word"].value is None
    assert m["y/b/best/top_share_word"].missing_reason == "no finite scores"
