"""Synthetic score tables with the documented columns, for planting known signals in analysis tests."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
# the reference data: $RM_HARNESS_SHARED_DATA, else <repo>/../shared/data
SHARED_DATA = Path(os.environ.get("RM_HARNESS_SHARED_DATA") or REPO.parent / "shared" / "data")


def shared_data(*parts: str) -> Path:
    """A file of the reference data (SHARED_DATA); skips the test with the path when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"reference data absent: {path} (set RM_HARNESS_SHARED_DATA to the shared data folder)")
    return path


def with_kind(tables: dict, kind: str) -> dict:
    """The same score tables, each tagged with the scorer kind that produced it (`df.attrs["scorer"]`)."""
    out = {}
    for model, by_prompt in tables.items():
        out[model] = {}
        for prompt, df in by_prompt.items():
            d = df.copy()
            d.attrs["scorer"] = kind
            out[model][prompt] = d
    return out


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
