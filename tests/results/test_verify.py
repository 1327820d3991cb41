"""`rm-harness verify` through the console entry: a genuine audit verifies (and the record lands in the maintainer's
trust store, never in the audit), an altered score fails it, and its arguments are checked up front."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest

import builders
from harness.cli import main
from harness.results.layout import Layout


def _tree(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_verify_passes_then_catches_one_altered_score(tmp_path, mistral_dir, capsys):
    model = builders.tiny_classifier("Mistral", mistral_dir, tmp_path / "m")
    out, store = tmp_path / "results", tmp_path / "trust"
    assert main(["run", "--model", str(model), "--output-dir", str(out), "--tasks", "token_optimality",
                 "--limit", "400", "--batch-size", "128", "--trust-store", str(store)]) == 0
    (audit,) = Layout(out).audits()
    before = _tree(audit.folder)
    assert main(["verify", str(audit.path), "--model", str(model), "--trust-store", str(store)]) == 0
    said = capsys.readouterr().out
    assert "VERIFIED" in said and "P(catch 0.01)" in said
    assert _tree(audit.folder) == before, "verify writes nothing into the audit folder"
    assert "verification" not in json.loads(audit.path.read_text())
    records = [json.loads(p.read_text()) for p in (store / "audits").glob("*.json")]
    assert {r["status"] for r in records} >= {"computed", "verified"}  # the run's own record, then verify's
    table = sorted(audit.folder.glob("tables/*/table.parquet"))[0]
    df = pd.read_parquet(table)
    df.loc[7, "score"] += 0.5  # one stored score altered (its checksum left as it was)
    df.to_parquet(table, index=False)
    assert main(["verify", str(audit.folder), "--model", str(model), "--trust-store", str(store)]) == 1
    said = capsys.readouterr().out
    assert "MISMATCH" in said and "do not match the checksum" in said


@pytest.mark.parametrize("args, word", [(["--n", "0"], "--n"), (["--n", "-3"], "--n"), (["--detect", "0"], "--detect"),
                                        (["--confidence", "1.5"], "--confidence")])
def test_verify_arguments_are_checked_before_anything_loads(tmp_path, capsys, args, word):
    with pytest.raises(SystemExit) as exit_:
        main(["verify", str(tmp_path), *args])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and word in err and err.count("\n") == 1
