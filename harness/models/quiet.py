"""Targeted silencing of transformers messages that the harness knows do not apply to its own calls.

Each filter is scoped to one call (a context manager on one transformers logger) and drops only the exact message
that cannot apply there; every other warning, from that call or anywhere else, still shows:

- `new_head_load(keys)`: loading a backbone into a *ForSequenceClassification whose head the harness sets itself
  right after (the demo reward model) makes transformers report the head as "MISSING ... Consider training on
  your downstream task". Dropped only when the load report lists nothing but those head keys as missing.
- `unpadded_embeds()`: a classifier given `inputs_embeds` says it "will not detect padding tokens"; the harness's
  embedding forwards (GCG candidates after a cached prefix) are equal-length rows with no padding at all.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_ROW = re.compile(r"^(\S+)\s*\|\s*(\w+)\s*\|")


class _Drop(logging.Filter):
    def __init__(self, drop: Callable[[str], bool]) -> None:
        super().__init__()
        self.drop = drop

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            return not self.drop(record.getMessage())
        except Exception:  # a filter must never hide a message because it failed to read it
            return True


@contextmanager
def dropping(logger_name: str, drop: Callable[[str], bool]) -> Iterator[None]:
    """While inside, records of logger `logger_name` whose message `drop` accepts are not emitted."""
    logger = logging.getLogger(logger_name)
    f = _Drop(drop)
    logger.addFilter(f)
    try:
        yield
    finally:
        logger.removeFilter(f)


def only_missing(message: str, keys: frozenset[str]) -> bool:
    """True when `message` is a transformers load report whose every row is one of `keys` marked MISSING."""
    text = _ANSI.sub("", message)
    if "LOAD REPORT" not in text.splitlines()[0]:
        return False
    rows = [m.groups() for line in text.splitlines() if (m := _ROW.match(line)) and m.group(1) != "Key"]
    return bool(rows) and all(status == "MISSING" and key in keys for key, status in rows)


@contextmanager
def new_head_load(keys: frozenset[str] = frozenset({"score.weight"})) -> Iterator[None]:
    """Load a backbone into a classifier whose head (`keys`) the caller sets: drop the head's MISSING report."""
    with dropping("transformers.modeling_utils", lambda m: only_missing(m, keys)):
        yield


def _embeds_padding_note(message: str) -> bool:
    return "will not detect padding tokens in `inputs_embeds`" in message


@contextmanager
def unpadded_embeds() -> Iterator[None]:
    """A classifier forward on `inputs_embeds` rows that carry no padding: drop the padding note."""
    with dropping("transformers.modeling_layers", _embeds_padding_note):
        yield
