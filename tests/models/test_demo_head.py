"""The shipped canonical demo head: it is the head this code's data and settings were fitted to, it is checked
against its recorded sha256 before use, and a head for other data or a tampered file is refused.

Fast: no model is loaded (scripts/check_demo_head.py retrains and compares, outside the default run)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from harness.models.demo_rm import HEAD_FILE, ShippedHeadError, cache_key, head_record, shipped_head


def test_shipped_head_is_for_this_code():
    w, metrics = shipped_head()
    assert w.shape == (640,) and w.dtype == np.float32 and np.isfinite(w).all()
    doc = json.loads(HEAD_FILE.read_text())
    assert doc["cache_key"] == cache_key() and doc["shape"] == [1, 640]
    assert metrics["heldout_auc"] >= 0.8  # the build that fitted it separated held-out words
    # The record round-trips exactly (float32 -> JSON -> float32).
    again = head_record(w, metrics)
    assert again["sha256_float32_le"] == doc["sha256_float32_le"]


@pytest.mark.parametrize("tamper", ["weight", "key", "shape", "junk"])
def test_a_bad_head_file_is_refused(tmp_path, tamper):
    doc = json.loads(HEAD_FILE.read_text())
    if tamper == "weight":
        doc["weights"][7] += 1e-3
    elif tamper == "key":
        doc["cache_key"] = "0" * 12
    elif tamper == "shape":
        doc["weights"] = doc["weights"][:639]
    path = tmp_path / "head.json"
    path.write_text("{not json" if tamper == "junk" else json.dumps(doc))
    with pytest.raises(ShippedHeadError):
        shipped_head(path)
