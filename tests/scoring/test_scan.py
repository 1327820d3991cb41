"""The on-disk scan: columns and flags, reuse without the model, resume after a kill, damage, NaN, bad dirs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import PROMPT
from harness.scoring.responses import ItemSet, VocabularySet
from harness.scoring.scan import scan
from harness.scoring.table import TableStore, TableStoreError

IDS = list(range(0, 1200)) + [128000, 128009]  # includes specials


def _scan(scorer, root, **kw):
    split = scorer.split(PROMPT)
    vocab = VocabularySet(scorer.tokenizer, split, scorer.vocab_size, ids=IDS)
    return scan(scorer, split, vocab, TableStore(root), chunk_rows=256, progress=False, prompt_key="best", **kw)


class Killed(Exception):
    pass


def test_table_columns_and_flags(scorers, tmp_path):
    table = _scan(scorers["llama"], tmp_path)
    df = table.df.set_index("id")
    assert len(df) == len(IDS) and table.meta["n_nonfinite"] == 0
    assert df.loc[128000, "special"] and df.loc[128009, "special"] and not df.loc[1000, "special"]
    assert df["finite"].all()
    space = df[df["decoded"].str.startswith(" ")]
    assert space["leading_space"].all() and not space["roundtrip"].any(), "the template trims leading spaces"
    assert df.loc[0, "decoded"] == "!" and df.loc[0, "roundtrip"]
    assert df[df["alpha_word"]]["decoded"].str.strip().str.isalpha().all()
    assert set(["token", "decoded", "byte_fragment", "score", "n_tokens"]) <= set(df.columns)


def test_finished_table_is_reused_without_the_model(scorers, tmp_path, monkeypatch):
    first = _scan(scorers["llama"], tmp_path)

    def boom(*a, **k):
        raise AssertionError("the model was touched")

    monkeypatch.setattr(scorers["llama"], "score_cached", boom)
    monkeypatch.setattr(scorers["llama"], "prefix_state", boom)
    again = _scan(scorers["llama"], tmp_path)
    pd.testing.assert_frame_equal(first.df, again.df)


def test_resume_after_kill_equals_clean_run(scorers, tmp_path):
    clean = _scan(scorers["llama"], tmp_path / "clean")
    written = []

    def kill_after_two(start, end):
        written.append(start)
        if len(written) == 2:
            raise Killed

    with pytest.raises(Killed):
        _scan(scorers["llama"], tmp_path / "resumed", on_part=kill_after_two)
    resumed_parts = []
    resumed = _scan(scorers["llama"], tmp_path / "resumed", on_part=lambda s, e: resumed_parts.append(s))
    assert 0 not in resumed_parts and 256 not in resumed_parts, "finished parts are not rescanned"
    pd.testing.assert_frame_equal(clean.df, resumed.df)


def test_damaged_part_and_table_are_rescanned(scorers, tmp_path):
    written = []

    def kill(start, end):
        written.append(start)
        if len(written) == 3:
            raise Killed

    with pytest.raises(Killed):
        _scan(scorers["llama"], tmp_path, on_part=kill)
    part = sorted(tmp_path.rglob("part-*.parquet"))[1]
    part.write_bytes(part.read_bytes()[:100])  # a torn write
    table = _scan(scorers["llama"], tmp_path)
    assert len(table.df) == len(IDS) and table.df["id"].tolist() == IDS
    table.path.write_bytes(b"garbage")
    again = _scan(scorers["llama"], tmp_path)
    pd.testing.assert_frame_equal(table.df, again.df)


def test_nonfinite_scores_are_flagged_and_counted(scorers, tmp_path, monkeypatch):
    scorer = scorers["llama"]
    real = scorer.score_cached

    def some_nan(state, ids):
        out = real(state, ids).clone()
        out[ids[:, 0] % 100 == 7] = float("nan")
        out[ids[:, 0] == 500] = float("inf")
        return out

    monkeypatch.setattr(scorer, "score_cached", some_nan)
    table = _scan(scorer, tmp_path)
    bad = table.df[~table.df["finite"]]
    assert table.meta["n_nonfinite"] == len(bad) == 13
    assert len(table.df) == len(IDS), "non-finite rows are kept"
    assert np.isnan(table.df.set_index("id").loc[107, "score"])


def test_unwritable_output_dir_is_a_clear_error(scorers, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(TableStoreError, match="--output-dir"):
        _scan(scorers["llama"], blocker / "tables")


def test_item_lists_use_context_tokenisation(scorers, tmp_path):
    scorer = scorers["llama"]
    split = scorer.split(PROMPT)
    items = ["Universe", "Black people", "chocolate ice cream", "  padded  ", "Love"]
    table = scan(scorer, split, ItemSet(scorer.tokenizer, split, items, name="t"), TableStore(tmp_path),
                 progress=False)
    df = table.df
    assert df["item"].tolist() == items
    assert df["n_tokens"].tolist()[:3] == [len(scorer.tokenizer(x, add_special_tokens=False)["input_ids"])
                                           for x in items[:3]]
    # Each score equals the plain forward over the full rendered conversation, tokenised once.
    for item, score in zip(items, df["score"]):
        ids = scorer.tokenizer(split.render(item), add_special_tokens=False)["input_ids"]
        if ids[0] != scorer.tokenizer.bos_token_id:
            ids = [scorer.tokenizer.bos_token_id] + ids
        plain = float(scorer.score_full(torch.tensor([ids]))[0])
        assert abs(plain - score) < 1e-5
