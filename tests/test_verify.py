"""`rm-harness verify`: rescoring a sample of an audit's tables at the recorded revision catches altered scores."""

from __future__ import annotations

import json

import pandas as pd

import builders
from harness.cli import main
from harness.results.layout import Layout


def test_verify_passes_then_catches_one_altered_score(tmp_path, mistral_dir, capsys):
    model = builders.tiny_classifier("Mistral", mistral_dir, tmp_path / "m")
    out = tmp_path / "results"
    assert main(["run", "--model", str(model), "--output-dir", str(out), "--tasks", "token_optimality",
                 "--limit", "400", "--batch-size", "128"]) == 0
    (audit,) = Layout(out).audits()
    assert main(["verify", str(audit.path), "--n", "400"]) == 0
    assert json.loads(audit.path.read_text())["verification"]["status"] == "verified"
    table = sorted(audit.folder.glob("tables/*/table.parquet"))[0]
    df = pd.read_parquet(table)
    df.loc[7, "score"] += 0.5  # one stored score altered
    df.to_parquet(table, index=False)
    assert main(["verify", str(audit.folder), "--n", "400"]) == 1
    said = capsys.readouterr().out
    assert "MISMATCH" in said
    assert json.loads(audit.path.read_text())["verification"]["status"] == "mismatch"
