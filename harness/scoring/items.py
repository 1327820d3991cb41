"""Item lists read as data, verbatim: every cell is text exactly as written in the file.

`read_items` does no NA conversion (an item `NA`, `None`, `null`, `nan` or `#N/A` is that text, not a missing
value), accepts UTF-8 only, drops only empty items (and says how many), reports duplicates (kept once unless asked
otherwise) and checks item lengths against the model's context before anything is scored. Bad files are a
UserError naming the file and what to do.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import pandas as pd

from harness.errors import UserError

__all__ = ["ItemsError", "ItemList", "read_items", "max_item_tokens"]


class ItemsError(UserError, ValueError):
    """An item list that cannot be used as given."""


@dataclass(frozen=True, eq=False)
class ItemList(Sequence[str]):
    """The items to score (`texts`, in file order) and what reading them dropped.

    `frame` holds the kept rows with every column of the file as text, row i matching `texts[i]`, so extra
    columns (e.g. human ratings) can be joined to the score table on its `id`.
    """

    texts: list[str]
    source: Path
    column: str
    frame: pd.DataFrame
    n_empty_dropped: int = 0
    n_duplicates: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (item, why) left out, e.g. too long

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, i):  # type: ignore[override]
        return self.texts[i]

    def __iter__(self) -> Iterator[str]:
        return iter(self.texts)

    def summary(self) -> str:
        """One line for the log: how many items, and what was dropped or merged."""
        notes = []
        if self.n_empty_dropped:
            notes.append(f"{self.n_empty_dropped} empty dropped")
        if self.n_duplicates:
            notes.append(f"{self.n_duplicates} duplicate(s)")
        if self.skipped:
            notes.append(f"{len(self.skipped)} skipped (too long)")
        extra = f" ({', '.join(notes)})" if notes else ""
        return f"{len(self.texts)} items from {self.source} column {self.column!r}{extra}"


def _decode(path: Path, data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ItemsError(f"items file {path} is not UTF-8 (byte 0x{data[e.start]:02x} at byte offset {e.start}); "
                         "re-save it as UTF-8") from None
    return text.removeprefix("\ufeff")  # a BOM is not part of the first column's name


def _too_long(texts: list[str], tokenizer, max_tokens: int) -> list[tuple[int, int]]:
    """(index, token count) of the items longer than `max_tokens` tokens on their own."""
    if tokenizer is None:
        raise ValueError("read_items: max_tokens needs the tokenizer that will score the items")
    lengths = [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]
    return [(i, n) for i, n in enumerate(lengths) if n > max_tokens]


def read_items(
    path: str | Path,
    column: str,
    *,
    dedupe: bool = True,
    max_tokens: int | None = None,
    tokenizer=None,
    skip_too_long: bool = False,
    required_columns: Sequence[str] = (),
) -> ItemList:
    """Read the items in `column` of the CSV file at `path`, verbatim.

    Only empty items (blank lines, or rows whose `column` cell is empty) are dropped, and counted. Duplicates are
    counted and kept once (first occurrence) unless `dedupe=False`. With `max_tokens` (the model's context minus
    the prompt's tokens: see `max_item_tokens`) and the model's `tokenizer`, an item longer than that is an
    ItemsError before anything is scored, or is left out and listed in `skipped` with `skip_too_long=True` (the
    CLI's `--skip-long-items`); leaving out every item is an error. `required_columns` (a task's `keep_columns`)
    must be in the header too.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ItemsError(f"items file {path} does not exist; check the path") from None
    except OSError as e:
        raise ItemsError(f"cannot read items file {path} ({e.strerror or e}); check the path") from None
    text = _decode(path, data)
    if not text.strip():
        raise ItemsError(f"items file {path} is empty; it needs a header row naming a {column!r} column, "
                         "then one item per row")
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[list[str]] = []
    n_blank = n_empty = n_dup = 0  # blank lines; rows whose item cell is empty; repeated items
    seen: set[str] = set()
    try:
        for row in reader:
            if header is None:
                if row:  # blank lines before the header are not rows
                    header = row
                    if column not in header:
                        raise ItemsError(f"items file {path} has no column {column!r} (its columns: "
                                         f"{', '.join(map(repr, header))}); name the right one with --column")
                    absent = [c for c in required_columns if c not in header]
                    if absent:
                        raise ItemsError(f"items file {path} has no column {absent[0]!r}, which the task keeps "
                                         f"(responses.keep_columns); its columns: {', '.join(map(repr, header))}")
                    idx = header.index(column)
                continue
            if not row:
                n_blank += 1
                continue
            if len(row) > len(header):
                raise ItemsError(f"items file {path}, line {reader.line_num}: {len(row)} fields but the header "
                                 f"has {len(header)}; quote items that contain commas")
            row = row + [""] * (len(header) - len(row))
            item = row[idx]
            if item == "":
                n_empty += 1
                continue
            if item in seen:
                n_dup += 1
                if dedupe:
                    continue
            seen.add(item)
            rows.append(row)
    except csv.Error as e:
        raise ItemsError(f"items file {path}, line {reader.line_num}: not valid CSV ({e}); fix the quoting") from None
    if not rows:
        what = "no rows" if not n_empty else f"only empty items in column {column!r}"
        raise ItemsError(f"items file {path} has a header ({', '.join(map(repr, header))}) but {what}; "
                         "add one item per row")
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    texts = [r[idx] for r in rows]
    skipped: list[tuple[str, str]] = []
    if max_tokens is not None:
        long = _too_long(texts, tokenizer, max_tokens)
        if long and (not skip_too_long or len(long) == len(texts)):
            i, n = long[0]
            every = f"all {len(long)} item(s)" if len(long) == len(texts) else f"{len(long)} item(s)"
            advice = "leaving them out would leave nothing to score: shorten them" if skip_too_long else \
                "shorten them, or leave them out with --skip-long-items"
            raise ItemsError(f"items file {path}: {every} longer than the model's context allows ({max_tokens} "
                             f"tokens), e.g. {texts[i][:40]!r}... ({n} tokens); {advice}")
        if long:
            drop = {i for i, _ in long}
            skipped = [(texts[i], f"{n} tokens, over the {max_tokens} the model's context allows") for i, n in long]
            frame = frame.drop(index=sorted(drop)).reset_index(drop=True)
            texts = [t for i, t in enumerate(texts) if i not in drop]
    return ItemList(texts=texts, source=path, column=column, frame=frame, n_empty_dropped=n_blank + n_empty,
                    n_duplicates=n_dup, skipped=skipped)


def max_item_tokens(limit: int, prefix_ids: Sequence[int], suffix_ids: Sequence[int]) -> int:
    """Tokens left for an item once the rendered prompt (prefix) and end of turn (suffix) are counted."""
    return limit - len(prefix_ids) - len(suffix_ids)
