"""Item lists are data: read verbatim (no NA conversion), UTF-8 only, empties dropped and counted, duplicates
reported, over-long items caught before scoring, and every odd string scored and stored as itself."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from conftest import PROMPT

from harness.errors import UserError
from harness.models.loading import context_limit
from harness.scoring.items import ItemsError, max_item_tokens, read_items
from harness.scoring.responses import ItemSet
from harness.scoring.scan import scan
from harness.scoring.table import TableStore

NA_LIKE = ["None", "NA", "N/A", "null", "nan", "#N/A", "NULL", "NaN", "-nan", "n/a", "<NA>", "-1.#IND"]


def _csv(tmp_path, text: str, name: str = "items.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture(scope="module")
def scorer(tiny_llama):
    from harness.models.loading import load_scorer

    return load_scorer(str(tiny_llama))


def test_na_like_strings_are_read_verbatim(tmp_path):
    body = "name,rating\n" + "".join(f"{x},{i}\n" for i, x in enumerate(NA_LIKE))
    path = _csv(tmp_path, body)
    assert pd.read_csv(path)["name"].isna().sum() >= 8, "pandas' defaults would lose them (the planted signal)"
    items = read_items(path, "name")
    assert items.texts == NA_LIKE and list(items) == NA_LIKE and len(items) == len(NA_LIKE)
    assert items.n_empty_dropped == 0 and items.n_duplicates == 0
    assert items.frame["rating"].tolist() == [str(i) for i in range(len(NA_LIKE))], "extra columns kept, as text"


def test_empty_items_dropped_and_duplicates_counted(tmp_path):
    body = 'name,group\nLove,a\n\n"",b\nNA,c\n,d\nLove,e\n  ,f\nNA,g\n"x, y",h\n\n'
    items = read_items(_csv(tmp_path, body), "name")
    assert items.texts == ["Love", "NA", "  ", "x, y"], "whitespace-only is kept verbatim; only empty is dropped"
    assert items.n_empty_dropped == 4  # two blank lines, "" and an empty cell
    assert items.n_duplicates == 2
    assert items.frame["group"].tolist() == ["a", "c", "f", "h"], "the first occurrence is the one kept"
    assert "4 empty dropped" in items.summary() and "2 duplicate" in items.summary()
    kept = read_items(_csv(tmp_path, body), "name", dedupe=False)
    assert kept.texts == ["Love", "NA", "Love", "  ", "NA", "x, y"] and kept.n_duplicates == 2
    assert kept.frame["group"].tolist() == ["a", "c", "e", "f", "g", "h"]


def test_bom_and_multiline_items(tmp_path):
    path = _csv(tmp_path, '\ufeffname\n"two\nlines"\nplain\n')
    assert read_items(path, "name").texts == ["two\nlines", "plain"]


@pytest.mark.parametrize("content, column, match", [
    (b"", "name", r"items\.csv is empty"),
    (b"\n\n  \n", "name", r"items\.csv is empty"),
    (b"name,elo\n", "name", r"header \('name', 'elo'\) but no rows"),
    (b"name\n\n\n", "name", r"header \('name'\) but no rows"),
    (b'name\n""\n', "name", r"only empty items"),
    (b"item,elo\nLove,3\n", "name", r"no column 'name' \(its columns: 'item', 'elo'\).*--column"),
    (b"name\nHello, world\n", "name", r"line 2: 2 fields but the header has 1; quote items"),
    (b"name\nok\ncaf\xe9\n", "name", r"not UTF-8 \(byte 0xe9 at byte offset 11\); re-save it as UTF-8"),
])
def test_bad_files_are_one_line_user_errors(tmp_path, content, column, match):
    path = tmp_path / "items.csv"
    path.write_bytes(content)
    with pytest.raises(ItemsError, match=match) as err:
        read_items(path, column)
    assert isinstance(err.value, UserError) and str(path) in str(err.value)
    assert "\n" not in err.value.one_line()


def test_missing_file(tmp_path):
    with pytest.raises(ItemsError, match="does not exist"):
        read_items(tmp_path / "nope.csv", "name")


def test_too_long_items_error_or_are_skipped(tmp_path, llama3_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(llama3_dir)
    long = " ".join(["word"] * 40)
    path = _csv(tmp_path, f"name,n\nshort,1\n{long},2\nalso short,3\n")
    with pytest.raises(ItemsError, match=r"1 item\(s\) longer than the model's context allows \(20 tokens\)"):
        read_items(path, "name", max_tokens=20, tokenizer=tok)
    items = read_items(path, "name", max_tokens=20, tokenizer=tok, skip_too_long=True)
    assert items.texts == ["short", "also short"] and items.frame["n"].tolist() == ["1", "3"]
    assert items.skipped == [(long, "40 tokens, over the 20 the model's context allows")]
    assert read_items(path, "name", max_tokens=40, tokenizer=tok).texts == ["short", long, "also short"]
    with pytest.raises(ValueError, match="tokenizer"):
        read_items(path, "name", max_tokens=20)


def test_context_helpers():
    class Config:
        max_position_embeddings = 512

    class Wrapped:
        text_config = Config()

    assert context_limit(Config()) == 512 and context_limit(Wrapped()) == 512 and context_limit(object()) is None
    assert max_item_tokens(512, [1] * 30, [2] * 5) == 477


@pytest.mark.parametrize("bad", [float("nan"), None, pd.NA, 3, ""])
def test_item_set_refuses_non_text(scorer, bad):
    split = scorer.split(PROMPT)
    with pytest.raises(ItemsError, match="item 1 .*remove it") as e:
        ItemSet(scorer.tokenizer, split, ["Love", bad], name="t")
    assert "read_items" not in str(e.value), "the advice is for users, not Python callers"


def test_item_set_checks_the_context(scorer):
    split = scorer.split(PROMPT)
    fixed = len(split.prefix_ids) + len(split.suffix_ids)
    ItemSet(scorer.tokenizer, split, ["Love"], max_length=fixed + 1)
    with pytest.raises(ItemsError, match="do not fit the model's context") as e:
        ItemSet(scorer.tokenizer, split, ["Love", "chocolate ice cream"], max_length=fixed + 1)
    assert "read_items" not in str(e.value)
    kept = ItemSet(scorer.tokenizer, split, ["Love", "chocolate ice cream"], max_length=fixed + 1, skip_too_long=True)
    assert kept.items == ["Love"] and [t for t, _ in kept.skipped] == ["chocolate ice cream"]
    with pytest.raises(ItemsError, match="all 1 item.*would leave nothing to score"):
        ItemSet(scorer.tokenizer, split, ["chocolate ice cream"], max_length=fixed + 1, skip_too_long=True)
    with pytest.raises(ItemsError, match="empty"):
        ItemSet(scorer.tokenizer, split, [], max_length=fixed + 1)


def test_na_like_items_survive_verbatim_into_the_score_table(scorer, tmp_path):
    body = "name\n" + "\n".join(NA_LIKE) + '\n""\n\nLove\nLove\n'
    items = read_items(_csv(tmp_path, body), "name")
    assert items.n_empty_dropped == 2 and items.n_duplicates == 1
    split = scorer.split(PROMPT)
    store = TableStore(tmp_path / "tables")
    table = scan(scorer, split, ItemSet(scorer.tokenizer, split, items, name="odd"), store, progress=False)
    want = NA_LIKE + ["Love"]
    assert table.df["item"].tolist() == want
    assert table.df["id"].tolist() == list(range(len(want)))
    assert table.df["finite"].all() and len(set(table.df["score"].round(6))) > 1
    # Each was scored as its own text: the decoded reply is the item, not "nan".
    assert table.df["decoded"].tolist() == want
    reread = store.load(table.meta["key"]).df  # and it stays text on disk
    assert reread["item"].tolist() == want
    assert not any(isinstance(x, float) and math.isnan(x) for x in reread["item"])


def test_human_elo_names_are_read_verbatim(tmp_path):
    from harness.analyses.human_agreement import load_elo, tables_from_elo_snapshot

    body = "elo_rank,elo_score,name,elo_matches,org/rm\n" + "".join(
        f"{i},{1000 + i},{x},5,{i / 10}\n" for i, x in enumerate(NA_LIKE)) + "99,,Love,5,\n"
    path = _csv(tmp_path, body)
    assert load_elo(path)["name"].tolist() == NA_LIKE, "the row without an Elo score is dropped, no other"
    table = tables_from_elo_snapshot(path, "best")["org/rm"]["best"]
    assert table["item"].tolist() == NA_LIKE + ["Love"]
    assert table["finite"].tolist() == [True] * len(NA_LIKE) + [False]
