"""What gets scored as the reply: every vocabulary id, or a list of text items, with per-row descriptions."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Sequence

import pandas as pd

from harness.models.templates import TemplateSplit, reply_ids_in_context
from harness.models.tokens import decode_each, encode_texts
from harness.scoring.items import ItemsError

_BYTE_TOKEN = re.compile(r"^<0x[0-9A-Fa-f]{2}>$")


def _flags(decoded: str, raw: str) -> dict[str, bool]:
    stripped = decoded.strip()
    return {
        "byte_fragment": "\ufffd" in decoded or bool(_BYTE_TOKEN.match(raw or "")),
        "leading_space": decoded[:1].isspace(),
        "alpha_word": stripped.isalpha(),
    }


def _special_ids(tokenizer) -> set[int]:
    ids = set(tokenizer.all_special_ids)
    for i, tok in getattr(tokenizer, "added_tokens_decoder", {}).items():
        if getattr(tok, "special", False):
            ids.add(int(i))
    return ids


@dataclass
class VocabularySet:
    """Every id of the model's vocabulary (optionally a sub-range), each scored as a one-token reply."""

    tokenizer: object
    split: TemplateSplit
    size: int
    ids: Sequence[int] | None = None  # a subset (parity samples, tests); None = range(size)
    name: str = "vocabulary"
    _special: set[int] = field(default_factory=set, init=False, repr=False)

    def __post_init__(self) -> None:
        self._special = _special_ids(self.tokenizer)
        self._own_prefix = encode_texts(self.tokenizer, [self.split.prefix_text])[0]

    def __len__(self) -> int:
        return self.size if self.ids is None else len(self.ids)

    def _id(self, row: int) -> int:
        return row if self.ids is None else int(self.ids[row])

    @property
    def fingerprint(self) -> str:
        if self.ids is None:
            return f"vocabulary:{self.size}"
        return "vocabulary-subset:" + hashlib.sha256(",".join(map(str, self.ids)).encode()).hexdigest()[:16]

    def reply_ids(self, start: int, end: int) -> list[list[int]]:
        return [[self._id(r)] for r in range(start, end)]

    def describe(self, start: int, end: int) -> pd.DataFrame:
        ids = [self._id(r) for r in range(start, end)]
        raw = self.tokenizer.convert_ids_to_tokens(ids)
        decoded = decode_each(self.tokenizer, [[i] for i in ids])
        # The study's inputs: the decoded text rendered and re-tokenised. Exact only when this round trip holds.
        retok = encode_texts(self.tokenizer, [self.split.render(d) for d in decoded])
        want = [self._own_prefix + [i] + list(self.split.suffix_ids) for i in ids]
        rows = []
        for i, r, d, rt, ex in zip(ids, raw, decoded, retok, want):
            rows.append({"id": i, "item": d, "token": r if r is not None else "", "decoded": d, "n_tokens": 1,
                         "special": i in self._special, **_flags(d, r or ""), "roundtrip": rt == ex})
        return pd.DataFrame(rows)


@dataclass
class ItemSet:
    """Text replies (e.g. EloEverything names), tokenised as the rendered conversation tokenises them.

    Items longer than the model's context (with the prompt) are an error before anything is scored, or, with
    `skip_too_long` (the CLI's `--skip-long-items`), left out and listed in `skipped`; an empty set is an error.
    """

    tokenizer: object
    split: TemplateSplit
    items: Sequence[str]  # a list of str, or an ItemList from harness.scoring.items.read_items
    name: str = "items"
    max_length: int | None = None  # the model's context: longer conversations are an error before scoring
    skip_too_long: bool = False
    # what to do about items that do not fit, for the user who ran the command (scan has --skip-long-items)
    too_long_advice: str = "shorten them, or remove them from the item list"
    skipped: list[tuple[str, str]] = field(default_factory=list, init=False)  # (item, why) left out

    def __post_init__(self) -> None:
        self.items = list(self.items)
        if not self.items:
            raise ItemsError(f"item list {self.name!r} is empty: there is nothing to score")
        for i, x in enumerate(self.items):
            # Never str(x): a missing value would be scored as the text "nan" or "None".
            if not isinstance(x, str) or x == "":
                raise ItemsError(f"item {i} of {self.name!r} is {x!r}, not a non-empty text; remove it from the "
                                 "item list (items are kept verbatim: 'NA', 'None' or 'null' stay text)")
        self._encoded = reply_ids_in_context(self.tokenizer, self.split, self.items)
        empty = [i for i, (ids, _) in enumerate(self._encoded) if not ids]
        if empty:
            raise ItemsError(f"item {empty[0]} of {self.name!r} ({self.items[empty[0]]!r}) has no tokens once "
                             f"rendered ({len(empty)} such item(s)); remove them from the list")
        if self.max_length is not None:
            fixed = self.split.fixed_tokens
            long = [i for i, (ids, _) in enumerate(self._encoded) if fixed + len(ids) > self.max_length]
            if long and (not self.skip_too_long or len(long) == len(self.items)):
                every = f"all {len(long)}" if len(long) == len(self.items) else f"{len(long)} of {len(self.items)}"
                advice = ("leaving them out (--skip-long-items) would leave nothing to score: shorten them"
                          if self.skip_too_long else self.too_long_advice)
                raise ItemsError(f"{every} item(s) of {self.name!r} do not fit the model's context of {self.max_length} "
                                 f"tokens with the prompt ({fixed} tokens), e.g. {self.items[long[0]][:40]!r} "
                                 f"({len(self._encoded[long[0]][0])} tokens); {advice}")
            if long:
                drop = set(long)
                room = self.max_length - fixed
                self.skipped = [(self.items[i], f"{len(self._encoded[i][0])} tokens, over the {room} the model's "
                                                f"context leaves with the prompt") for i in long]
                self.items = [x for i, x in enumerate(self.items) if i not in drop]
                self._encoded = [e for i, e in enumerate(self._encoded) if i not in drop]

    def __len__(self) -> int:
        return len(self.items)

    @property
    def fingerprint(self) -> str:
        return f"items:{self.name}:" + hashlib.sha256("\x00".join(self.items).encode()).hexdigest()[:16]

    def reply_ids(self, start: int, end: int) -> list[list[int]]:
        return [ids for ids, _ in self._encoded[start:end]]

    def describe(self, start: int, end: int) -> pd.DataFrame:
        special = _special_ids(self.tokenizer)
        rows = []
        for row in range(start, end):
            ids, clean = self._encoded[row]
            d = self.tokenizer.decode(ids)
            rows.append({"id": row, "item": self.items[row], "token": " ".join(map(str, ids)), "decoded": d,
                         "n_tokens": len(ids), "special": any(i in special for i in ids), **_flags(d, ""),
                         "roundtrip": clean})
        return pd.DataFrame(rows)
