"""The EloEverything item names with human Elo ship in the package: exactly the four permitted columns, equal to
the reference snapshot's, with source and licence beside them; the study's score columns stay out."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from harness.data_paths import package_data_dir
from harness.tasks.checks import missing_data
from harness.tasks.discovery import discover
from repo_paths import REPO

COLUMNS = ["elo_rank", "elo_score", "name", "elo_matches"]


def test_shipped_copy_has_the_four_columns_with_source_and_licence():
    folder = package_data_dir() / "eloeverything"
    df = pd.read_csv(folder / "elo.csv", keep_default_na=False)
    assert list(df.columns) == COLUMNS and len(df) == 7530
    assert df["elo_rank"].is_monotonic_increasing and df["elo_score"].is_monotonic_decreasing
    readme = (folder / "README.md").read_text()
    assert "brchristian/reward_model_optimal_pessimal_tokens" in readme and "MIT" in readme
    assert "Copyright" in (folder / "LICENSE").read_text()


def test_human_agreement_reads_the_shipped_copy_and_needs_no_reference_data(monkeypatch, tmp_path):
    monkeypatch.setenv("RM_HARNESS_SHARED_DATA", str(tmp_path))  # an empty reference-data folder
    spec = discover()["human_agreement"]
    assert not missing_data(spec)
    assert Path(spec.responses["path"]) == package_data_dir() / "eloeverything" / "elo.csv"
    assert missing_data(discover()["frequency_bias_bnc"])  # the BNC list stays reference data


def test_shipped_copy_equals_the_reference_snapshot():
    import os

    root = Path(os.environ.get("RM_HARNESS_SHARED_DATA") or REPO.parent / "shared" / "data")
    snap = root / "eloeverything" / "greatest_ever.csv"
    if not snap.is_file():
        pytest.skip(f"reference data not found at {root}")
    ours = pd.read_csv(package_data_dir() / "eloeverything" / "elo.csv", keep_default_na=False)
    theirs = pd.read_csv(snap, keep_default_na=False)
    pd.testing.assert_frame_equal(ours, theirs[COLUMNS])
