"""Item lists read verbatim (placeholder; replaced by the reliability work)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd


@dataclass
class ItemList:
    texts: list[str]
    frame: pd.DataFrame


def read_items(path, column, keep_columns=()) -> ItemList:
    frame = pd.read_csv(Path(path), dtype=str, keep_default_na=False, na_filter=False)
    return ItemList(frame[column].tolist(), frame)
