"""Synthetic score tables with the documented columns, for planting known signals in analysis tests."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd


def vocab_table(decoded: Sequence[str], scores, *, special=None, byte_fragment=None, ids=None,
                items: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per decoded string; flags derived as the scan derives them, unless given."""
    decoded = list(decoded)
    n = len(decoded)
    df = pd.DataFrame({
        "id": np.asarray(ids if ids is not None else range(n), dtype=np.int64),
        "item": list(items if items is not None else decoded),
        "token": [d.replace(" ", "Ġ") for d in decoded],
        "decoded": decoded,
        "n_tokens": np.ones(n, dtype=np.int32),
        "special": np.asarray(special if special is not None else [False] * n, dtype=bool),
        "byte_fragment": np.asarray(byte_fragment if byte_fragment is not None else [False] * n, dtype=bool),
        "leading_space": [d[:1].isspace() for d in decoded],
        "alpha_word": [d.strip().isalpha() for d in decoded],
        "roundtrip": np.ones(n, dtype=bool),
        "score": np.asarray(scores, dtype=float),
    })
    df["finite"] = np.isfinite(df["score"].to_numpy())
    return df
